// Builds Ethernet frames for unit tests (test-only helper).
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "datapath/packet.h"

namespace vs::test {

using Bytes = std::vector<std::uint8_t>;

// Loads frame `f` into `p` (after its headroom); offload info is left as it was.
inline void load(dp::Packet& p, const Bytes& f) {
    std::memcpy(p.data(), f.data(), f.size());
    p.setSize(static_cast<std::uint32_t>(f.size()));
}

inline void put16(Bytes& b, std::uint16_t v) { b.push_back(v >> 8); b.push_back(v & 0xff); }

inline Bytes mac(std::uint8_t last, std::uint8_t first = 0x02) { return {first, 0, 0, 0, 0, last}; }

// Ethernet header (+ optional 802.1Q tag) followed by `payload`.
inline Bytes eth(const Bytes& dst, const Bytes& src, std::uint16_t type, const Bytes& payload = {},
                 int vlan_tci = -1) {
    Bytes b(dst);
    b.insert(b.end(), src.begin(), src.end());
    if (vlan_tci >= 0) { put16(b, 0x8100); put16(b, static_cast<std::uint16_t>(vlan_tci)); }
    put16(b, type);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

// IPv4 header (no options) + `l4`.
inline Bytes ipv4(std::uint8_t proto, std::uint32_t src, std::uint32_t dst, const Bytes& l4, std::uint8_t ttl = 64) {
    Bytes b;
    std::uint16_t tot = static_cast<std::uint16_t>(20 + l4.size());
    b.push_back(0x45); b.push_back(0);
    put16(b, tot); put16(b, 1); put16(b, 0);
    b.push_back(ttl); b.push_back(proto); put16(b, 0);
    for (int s = 24; s >= 0; s -= 8) b.push_back((src >> s) & 0xff);
    for (int s = 24; s >= 0; s -= 8) b.push_back((dst >> s) & 0xff);
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

inline Bytes udp(std::uint16_t sport, std::uint16_t dport, std::size_t payload = 4) {
    Bytes b;
    put16(b, sport); put16(b, dport); put16(b, static_cast<std::uint16_t>(8 + payload)); put16(b, 0);
    b.resize(b.size() + payload, 0xab);
    return b;
}

}  // namespace vs::test
