// The Prometheus HTTP endpoint (metrics_server.h).
#include "vswitchd/metrics_server.h"

#include <charconv>
#include <map>
#include <optional>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "vswitchd/log.h"
#include "vswitchd/metrics.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kMetrics;  // vlog/set module
}

namespace vs::vswitchd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string endpointText(const tcp::endpoint& ep) {
    auto a = ep.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

}  // namespace

tcp::endpoint parseMetricsAddress(const std::string& text) {
    auto bad = [&text](const std::string& why) {
        return std::invalid_argument("bad --metrics address '" + text + "': " + why);
    };
    std::string host, port;
    if (text.find_first_not_of("0123456789") == std::string::npos) {
        host = "127.0.0.1";  // a bare port: loopback only
        port = text;
    } else if (text.starts_with("[")) {
        auto close = text.find("]:");
        if (close == std::string::npos) throw bad("expected [IPV6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos) throw bad("expected ADDR:PORT or PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.empty()) throw bad("no address before ':' (give PORT alone for loopback, 0.0.0.0:PORT for every address)");
        if (host.find(':') != std::string::npos) throw bad("write an IPv6 address in brackets: [ADDR]:PORT");
        if (host == "localhost") host = "127.0.0.1";
    }
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535)
        throw bad("the port must be a number from 1 to 65535");
    boost::system::error_code aec;
    auto addr = asio::ip::make_address(host, aec);
    if (aec) throw bad("'" + host + "' is not a numeric IPv4 or IPv6 address");
    if (addr.is_v6() && !text.starts_with("[")) throw bad("write an IPv6 address in brackets: [ADDR]:PORT");
    return tcp::endpoint(addr, static_cast<unsigned short>(n));
}

class MetricsSession;

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
    Impl(asio::io_context& io, MetricsServer::Render r, MetricsLimits l)
        : acceptor(io), render(std::move(r)), limits(l) {}
    tcp::acceptor acceptor;
    MetricsServer::Render render;
    MetricsLimits limits;
    bool closed = false;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::weak_ptr<MetricsSession>> sessions;

    void accept();
};

class MetricsSession : public std::enable_shared_from_this<MetricsSession> {
public:
    MetricsSession(tcp::socket s, std::shared_ptr<MetricsServer::Impl> server, std::uint64_t id)
        : stream_(std::move(s)), server_(std::move(server)), id_(id),
          buffer_(server_->limits.maxHeaderBytes + 1024) {}
    ~MetricsSession() {
        if (!server_->closed) server_->sessions.erase(id_);
    }

    void start() { readRequest(); }
    // Waiting for (the rest of) a request, as opposed to answering one.
    bool waiting() const { return waiting_; }

    void close() {
        waiting_ = false;
        if (!server_->closed) server_->sessions.erase(id_);
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    void readRequest() {
        waiting_ = true;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(server_->limits.maxHeaderBytes));
        stream_.expires_after(server_->limits.readTimeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
    }

    void onRead(beast::error_code ec) {
        waiting_ = false;
        if (server_->closed) return;
        if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset)
            return close();
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            return reply(http::status::request_header_fields_too_large, "request headers too large\n", false);
        if (ec) return reply(http::status::bad_request, "bad request: " + ec.message() + "\n", false);

        const auto& req = parser_->get();
        // A body is never read: answer, then close (what follows on the connection is unknown).
        bool body = req.chunked() || (parser_->content_length() && *parser_->content_length() > 0);
        bool keep = req.keep_alive() && !body;
        std::string_view target(req.target().data(), req.target().size());
        if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
        if (target != "/metrics") return reply(http::status::not_found, "not found: the metrics are at GET /metrics\n", keep);
        if (req.method() != http::verb::get) return reply(http::status::method_not_allowed, "method not allowed: GET /metrics only\n", keep);
        std::string text;
        try {
            text = server_->render();
        } catch (const std::exception& e) {
            static log::RateLimiter rl(1, 5);
            log::warnRl(kLog, rl, "metrics: collecting failed: {}", e.what());
            return reply(http::status::internal_server_error, std::string("collecting the metrics failed: ") + e.what() + "\n", false);
        }
        reply(http::status::ok, std::move(text), keep, metrics::kContentType);
    }

