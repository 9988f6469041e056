#include "vswitchd/controller_endpoint.h"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

#include "datapath/clock.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kController;  // vlog/set module
}

namespace vs::vswitchd {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::int64_t kMinBackoffMs = 1000;
constexpr std::chrono::milliseconds kConnectTimeout{5000};


log::RateLimiter& connectLog() {
    static log::RateLimiter rl(30, 10);
    return rl;
}

OfSession::Settings sessionSettings(const std::string& bridge, const std::string& target, const ControllerConfig& c) {
    double rate = c.controller_rate_limit.value_or(ControllerConfig::kDefaultRateLimit);
    double burst = c.controller_burst_limit.value_or(std::max(1, static_cast<int>(rate / 4)));
    return OfSession::Settings{bridge, target, c.probeMs(), rate, burst};
}

void reconfigureSession(OfSession& s, const ControllerConfig& c) {
    double rate = c.controller_rate_limit.value_or(ControllerConfig::kDefaultRateLimit);
    double burst = c.controller_burst_limit.value_or(std::max(1, static_cast<int>(rate / 4)));
    s.reconfigure(c.probeMs(), rate, burst);
}

// tcp:/ssl: — one session at a time, reconnecting with backoff.
class ActiveEndpoint final : public ControllerEndpoint, public std::enable_shared_from_this<ActiveEndpoint> {
public:
    ActiveEndpoint(EndpointEnv& env, std::string bridge, std::string target, protocol::Target parsed, ControllerConfig cfg)
        : env_(env), bridge_(std::move(bridge)), target_(std::move(target)), parsed_(std::move(parsed)),
          cfg_(std::move(cfg)), timer_(env.io) {}

    void start() override { connect(); }
    void configure(const ControllerConfig& cfg) override {
        cfg_ = cfg;
        backoff_ms_ = std::min<std::int64_t>(backoff_ms_, cfg_.maxBackoffMs());
        if (session_) reconfigureSession(*session_, cfg_);
    }
    void restart() override {
        dropSession("TLS settings changed");
        timer_.cancel();
        backoff_ms_ = kMinBackoffMs;
        connect();
    }
    void stop() override {
        stopped_ = true;
        timer_.cancel();
        dropSession("controller removed from the configuration");
    }
    std::vector<std::shared_ptr<OfSession>> upSessions() const override {
        if (session_ && session_->isUp()) return {session_};
        return {};
    }
    ControllerStatus status(std::int64_t now) const override {
        ControllerStatus s;
        s.is_connected = session_ && session_->isUp();
        s.status["state"] = s.is_connected ? "ACTIVE" : state_;
        if (!last_error_.empty()) s.status["last_error"] = last_error_;
        if (connected_ms_) s.status["sec_since_connect"] = std::to_string((now - connected_ms_) / 1000);
        if (disconnected_ms_) s.status["sec_since_disconnect"] = std::to_string((now - disconnected_ms_) / 1000);
        if (s.is_connected) s.status["peer"] = session_->peer();
        return s;
    }

private:
    void dropSession(const std::string& why) {
        if (!session_) return;
        bool was_up = session_->isUp();
        auto s = std::move(session_);
        s->detach(why);
        if (was_up) {
            disconnected_ms_ = dp::monotonicMs();
            env_.down(bridge_);
        }
    }

    void connect() {
        if (stopped_) return;
        state_ = "CONNECTING";
        std::weak_ptr<ActiveEndpoint> weak = weak_from_this();
        protocol::asyncConnect(env_.io, parsed_.host, parsed_.port, kConnectTimeout,
                               [weak](std::optional<tcp::socket> sock, const std::string& error) {
                                   if (auto self = weak.lock(); self && !self->stopped_) self->connected(std::move(sock), error);
                               });
    }

    void connected(std::optional<tcp::socket> sock, const std::string& error) {
        if (!sock) return failed("connection failed: " + error);
        std::shared_ptr<protocol::LineChannel> ch;
        if (parsed_.tls()) {
            std::string tls_error;
            auto ctx = env_.tls(false, tls_error);
            if (!ctx) return failed(tls_error);
            ch = protocol::LineChannel::tls(std::move(*sock), ctx, false, parsed_.host);
        } else {
            ch = protocol::LineChannel::plain(std::move(*sock));
        }
        std::weak_ptr<ActiveEndpoint> weak = weak_from_this();
        OfSession::Events ev;
        ev.up = [weak] { if (auto s = weak.lock()) s->sessionUp(); };
        ev.down = [weak](const std::string& reason, bool was_up) { if (auto s = weak.lock()) s->sessionDown(reason, was_up); };
        ev.alive = [weak] { if (auto s = weak.lock()) s->env_.alive(s->bridge_); };
        session_ = std::make_shared<OfSession>(env_.io, std::move(ch), env_.handler,
                                               sessionSettings(bridge_, target_, cfg_), std::move(ev));
        session_->start();
    }

