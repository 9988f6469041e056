// The generator half of the "cached equals fresh" harness of the megaflow cache (fuzz target
// cache_fresh, tests/fuzz/targets/cache_fresh.h, and the unit test tests/unit/cache_property_test.cpp):
// the random source (Engine: std::mt19937 from a seed, or the bytes of a fuzz input), frames
// described by indices into small pools of field values (FrameSpec) and rendered to bytes with
// correct checksums and virtio-net headers (render), and random ovs-ofctl rules covering every
// match field and action of docs/vsofctl.md but NORMAL and CONTROLLER (RuleGen).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "datapath/flow_key.h"
#include "datapath/packet.h"
#include "tests/unit/frame_builder.h"

namespace vs::fuzz::cachefresh {

using test::Bytes;
using test::put16;

inline constexpr int kPorts = 4;
inline constexpr int kFramesPerRound = 64;

// The random source of a round (a UniformRandomBitGenerator). Seeded: exactly std::mt19937(seed),
// the unit test's rounds. From fuzz input bytes: each value is the next 4 bytes (little endian);
// once fewer than 4 are left, the values come from a std::mt19937 seeded with a hash of the whole
// input, so that every input, however short, makes one complete and deterministic round.
class Engine {
public:
    using result_type = std::mt19937::result_type;
    static constexpr result_type min() { return std::mt19937::min(); }
    static constexpr result_type max() { return std::mt19937::max(); }

    explicit Engine(std::uint32_t seed) : mt_(seed) {}
    Engine(const std::uint8_t* data, std::size_t size) : data_(data), size_(size), mt_(hash(data, size)) {}