    void reply(http::status status, std::string body, bool keep,
               std::string_view type = "text/plain; charset=utf-8") {
        res_ = {};
        res_.result(status);
        res_.version(parser_ && parser_->is_header_done() ? parser_->get().version() : 11);
        res_.set(http::field::server, "vswitchd");
        res_.set(http::field::content_type, beast::string_view(type.data(), type.size()));
        if (status == http::status::method_not_allowed) res_.set(http::field::allow, "GET");
        res_.body() = std::move(body);
        res_.keep_alive(keep);
        res_.prepare_payload();
        stream_.expires_after(server_->limits.writeTimeout);
        http::async_write(stream_, res_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
            if (self->server_->closed) return;
            if (ec || !keep) return self->close();
            self->readRequest();
        });
    }

    beast::tcp_stream stream_;
    std::shared_ptr<MetricsServer::Impl> server_;
    std::uint64_t id_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> res_;
    bool waiting_ = false;
};

void MetricsServer::Impl::accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
        if (self->closed) return;
        if (ec) {
            static log::RateLimiter rl(1, 5);
            log::warnRl(kLog, rl, "metrics: accept failed: {}", ec.message());
            // EMFILE and the like: try again shortly rather than spin.
            auto t = std::make_shared<asio::steady_timer>(self->acceptor.get_executor(), std::chrono::milliseconds(100));
            t->async_wait([self, t](beast::error_code) { if (!self->closed) self->accept(); });
            return;
        }
        if (self->sessions.size() >= self->limits.maxClients) {
            // Make room by closing the oldest connection that is still waiting for a request: idle
            // or slow clients cannot keep a scraper out (it would have to lose the race for a
            // slot within the few milliseconds a scrape takes). Only when every connection is
            // being answered is the newcomer refused.
            static log::RateLimiter rl(1, 5);
            std::shared_ptr<MetricsSession> victim;
            for (auto& [id, w] : self->sessions)
                if (auto v = w.lock(); v && v->waiting()) {
                    victim = v;
                    break;
                }
            log::warnRl(kLog, rl, "metrics: {} connections open, {}", self->sessions.size(),
                        victim ? "closing the oldest idle one" : "refusing another");
            if (victim) {
                victim->close();
            } else {
                beast::error_code ignored;
                s.close(ignored);
                self->accept();
                return;
            }
        }
        {
            std::uint64_t id = self->next_id++;
            auto session = std::make_shared<MetricsSession>(std::move(s), self, id);
            self->sessions.emplace(id, session);
            session->start();
        }
        self->accept();
    });
}

MetricsServer::MetricsServer(asio::io_context& io, const tcp::endpoint& at, Render render, MetricsLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(render), limits)) {
    beast::error_code ec;
    auto fail = [&](const char* what) {
        throw std::runtime_error("cannot serve metrics on " + endpointText(at) + ": " + what + ": " + ec.message());
    };
    impl_->acceptor.open(at.protocol(), ec);
    if (ec) fail("socket");
    impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) fail("SO_REUSEADDR");
    impl_->acceptor.bind(at, ec);
    if (ec) fail("bind");
    impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen");
    impl_->accept();
    log::info(kLog, "metrics: serving http://{}/metrics", endpointText(localEndpoint()));
}

MetricsServer::~MetricsServer() { close(); }

void MetricsServer::close() {
    if (impl_->closed) return;
    impl_->closed = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    auto sessions = std::move(impl_->sessions);
    for (auto& [id, w] : sessions)
        if (auto s = w.lock()) s->close();
}

tcp::endpoint MetricsServer::localEndpoint() const {
    beast::error_code ec;
    return impl_->acceptor.local_endpoint(ec);
}

std::size_t MetricsServer::clientCount() const { return impl_->sessions.size(); }

}  // namespace vs::vswitchd
