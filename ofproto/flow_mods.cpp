// Control code of the flow tables: flow_mod (OpenFlow 1.3 section 6.4), timeouts, introspection.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "ofproto/ofproto.h"

namespace vs::ofproto {

namespace {
bool cookieMatches(const Rule& r, const FlowMod& fm) {
    return (r.cookie & fm.cookie_mask) == (fm.cookie & fm.cookie_mask);
}
}  // namespace

bool outputsTo(const Rule& r, std::uint32_t port) {
    if (port == kPortNone) return true;
    for (const auto& a : r.actions) {
        if ((a.type == ActionType::kOutput || a.type == ActionType::kEnqueue) && a.port == port) return true;
        if ((a.type == ActionType::kLocal && port == kPortLocal) || (a.type == ActionType::kInPort && port == kPortInPort))
            return true;
    }
    return false;
}

namespace {
bool isAddLike(FlowMod::Command c) { return c == FlowMod::Command::kAdd; }
}  // namespace

void Ofproto::validateFlowMod(const FlowMod& fm) {
    if (fm.table > kMaxTable && !(fm.table == kTableAll && !isAddLike(fm.command)))
        throw std::invalid_argument("table " + std::to_string(fm.table) + " is outside 0.." + std::to_string(kMaxTable));
    for (const auto& a : fm.actions) {
        if (a.type == ActionType::kGotoTable && fm.table != kTableAll && (a.table <= fm.table || a.table > kMaxTable))
            throw std::invalid_argument("goto_table:" + std::to_string(a.table) + " must name a later table than " +
                                        std::to_string(fm.table) + " (OpenFlow 1.3 section 5.1)");
        if (a.type == ActionType::kResubmit && a.table != kTableAll && a.table > kMaxTable)
            throw std::invalid_argument("resubmit table " + std::to_string(a.table) + " is outside 0..253");
    }
}

std::size_t Ofproto::applyFlowMod(Bridge& br, const FlowMod& fm) {
    using C = FlowMod::Command;
    if (fm.command == C::kAdd) {
        auto r = std::make_shared<Rule>();
        r->table = fm.table;
        r->priority = fm.priority;
        r->match = fm.match;
        r->actions = fm.actions;
        r->cookie = fm.cookie;
        r->idle_timeout = fm.idle_timeout;
        r->hard_timeout = fm.hard_timeout;
        r->send_flow_rem = fm.send_flow_rem;
        r->created_ms = clock_();
        br.table(fm.table).insert(std::move(r));
        return 1;
    }
    bool strict = fm.command == C::kModifyStrict || fm.command == C::kDeleteStrict;
    bool del = fm.command == C::kDelete || fm.command == C::kDeleteStrict;
    std::size_t n = 0;
    for (std::size_t t = 0; t < br.tables.size(); ++t) {
        if (!br.tables[t] || (fm.table != kTableAll && fm.table != t)) continue;
        for (auto& r : br.tables[t]->select(fm.match, fm.priority, strict)) {
            if (!cookieMatches(*r, fm) || (del && !outputsTo(*r, fm.out_port))) continue;
            if (del && !usesGroup(r->actions, fm.out_group)) continue;  // out_group filter (group.h)
            if (del) {
                br.tables[t]->remove(r.get());
                noteRemoved(br, r, RemovedReason::kDelete);
            } else {
                r->actions = fm.actions;
                if (fm.reset_counts) {  // OpenFlow 1.3 section 6.4: OFPFF_RESET_COUNTS on modify
                    r->stats->packets.store(0, std::memory_order_relaxed);
                    r->stats->bytes.store(0, std::memory_order_relaxed);
                }
            }
            ++n;
        }
    }
    return n;
}

// All or nothing: every mod is validated before any is applied (validation reads no switch state,
// so it runs without the lock). The mods are applied kApplyChunk per hold of the lock, and poll
// threads waiting for it go first (priority_mutex.h), so an upcall waits for one chunk at most,
// not for the batch (bench/fastpath/upcall_latency.cpp: 100,000 rules in one hold kept them
// waiting ~150 ms). A subtable that a chunk would make rehash is grown before the lock is taken
// (OfTable::prepareGrowth). Packets translated meanwhile may see part of the batch, as with
// ovs-ofctl, which sends the flows one by one; each chunk invalidates the megaflows computed
// before it. Only the control thread changes rules and bridges, so nothing else changes the
// bridge between chunks, and it may read them without the lock.
std::size_t Ofproto::applyFlowMods(const std::string& bridge, const std::vector<FlowMod>& mods, FlowLog log) {
    constexpr std::size_t kApplyChunk = 64;
    {
        std::lock_guard lk(mu_);
        checkGroupsExist(bridgeOrThrow(bridge), mods);  // UnknownGroupError (ofproto_group.cpp)
    }
    for (const auto& fm : mods) validateFlowMod(fm);
    std::size_t n = 0;
    std::size_t first = 0;
    do {  // at least once: an empty batch still bumps the version, as it always did
        std::size_t last = std::min(mods.size(), first + kApplyChunk);
        std::vector<std::pair<OfTable*, OfTable::Growth>> growths = prepareGrowths(bridge, mods, first, last);
        std::lock_guard lk(mu_);
        Bridge& br = bridgeOrThrow(bridge);
        for (auto& [table, g] : growths) table->adopt(g);
        for (std::size_t i = first; i < last; ++i) {
            n += applyFlowMod(br, mods[i]);
            if (log == FlowLog::kOn) flow_log_.push_back(LoggedFlowMod{bridge, mods[i]});
        }
        invalidateBridge(br);  // flows never cross bridges (no patch ports): the others stay cached
        first = last;
    } while (first < mods.size());  // (the old maps of `growths` are freed before the next lock)
    return n;
}

// Control thread, without the lock (the only writer of tables; see applyFlowMods).
std::vector<std::pair<OfTable*, OfTable::Growth>> Ofproto::prepareGrowths(const std::string& bridge,
                                                                          const std::vector<FlowMod>& mods,
                                                                          std::size_t first, std::size_t last) const {
    std::vector<std::pair<OfTable*, OfTable::Growth>> out;
    auto b = bridges_.find(bridge);
    if (b == bridges_.end()) return out;
    std::map<std::pair<std::uint8_t, std::string>, std::pair<const Match*, std::size_t>> adds;
    for (std::size_t i = first; i < last; ++i) {
        const FlowMod& fm = mods[i];
        if (fm.command != FlowMod::Command::kAdd) continue;
        std::string mask(reinterpret_cast<const char*>(&fm.match.mask), sizeof fm.match.mask);
        mask.append(reinterpret_cast<const char*>(&fm.match.metadata_mask), sizeof fm.match.metadata_mask);
        auto& e = adds[{fm.table, mask}];
        e.first = &fm.match;
        ++e.second;
    }
    const auto& tables = b->second->tables;
    for (const auto& [key, e] : adds) {
        if (key.first >= tables.size() || !tables[key.first]) continue;
        if (auto g = tables[key.first]->prepareGrowth(*e.first, e.second))
            out.emplace_back(tables[key.first].get(), std::move(*g));
    }
    return out;
}

void Ofproto::replaceFlows(const std::string& bridge, const std::vector<FlowMod>& adds) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    for (const auto& fm : adds) validateFlowMod(fm);
    br.tables.clear();
    for (const auto& fm : adds) applyFlowMod(br, fm);
    invalidateBridge(br);
}

