#include "ofproto/mac_table.h"

#include <algorithm>

#include "datapath/coverage.h"

namespace vs::ofproto {

MacTable::MacTable(int aging_s, std::size_t max_entries)
    : aging_ms_(static_cast<std::int64_t>(aging_s) * 1000), max_entries_(max_entries ? max_entries : 1) {}

LearnResult MacTable::learn(const MacAddr& mac, std::uint16_t vlan, std::uint32_t port, std::int64_t now_ms,
                            TunnelDest remote) {
    if (mac.isMulticast()) return LearnResult::kUnchanged;
    Key k{mac.toU64(), vlan};
    auto it = index_.find(k);
    if (it != index_.end()) {
        Slot& s = it->second;
        if (s.port == port && s.it->remote == remote) {
            // Refresh: move to the young end of this port's list.
            Lru& l = by_port_[port];
            s.it->used_ms = now_ms;
            l.splice(l.end(), l, s.it);
            return LearnResult::kRefreshed;
        }
        erase(k);  // another port, or another VTEP behind the same flow-based tunnel port
        Lru& l = by_port_[port];
        l.push_back({mac, vlan, port, now_ms, remote});
        index_[k] = {port, std::prev(l.end())};
        dp::coverageAdd(dp::Coverage::mac_moved);
        return LearnResult::kMoved;
    }
    if (index_.size() >= max_entries_) evictOne();
    Lru& l = by_port_[port];
    l.push_back({mac, vlan, port, now_ms, remote});
    index_[k] = {port, std::prev(l.end())};
    dp::coverageAdd(dp::Coverage::mac_learned);
    return LearnResult::kNew;
}

void MacTable::lockGratuitousArp(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) {
    auto it = index_.find({mac.toU64(), vlan});
    if (it != index_.end()) it->second.it->grat_arp_lock_until_ms = now_ms + kGratArpLockMs;
}

bool MacTable::gratuitousArpLocked(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const {
    auto it = index_.find({mac.toU64(), vlan});
    return it != index_.end() && now_ms < it->second.it->grat_arp_lock_until_ms;
}

std::optional<std::uint32_t> MacTable::lookup(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const {
    auto e = lookupEntry(mac, vlan, now_ms);
    if (!e) return std::nullopt;
    return e->port;
}

std::optional<MacEntry> MacTable::lookupEntry(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const {
    auto it = index_.find({mac.toU64(), vlan});
    if (it == index_.end()) return std::nullopt;
    if (now_ms - it->second.it->used_ms >= aging_ms_) return std::nullopt;
    return *it->second.it;
}

std::vector<TunnelDest> MacTable::remotes(std::uint32_t port, std::int64_t now_ms,
                                          std::optional<std::uint16_t> vlan) const {
    std::vector<TunnelDest> out;
    auto it = by_port_.find(port);
    if (it == by_port_.end()) return out;
    for (const auto& e : it->second)
        if (now_ms - e.used_ms < aging_ms_ && (!vlan || e.vlan == *vlan)) out.push_back(e.remote);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void MacTable::erase(const Key& k) {
    auto it = index_.find(k);
    if (it == index_.end()) return;
    auto pit = by_port_.find(it->second.port);
    pit->second.erase(it->second.it);
    if (pit->second.empty()) by_port_.erase(pit);
    index_.erase(it);
}

// The port with the most entries loses its oldest one (ties: the lowest port number).
void MacTable::evictOne() {
    auto victim = by_port_.end();
    for (auto it = by_port_.begin(); it != by_port_.end(); ++it)
        if (victim == by_port_.end() || it->second.size() > victim->second.size()) victim = it;
    if (victim == by_port_.end()) return;
    const MacEntry& e = victim->second.front();
    erase({e.mac.toU64(), e.vlan});
    ++evictions_;
    dp::coverageAdd(dp::Coverage::mac_evicted);
}

std::size_t MacTable::expire(std::int64_t now_ms) {
    std::vector<Key> dead;
    for (const auto& [port, l] : by_port_)
        for (const auto& e : l) {
            if (now_ms - e.used_ms < aging_ms_) break;  // lists are oldest first
            dead.push_back({e.mac.toU64(), e.vlan});
        }
    for (const auto& k : dead) erase(k);
    if (!dead.empty()) dp::coverageAdd(dp::Coverage::mac_expired, dead.size());
    return dead.size();
}

std::size_t MacTable::flush() {
    std::size_t n = index_.size();
    index_.clear();
    by_port_.clear();
    return n;
}

std::size_t MacTable::flushPort(std::uint32_t port) {
    auto it = by_port_.find(port);
    if (it == by_port_.end()) return 0;
    std::vector<Key> dead;
    for (const auto& e : it->second) dead.push_back({e.mac.toU64(), e.vlan});
    for (const auto& k : dead) erase(k);
    return dead.size();
}

void MacTable::setMaxEntries(std::size_t n) {
    max_entries_ = n ? n : 1;
    while (index_.size() > max_entries_) evictOne();
}

std::vector<MacEntry> MacTable::entries() const {
    std::vector<MacEntry> out;
    out.reserve(index_.size());
    for (const auto& [port, l] : by_port_) out.insert(out.end(), l.begin(), l.end());
    std::sort(out.begin(), out.end(), [](const MacEntry& a, const MacEntry& b) {
        return std::tie(a.port, a.vlan, a.mac) < std::tie(b.port, b.vlan, b.mac);
    });
    return out;
}

}  // namespace vs::ofproto
