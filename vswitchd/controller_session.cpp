#include "vswitchd/controller_session.h"

#include <algorithm>

#include "datapath/coverage.h"
#include "datapath/clock.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kController;  // vlog/set module
}

namespace vs::vswitchd {

namespace of = protocol::of;

namespace {
log::RateLimiter& badMessageLog() {
    static log::RateLimiter rl(60, 20);
    return rl;
}
}  // namespace

OfSession::OfSession(boost::asio::io_context& io, std::shared_ptr<protocol::LineChannel> channel,
                     OfRequestHandler& handler, Settings settings, Events events)
    : channel_(std::move(channel)), handler_(handler), settings_(std::move(settings)), events_(std::move(events)),
      timer_(io), limiter_(settings_.rate, settings_.burst) {}

OfSession::~OfSession() {
    if (channel_) channel_->close("session destroyed");
}

void OfSession::start() {
    started_ms_ = last_rx_ms_ = dp::monotonicMs();
    std::weak_ptr<OfSession> weak = weak_from_this();
    channel_->start(
        [weak] { if (auto s = weak.lock()) s->onReady(); },
        [weak](std::string_view line) { if (auto s = weak.lock()) s->onLine(line); },
        [weak](std::size_t bytes) {
            auto s = weak.lock();
            if (!s) return;
            s->badMessage(0, "bad_len",
                          "message of " + std::to_string(bytes) + " or more bytes exceeds the limit of " +
                              std::to_string(of::kMaxMessageBytes) + "; closing the connection",
                          {});
        },
        [weak](const std::string& reason) { if (auto s = weak.lock()) s->onClosed(reason); });
    // Until the hello exchange completes, the probe timer enforces kHelloTimeoutMs.
    armProbe();
}

void OfSession::onReady() {
    channel_->send(of::encode(of::Message{next_xid_++, of::Hello{}}));
}

void OfSession::onLine(std::string_view line) {
    last_rx_ms_ = dp::monotonicMs();
    probe_sent_ = false;
    if (up_ && events_.alive) events_.alive();
    auto decoded = of::decode(line);
    if (auto* e = std::get_if<of::DecodeError>(&decoded)) return badMessage(e->xid, e->code, e->message, line);
    const auto& msg = std::get<of::Message>(decoded);
    if (!up_) return onHello(msg, line);
    if (auto* err = std::get_if<of::Error>(&msg.body)) {
        log::warnRl(kLog, badMessageLog(), "bridge {}: controller {} ({}) reports error {}/{}: {}", settings_.bridge,
                    settings_.target, peer(), err->type, err->code, err->message);
        return;
    }
    if (auto r = handler_.handle(settings_.bridge, msg, line)) {
        if (auto* err = std::get_if<of::Error>(&r->body)) {
            dp::coverageAdd(dp::Coverage::controller_bad_message);
            log::warnRl(kLog, badMessageLog(), "bridge {}: refused {} (xid {}) from controller {}: {}", settings_.bridge,
                        of::typeName(msg.body), msg.xid, settings_.target, err->message);
        }
        reply(*r);
    }
}

void OfSession::onHello(const of::Message& msg, std::string_view line) {
    const auto* hello = std::get_if<of::Hello>(&msg.body);
    if (!hello) {
        channel_->send(of::encode(of::makeError(msg.xid, "bad_request", "bad_version",
                                                "expected hello first, got " + std::string(of::typeName(msg.body)), line)));
        return close("the peer did not start with hello");
    }
    int version = 0;
    for (int v : hello->versions)
        if (v <= of::kVersion) version = std::max(version, v);
    if (version == 0) {
        std::string problem = "no common protocol version (we speak " + std::to_string(of::kVersion) + ")";
        channel_->send(of::encode(of::makeError(msg.xid, "hello_failed", "incompatible", problem, line)));
        channel_->closeAfterFlush(problem);
        return;
    }
    up_ = true;
    log::info(kLog, "bridge {}: controller {} connected (peer {}{}{}), protocol version {}", settings_.bridge,
              settings_.target, peer(), channel_->isTls() ? ", certificate " : "", channel_->peerSubject(), version);
    armProbe();
    if (events_.up) events_.up();
}

void OfSession::badMessage(std::uint32_t xid, const std::string& code, const std::string& message, std::string_view line) {
    dp::coverageAdd(dp::Coverage::controller_bad_message);
    log::warnRl(kLog, badMessageLog(), "bridge {}: bad message from controller {} ({}): {}", settings_.bridge,
                settings_.target, peer(), message);
    if (channel_->isOpen()) channel_->send(of::encode(of::makeError(xid, "bad_request", code, message, line)));
}

void OfSession::reply(const of::Message& msg) { channel_->send(of::encode(msg)); }

void OfSession::send(of::Body body) {
    if (!up_ || closed_) return;
    channel_->send(of::encode(of::Message{next_xid_++, std::move(body)}));
}

bool OfSession::sendPacketIn(const of::PacketIn& pin) {
    if (!up_ || closed_) return false;
    if (!limiter_.admit(dp::monotonicMs())) {
        dp::coverageAdd(dp::Coverage::drop_packet_in_rate_limit);
        return false;
    }
    if (channel_->queuedBytes() > kMaxBacklogBytes) {
        dp::coverageAdd(dp::Coverage::drop_packet_in_backlog);
        return false;
    }
    dp::coverageAdd(dp::Coverage::packet_in_sent);
    channel_->send(of::encode(of::Message{next_xid_++, pin}));
    return true;
}

void OfSession::reconfigure(std::int64_t probe_ms, double rate, double burst) {
    limiter_.configure(rate, burst);
    if (settings_.probe_ms != probe_ms) {
        settings_.probe_ms = probe_ms;
        armProbe();
    }
}

void OfSession::armProbe() {
    if (closed_) return;
    std::int64_t now = dp::monotonicMs();
    std::int64_t due;
    if (!up_) due = started_ms_ + kHelloTimeoutMs;
    else if (settings_.probe_ms <= 0) return (void)timer_.cancel();
    else due = (probe_sent_ ? probe_sent_ms_ : last_rx_ms_) + settings_.probe_ms;
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(due - now, 1)));
    std::weak_ptr<OfSession> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
        if (auto s = weak.lock(); s && !ec) s->onProbeTimer();
    });
}

