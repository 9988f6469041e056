// Per-packet code: header rewrites with incremental checksum updates.
#include <arpa/inet.h>

#include "datapath/actions.h"
#include "datapath/flow_key.h"

namespace vs::dp {
namespace {

// Ones' complement arithmetic on 16-bit words as they sit in memory; the result is independent of
// byte order (RFC 1071 section 2(B)).
std::uint16_t fold(std::uint32_t s) noexcept {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}
// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
std::uint16_t update16(std::uint16_t hc, std::uint16_t m, std::uint16_t m2) noexcept {
    return static_cast<std::uint16_t>(~fold(static_cast<std::uint16_t>(~hc) + static_cast<std::uint16_t>(~m) + std::uint32_t{m2}));
}
std::uint16_t update32(std::uint16_t hc, std::uint32_t m, std::uint32_t m2) noexcept {
    hc = update16(hc, static_cast<std::uint16_t>(m), static_cast<std::uint16_t>(m2));
    return update16(hc, static_cast<std::uint16_t>(m >> 16), static_cast<std::uint16_t>(m2 >> 16));
}

std::uint16_t ld16(const std::uint8_t* p) noexcept { std::uint16_t v; std::memcpy(&v, p, 2); return v; }
void st16(std::uint8_t* p, std::uint16_t v) noexcept { std::memcpy(p, &v, 2); }

struct Ipv4View {
    std::uint8_t* ip = nullptr;  // IPv4 header
    std::uint8_t* l4 = nullptr;  // TCP/UDP header of a first fragment, else nullptr
    std::size_t l4_off = 0;
    std::uint8_t proto = 0;
};

// Finds the IPv4 header (after up to two tags) and, for TCP/UDP first fragments with room for
// the header, the L4 header.
bool locateIpv4(Packet& p, Ipv4View& v) noexcept {
    std::uint8_t* d = p.data();
    std::size_t len = p.size();
    std::uint16_t type = 0;
    std::size_t off = l3Start(d, len, type);  // up to two tags: a push_vlan on a tagged frame makes two
    if (!off || type != kEthTypeIPv4 || len < off + 20) return false;
    v.ip = d + off;
    std::size_t ihl = (v.ip[0] & 0x0f) * 4u;
    if (ihl < 20 || len < off + ihl) return false;
    v.proto = v.ip[9];
    bool later_fragment = (ld16(v.ip + 6) & htons(0x1fff)) != 0;
    std::size_t need = v.proto == 6 ? 20 : v.proto == 17 ? 8 : 0;
    if (need && !later_fragment && len >= off + ihl + need) {
        v.l4 = v.ip + ihl;
        v.l4_off = off + ihl;
    }
    return true;
}

bool partialCsum(const Packet& p, const Ipv4View& v) noexcept {
    return (p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && p.vnet.csum_start == v.l4_off;
}

// The L4 checksum field, or nullptr (no L4 header, or UDP without a checksum).
std::uint8_t* l4Csum(const Ipv4View& v) noexcept {
    if (!v.l4) return nullptr;
    std::uint8_t* c = v.l4 + (v.proto == 6 ? 16 : 6);
    if (v.proto == 17 && ld16(c) == 0) return nullptr;
    return c;
}

bool setIpv4Addr(Packet& p, bool src, std::uint32_t addr) noexcept {
    Ipv4View v;
    if (!locateIpv4(p, v)) return false;
    std::uint8_t* field = v.ip + (src ? 12 : 16);
    std::uint32_t old;
    std::memcpy(&old, field, 4);
    if (old == addr) return true;
    st16(v.ip + 10, update32(ld16(v.ip + 10), old, addr));
    if (std::uint8_t* c = l4Csum(v)) {  // the address is in the TCP/UDP pseudo-header
        if (partialCsum(p, v)) st16(c, static_cast<std::uint16_t>(~update32(static_cast<std::uint16_t>(~ld16(c)), old, addr)));
        else st16(c, update32(ld16(c), old, addr));
    }
    std::memcpy(field, &addr, 4);
    return true;
}

bool setIpByte(Packet& p, bool ttl, std::uint8_t val) noexcept {
    Ipv4View v;
    if (!locateIpv4(p, v)) return false;
    std::uint8_t* word = v.ip + (ttl ? 8 : 0);  // 16-bit word holding TTL (with proto) / TOS (with version)
    std::uint16_t old = ld16(word);
    word[ttl ? 0 : 1] = val;
    st16(v.ip + 10, update16(ld16(v.ip + 10), old, ld16(word)));
    return true;
}

std::uint8_t* locateIpv6(Packet& p) noexcept;

// The TCP/UDP header of an IPv6 packet that is not a later fragment, after its extension headers
// (RFC 8200 section 4), as a view setPort() can use; false when there is none.
bool locateIpv6L4(Packet& p, Ipv4View& v) noexcept {
    std::uint8_t* ip = locateIpv6(p);
    Ipv6Upper up;
    if (!ip || !ipv6Upper(p.data(), p.size(), static_cast<std::size_t>(ip - p.data()), up) || up.later_fragment)
        return false;
    std::size_t need = up.proto == 6 ? 20 : up.proto == 17 ? 8 : 0;
    if (!need || p.size() < up.off + need) return false;
    v.ip = ip;
    v.l4 = p.data() + up.off;
    v.l4_off = up.off;
    v.proto = up.proto;
    return true;
}

// TCP/UDP ports of IPv4 (first fragments) and IPv6; the L4 checksum covers them directly.
bool setPort(Packet& p, bool src, std::uint16_t port) noexcept {
    Ipv4View v;
    if ((!locateIpv4(p, v) || !v.l4) && !locateIpv6L4(p, v)) return false;
    std::uint8_t* field = v.l4 + (src ? 0 : 2);
    std::uint16_t old = ld16(field), nw = htons(port);
    std::uint8_t* c = l4Csum(v);
    if (c && !partialCsum(p, v)) st16(c, update16(ld16(c), old, nw));  // partial: hardware sums the ports
    st16(field, nw);
    return true;
}

// The IPv6 header (after up to two tags), or nullptr.
std::uint8_t* locateIpv6(Packet& p) noexcept {
    std::uint8_t* d = p.data();
    std::size_t len = p.size();
    std::uint16_t type = 0;
    std::size_t off = l3Start(d, len, type);
    if (!off || type != kEthTypeIPv6 || len < off + 40 || (d[off] >> 4) != 6) return nullptr;
    return d + off;
}

// RFC 8200 section 3: the hop limit is byte 7; the traffic class spans bits 4..11. Neither is
// covered by any checksum (no IPv6 header checksum; not in the L4 pseudo-header).
bool setIpv6Byte(Packet& p, bool hlim, std::uint8_t val) noexcept {
    std::uint8_t* ip = locateIpv6(p);
    if (!ip) return false;
    if (hlim) {
        ip[7] = val;
    } else {
        ip[0] = static_cast<std::uint8_t>((ip[0] & 0xf0) | (val >> 4));
        ip[1] = static_cast<std::uint8_t>((ip[1] & 0x0f) | (val << 4));
    }
    return true;
}

bool setEth(Packet& p, bool src, std::uint64_t mac) noexcept {
    if (p.size() < 14) return false;
    std::uint8_t* d = p.data() + (src ? 6 : 0);
    for (int i = 5; i >= 0; --i, mac >>= 8) d[i] = static_cast<std::uint8_t>(mac);
    return true;
}

}  // namespace

bool applySet(Packet& p, const Action& a) noexcept {
    switch (a.type) {
    case ActionType::kSetEthSrc: return setEth(p, true, a.value);
    case ActionType::kSetEthDst: return setEth(p, false, a.value);
    case ActionType::kSetIpv4Src: return setIpv4Addr(p, true, static_cast<std::uint32_t>(a.value));
    case ActionType::kSetIpv4Dst: return setIpv4Addr(p, false, static_cast<std::uint32_t>(a.value));
    case ActionType::kSetIpTos: return setIpByte(p, false, static_cast<std::uint8_t>(a.value));
    case ActionType::kSetIpTtl: return setIpByte(p, true, static_cast<std::uint8_t>(a.value));
    case ActionType::kSetIpv6Tclass: return setIpv6Byte(p, false, static_cast<std::uint8_t>(a.value));
    case ActionType::kSetIpv6Hlim: return setIpv6Byte(p, true, static_cast<std::uint8_t>(a.value));
    case ActionType::kSetTpSrc: return setPort(p, true, static_cast<std::uint16_t>(a.value));
    case ActionType::kSetTpDst: return setPort(p, false, static_cast<std::uint16_t>(a.value));
    default: return false;
    }
}

}  // namespace vs::dp
