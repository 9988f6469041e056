// Plumbing shared by the command-line tools (vsctl, vsappctl): the error type that carries an
// exit status, output format, socket/timeout option parsing, and the RpcCaller seam between the
// tools' logic and the management socket. Tests substitute a fake RpcCaller; the executables use
// ClientRpc, which wraps protocol::Client.
//
// Thread-safety: free functions are pure (defaultSocketPath reads the environment); RpcCaller
// implementations are single-threaded.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "protocol/client.h"
#include "protocol/jsonrpc.h"

namespace vs::utilities {

// Exit statuses shared by the tools.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitAbsent = 2;  // vsctl br-exists: the bridge does not exist

// A failure to report as "TOOL: what()" with `status` as the exit status.
class CliError : public std::runtime_error {
public:
    explicit CliError(const std::string& what, int status = kExitError)
        : std::runtime_error(what), status_(status) {}
    int status() const { return status_; }

private:
    int status_;
};

enum class OutputFormat { kText, kJson };

// Options every tool takes.
struct CommonOptions {
    std::string socket;       // empty until resolved by defaultSocketPath()
    double timeoutSeconds = 0;  // 0 = no timeout
    OutputFormat format = OutputFormat::kText;
    bool verbose = false;     // log JSON-RPC traffic on stderr
};

// $VSWITCH_SOCKET if set and non-empty, else protocol::kDefaultSocket.
std::string defaultSocketPath();

// "json" / "text" (case-insensitive). Throws CliError naming the bad value.
OutputFormat parseFormat(std::string_view text);

// A non-negative number of seconds ("5", "0.2"). Throws CliError naming the bad value.
double parseTimeout(std::string_view text);

// Sends one JSON-RPC request and returns its response (ok or error). Throws
// protocol::ClientError on transport failure.
class RpcCaller {
public:
    virtual ~RpcCaller() = default;
    virtual protocol::Response call(std::string_view method, const rapidjson::Value& params) = 0;
};

// RpcCaller over the management socket. The connection is made by the constructor (fails fast
// when nobody listens); `timeoutSeconds` is one overall deadline for the connect and every call.
class ClientRpc : public RpcCaller {
public:
    ClientRpc(const CommonOptions& options, std::ostream& log);
    protocol::Response call(std::string_view method, const rapidjson::Value& params) override;

private:
    std::ostream& log_;
    bool verbose_;
    std::optional<protocol::Client> client_;
};

// Serialises `v` as compact JSON followed by a newline.
std::string jsonLine(const rapidjson::Value& v);

}  // namespace vs::utilities