// rules() and exportFlows() run on the control thread, the only writer of bridges and rules: they
// read without the mutex (ofproto.h), so a dump of 100,000 rules stalls no upcall.
std::vector<std::shared_ptr<const Rule>> Ofproto::rules(const std::string& bridge, std::uint8_t table,
                                                        const Match& filter) const {
    const Bridge& br = bridgeOrThrow(bridge);
    std::vector<std::shared_ptr<const Rule>> out;
    for (std::size_t t = 0; t < br.tables.size(); ++t) {
        if (!br.tables[t] || (table != kTableAll && table != t)) continue;
        for (auto& r : br.tables[t]->all())
            if (matchCovers(filter, r->match)) out.push_back(r);
    }
    return out;
}

std::vector<FlowMod> Ofproto::exportFlows(const std::string& bridge) const {
    const Bridge& br = bridgeOrThrow(bridge);
    std::vector<FlowMod> out;
    for (const auto& t : br.tables) {
        if (!t) continue;
        for (const auto& r : t->all()) {
            FlowMod fm;
            fm.table = r->table;
            fm.priority = r->priority;
            fm.match = r->match;
            fm.actions = r->actions;
            fm.cookie = r->cookie;
            fm.idle_timeout = r->idle_timeout;
            fm.hard_timeout = r->hard_timeout;
            fm.send_flow_rem = r->send_flow_rem;
            out.push_back(std::move(fm));
        }
    }
    return out;
}

