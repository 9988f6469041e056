#include "vswitchd/of13_convert.h"

#include <arpa/inet.h>

#include <cstddef>
#include <cstring>

#include "ofproto/group.h"
#include "ofproto/meter.h"
#include "ofproto/queue.h"

namespace vs::vswitchd::of13conv {
namespace {

using of13::OxmField;
using ofproto::ActionType;
using ofproto::Field;
namespace code = of13::code;

[[noreturn]] void refuse(std::uint16_t type, std::uint16_t c, std::string message) {
    throw Refusal{type, c, std::move(message)};
}

void setBytes(ofproto::Match& m, std::size_t off, const std::uint8_t* v, const std::uint8_t* mask, std::size_t n) {
    auto* key = reinterpret_cast<std::uint8_t*>(&m.key) + off;
    auto* msk = reinterpret_cast<std::uint8_t*>(&m.mask) + off;
    for (std::size_t i = 0; i < n; ++i) {
        msk[i] = mask ? mask[i] : 0xff;
        key[i] = v[i] & msk[i];
    }
}

const std::uint8_t* maskOf(const of13::Oxm& o) { return o.has_mask ? o.mask.data() : nullptr; }

void applyOxm(ofproto::Match& m, const of13::Oxm& o) {
    auto& k = m.key;
    auto& mk = m.mask;
    std::uint64_t v = o.uvalue();
    switch (o.field) {
    case OxmField::kInPort:
        k.in_port = toOfport(static_cast<std::uint32_t>(v), of13::kBadMatch, code::kMatchBadValue);
        mk.in_port = 0xffffffff;
        break;
    case OxmField::kMetadata:
        m.metadata_mask = o.has_mask ? o.umask() : ~0ull;
        m.metadata = v & m.metadata_mask;
        break;
    case OxmField::kEthDst: setBytes(m, offsetof(dp::FlowKey, dl_dst), o.value.data(), maskOf(o), 6); break;
    case OxmField::kEthSrc: setBytes(m, offsetof(dp::FlowKey, dl_src), o.value.data(), maskOf(o), 6); break;
    case OxmField::kEthType:
        if (v < 0x600) refuse(of13::kBadMatch, code::kMatchBadValue, "eth_type " + std::to_string(v) + " is below 0x600");
        k.dl_type = static_cast<std::uint16_t>(v);
        mk.dl_type = 0xffff;
        break;
    case OxmField::kVlanVid: {
        // OFPVID_NONE (0, exact): no tag. Else the VID with OFPVID_PRESENT; a mask may leave bits out.
        std::uint16_t mask = o.has_mask ? static_cast<std::uint16_t>(o.umask()) : 0x1fff;
        if (!o.has_mask && v == 0) mask = 0xffff;
        k.vlan_tci = static_cast<std::uint16_t>((k.vlan_tci & ~mask) | (v & mask));
        mk.vlan_tci |= mask;
        break;
    }
    case OxmField::kVlanPcp:
        k.vlan_tci = static_cast<std::uint16_t>(k.vlan_tci | (v << 13));
        mk.vlan_tci |= 0xe000;
        break;
    case OxmField::kIpDscp: k.nw_tos |= static_cast<std::uint8_t>(v << 2); mk.nw_tos |= 0xfc; break;
    case OxmField::kIpEcn: k.nw_tos |= static_cast<std::uint8_t>(v); mk.nw_tos |= 0x03; break;
    case OxmField::kIpProto: k.nw_proto = static_cast<std::uint8_t>(v); mk.nw_proto = 0xff; break;
    case OxmField::kArpOp:
        if (v > 0xff) refuse(of13::kBadMatch, code::kMatchBadValue, "arp_op " + std::to_string(v) + " above 255 is not supported");
        k.nw_proto = static_cast<std::uint8_t>(v);
        mk.nw_proto = 0xff;
        break;
    case OxmField::kIpv4Src: case OxmField::kArpSpa:
        setBytes(m, offsetof(dp::FlowKey, nw_src), o.value.data(), maskOf(o), 4);
        break;
    case OxmField::kIpv4Dst: case OxmField::kArpTpa:
        setBytes(m, offsetof(dp::FlowKey, nw_dst), o.value.data(), maskOf(o), 4);
        break;
    case OxmField::kTcpSrc: case OxmField::kUdpSrc: case OxmField::kSctpSrc: case OxmField::kIcmpv4Type:
    case OxmField::kIcmpv6Type:
        k.tp_src = static_cast<std::uint16_t>(v);
        mk.tp_src = 0xffff;
        break;
    case OxmField::kTcpDst: case OxmField::kUdpDst: case OxmField::kSctpDst: case OxmField::kIcmpv4Code:
    case OxmField::kIcmpv6Code:
        k.tp_dst = static_cast<std::uint16_t>(v);
        mk.tp_dst = 0xffff;
        break;
    case OxmField::kArpSha: setBytes(m, offsetof(dp::FlowKey, arp_sha), o.value.data(), maskOf(o), 6); break;
    case OxmField::kArpTha: setBytes(m, offsetof(dp::FlowKey, arp_tha), o.value.data(), maskOf(o), 6); break;
    case OxmField::kIpv6Src: setBytes(m, offsetof(dp::FlowKey, ipv6_src), o.value.data(), maskOf(o), 16); break;
    case OxmField::kIpv6Dst: setBytes(m, offsetof(dp::FlowKey, ipv6_dst), o.value.data(), maskOf(o), 16); break;
    case OxmField::kIpv6Flabel:
        mk.ipv6_label = o.has_mask ? static_cast<std::uint32_t>(o.umask()) & 0xfffff : 0xfffff;
        k.ipv6_label = static_cast<std::uint32_t>(v) & mk.ipv6_label;
        break;
    case OxmField::kTunnelId:
        mk.tun_id = o.has_mask ? o.umask() : ~0ull;
        k.tun_id = v & mk.tun_id;
        break;
    default:
        refuse(of13::kBadMatch, code::kMatchBadField,
               "OXM " + std::string(of13::oxmName(o.field)) + " is not supported by this switch's classifier");
    }
}

of13::Oxm bytesOxm(OxmField f, const std::uint8_t* key, const std::uint8_t* mask, std::size_t n) {
    bool full = true;
    for (std::size_t i = 0; i < n; ++i) full = full && mask[i] == 0xff;
    return of13::makeOxmBytes(f, key, full ? nullptr : mask);
}

bool anyBits(const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i]) return true;
    return false;
}

