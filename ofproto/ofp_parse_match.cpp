// Match fields of the flow syntax (ovs-fields(7) names) -> Match (ofp_parse_detail.h).
// OpenFlow 1.3 section 7.2.3.7 (fields), 7.2.3.6 (prerequisites).
#include <arpa/inet.h>

#include <cstddef>
#include <cstring>

#include "ofproto/ofp_parse_detail.h"

namespace vs::ofproto::parse_detail {
namespace {

using dp::FlowKey;

enum class Kind : std::uint8_t {
    kPort,      // in_port
    kMac,       // value[/mask]
    kIpv4,      // addr[/prefix|/mask]
    kIpv6,      // addr[/prefix|/mask]
    kExact8,    // number, no mask
    kExact16,   // number, no mask
    kMasked16,  // number[/mask]
    kMasked32,
    kMasked64,
    kDlVlan, kVlanPcp, kVlanTci,
    kTos, kDscp, kEcn,
};

struct FieldSpec {
    std::string_view name;
    Kind kind;
    std::size_t offset;
    Prereq prereq;
    std::uint64_t max = 0;  // numeric kinds: largest value (and mask)
};

constexpr FieldSpec kFields[] = {
    {"in_port", Kind::kPort, offsetof(FlowKey, in_port), Prereq::kNone},
    {"dl_src", Kind::kMac, offsetof(FlowKey, dl_src), Prereq::kNone},
    {"dl_dst", Kind::kMac, offsetof(FlowKey, dl_dst), Prereq::kNone},
    {"eth_src", Kind::kMac, offsetof(FlowKey, dl_src), Prereq::kNone},
    {"eth_dst", Kind::kMac, offsetof(FlowKey, dl_dst), Prereq::kNone},
    {"dl_type", Kind::kExact16, offsetof(FlowKey, dl_type), Prereq::kNone, 0xffff},
    {"eth_type", Kind::kExact16, offsetof(FlowKey, dl_type), Prereq::kNone, 0xffff},
    {"dl_vlan", Kind::kDlVlan, offsetof(FlowKey, vlan_tci), Prereq::kNone},
    {"dl_vlan_pcp", Kind::kVlanPcp, offsetof(FlowKey, vlan_tci), Prereq::kNone},
    {"vlan_tci", Kind::kVlanTci, offsetof(FlowKey, vlan_tci), Prereq::kNone, 0xffff},
    {"nw_src", Kind::kIpv4, offsetof(FlowKey, nw_src), Prereq::kIpv4OrArp},
    {"nw_dst", Kind::kIpv4, offsetof(FlowKey, nw_dst), Prereq::kIpv4OrArp},
    {"ip_src", Kind::kIpv4, offsetof(FlowKey, nw_src), Prereq::kIpv4},
    {"ip_dst", Kind::kIpv4, offsetof(FlowKey, nw_dst), Prereq::kIpv4},
    {"arp_spa", Kind::kIpv4, offsetof(FlowKey, nw_src), Prereq::kArp},
    {"arp_tpa", Kind::kIpv4, offsetof(FlowKey, nw_dst), Prereq::kArp},
    {"nw_proto", Kind::kExact8, offsetof(FlowKey, nw_proto), Prereq::kIpAnyOrArp, 0xff},
    {"ip_proto", Kind::kExact8, offsetof(FlowKey, nw_proto), Prereq::kIpAny, 0xff},
    {"arp_op", Kind::kExact8, offsetof(FlowKey, nw_proto), Prereq::kArp, 0xff},
    {"nw_tos", Kind::kTos, offsetof(FlowKey, nw_tos), Prereq::kIpAny},
    {"ip_dscp", Kind::kDscp, offsetof(FlowKey, nw_tos), Prereq::kIpAny},
    {"nw_ecn", Kind::kEcn, offsetof(FlowKey, nw_tos), Prereq::kIpAny},
    {"ip_ecn", Kind::kEcn, offsetof(FlowKey, nw_tos), Prereq::kIpAny},
    {"nw_ttl", Kind::kExact8, offsetof(FlowKey, nw_ttl), Prereq::kIpAny, 0xff},
    {"tp_src", Kind::kMasked16, offsetof(FlowKey, tp_src), Prereq::kTransport, 0xffff},
    {"tp_dst", Kind::kMasked16, offsetof(FlowKey, tp_dst), Prereq::kTransport, 0xffff},
    {"tcp_src", Kind::kMasked16, offsetof(FlowKey, tp_src), Prereq::kTcp, 0xffff},
    {"tcp_dst", Kind::kMasked16, offsetof(FlowKey, tp_dst), Prereq::kTcp, 0xffff},
    {"udp_src", Kind::kMasked16, offsetof(FlowKey, tp_src), Prereq::kUdp, 0xffff},
    {"udp_dst", Kind::kMasked16, offsetof(FlowKey, tp_dst), Prereq::kUdp, 0xffff},
    {"sctp_src", Kind::kMasked16, offsetof(FlowKey, tp_src), Prereq::kSctp, 0xffff},
    {"sctp_dst", Kind::kMasked16, offsetof(FlowKey, tp_dst), Prereq::kSctp, 0xffff},
    {"icmp_type", Kind::kExact16, offsetof(FlowKey, tp_src), Prereq::kIcmp, 0xff},
    {"icmp_code", Kind::kExact16, offsetof(FlowKey, tp_dst), Prereq::kIcmp, 0xff},
    {"icmpv6_type", Kind::kExact16, offsetof(FlowKey, tp_src), Prereq::kIcmpv6, 0xff},
    {"icmpv6_code", Kind::kExact16, offsetof(FlowKey, tp_dst), Prereq::kIcmpv6, 0xff},
    {"arp_sha", Kind::kMac, offsetof(FlowKey, arp_sha), Prereq::kArp},
    {"arp_tha", Kind::kMac, offsetof(FlowKey, arp_tha), Prereq::kArp},
    {"ipv6_src", Kind::kIpv6, offsetof(FlowKey, ipv6_src), Prereq::kIpv6},
    {"ipv6_dst", Kind::kIpv6, offsetof(FlowKey, ipv6_dst), Prereq::kIpv6},
    {"ipv6_label", Kind::kMasked32, offsetof(FlowKey, ipv6_label), Prereq::kIpv6, 0xfffff},
    {"tun_id", Kind::kMasked64, offsetof(FlowKey, tun_id), Prereq::kNone, UINT64_MAX},
    {"tun_src", Kind::kIpv4, offsetof(FlowKey, tun_src), Prereq::kNone},
    {"tun_dst", Kind::kIpv4, offsetof(FlowKey, tun_dst), Prereq::kNone},
    {"tunnel_id", Kind::kMasked64, offsetof(FlowKey, tun_id), Prereq::kNone, UINT64_MAX},
    {"metadata", Kind::kMasked64, kMetadataSlot, Prereq::kNone, UINT64_MAX},
};

struct Shorthand {
    std::string_view name;
    std::uint16_t dlType;
    std::optional<std::uint8_t> proto;
};

const Shorthand kShorthands[] = {
    {"ip", dp::kEthTypeIPv4, std::nullopt}, {"ipv6", dp::kEthTypeIPv6, std::nullopt},
    {"arp", dp::kEthTypeArp, std::nullopt}, {"icmp", dp::kEthTypeIPv4, 1},
    {"tcp", dp::kEthTypeIPv4, 6},           {"udp", dp::kEthTypeIPv4, 17},
    {"sctp", dp::kEthTypeIPv4, 132},        {"icmp6", dp::kEthTypeIPv6, 58},
    {"tcp6", dp::kEthTypeIPv6, 6},          {"udp6", dp::kEthTypeIPv6, 17},
    {"sctp6", dp::kEthTypeIPv6, 132},
};

const FieldSpec* findField(std::string_view name) {
    for (const auto& f : kFields)
        if (f.name == name) return &f;
    return nullptr;
}

// Splits "V/M"; `mask` empty when there is no '/'.
void splitMask(std::string_view value, std::string_view& v, std::string_view& mask, bool& hasMask) {
    const std::size_t slash = value.find('/');
    hasMask = slash != std::string_view::npos;
    v = value.substr(0, slash);
    mask = hasMask ? value.substr(slash + 1) : std::string_view();
}

std::uint32_t prefixMask32(std::uint64_t bits) {
    return bits == 0 ? 0 : static_cast<std::uint32_t>(0xffffffffu << (32 - bits));
}

}  // namespace

std::uint8_t* MatchBuilder::bytesOf(Match& m, bool mask, std::size_t offset) {
    if (offset == kMetadataSlot)
        return reinterpret_cast<std::uint8_t*>(mask ? &m.metadata_mask : &m.metadata);
    return reinterpret_cast<std::uint8_t*>(mask ? &m.mask : &m.key) + offset;
}

void MatchBuilder::setBytes(const KeyValue& kv, Slot slot, const void* value, const void* mask) {
    std::uint8_t* key = bytesOf(match_, false, slot.offset);
    std::uint8_t* msk = bytesOf(match_, true, slot.offset);
    const auto* v = static_cast<const std::uint8_t*>(value);
    const auto* m = static_cast<const std::uint8_t*>(mask);
    for (std::size_t i = 0; i < slot.size; ++i) {
        if (((key[i] ^ v[i]) & msk[i] & m[i]) != 0) {
            const KeyValue& earlier = owners_.at(slot.offset);
            fail("'" + std::string(kv.whole) + "' conflicts with '" + std::string(earlier.whole) + "'", kv.offset,
                 kv.whole);
        }
    }
    for (std::size_t i = 0; i < slot.size; ++i) {
        key[i] = static_cast<std::uint8_t>(key[i] | (v[i] & m[i]));
        msk[i] = static_cast<std::uint8_t>(msk[i] | m[i]);
    }
    owners_[slot.offset] = kv;
}

void MatchBuilder::applyShorthand(const KeyValue& kv, std::uint16_t dlType, std::optional<std::uint8_t> proto) {
    if (kv.hasValue) fail("'" + std::string(kv.key) + "' takes no value", kv.offset, kv.whole);
    setScalar<std::uint16_t>(kv, offsetof(FlowKey, dl_type), dlType, 0xffff);
    if (proto) setScalar<std::uint8_t>(kv, offsetof(FlowKey, nw_proto), *proto, 0xff);
}

void MatchBuilder::applyVlan(const KeyValue& kv, std::string_view name) {
    constexpr std::size_t kOff = offsetof(FlowKey, vlan_tci);
    std::string_view v, m;
    bool hasMask = false;
    splitMask(kv.value, v, m, hasMask);
    if (name == "vlan_tci") {
        const auto value = static_cast<std::uint16_t>(numberIn(kv, v, 0xffff));
        const auto mask = hasMask ? static_cast<std::uint16_t>(numberIn(kv, m, 0xffff)) : std::uint16_t{0xffff};
        return setScalar<std::uint16_t>(kv, kOff, value, mask);
    }
    if (hasMask) badValue(kv, "this field cannot be masked");
    if (name == "dl_vlan_pcp") {
        const auto pcp = numberIn(kv, v, 7);
        return setScalar<std::uint16_t>(kv, kOff, static_cast<std::uint16_t>((pcp << 13) | dp::kVlanCfi), 0xf000);
    }
    auto vid = parseNumber(v);
    if (!vid) badValue(kv, "invalid number '" + std::string(v) + "'");
    if (*vid == 0xffff) return setScalar<std::uint16_t>(kv, kOff, 0, 0xffff);
    if (*vid > dp::kVlanVidMask) badValue(kv, "out of range (0..4095, or 0xffff for no 802.1Q tag)");
    setScalar<std::uint16_t>(kv, kOff, static_cast<std::uint16_t>(*vid | dp::kVlanCfi), 0x1fff);
}

void MatchBuilder::applyMacField(const KeyValue& kv, std::size_t offset) {
    std::string_view v, m;
    bool hasMask = false;
    splitMask(kv.value, v, m, hasMask);
    auto value = parseMac(v);
    if (!value) badValue(kv, "invalid Ethernet address");
    std::array<std::uint8_t, 6> mask{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (hasMask) {
        auto parsed = parseMac(m);
        if (!parsed) badValue(kv, "invalid Ethernet address mask");
        mask = *parsed;
    }
    setBytes(kv, Slot{offset, 6}, value->data(), mask.data());
}

void MatchBuilder::applyIpv4Field(const KeyValue& kv, std::size_t offset) {
    std::string_view v, m;
    bool hasMask = false;
    splitMask(kv.value, v, m, hasMask);
    auto addr = parseIpv4(v);
    if (!addr) badValue(kv, "invalid IPv4 address");
    std::uint32_t mask = 0xffffffff;
    if (hasMask && m.find('.') != std::string_view::npos) {
        auto parsed = parseIpv4(m);
        if (!parsed) badValue(kv, "invalid IPv4 netmask");
        mask = *parsed;
    } else if (hasMask) {
        auto bits = parseNumber(m);
        if (!bits || *bits > 32 || m.starts_with("0x")) badValue(kv, "invalid prefix length (0..32)");
        mask = prefixMask32(*bits);
    }
    const std::uint32_t value = htonl(*addr), maskN = htonl(mask);
    setBytes(kv, Slot{offset, 4}, &value, &maskN);
}

void MatchBuilder::applyIpv6Field(const KeyValue& kv, std::size_t offset) {
    std::string_view v, m;
    bool hasMask = false;
    splitMask(kv.value, v, m, hasMask);
    auto addr = parseIpv6(v);
    if (!addr) badValue(kv, "invalid IPv6 address");
    std::array<std::uint8_t, 16> mask;
    mask.fill(0xff);
    if (hasMask && m.find(':') != std::string_view::npos) {
        auto parsed = parseIpv6(m);
        if (!parsed) badValue(kv, "invalid IPv6 netmask");
        mask = *parsed;
    } else if (hasMask) {
        auto bits = parseNumber(m);
        if (!bits || *bits > 128 || m.starts_with("0x")) badValue(kv, "invalid prefix length (0..128)");
        for (std::size_t i = 0; i < 16; ++i) {
            const std::uint64_t have = *bits > i * 8 ? *bits - i * 8 : 0;
            mask[i] = have >= 8 ? 0xff : static_cast<std::uint8_t>(0xff00 >> have);
        }
    }
    setBytes(kv, Slot{offset, 16}, addr->data(), mask.data());
}

void MatchBuilder::applyTos(const KeyValue& kv, std::string_view name) {
    if (kv.value.find('/') != std::string_view::npos) badValue(kv, "this field cannot be masked");
    constexpr std::size_t kOff = offsetof(FlowKey, nw_tos);
    if (name == "nw_tos") {
        const auto tos = numberIn(kv, kv.value, 0xff);
        if (tos & 0x03) badValue(kv, "must be a multiple of 4 (the DSCP bits of the TOS byte; nw_ecn sets the low 2)");
        return setScalar<std::uint8_t>(kv, kOff, static_cast<std::uint8_t>(tos), 0xfc);
    }
    if (name == "ip_dscp")
        return setScalar<std::uint8_t>(kv, kOff, static_cast<std::uint8_t>(numberIn(kv, kv.value, 63) << 2), 0xfc);
    setScalar<std::uint8_t>(kv, kOff, static_cast<std::uint8_t>(numberIn(kv, kv.value, 3)), 0x03);
}

bool MatchBuilder::tryField(const KeyValue& kv) {
    for (const auto& s : kShorthands) {
        if (s.name != kv.key) continue;
        applyShorthand(kv, s.dlType, s.proto);
        uses_.push_back({s.name, Prereq::kNone, kv});
        return true;
    }
    const FieldSpec* f = findField(kv.key);
    if (!f) return false;
    if (!kv.hasValue || kv.value.empty())
        fail(std::string(kv.key) + ": missing value (" + std::string(kv.key) + "=VALUE)", kv.offset, kv.whole);
    switch (f->kind) {
        case Kind::kPort: {
            std::string problem;
            auto port = lookupPort(kv.value, resolver_, problem);
            if (!port) badValue(kv, problem);
            if (*port >= kPortMax && *port != kPortLocal) badValue(kv, "in_port must be a port or LOCAL");
            setScalar<std::uint32_t>(kv, f->offset, *port, 0xffffffff);
            break;
        }
        case Kind::kMac: applyMacField(kv, f->offset); break;
        case Kind::kIpv4: applyIpv4Field(kv, f->offset); break;
        case Kind::kIpv6: applyIpv6Field(kv, f->offset); break;
        case Kind::kDlVlan: case Kind::kVlanPcp: case Kind::kVlanTci: applyVlan(kv, f->name); break;
        case Kind::kTos: case Kind::kDscp: case Kind::kEcn: applyTos(kv, f->name); break;
        default: applyNumeric(kv, f->name); break;
    }
    uses_.push_back({f->name, f->prereq, kv});
    return true;
}

bool MatchBuilder::applyNumeric(const KeyValue& kv, std::string_view name) {
    const FieldSpec& f = *findField(name);
    std::string_view v, m;
    bool hasMask = false;
    splitMask(kv.value, v, m, hasMask);
    const bool maskable = f.kind == Kind::kMasked16 || f.kind == Kind::kMasked32 || f.kind == Kind::kMasked64;
    if (hasMask && !maskable) badValue(kv, "this field cannot be masked");
    const std::uint64_t value = numberIn(kv, v, f.max);
    const std::uint64_t mask = hasMask ? numberIn(kv, m, f.max) : f.max;
    switch (f.kind) {
        case Kind::kExact8: setScalar<std::uint8_t>(kv, f.offset, static_cast<std::uint8_t>(value), 0xff); break;
        case Kind::kExact16: setScalar<std::uint16_t>(kv, f.offset, static_cast<std::uint16_t>(value), 0xffff); break;
        case Kind::kMasked16:
            setScalar<std::uint16_t>(kv, f.offset, static_cast<std::uint16_t>(value), static_cast<std::uint16_t>(mask));
            break;
        case Kind::kMasked32:
            setScalar<std::uint32_t>(kv, f.offset, static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(mask));
            break;
        default: setScalar<std::uint64_t>(kv, f.offset, value, mask); break;
    }
    return true;
}

Match MatchBuilder::finish() {
    for (const auto& use : uses_) {
        if (!prereqMet(match_, use.prereq))
            fail(std::string(use.kv.key) + " " + std::string(prereqText(use.prereq)), use.kv.offset, use.kv.whole);
    }
    dp::applyMask(match_.key, match_.mask, match_.key);
    match_.metadata &= match_.metadata_mask;
    return match_;
}

}  // namespace vs::ofproto::parse_detail
