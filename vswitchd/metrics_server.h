// The Prometheus endpoint (vswitchd --metrics ADDR:PORT, docs/metrics.md): a small HTTP/1.1
// server (Boost.Beast) that answers GET /metrics with the text `render` returns.
//
// Requests: GET /metrics (a query string is ignored) -> 200 with the exposition text; any other
// path -> 404; another method on /metrics -> 405 (Allow: GET). Request headers are bounded
// (MetricsLimits::maxHeaderBytes: 431 and close beyond); a request body is never read (the reply
// says Connection: close); unparseable requests get 400 and are closed. Keep-alive is honoured.
//
// No client can block the control thread: everything is asynchronous, a request must arrive
// whole within readTimeout of the connection or of the previous reply (else the connection is
// closed), a reply must be taken within writeTimeout, and connection number maxClients+1 is closed
// at once. render() itself runs synchronously on the io_context's thread (it reads the daemon's
// state, as the management methods do).
//
// Thread-safety: none; construct, use and destroy on the io_context's thread (or before it runs).
// Lifecycle: the constructor listens; close() (also by the destructor) stops accepting and closes
// every connection. The io_context must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace vs::vswitchd {

struct MetricsLimits {
    std::size_t maxClients = 16;                  // simultaneous connections
    std::size_t maxHeaderBytes = 8192;            // request line and headers
    std::chrono::milliseconds readTimeout{10000};  // for a whole request
    std::chrono::milliseconds writeTimeout{10000}; // for a whole reply
};

// "PORT" (loopback: 127.0.0.1), "ADDR:PORT" with a numeric IPv4 address or "localhost", or
// "[IPV6]:PORT". Throws std::invalid_argument "bad --metrics address 'TEXT': WHY".
boost::asio::ip::tcp::endpoint parseMetricsAddress(const std::string& text);

class MetricsServer {
public:
    using Render = std::function<std::string()>;
    // Binds `at` and starts accepting. Throws std::runtime_error "cannot serve metrics on ADDR:PORT:
    // REASON" (address in use, not an address of this host, ...).
    MetricsServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Render render,
                  MetricsLimits limits = {});
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    void close();  // idempotent
    boost::asio::ip::tcp::endpoint localEndpoint() const;
    std::size_t clientCount() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace vs::vswitchd
