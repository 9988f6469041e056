// LACP: the Link Aggregation Control Protocol of IEEE 802.1AX-2014 section 6.4, for the members
// of one bond (one aggregator), and the LACPDU codec (section 6.4.2).
//
// Per member ("aggregation port") it runs the Receive machine (6.4.12: CURRENT, EXPIRED,
// DEFAULTED, PORT_DISABLED), the Periodic Transmission machine (6.4.13: fast 1 s / slow 30 s, or
// none when both ends are passive), the Mux machine in its coupled-control form (6.4.15:
// DETACHED, WAITING with the 2 s Aggregate_Wait_Time, ATTACHED, COLLECTING_DISTRIBUTING) and the
// Transmit machine (6.4.16: at most 3 LACPDUs per Fast_Periodic_Time). Selection logic (6.4.14)
// is simplified to one aggregator per bond, as Open vSwitch does: a member is SELECTED when it
// has a partner (CURRENT or EXPIRED) and that partner is the same system and key as the lead
// member's (the one with the best partner priority), and the partner is aggregatable.
// A member carries traffic only in COLLECTING_DISTRIBUTING (mayEnable()); with `fallback_ab`
// every member with carrier may carry traffic while no partner answers (the bond then behaves
// as active-backup).
//
// Time is injected: every call takes `now` in milliseconds from any monotonic origin, so tests
// drive the machines without sleeping. Members are identified by a caller-chosen id (ofproto
// uses the ofport, which is also the LACP port number).
//
// Thread-safety: none; the owning bond (under ofproto's mutex) serialises every call.
// Lifecycle: construct with the bond's settings, add members, then feed carrier changes,
// received LACPDUs and run() ticks; collect LACPDUs to send with transmit().
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

// Slow Protocols (IEEE 802.3 Annex 57A): destination address and Ethertype; LACP is subtype 1.
inline constexpr std::uint16_t kEthTypeSlowProtocols = 0x8809;
inline constexpr std::uint8_t kSlowSubtypeLacp = 1;
inline constexpr dp::MacAddr kSlowProtocolsMac{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02}};
inline constexpr std::size_t kLacpduSize = 110;             // after the Ethertype (section 6.4.2.3)
inline constexpr std::size_t kLacpduFrameSize = 14 + kLacpduSize;

// Actor_State / Partner_State bits (section 6.4.2.3 items k and t).
enum LacpStateBit : std::uint8_t {
    kLacpActivity = 0x01,       // active LACP (else passive)
    kLacpTimeout = 0x02,        // short timeout: wants LACPDUs every second (else every 30 s)
    kLacpAggregation = 0x04,    // aggregatable (else individual)
    kLacpSync = 0x08,           // in sync: attached to the right aggregator
    kLacpCollecting = 0x10,
    kLacpDistributing = 0x20,
    kLacpDefaulted = 0x40,      // using default partner information
    kLacpExpired = 0x80,        // receive machine in EXPIRED
};
// "activity timeout aggregation synchronized collecting distributing defaulted expired" (set bits).
std::string formatLacpState(std::uint8_t state);

// One Actor or Partner Information TLV (section 6.4.2.3).
struct LacpPortInfo {
    std::uint16_t system_priority = 0;
    dp::MacAddr system;
    std::uint16_t key = 0;
    std::uint16_t port_priority = 0;
    std::uint16_t port = 0;
    std::uint8_t state = 0;
    bool operator==(const LacpPortInfo&) const = default;
    // Equal apart from the state bits: the same port of the same system and key.
    bool sameIdentity(const LacpPortInfo& o) const {
        return system_priority == o.system_priority && system == o.system && key == o.key &&
               port_priority == o.port_priority && port == o.port;
    }
};

struct Lacpdu {
    std::uint8_t version = 1;
    LacpPortInfo actor, partner;
    std::uint16_t collector_max_delay = 0;
};

// Parses an LACPDU frame (Ethernet header included, untagged). Accepts what Open vSwitch and the
// standard's validation accept: at least 110 octets after the Ethertype, subtype 1, an Actor TLV
// (type 1, length 20) and a Partner TLV (type 2, length 20); version and reserved fields are not
// checked (section 6.4.2.4). Returns nullopt and the reason in `why` otherwise.
std::optional<Lacpdu> parseLacpdu(std::span<const std::uint8_t> frame, std::string* why = nullptr);
// Builds a 124-byte LACPDU frame (version 1) from `src` to the Slow_Protocols_Multicast address.
std::vector<std::uint8_t> buildLacpdu(const dp::MacAddr& src, const Lacpdu& pdu);

struct LacpConfig {
    bool active = true;                 // lacp=active (else passive)
    bool fast = false;                  // other_config:lacp-time=fast: our Timeout bit (short)
    bool fallback_ab = false;           // other_config:lacp-fallback-ab
    std::uint16_t system_priority = 65534;
    dp::MacAddr system;                 // the bridge's MAC
    std::uint16_t key = 1;
    bool operator==(const LacpConfig&) const = default;
};