// Ports and L4 fields of fromMatch, in OXM order after ip_proto.
void appendTransport(of13::Match& out, const ofproto::Match& m, bool arp) {
    const auto& k = m.key;
    const auto& mk = m.mask;
    std::uint8_t proto = mk.nw_proto == 0xff ? k.nw_proto : 0;
    bool v6 = k.dl_type == dp::kEthTypeIPv6;
    if (!arp && (mk.tp_src || mk.tp_dst)) {
        OxmField src = OxmField::kTcpSrc, dst = OxmField::kTcpDst;
        if (proto == 17) src = OxmField::kUdpSrc, dst = OxmField::kUdpDst;
        if (proto == 132) src = OxmField::kSctpSrc, dst = OxmField::kSctpDst;
        if (proto == 1) src = OxmField::kIcmpv4Type, dst = OxmField::kIcmpv4Code;
        if (proto == 58 && v6) src = OxmField::kIcmpv6Type, dst = OxmField::kIcmpv6Code;
        if (mk.tp_src) out.fields.push_back(of13::makeOxm(src, k.tp_src));
        if (mk.tp_dst) out.fields.push_back(of13::makeOxm(dst, k.tp_dst));
    }
}

// `proto`: the rule's matched IP protocol, which names the L4 field a port rewrite sets.
void appendAction(of13::Actions& out, const ofproto::Action& a, std::uint8_t proto) {
    of13::Action o;
    o.type = of13::ActionType::kOutput;
    o.max_len = 0;
    switch (a.type) {
    case ActionType::kOutput: o.port = fromOfport(a.port); break;
    case ActionType::kNormal: o.port = of13::kPortNormal; break;
    case ActionType::kFlood: o.port = of13::kPortFlood; break;
    case ActionType::kAll: o.port = of13::kPortAll; break;
    case ActionType::kInPort: o.port = of13::kPortInPort; break;
    case ActionType::kLocal: o.port = of13::kPortLocal; break;
    case ActionType::kController: o.port = of13::kPortController; o.max_len = a.max_len; break;
    case ActionType::kStripVlan: o.type = of13::ActionType::kPopVlan; break;
    case ActionType::kPushVlan:
        o.type = of13::ActionType::kPushVlan;
        o.ethertype = static_cast<std::uint16_t>(a.value);
        break;
    case ActionType::kDecTtl: o.type = of13::ActionType::kDecNwTtl; break;
    case ActionType::kSetVlanVid:
        o.type = of13::ActionType::kSetField;
        o.field = of13::makeOxm(OxmField::kVlanVid, (a.value & 0xfff) | of13::kVlanPresent);
        break;
    case ActionType::kSetVlanPcp:
        o.type = of13::ActionType::kSetField;
        o.field = of13::makeOxm(OxmField::kVlanPcp, a.value & 7);
        break;
    case ActionType::kSetField: {
        o.type = of13::ActionType::kSetField;
        switch (a.field) {
        case Field::kEthSrc: o.field = of13::makeOxmBytes(OxmField::kEthSrc, a.mac.data()); break;
        case Field::kEthDst: o.field = of13::makeOxmBytes(OxmField::kEthDst, a.mac.data()); break;
        case Field::kVlanVid: o.field = of13::makeOxm(OxmField::kVlanVid, (a.value & 0xfff) | of13::kVlanPresent); break;
        case Field::kVlanPcp: o.field = of13::makeOxm(OxmField::kVlanPcp, a.value & 7); break;
        case Field::kIpv4Src: o.field = of13::makeOxm(OxmField::kIpv4Src, a.value); break;
        case Field::kIpv4Dst: o.field = of13::makeOxm(OxmField::kIpv4Dst, a.value); break;
        case Field::kIpTos: o.field = of13::makeOxm(OxmField::kIpDscp, (a.value & 0xff) >> 2); break;
        case Field::kIpTtl: o.type = of13::ActionType::kSetNwTtl; o.arg = static_cast<std::uint32_t>(a.value & 0xff); break;
        case Field::kTpSrc:
            o.field = of13::makeOxm(proto == 17 ? OxmField::kUdpSrc : proto == 132 ? OxmField::kSctpSrc : OxmField::kTcpSrc, a.value);
            break;
        case Field::kTpDst:
            o.field = of13::makeOxm(proto == 17 ? OxmField::kUdpDst : proto == 132 ? OxmField::kSctpDst : OxmField::kTcpDst, a.value);
            break;
        case Field::kTunId: o.field = of13::makeOxm(OxmField::kTunnelId, a.value); break;
        default: return;  // metadata (write_metadata), tun_dst: no OpenFlow 1.3 action
        }
        break;
    }
    case ActionType::kSetQueue:
        o.type = of13::ActionType::kSetQueue;
        o.arg = static_cast<std::uint32_t>(a.value);
        break;
    case ActionType::kEnqueue: {  // as Open vSwitch encodes it for OpenFlow 1.1+: set_queue, output, pop_queue
        of13::Action q;
        q.type = of13::ActionType::kSetQueue;
        q.arg = static_cast<std::uint32_t>(a.value);
        out.push_back(q);
        o.port = fromOfport(a.port);
        out.push_back(o);
        o = of13::Action{};
        o.type = of13::ActionType::kExperimenter;
        o.arg = of13::kNxPopQueue;
        break;
    }
    case ActionType::kPopQueue:
        o.type = of13::ActionType::kExperimenter;
        o.arg = of13::kNxPopQueue;
        break;
    case ActionType::kGroup:
        o.type = of13::ActionType::kGroup;
        o.arg = static_cast<std::uint32_t>(a.value);
        break;
    default: return;  // drop, resubmit: nothing to say in OpenFlow 1.3
    }
    out.push_back(o);
}

