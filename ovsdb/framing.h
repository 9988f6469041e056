// The JSON-RPC 1.0 stream framing OVSDB uses (RFC 7047 section 4): JSON texts back to back on a
// byte stream, with no delimiter. The framer finds where each top-level object or array ends by
// tracking nesting and strings (it does not validate: the caller parses each message).
//
// Thread-safety: plain value; one thread at a time.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vs::ovsdb {

class StreamFramer {
public:
    explicit StreamFramer(std::size_t maxMessageBytes = 64u << 20) : max_(maxMessageBytes) {}

    // Appends received bytes.
    void feed(std::string_view bytes) { buf_.append(bytes); }

    // The next complete message, if one has arrived. After an error (text that cannot start a
    // JSON object or array, or a message over the size limit) returns nullopt and error() is set:
    // the stream cannot be resynchronised and the caller should close it.
    std::optional<std::string> next();
    const std::string& error() const { return error_; }

private:
    std::string buf_;
    std::size_t scanned_ = 0;  // bytes of buf_ already scanned for the current message
    std::size_t depth_ = 0;
    bool in_string_ = false, escape_ = false;
    std::size_t max_;
    std::string error_;
};

}  // namespace vs::ovsdb