enum class LacpRxState { kInitialize, kPortDisabled, kExpired, kDefaulted, kCurrent };
enum class LacpMuxState { kDetached, kWaiting, kAttached, kCollectingDistributing };
enum class LacpPeriodic { kNone, kFast, kSlow };
const char* toString(LacpRxState s);
const char* toString(LacpMuxState s);

// One member as lacp/show reports it.
struct LacpMemberStatus {
    std::uint32_t id = 0;
    LacpPortInfo actor, partner;
    LacpRxState rx = LacpRxState::kInitialize;
    LacpMuxState mux = LacpMuxState::kDetached;
    LacpPeriodic periodic = LacpPeriodic::kNone;
    bool port_enabled = false;
    bool selected = false;
    bool may_enable = false;
    std::uint64_t rx_pdus = 0, tx_pdus = 0;
};

class Lacp {
public:
    // Timer constants of section 6.4.4, in milliseconds.
    static constexpr std::int64_t kFastPeriodicMs = 1000;
    static constexpr std::int64_t kSlowPeriodicMs = 30000;
    static constexpr std::int64_t kShortTimeoutMs = 3000;
    static constexpr std::int64_t kLongTimeoutMs = 90000;
    static constexpr std::int64_t kAggregateWaitMs = 2000;
    static constexpr int kMaxTxPerFastPeriod = 3;
    static constexpr std::uint16_t kDefaultPortPriority = 65535;

    explicit Lacp(const LacpConfig& cfg) : cfg_(cfg) {}

    // Changes the settings (system id, key, activity, timeout); members renegotiate as needed.
    void configure(const LacpConfig& cfg, std::int64_t now);
    const LacpConfig& config() const { return cfg_; }

    // Adds member `id` (LACP port number `port`, priority `priority`); `enabled` is its carrier.
    void addMember(std::uint32_t id, std::uint16_t port, std::uint16_t priority, bool enabled, std::int64_t now);
    void removeMember(std::uint32_t id, std::int64_t now);
    // Port_Enabled (carrier) of member `id` changed.
    void setPortEnabled(std::uint32_t id, bool enabled, std::int64_t now);
    // A valid LACPDU arrived on member `id` (Receive machine, CURRENT state entry).
    void receive(std::uint32_t id, const Lacpdu& pdu, std::int64_t now);
    // Timers: current_while, wait_while, periodic. Call at least every 100 ms or so.
    void run(std::int64_t now);
    // LACPDUs the Transmit machine sends now: (member id, PDU).
    std::vector<std::pair<std::uint32_t, Lacpdu>> transmit(std::int64_t now);

    // Whether member `id` may carry traffic: COLLECTING_DISTRIBUTING, or (fallback_ab and no
    // partner on any member) carrier.
    bool mayEnable(std::uint32_t id) const;
    // Some enabled member has a partner (a LACPDU arrived, and it is CURRENT or EXPIRED since):
    // Open vSwitch's "negotiated".
    bool negotiated() const;
    // Bumped whenever any member's mayEnable() or negotiated() may have changed.
    std::uint64_t version() const { return version_; }
    std::vector<LacpMemberStatus> status() const;

private:
    struct Member {
        std::uint16_t port = 0, priority = kDefaultPortPriority;
        bool enabled = false;  // Port_Enabled
        LacpRxState rx = LacpRxState::kInitialize;
        LacpMuxState mux = LacpMuxState::kDetached;
        LacpPeriodic periodic = LacpPeriodic::kNone;
        bool selected = false;
        bool ntt = false;
        bool defaulted = true;  // Actor_Oper_Port_State.Defaulted
        LacpPortInfo partner;
        LacpPortInfo last_actor;     // what the partner was last told (a change sets NTT)
        bool last_may_enable = false;
        std::int64_t current_while = 0, wait_while = 0, periodic_at = 0;  // deadlines (0: stopped)
        std::vector<std::int64_t> tx_times;  // sends within the last Fast_Periodic_Time
        std::uint64_t rx_pdus = 0, tx_pdus = 0;
    };

    static bool hasPartner(const Member& m);
    LacpPortInfo actorInfo(const Member& m) const;
    void recordDefault(Member& m);
    void enterExpired(Member& m, std::int64_t now);
    void runReceive(Member& m, std::int64_t now);
    void runSelection();
    void runMux(Member& m, std::int64_t now);
    void runPeriodic(Member& m, std::int64_t now);
    void step(std::int64_t now);

    LacpConfig cfg_;
    std::map<std::uint32_t, Member> members_;
    std::uint64_t version_ = 0;
    bool last_negotiated_ = false;
};

}  // namespace vs::ofproto
