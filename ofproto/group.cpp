// Control code of the group table (ofproto/group.h): group_mod validation and application.
#include "ofproto/group.h"

#include <algorithm>

namespace vs::ofproto {

namespace {
[[noreturn]] void refuse(GroupError c, const std::string& what) { throw GroupModError(c, what); }
std::string gid(std::uint32_t id) { return "group " + std::to_string(id); }
}  // namespace

std::vector<std::uint32_t> groupsNamed(const ActionList& actions) {
    std::vector<std::uint32_t> out;
    for (const auto& a : actions)
        if (a.type == ActionType::kGroup) out.push_back(static_cast<std::uint32_t>(a.value));
    return out;
}

bool usesGroup(const ActionList& actions, std::uint32_t group) {
    if (group == kGroupAny) return true;
    return std::any_of(actions.begin(), actions.end(),
                       [&](const Action& a) { return a.type == ActionType::kGroup && a.value == group; });
}

std::string_view groupTypeName(GroupType t) {
    switch (t) {
    case GroupType::kAll: return "all";
    case GroupType::kSelect: return "select";
    case GroupType::kIndirect: return "indirect";
    case GroupType::kFastFailover: return "ff";
    }
    return "?";
}

const Group* GroupTable::find(std::uint32_t id) const {
    auto it = groups_.find(id);
    return it == groups_.end() ? nullptr : it->second.get();
}

std::vector<std::shared_ptr<const Group>> GroupTable::all() const {
    std::vector<std::shared_ptr<const Group>> out;
    out.reserve(groups_.size());
    for (const auto& [id, g] : groups_) out.push_back(g);
    return out;
}

bool GroupTable::watches() const noexcept {
    for (const auto& [id, g] : groups_)
        for (const auto& b : g->buckets)
            if (b.watch_port != kWatchPortAny || b.watch_group != kGroupAny) return true;
    return false;
}

std::vector<GroupMod> GroupTable::exportMods() const {
    std::vector<GroupMod> out;
    for (const auto& [id, g] : groups_) out.push_back(GroupMod{GroupMod::Command::kAdd, g->type, id, g->buckets});
    return out;
}

// Checks that need no other group (OpenFlow 1.3.5 section 7.3.4.2 and 5.6.1).
void GroupTable::validate(const GroupMod& gm) const {
    if (static_cast<std::uint8_t>(gm.type) > static_cast<std::uint8_t>(GroupType::kFastFailover))
        refuse(GroupError::kBadType, "group type " + std::to_string(static_cast<int>(gm.type)) + " is not all, select, indirect or fast_failover");
    if (gm.group_id > kGroupMax) refuse(GroupError::kInvalidGroup, gid(gm.group_id) + " is above OFPG_MAX (0xffffff00)");
    if (gm.buckets.size() > kMaxBuckets)
        refuse(GroupError::kOutOfBuckets, gid(gm.group_id) + " has " + std::to_string(gm.buckets.size()) +
                                              " buckets, more than " + std::to_string(kMaxBuckets));
    if (gm.type == GroupType::kIndirect && gm.buckets.size() > 1)  // none: drops (as Open vSwitch)
        refuse(GroupError::kInvalidGroup, "indirect " + gid(gm.group_id) + " may have one bucket, not " +
                                              std::to_string(gm.buckets.size()));
    bool any_weight = false;
    for (std::size_t i = 0; i < gm.buckets.size(); ++i) {
        const Bucket& b = gm.buckets[i];
        std::string where = gid(gm.group_id) + " bucket " + std::to_string(i + 1);
        if (gm.type != GroupType::kSelect && b.weight != 0)
            refuse(GroupError::kInvalidGroup, where + ": weight " + std::to_string(b.weight) + " is only for select groups");
        any_weight |= b.weight != 0;
        if (gm.type == GroupType::kFastFailover && b.watch_port == kWatchPortAny && b.watch_group == kGroupAny)
            refuse(GroupError::kBadWatch, where + ": a fast_failover bucket must watch a port or a group");
        if (b.watch_port != kWatchPortAny && (b.watch_port == 0 || (b.watch_port >= kPortMax && b.watch_port != kPortLocal)))
            refuse(GroupError::kBadWatch, where + ": watch_port " + std::to_string(b.watch_port) + " is not a port");
        if (b.watch_group != kGroupAny && b.watch_group > kGroupMax)
            refuse(GroupError::kBadWatch, where + ": watch_group " + std::to_string(b.watch_group) + " is not a group");
        for (const auto& a : b.actions)
            if (a.type == ActionType::kGotoTable || a.type == ActionType::kWriteActions || a.type == ActionType::kClearActions ||
                (a.type == ActionType::kOutput && a.port == kPortTable))
                refuse(GroupError::kBadBucket, where + ": instructions and output:TABLE are not bucket actions");
    }
    if (gm.type == GroupType::kSelect && !gm.buckets.empty() && !any_weight)
        refuse(GroupError::kWeightUnsupported, "select " + gid(gm.group_id) + ": every bucket has weight 0");
}

// The longest chain of group references from `start`, with group `id`'s buckets replaced by
// `*replaced` (the group being added or modified). Returns > kMaxGroupChain for a loop.
int GroupTable::chainDepth(std::uint32_t id, const std::vector<Bucket>* replaced, std::uint32_t start, int depth) const {
    if (depth > kMaxGroupChain) return depth;
    const std::vector<Bucket>* buckets = nullptr;
    if (start == id) buckets = replaced;
    else if (const Group* g = find(start)) buckets = &g->buckets;
    if (!buckets) return depth;
    int deepest = depth;
    for (const auto& b : *buckets) {
        std::vector<std::uint32_t> next = groupsNamed(b.actions);
        if (b.watch_group != kGroupAny) next.push_back(b.watch_group);
        for (std::uint32_t n : next) {
            if (n == id) return kMaxGroupChain + 1;  // back to the group itself: a loop
            deepest = std::max(deepest, chainDepth(id, replaced, n, depth + 1));
            if (deepest > kMaxGroupChain) return deepest;
        }
    }
    return deepest;
}

void GroupTable::checkChain(std::uint32_t id, const std::vector<Bucket>& buckets) const {
    for (const auto& b : buckets) {
        for (std::uint32_t n : groupsNamed(b.actions))
            if (n != id && !find(n))
                refuse(GroupError::kChainingUnsupported, gid(id) + " chains to " + gid(n) + ", which does not exist");
        if (b.watch_group != kGroupAny && b.watch_group != id && !find(b.watch_group))
            refuse(GroupError::kBadWatch, gid(id) + " watches " + gid(b.watch_group) + ", which does not exist");
    }
    // A group that reaches itself (directly or through others) or a chain over kMaxGroupChain.
    if (chainDepth(id, &buckets, id, 0) > kMaxGroupChain)
        refuse(GroupError::kLoop, gid(id) + ": its buckets would chain back to it (or over " +
                                      std::to_string(kMaxGroupChain) + " groups deep)");
}

std::vector<std::uint32_t> GroupTable::erase(std::uint32_t id) {
    std::vector<std::uint32_t> gone;
    if (id == kGroupAll) {
        for (const auto& [g, _] : groups_) gone.push_back(g);
        groups_.clear();
        return gone;
    }
    if (!groups_.count(id)) return gone;  // deleting a missing group is no error (7.3.4.2)
    for (const auto& [other, g] : groups_) {
        if (other == id) continue;
        for (const auto& b : g->buckets)
            if (usesGroup(b.actions, id) || b.watch_group == id)
                refuse(GroupError::kChainedGroup, gid(id) + " is used by " + gid(other) + "'s buckets");
    }
    groups_.erase(id);
    gone.push_back(id);
    return gone;
}

std::vector<std::uint32_t> GroupTable::apply(const GroupMod& gm, std::int64_t now_ms) {
    using C = GroupMod::Command;
    if (gm.command == C::kDelete) return erase(gm.group_id);
    if (gm.command != C::kAdd && gm.command != C::kModify)
        refuse(GroupError::kBadCommand, "group_mod command " + std::to_string(static_cast<int>(gm.command)) + " is unknown");
    validate(gm);
    auto it = groups_.find(gm.group_id);
    if (gm.command == C::kAdd && it != groups_.end()) refuse(GroupError::kGroupExists, gid(gm.group_id) + " already exists");
    if (gm.command == C::kModify && it == groups_.end()) refuse(GroupError::kUnknownGroup, gid(gm.group_id) + " does not exist");
    if (gm.command == C::kAdd && groups_.size() >= kMaxGroups)
        refuse(GroupError::kOutOfGroups, "the bridge has " + std::to_string(kMaxGroups) + " groups already");
    checkChain(gm.group_id, gm.buckets);
    auto g = std::make_shared<Group>();
    g->id = gm.group_id;
    g->type = gm.type;
    g->buckets = gm.buckets;
    g->created_ms = now_ms;
    for (std::size_t i = 0; i < g->buckets.size(); ++i) g->bucket_stats.push_back(std::make_shared<dp::StatsSink>());
    // A modify keeps the group's counters (Open vSwitch does too); buckets start afresh.
    if (it != groups_.end()) {
        g->stats = it->second->stats;
        g->created_ms = it->second->created_ms;
    }
    groups_[gm.group_id] = std::move(g);
    return {};
}

}  // namespace vs::ofproto
