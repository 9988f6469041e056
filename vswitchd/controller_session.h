// One controller session of the switch (docs/controller.md), over an established transport
// (protocol/ofchannel.h), in one of two dialects: binary OpenFlow 1.3 (protocol/of13.h, answered
// by Of13Handler; the channel must use Framing::kOpenFlow) or the JSON controller protocol
// (protocol/ofmsg.h, answered by OfRequestHandler). The OpenFlow 1.3.5 connection setup and
// liveness rules apply to both:
//
//  - Setup (section 6.3.1): both sides send hello at once; the version is the highest both list
//    (binary: the peer's versionbitmap must include 4, or without a bitmap its header version must
//    be 4 or more). No common version: error hello_failed/incompatible, then close. A peer that sends no hello
//    within kHelloTimeout is dropped.
//  - Liveness (Open vSwitch's inactivity_probe): after `probe_ms` without a message from the
//    controller the switch sends echo_request; after another `probe_ms` without one it closes the
//    session. probe_ms 0 disables probing.
//  - Requests are decoded (protocol/ofmsg.h) and answered by OfRequestHandler, one at a time and
//    in order. A malformed message (not JSON, unknown type or member, bad value) gets an error
//    that quotes it, is logged (rate-limited) and counted (controller_bad_message); the session
//    stays up. A line over of::kMaxMessageBytes gets bad_request/bad_len and the session closes.
//  - packet_in goes through a token bucket (controller_rate_limit / controller_burst_limit) and is
//    dropped when the controller does not read (more than kMaxBacklogBytes unsent); both drops are
//    counted (drop_packet_in_rate_limit, drop_packet_in_backlog).
//
// Thread-safety: none; the control thread runs everything. Owned by shared_ptr (its timers and
// channel callbacks hold references until it closes). Events are not called after detach().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ofproto/connmgr.h"
#include "protocol/ofchannel.h"
#include "protocol/ofmsg.h"
#include "vswitchd/controller_handler.h"
#include "vswitchd/of13_handler.h"

namespace vs::vswitchd {

class OfSession : public std::enable_shared_from_this<OfSession> {
public:
    static constexpr std::int64_t kHelloTimeoutMs = 5000;
    static constexpr std::size_t kMaxBacklogBytes = 1024 * 1024;

    struct Settings {
        std::string bridge;
        std::string target;          // the configured target, for logs
        std::int64_t probe_ms = 5000;
        double rate = 1000;          // packet_in per second
        double burst = 250;
    };
    struct Events {
        std::function<void()> up;                                        // hello exchanged
        std::function<void(const std::string& reason, bool was_up)> down;  // closed (once)
        std::function<void()> alive;                                     // a message arrived
    };

    // `of13` non-null: the session speaks binary OpenFlow 1.3 and answers with it; else JSON.
    OfSession(boost::asio::io_context& io, std::shared_ptr<protocol::LineChannel> channel, OfRequestHandler& handler,
              Settings settings, Events events, Of13Handler* of13 = nullptr);
    ~OfSession();

    // Starts the transport (TLS handshake) and the hello exchange.
    void start();
    // Closes; `down` is called with `reason`.
    void close(const std::string& reason);
    // Forgets the events (the owner is going away), then closes.
    void detach(const std::string& reason);
    void reconfigure(std::int64_t probe_ms, double rate, double burst);

    bool isUp() const { return up_; }
    bool isOpen() const { return channel_ && channel_->isOpen(); }
    const std::string& peer() const { return channel_->peer(); }
    // Asynchronous messages (OpenFlow 1.3 sections 7.4.3, 7.4.2), sent once up.
    void sendPortStatus(protocol::of::PortReason why, const protocol::of::PortDesc& desc);
    void sendFlowRemoved(const ofproto::RemovedRule& r);
    // Sends a packet_in if the rate limit and the backlog allow; false (counted) if dropped.
    bool sendPacketIn(const ofproto::PacketIn& pin);
    bool isOpenFlow13() const { return of13_ != nullptr; }

private:
    void onReady();
    void onLine(std::string_view line);
    void onHello(const protocol::of::Message& msg, std::string_view line);
    void onFrame(std::string_view frame);  // binary OpenFlow 1.3
    void onHello13(const protocol::of13::Message& msg, std::string_view frame);
    void helloDone(int version);
    void sendEcho();
    void onClosed(const std::string& reason);
    void reply(const protocol::of::Message& msg);
    void badMessage(std::uint32_t xid, const std::string& code, const std::string& message, std::string_view line);
    void armProbe();
    void onProbeTimer();

    std::shared_ptr<protocol::LineChannel> channel_;
    OfRequestHandler& handler_;
    Of13Handler* of13_;
    Of13Handler::State of13_state_;
    bool of13_attached_ = false;  // of13_state_ registered with the handler (roles)
    Settings settings_;
    Events events_;
    boost::asio::steady_timer timer_;
    ofproto::TokenBucket limiter_;
    std::uint32_t next_xid_ = 1;
    bool up_ = false;
    bool closed_ = false;
    bool probe_sent_ = false;
    std::int64_t probe_sent_ms_ = 0;
    std::int64_t last_rx_ms_ = 0;
    std::int64_t started_ms_ = 0;
};

}  // namespace vs::vswitchd
