// OpenFlow 1.3 TLVs: OXM matches (7.2.3), actions (7.2.5), instructions (7.2.4), ports (7.2.1).
#include <algorithm>
#include <bitset>

#include "protocol/of13_detail.h"

namespace vs::protocol::of13 {
namespace {

using detail::fail;
using detail::Reader;
using detail::Writer;

struct FieldInfo {
    std::string_view name;
    std::uint8_t len;
    bool maskable;
};
// Indexed by OxmField (7.2.3.7, table 13).
constexpr FieldInfo kFields[] = {
    {"in_port", 4, false},      {"in_phy_port", 4, false}, {"metadata", 8, true},     {"eth_dst", 6, true},
    {"eth_src", 6, true},       {"eth_type", 2, false},    {"vlan_vid", 2, true},     {"vlan_pcp", 1, false},
    {"ip_dscp", 1, false},      {"ip_ecn", 1, false},      {"ip_proto", 1, false},    {"ipv4_src", 4, true},
    {"ipv4_dst", 4, true},      {"tcp_src", 2, false},     {"tcp_dst", 2, false},     {"udp_src", 2, false},
    {"udp_dst", 2, false},      {"sctp_src", 2, false},    {"sctp_dst", 2, false},    {"icmpv4_type", 1, false},
    {"icmpv4_code", 1, false},  {"arp_op", 2, false},      {"arp_spa", 4, true},      {"arp_tpa", 4, true},
    {"arp_sha", 6, true},       {"arp_tha", 6, true},      {"ipv6_src", 16, true},    {"ipv6_dst", 16, true},
    {"ipv6_flabel", 4, true},   {"icmpv6_type", 1, false}, {"icmpv6_code", 1, false}, {"ipv6_nd_target", 16, false},
    {"ipv6_nd_sll", 6, false},  {"ipv6_nd_tll", 6, false}, {"mpls_label", 4, false},  {"mpls_tc", 1, false},
    {"mpls_bos", 1, false},     {"pbb_isid", 3, true},     {"tunnel_id", 8, true},    {"ipv6_exthdr", 2, true},
};
constexpr std::size_t kNumFields = sizeof kFields / sizeof kFields[0];

std::uint64_t beValue(const std::array<std::uint8_t, 16>& b, std::uint8_t len) {
    std::uint64_t v = 0;
    for (std::uint8_t i = 0; i < len && i < 8; ++i) v = (v << 8) | b[i];
    return v;
}

// Largest legal value of small fields (7.2.3.7); 0 = no check beyond the length.
std::uint64_t maxValue(OxmField f) {
    switch (f) {
    case OxmField::kVlanVid: return 0x1fff;
    case OxmField::kVlanPcp: return 7;
    case OxmField::kIpDscp: return 63;
    case OxmField::kIpEcn: return 3;
    case OxmField::kIpv6Flabel: return 0xfffff;
    case OxmField::kMplsLabel: return 0xfffff;
    case OxmField::kMplsTc: return 7;
    case OxmField::kMplsBos: return 1;
    default: return 0;
    }
}

Oxm readOxm(Reader& r) {
    std::uint16_t cls = r.u16("oxm header");
    std::uint8_t fh = r.u8("oxm header");
    std::uint8_t len = r.u8("oxm header");
    if (cls != kOxmClassBasic)
        fail(kBadMatch, code::kMatchBadField, "OXM class 0x" + std::to_string(cls) + " is not supported (only OPENFLOW_BASIC)");
    unsigned field = fh >> 1;
    bool has_mask = fh & 1;
    if (field >= kNumFields) fail(kBadMatch, code::kMatchBadField, "unknown OXM field " + std::to_string(field));
    const FieldInfo& info = kFields[field];
    if (len != info.len * (has_mask ? 2 : 1))
        fail(kBadMatch, code::kMatchBadLen,
             "OXM " + std::string(info.name) + " has length " + std::to_string(len) + ", expected " +
                 std::to_string(info.len * (has_mask ? 2 : 1)));
    if (has_mask && !info.maskable)
        fail(kBadMatch, code::kMatchBadMask, "OXM " + std::string(info.name) + " cannot be masked");
    Oxm o;
    o.field = static_cast<OxmField>(field);
    o.has_mask = has_mask;
    o.len = info.len;
    auto v = r.bytes(info.len, "oxm value");
    std::copy(v.begin(), v.end(), o.value.begin());
    if (has_mask) {
        auto m = r.bytes(info.len, "oxm mask");
        std::copy(m.begin(), m.end(), o.mask.begin());
        for (std::size_t i = 0; i < info.len; ++i)
            if (o.value[i] & ~o.mask[i])
                fail(kBadMatch, code::kMatchBadWildcards,
                     "OXM " + std::string(info.name) + " value has bits set outside its mask");
    }
    if (std::uint64_t mx = maxValue(o.field); mx && o.uvalue() > mx)
        fail(kBadMatch, code::kMatchBadValue,
             "OXM " + std::string(info.name) + " value " + std::to_string(o.uvalue()) + " exceeds " + std::to_string(mx));
    return o;
}

void writeOxm(Writer& w, const Oxm& o) {
    w.u16(kOxmClassBasic);
    w.u8((static_cast<unsigned>(o.field) << 1) | (o.has_mask ? 1 : 0));
    w.u8(o.len * (o.has_mask ? 2 : 1));
    w.bytes(o.value.data(), o.len);
    if (o.has_mask) w.bytes(o.mask.data(), o.len);
}

std::size_t oxmWireLen(const Oxm& o) { return 4 + o.len * (o.has_mask ? 2u : 1u); }

// The exact (unmasked) value of `f` in `m`, if present.
std::optional<std::uint64_t> exact(const Match& m, OxmField f) {
    const Oxm* o = m.find(f);
    if (!o || o->has_mask) return std::nullopt;
    return o->uvalue();
}

Action readAction(Reader& r, std::uint16_t type, std::uint16_t len) {
    Action a;
    a.type = static_cast<ActionType>(type);
    auto wantLen = [&](std::uint16_t n) {
        if (len != n)
            fail(kBadAction, code::kActBadLen,
                 "action type " + std::to_string(type) + " has length " + std::to_string(len) + ", expected " + std::to_string(n));
    };
    switch (a.type) {
    case ActionType::kOutput:
        wantLen(16);
        a.port = r.u32("output");
        a.max_len = r.u16("output");
        r.skip(6, "output");
        break;
    case ActionType::kCopyTtlOut: case ActionType::kCopyTtlIn: case ActionType::kDecMplsTtl:
    case ActionType::kPopVlan: case ActionType::kDecNwTtl: case ActionType::kPopPbb:
        wantLen(8);
        r.skip(4, "action");
        break;
    case ActionType::kSetMplsTtl: case ActionType::kSetNwTtl:
        wantLen(8);
        a.arg = r.u8("ttl");
        r.skip(3, "ttl");
        break;
    case ActionType::kPushVlan: case ActionType::kPushMpls: case ActionType::kPopMpls: case ActionType::kPushPbb:
        wantLen(8);
        a.ethertype = r.u16("ethertype");
        r.skip(2, "ethertype");
        break;
    case ActionType::kSetQueue: case ActionType::kGroup:
        wantLen(8);
        a.arg = r.u32("action");
        break;
    case ActionType::kSetField: {
        Reader body(r.bytes(len - 4u, "set_field"), kBadAction, code::kActBadSetLen);
        a.field = readOxm(body);
        if (a.field.has_mask) fail(kBadAction, code::kActBadSetArgument, "set_field with a masked OXM");
        std::size_t want = (oxmWireLen(a.field) + 4 + 7) / 8 * 8;
        if (len != want)
            fail(kBadAction, code::kActBadSetLen, "set_field of length " + std::to_string(len) + ", expected " + std::to_string(want));
        break;
    }
    case ActionType::kExperimenter: {
        std::uint32_t vendor = len >= 16 ? r.u32("experimenter") : 0;
        std::uint16_t subtype = len >= 16 ? r.u16("experimenter") : 0;
        if (vendor != kNxVendorId || subtype != kNxPopQueue || len != 16)
            fail(kBadAction, code::kActBadExperimenter, "experimenter actions other than Nicira's pop_queue are not supported");
        r.skip(6, "pop_queue");
        a.arg = subtype;
        break;
    }
    default:
        fail(kBadAction, code::kActBadType, "unknown action type " + std::to_string(type));
    }
    return a;
}

}  // namespace

std::uint64_t Oxm::uvalue() const { return beValue(value, len); }
std::uint64_t Oxm::umask() const { return beValue(mask, len); }

std::uint8_t oxmLength(OxmField f) {
    auto i = static_cast<std::size_t>(f);
    return i < kNumFields ? kFields[i].len : 0;
}
std::uint32_t oxmHeader(OxmField f) {
    return (std::uint32_t{kOxmClassBasic} << 16) | (static_cast<std::uint32_t>(f) << 9) | oxmLength(f);
}

std::string_view oxmName(OxmField f) {
    auto i = static_cast<std::size_t>(f);
    return i < kNumFields ? kFields[i].name : "unknown";
}

Oxm makeOxm(OxmField f, std::uint64_t value, std::optional<std::uint64_t> mask) {
    Oxm o;
    o.field = f;
    o.len = oxmLength(f);
    for (int i = o.len - 1, s = 0; i >= 0; --i, s += 8) o.value[i] = static_cast<std::uint8_t>(s < 64 ? value >> s : 0);
    if (mask) {
        o.has_mask = true;
        for (int i = o.len - 1, s = 0; i >= 0; --i, s += 8) o.mask[i] = static_cast<std::uint8_t>(s < 64 ? *mask >> s : 0);
    }
    return o;
}

Oxm makeOxmBytes(OxmField f, const std::uint8_t* value, const std::uint8_t* mask) {
    Oxm o;
    o.field = f;
    o.len = oxmLength(f);
    std::copy(value, value + o.len, o.value.begin());
    if (mask) {
        o.has_mask = true;
        std::copy(mask, mask + o.len, o.mask.begin());
    }
    return o;
}

const Oxm* Match::find(OxmField f) const {
    for (const auto& o : fields)
        if (o.field == f) return &o;
    return nullptr;
}

std::optional<std::string> checkPrerequisites(const Match& m) {
    auto type = exact(m, OxmField::kEthType);
    auto proto = exact(m, OxmField::kIpProto);
    auto icmp6 = exact(m, OxmField::kIcmpv6Type);
    bool ip = type == 0x0800 || type == 0x86dd;
    for (const auto& o : m.fields) {
        bool ok = true;
        switch (o.field) {
        case OxmField::kInPhyPort: ok = m.find(OxmField::kInPort) != nullptr; break;
        case OxmField::kVlanPcp: {
            const Oxm* vid = m.find(OxmField::kVlanVid);
            ok = vid && (vid->uvalue() & kVlanPresent) && (!vid->has_mask || (vid->umask() & kVlanPresent));
            break;
        }
        case OxmField::kIpDscp: case OxmField::kIpEcn: case OxmField::kIpProto: ok = ip; break;
        case OxmField::kIpv4Src: case OxmField::kIpv4Dst: ok = type == 0x0800; break;
        case OxmField::kTcpSrc: case OxmField::kTcpDst: ok = ip && proto == 6; break;
        case OxmField::kUdpSrc: case OxmField::kUdpDst: ok = ip && proto == 17; break;
        case OxmField::kSctpSrc: case OxmField::kSctpDst: ok = ip && proto == 132; break;
        case OxmField::kIcmpv4Type: case OxmField::kIcmpv4Code: ok = type == 0x0800 && proto == 1; break;
        case OxmField::kArpOp: case OxmField::kArpSpa: case OxmField::kArpTpa: case OxmField::kArpSha:
        case OxmField::kArpTha: ok = type == 0x0806; break;
        case OxmField::kIpv6Src: case OxmField::kIpv6Dst: case OxmField::kIpv6Flabel: case OxmField::kIpv6Exthdr:
            ok = type == 0x86dd; break;
        case OxmField::kIcmpv6Type: case OxmField::kIcmpv6Code: ok = type == 0x86dd && proto == 58; break;
        case OxmField::kIpv6NdTarget: ok = type == 0x86dd && proto == 58 && (icmp6 == 135 || icmp6 == 136); break;
        case OxmField::kIpv6NdSll: ok = type == 0x86dd && proto == 58 && icmp6 == 135; break;
        case OxmField::kIpv6NdTll: ok = type == 0x86dd && proto == 58 && icmp6 == 136; break;
        case OxmField::kMplsLabel: case OxmField::kMplsTc: case OxmField::kMplsBos:
            ok = type == 0x8847 || type == 0x8848; break;
        case OxmField::kPbbIsid: ok = type == 0x88e7; break;
        default: break;
        }
        if (!ok) return std::string(oxmName(o.field));
    }
    return std::nullopt;
}

namespace detail {

Match readMatch(Reader& r) {
    std::uint16_t type = r.u16("match type");
    std::uint16_t len = r.u16("match length");
    if (type != 1) fail(kBadMatch, code::kMatchBadType, "match type " + std::to_string(type) + " is not OFPMT_OXM (1)");
    if (len < 4) fail(kBadMatch, code::kMatchBadLen, "match length " + std::to_string(len) + " is below 4");
    Reader body(r.bytes(len - 4u, "match"), kBadMatch, code::kMatchBadLen);
    r.skip((8 - len % 8) % 8, "match padding");
    Match m;
    std::bitset<kNumFields> seen;
    while (body.left() > 0) {
        Oxm o = readOxm(body);
        auto i = static_cast<std::size_t>(o.field);
        if (seen[i]) fail(kBadMatch, code::kMatchDupField, "OXM " + std::string(oxmName(o.field)) + " appears twice");
        seen[i] = true;
        m.fields.push_back(o);
    }
    if (auto missing = checkPrerequisites(m))
        fail(kBadMatch, code::kMatchBadPrereq, "OXM " + *missing + " without its prerequisite (OpenFlow 1.3.5 7.2.3.6)");
    return m;
}

void writeMatch(Writer& w, const Match& m) {
    std::size_t start = w.size();
    w.u16(1);
    w.u16(0);
    for (const auto& o : m.fields) writeOxm(w, o);
    w.put16At(start + 2, static_cast<std::uint16_t>(w.size() - start));
    w.padTo8();
}

Actions readActions(std::string_view bytes) {
    Reader r(bytes, kBadAction, code::kActBadLen);
    Actions out;
    while (r.left() > 0) {
        std::uint16_t type = r.u16("action header");
        std::uint16_t len = r.u16("action header");
        if (len < 8 || len % 8 != 0)
            fail(kBadAction, code::kActBadLen, "action length " + std::to_string(len) + " is not a multiple of 8 of at least 8");
        r.need(len - 4u, "action body");
        out.push_back(readAction(r, type, len));
    }
    return out;
}

void writeActions(Writer& w, const Actions& actions) {
    for (const auto& a : actions) {
        std::size_t start = w.size();
        w.u16(static_cast<std::uint16_t>(a.type));
        w.u16(0);
        switch (a.type) {
        case ActionType::kOutput: w.u32(a.port); w.u16(a.max_len); w.zeros(6); break;
        case ActionType::kSetMplsTtl: case ActionType::kSetNwTtl: w.u8(a.arg); w.zeros(3); break;
        case ActionType::kPushVlan: case ActionType::kPushMpls: case ActionType::kPopMpls: case ActionType::kPushPbb:
            w.u16(a.ethertype); w.zeros(2); break;
        case ActionType::kSetQueue: case ActionType::kGroup: w.u32(a.arg); break;
        case ActionType::kSetField: writeOxm(w, a.field); w.padTo8(); break;
        case ActionType::kExperimenter: w.u32(kNxVendorId); w.u16(static_cast<std::uint16_t>(a.arg)); w.zeros(6); break;
        default: w.zeros(4); break;
        }
        w.put16At(start + 2, static_cast<std::uint16_t>(w.size() - start));
    }
}

std::vector<Instruction> readInstructions(std::string_view bytes) {
    Reader r(bytes, kBadInstruction, code::kInstBadLen);
    std::vector<Instruction> out;
    std::bitset<8> seen;
    while (r.left() > 0) {
        std::uint16_t type = r.u16("instruction header");
        std::uint16_t len = r.u16("instruction header");
        if (len < 8 || len % 8 != 0)
            fail(kBadInstruction, code::kInstBadLen, "instruction length " + std::to_string(len) + " is not a multiple of 8 of at least 8");
        Reader body(r.bytes(len - 4u, "instruction body"), kBadInstruction, code::kInstBadLen);
        Instruction in;
        in.type = static_cast<InstructionType>(type);
        auto wantLen = [&](std::uint16_t n) {
            if (len != n)
                fail(kBadInstruction, code::kInstBadLen,
                     "instruction type " + std::to_string(type) + " has length " + std::to_string(len) + ", expected " + std::to_string(n));
        };
        switch (in.type) {
        case InstructionType::kGotoTable: wantLen(8); in.table_id = body.u8("goto_table"); break;
        case InstructionType::kWriteMetadata:
            wantLen(24);
            body.skip(4, "write_metadata");
            in.metadata = body.u64("write_metadata");
            in.metadata_mask = body.u64("write_metadata");
            break;
        case InstructionType::kWriteActions: case InstructionType::kApplyActions:
            body.skip(4, "actions instruction");
            in.actions = readActions(body.rest());
            break;
        case InstructionType::kClearActions: wantLen(8); break;
        case InstructionType::kMeter: wantLen(8); in.meter_id = body.u32("meter"); break;
        default:
            if (type == 0xffff) fail(kBadInstruction, code::kInstUnsup, "experimenter instructions are not supported");
            fail(kBadInstruction, code::kInstUnknown, "unknown instruction type " + std::to_string(type));
        }
        if (seen[type]) fail(kBadInstruction, code::kInstUnsup, "instruction type " + std::to_string(type) + " appears twice");
        seen[type] = true;
        out.push_back(std::move(in));
    }
    return out;
}

void writeInstructions(Writer& w, const std::vector<Instruction>& ins) {
    for (const auto& in : ins) {
        std::size_t start = w.size();
        w.u16(static_cast<std::uint16_t>(in.type));
        w.u16(0);
        switch (in.type) {
        case InstructionType::kGotoTable: w.u8(in.table_id); w.zeros(3); break;
        case InstructionType::kWriteMetadata: w.zeros(4); w.u64(in.metadata); w.u64(in.metadata_mask); break;
        case InstructionType::kWriteActions: case InstructionType::kApplyActions:
            w.zeros(4);
            writeActions(w, in.actions);
            break;
        case InstructionType::kMeter: w.u32(in.meter_id); break;
        default: w.zeros(4); break;
        }
        w.put16At(start + 2, static_cast<std::uint16_t>(w.size() - start));
    }
}

Port readPort(Reader& r) {
    Port p;
    p.port_no = r.u32("port");
    r.skip(4, "port");
    auto mac = r.bytes(6, "port");
    std::copy(mac.begin(), mac.end(), p.hw_addr.begin());
    r.skip(2, "port");
    auto name = r.bytes(16, "port");
    p.name = std::string(name.substr(0, std::min(name.find('\0'), name.size())));
    p.config = r.u32("port");
    p.state = r.u32("port");
    p.curr = r.u32("port");
    p.advertised = r.u32("port");
    p.supported = r.u32("port");
    p.peer = r.u32("port");
    p.curr_speed = r.u32("port");
    p.max_speed = r.u32("port");
    return p;
}

void writePort(Writer& w, const Port& p) {
    w.u32(p.port_no);
    w.zeros(4);
    w.bytes(p.hw_addr.data(), 6);
    w.zeros(2);
    w.fixedString(p.name, 16);
    for (std::uint32_t v : {p.config, p.state, p.curr, p.advertised, p.supported, p.peer, p.curr_speed, p.max_speed})
        w.u32(v);
}

}  // namespace detail
}  // namespace vs::protocol::of13
