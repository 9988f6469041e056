// RSTP: the Rapid Spanning Tree Protocol of IEEE 802.1D-2004 clause 17 for one bridge (what Open
// vSwitch's rstp_enable runs), and the RST BPDU codec of clause 9.3.3.
//
// The clause-17 state machines are kept as event-driven procedures under their names, in files
// by machine: rstp.cpp (bridge, ports, timers, the settle loop, status), rstp_info.cpp (Port
// Receive 17.23, Port Information 17.27, Port Role Selection 17.28), rstp_roles.cpp (Port Role
// Transitions 17.29, Port State Transition 17.30, Topology Change 17.31), rstp_tx.cpp (Port
// Protocol Migration 17.24, Bridge Detection 17.25, Port Transmit 17.26, the BPDU codec).
// After every event (a BPDU, a carrier change, a timer tick, new settings) settle() runs the
// machines until nothing changes, as the standard's machines would run to quiescence.
//
// What RSTP adds to STP and this implements: port roles Root, Designated, Alternate, Backup and
// Disabled; the states Discarding, Learning, Forwarding; the proposal/agreement handshake
// (17.29.3 sync) that takes a designated port on a point-to-point link to Forwarding as soon as
// its neighbour agrees instead of after 2 * Forward Delay; an Alternate port that becomes Root
// Port at once when the root port fails; edge ports (admin or detected) that forward at once;
// topology change propagation (TC flag for 2 * Hello Time, flushing the MAC entries of the
// other ports); and migration to 802.1D-1998 Configuration/TCN BPDUs on a port where a legacy
// STP bridge is heard (17.24), back to RST BPDUs when it leaves (mcheck).
//
// Time is injected: every call takes `now` in milliseconds from a monotonic origin. Timers run
// with 1 ms resolution rather than the standard's 1 s ticks (a port's timers are decremented by
// run(), called every ~100 ms). Hello Time is fixed at 2 s (802.1D-2004 17.13.6; Open vSwitch
// has no setting either).
//
// Thread-safety: none; the owner (ofproto, under its mutex) serialises every call.
// Lifecycle: construct with the bridge's settings, add ports, feed carrier changes, received
// BPDUs and run() ticks; collect frames to send with transmit().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "datapath/packet.h"