ofproto::Action toAction(const of13::Action& a, bool packet_out) {
    ofproto::Action o;
    switch (a.type) {
    case of13::ActionType::kOutput:
        switch (a.port) {
        case of13::kPortNormal: o.type = ActionType::kNormal; break;
        case of13::kPortFlood: o.type = ActionType::kFlood; break;
        case of13::kPortAll: o.type = ActionType::kAll; break;
        case of13::kPortInPort: o.type = ActionType::kInPort; break;
        case of13::kPortLocal: o.type = ActionType::kLocal; break;
        case of13::kPortController: o.type = ActionType::kController; o.max_len = a.max_len; break;
        case of13::kPortTable:
            if (!packet_out) refuse(of13::kBadAction, code::kActBadOutPort, "output:TABLE is only valid in packet_out");
            o.type = ActionType::kOutput;
            o.port = ofproto::kPortTable;
            break;
        default:
            if (a.port == 0 || a.port >= ofproto::kPortMax)
                refuse(of13::kBadAction, code::kActBadOutPort, "output to port " + std::to_string(a.port) + " is not valid");
            o.type = ActionType::kOutput;
            o.port = a.port;
        }
        return o;
    case of13::ActionType::kPopVlan: o.type = ActionType::kStripVlan; return o;
    case of13::ActionType::kPushVlan:
        if (a.ethertype != dp::kEthTypeVlan && a.ethertype != dp::kEthTypeQinQ)
            refuse(of13::kBadAction, code::kActBadArgument, "push_vlan ethertype must be 0x8100 or 0x88a8");
        o.type = ActionType::kPushVlan;
        o.value = a.ethertype;
        return o;
    case of13::ActionType::kDecNwTtl: o.type = ActionType::kDecTtl; return o;
    case of13::ActionType::kSetNwTtl:
        o.type = ActionType::kSetField;
        o.field = Field::kIpTtl;
        o.value = a.arg;
        return o;
    case of13::ActionType::kGroup:  // existence is the switch's check (ofproto::UnknownGroupError)
        if (a.arg > ofproto::kGroupMax)
            refuse(of13::kBadAction, code::kActBadOutGroup, "group " + std::to_string(a.arg) + " is above OFPG_MAX");
        o.type = ActionType::kGroup;
        o.value = a.arg;
        return o;
    case of13::ActionType::kSetQueue:  // any queue id of the classes qos.h can build (ofproto/queue.h)
        if (a.arg > ofproto::kMaxQueueId)
            refuse(of13::kBadAction, 8 /* OFPBAC_BAD_QUEUE */, "queue " + std::to_string(a.arg) + " is above " + std::to_string(ofproto::kMaxQueueId));
        o.type = ActionType::kSetQueue;
        o.value = a.arg;
        return o;
    case of13::ActionType::kExperimenter:  // the decoder lets only Nicira's pop_queue through
        o.type = ActionType::kPopQueue;
        return o;
    case of13::ActionType::kSetField: break;
    default:
        refuse(of13::kBadAction, code::kActBadType,
               "action type " + std::to_string(static_cast<int>(a.type)) + " (MPLS, PBB or TTL copy) is not supported");
    }
    o.type = ActionType::kSetField;
    std::uint64_t v = a.field.uvalue();
    switch (a.field.field) {
    case OxmField::kEthSrc: o.field = Field::kEthSrc; std::memcpy(o.mac.data(), a.field.value.data(), 6); break;
    case OxmField::kEthDst: o.field = Field::kEthDst; std::memcpy(o.mac.data(), a.field.value.data(), 6); break;
    case OxmField::kVlanVid: o.field = Field::kVlanVid; o.value = v & 0xfff; break;
    case OxmField::kVlanPcp: o.field = Field::kVlanPcp; o.value = v; break;
    case OxmField::kIpv4Src: o.field = Field::kIpv4Src; o.value = v; break;
    case OxmField::kIpv4Dst: o.field = Field::kIpv4Dst; o.value = v; break;
    case OxmField::kIpDscp: o.field = Field::kIpTos; o.value = v << 2; break;
    case OxmField::kTcpSrc: case OxmField::kUdpSrc: case OxmField::kSctpSrc: o.field = Field::kTpSrc; o.value = v; break;
    case OxmField::kTcpDst: case OxmField::kUdpDst: case OxmField::kSctpDst: o.field = Field::kTpDst; o.value = v; break;
    case OxmField::kTunnelId: o.field = Field::kTunId; o.value = v; break;
    case OxmField::kMetadata: o.field = Field::kMetadata; o.value = v; break;
    default:
        refuse(of13::kBadAction, code::kActBadSetType,
               "set_field of " + std::string(of13::oxmName(a.field.field)) + " is not supported");
    }
    return o;
}

}  // namespace

