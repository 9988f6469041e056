// Tunnel headers (per-packet code): see tunnel_header.h.
#include "datapath/tunnel_header.h"

#include <cstring>

#include "datapath/gso.h"

namespace vs::dp {
namespace {

constexpr std::size_t kEth = 14;
constexpr std::uint16_t kGreC = 0x8000, kGreR = 0x4000, kGreK = 0x2000, kGreS = 0x1000, kGreVer = 0x0007;

inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t get24(const std::uint8_t* p) { return std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2]; }
inline void put16(std::uint8_t* p, std::uint16_t v) { p[0] = static_cast<std::uint8_t>(v >> 8); p[1] = static_cast<std::uint8_t>(v); }
inline void put24(std::uint8_t* p, std::uint64_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 16);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v);
}

TunnelHeader refuse(Coverage why) {
    TunnelHeader t;
    t.why = why;
    return t;
}

// Walks Geneve's options (RFC 8926 section 3.5): class (16), type (8; high bit = critical),
// 3 reserved bits and a 5-bit length in 4-byte words, then the data. Returns the count, or -1
// if an option overruns, -2 if one is critical.
int walkGeneveOptions(const std::uint8_t* o, std::size_t n) noexcept {
    int count = 0;
    for (std::size_t off = 0; off < n; ++count) {
        if (n - off < 4) return -1;
        if (o[off + 2] & 0x80) return -2;
        std::size_t len = 4 + 4u * (o[off + 3] & 0x1f);
        if (len > n - off) return -1;
        off += len;
    }
    return count;
}

}  // namespace

const char* tunnelProtoName(TunnelProto p) noexcept {
    switch (p) {
    case TunnelProto::kVxlan: return "vxlan";
    case TunnelProto::kGeneve: return "geneve";
    case TunnelProto::kGre: return "gre";
    }
    return "?";
}

TunnelHeader parseVxlan(const std::uint8_t* h, std::size_t len) noexcept {
    if (len < 8 + kEth) return refuse(Coverage::drop_vxlan_short);
    if (!(h[0] & 0x08)) return refuse(Coverage::drop_vxlan_no_iflag);
    if ((h[0] & ~0x08) || h[1] || h[2] || h[3] || h[7]) coverageAdd(Coverage::vxlan_reserved_ignored);
    TunnelHeader t;
    t.ok = true;
    t.inner = 8;
    t.tun_id = get24(h + 4);
    return t;
}

TunnelHeader parseGeneve(const std::uint8_t* h, std::size_t len) noexcept {
    if (len < 8) return refuse(Coverage::drop_geneve_short);
    if (h[0] >> 6) return refuse(Coverage::drop_geneve_version);
    std::size_t opt_len = 4u * (h[0] & 0x3f);
    if (len < 8 + opt_len + kEth) return refuse(Coverage::drop_geneve_short);
    if (h[1] & 0x80) return refuse(Coverage::drop_geneve_oam);
    if (get16(h + 2) != kEthTypeTeb) return refuse(Coverage::drop_geneve_proto);
    int opts = walkGeneveOptions(h + 8, opt_len);
    if (opts == -1) return refuse(Coverage::drop_geneve_bad_options);
    if (opts == -2 || (h[1] & 0x40)) return refuse(Coverage::drop_geneve_critical);
    TunnelHeader t;
    t.ok = true;
    t.inner = 8 + opt_len;
    t.tun_id = get24(h + 4);
    t.geneve_opts = static_cast<std::uint32_t>(opts);
    return t;
}

TunnelHeader parseGre(const std::uint8_t* h, std::size_t len) noexcept {
    if (len < 4) return refuse(Coverage::drop_gre_short);
    std::uint16_t flags = get16(h);
    if ((flags & (kGreVer | kGreR))) return refuse(Coverage::drop_gre_version);
    std::size_t hlen = 4 + ((flags & kGreC) ? 4 : 0) + ((flags & kGreK) ? 4 : 0) + ((flags & kGreS) ? 4 : 0);
    if (len < hlen + kEth) return refuse(Coverage::drop_gre_short);
    if (get16(h + 2) != kEthTypeTeb) return refuse(Coverage::drop_gre_proto);
    if ((flags & kGreC) && csumFold(csumPartial(h, len, 0)) != 0xffff) return refuse(Coverage::drop_gre_bad_csum);
    TunnelHeader t;
    t.ok = true;
    t.inner = hlen;
    if (flags & kGreK) {
        const std::uint8_t* k = h + 4 + ((flags & kGreC) ? 4 : 0);
        t.tun_id = std::uint32_t(k[0]) << 24 | std::uint32_t(k[1]) << 16 | std::uint32_t(k[2]) << 8 | k[3];
        t.key_present = true;
    }
    return t;
}

TunnelHeader parseTunnelHeader(TunnelProto p, const std::uint8_t* h, std::size_t len) noexcept {
    switch (p) {
    case TunnelProto::kVxlan: return parseVxlan(h, len);
    case TunnelProto::kGeneve: return parseGeneve(h, len);
    case TunnelProto::kGre: return parseGre(h, len);
    }
    return refuse(Coverage::drop_gre_version);
}

std::size_t buildTunnelHeader(TunnelProto p, std::uint8_t* out, std::uint64_t id, bool key_present,
                              bool csum) noexcept {
    std::memset(out, 0, kMaxTunnelHeader);
    switch (p) {
    case TunnelProto::kVxlan:
        out[0] = 0x08;  // I flag
        put24(out + 4, id);
        return 8;
    case TunnelProto::kGeneve:
        put16(out + 2, kEthTypeTeb);  // version 0, no options, O and C clear
        put24(out + 4, id);
        return 8;
    case TunnelProto::kGre: {
        std::uint16_t flags = static_cast<std::uint16_t>((csum ? kGreC : 0) | (key_present ? kGreK : 0));
        put16(out, flags);
        put16(out + 2, kEthTypeTeb);
        std::size_t n = csum ? 8 : 4;
        if (key_present) {
            out[n] = static_cast<std::uint8_t>(id >> 24);
            put24(out + n + 1, id);
            n += 4;
        }
        return n;
    }
    }
    return 0;
}

void greFinishCsum(std::uint8_t* hdr, std::size_t hdr_len, std::uint32_t payload_sum) noexcept {
    std::uint32_t sum = csumPartial(hdr, hdr_len, payload_sum);  // hdr_len is even: sums combine
    put16(hdr + 4, static_cast<std::uint16_t>(~csumFold(sum)));
}

std::size_t tunnelOverhead(TunnelProto p, bool key_present, bool csum) noexcept {
    if (p != TunnelProto::kGre) return 20 + 8 + 8;  // IPv4, UDP, VXLAN / option-less Geneve
    return 20 + 4 + (key_present ? 4 : 0) + (csum ? 4 : 0);
}

}  // namespace vs::dp
