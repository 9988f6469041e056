#include "vswitchd/controller_session.h"

#include <algorithm>
#include <cstdio>

#include "datapath/coverage.h"
#include "datapath/clock.h"
#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kController;  // vlog/set module
}

namespace vs::vswitchd {

namespace of = protocol::of;
namespace of13 = protocol::of13;

namespace {
log::RateLimiter& badMessageLog() {
    static log::RateLimiter rl(60, 20);
    return rl;
}
}  // namespace

OfSession::OfSession(boost::asio::io_context& io, std::shared_ptr<protocol::LineChannel> channel,
                     OfRequestHandler& handler, Settings settings, Events events, Of13Handler* of13)
    : channel_(std::move(channel)), handler_(handler), of13_(of13), settings_(std::move(settings)), events_(std::move(events)),
      timer_(io), limiter_(settings_.rate, settings_.burst) {}

OfSession::~OfSession() {
    if (of13_attached_) of13_->detach(settings_.bridge, &of13_state_);
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
            if (s->of13_) {  // a header declaring less than 8 bytes: the stream cannot be followed
                dp::coverageAdd(dp::Coverage::controller_bad_message);
                std::string hdr(8, '\0');
                s->channel_->send(of13::encode(of13::makeError(of13::kBadRequest, of13::code::kBadLen, hdr)));
                return;
            }
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
    if (of13_) channel_->send(of13::encode(of13::Message{next_xid_++, of13::Hello{}}));
    else channel_->send(of::encode(of::Message{next_xid_++, of::Hello{}}));
}

void OfSession::onLine(std::string_view line) {
    last_rx_ms_ = dp::monotonicMs();
    probe_sent_ = false;
    if (up_ && events_.alive) events_.alive();
    if (of13_) return onFrame(line);
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
    helloDone(version);
}

void OfSession::helloDone(int version) {
    up_ = true;
    if (of13_) {
        of13_->attach(settings_.bridge, &of13_state_);
        of13_attached_ = true;
    }
    log::info(kLog, "bridge {}: controller {} connected (peer {}{}{}), protocol {} version {}", settings_.bridge,
              settings_.target, peer(), channel_->isTls() ? ", certificate " : "", channel_->peerSubject(),
              of13_ ? "OpenFlow" : "JSON", of13_ ? "1.3 (0x04)" : std::to_string(version));
    armProbe();
    if (events_.up) events_.up();
}

void OfSession::onFrame(std::string_view frame) {
    auto decoded = of13::decode(frame);
    if (auto* e = std::get_if<of13::DecodeError>(&decoded)) {
        dp::coverageAdd(dp::Coverage::controller_bad_message);
        log::warnRl(kLog, badMessageLog(), "bridge {}: bad OpenFlow message from controller {} ({}): {}", settings_.bridge,
                    settings_.target, peer(), e->message);
        channel_->send(of13::encode(of13::makeError(e->type, e->code, frame)));
        return;
    }
    const auto& msg = std::get<of13::Message>(decoded);
    if (!up_) return onHello13(msg, frame);
    if (auto* err = std::get_if<of13::Error>(&msg.body)) {
        log::warnRl(kLog, badMessageLog(), "bridge {}: controller {} ({}) reports OpenFlow error type {} code {}",
                    settings_.bridge, settings_.target, peer(), err->type, err->code);
        return;
    }
    auto r = of13_->handle(settings_.bridge, msg, frame, of13_state_);
    if (r.refused) {
        dp::coverageAdd(dp::Coverage::controller_bad_message);
        log::warnRl(kLog, badMessageLog(), "bridge {}: refused {} (xid {}) from controller {}: {}", settings_.bridge,
                    of13::typeName(of13::typeOf(msg.body)), msg.xid, settings_.target, *r.refused);
    }
    for (auto& f : r.frames) channel_->send(std::move(f));
}

// OpenFlow 1.3.5 section 6.3.1: with a versionbitmap both sides pick the highest version both set;
// without one, the lower of the two header versions.
void OfSession::onHello13(const of13::Message& msg, std::string_view frame) {
    const auto* hello = std::get_if<of13::Hello>(&msg.body);
    if (!hello) {
        channel_->send(of13::encode(of13::makeError(of13::kBadRequest, of13::code::kBadType, frame)));
        return close("the peer did not start with hello");
    }
    bool ok = hello->bitmap ? (hello->bitmap & (1u << of13::kVersion)) != 0 : hello->version >= of13::kVersion;
    if (!ok) {
        char offer[32];
        if (hello->bitmap) std::snprintf(offer, sizeof offer, "version bitmap 0x%x", static_cast<unsigned>(hello->bitmap));
        else std::snprintf(offer, sizeof offer, "version %u", static_cast<unsigned>(hello->version));
        std::string problem = std::string("no common OpenFlow version (the switch speaks 1.3, the peer offers ") + offer + ")";
        of13::Message err = of13::makeError(of13::kHelloFailed, of13::code::kIncompatible, frame);
        std::get<of13::Error>(err.body).data = problem;  // HELLO_FAILED carries an ASCII text (7.4.4)
        channel_->send(of13::encode(err));
        channel_->closeAfterFlush(problem);
        return;
    }
    helloDone(of13::kVersion);
}

void OfSession::sendEcho() {
    if (of13_) channel_->send(of13::encode(of13::Message{next_xid_++, of13::EchoRequest{}}));
    else channel_->send(of::encode(of::Message{next_xid_++, of::EchoRequest{}}));
}

void OfSession::badMessage(std::uint32_t xid, const std::string& code, const std::string& message, std::string_view line) {
    dp::coverageAdd(dp::Coverage::controller_bad_message);
    log::warnRl(kLog, badMessageLog(), "bridge {}: bad message from controller {} ({}): {}", settings_.bridge,
                settings_.target, peer(), message);
    if (channel_->isOpen()) channel_->send(of::encode(of::makeError(xid, "bad_request", code, message, line)));
}

void OfSession::reply(const of::Message& msg) { channel_->send(of::encode(msg)); }

void OfSession::sendPortStatus(of::PortReason why, const of::PortDesc& desc) {
    if (!up_ || closed_) return;
    if (of13_ && !of13_state_.wantsPortStatus(static_cast<std::uint8_t>(why))) return;
    if (of13_)
        channel_->send(of13::encode(of13::Message{
            next_xid_++, of13::PortStatus{static_cast<std::uint8_t>(why), Of13Handler::toWire(desc)}}));
    else
        channel_->send(of::encode(of::Message{next_xid_++, of::PortStatus{why, desc}}));
}

void OfSession::sendFlowRemoved(const ofproto::RemovedRule& r) {
    if (!up_ || closed_) return;
    if (of13_ && !of13_state_.wantsFlowRemoved(static_cast<std::uint8_t>(r.reason))) return;
    if (of13_) channel_->send(of13::encode(of13::Message{next_xid_++, Of13Handler::toWire(r)}));
    else channel_->send(of::encode(of::Message{next_xid_++, OfRequestHandler::toWire(r)}));
}

bool OfSession::sendPacketIn(const ofproto::PacketIn& pin) {
    if (!up_ || closed_) return false;
    if (of13_ && !of13_state_.wantsPacketIn(static_cast<std::uint8_t>(pin.reason))) return false;  // role/async filter
    if (!limiter_.admit(dp::monotonicMs())) {
        dp::coverageAdd(dp::Coverage::drop_packet_in_rate_limit);
        return false;
    }
    if (channel_->queuedBytes() > kMaxBacklogBytes) {
        dp::coverageAdd(dp::Coverage::drop_packet_in_backlog);
        return false;
    }
    dp::coverageAdd(dp::Coverage::packet_in_sent);
    if (of13_) channel_->send(of13::encode(of13::Message{next_xid_++, Of13Handler::toWire(pin)}));
    else channel_->send(of::encode(of::Message{next_xid_++, OfRequestHandler::toWire(pin)}));
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
            sendEcho();
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
    if (of13_attached_) {
        of13_->detach(settings_.bridge, &of13_state_);
        of13_attached_ = false;
    }
    bool was_up = up_;
    up_ = false;
    if (was_up)
        log::info(kLog, "bridge {}: controller {} ({}) disconnected: {}", settings_.bridge, settings_.target, peer(), reason);
    auto down = std::move(events_.down);
    events_ = {};
    if (down) down(reason, was_up);
}

}  // namespace vs::vswitchd
