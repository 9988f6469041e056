// OpenFlow 1.3 groups (OpenFlow 1.3.5 sections 7.3.4.2, 7.3.5.9-11) in the switch's answers:
// group_mod onto ofproto's group table (ofproto/group.h), and the group, group_desc and
// group_features multiparts.
#include <algorithm>

#include "datapath/clock.h"
#include "vswitchd/of13_convert.h"
#include "vswitchd/of13_handler.h"

namespace vs::vswitchd {
namespace {

namespace of13 = protocol::of13;
using of13conv::Refusal;

[[noreturn]] void refuse(std::uint16_t type, std::uint16_t c, std::string message) {
    throw Refusal{type, c, std::move(message)};
}

// A bucket's watch_port: OFPP_ANY stays "none"; anything else must be a port number
// (OFPGMFC_BAD_WATCH otherwise).
std::uint32_t watchPort(std::uint32_t p) {
    if (p == of13::kPortAny) return ofproto::kWatchPortAny;
    return of13conv::toOfport(p, of13::kGroupModFailed, static_cast<std::uint16_t>(ofproto::GroupError::kBadWatch));
}

ofproto::GroupMod toGroupMod(const of13::GroupMod& gm) {
    ofproto::GroupMod out;
    out.command = static_cast<ofproto::GroupMod::Command>(gm.command);
    out.type = static_cast<ofproto::GroupType>(gm.type);
    out.group_id = gm.group_id;
    for (const auto& b : gm.buckets) {
        ofproto::Bucket ob;
        ob.weight = b.weight;
        ob.watch_port = watchPort(b.watch_port);
        ob.watch_group = b.watch_group;
        ob.actions = of13conv::toActions(b.actions, false);  // Refusal: BAD_ACTION (7.4.4)
        out.buckets.push_back(std::move(ob));
    }
    return out;
}

std::vector<of13::Bucket> fromBuckets(const std::vector<ofproto::Bucket>& buckets) {
    std::vector<of13::Bucket> out;
    for (const auto& b : buckets) {
        of13::Bucket w;
        w.weight = b.weight;
        w.watch_port = b.watch_port == ofproto::kWatchPortAny ? of13::kPortAny : of13conv::fromOfport(b.watch_port);
        w.watch_group = b.watch_group;
        // Bucket actions are one apply-actions list.
        for (const auto& in : of13conv::fromActions(b.actions, 0))
            if (in.type == of13::InstructionType::kApplyActions) w.actions = in.actions;
        out.push_back(std::move(w));
    }
    return out;
}

}  // namespace

void Of13Handler::groupMod(const std::string& bridge, const of13::GroupMod& gm) {
    if (gm.command == of13::kGcDelete && gm.group_id != of13::kGroupAllId && gm.group_id > of13::kGroupMaxId)
        refuse(of13::kGroupModFailed, static_cast<std::uint16_t>(ofproto::GroupError::kInvalidGroup),
               "group " + std::to_string(gm.group_id) + " is above OFPG_MAX and not OFPG_ALL");
    if (gm.command != of13::kGcDelete && gm.group_id > of13::kGroupMaxId)
        refuse(of13::kGroupModFailed, static_cast<std::uint16_t>(ofproto::GroupError::kInvalidGroup),
               "group " + std::to_string(gm.group_id) + " is above OFPG_MAX");
    ofproto::GroupMod mod = toGroupMod(gm);
    try {
        of_.applyGroupMod(bridge, mod, true);
    } catch (const ofproto::GroupModError& e) {
        refuse(of13::kGroupModFailed, static_cast<std::uint16_t>(e.code), e.what());
    }
}

std::vector<of13::GroupStats> Of13Handler::groupStats(const std::string& bridge, std::uint32_t group_id) const {
    auto refs = of_.groupRefCounts(bridge);
    std::int64_t now = dp::monotonicMs();
    std::vector<of13::GroupStats> out;
    auto ld = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
    for (const auto& g : of_.groups(bridge)) {
        if (group_id != of13::kGroupAny && group_id != of13::kGroupAllId && group_id != g->id) continue;
        of13::GroupStats s;
        s.group_id = g->id;
        s.ref_count = refs.count(g->id) ? refs[g->id] : 0;
        s.packet_count = ld(g->stats->packets);
        s.byte_count = ld(g->stats->bytes);
        std::int64_t age = std::max<std::int64_t>(0, now - g->created_ms);
        s.duration_sec = static_cast<std::uint32_t>(age / 1000);
        s.duration_nsec = static_cast<std::uint32_t>(age % 1000 * 1000000);
        for (const auto& b : g->bucket_stats) s.buckets.push_back({ld(b->packets), ld(b->bytes)});
        out.push_back(std::move(s));
    }
    if (group_id != of13::kGroupAny && group_id != of13::kGroupAllId && out.empty())  // OVS: UNKNOWN_GROUP
        refuse(of13::kGroupModFailed, static_cast<std::uint16_t>(ofproto::GroupError::kUnknownGroup),
               "bridge " + bridge + " has no group " + std::to_string(group_id));
    return out;
}

std::vector<of13::GroupDesc> Of13Handler::groupDescs(const std::string& bridge) const {
    std::vector<of13::GroupDesc> out;
    for (const auto& g : of_.groups(bridge)) out.push_back({static_cast<std::uint8_t>(g->type), g->id, fromBuckets(g->buckets)});
    return out;
}

// What groups support (7.3.5.11): every type; select weights, liveness, chaining; the actions a
// bucket may hold (those of tableFeatures in of13_handler.cpp).
of13::GroupFeatures Of13Handler::groupFeatures() {
    of13::GroupFeatures f;
    f.types = 0xf;                      // all, select, indirect, fast_failover
    f.capabilities = 1 | 2 | 4;         // OFPGFC_SELECT_WEIGHT | SELECT_LIVENESS | CHAINING (no CHAINING_CHECKS)
    std::uint32_t actions = 0;
    for (int a : {0, 17, 18, 21, 22, 23, 24, 25}) actions |= 1u << a;  // output, push/pop_vlan, set_queue, group, set/dec_nw_ttl, set_field
    for (int t = 0; t < 4; ++t) {
        f.max_groups[static_cast<std::size_t>(t)] = static_cast<std::uint32_t>(ofproto::kMaxGroups);
        f.actions[static_cast<std::size_t>(t)] = actions;
    }
    return f;
}

}  // namespace vs::vswitchd
