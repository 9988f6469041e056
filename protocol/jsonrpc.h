// JSON-RPC 2.0 codec for the management protocol (docs/protocol.md): one UTF-8 JSON message per
// line, no embedded newlines. Shared by vswitchd (server side) and the command-line tools.
//
// Thread-safety: free functions and value types only; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace vs::protocol {

// Stable error codes. -32700..-32600 are JSON-RPC 2.0's own (section 5.1); the rest are ours.
enum class ErrorCode : int {
    kParseError = -32700,      // the line is not JSON
    kInvalidRequest = -32600,  // JSON, but not a JSON-RPC 2.0 request object
    kMethodNotFound = -32601,
    kInvalidParams = -32602,   // params missing, of the wrong type, or naming a bad field
    kInternalError = -32603,
    kNotFound = -32001,        // a bridge/port/interface/record that does not exist
    kAlreadyExists = -32002,   // a bridge/port/interface name already in use
    kInvalidValue = -32003,    // a value outside its column's domain (bad name, bad number, ...)
    kPersistFailed = -32004,   // the commit could not be written durably; nothing changed
    kTooLarge = -32005,        // a line over the size limit; the connection is closed after it
    kBusy = -32006,            // too many connections / requests; retry later
};

// Largest line (request or response) either side accepts, in bytes, newline excluded.
// 64 MiB: room for `vsofctl add-flows` of 100,000+ rules in one all-or-nothing request.
inline constexpr std::size_t kMaxLineBytes = 64 * 1024 * 1024;

// Deepest nesting of arrays and objects a message (or a config document) may have. RapidJSON
// parses, copies, compares and writes values recursively, so a line of a few MB of '[' would
// otherwise overflow the daemon's stack. The deepest legitimate message (a `get` result) has ~12.
inline constexpr std::size_t kMaxJsonDepth = 128;

// Checks, without recursion, that `text` nests arrays/objects at most `maxDepth` deep (strings
// are skipped; the text need not be valid JSON). Returns the problem, or nullopt.
std::optional<std::string> checkJsonDepth(std::string_view text, std::size_t maxDepth = kMaxJsonDepth);

// True when every string and member name in `v` is valid UTF-8 (RFC 3629), including what \u
// escapes decoded to: RapidJSON decodes a lone surrogate ("\udc00") to bytes that are not UTF-8
// even when it validates the input's encoding. Recursive: call it on documents checkJsonDepth let in.
bool isValidUtf8(const rapidjson::Value& v);

// Default management socket path.
inline constexpr const char* kDefaultSocket = "/run/vswitch/vswitchd.sock";

// A decoded request. `id` holds the request id as raw JSON text ("1", "\"abc\"") or is empty for a
// notification; `params` is an object or array (Null when absent).
struct Request {
    std::string method;
    std::string id;  // raw JSON; empty = notification
    rapidjson::Document params;
};

// A decoded response: either `result` (ok == true) or an error (code, message, data).
struct Response {
    std::string id;  // raw JSON
    bool ok = false;
    rapidjson::Document result;
    int code = 0;
    std::string message;
    rapidjson::Document data;  // Null when absent
};

struct DecodeError {
    ErrorCode code;
    std::string message;
    std::string id;  // raw JSON id if one could be read, else "null"
};

// Parses one line into a Request. Errors: kParseError (not JSON), kInvalidRequest (not an object,
// jsonrpc != "2.0", method missing or not a string, params neither object nor array).
std::optional<DecodeError> decodeRequest(std::string_view line, Request& out);

// Parses one line into a Response. Returns an error message on malformed input.
std::optional<std::string> decodeResponse(std::string_view line, Response& out);

// Serialises a JSON value to compact text (no newline).
std::string toJson(const rapidjson::Value& v);

// Builds a request line (no trailing newline). `params` may be Null.
std::string encodeRequest(std::string_view method, const rapidjson::Value& params, std::uint64_t id);

// Builds a success response line. `id` is raw JSON text ("null" when unknown).
std::string encodeResult(std::string_view id, const rapidjson::Value& result);

// Builds an error response line. `data` may be nullptr.
std::string encodeError(std::string_view id, ErrorCode code, std::string_view message,
                        const rapidjson::Value* data = nullptr);
std::string encodeError(std::string_view id, int code, std::string_view message,
                        const rapidjson::Value* data = nullptr);

}  // namespace vs::protocol
