// Blocking JSON-RPC 2.0 client for the management socket (docs/protocol.md), used by the
// command-line tools (vsctl, vsappctl) and by tests. One Client owns one connected Unix stream
// socket; `call` sends one request line and reads response lines until the one carrying its id.
// Every wait is bounded by the client's timeout (0 = wait forever) and, if set, by an absolute
// deadline shared by all later calls (a tool's overall `--timeout`). Connection failures that
// cannot resolve by waiting (no socket file, nobody listening, permission denied) fail at once,
// whatever the timeout.
//
// Thread-safety: a Client is not thread-safe; use one per thread. Distinct Clients are
// independent. Lifecycle: connect() -> call()* -> destructor closes the socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "protocol/jsonrpc.h"

namespace vs::protocol {

// Any failure to talk to the daemon: connect error, timeout, connection closed, malformed or
// oversized response. what() is a complete sentence fragment naming the socket path, e.g.
// "cannot connect to /run/vswitch/vswitchd.sock: No such file or directory (is vswitchd running?)".
class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Client {
public:
    using Clock = std::chrono::steady_clock;

    // Connects to the Unix stream socket at `path`. `timeout` bounds the connect and each later
    // call (0 = no bound). Throws ClientError.
    static Client connect(const std::string& path, std::chrono::milliseconds timeout = {});

    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    // Sends `method` with `params` (Null = no params) and returns the matching response, which may
    // be a JSON-RPC error (Response::ok == false). A response with another id is skipped; an error
    // response with id null (the server could not read ours: too large, busy) is returned as ours.
    // Throws ClientError on timeout, EOF, I/O error, a malformed line or a line over
    // kMaxLineBytes. After a ClientError the connection is unusable.
    Response call(std::string_view method, const rapidjson::Value& params);

    // Caps every later wait at `deadline` in addition to the per-call timeout.
    void setDeadline(Clock::time_point deadline) { deadline_ = deadline; }

    const std::string& path() const { return path_; }

private:
    Client(int fd, std::string path, std::chrono::milliseconds timeout);
    void close() noexcept;
    std::optional<Clock::time_point> callDeadline() const;
    void sendAll(std::string_view data, std::optional<Clock::time_point> deadline,
                 std::string_view method);
    std::string readLine(std::optional<Clock::time_point> deadline, std::string_view method);
    void waitFor(short events, std::optional<Clock::time_point> deadline, std::string_view method);

    int fd_ = -1;
    std::string path_;
    std::chrono::milliseconds timeout_{0};
    std::optional<Clock::time_point> deadline_;
    std::uint64_t nextId_ = 1;
    std::string buffer_;  // bytes received but not yet consumed as lines
};

}  // namespace vs::protocol
