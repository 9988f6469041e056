// Bonds: one port over several interfaces ("members"), with Open vSwitch's bonding modes
// (ovs-vswitchd.conf.db(5), Port "Bonding Configuration") and, optionally, LACP (lacp.h, IEEE
// 802.1AX-2014 section 6.4). NORMAL and the MAC table see a bond as one port; this class decides
// which member a frame leaves by (frame distribution, 802.1AX-2014 section 6.6.1) and whether a
// frame received on a member is admitted (frame collection; Open vSwitch's
// bond_check_admissibility):
//
//   active-backup  every frame leaves by the active member; everything received on another
//                  member is dropped.
//   balance-slb    output by a hash of (source MAC, VLAN) over 256 buckets spread across enabled
//                  members and rebalanced by load every bond-rebalance-interval ms; broadcast and
//                  multicast are admitted on the active member only; a frame whose source MAC was
//                  learned on another port is dropped (it is our own, reflected).
//   balance-tcp    output by a hash of the L3/L4 5-tuple; requires negotiated LACP.
// With LACP, a member is enabled only while LACP lets it collect and distribute; without a
// partner every frame is dropped, unless lacp-fallback-ab makes the bond active-backup.
// Member enabling follows carrier and LACP through bond_updelay / bond_downdelay.
//
// Time is injected (`now`, monotonic ms). Control methods return true when a forwarding decision
// may have changed (the caller then invalidates the datapath's caches).
// Thread-safety: none; ofproto's mutex serialises every call (upcalls and control alike).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "datapath/coverage.h"
#include "datapath/flow_key.h"
#include "datapath/flow_table.h"
#include "ofproto/lacp.h"

namespace vs::ofproto {

enum class BondMode { kActiveBackup, kBalanceSlb, kBalanceTcp };
enum class LacpMode { kOff, kActive, kPassive };
const char* toString(BondMode m);  // "active-backup", "balance-slb", "balance-tcp"
const char* toString(LacpMode m);  // "off", "active", "passive"
std::optional<BondMode> bondModeFromString(std::string_view s);
std::optional<LacpMode> lacpModeFromString(std::string_view s);

struct BondSettings {
    BondMode mode = BondMode::kActiveBackup;
    LacpMode lacp = LacpMode::kOff;
    int updelay_ms = 0;              // bond_updelay
    int downdelay_ms = 0;            // bond_downdelay
    std::string primary;             // other_config:bond-primary (interface name), "" = none
    int rebalance_ms = 10000;        // other_config:bond-rebalance-interval, 0 = never
    bool lacp_fast = false;          // other_config:lacp-time=fast
    bool lacp_fallback_ab = false;   // other_config:lacp-fallback-ab=true
    bool operator==(const BondSettings&) const = default;
};

// Admissibility of a received frame.
struct BondAdmission {
    enum Verdict { kAccept, kDrop, kDropIfMoved } verdict = kAccept;
    dp::Coverage reason = dp::Coverage::drop_bond_inactive_member;  // for kDrop
};

struct BondMemberStatus {
    std::string name;
    std::uint32_t ofport = 0, dp_port = 0;
    bool carrier = false, may_enable = false, enabled = false, active = false;
    std::int64_t delay_ms = -1;  // time left before it is enabled/disabled, -1: no delay running
    std::uint64_t load_bytes = 0;  // recent load of its hash buckets (balance modes)
};

struct BondHashStatus {
    int hash = 0;
    std::string member;
    std::uint64_t load_bytes = 0;   // recent load (halved at every rebalance)
    std::uint64_t total_bytes = 0;  // since the bond was created
};

struct BondStatus {
    std::string name;
    std::string bridge;  // filled in by ofproto
    BondSettings settings;
    BondMode effective_mode = BondMode::kActiveBackup;
    std::string lacp_status;  // "off", "negotiated", "configured" (LACP on, no partner)
    std::optional<std::string> active;
    std::int64_t next_rebalance_ms = -1;
    std::vector<BondMemberStatus> members;
    std::vector<BondHashStatus> hashes;  // buckets that carried traffic
    std::optional<LacpConfig> lacp;
    std::vector<LacpMemberStatus> lacp_members;  // LacpMemberStatus::id = ofport
};

class Bond {
public:
    static constexpr int kBuckets = 256;