namespace vs::ofproto {

enum class RstpRole { kDisabled, kRoot, kDesignated, kAlternate, kBackup };
enum class RstpState { kDisabled, kDiscarding, kLearning, kForwarding };
// Open vSwitch's words ("Root", "Discarding"), as its rstp_status columns use them.
const char* toString(RstpRole r);
const char* toString(RstpState s);

// A received or sent BPDU (802.1D-2004 9.3): Configuration (type 0), TCN (0x80) or RST (type 2,
// version 2). Times in 1/256 s as on the wire. For a Configuration BPDU only the TC and TC Ack
// flags are meaningful; its port role counts as Designated (17.21.8).
struct RstpBpdu {
    enum class Type { kConfig, kTcn, kRst } type = Type::kRst;
    // Flags (9.3.3): bit 0 TC, 1 Proposal, 2-3 port role, 4 Learning, 5 Forwarding, 6 Agreement,
    // 7 TC Ack.
    bool tc = false, proposal = false, learning = false, forwarding = false, agreement = false, tc_ack = false;
    RstpRole role = RstpRole::kDesignated;  // kAlternate stands for Alternate/Backup
    std::uint64_t root_id = 0;
    std::uint32_t root_path_cost = 0;
    std::uint64_t bridge_id = 0;
    std::uint16_t port_id = 0;
    std::uint16_t message_age = 0, max_age = 0, hello_time = 0, forward_delay = 0;
    bool operator==(const RstpBpdu&) const = default;
};

// Parses a BPDU frame (Ethernet header included) per 802.1D-2004 9.3.4: 802.3 length, LLC
// 42 42 03, protocol identifier 0; a Configuration BPDU of at least 35 octets (Message Age below
// Max Age), a TCN BPDU of at least 4, an RST BPDU (type 2, version >= 2) of at least 36. A
// version above 2 is treated as 2. nullopt and the reason in `why` otherwise.
std::optional<RstpBpdu> parseRstpBpdu(std::span<const std::uint8_t> frame, std::string* why = nullptr);
// Builds the frame from `src` to the Bridge Group Address 01:80:c2:00:00:00: an RST BPDU is 36
// octets plus the Version 1 Length octet (0), the others as in 802.1D-1998; padded to 60.
std::vector<std::uint8_t> buildRstpBpdu(const dp::MacAddr& src, const RstpBpdu& bpdu);

// Bridge settings (Bridge other_config rstp-*, as Open vSwitch names them); times in seconds.
struct RstpSettings {
    std::uint16_t priority = 32768;  // rstp-priority, a multiple of 4096 (rounded down)
    dp::MacAddr address;             // rstp-address; zero: the bridge's MAC
    int ageing_time_s = 300;         // rstp-ageing-time, 10..1000000 (reported, not used)
    int force_protocol_version = 2;  // 0: STP compatibility (Configuration BPDUs only), 2: RSTP
    int max_age_s = 20, forward_delay_s = 15;
    int transmit_hold_count = 6;     // BPDUs per Hello Time per port at most (17.13.12)
    bool operator==(const RstpSettings&) const = default;
    std::uint64_t bridgeId() const { return (std::uint64_t{priority} << 48) | address.toU64(); }
    // The problem with these settings (ranges of 17.13 as Open vSwitch takes them and 17.14's
    // 2 * (Forward Delay - 1) >= Max Age), or nullopt.
    std::optional<std::string> problem() const;
};

// The Admin Point-To-Point MAC parameter (6.4.3), with Open vSwitch's numbers.
enum class RstpP2p { kForceFalse = 0, kForceTrue = 1, kAuto = 2 };

struct RstpPortSettings {
    bool enable = true;            // rstp-enable
    std::uint16_t port_num = 0;    // rstp-port-num 1..4095 (0: chosen by addPort)
    std::uint8_t priority = 128;   // rstp-port-priority, a multiple of 16
    std::uint32_t path_cost = 2000;  // rstp-path-cost (802.1D-2004 table 17-3: 10 Gb/s 2000)
    bool admin_edge = false, auto_edge = true;
    RstpP2p admin_p2p = RstpP2p::kForceTrue;  // Open vSwitch's default
    bool admin_port_state = true;  // false: administratively disabled (Disabled role)
    bool mcheck = false;           // a change to true forces RST BPDUs again (17.19.13)
    bool operator==(const RstpPortSettings&) const = default;
};

struct RstpPortStatus {
    std::uint32_t id = 0;
    std::uint16_t port_id = 0;
    RstpRole role = RstpRole::kDisabled;
    RstpState state = RstpState::kDisabled;
    std::uint32_t path_cost = 0;
    std::uint64_t designated_bridge = 0;
    std::uint16_t designated_port = 0;
    std::uint32_t designated_cost = 0;
    bool oper_edge = false, send_rstp = true, p2p = true;
    std::int64_t sec_in_state = 0;
    std::int64_t uptime_s = 0;  // since the port was added (its counters' span)
    std::uint64_t tx = 0, rx = 0, errors = 0;
};

struct RstpStatus {
    std::uint64_t bridge_id = 0, root_id = 0;
    std::uint32_t root_path_cost = 0;
    std::optional<std::uint32_t> root_port;  // id
    std::uint16_t root_port_id = 0;           // the root port's port identifier, 0 at the root
    std::uint64_t designated_id = 0;          // the designated bridge of the root port (or ours)
    std::uint16_t designated_port_id = 0;
    int hello_s = 2, max_age_s = 0, forward_delay_s = 0;  // in use (the root's)
    int ageing_time_s = 0, force_protocol_version = 2, transmit_hold_count = 0;
    std::uint64_t topology_changes = 0;
    std::vector<RstpPortStatus> ports;
};

class Rstp {
public:
    static constexpr std::int64_t kHelloMs = 2000;    // 17.13.6
    static constexpr std::int64_t kMigrateMs = 3000;  // 17.13.9

    Rstp(const RstpSettings& s, std::int64_t now);

    // New bridge settings: a changed bridge identifier or timers restart the protocol (17.18).
    void configure(const RstpSettings& s, std::int64_t now);
    const RstpSettings& settings() const { return cfg_; }

    void addPort(std::uint32_t id, const RstpPortSettings& s, bool carrier, std::int64_t now);
    void setPortSettings(std::uint32_t id, const RstpPortSettings& s, std::int64_t now);
    void removePort(std::uint32_t id, std::int64_t now);
    bool hasPort(std::uint32_t id) const { return ports_.count(id) > 0; }
    // Carrier of port `id` changed (portEnabled, 17.19.18).
    void setCarrier(std::uint32_t id, bool up, std::int64_t now);
    // A BPDU arrived on port `id` (Port Receive, 17.23).
    void receive(std::uint32_t id, const RstpBpdu& bpdu, std::int64_t now);
    void receiveError(std::uint32_t id);
    // Timers (17.17). Call every ~100 ms.
    void run(std::int64_t now);
    // BPDUs to send now: (port id, BPDU). Emptied by the call.
    std::vector<std::pair<std::uint32_t, RstpBpdu>> transmit();

    RstpRole role(std::uint32_t id) const;
    RstpState state(std::uint32_t id) const;
    bool forwards(std::uint32_t id) const;  // Forwarding, or not taking part
    bool learns(std::uint32_t id) const;    // Learning or Forwarding, or not taking part
    // Bumped whenever some port's learning or forwarding changed.
    std::uint64_t version() const { return version_; }
    // Ports whose MAC entries must go (fdbFlush, 17.19.7): emptied by the call.
    std::vector<std::uint32_t> takeFdbFlush();
    bool isRoot() const { return root_.root == bridgeId(); }
    RstpStatus status(std::int64_t now) const;