std::vector<Ofproto::TableStats> Ofproto::tableStats(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    const Bridge& br = bridgeOrThrow(bridge);
    std::vector<TableStats> out;
    for (std::size_t t = 0; t < br.tables.size(); ++t)
        if (br.tables[t])
            out.push_back({static_cast<std::uint8_t>(t), br.tables[t]->size(), br.tables[t]->lookup_count,
                           br.tables[t]->matched_count});
    return out;
}

std::vector<std::shared_ptr<const Rule>> Ofproto::takeExpired() {
    std::vector<std::shared_ptr<const Rule>> out;
    for (auto& r : takeRemoved()) out.push_back(std::move(r.rule));
    return out;
}

std::vector<Ofproto::LoggedFlowMod> Ofproto::takeFlowLog() {
    std::lock_guard lk(mu_);
    std::vector<LoggedFlowMod> out;
    out.swap(flow_log_);
    return out;
}

std::vector<RemovedRule> Ofproto::takeRemoved() {
    std::lock_guard lk(mu_);
    std::vector<RemovedRule> out;
    out.swap(removed_);
    return out;
}

void Ofproto::noteRemoved(const Bridge& br, std::shared_ptr<const Rule> r, RemovedReason why) {
    if (!r->send_flow_rem) return;
    if (removed_.size() >= kMaxRemembered) removed_.erase(removed_.begin());  // nobody collects them
    removed_.push_back(RemovedRule{br.name, std::move(r), why, clock_()});
}

// Idle and hard timeouts (OpenFlow 1.3 section 5.5). Called with mu_ held. Returns true if any
// rule was removed.
bool Ofproto::expireRules(std::int64_t now) {
    bool any = false;
    for (auto& [name, br] : bridges_) {
        for (auto& t : br->tables) {
            if (!t || !t->timedRules()) continue;  // 100,000 rules without timeouts cost nothing here
            for (auto& r : t->all()) {
                if (!r->idle_timeout && !r->hard_timeout) continue;
                bool hard = r->hard_timeout && now - r->created_ms >= r->hard_timeout * 1000ll;
                bool idle = r->idle_timeout && now - r->usedMs() >= r->idle_timeout * 1000ll;
                if (!hard && !idle) continue;
                FlowMod gone;  // the persisted tables lose it too
                gone.command = FlowMod::Command::kDeleteStrict;
                gone.table = r->table;
                gone.priority = r->priority;
                gone.match = r->match;
                flow_log_.push_back(LoggedFlowMod{name, std::move(gone)});
                t->remove(r.get());
                noteRemoved(*br, r, hard ? RemovedReason::kHardTimeout : RemovedReason::kIdleTimeout);
                any = true;
            }
        }
    }
    return any;
}

std::optional<std::string> Ofproto::portName(const std::string& bridge, std::uint32_t ofport) const {
    std::lock_guard lk(mu_);
    auto b = bridges_.find(bridge);
    if (b == bridges_.end()) return std::nullopt;
    auto p = b->second->ports.find(ofport);
    if (p == b->second->ports.end()) return std::nullopt;
    return p->second.name;
}

std::optional<std::uint32_t> Ofproto::portNumber(const std::string& bridge, const std::string& name) const {
    std::lock_guard lk(mu_);
    auto b = bridges_.find(bridge);
    if (b == bridges_.end()) return std::nullopt;
    for (const auto& [ofport, bp] : b->second->ports)
        if (bp.name == name) return ofport;
    return std::nullopt;
}

}  // namespace vs::ofproto
