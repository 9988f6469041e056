#include "datapath/flow_table.h"

#include <algorithm>

namespace vs::dp {

DpFlow* Classifier::lookup(const FlowKey& key) noexcept {
    FlowKey masked;
    for (auto& st : subtables_) {
        applyMask(key, st->mask, masked);
        auto it = st->flows.find(masked);
        if (it != st->flows.end()) {
            ++st->hits;
            return it->second.get();
        }
    }
    return nullptr;
}

DpFlow* Classifier::insert(const FlowKey& key, const FlowKey& mask, ActionList actions, StatsSinks sinks, std::int64_t now) {
    Subtable* st = nullptr;
    for (auto& s : subtables_)
        if (s->mask == mask) { st = s.get(); break; }
    if (!st) {
        subtables_.push_back(std::make_unique<Subtable>());
        st = subtables_.back().get();
        st->mask = mask;
    }
    auto flow = std::make_unique<DpFlow>();
    applyMask(key, mask, flow->key);
    flow->mask = mask;
    flow->actions = std::move(actions);
    flow->sinks = std::move(sinks);
    flow->created_ms = now;
    flow->used_ms.store(now, std::memory_order_relaxed);
    FlowKey k = flow->key;
    auto [it, inserted] = st->flows.try_emplace(k, std::move(flow));
    if (inserted) ++count_;
    return it->second.get();  // an existing identical megaflow is kept (EMC entries stay valid)
}

void Classifier::clear() {
    forEach([](const DpFlow& f) { const_cast<DpFlow&>(f).pushStats(); });
    subtables_.clear();
    count_ = 0;
}

void Classifier::rank() {
    std::stable_sort(subtables_.begin(), subtables_.end(),
                     [](const auto& a, const auto& b) { return a->hits > b->hits; });
    for (auto& st : subtables_) st->hits = 0;
}

}  // namespace vs::dp