std::uint32_t toOfport(std::uint32_t port, std::uint16_t err_type, std::uint16_t err_code) {
    if (port >= of13::kPortMax) return port & 0xffff;  // reserved: same low 16 bits as OpenFlow 1.0
    if (port == 0 || port >= ofproto::kPortMax)
        refuse(err_type, err_code, "port " + std::to_string(port) + " is outside 1.." + std::to_string(ofproto::kPortMax - 1));
    return port;
}

std::uint32_t fromOfport(std::uint32_t ofport) { return ofport >= ofproto::kPortMax ? 0xffff0000u | ofport : ofport; }

ofproto::Match toMatch(const of13::Match& m) {
    ofproto::Match out;
    for (const auto& o : m.fields) applyOxm(out, o);
    dp::applyMask(out.key, out.mask, out.key);
    return out;
}

of13::Match fromMatch(const ofproto::Match& m) {
    of13::Match out;
    const auto& k = m.key;
    const auto& mk = m.mask;
    auto add = [&](of13::Oxm o) { out.fields.push_back(o); };
    if (mk.in_port) add(of13::makeOxm(OxmField::kInPort, fromOfport(k.in_port)));
    if (m.metadata_mask)
        add(of13::makeOxm(OxmField::kMetadata, m.metadata, m.metadata_mask == ~0ull ? std::nullopt : std::optional(m.metadata_mask)));
    if (anyBits(mk.dl_dst, 6)) add(bytesOxm(OxmField::kEthDst, k.dl_dst, mk.dl_dst, 6));
    if (anyBits(mk.dl_src, 6)) add(bytesOxm(OxmField::kEthSrc, k.dl_src, mk.dl_src, 6));
    if (mk.dl_type) add(of13::makeOxm(OxmField::kEthType, k.dl_type));
    std::uint16_t vmask = mk.vlan_tci & 0x1fff;
    if (mk.vlan_tci == 0xffff && k.vlan_tci == 0) {
        add(of13::makeOxm(OxmField::kVlanVid, 0));
    } else {
        if (vmask) add(of13::makeOxm(OxmField::kVlanVid, k.vlan_tci & 0x1fff, vmask == 0x1fff ? std::nullopt : std::optional<std::uint64_t>(vmask)));
        if (mk.vlan_tci & 0xe000) add(of13::makeOxm(OxmField::kVlanPcp, k.vlan_tci >> 13));
    }
    bool arp = mk.dl_type && k.dl_type == dp::kEthTypeArp;
    bool v6 = mk.dl_type && k.dl_type == dp::kEthTypeIPv6;
    if (mk.nw_tos & 0xfc) add(of13::makeOxm(OxmField::kIpDscp, k.nw_tos >> 2));
    if (mk.nw_tos & 0x03) add(of13::makeOxm(OxmField::kIpEcn, k.nw_tos & 3));
    if (mk.nw_proto) add(of13::makeOxm(arp ? OxmField::kArpOp : OxmField::kIpProto, k.nw_proto));
    auto ip4 = [&](OxmField f, const std::uint32_t& key, const std::uint32_t& mask) {
        if (mask) add(bytesOxm(f, reinterpret_cast<const std::uint8_t*>(&key), reinterpret_cast<const std::uint8_t*>(&mask), 4));
    };
    ip4(arp ? OxmField::kArpSpa : OxmField::kIpv4Src, k.nw_src, mk.nw_src);
    ip4(arp ? OxmField::kArpTpa : OxmField::kIpv4Dst, k.nw_dst, mk.nw_dst);
    appendTransport(out, m, arp);
    if (anyBits(mk.arp_sha, 6)) add(bytesOxm(OxmField::kArpSha, k.arp_sha, mk.arp_sha, 6));
    if (anyBits(mk.arp_tha, 6)) add(bytesOxm(OxmField::kArpTha, k.arp_tha, mk.arp_tha, 6));
    if (v6 || anyBits(mk.ipv6_src, 16)) {
        if (anyBits(mk.ipv6_src, 16)) add(bytesOxm(OxmField::kIpv6Src, k.ipv6_src, mk.ipv6_src, 16));
        if (anyBits(mk.ipv6_dst, 16)) add(bytesOxm(OxmField::kIpv6Dst, k.ipv6_dst, mk.ipv6_dst, 16));
    } else if (anyBits(mk.ipv6_dst, 16)) {
        add(bytesOxm(OxmField::kIpv6Dst, k.ipv6_dst, mk.ipv6_dst, 16));
    }
    if (mk.ipv6_label)
        add(of13::makeOxm(OxmField::kIpv6Flabel, k.ipv6_label, mk.ipv6_label == 0xfffff ? std::nullopt : std::optional<std::uint64_t>(mk.ipv6_label)));
    if (mk.tun_id) add(of13::makeOxm(OxmField::kTunnelId, k.tun_id, mk.tun_id == ~0ull ? std::nullopt : std::optional(mk.tun_id)));
    return out;
}

