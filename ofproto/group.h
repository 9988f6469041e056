// OpenFlow groups (OpenFlow Switch Specification 1.3.5, section 5.6 "Group Table" and 7.3.4.2
// "Modify Group Entry"): one bridge's group table, its validation of group_mods with the errors
// the spec names (ofp_group_mod_failed_code), and the group and bucket counters.
//
// Types (as Open vSwitch implements them):
//   all            every bucket runs on its own copy of the packet (flooding, multicast);
//   select         one live bucket of non-zero weight, chosen by a symmetric hash of the flow's
//                  L2-L4 fields (Open vSwitch's default, "hash of the 5-tuple" without dp_hash);
//                  the hashed fields are un-wildcarded in the megaflow (group_xlate.cpp);
//   indirect       one bucket (a shared next hop; none: drop, as Open vSwitch allows);
//   fast_failover  the first bucket whose watch_port is live (carrier up, not blocked by STP) or
//                  whose watch_group has a live bucket.
// Buckets hold action lists (output, set_field, push/pop_vlan, group: chaining is allowed; a
// chain that would loop is refused with OFPGMFC_LOOP).
//
// The translation of a group (which buckets run) is Ofproto's (group_xlate.cpp), which holds one
// GroupTable per bridge.
//
// Thread-safety: a value held in an Ofproto bridge, under Ofproto's mutex; only the control thread
// changes it. The counters (dp::StatsSink) are fed by poll threads through the megaflows that
// carried packets through the group, as rule counters are (about a second late).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "datapath/flow_table.h"
#include "ofproto/ofp_types.h"

namespace vs::ofproto {

inline constexpr std::uint32_t kGroupMax = 0xffffff00;  // OFPG_MAX: highest regular group id
inline constexpr std::uint32_t kGroupAll = 0xfffffffc;  // OFPG_ALL (delete every group)
inline constexpr std::uint32_t kGroupAny = 0xffffffff;  // OFPG_ANY (no group; watch_group unset)
inline constexpr std::uint32_t kWatchPortAny = 0xffffffff;  // OFPP_ANY as a bucket's watch_port
inline constexpr std::size_t kMaxGroups = 65536;          // per bridge (group_features max_groups)
inline constexpr std::size_t kMaxBuckets = 1024;          // per group
inline constexpr int kMaxGroupChain = 32;                 // group -> group -> ... depth

enum class GroupType : std::uint8_t { kAll = 0, kSelect = 1, kIndirect = 2, kFastFailover = 3 };

struct Bucket {
    std::uint16_t weight = 0;                   // select only (0: never chosen)
    std::uint32_t watch_port = kWatchPortAny;   // fast_failover: ofport (16-bit space) or kWatchPortAny
    std::uint32_t watch_group = kGroupAny;      // fast_failover
    ActionList actions;
    bool operator==(const Bucket&) const = default;
};

struct GroupMod {
    enum class Command : std::uint8_t { kAdd = 0, kModify = 1, kDelete = 2 };  // OFPGC_*
    Command command = Command::kAdd;
    GroupType type = GroupType::kAll;
    std::uint32_t group_id = 0;
    std::vector<Bucket> buckets;
    bool operator==(const GroupMod&) const = default;
};

// ofp_group_mod_failed_code (OpenFlow 1.3.5 section 7.4.4).
enum class GroupError : std::uint16_t {
    kGroupExists = 0, kInvalidGroup = 1, kWeightUnsupported = 2, kOutOfGroups = 3, kOutOfBuckets = 4,
    kChainingUnsupported = 5, kWatchUnsupported = 6, kLoop = 7, kUnknownGroup = 8, kChainedGroup = 9,
    kBadType = 10, kBadCommand = 11, kBadBucket = 12, kBadWatch = 13, kEperm = 14,
};
// A refused group_mod: its OFPGMFC code and what was wrong.
struct GroupModError : std::invalid_argument {
    GroupError code;
    GroupModError(GroupError c, const std::string& what) : std::invalid_argument(what), code(c) {}
};

// A flow_mod whose actions name a group the bridge does not have (OFPBAC_BAD_OUT_GROUP).
struct UnknownGroupError : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

struct Group {
    std::uint32_t id = 0;
    GroupType type = GroupType::kAll;
    std::vector<Bucket> buckets;
    std::int64_t created_ms = 0;
    std::shared_ptr<dp::StatsSink> stats = std::make_shared<dp::StatsSink>();
    std::vector<std::shared_ptr<dp::StatsSink>> bucket_stats;  // one per bucket
};

class GroupTable {
public:
    // Applies `gm` (section 6.5, 7.3.4.2) at time `now_ms`. Throws GroupModError: add of an
    // existing id (GROUP_EXISTS), modify of a missing one (UNKNOWN_GROUP), an id above OFPG_MAX
    // (INVALID_GROUP), an indirect group with more than one bucket or a weight outside select
    // (INVALID_GROUP), a select group whose weights are all 0 (WEIGHT_UNSUPPORTED),
    // fast_failover buckets that watch nothing (BAD_WATCH), too many groups/buckets
    // (OUT_OF_GROUPS/OUT_OF_BUCKETS), a bucket action naming a missing group
    // (CHAINING_UNSUPPORTED), a chain that loops or is over kMaxGroupChain deep (LOOP), delete of a
    // group another group's bucket chains to (CHAINED_GROUP). Delete of a missing group is no
    // error. Returns the ids of the groups deleted (the caller deletes the rules that use them).
    std::vector<std::uint32_t> apply(const GroupMod& gm, std::int64_t now_ms);
    const Group* find(std::uint32_t id) const;
    std::vector<std::shared_ptr<const Group>> all() const;  // by id
    bool empty() const noexcept { return groups_.empty(); }
    std::size_t size() const noexcept { return groups_.size(); }
    // Whether any bucket watches a port or a group (liveness changes then invalidate megaflows).
    bool watches() const noexcept;
    // Every group as the add group_mod that recreates it (persistence).
    std::vector<GroupMod> exportMods() const;

private:
    void validate(const GroupMod& gm) const;
    void checkChain(std::uint32_t id, const std::vector<Bucket>& buckets) const;
    int chainDepth(std::uint32_t id, const std::vector<Bucket>* replaced, std::uint32_t start, int depth) const;
    std::vector<std::uint32_t> erase(std::uint32_t id);

    std::map<std::uint32_t, std::shared_ptr<Group>> groups_;
};

// The group ids a bucket's or a rule's action list names (group:N actions).
std::vector<std::uint32_t> groupsNamed(const ActionList& actions);
// True when `r`'s actions include group:`group` (kGroupAny: any rule), the out_group filter of
// flow_mod delete and flow stats (OpenFlow 1.3.5 section 7.3.4.2).
bool usesGroup(const ActionList& actions, std::uint32_t group);
std::string_view groupTypeName(GroupType t);  // "all", "select", "indirect", "ff"

}  // namespace vs::ofproto