    Bond(std::string name, const BondSettings& s, std::int64_t now);

    const std::string& name() const { return name_; }
    const BondSettings& settings() const { return s_; }
    bool configure(const BondSettings& s, std::int64_t now);
    // LACP system identity: the bridge's MAC (IEEE 802.1AX-2014 section 6.3.2).
    bool setSystemId(const dp::MacAddr& mac, std::int64_t now);
    bool addMember(std::uint32_t ofport, std::uint32_t dp_port, const std::string& name, bool carrier,
                   std::int64_t now);
    bool removeMember(std::uint32_t ofport, std::int64_t now);
    bool hasMember(std::uint32_t ofport) const { return members_.count(ofport) > 0; }
    bool setCarrier(std::uint32_t ofport, bool up, std::int64_t now);
    // Timers: up/down delays, LACP machines, rebalancing.
    bool run(std::int64_t now);
    bool receiveLacpdu(std::uint32_t ofport, const Lacpdu& pdu, std::int64_t now);
    // LACPDUs to send now: (member ofport, member dp port, PDU).
    struct LacpTx {
        std::uint32_t ofport, dp_port;
        Lacpdu pdu;
    };
    std::vector<LacpTx> lacpTransmit(std::int64_t now);
    // True once after the active member changed or a member was disabled, when the mode wants
    // gratuitous announcements (active-backup and balance-slb without LACP, as Open vSwitch).
    bool takeLearningPacketsDue();

    // Slow-path decisions. The caller has masked in_port and dl_dst.
    BondAdmission admit(std::uint32_t in_ofport, const dp::FlowKey& key) const;
    // The member (datapath port) a frame of `vlan` leaves by, or nullopt when none may carry it.
    // Adds the hashed fields to `mask` and the bucket's load counter to `sinks`.
    std::optional<std::uint32_t> chooseOutput(const dp::FlowKey& key, std::uint16_t vlan, dp::FlowKey& mask,
                                              dp::StatsSinks* sinks) const;
    // Where a gratuitous announcement for (mac, vlan) goes.
    std::optional<std::uint32_t> learningOutput(const dp::MacAddr& mac, std::uint16_t vlan) const;

    BondMode effectiveMode() const;
    bool lacpEnabled() const { return lacp_ != nullptr; }
    std::optional<std::uint32_t> activeMember() const { return active_; }
    BondStatus status(std::int64_t now) const;

    // The bucket (0..255) of a frame: exposed for tests.
    static int slbBucket(const dp::MacAddr& src, std::uint16_t vlan);
    static int tcpBucket(const dp::FlowKey& key, dp::FlowKey* mask);

private:
    struct Member {
        std::string name;
        std::uint32_t ofport = 0, dp_port = 0;
        bool carrier = false;
        bool enabled = false;
        std::optional<std::int64_t> delay_until;  // up/down delay running
    };
    struct Bucket {
        std::uint32_t member = 0;  // ofport; 0 = none
        std::shared_ptr<dp::StatsSink> sink = std::make_shared<dp::StatsSink>();
        std::uint64_t seen_bytes = 0;  // sink bytes already accounted
        std::uint64_t load = 0;        // recent bytes (exponentially decayed)
    };

    bool mayEnable(const Member& m) const;
    bool updateEnabled(std::int64_t now);
    bool chooseActive();
    void reassignBuckets(const std::vector<std::uint32_t>& newly_enabled);
    bool rebalance();
    void updateLacpConfig(std::int64_t now);
    std::vector<std::uint32_t> enabledMembers() const;
    const Member* member(std::uint32_t ofport) const;

    std::string name_;
    BondSettings s_;
    std::map<std::uint32_t, Member> members_;  // by ofport
    std::optional<std::uint32_t> active_;
    bool learning_due_ = false;
    std::array<Bucket, kBuckets> buckets_;
    std::int64_t next_rebalance_ = 0;
    dp::MacAddr system_id_;
    std::unique_ptr<Lacp> lacp_;
    std::uint64_t lacp_version_ = 0;
};

}  // namespace vs::ofproto
