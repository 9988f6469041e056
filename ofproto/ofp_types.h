// OpenFlow-level values of the flow tables: matches, actions and flow_mods, with OpenFlow 1.3
// semantics (OpenFlow Switch Specification 1.3.5, sections 7.2.3 "Flow Match", 7.2.5 "Action
// Structures", 7.3.4.2 "Modify Flow Entry"), written and read in ovs-ofctl's text syntax by
// ofp_parse.h / ofp_print.h.
//
// Port numbers follow Open vSwitch's 16-bit OpenFlow port space: 1..65279 are ports, the
// reserved ports below have their OpenFlow 1.0 values (what ovs-ofctl prints as LOCAL, NORMAL...).
//
// Thread-safety: value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "datapath/flow_key.h"

namespace vs::ofproto {

inline constexpr std::uint32_t kPortMax = 0xff00;         // highest regular port + 1 (OFPP_MAX)
inline constexpr std::uint32_t kPortInPort = 0xfff8;      // OFPP_IN_PORT
inline constexpr std::uint32_t kPortTable = 0xfff9;       // OFPP_TABLE (packet_out only)
inline constexpr std::uint32_t kPortNormal = 0xfffa;      // OFPP_NORMAL
inline constexpr std::uint32_t kPortFlood = 0xfffb;       // OFPP_FLOOD
inline constexpr std::uint32_t kPortAll = 0xfffc;         // OFPP_ALL
inline constexpr std::uint32_t kPortController = 0xfffd;  // OFPP_CONTROLLER
inline constexpr std::uint32_t kPortLocal = 0xfffe;       // OFPP_LOCAL: the bridge's own port
inline constexpr std::uint32_t kPortNone = 0xffff;        // OFPP_NONE / OFPP_ANY

inline constexpr std::uint8_t kMaxTable = 253;            // tables 0..253
inline constexpr std::uint8_t kTableAll = 0xff;           // OFPTT_ALL (delete/modify/dump)
inline constexpr std::uint16_t kDefaultPriority = 32768;  // OFP_DEFAULT_PRIORITY

// A match: field values and a mask (a 1 bit = that bit must equal). `key.in_port` holds the
// ofport. dl_vlan semantics: "no tag" is vlan_tci == 0 with the CFI bit in the mask.
struct Match {
    dp::FlowKey key{};
    dp::FlowKey mask{};
    std::uint64_t metadata = 0;
    std::uint64_t metadata_mask = 0;

    Match() { key.clear(); mask.clear(); }
    // True when `flow` (an unmasked key; `in_port` as ofport) and `flow_metadata` satisfy it.
    bool matches(const dp::FlowKey& flow, std::uint64_t flow_metadata) const noexcept;
    bool operator==(const Match& o) const noexcept {
        return key == o.key && mask == o.mask && metadata == o.metadata && metadata_mask == o.metadata_mask;
    }
};

// Fields that set_field / mod_* actions write.
enum class Field : std::uint8_t {
    kEthSrc, kEthDst,    // 6 bytes
    kVlanVid, kVlanPcp,  // value
    kIpv4Src, kIpv4Dst,  // value (host order)
    kIpTos,              // nw_tos: the whole TOS byte, low 2 (ECN) bits kept
    kIpTtl,
    kTpSrc, kTpDst,      // TCP/UDP/SCTP ports
    kTunId,
    kMetadata,
    kTunDst,             // tunnel destination (remote VTEP) for flow-based tunnel ports, IPv4 host order
};

enum class ActionType : std::uint8_t {
    kOutput,        // port (a regular port, or kPortInPort/kPortLocal via output:)
    kNormal, kFlood, kAll, kInPort, kLocal,
    kController,    // max_len
    kDrop,          // explicit "drop" (an empty action list drops too)
    kSetVlanVid,    // mod_vlan_vid: value (pushes a tag if none)
    kSetVlanPcp,    // mod_vlan_pcp: value (pushes a tag if none)
    kStripVlan,     // strip_vlan / pop_vlan
    kPushVlan,      // push_vlan:ethertype (value)
    kSetField,      // field + value/bytes (set_field, mod_dl_src, mod_nw_dst, set_tunnel, ...)
    kDecTtl,
    kResubmit,      // resubmit(port,table): port (kPortInPort = keep), table (kTableAll = current)
    kClearActions,  // instruction clear_actions: empties the action set (OpenFlow 1.3 section 5.10)
    kWriteActions,  // instruction write_actions(...): the next `value` actions of the list go into the
                    // action set instead of running now (they are its contents, not apply-actions)
    kGotoTable,     // instruction goto_table:table; always last
    // Egress queues (ofproto/queue.h; docs/qos.md). set_queue:N (OFPAT_SET_QUEUE): value = queue
    // id for the outputs that follow; pop_queue: back to the default queue; enqueue:PORT:N
    // (OpenFlow 1.0 OFPAT_ENQUEUE): output to `port` through queue `value`, the queue then restored.
    kSetQueue, kPopQueue, kEnqueue,
    // group:N (OFPAT_GROUP, OpenFlow 1.3 section 5.6): runs group `value`'s buckets (ofproto/group.h).
    kGroup,
    // Instruction meter:N (OpenFlow 1.3 section 5.7; ofproto/meter.h): value = meter id; always first.
    kMeter,
};

struct Action {
    ActionType type{};
    Field field{};
    std::uint32_t port = 0;
    std::uint8_t table = kTableAll;
    std::uint16_t max_len = 0xffff;  // controller: bytes of the frame to send (OFPCML_NO_BUFFER)
    std::uint64_t value = 0;         // VID, PCP, ethertype, IPv4 address (host order), port, TOS, TTL, tun_id...
    std::array<std::uint8_t, 6> mac{};  // kEthSrc / kEthDst
    bool operator==(const Action&) const = default;
};

using ActionList = std::vector<Action>;

struct FlowMod {
    enum class Command { kAdd, kModify, kModifyStrict, kDelete, kDeleteStrict };
    Command command = Command::kAdd;
    std::uint8_t table = 0;             // kTableAll allowed for modify/delete
    std::uint16_t priority = kDefaultPriority;
    Match match;
    ActionList actions;                 // apply-actions, then clear_actions, write_actions(...), goto_table
    std::uint64_t cookie = 0;
    std::uint64_t cookie_mask = 0;      // modify/delete: only rules whose cookie matches under mask
    std::uint16_t idle_timeout = 0;     // seconds, 0 = none
    std::uint16_t hard_timeout = 0;
    bool send_flow_rem = false;
    std::uint32_t out_port = kPortNone; // delete: only rules that output to this port
    bool reset_counts = false;          // modify: zero the matched rules' counters (OFPFF_RESET_COUNTS)
    std::uint32_t out_group = 0xffffffff;  // delete: only rules whose actions name this group (OFPG_ANY: any)
    bool operator==(const FlowMod&) const = default;
};

// Open vSwitch's default pipeline, the one rule a new bridge has: table 0, priority 0, NORMAL.
inline FlowMod defaultNormalRule() {
    FlowMod normal;
    normal.priority = 0;
    normal.actions.push_back(Action{ActionType::kNormal});
    return normal;
}

}  // namespace vs::ofproto
