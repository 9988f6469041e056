// The datapath flow cache of one poll thread: a megaflow classifier (tuple space search: one
// hash table per distinct mask, subtables tried in order of hits) and an exact-match cache (EMC)
// in front of it.
//
// Megaflows installed by the slow path never overlap in what they decide (each mask covers every
// field translation examined), so the first subtable that matches gives the answer.
//
// Thread-safety: owned by one poll thread; no locking. Flow counters are relaxed atomics so that
// other threads may read them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "datapath/actions.h"
#include "datapath/flow_key.h"

namespace vs::dp {

// Counters that the slow path attaches to the megaflows it installs (for example an OpenFlow
// rule's packet and byte counts). The owning poll thread adds each flow's traffic to its sinks
// about once a second and before the flow is removed; any thread may read them.
struct StatsSink {
    std::atomic<std::uint64_t> packets{0}, bytes{0};
    std::atomic<std::int64_t> used_ms{0};
    void add(std::uint64_t p, std::uint64_t b, std::int64_t used) noexcept {
        packets.fetch_add(p, std::memory_order_relaxed);
        bytes.fetch_add(b, std::memory_order_relaxed);
        std::int64_t u = used_ms.load(std::memory_order_relaxed);
        while (used > u && !used_ms.compare_exchange_weak(u, used, std::memory_order_relaxed)) {}
    }
};
using StatsSinks = std::vector<std::shared_ptr<StatsSink>>;

struct DpFlow {
    FlowKey key;   // already masked
    FlowKey mask;
    ActionList actions;
    std::int64_t created_ms = 0;
    std::atomic<std::uint64_t> packets{0}, bytes{0};
    std::atomic<std::int64_t> used_ms{0};
    StatsSinks sinks;
    bool report_used = false;            // UpcallHandler::upcall asked to hear when it is used
    std::uint64_t packets_at_sweep = 0;  // owner-thread bookkeeping for the periodic sweep
    std::uint64_t packets_pushed = 0;    // traffic already added to the sinks
    std::uint64_t bytes_pushed = 0;

    // Adds the traffic since the last push to every sink. Owner thread only.
    void pushStats() noexcept {
        std::uint64_t p = packets.load(std::memory_order_relaxed), b = bytes.load(std::memory_order_relaxed);
        if (p == packets_pushed) return;
        for (auto& s : sinks) s->add(p - packets_pushed, b - bytes_pushed, used_ms.load(std::memory_order_relaxed));
        packets_pushed = p;
        bytes_pushed = b;
    }

    void hit(std::uint32_t len, std::int64_t now) noexcept {
        packets.store(packets.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        bytes.store(bytes.load(std::memory_order_relaxed) + len, std::memory_order_relaxed);
        used_ms.store(now, std::memory_order_relaxed);
    }
};

class Classifier {
public:
    // Finds the megaflow matching `key`, or nullptr. Per-packet; no allocation.
    DpFlow* lookup(const FlowKey& key) noexcept;
    // Installs a megaflow; `key` is masked here. Returns the installed flow, or the existing one
    // when a flow with the same masked key and mask is already there (it is kept).
    DpFlow* insert(const FlowKey& key, const FlowKey& mask, ActionList actions, StatsSinks sinks, std::int64_t now);
    // Removes every flow for which pred(flow) is true; returns how many.
    template <typename Pred>
    std::size_t removeIf(Pred pred);
    void clear();
    std::size_t size() const noexcept { return count_; }
    std::size_t subtables() const noexcept { return subtables_.size(); }
    // Re-sorts subtables by hits since the last call (most hits first).
    void rank();
    template <typename F>
    void forEach(F f) const {
        for (const auto& st : subtables_)
            for (const auto& [k, fl] : st->flows) f(*fl);
    }

private:
    struct KeyHash {
        std::size_t operator()(const FlowKey& k) const noexcept { return hashKey(k); }
    };
    struct Subtable {
        FlowKey mask;
        std::unordered_map<FlowKey, std::unique_ptr<DpFlow>, KeyHash> flows;
        std::uint64_t hits = 0;
    };
    std::vector<std::unique_ptr<Subtable>> subtables_;
    std::size_t count_ = 0;
};

template <typename Pred>
std::size_t Classifier::removeIf(Pred pred) {
    std::size_t n = 0;
    for (auto& st : subtables_) {
        for (auto it = st->flows.begin(); it != st->flows.end();) {
            if (pred(*it->second)) { it = st->flows.erase(it); ++n; } else { ++it; }
        }
    }
    std::erase_if(subtables_, [](const auto& st) { return st->flows.empty(); });
    count_ -= n;
    return n;
}

// Direct-mapped exact-match cache keyed by the full FlowKey.
class ExactMatchCache {
public:
    static constexpr std::size_t kEntries = 8192;
    ExactMatchCache() : entries_(std::make_unique<Entry[]>(kEntries)) {}
    DpFlow* lookup(const FlowKey& key, std::uint64_t hash) const noexcept {
        const Entry& e = entries_[hash & (kEntries - 1)];
        return (e.flow && e.hash == hash && e.key == key) ? e.flow : nullptr;
    }
    void insert(const FlowKey& key, std::uint64_t hash, DpFlow* flow) noexcept {
        Entry& e = entries_[hash & (kEntries - 1)];
        e.key = key;
        e.hash = hash;
        e.flow = flow;
    }
    void clear() noexcept {
        for (std::size_t i = 0; i < kEntries; ++i) entries_[i].flow = nullptr;
    }

private:
    struct Entry {
        FlowKey key;
        std::uint64_t hash = 0;
        DpFlow* flow = nullptr;
    };
    std::unique_ptr<Entry[]> entries_;
};

}  // namespace vs::dp
