// One OpenFlow flow table (OpenFlow 1.3 section 5.3): rules with a priority and a match, looked up
// highest priority first. Lookup is tuple space search: rules are grouped by mask into subtables
// (one hash table each), subtables are kept sorted by the highest priority they hold, and the
// search stops as soon as the best rule found outranks every remaining subtable. Each subtable
// visited contributes its mask to the megaflow mask of the upcall, which is exactly the set of
// fields the lookup depended on.
//
// Thread-safety: none; ofproto's mutex guards every table. Rule counters are atomics that the
// datapath's stats sweep feeds.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "datapath/dpif.h"
#include "ofproto/ofp_types.h"

namespace vs::ofproto {

struct Rule {
    std::uint8_t table = 0;
    std::uint16_t priority = kDefaultPriority;
    Match match;
    ActionList actions;
    std::uint64_t cookie = 0;
    std::uint16_t idle_timeout = 0;
    std::uint16_t hard_timeout = 0;
    bool send_flow_rem = false;
    std::int64_t created_ms = 0;
    // Counters: packets that were translated through this rule (fed by the datapath, ~1 s late).
    std::shared_ptr<dp::StatsSink> stats = std::make_shared<dp::StatsSink>();

    std::int64_t usedMs() const noexcept {
        std::int64_t u = stats->used_ms.load(std::memory_order_relaxed);
        return u > created_ms ? u : created_ms;
    }
};

class OfTable {
public:
    // Best-priority rule matching `flow`/`metadata`, or nullptr. ORs the masks of every subtable it
    // looked in into `wc` (the megaflow mask).
    Rule* lookup(const dp::FlowKey& flow, std::uint64_t metadata, dp::FlowKey& wc) const;
    // Adds `r`; a rule with the same match and priority is replaced (returned so that the caller
    // can report it). OpenFlow 1.3 section 6.4.
    std::shared_ptr<Rule> insert(std::shared_ptr<Rule> r);
    void remove(const Rule* r);
    // Rules whose match is at least as specific as `filter` (non-strict) or identical to it with
    // the same priority (strict). OpenFlow 1.3 section 6.4 "modify/delete".
    std::vector<std::shared_ptr<Rule>> select(const Match& filter, std::uint16_t priority, bool strict) const;
    std::vector<std::shared_ptr<Rule>> all() const;
    std::size_t size() const noexcept { return count_; }
    // Rules with an idle or hard timeout: the periodic expiry scan skips tables without any.
    std::size_t timedRules() const noexcept { return timed_; }

    std::uint64_t lookup_count = 0;   // upcall lookups (cache hits are not lookups)
    std::uint64_t matched_count = 0;

private:
    struct MatchKey {
        dp::FlowKey key;
        std::uint64_t metadata;
        bool operator==(const MatchKey& o) const noexcept { return key == o.key && metadata == o.metadata; }
    };
    struct MatchKeyHash {
        std::size_t operator()(const MatchKey& k) const noexcept { return dp::hashKey(k.key) ^ k.metadata; }
    };
    struct Subtable {
        dp::FlowKey mask;
        std::uint64_t metadata_mask = 0;
        // Rules with the same masked key, highest priority first.
        std::unordered_map<MatchKey, std::vector<std::shared_ptr<Rule>>, MatchKeyHash> rules;  // RuleMap
        std::map<std::uint16_t, std::size_t, std::greater<>> priorities;  // priority -> rule count
        std::uint16_t maxPriority() const { return priorities.empty() ? 0 : priorities.begin()->first; }
    };
    using RuleMap = std::unordered_map<MatchKey, std::vector<std::shared_ptr<Rule>>, MatchKeyHash>;
    Subtable* findSubtable(const Match& m) const;
    void resort();

public:
    // Copy-on-grow. A subtable's hash map rehashes every rule when it grows (tens of ms at 100,000
    // rules), which must not happen while poll threads wait for the lock. The control thread,
    // the only writer of tables, builds the grown map without the lock (prepareGrowth: a copy,
    // O(subtable), only when inserting `more` rules with the mask of `m` would rehash; room for
    // twice as many), then swaps it in under the lock (adopt: O(1)). The old map is freed when
    // the Growth is destroyed, after the lock is released.
    struct Growth {
        Subtable* subtable = nullptr;
        RuleMap map;
    };
    std::optional<Growth> prepareGrowth(const Match& m, std::size_t more) const;
    void adopt(Growth& g) { g.subtable->rules.swap(g.map); }

private:

    std::vector<std::unique_ptr<Subtable>> subtables_;  // by max priority, descending
    std::size_t count_ = 0;
    std::size_t timed_ = 0;
};

// True when `rule` is at least as specific as `filter` (every bit `filter` constrains, `rule`
// constrains to the same value).
bool matchCovers(const Match& filter, const Match& rule) noexcept;
// True when `r` outputs to `port` (kPortNone: any rule), the out_port filter of OpenFlow 1.3
// delete and flow stats requests.
bool outputsTo(const Rule& r, std::uint32_t port);

}  // namespace vs::ofproto