void OfSession::onProbeTimer() {
    if (closed_) return;
    std::int64_t now = dp::monotonicMs();
    if (!up_) {
        if (now - started_ms_ >= kHelloTimeoutMs) return close("no hello within " + std::to_string(kHelloTimeoutMs) + " ms");
    } else if (settings_.probe_ms > 0) {
        if (probe_sent_ && now - probe_sent_ms_ >= settings_.probe_ms)
            return close("no reply to the inactivity probe within " + std::to_string(settings_.probe_ms) + " ms");
        if (!probe_sent_ && now - last_rx_ms_ >= settings_.probe_ms) {
            probe_sent_ = true;
            probe_sent_ms_ = now;
            channel_->send(of::encode(of::Message{next_xid_++, of::EchoRequest{}}));
        }
    }
    armProbe();
}

void OfSession::close(const std::string& reason) {
    if (closed_) return;
    channel_->close(reason);  // calls onClosed
    onClosed(reason);
}

void OfSession::detach(const std::string& reason) {
    events_ = {};
    close(reason);
}

void OfSession::onClosed(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    bool was_up = up_;
    up_ = false;
    if (was_up)
        log::info(kLog, "bridge {}: controller {} ({}) disconnected: {}", settings_.bridge, settings_.target, peer(), reason);
    auto down = std::move(events_.down);
    events_ = {};
    if (down) down(reason, was_up);
}

}  // namespace vs::vswitchd
