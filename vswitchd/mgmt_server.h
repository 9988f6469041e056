// The management server: JSON-RPC 2.0 over a Unix stream socket, one message per line
// (docs/protocol.md). It frames lines, decodes requests (protocol/jsonrpc.h), calls the dispatcher
// synchronously for each request, and writes the replies; it knows no methods itself. The
// dispatcher reports errors by throwing RpcError (rpc_error.h), which includes -32601 for an
// unknown method (MethodTable below does that); any other exception becomes -32603 with its what().
//
// Bounds (MgmtLimits; defaults as in docs/protocol.md): a line over maxLineBytes gets -32005 and
// that connection is closed; connection number maxClients+1 gets -32006 and is closed; a client
// whose unsent replies exceed maxQueuedBytes is closed; garbage gets -32700/-32600 and the
// connection stays open; notifications (no id) get no reply. Everything is asynchronous: no client
// can block the loop or affect another; a client's pipelined requests are handled one per turn of
// the io_context, interleaved with other clients' requests. A connection being closed gets
// `closeLinger` to receive its last reply. An idle connection keeps its slot until it disconnects.
//
// Start-up: creates the socket's parent directory (0755) if missing; takes an exclusive flock on
// PATH.lock (so two daemons never fight over one socket); if PATH exists and is a socket that no
// one answers on, removes it (stale, from a crashed daemon); if a daemon answers, or PATH is not a
// socket, throws std::runtime_error. Binds under umask 0117, so that the socket file is mode 0660
// owned by root from the moment it exists (no window in which it is more open), then, if
// MgmtLimits::group is set, chowns it to root:group. Listens.
//
// Thread-safety: none; everything, including the dispatcher, runs on the io_context's thread (the
// daemon's control thread). Construct, use and destroy the server on that thread (or before the
// io_context runs).
// Lifecycle: the constructor starts listening; close() (also called by the destructor) stops
// accepting, closes every connection and removes the socket file. The io_context must outlive the
// server. Calling close() from inside the dispatcher drops that request's reply; to answer first
// (e.g. an "exit" method), post close() to the io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/rpc_error.h"

namespace vs::vswitchd {

// Handles one request. Fill `result` (a Null document on entry; its allocator is result's own);
// throw RpcError to answer with an error. For notifications the reply is not sent either way.
using Dispatcher = std::function<void(const protocol::Request& request, rapidjson::Document& result)>;

struct MgmtLimits {
    std::size_t maxLineBytes = protocol::kMaxLineBytes;     // request line, newline excluded
    std::size_t maxClients = 64;                            // simultaneous connections
    std::size_t maxQueuedBytes = 16 * 1024 * 1024;          // unsent reply bytes per connection
    std::chrono::milliseconds closeLinger{2000};            // time to flush the last reply on close
    std::optional<gid_t> group;                             // socket owned by root:group (mode 0660)
};

// True if something accepts connections on the Unix socket at `path` (a live daemon), false if
// nothing does (ENOENT, ECONNREFUSED: a stale file). Throws std::runtime_error on any other error.
// Used before taking over a socket path (management socket, OVSDB remotes).
bool socketAnswers(const std::filesystem::path& path);

class MgmtServer {
public:
    // Binds `socketPath` and starts accepting on `io`. Throws std::runtime_error (message names the
    // path and the reason) if the socket cannot be set up.
    MgmtServer(boost::asio::io_context& io, std::filesystem::path socketPath, Dispatcher dispatcher,
               MgmtLimits limits = {});
    ~MgmtServer();
    MgmtServer(const MgmtServer&) = delete;
    MgmtServer& operator=(const MgmtServer&) = delete;

    // Idempotent.
    void close();

    std::size_t clientCount() const;  // open client connections (rejected ones not counted)
    const std::filesystem::path& socketPath() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;  // shared with in-flight handlers, so they never outlive it
};

// A method-name -> handler table usable as the Dispatcher: unknown methods throw
// RpcError{-32601, "unknown method 'x'"}.
class MethodTable {
public:
    void add(std::string method, Dispatcher handler);
    bool has(const std::string& method) const { return methods_.count(method) != 0; }
    void operator()(const protocol::Request& request, rapidjson::Document& result) const;

private:
    std::map<std::string, Dispatcher, std::less<>> methods_;
};

}  // namespace vs::vswitchd
