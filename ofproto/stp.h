// STP: the Spanning Tree Protocol of IEEE 802.1D-1998 clause 8 (the "classic" STP that Open
// vSwitch's stp_enable and the Linux bridge's kernel STP run) for one bridge, and the BPDU codec
// of clause 9.
//
// The machine follows clause 8.6-8.7's procedures: root selection and designated port selection
// over the port priority vectors (root id, root path cost, designated bridge, designated port),
// port states Disabled / Blocking / Listening / Learning / Forwarding with the Forward Delay
// timer between them, Configuration BPDUs sent every Hello Time by the root and relayed by the
// others when they hear the root, the Message Age timer that discards stale root information,
// topology change notification (TCN BPDUs towards the root, the TC flag in Configuration BPDUs
// for Max Age + Forward Delay) and the Hold Time that rate-limits Configuration BPDUs per port.
// A topology change asks the owner to flush its MAC table (takeFdbFlush(), what Open vSwitch
// does, rather than 8.3.5's short ageing while the TC flag is set).
//
// Time is injected: every call takes `now` in milliseconds from any monotonic origin, so tests
// drive the machine without sleeping. Ports are identified by a caller-chosen id (ofproto uses
// the port's bundle id); the port identifier in BPDUs is priority (8 bits) and port number.
//
// Thread-safety: none; the owner (ofproto, under its mutex) serialises every call.
// Lifecycle: construct with the bridge's settings, add ports, then feed carrier changes,
// received BPDUs and run() ticks (every ~100 ms); collect BPDUs to send with transmit().
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