    void sessionUp() {
        state_ = "ACTIVE";
        last_error_.clear();
        backoff_ms_ = kMinBackoffMs;
        connected_ms_ = dp::monotonicMs();
        env_.up(bridge_);
    }

    void sessionDown(const std::string& reason, bool was_up) {
        session_.reset();
        if (was_up) {
            disconnected_ms_ = dp::monotonicMs();
            last_error_ = reason;
            env_.down(bridge_);
            scheduleReconnect();
        } else {
            failed(reason);
        }
    }

    void failed(const std::string& why) {
        last_error_ = why;
        log::warnRl(kLog, connectLog(), "bridge {}: controller {}: {} (retrying in {} ms)", bridge_, target_, why, backoff_ms_);
        scheduleReconnect();
    }

    void scheduleReconnect() {
        if (stopped_) return;
        state_ = "BACKOFF";
        timer_.expires_after(std::chrono::milliseconds(backoff_ms_));
        backoff_ms_ = std::min<std::int64_t>(backoff_ms_ * 2, cfg_.maxBackoffMs());
        std::weak_ptr<ActiveEndpoint> weak = weak_from_this();
        timer_.async_wait([weak](const boost::system::error_code& ec) {
            if (auto s = weak.lock(); s && !ec) s->connect();
        });
    }

    EndpointEnv& env_;
    std::string bridge_, target_;
    protocol::Target parsed_;
    ControllerConfig cfg_;
    asio::steady_timer timer_;
    std::shared_ptr<OfSession> session_;
    std::int64_t backoff_ms_ = kMinBackoffMs;
    std::string state_ = "VOID";
    std::string last_error_;
    std::int64_t connected_ms_ = 0, disconnected_ms_ = 0;
    bool stopped_ = false;
};

// ptcp:/pssl: — a listener with one session per accepted connection.
class PassiveEndpoint final : public ControllerEndpoint, public std::enable_shared_from_this<PassiveEndpoint> {
public:
    static constexpr std::size_t kMaxSessions = 16;

    PassiveEndpoint(EndpointEnv& env, std::string bridge, std::string target, protocol::Target parsed, ControllerConfig cfg)
        : env_(env), bridge_(std::move(bridge)), target_(std::move(target)), parsed_(std::move(parsed)),
          cfg_(std::move(cfg)), acceptor_(env.io), timer_(env.io) {}

    void start() override { listen(); }
    void configure(const ControllerConfig& cfg) override {
        cfg_ = cfg;
        for (auto& s : sessions_) reconfigureSession(*s, cfg_);
    }
    void restart() override {
        dropAll("TLS settings changed");  // the listener stays; new connections use the new context
    }
    void stop() override {
        stopped_ = true;
        timer_.cancel();
        boost::system::error_code ec;
        acceptor_.close(ec);
        dropAll("controller removed from the configuration");
    }
    std::vector<std::shared_ptr<OfSession>> upSessions() const override {
        std::vector<std::shared_ptr<OfSession>> out;
        for (const auto& s : sessions_)
            if (s->isUp()) out.push_back(s);
        return out;
    }
    ControllerStatus status(std::int64_t now) const override {
        ControllerStatus s;
        auto up = upSessions();
        s.is_connected = !up.empty();
        s.status["state"] = acceptor_.is_open() ? "LISTENING" : "BACKOFF";
        s.status["n_connections"] = std::to_string(up.size());
        if (!last_error_.empty()) s.status["last_error"] = last_error_;
        if (connected_ms_) s.status["sec_since_connect"] = std::to_string((now - connected_ms_) / 1000);
        if (disconnected_ms_) s.status["sec_since_disconnect"] = std::to_string((now - disconnected_ms_) / 1000);
        return s;
    }

private:
    void dropAll(const std::string& why) {
        auto sessions = std::move(sessions_);
        sessions_.clear();
        for (auto& s : sessions) {
            bool was_up = s->isUp();
            s->detach(why);
            if (was_up) env_.down(bridge_);
        }
    }