ofproto::ActionList toActions(const of13::Actions& actions, bool packet_out) {
    ofproto::ActionList out;
    for (const auto& a : actions) out.push_back(toAction(a, packet_out));
    return out;
}

ofproto::ActionList toActions(const std::vector<of13::Instruction>& ins) {
    const of13::Instruction* by_type[7] = {};
    for (const auto& i : ins) by_type[static_cast<int>(i.type)] = &i;
    using IT = of13::InstructionType;
    auto get = [&](IT t) { return by_type[static_cast<int>(t)]; };
    ofproto::ActionList out;
    if (auto* m = get(IT::kMeter)) {  // first: the meter runs before apply-actions (section 5.9)
        if (m->meter_id == 0 || m->meter_id > ofproto::kMaxMeterId)
            refuse(of13::kMeterModFailed, code::kMmInvalidMeter, "meter " + std::to_string(m->meter_id) + " is not a meter id (1..0xffff0000)");
        ofproto::Action a{ActionType::kMeter};
        a.value = m->meter_id;
        out.push_back(a);
    }
    if (auto* apply = get(IT::kApplyActions)) {
        auto acts = toActions(apply->actions, false);
        out.insert(out.end(), acts.begin(), acts.end());
    }
    if (auto* wm = get(IT::kWriteMetadata)) {
        if (wm->metadata_mask != ~0ull)
            refuse(of13::kBadInstruction, 4 /* OFPBIC_UNSUP_METADATA_MASK */, "write_metadata supports only the full mask");
        ofproto::Action a;
        a.type = ActionType::kSetField;
        a.field = Field::kMetadata;
        a.value = wm->metadata;
        out.push_back(a);
    }
    if (get(IT::kClearActions)) out.push_back(ofproto::Action{ActionType::kClearActions});
    if (auto* wa = get(IT::kWriteActions)) {
        auto set = toActions(wa->actions, false);
        ofproto::Action marker{ActionType::kWriteActions};
        marker.value = set.size();
        out.push_back(marker);
        out.insert(out.end(), set.begin(), set.end());
    }
    if (auto* g = get(IT::kGotoTable)) {
        ofproto::Action a{ActionType::kGotoTable};
        a.table = g->table_id;
        out.push_back(a);
    }
    return out;
}

