#include "ofproto/of_table.h"

#include <algorithm>

namespace vs::ofproto {

bool matchCovers(const Match& filter, const Match& rule) noexcept {
    const std::uint64_t* fk = filter.key.words();
    const std::uint64_t* fm = filter.mask.words();
    const std::uint64_t* rk = rule.key.words();
    const std::uint64_t* rm = rule.mask.words();
    for (std::size_t i = 0; i < dp::FlowKey::kWords; ++i)
        if ((rm[i] & fm[i]) != fm[i] || (rk[i] & fm[i]) != fk[i]) return false;
    return (rule.metadata_mask & filter.metadata_mask) == filter.metadata_mask &&
           (rule.metadata & filter.metadata_mask) == filter.metadata;
}

OfTable::Subtable* OfTable::findSubtable(const Match& m) const {
    for (const auto& st : subtables_)
        if (st->mask == m.mask && st->metadata_mask == m.metadata_mask) return st.get();
    return nullptr;
}

void OfTable::resort() {
    std::stable_sort(subtables_.begin(), subtables_.end(),
                     [](const auto& a, const auto& b) { return a->maxPriority() > b->maxPriority(); });
}

Rule* OfTable::lookup(const dp::FlowKey& flow, std::uint64_t metadata, dp::FlowKey& wc) const {
    Rule* best = nullptr;
    for (const auto& st : subtables_) {
        if (best && best->priority >= st->maxPriority()) break;  // nothing left can outrank it
        for (std::size_t i = 0; i < dp::FlowKey::kWords; ++i) wc.words()[i] |= st->mask.words()[i];
        MatchKey k;
        dp::applyMask(flow, st->mask, k.key);
        k.metadata = metadata & st->metadata_mask;
        auto it = st->rules.find(k);
        if (it == st->rules.end()) continue;
        Rule* r = it->second.front().get();
        if (!best || r->priority > best->priority) best = r;
    }
    return best;
}

std::optional<OfTable::Growth> OfTable::prepareGrowth(const Match& m, std::size_t more) const {
    Subtable* st = findSubtable(m);
    if (!st) return std::nullopt;  // a new subtable starts small: nothing to rehash
    const RuleMap& cur = st->rules;
    if (static_cast<double>(cur.size() + more) <= static_cast<double>(cur.bucket_count()) * cur.max_load_factor())
        return std::nullopt;
    Growth g{st, RuleMap{}};
    g.map.max_load_factor(cur.max_load_factor());
    g.map.reserve(2 * (cur.size() + more));
    for (const auto& kv : cur) g.map.insert(kv);
    return g;
}

std::shared_ptr<Rule> OfTable::insert(std::shared_ptr<Rule> r) {
    Subtable* st = findSubtable(r->match);
    if (!st) {
        subtables_.push_back(std::make_unique<Subtable>());
        st = subtables_.back().get();
        st->mask = r->match.mask;
        st->metadata_mask = r->match.metadata_mask;
    }
    auto& bucket = st->rules[MatchKey{r->match.key, r->match.metadata}];
    std::shared_ptr<Rule> replaced;
    auto timed = [](const Rule& x) { return x.idle_timeout || x.hard_timeout; };
    for (auto it = bucket.begin(); it != bucket.end(); ++it) {
        if ((*it)->priority != r->priority) continue;
        replaced = *it;
        timed_ += static_cast<std::size_t>(timed(*r)) - static_cast<std::size_t>(timed(*replaced));
        *it = std::move(r);
        return replaced;
    }
    timed_ += timed(*r);
    auto pos = std::find_if(bucket.begin(), bucket.end(), [&](const auto& x) { return x->priority < r->priority; });
    std::uint16_t old_max = st->maxPriority();
    bool fresh = st->priorities.empty();
    ++st->priorities[r->priority];
    bucket.insert(pos, std::move(r));
    ++count_;
    if (fresh || st->maxPriority() != old_max) resort();
    return nullptr;
}

void OfTable::remove(const Rule* r) {
    Subtable* st = findSubtable(r->match);
    if (!st) return;
    auto it = st->rules.find(MatchKey{r->match.key, r->match.metadata});
    if (it == st->rules.end()) return;
    auto& bucket = it->second;
    auto pos = std::find_if(bucket.begin(), bucket.end(), [&](const auto& x) { return x.get() == r; });
    if (pos == bucket.end()) return;
    std::uint16_t old_max = st->maxPriority();
    if (--st->priorities[r->priority] == 0) st->priorities.erase(r->priority);
    if (r->idle_timeout || r->hard_timeout) --timed_;
    bucket.erase(pos);
    if (bucket.empty()) st->rules.erase(it);
    --count_;
    if (st->rules.empty())
        std::erase_if(subtables_, [st](const auto& s) { return s.get() == st; });
    else if (st->maxPriority() != old_max)
        resort();
}

std::vector<std::shared_ptr<Rule>> OfTable::select(const Match& filter, std::uint16_t priority, bool strict) const {
    std::vector<std::shared_ptr<Rule>> out;
    if (strict) {  // one hash lookup: a rule equal to `filter` sits in its mask's subtable, under its key
        const Subtable* st = findSubtable(filter);
        if (!st) return out;
        auto it = st->rules.find(MatchKey{filter.key, filter.metadata});
        if (it == st->rules.end()) return out;
        for (const auto& r : it->second)
            if (r->priority == priority && r->match == filter) out.push_back(r);
        return out;
    }
    for (const auto& st : subtables_)
        for (const auto& [k, bucket] : st->rules)
            for (const auto& r : bucket) {
                bool hit = strict ? (r->priority == priority && r->match == filter) : matchCovers(filter, r->match);
                if (hit) out.push_back(r);
            }
    return out;
}

std::vector<std::shared_ptr<Rule>> OfTable::all() const {
    std::vector<std::shared_ptr<Rule>> out;
    for (const auto& st : subtables_)
        for (const auto& [k, bucket] : st->rules) out.insert(out.end(), bucket.begin(), bucket.end());
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->priority > b->priority; });
    return out;
}

}  // namespace vs::ofproto
