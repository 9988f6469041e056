// A small synchronous OVSDB (RFC 7047) client for vsctl's database commands: connects to an
// OVSDB server's Unix socket (vswitchd's db.sock), sends JSON-RPC 1.0 requests and reads the
// replies (section 4: JSON texts back to back on the stream, framed by ovsdb::StreamFramer).
// Answers an `echo` request from the server while it waits; ignores notifications.
//
// Thread-safety: one thread at a time per OvsdbClient.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "ovsdb/framing.h"

namespace vs::utilities {

class OvsdbClient {
public:
    using Clock = std::chrono::steady_clock;

    // Connects to "unix:PATH" (or a bare PATH). `deadline` (optional) bounds the connect and every
    // call. Throws CliError naming the socket and the errno text on failure.
    OvsdbClient(const std::string& target, std::optional<Clock::time_point> deadline);
    ~OvsdbClient();
    OvsdbClient(const OvsdbClient&) = delete;
    OvsdbClient& operator=(const OvsdbClient&) = delete;

    // Sends {"method": method, "params": params, "id": N} and returns the reply's "result".
    // Throws CliError when the reply carries an "error", on timeout and on transport failure.
    rapidjson::Document call(const std::string& method, const rapidjson::Value& params);

private:
    void sendText(const std::string& text);
    rapidjson::Document readMessage();
    int waitMs() const;

    std::string target_;
    int fd_ = -1;
    std::optional<Clock::time_point> deadline_;
    ovsdb::StreamFramer framer_;
    long nextId_ = 1;
};

// "unix:PATH" -> PATH; a bare path as-is. Throws CliError for other methods (tcp:, ssl:).
std::string ovsdbSocketPath(const std::string& target);

// The database socket beside the management socket `mgmtSocket`, as vswitchd chooses it by
// default (docs/ovsdb.md): "DIR/db.sock" for ".../vswitchd.sock", else "SOCKET.db".
std::string defaultDbSocket(const std::string& mgmtSocket);

}  // namespace vs::utilities
