// Controller-channel support in the switch layer, without sockets (those are in
// vswitchd/controller_*.cpp): the values a packet_in and a flow_removed carry, the packet_in rate
// limiter, and the fail-open state machine of the `standalone` fail mode. Open vSwitch splits
// this the same way (ofproto/connmgr.c, pinsched.c, fail-open.c).
//
// packet_in (OpenFlow 1.3.5 section 7.4.1): the `controller` action (and dec_ttl on an expiring
// TTL, reason invalid_ttl) translates into a datapath userspace action whose userdata is
// slowPathUserdata(SlowPathKind::kController, INDEX) (ofproto/slow_path.h); INDEX names an
// interned PacketInContext (bridge, reason, table, cookie, max_len) so the userdata stays 64 bits.
// The poll thread only copies the frame into the bounded slow-path queue; the control thread
// resolves it into a PacketIn (Ofproto::packetIn) and hands it to each connected controller
// through that controller's TokenBucket.
//
// Fail modes (ovs-vsctl(8) set-fail-mode): `secure` never switches on its own; `standalone`
// turns "fail open" when the bridge has controllers but none has been heard from for three
// inactivity-probe intervals: NORMAL switching then takes precedence over table 0, as Open
// vSwitch's hidden fail-open flow does, until a controller connects again.
//
// Thread-safety: value types; TokenBucket and FailOpenMonitor are not synchronised (the control
// thread owns them). Time is passed in (monotonic milliseconds), so tests drive it.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ofproto/of_table.h"

namespace vs::ofproto {

enum class PacketInReason : std::uint8_t { kNoMatch, kAction, kInvalidTtl };

// What one controller action reports (interned by Ofproto; the index is the userdata argument).
struct PacketInContext {
    std::string bridge;
    PacketInReason reason = PacketInReason::kAction;
    std::uint8_t table_id = 0;
    std::uint64_t cookie = 0;
    std::uint16_t max_len = 0xffff;  // bytes of the frame to send (OFPCML_NO_BUFFER: all)
    auto operator<=>(const PacketInContext&) const = default;
};

// A packet_in for the controllers of `bridge`, resolved on the control thread.
struct PacketIn {
    std::string bridge;
    PacketInReason reason = PacketInReason::kAction;
    std::uint8_t table_id = 0;
    std::uint64_t cookie = 0;
    std::uint32_t in_ofport = 0;
    std::uint64_t tun_id = 0;
    std::uint32_t total_len = 0;       // the frame's full length
    std::vector<std::uint8_t> frame;   // its first max_len bytes
};

// Why a rule went away (OpenFlow 1.3 section 7.4.2 ofp_flow_removed_reason).
enum class RemovedReason : std::uint8_t { kIdleTimeout, kHardTimeout, kDelete, kGroupDelete };

struct RemovedRule {
    std::string bridge;
    std::shared_ptr<const Rule> rule;
    RemovedReason reason = RemovedReason::kDelete;
    std::int64_t removed_ms = 0;
};

// Token bucket: `rate` tokens per second, at most `burst` saved up. Starts full.
class TokenBucket {
public:
    TokenBucket(double rate_per_s, double burst) { configure(rate_per_s, burst); }
    // Changes the rate and burst; the saved tokens are capped at the new burst.
    void configure(double rate_per_s, double burst);
    // Takes one token if there is one at `now_ms`.
    bool admit(std::int64_t now_ms);
    double rate() const { return rate_; }
    double burst() const { return burst_; }

private:
    double rate_ = 0;
    double burst_ = 0;
    double tokens_ = 0;
    std::int64_t last_ms_ = 0;
    bool started_ = false;
};

enum class FailMode : std::uint8_t { kStandalone, kSecure };

// The fail-open decision of one bridge.
class FailOpenMonitor {
public:
    static constexpr std::int64_t kDefaultProbeMs = 5000;
    static constexpr int kProbesBeforeFailOpen = 3;

    explicit FailOpenMonitor(std::int64_t now_ms) : last_alive_ms_(now_ms) {}
    // `probe_ms`: the shortest inactivity probe of the bridge's controllers (0: probes off, then
    // kDefaultProbeMs is used for the trigger).
    void configure(FailMode mode, bool has_controllers, std::int64_t probe_ms);
    // A controller session became usable / one closed / a message arrived from one.
    void connected(std::int64_t now_ms);
    void disconnected(std::int64_t now_ms);
    void alive(std::int64_t now_ms);
    // True when NORMAL should take over now.
    bool failOpen(std::int64_t now_ms) const;
    // How long after the last sign of life fail-open starts.
    std::int64_t triggerMs() const { return kProbesBeforeFailOpen * (probe_ms_ > 0 ? probe_ms_ : kDefaultProbeMs); }
    int connectedCount() const { return connected_; }

private:
    FailMode mode_ = FailMode::kStandalone;
    bool has_controllers_ = false;
    std::int64_t probe_ms_ = kDefaultProbeMs;
    int connected_ = 0;
    std::int64_t last_alive_ms_;
};

}  // namespace vs::ofproto