// The Bridge Group Address (IEEE 802.1D-1998 7.12.3), to which BPDUs are sent; LLC DSAP/SSAP
// 0x42 and UI control (clause 9 "Encoding of BPDUs" over 802.2 LLC).
inline constexpr dp::MacAddr kStpMac{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

enum class StpState { kDisabled, kBlocking, kListening, kLearning, kForwarding };
enum class StpRole { kDisabled, kRoot, kDesignated, kAlternate };
const char* toString(StpState s);
const char* toString(StpRole r);

// Configuration BPDU fields (9.3.1); times in units of 1/256 s as on the wire.
struct StpConfigBpdu {
    bool tc = false;      // Topology Change flag
    bool tc_ack = false;  // Topology Change Acknowledgment flag
    std::uint64_t root_id = 0;
    std::uint32_t root_path_cost = 0;
    std::uint64_t bridge_id = 0;
    std::uint16_t port_id = 0;
    std::uint16_t message_age = 0, max_age = 0, hello_time = 0, forward_delay = 0;
    bool operator==(const StpConfigBpdu&) const = default;
};

struct StpBpdu {
    enum class Type { kConfig, kTcn } type = Type::kConfig;
    StpConfigBpdu config;  // kConfig only
    bool operator==(const StpBpdu&) const = default;
};

// Parses a BPDU frame (Ethernet header included): an 802.3 length field, LLC 42 42 03, protocol
// identifier 0, then a Configuration BPDU (type 0x00, at least 35 octets) or a TCN BPDU (type
// 0x80). Other types (RST BPDUs, type 0x02, version 2) are refused: an 802.1D-1998 bridge
// ignores them (802.1D-2004 17.4 has RSTP bridges fall back to STP towards us). Returns nullopt
// and the reason in `why` otherwise (9.3.4's validation).
std::optional<StpBpdu> parseStpBpdu(std::span<const std::uint8_t> frame, std::string* why = nullptr);
// Builds the BPDU frame from `src` to kStpMac, padded to 60 octets.
std::vector<std::uint8_t> buildStpBpdu(const dp::MacAddr& src, const StpBpdu& bpdu);

// Bridge settings (other_config stp-*); times in seconds as Open vSwitch takes them.
struct StpSettings {
    std::uint16_t priority = 32768;
    dp::MacAddr system;  // stp-system-id, else the bridge's MAC
    int hello_s = 2, max_age_s = 20, forward_delay_s = 15;
    bool operator==(const StpSettings&) const = default;
    std::uint64_t bridgeId() const { return (std::uint64_t{priority} << 48) | system.toU64(); }
    // The problem with these timers (802.1D-1998 8.10.2 ranges and 2*(Forward Delay - 1) >=
    // Max Age >= 2*(Hello Time + 1)), or nullopt.
    std::optional<std::string> problem() const;
};

struct StpPortSettings {
    bool enable = true;           // stp-enable
    std::uint16_t port_num = 0;   // stp-port-num 1..255 (0: the caller did not choose)
    std::uint8_t priority = 128;  // stp-port-priority
    std::uint32_t path_cost = 19; // stp-path-cost (19: 100 Mb/s, 802.1D-1998 table 8-5)
    bool operator==(const StpPortSettings&) const = default;
};

struct StpPortStatus {
    std::uint32_t id = 0;
    std::uint16_t port_id = 0;
    StpState state = StpState::kDisabled;
    StpRole role = StpRole::kDisabled;
    std::uint32_t path_cost = 0;
    std::uint64_t designated_root = 0, designated_bridge = 0;
    std::uint32_t designated_cost = 0;
    std::uint16_t designated_port = 0;
    std::int64_t sec_in_state = 0;
    std::uint64_t tx = 0, rx = 0, errors = 0;
};

struct StpStatus {
    std::uint64_t bridge_id = 0, designated_root = 0;
    std::uint32_t root_path_cost = 0;
    std::optional<std::uint32_t> root_port;  // id
    int hello_s = 0, max_age_s = 0, forward_delay_s = 0;  // in use (the root's)
    int bridge_hello_s = 0, bridge_max_age_s = 0, bridge_forward_delay_s = 0;  // ours
    bool topology_change = false;
    std::uint64_t topology_changes = 0;
    std::vector<StpPortStatus> ports;
};

class Stp {
public:
    static constexpr std::int64_t kHoldTimeMs = 1000;  // 802.1D-1998 table 8-3

    Stp(const StpSettings& s, std::int64_t now);

    // New bridge settings: a changed bridge id restarts the protocol (8.8.4 initialisation).
    void configure(const StpSettings& s, std::int64_t now);
    const StpSettings& settings() const { return cfg_; }

    void addPort(std::uint32_t id, const StpPortSettings& s, bool carrier, std::int64_t now);
    void setPortSettings(std::uint32_t id, const StpPortSettings& s, std::int64_t now);
    void removePort(std::uint32_t id, std::int64_t now);
    bool hasPort(std::uint32_t id) const { return ports_.count(id) > 0; }
    // Carrier of port `id` changed: enable_port / disable_port (8.8.2, 8.8.3).
    void setCarrier(std::uint32_t id, bool up, std::int64_t now);
    // A BPDU arrived on port `id` (8.7.1 Received Configuration BPDU, 8.7.2 Received TCN BPDU).
    void receive(std::uint32_t id, const StpBpdu& bpdu, std::int64_t now);
    // A BPDU that did not parse arrived on port `id` (counted only).
    void receiveError(std::uint32_t id);
    // Timers (8.7.3-8.7.8). Call at least every 100 ms or so.
    void run(std::int64_t now);
    // stp/tcn: a topology change as if one had been detected here (8.6.14).
    void topologyChange(std::int64_t now);
    // BPDUs to send now: (port id, BPDU). Emptied by the call.
    std::vector<std::pair<std::uint32_t, StpBpdu>> transmit();

    StpState state(std::uint32_t id) const;
    // Data frames received on / sent to the port are forwarded (Forwarding, or STP off on it).
    bool forwards(std::uint32_t id) const;
    // Source addresses of frames received on the port are learned (Learning or Forwarding).
    bool learns(std::uint32_t id) const;
    // Bumped whenever some port's forwarding or learning changed.
    std::uint64_t version() const { return version_; }
    // True once after a topology change was detected or first heard from the root.
    bool takeFdbFlush();
    bool isRoot() const { return designated_root_ == bridgeId(); }
    StpStatus status(std::int64_t now) const;

private:
    struct Timer {
        bool active = false;
        std::int64_t value = 0;  // ms since started (Message Age: started at the BPDU's age)
        void start(std::int64_t v = 0) { active = true; value = v; }
        void stop() { active = false; }
        // Advances by `dt`; true (and stopped) when it reaches `limit`.
        bool expired(std::int64_t dt, std::int64_t limit) {
            if (!active) return false;
            value += dt;
            if (value < limit) return false;
            active = false;
            return true;
        }
    };
    struct Port {
        StpPortSettings cfg;
        bool carrier = false;
        StpState state = StpState::kDisabled;
        std::uint64_t designated_root = 0, designated_bridge = 0;
        std::uint32_t designated_cost = 0;
        std::uint16_t designated_port = 0;
        bool tc_ack = false, config_pending = false, change_detection = true;
        Timer message_age, forward_delay, hold;
        std::int64_t state_since = 0;
        std::uint64_t tx = 0, rx = 0, errors = 0;
        std::uint16_t num = 0;  // cfg.port_num, or one chosen by addPort
        std::uint16_t portId() const { return static_cast<std::uint16_t>((cfg.priority << 8) | (num & 0xff)); }
    };

    std::uint64_t bridgeId() const { return cfg_.bridgeId(); }
    bool participates(const Port& p) const { return p.cfg.enable && p.carrier; }
    bool designatedPort(std::uint32_t id, const Port& p) const;
    bool supersedes(const Port& p, const StpConfigBpdu& c) const;
    void initialise(std::int64_t now);
    void initPort(Port& p, std::int64_t now);
    void enablePort(std::uint32_t id, Port& p, std::int64_t now);
    void disablePort(std::uint32_t id, Port& p, std::int64_t now);
    void transmitConfig(std::uint32_t id, Port& p);
    void transmitTcn();
    void configBpduGeneration();
    void configurationUpdate();
    void rootSelection();
    void designatedPortSelection();
    void becomeDesignated(std::uint32_t id, Port& p);
    void portStateSelection(std::int64_t now);
    void makeForwarding(Port& p, std::int64_t now);
    void makeBlocking(Port& p, std::int64_t now);
    void setState(Port& p, StpState s, std::int64_t now);
    void topologyChangeDetection();
    void becameRoot(bool was_root);
    void setTopologyChange(bool on);
    void receiveConfig(std::uint32_t id, Port& p, const StpConfigBpdu& c, std::int64_t now);
    void receiveTcn(std::uint32_t id, Port& p);
    void messageAgeExpiry(std::uint32_t id, Port& p, std::int64_t now);
    void forwardDelayExpiry(Port& p, std::int64_t now);
    std::uint16_t lowestFreePortNum(std::uint32_t except) const;

    StpSettings cfg_;
    std::map<std::uint32_t, Port> ports_;
    std::int64_t last_run_ = 0;
    // Bridge parameters (8.5.3); times in seconds (the root's, once heard).
    std::uint64_t designated_root_ = 0;
    std::uint32_t root_path_cost_ = 0;
    std::optional<std::uint32_t> root_port_;
    std::int64_t max_age_ms_ = 20000, hello_ms_ = 2000, forward_delay_ms_ = 15000;
    bool tc_detected_ = false, topology_change_ = false;
    Timer hello_timer_, tcn_timer_, tc_timer_;
    std::vector<std::pair<std::uint32_t, StpBpdu>> tx_;
    std::uint64_t version_ = 0;
    std::uint64_t topology_changes_ = 0;
    bool fdb_flush_ = false;
};

}  // namespace vs::ofproto
