// The MAC learning table (FDB) of one bridge: (MAC, VLAN) -> port, with aging and a size limit.
//
// IEEE 802.1Q section 8.8 filtering database semantics as Open vSwitch implements them: entries
// are learned from source addresses, refreshed by traffic, aged out after `aging_s` seconds
// without traffic, and when the table is full the port with the most entries loses its oldest
// one ("fair eviction", so one flooding port cannot push out everyone else's entries).
//
// Time is injected (milliseconds from any monotonic origin), so tests need no sleeps.
// Thread-safety: none; the owning bridge serialises access (ofproto's mutex).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "datapath/packet.h"

namespace vs::ofproto {

using dp::MacAddr;

// Where a MAC behind a flow-based tunnel port (remote_ip=flow / key=flow) lives: the remote VTEP
// it was learned from (the outer source IPv4 address, network order) and the VNI it came with,
// the "inner source MAC -> outer source IP" mapping of RFC 7348 section 4.1. Fields the port
// fixes itself stay 0; entries on other ports have {0, 0}.
struct TunnelDest {
    std::uint32_t vtep = 0;
    std::uint32_t vni = 0;
    auto operator<=>(const TunnelDest&) const = default;
};

struct MacEntry {
    MacAddr mac;
    std::uint16_t vlan = 0;
    std::uint32_t port = 0;  // ofport
    std::int64_t used_ms = 0;
    TunnelDest remote;       // behind a flow-based tunnel port; else {0, 0}
    std::int64_t grat_arp_lock_until_ms = 0;  // see lockGratuitousArp
};

enum class LearnResult { kUnchanged, kRefreshed, kNew, kMoved };

class MacTable {
public:
    static constexpr int kDefaultAgingS = 300;
    static constexpr std::size_t kDefaultMaxEntries = 8192;

    MacTable(int aging_s = kDefaultAgingS, std::size_t max_entries = kDefaultMaxEntries);

    // Learns `mac` on `vlan` behind `port` (at remote VTEP `remote`, for a flow-based tunnel port)
    // at time `now_ms`. kNew: a new entry (the table may have evicted one to make room); kMoved:
    // the MAC was behind another port or another remote VTEP/VNI; kRefreshed: same place,
    // timestamp updated. Multicast source addresses are never learned (kUnchanged).
    LearnResult learn(const MacAddr& mac, std::uint16_t vlan, std::uint32_t port, std::int64_t now_ms,
                      TunnelDest remote = {});
    // Open vSwitch's damping of a MAC that bounces back over a bond: an entry learned from a
    // gratuitous ARP on a port that is not a bond is locked for kGratArpLockMs, and while locked a
    // bond may not move it (the switch on the bond's other side floods the announcement back to
    // us over another bond member). lockGratuitousArp: locks an existing entry; gratuitousArpLocked:
    // whether (mac, vlan) is locked at `now_ms`.
    static constexpr std::int64_t kGratArpLockMs = 5000;
    void lockGratuitousArp(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms);
    bool gratuitousArpLocked(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const;
    // Port behind (mac, vlan), if known and not expired at `now_ms`.
    std::optional<std::uint32_t> lookup(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const;
    // The whole entry for (mac, vlan), if known and not expired at `now_ms`.
    std::optional<MacEntry> lookupEntry(const MacAddr& mac, std::uint16_t vlan, std::int64_t now_ms) const;
    // The distinct remotes of unexpired entries behind `port` (only those on `vlan` if given),
    // ascending. Cost: linear in the entries behind `port`.
    std::vector<TunnelDest> remotes(std::uint32_t port, std::int64_t now_ms,
                                    std::optional<std::uint16_t> vlan = std::nullopt) const;
    // Removes entries idle for the aging time or longer; returns how many.
    std::size_t expire(std::int64_t now_ms);
    // Removes every entry / every entry behind `port`; returns how many.
    std::size_t flush();
    std::size_t flushPort(std::uint32_t port);

    void setAging(int aging_s) { aging_ms_ = static_cast<std::int64_t>(aging_s) * 1000; }
    // Lowers or raises the limit; entries over a lowered limit are evicted fairly now.
    void setMaxEntries(std::size_t n);
    int agingSeconds() const { return static_cast<int>(aging_ms_ / 1000); }
    std::size_t maxEntries() const { return max_entries_; }
    std::size_t size() const { return index_.size(); }
    std::uint64_t evictions() const { return evictions_; }
    // Entries ordered by port, then VLAN, then MAC.
    std::vector<MacEntry> entries() const;

private:
    struct Key {
        std::uint64_t mac;
        std::uint16_t vlan;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept { return std::hash<std::uint64_t>()(k.mac ^ (std::uint64_t(k.vlan) << 48)); }
    };
    using Lru = std::list<MacEntry>;  // per port, oldest first
    struct Slot {
        std::uint32_t port;
        Lru::iterator it;
    };

    void erase(const Key& k);
    void evictOne();

    std::int64_t aging_ms_;
    std::size_t max_entries_;
    std::unordered_map<Key, Slot, KeyHash> index_;
    std::map<std::uint32_t, Lru> by_port_;
    std::uint64_t evictions_ = 0;
};

}  // namespace vs::ofproto