    void listen() {
        if (stopped_) return;
        boost::system::error_code ec;
        auto addr = parsed_.host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                                         : asio::ip::make_address(parsed_.host, ec);
        tcp::endpoint ep(addr, parsed_.port);
        if (!ec) acceptor_.open(ep.protocol(), ec);
        if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            boost::system::error_code ignored;
            acceptor_.close(ignored);
            last_error_ = "cannot listen on " + target_ + ": " + ec.message();
            log::warnRl(kLog, connectLog(), "bridge {}: {} (retrying in {} ms)", bridge_, last_error_, cfg_.maxBackoffMs());
            std::weak_ptr<PassiveEndpoint> weak = weak_from_this();
            timer_.expires_after(std::chrono::milliseconds(cfg_.maxBackoffMs()));
            timer_.async_wait([weak](const boost::system::error_code& e) {
                if (auto s = weak.lock(); s && !e) s->listen();
            });
            return;
        }
        last_error_.clear();
        log::info(kLog, "bridge {}: listening for controllers on {}", bridge_, target_);
        acceptNext();
    }

    void acceptNext() {
        std::weak_ptr<PassiveEndpoint> weak = weak_from_this();
        acceptor_.async_accept([weak](const boost::system::error_code& ec, tcp::socket sock) {
            auto self = weak.lock();
            if (!self || self->stopped_ || ec == asio::error::operation_aborted) return;
            if (!ec) self->accepted(std::move(sock));
            self->acceptNext();
        });
    }

    void accepted(tcp::socket sock) {
        if (sessions_.size() >= kMaxSessions) {
            last_error_ = "refused a connection: " + std::to_string(kMaxSessions) + " sessions already";
            return;  // the socket closes here
        }
        std::shared_ptr<protocol::LineChannel> ch;
        if (parsed_.tls()) {
            std::string tls_error;
            auto ctx = env_.tls(true, tls_error);
            if (!ctx) {
                last_error_ = tls_error;
                log::warnRl(kLog, connectLog(), "bridge {}: controller {}: refused a connection: {}", bridge_, target_, tls_error);
                return;
            }
            ch = protocol::LineChannel::tls(std::move(sock), ctx, true, "");
        } else {
            ch = protocol::LineChannel::plain(std::move(sock));
        }
        std::weak_ptr<PassiveEndpoint> weak = weak_from_this();
        auto key = std::make_shared<OfSession*>(nullptr);  // the session, once made (for its down event)
        OfSession::Events ev;
        ev.up = [weak] {
            if (auto s = weak.lock()) {
                s->connected_ms_ = dp::monotonicMs();
                s->env_.up(s->bridge_);
            }
        };
        ev.down = [weak, key](const std::string& reason, bool was_up) {
            if (auto s = weak.lock()) s->sessionDown(*key, reason, was_up);
        };
        ev.alive = [weak] { if (auto s = weak.lock()) s->env_.alive(s->bridge_); };
        auto session = std::make_shared<OfSession>(env_.io, std::move(ch), env_.handler,
                                                   sessionSettings(bridge_, target_, cfg_), std::move(ev));
        *key = session.get();
        sessions_.push_back(session);
        session->start();
    }

    void sessionDown(const OfSession* gone, const std::string& reason, bool was_up) {
        std::erase_if(sessions_, [gone](const auto& s) { return s.get() == gone; });
        last_error_ = reason;
        if (was_up) {
            disconnected_ms_ = dp::monotonicMs();
            env_.down(bridge_);
        } else {
            log::warnRl(kLog, connectLog(), "bridge {}: controller {}: refused a connection: {}", bridge_, target_, reason);
        }
    }

    EndpointEnv& env_;
    std::string bridge_, target_;
    protocol::Target parsed_;
    ControllerConfig cfg_;
    tcp::acceptor acceptor_;
    asio::steady_timer timer_;
    std::vector<std::shared_ptr<OfSession>> sessions_;
    std::string last_error_;
    std::int64_t connected_ms_ = 0, disconnected_ms_ = 0;
    bool stopped_ = false;
};

}  // namespace

std::shared_ptr<ControllerEndpoint> ControllerEndpoint::make(EndpointEnv& env, const std::string& bridge,
                                                             const std::string& target, const protocol::Target& parsed,
                                                             const ControllerConfig& cfg) {
    if (parsed.active()) return std::make_shared<ActiveEndpoint>(env, bridge, target, parsed, cfg);
    return std::make_shared<PassiveEndpoint>(env, bridge, target, parsed, cfg);
}

}  // namespace vs::vswitchd