    // A priority vector (17.6): compared as a whole, lower is better.
    struct Vector {
        std::uint64_t root = 0;
        std::uint32_t cost = 0;
        std::uint64_t bridge = 0;
        std::uint16_t port = 0;       // designated port id
        std::uint16_t rx_port = 0;    // the receiving port's id (root path priority only)
        auto operator<=>(const Vector&) const = default;
    };
    struct Times {
        std::int64_t message_age = 0, max_age = 20000, forward_delay = 15000, hello = kHelloMs;  // ms
        bool operator==(const Times&) const = default;
    };

private:
    enum class Info { kDisabled, kMine, kAged, kReceived };
    enum class RcvdInfo { kSuperiorDesignated, kRepeatedDesignated, kInferiorDesignated, kInferiorRootAlternate, kOther };
    struct Port {
        RstpPortSettings cfg;
        std::uint16_t num = 0;
        bool carrier = false;
        // 17.19 per-port variables
        Info info_is = Info::kDisabled;
        Vector port_priority, designated_priority, msg_priority;
        Times port_times, designated_times, msg_times;
        RstpRole role = RstpRole::kDisabled, selected_role = RstpRole::kDisabled;
        RstpState state = RstpState::kDisabled;
        bool learn = false, forward = false, learning = false, forwarding = false;
        bool proposing = false, proposed = false, agree = false, agreed = false, synced = false, sync = false;
        bool re_root = false, disputed = false, new_info = false, updt_info = false, selected = false;
        bool send_rstp = true, oper_edge = false, tc_prop = false, rcvd_tc = false, rcvd_tcn = false, rcvd_tc_ack = false;
        bool rcvd_flags_designated = false, rcvd_flags_root_alt = false;  // the last BPDU's role
        bool tc_ack = false, fdb_flush = false, rcvd_stp = false, rcvd_rstp = false, mcheck = false;
        enum class Mig { kCheckingRstp, kSelectingStp, kSensing } mig = Mig::kCheckingRstp;  // 17.24
        enum class Tc { kInactive, kLearning, kActive } tc = Tc::kInactive;                // 17.31
        // timers, ms remaining (17.17)
        std::int64_t fd_while = 0, rr_while = 0, rb_while = 0, tc_while = 0, rcvd_info_while = 0;
        std::int64_t hello_when = 0, mdelay_while = 0, edge_delay_while = 0;
        int tx_count = 0;
        std::int64_t tx_count_left = 0;  // ms to the next decrement of tx_count (17.17: one per second)
        std::int64_t state_since = 0, added = 0;
        std::uint64_t tx = 0, rx = 0, errors = 0;
        std::uint16_t portId() const { return static_cast<std::uint16_t>(((cfg.priority >> 4) << 12) | (num & 0xfff)); }
        bool enabled() const { return carrier && cfg.admin_port_state; }
        bool p2p() const { return cfg.admin_p2p != RstpP2p::kForceFalse; }
    };

    std::uint64_t bridgeId() const { return cfg_.bridgeId(); }
    bool rstpVersion() const { return cfg_.force_protocol_version >= 2; }
    std::int64_t fwdDelay(const Port& p) const;
    std::int64_t edgeDelay(const Port& p) const { return p.p2p() ? kMigrateMs : root_times_.max_age; }
    std::uint16_t lowestFreePortNum(std::uint32_t except) const;
    void initPort(Port& p, std::int64_t now);
    void settle(std::int64_t now);
    void setState(Port& p, RstpState s, std::int64_t now);

    // rstp_info.cpp
    RcvdInfo rcvInfo(const Port& p) const;
    void portInformation(std::uint32_t id, Port& p, const RstpBpdu& b);
    bool agedOrUpdated(Port& p);
    void roleSelection();
    void updtRolesTree();
    // rstp_roles.cpp
    bool roleTransitions(std::uint32_t id, Port& p);
    bool rootPortTransitions(std::uint32_t id, Port& p);
    bool designatedPortTransitions(Port& p);
    bool alternatePortTransitions(std::uint32_t id, Port& p);
    bool allSynced(std::uint32_t except) const;
    bool reRooted(std::uint32_t except) const;
    void setSyncTree();
    void setReRootTree();
    bool stateTransitions(Port& p, std::int64_t now);
    bool topologyChange(std::uint32_t id, Port& p);
    void newTcWhile(Port& p);
    void setTcPropTree(std::uint32_t except);
    // rstp_tx.cpp
    bool protocolMigration(Port& p);
    bool bridgeDetection(Port& p);
    bool portTransmit(std::uint32_t id, Port& p);
    RstpBpdu bpduOf(const Port& p, RstpBpdu::Type t) const;

    RstpSettings cfg_;
    std::map<std::uint32_t, Port> ports_;
    std::int64_t last_run_ = 0;
    Vector root_;  // rootPriority (17.18.6)
    Times root_times_;
    std::optional<std::uint32_t> root_port_;
    bool reselect_ = true;
    std::vector<std::pair<std::uint32_t, RstpBpdu>> tx_;
    std::uint64_t version_ = 0, topology_changes_ = 0;
};

}  // namespace vs::ofproto