    result_type operator()() {
        if (size_ - pos_ >= 4) {
            const std::uint8_t* p = data_ + pos_;
            pos_ += 4;
            return static_cast<result_type>(p[0]) | static_cast<result_type>(p[1]) << 8 |
                   static_cast<result_type>(p[2]) << 16 | static_cast<result_type>(p[3]) << 24;
        }
        return mt_();
    }
    // Input bytes used so far (the rest of the round came from the hash-seeded std::mt19937).
    std::size_t consumed() const { return pos_; }

private:
    static std::uint32_t hash(const std::uint8_t* data, std::size_t size) {  // FNV-1a
        std::uint32_t h = 2166136261u;
        for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
        return h;
    }

    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0, pos_ = 0;
    std::mt19937 mt_;
};

inline int pick(Engine& rng, int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
inline bool chance(Engine& rng, int percent) { return pick(rng, 100) < percent; }
template <class T, std::size_t N>
const T& oneOf(Engine& rng, const std::array<T, N>& a) { return a[static_cast<std::size_t>(pick(rng, N))]; }

inline std::string hex(const Bytes& b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (std::uint8_t c : b) { s += d[c >> 4]; s += d[c & 15]; }
    return s;
}

// ---------------------------------------------------------------------------------------------
// Frames: a FrameSpec holds indices into small pools of values; render() builds the bytes.

inline const std::array<Bytes, 3> kSrcMacs = {Bytes{2, 0, 0, 0, 0, 1}, Bytes{2, 0, 0, 0, 0, 2},
                                              Bytes{2, 0, 0, 0, 0, 3}};
inline const std::array<Bytes, 3> kDstMacs = {Bytes{2, 0, 0, 0, 0, 1}, Bytes{2, 0, 0, 0, 0, 2},
                                              Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr std::array<std::uint32_t, 3> kIps = {0x0a000001, 0x0a000002, 0xc0a80101};  // 10.0.0.1/2, 192.168.1.1
inline constexpr std::array<std::uint8_t, 3> kIp6Last = {1, 2, 0x81};                      // 2001:db8::1, ::2, ::81
inline constexpr std::array<std::uint16_t, 3> kTpPorts = {80, 53, 0};  // 0: as a later fragment's key has
inline constexpr std::array<std::uint8_t, 4> kTtls = {0, 1, 2, 64};
inline constexpr std::array<std::uint8_t, 3> kToses = {0x00, 0x20, 0xb9};  // 0xb9: DSCP 46, ECN 1
inline constexpr std::array<std::uint16_t, 3> kVids = {10, 20, 0};
inline constexpr std::array<std::uint8_t, 2> kPcps = {0, 5};
inline constexpr std::array<std::uint32_t, 2> kLabels = {0, 0x12345};
inline constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, 3> kIcmpTypes = {{{8, 0}, {0, 0}, {3, 1}}};
inline constexpr std::array<std::uint64_t, 3> kTunIds = {0, 5, 7};
inline constexpr std::uint32_t kTunSrc = 0xc0000201;  // 192.0.2.1
inline constexpr std::array<std::pair<std::uint8_t, std::uint8_t>, 3> kIcmp6Types = {{{128, 0}, {129, 0}, {1, 3}}};

struct FrameSpec {
    enum Kind : int { kOther, kLlc, kArp, kTcp, kUdp, kIcmp, kTcp6, kUdp6, kIcmp6, kKinds };
    enum FieldId : int {
        fInPort, fKind, fTags, fOuterTpid, fVid, fPcp, fInnerVid, fSrcMac, fDstMac, fSrcIp, fDstIp, fTos, fTtl,
        fSport, fDport, fIcmp, fFrag, fLabel, fArpOp, fRunt, fVnet, fTunnel, kFields
    };
    int in_port = 1;        // ofport 1..4
    int kind = kUdp;
    int tags = 0;           // VLAN tags: 0, 1 or 2
    bool outer_s_tag = false;  // outer TPID 0x88a8 instead of 0x8100
    int vid = 0, pcp = 0, inner_vid = 0;
    int src_mac = 0, dst_mac = 0, src_ip = 0, dst_ip = 0, tos = 0, ttl = 0, sport = 0, dport = 0, icmp = 0;
    int frag = 0;           // 0 none, 1 first fragment, 2 later fragment (IPv6: a fragment header)
    int label = 0;
    int arp_op = 1;
    int runt = 0;           // 0, or the length (14..20) the frame is cut to
    int vnet = 0;           // 0 none, 1 NEEDS_CSUM, 2 TCP GSO (TCP frames only)
    int tunnel = 0;         // 0 none, else injected as decapsulated with VNI kTunIds[tunnel] (no vnet then)

    void draw(Engine& rng, int field) {
        switch (field) {
        case fInPort: in_port = 1 + pick(rng, kPorts); break;
        case fKind: {
            static constexpr std::array<int, 12> kWeighted = {kOther, kLlc, kArp, kArp, kTcp, kTcp,
                                                              kUdp, kUdp, kIcmp, kTcp6, kUdp6, kIcmp6};
            kind = oneOf(rng, kWeighted);
            break;
        }
        case fTags: tags = chance(rng, 45) ? 0 : chance(rng, 75) ? 1 : 2; break;
        case fOuterTpid: outer_s_tag = chance(rng, 25); break;
        case fVid: vid = pick(rng, kVids.size()); break;
        case fPcp: pcp = pick(rng, kPcps.size()); break;
        case fInnerVid: inner_vid = pick(rng, kVids.size()); break;
        case fSrcMac: src_mac = pick(rng, kSrcMacs.size()); break;
        case fDstMac: dst_mac = pick(rng, kDstMacs.size()); break;
        case fSrcIp: src_ip = pick(rng, kIps.size()); break;
        case fDstIp: dst_ip = pick(rng, kIps.size()); break;
        case fTos: tos = pick(rng, kToses.size()); break;
        case fTtl: ttl = pick(rng, kTtls.size()); break;
        case fSport: sport = pick(rng, kTpPorts.size()); break;
        case fDport: dport = pick(rng, kTpPorts.size()); break;
        case fIcmp: icmp = pick(rng, kIcmpTypes.size()); break;
        case fFrag: frag = chance(rng, 80) ? 0 : 1 + pick(rng, 2); break;
        case fLabel: label = pick(rng, kLabels.size()); break;
        case fArpOp: arp_op = 1 + pick(rng, 2); break;
        case fRunt: runt = chance(rng, 6) ? 14 + pick(rng, 7) : 0; break;
        case fVnet: vnet = chance(rng, 75) ? 0 : chance(rng, 60) ? 1 : 2; break;
        case fTunnel: tunnel = chance(rng, 85) ? 0 : 1 + pick(rng, 2); break;
        }
    }
    static FrameSpec random(Engine& rng) {
        FrameSpec s;
        for (int f = 0; f < kFields; ++f) s.draw(rng, f);
        return s;
    }
};

struct Frame {
    std::uint32_t in_port = 1;
    Bytes bytes;
    dp::virtio_net_hdr vnet{};
    std::uint64_t tun_id = 0;  // injected as decapsulated from kTunSrc with this VNI (0: not)
    std::string desc;
};

inline std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (n & 1) s += static_cast<std::uint32_t>(p[n - 1] << 8);
    return s;
}
inline std::uint16_t fold(std::uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}
inline void put32(Bytes& b, std::uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }
inline Bytes ip6Addr(std::uint8_t last) {
    Bytes a = {0x20, 0x01, 0x0d, 0xb8};
    a.resize(15, 0);
    a.push_back(last);
    return a;
}

// L4 header + payload with the checksum field zero; `csum_at` is where the checksum goes.
inline Bytes l4Header(const FrameSpec& s, std::size_t payload, std::size_t& csum_at) {
    Bytes b;
    const bool tcp = s.kind == FrameSpec::kTcp || s.kind == FrameSpec::kTcp6;
    const bool udp = s.kind == FrameSpec::kUdp || s.kind == FrameSpec::kUdp6;
    if (tcp) {
        put16(b, kTpPorts[s.sport]); put16(b, kTpPorts[s.dport]); put32(b, 1000); put32(b, 2000);
        b.push_back(0x50); b.push_back(0x18); put16(b, 512); put16(b, 0); put16(b, 0);
        csum_at = 16;
    } else if (udp) {
        put16(b, kTpPorts[s.sport]); put16(b, kTpPorts[s.dport]);
        put16(b, static_cast<std::uint16_t>(8 + payload)); put16(b, 0);
        csum_at = 6;
    } else {
        auto [type, code] = s.kind == FrameSpec::kIcmp ? kIcmpTypes[s.icmp] : kIcmp6Types[s.icmp];
        b.push_back(type); b.push_back(code); put16(b, 0); put32(b, 0x00010002);
        csum_at = 2;
    }
    for (std::size_t i = 0; i < payload; ++i) b.push_back(static_cast<std::uint8_t>(0xa0 + i));
    return b;
}

// Writes the L4 checksum: complete, or (NEEDS_CSUM) the folded pseudo-header sum a sender leaves.
inline void fillL4Checksum(Bytes& l4, std::size_t csum_at, std::uint32_t pseudo, bool partial, bool with_pseudo) {
    std::uint16_t c = partial ? fold(pseudo) : static_cast<std::uint16_t>(~fold(sum16(l4.data(), l4.size(),
                                                                                      with_pseudo ? pseudo : 0)));
    l4[csum_at] = static_cast<std::uint8_t>(c >> 8);
    l4[csum_at + 1] = static_cast<std::uint8_t>(c);
}

inline Frame render(const FrameSpec& s) {
    using K = FrameSpec;
    Frame fr;
    fr.in_port = static_cast<std::uint32_t>(s.in_port);
    std::ostringstream d;
    d << "in_port=" << s.in_port;
    Bytes& b = fr.bytes;
    b = kDstMacs[s.dst_mac];
    b.insert(b.end(), kSrcMacs[s.src_mac].begin(), kSrcMacs[s.src_mac].end());
    d << " dst=.." << int(kDstMacs[s.dst_mac][5]) << " src=.." << int(kSrcMacs[s.src_mac][5]);
    if (s.tags >= 1) {
        put16(b, s.outer_s_tag ? dp::kEthTypeQinQ : dp::kEthTypeVlan);
        put16(b, static_cast<std::uint16_t>(kPcps[s.pcp] << 13 | kVids[s.vid]));
        d << " tag(" << (s.outer_s_tag ? "0x88a8" : "0x8100") << " vid=" << kVids[s.vid] << " pcp=" << int(kPcps[s.pcp])
          << ")";
    }
    if (s.tags == 2) {
        put16(b, dp::kEthTypeVlan);
        put16(b, kVids[s.inner_vid]);
        d << " tag(0x8100 vid=" << kVids[s.inner_vid] << ")";
    }
    const std::size_t l3 = b.size() + 2;
    const bool v6 = s.kind == K::kTcp6 || s.kind == K::kUdp6 || s.kind == K::kIcmp6;
    const bool tcp = s.kind == K::kTcp || s.kind == K::kTcp6;
    const bool ports = tcp || s.kind == K::kUdp || s.kind == K::kUdp6;
    const bool gso = s.vnet == 2 && tcp && !s.frag && !s.tunnel;
    const bool csum = (s.vnet == 1 && ports && !s.frag && !s.tunnel) || gso;
    const std::size_t payload = gso ? 300 : 6;
    std::size_t l4_at = 0;
    switch (s.kind) {
    case K::kOther:
        put16(b, 0x9000);
        b.insert(b.end(), {0, 0, 1, 0, 0x11, 0x22, 0x33, 0x44});
        d << " type=0x9000";
        break;
    case K::kLlc:
        put16(b, 8);  // 802.3 length
        b.insert(b.end(), {0x42, 0x42, 0x03, 0, 0, 0, 0, 0});
        d << " 802.3/llc";
        break;
    case K::kArp: {
        put16(b, dp::kEthTypeArp);
        put16(b, 1); put16(b, dp::kEthTypeIPv4); b.push_back(6); b.push_back(4);
        put16(b, static_cast<std::uint16_t>(s.arp_op));
        b.insert(b.end(), kSrcMacs[s.src_mac].begin(), kSrcMacs[s.src_mac].end());
        put32(b, kIps[s.src_ip]);
        if (s.arp_op == 2) b.insert(b.end(), kDstMacs[s.dst_mac].begin(), kDstMacs[s.dst_mac].end());
        else b.insert(b.end(), 6, 0);
        put32(b, kIps[s.dst_ip]);
        d << " arp op=" << s.arp_op << " spa=" << std::hex << kIps[s.src_ip] << " tpa=" << kIps[s.dst_ip] << std::dec;
        break;
    }
    case K::kTcp: case K::kUdp: case K::kIcmp: {
        put16(b, dp::kEthTypeIPv4);
        const std::uint8_t proto = tcp ? 6 : s.kind == K::kUdp ? 17 : 1;
        std::size_t csum_at = 0;
        Bytes l4 = s.frag == 2 ? Bytes(16, 0xcd) : l4Header(s, payload, csum_at);
        Bytes ip;
        ip.push_back(0x45); ip.push_back(kToses[s.tos]);
        put16(ip, static_cast<std::uint16_t>(20 + l4.size()));
        put16(ip, 0x1234);
        put16(ip, s.frag == 0 ? 0x4000 : s.frag == 1 ? 0x2000 : 185);
        ip.push_back(kTtls[s.ttl]); ip.push_back(proto); put16(ip, 0);
        put32(ip, kIps[s.src_ip]); put32(ip, kIps[s.dst_ip]);
        std::uint16_t hc = static_cast<std::uint16_t>(~fold(sum16(ip.data(), 20)));
        ip[10] = static_cast<std::uint8_t>(hc >> 8); ip[11] = static_cast<std::uint8_t>(hc);
        if (s.frag != 2) {
            std::uint32_t pseudo = sum16(ip.data() + 12, 8) + proto + static_cast<std::uint32_t>(l4.size());
            fillL4Checksum(l4, csum_at, pseudo, csum, proto != 1);
        }
        l4_at = l3 + 20;
        b.insert(b.end(), ip.begin(), ip.end());
        b.insert(b.end(), l4.begin(), l4.end());
        d << " ipv4 proto=" << int(proto) << " " << std::hex << kIps[s.src_ip] << ">" << kIps[s.dst_ip] << std::dec
          << " tos=" << int(kToses[s.tos]) << " ttl=" << int(kTtls[s.ttl])
          << (s.frag == 1 ? " frag=first" : s.frag == 2 ? " frag=later" : "");
        break;
    }
    case K::kTcp6: case K::kUdp6: case K::kIcmp6: {
        put16(b, dp::kEthTypeIPv6);
        const std::uint8_t nh = tcp ? 6 : s.kind == K::kUdp6 ? 17 : 58;
        std::size_t csum_at = 0;
        Bytes l4 = s.frag == 2 ? Bytes(16, 0xcd) : l4Header(s, payload, csum_at);
        Bytes fh;  // RFC 8200 fragment header: next header, reserved, offset|M, identification
        if (s.frag) { fh = {nh, 0}; put16(fh, s.frag == 1 ? 0x0001 : 185 << 3); put32(fh, 0x1234); }
        Bytes ip;
        put32(ip, 0x60000000u | static_cast<std::uint32_t>(kToses[s.tos]) << 20 | kLabels[s.label]);
        put16(ip, static_cast<std::uint16_t>(fh.size() + l4.size()));
        ip.push_back(s.frag ? 44 : nh);
        ip.push_back(kTtls[s.ttl]);
        Bytes src = ip6Addr(kIp6Last[s.src_ip]), dst = ip6Addr(kIp6Last[s.dst_ip]);
        ip.insert(ip.end(), src.begin(), src.end());
        ip.insert(ip.end(), dst.begin(), dst.end());
        if (s.frag != 2) {
            std::uint32_t pseudo = sum16(ip.data() + 8, 32) + nh + static_cast<std::uint32_t>(l4.size());
            fillL4Checksum(l4, csum_at, pseudo, csum, true);
        }
        l4_at = l3 + 40 + fh.size();
        b.insert(b.end(), ip.begin(), ip.end());
        b.insert(b.end(), fh.begin(), fh.end());
        b.insert(b.end(), l4.begin(), l4.end());
        d << " ipv6 nh=" << int(nh) << " ::" << std::hex << int(kIp6Last[s.src_ip]) << ">::" << int(kIp6Last[s.dst_ip])
          << " tc=" << int(kToses[s.tos]) << " label=" << kLabels[s.label] << std::dec << " hlim=" << int(kTtls[s.ttl])
          << (s.frag == 1 ? " frag=first" : s.frag == 2 ? " frag=later" : "");
        break;
    }
    }
    if (ports && s.frag != 2)
        d << " " << kTpPorts[s.sport] << ">" << kTpPorts[s.dport];
    if (csum && s.runt == 0) {
        fr.vnet.flags = dp::VIRTIO_NET_HDR_F_NEEDS_CSUM;
        fr.vnet.csum_start = static_cast<std::uint16_t>(l4_at);
        fr.vnet.csum_offset = tcp ? 16 : 6;
        d << " vnet(csum)";
        if (gso) {
            fr.vnet.gso_type = v6 ? dp::VIRTIO_NET_HDR_GSO_TCPV6 : dp::VIRTIO_NET_HDR_GSO_TCPV4;
            fr.vnet.gso_size = 100;
            fr.vnet.hdr_len = static_cast<std::uint16_t>(l4_at + 20);
            d << " vnet(gso 100)";
        }
    }
    if (s.tunnel) {
        fr.tun_id = kTunIds[s.tunnel];
        d << " tunnel(vni=" << fr.tun_id << ")";
    }
    if (s.runt) {
        b.resize(static_cast<std::size_t>(s.runt));
        d << " RUNT(" << s.runt << ")";
    }
    d << " len=" << b.size();
    fr.desc = d.str();
    return fr;
}

// ---------------------------------------------------------------------------------------------
// Rules: ovs-ofctl text, drawn per "class" of traffic so that prerequisites usually hold.

enum class Cls { kAny, kIp, kTcp, kUdp, kIcmp, kArp, kIpv6, kTcp6, kUdp6, kIcmp6, kOtherType };

inline const std::array<std::string, 4> kMacTexts = {"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03",
                                                     "ff:ff:ff:ff:ff:ff"};
inline const std::array<std::string, 4> kMacMasks = {"", "/ff:ff:ff:ff:ff:00", "/01:00:00:00:00:00",
                                                     "/00:00:00:00:00:03"};
inline const std::array<std::string, 4> kIpTexts = {"10.0.0.1", "10.0.0.2", "192.168.1.1", "10.0.0.3"};
inline const std::array<std::string, 5> kIpMasks = {"", "/24", "/8", "/31", "/255.255.0.0"};
inline const std::array<std::string, 3> kIp6Texts = {"2001:db8::1", "2001:db8::2", "2001:db8::81"};
inline const std::array<std::string, 4> kIp6Masks = {"", "/64", "/127", "/121"};
inline const std::array<std::string, 4> kPortTexts = {"80", "53", "0", "443"};
inline const std::array<std::string, 3> kPortMasks = {"", "/0xfff0", "/0x1"};
inline const std::array<std::string, 5> kTtlTexts = {"0", "1", "2", "64", "63"};

// Every random draw is a statement of its own (or sequenced by ?:, <<, a call's argument): the
// operands of + are evaluated in an unspecified order (GCC right to left, clang left to right) and
// a round must not depend on the compiler -- the fuzzer is built with clang, the unit tests that
// replay its inputs often with GCC. The order is the one GCC used when the unit test's seeds were
// chosen, so that they keep their rounds (CACHE_PROPERTY_SEED=<seed> reproduces the same one).
struct RuleGen {
    Engine& rng;

    std::string mac() { return oneOf(rng, kMacTexts); }
    std::string ip() { return oneOf(rng, kIpTexts); }
    std::string port() {
        std::string n = std::to_string(1 + pick(rng, kPorts));
        return chance(rng, 50) ? n : "p" + n;
    }
    std::string tos() { static const std::array<std::string, 3> t = {"0", "32", "184"}; return oneOf(rng, t); }

    static bool isV4(Cls c) { return c == Cls::kIp || c == Cls::kTcp || c == Cls::kUdp || c == Cls::kIcmp; }
    static bool isV6(Cls c) { return c == Cls::kIpv6 || c == Cls::kTcp6 || c == Cls::kUdp6 || c == Cls::kIcmp6; }
    static bool isTransport(Cls c) { return c == Cls::kTcp || c == Cls::kUdp || c == Cls::kTcp6 || c == Cls::kUdp6; }

    std::string classText(Cls c) {
        switch (c) {
        case Cls::kAny: return "";
        case Cls::kIp: return chance(rng, 70) ? "ip" : "dl_type=0x0800";
        case Cls::kTcp: return chance(rng, 70) ? "tcp" : "dl_type=0x0800,nw_proto=6";
        case Cls::kUdp: return chance(rng, 70) ? "udp" : "ip,nw_proto=17";
        case Cls::kIcmp: return "icmp";
        case Cls::kArp: return chance(rng, 80) ? "arp" : "dl_type=0x0806";
        case Cls::kIpv6: return "ipv6";
        case Cls::kTcp6: return "tcp6";
        case Cls::kUdp6: return "udp6";
        case Cls::kIcmp6: return "icmp6";
        case Cls::kOtherType: return chance(rng, 50) ? "dl_type=0x9000" : "dl_type=0x05ff";
        }
        return "";
    }

    std::string l2Field() {
        switch (pick(rng, 10)) {
        case 0: case 1: return "in_port=" + port();
        case 2: {
            std::string mask = oneOf(rng, kMacMasks);
            return "dl_src=" + mac() + mask;
        }
        case 3: {
            std::string mask = oneOf(rng, kMacMasks);
            std::string value = mac();
            return (chance(rng, 50) ? "dl_dst=" : "eth_dst=") + value + mask;
        }
        case 4: {
            static const std::array<std::string, 4> v = {"10", "20", "0", "0xffff"};
            return "dl_vlan=" + oneOf(rng, v);
        }
        case 5: return "dl_vlan_pcp=" + std::string(chance(rng, 50) ? "0" : "5");
        case 6: {
            static const std::array<std::string, 4> v = {"0x1000/0x1000", "0/0x1000", "0xa00a/0xefff", "0x0014/0x0fff"};
            return "vlan_tci=" + oneOf(rng, v);
        }
        case 7:
            if (chance(rng, 20)) return "tun_src=192.0.2.1";
            return std::string("tun_id=") + (chance(rng, 50) ? "0" : chance(rng, 50) ? "5" : "4/0xc");
        case 8: return std::string("metadata=") + (chance(rng, 50) ? "0x1" : "0x10/0xf0");
        default: return "in_port=" + port();
        }
    }

    std::string l3Field(Cls c) {
        if (isV4(c)) {
            switch (pick(rng, 9)) {
            case 0: {
                std::string mask = oneOf(rng, kIpMasks);
                return "nw_src=" + ip() + mask;
            }
            case 1: {
                std::string mask = oneOf(rng, kIpMasks);
                return "nw_dst=" + ip() + mask;
            }
            case 2: {
                std::string mask = oneOf(rng, kIpMasks);
                std::string value = ip();
                return (chance(rng, 50) ? "ip_src=" : "ip_dst=") + value + mask;
            }
            case 3: return "nw_tos=" + tos();
            case 4: return "ip_dscp=" + std::string(chance(rng, 50) ? "8" : "46");
            case 5: return "nw_ecn=" + std::to_string(pick(rng, 2));
            case 6: case 7: return "nw_ttl=" + oneOf(rng, kTtlTexts);
            default: {
                static const std::array<std::string, 4> p = {"6", "17", "1", "47"};
                return "nw_proto=" + oneOf(rng, p);
            }
            }
        }
        if (isV6(c)) {
            switch (pick(rng, 7)) {
            case 0: {
                std::string mask = oneOf(rng, kIp6Masks);
                return "ipv6_src=" + oneOf(rng, kIp6Texts) + mask;
            }
            case 1: {
                std::string mask = oneOf(rng, kIp6Masks);
                return "ipv6_dst=" + oneOf(rng, kIp6Texts) + mask;
            }
            case 2: return "ipv6_label=" + std::string(chance(rng, 50) ? "0x12345" : "0/0xf0000");
            case 3: return "nw_tos=" + tos();
            case 4: return "nw_ttl=" + oneOf(rng, kTtlTexts);
            case 5: return "nw_ecn=1";
            default: {
                static const std::array<std::string, 3> p = {"6", "17", "58"};
                return "nw_proto=" + oneOf(rng, p);
            }
            }
        }
        if (c == Cls::kArp) {
            switch (pick(rng, 6)) {
            case 0: {
                std::string mask = oneOf(rng, kIpMasks);
                return "arp_spa=" + ip() + mask;
            }
            case 1: return "arp_tpa=" + ip();
            case 2: return "arp_op=" + std::to_string(1 + pick(rng, 2));
            case 3: {
                std::string mask = oneOf(rng, kMacMasks);
                return "arp_sha=" + mac() + mask;
            }
            case 4: return "arp_tha=" + (chance(rng, 50) ? std::string("00:00:00:00:00:00") : mac());
            default: return "nw_src=" + ip();
            }
        }
        return l2Field();
    }

    std::string l4Field(Cls c) {
        if (isTransport(c)) {
            std::string side = chance(rng, 50) ? "src=" : "dst=";
            std::string prefix = "tp_";
            if (chance(rng, 30)) prefix = c == Cls::kTcp || c == Cls::kTcp6 ? "tcp_" : "udp_";
            std::string mask = oneOf(rng, kPortMasks);
            return prefix + side + oneOf(rng, kPortTexts) + mask;
        }
        if (c == Cls::kIcmp) return chance(rng, 60) ? "icmp_type=" + std::to_string(oneOf(rng, kIcmpTypes).first)
                                                   : "icmp_code=" + std::to_string(pick(rng, 2));
        if (c == Cls::kIcmp6) return chance(rng, 60) ? "icmpv6_type=" + std::to_string(oneOf(rng, kIcmp6Types).first)
                                                    : "icmpv6_code=" + std::to_string(pick(rng, 4));
        return l3Field(c);
    }

    // One action (never goto_table, never NORMAL or CONTROLLER).
    std::string action(Cls c) {
        for (;;) {
            switch (pick(rng, 24)) {
            case 0: case 1: case 2: return "output:" + port();
            case 3: return std::to_string(1 + pick(rng, kPorts));  // bare port number
            case 4: return chance(rng, 50) ? "IN_PORT" : chance(rng, 80) ? "output:IN_PORT" : "LOCAL";
            case 5: return chance(rng, 50) ? "FLOOD" : "ALL";
            case 6: {
                std::string name = chance(rng, 50) ? "mod_vlan_vid:" : "set_vlan_vid:";
                return name + (chance(rng, 50) ? "10" : "30");
            }
            case 7: return "mod_vlan_pcp:" + std::to_string(chance(rng, 50) ? 0 : 3);
            case 8: return chance(rng, 70) ? "strip_vlan" : "pop_vlan";
            case 9: return "push_vlan:" + std::string(chance(rng, 70) ? "0x8100" : "0x88a8");
            case 10: return chance(rng, 50) ? "set_field:40->vlan_vid" : "set_field:6->vlan_pcp";
            case 11: {
                std::string value = mac();
                return (chance(rng, 50) ? "mod_dl_src:" : "mod_dl_dst:") + value;
            }
            case 12: {
                std::string field = chance(rng, 50) ? "->eth_dst" : "->eth_src";
                return "set_field:" + mac() + field;
            }
            case 13:
                switch (pick(rng, 5)) {
                case 0: return "set_tunnel:" + std::to_string(pick(rng, 3));
                case 1: return "set_tunnel64:0x5";
                case 2: return "set_field:7->tun_id";
                case 3: return "set_field:192.0.2.9->tun_dst";
                default: return "set_field:" + std::to_string(1 + pick(rng, 2)) + "->metadata";
                }
            case 14: case 15: {
                int t = pick(rng, 4);
                switch (pick(rng, 3)) {
                case 0: return "resubmit(," + std::to_string(t) + ")";
                case 1: return "resubmit:" + port();
                default: return "resubmit(" + port() + "," + std::to_string(t) + ")";
                }
            }
            case 16: return "dec_ttl";
            case 17:
                if (isV4(c)) {
                    std::string value = ip();
                    return (chance(rng, 50) ? "mod_nw_src:" : "mod_nw_dst:") + value;
                }
                continue;
            case 18:
                if (isV4(c)) {
                    std::string field = chance(rng, 50) ? "->ip_src" : "->nw_dst";
                    return "set_field:" + ip() + field;
                }
                continue;
            case 19:
                if (isV4(c) || isV6(c)) return chance(rng, 50) ? "mod_nw_tos:" + tos() : "set_field:8->ip_dscp";
                continue;
            case 20:
                if (isV4(c) || isV6(c))
                    return chance(rng, 50) ? "mod_nw_ttl:" + oneOf(rng, kTtlTexts)
                                           : "set_field:" + oneOf(rng, kTtlTexts) + "->nw_ttl";
                continue;
            case 21: case 22:
                if (isTransport(c)) {
                    if (chance(rng, 60)) {
                        std::string value = oneOf(rng, kPortTexts);
                        return (chance(rng, 50) ? "mod_tp_src:" : "mod_tp_dst:") + value;
                    }
                    std::string proto = c == Cls::kTcp || c == Cls::kTcp6 ? "tcp" : "udp";
                    if (chance(rng, 50)) proto = "tp";
                    std::string side = chance(rng, 50) ? "_src" : "_dst";
                    return "set_field:" + oneOf(rng, kPortTexts) + "->" + proto + side;
                }
                continue;
            default: return "output:" + port();
            }
        }
    }

    // The actions of a write_actions(...): 1-3 of those an action set may hold (OpenFlow 1.3
    // section 5.10), usually ending with an output so that the set does something.
    std::string actionSet(Cls c) {
        std::string out;
        int n = 1 + pick(rng, 3);
        for (int i = 0; i < n;) {
            std::string a = action(c);
            if (a.starts_with("resubmit") || a.find("metadata") != std::string::npos) continue;
            out += (i++ ? "," : "") + a;
        }
        if (chance(rng, 60)) out += ",output:" + port();
        return out;
    }

    // A table-miss rule for table 0 with random actions.
    std::string tableMiss() {
        std::string out = port();
        return "priority=0,cookie=0xff,actions=" + action(Cls::kAny) + ",output:" + out;
    }

    std::string rule(int cookie) {
        std::ostringstream r;
        int table = chance(rng, 50) ? 0 : 1 + pick(rng, 3);
        if (table || chance(rng, 20)) r << "table=" << table << ",";
        static const std::array<int, 7> kPrios = {0, 1, 10, 100, 1000, 32768, -1};
        int prio = oneOf(rng, kPrios);
        if (prio >= 0) r << "priority=" << prio << ",";
        r << "cookie=0x" << std::hex << cookie << std::dec;
        static const std::array<Cls, 16> kClasses = {Cls::kAny, Cls::kAny, Cls::kAny, Cls::kAny, Cls::kIp, Cls::kIp,
                                                     Cls::kTcp, Cls::kTcp, Cls::kUdp, Cls::kIcmp, Cls::kArp, Cls::kArp,
                                                     Cls::kIpv6, Cls::kTcp6, Cls::kUdp6, Cls::kOtherType};
        Cls c = oneOf(rng, kClasses);
        if (c == Cls::kIpv6 && chance(rng, 30)) c = Cls::kIcmp6;
        if (std::string ct = classText(c); !ct.empty()) r << "," << ct;
        int fields = pick(rng, 100);
        fields = fields < 25 ? 0 : fields < 60 ? 1 : fields < 85 ? 2 : 3;
        for (int i = 0; i < fields; ++i) {
            int layer = pick(rng, 3);
            r << "," << (layer == 0 ? l2Field() : layer == 1 ? l3Field(c) : l4Field(c));
        }
        r << ",actions=";
        if (chance(rng, 8)) {
            r << (chance(rng, 50) ? "drop" : "");
            return r.str();
        }
        int n = 1 + pick(rng, 4);
        for (int i = 0; i < n; ++i) r << (i ? "," : "") << action(c);
        if (chance(rng, 45)) r << ",output:" << port();  // most rewrites should show in an output
        if (chance(rng, 10)) r << ",clear_actions";
        if (chance(rng, 30)) r << ",write_actions(" << actionSet(c) << ")";
        if (table < 3 && chance(rng, 25)) r << ",goto_table:" << table + 1 + pick(rng, 3 - table);
        return r.str();
    }
};

}  // namespace vs::fuzz::cachefresh