std::vector<of13::Instruction> fromActions(const ofproto::ActionList& actions, std::uint8_t proto) {
    using IT = of13::InstructionType;
    of13::Instruction apply{IT::kApplyActions}, write{IT::kWriteActions};
    std::optional<of13::Instruction> metadata, clear, go, meter;
    bool has_write = false;
    std::size_t set_left = 0;
    for (const auto& a : actions) {
        if (set_left > 0) {
            --set_left;
            appendAction(write.actions, a, proto);
            continue;
        }
        switch (a.type) {
        case ActionType::kClearActions: clear = of13::Instruction{IT::kClearActions}; break;
        case ActionType::kWriteActions: has_write = true; set_left = a.value; break;
        case ActionType::kGotoTable: go = of13::Instruction{IT::kGotoTable}; go->table_id = a.table; break;
        case ActionType::kMeter: meter = of13::Instruction{IT::kMeter}; meter->meter_id = static_cast<std::uint32_t>(a.value); break;
        default:
            if (a.type == ActionType::kSetField && a.field == Field::kMetadata) {
                metadata = of13::Instruction{IT::kWriteMetadata};
                metadata->metadata = a.value;
                metadata->metadata_mask = ~0ull;
            } else {
                appendAction(apply.actions, a, proto);
            }
        }
    }
    std::vector<of13::Instruction> out;
    if (meter) out.push_back(*meter);
    if (!apply.actions.empty()) out.push_back(apply);
    if (clear) out.push_back(*clear);
    if (has_write) out.push_back(write);
    if (metadata) out.push_back(*metadata);
    if (go) out.push_back(*go);
    return out;
}

}  // namespace vs::vswitchd::of13conv
