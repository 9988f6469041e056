// Fuzz entry point: the tunnel header parsers of datapath/tunnel_header.h (VXLAN RFC 7348, Geneve
// RFC 8926, GRE RFC 2784/2890), the first step of every received tunnel packet.
//
// Input: byte 0 picks the protocol (value % 3: VXLAN, Geneve, GRE), the rest is what followed the
// outer UDP (or IP, for GRE) header.
//
// Invariants: the parser never reads outside the input (ASan); a refused header names a drop
// counter of its own protocol; an accepted one is what the RFC allows, checked against a
// straightforward second reading of the header here (flags, version, protocol type, the option
// and key layout, the GRE checksum), with the inner frame (at least an Ethernet header) inside the
// input and tun_id the VNI or key. And every header build*Header() writes, for a VNI/key, key and
// checksum choice taken from the input, parses back to the same VNI/key.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "datapath/gso.h"
#include "datapath/tunnel_header.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

namespace tunnel_header_detail {

inline std::uint32_t be(const std::uint8_t* p, int n) {
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | p[i];
    return v;
}

inline bool refusedAs(dp::TunnelProto proto, dp::Coverage why) {
    using dp::Coverage;
    switch (proto) {
    case dp::TunnelProto::kVxlan:
        return why == Coverage::drop_vxlan_short || why == Coverage::drop_vxlan_no_iflag;
    case dp::TunnelProto::kGeneve:
        return why == Coverage::drop_geneve_short || why == Coverage::drop_geneve_version ||
               why == Coverage::drop_geneve_oam || why == Coverage::drop_geneve_proto ||
               why == Coverage::drop_geneve_bad_options || why == Coverage::drop_geneve_critical;
    case dp::TunnelProto::kGre:
        return why == Coverage::drop_gre_short || why == Coverage::drop_gre_version ||
               why == Coverage::drop_gre_proto || why == Coverage::drop_gre_bad_csum;
    }
    return false;
}

// The second reading: {accept?, inner offset, tun_id}.
struct Expect {
    bool ok = false;
    std::size_t inner = 0;
    std::uint64_t id = 0;
};

inline Expect expectGeneve(const std::uint8_t* h, std::size_t len) {
    Expect e;
    if (len < 8 || (h[0] >> 6) != 0 || (h[1] & 0xc0) || be(h + 2, 2) != 0x6558) return e;
    std::size_t opt_len = 4u * (h[0] & 0x3f);
    if (len < 8 + opt_len + 14) return e;
    for (std::size_t o = 8; o < 8 + opt_len;) {  // class(2) type(1) rsvd:3|len:5 (4-byte units)
        if (o + 4 > 8 + opt_len) return e;
        if (h[o + 2] & 0x80) return e;  // critical
        o += 4 + 4u * (h[o + 3] & 0x1f);
        if (o > 8 + opt_len) return e;
    }
    return {true, 8 + opt_len, be(h + 4, 3)};
}

inline Expect expectGre(const std::uint8_t* h, std::size_t len) {
    Expect e;
    if (len < 4) return e;
    std::uint16_t f = static_cast<std::uint16_t>(be(h, 2));
    bool c = f & 0x8000, r = f & 0x4000, k = f & 0x2000, s = f & 0x1000;
    if (r || (f & 7)) return e;
    std::size_t hlen = 4 + 4 * (c + k + s);
    if (len < hlen + 14 || be(h + 2, 2) != 0x6558) return e;
    if (c && dp::csumFold(dp::csumPartial(h, len, 0)) != 0xffff) return e;
    return {true, hlen, k ? be(h + 4 + 4 * c, 4) : 0};
}

inline Expect expect(dp::TunnelProto p, const std::uint8_t* h, std::size_t len) {
    switch (p) {
    case dp::TunnelProto::kVxlan:
        if (len >= 8 + 14 && (h[0] & 0x08)) return {true, 8, be(h + 4, 3)};
        return {};
    case dp::TunnelProto::kGeneve: return expectGeneve(h, len);
    case dp::TunnelProto::kGre: return expectGre(h, len);
    }
    return {};
}

}  // namespace tunnel_header_detail

inline int tunnelHeader(const std::uint8_t* data, std::size_t size) {
    using namespace tunnel_header_detail;
    constexpr const char* kName = "tunnel_header";
    if (size < 1) return 0;
    const auto proto = static_cast<dp::TunnelProto>(data[0] % 3);
    const std::vector<std::uint8_t> h(data + 1, data + size);  // exact-size copy: ASan sees overreads
    const dp::TunnelHeader t = dp::parseTunnelHeader(proto, h.data(), h.size());
    const Expect want = expect(proto, h.data(), h.size());
    const std::string name = dp::tunnelProtoName(proto);
    if (!t.ok) {
        if (!refusedAs(proto, t.why)) fuzzFail(kName, name + ": refused without a drop counter of its protocol");
        if (want.ok) fuzzFail(kName, name + ": refused a header the RFC allows");
    } else {
        if (!want.ok) fuzzFail(kName, name + ": accepted a header the RFC refuses");
        if (t.inner != want.inner || t.inner + 14 > h.size()) fuzzFail(kName, name + ": wrong inner frame offset");
        if (t.tun_id != want.id) fuzzFail(kName, name + ": wrong VNI/key");
    }
    // Round trip: what we send, we receive.
    if (size >= 6) {
        const std::uint64_t id = be(data + 1, 4) & (proto == dp::TunnelProto::kGre ? 0xffffffffu : 0xffffffu);
        const bool key = data[5] & 1, csum = proto == dp::TunnelProto::kGre && (data[5] & 2);
        std::vector<std::uint8_t> pkt(dp::kMaxTunnelHeader + 64, 0x5a);
        const std::size_t n = dp::buildTunnelHeader(proto, pkt.data(), id, key, csum);
        pkt.resize(n + 64);
        std::memset(pkt.data() + n, 0x5a, 64);
        if (csum) dp::greFinishCsum(pkt.data(), n, dp::csumPartial(pkt.data() + n, 64, 0));
        const dp::TunnelHeader b = dp::parseTunnelHeader(proto, pkt.data(), pkt.size());
        const bool keyed = proto != dp::TunnelProto::kGre || key;
        if (!b.ok || b.inner != n || b.tun_id != (keyed ? id : 0))
            fuzzFail(kName, name + ": a header we build does not parse back to its VNI/key");
    }
    return 0;
}

}  // namespace vs::fuzz
