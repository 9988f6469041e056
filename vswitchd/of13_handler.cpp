#include "vswitchd/of13_handler.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "datapath/clock.h"
#include "vswitchd/of13_convert.h"
#include "vswitchd/of13_meter.h"

namespace vs::vswitchd {
namespace {

namespace of13 = protocol::of13;
namespace code = of13::code;
using of13conv::Refusal;

[[noreturn]] void refuse(std::uint16_t type, std::uint16_t c, std::string message) {
    throw Refusal{type, c, std::move(message)};
}

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

ofproto::FlowMod::Command command(std::uint8_t c) {
    using C = ofproto::FlowMod::Command;
    switch (c) {
    case of13::kAdd: return C::kAdd;
    case of13::kModify: return C::kModify;
    case of13::kModifyStrict: return C::kModifyStrict;
    case of13::kDeleteCmd: return C::kDelete;
    default: return C::kDeleteStrict;
    }
}

// Rules of equal priority overlap when some packet could match both (section 6.4, CHECK_OVERLAP):
// every field both match on agrees where both masks are set.
bool overlaps(const ofproto::Match& a, const ofproto::Match& b) {
    for (std::size_t i = 0; i < dp::FlowKey::kWords; ++i) {
        std::uint64_t both = a.mask.words()[i] & b.mask.words()[i];
        if ((a.key.words()[i] ^ b.key.words()[i]) & both) return false;
    }
    return ((a.metadata ^ b.metadata) & a.metadata_mask & b.metadata_mask) == 0;
}

// What every table supports (OFPMP_TABLE_FEATURES, 7.3.5.5): the instructions, actions, match and
// set_field fields of docs/controller.md "OpenFlow 1.3"; goto_table only to later tables.
of13::TableFeatures tableFeatures(std::uint8_t table) {
    using F = of13::OxmField;
    of13::TableFeatures t;
    t.table_id = table;
    t.name = "table" + std::to_string(table);
    t.metadata_match = ~0ull;
    t.metadata_write = ~0ull;
    t.max_entries = 1000000;
    t.instructions = {1, 2, 3, 4, 5, 6};  // goto_table, write_metadata, write/apply/clear_actions, meter
    for (unsigned n = table + 1u; n <= ofproto::kMaxTable; ++n) t.next_tables.push_back(static_cast<std::uint8_t>(n));
    if (t.next_tables.empty()) t.instructions = {2, 3, 4, 5, 6};
    t.write_actions = t.apply_actions = {0, 17, 18, 23, 24, 25};  // output, push/pop_vlan, set/dec_nw_ttl, set_field
    t.write_actions.push_back(22);  // group (ofproto/group.h)
    t.apply_actions.push_back(22);
    for (F f : {F::kInPort, F::kMetadata, F::kEthDst, F::kEthSrc, F::kEthType, F::kVlanVid, F::kVlanPcp, F::kIpDscp,
                F::kIpEcn, F::kIpProto, F::kIpv4Src, F::kIpv4Dst, F::kTcpSrc, F::kTcpDst, F::kUdpSrc, F::kUdpDst,
                F::kSctpSrc, F::kSctpDst, F::kIcmpv4Type, F::kIcmpv4Code, F::kArpOp, F::kArpSpa, F::kArpTpa, F::kArpSha,
                F::kArpTha, F::kIpv6Src, F::kIpv6Dst, F::kIpv6Flabel, F::kIcmpv6Type, F::kIcmpv6Code, F::kTunnelId})
        t.match.push_back(of13::oxmHeader(f));
    t.wildcards = t.match;
    for (F f : {F::kEthDst, F::kEthSrc, F::kVlanVid, F::kVlanPcp, F::kIpDscp, F::kIpv4Src, F::kIpv4Dst, F::kTcpSrc,
                F::kTcpDst, F::kUdpSrc, F::kUdpDst, F::kSctpSrc, F::kSctpDst, F::kTunnelId})
        t.write_setfield.push_back(of13::oxmHeader(f));
    t.apply_setfield = t.write_setfield;
    return t;
}

std::uint32_t durationSec(std::int64_t ms) { return static_cast<std::uint32_t>(ms / 1000); }
std::uint32_t durationNsec(std::int64_t ms) { return static_cast<std::uint32_t>(ms % 1000 * 1000000); }

}  // namespace

Of13Handler::Reply Of13Handler::handle(const std::string& bridge, const Message& msg, std::string_view raw, State& st) {
    Reply out;
    auto one = [&](of13::Body body) { out.frames.push_back(of13::encode(Message{msg.xid, std::move(body)})); };
    try {
        if (st.role == of13::kRoleSlave &&
            (std::holds_alternative<of13::FlowMod>(msg.body) || std::holds_alternative<of13::PacketOut>(msg.body) ||
             std::holds_alternative<of13::GroupMod>(msg.body) ||
             std::holds_alternative<of13::MeterMod>(msg.body) || std::holds_alternative<of13::PortMod>(msg.body) ||
             std::holds_alternative<of13::TableMod>(msg.body)))
            refuse(of13::kBadRequest, code::kIsSlave, "a slave controller may not change the switch (OpenFlow 1.3.5 6.3.5)");
        std::visit(
            Overload{
                [&](const of13::EchoRequest& e) { one(of13::EchoReply{e.data}); },
                [&](const of13::RoleRequest& q) { one(role(bridge, q, st)); },
                [&](const of13::GetAsyncRequest&) { one(of13::GetAsyncReply{st.async}); },
                [&](const of13::SetAsync& a) { st.async = a; },
                [&](const of13::Experimenter& e) {
                    refuse(of13::kBadRequest, code::kBadExperimenter,
                           "experimenter 0x" + std::to_string(e.experimenter) + " is not supported");
                },
                [&](const of13::FeaturesRequest&) {
                    of13::FeaturesReply f;
                    f.datapath_id = datapathId(bridge);
                    f.n_tables = ofproto::kMaxTable + 1;
                    f.capabilities = 1 | 2 | 4 | 8;  // OFPC_FLOW_STATS | TABLE_STATS | PORT_STATS | GROUP_STATS
                    one(f);
                },
                [&](const of13::GetConfigRequest&) {
                    of13::GetConfigReply c;
                    c.flags = st.flags;
                    c.miss_send_len = st.miss_send_len;
                    one(c);
                },
                [&](const of13::SetConfig& c) {
                    st.flags = c.flags;
                    st.miss_send_len = c.miss_send_len;
                },
                [&](const of13::FlowMod& fm) {
                    if (auto r = flowMod(bridge, fm)) out.frames.push_back(of13::encode(*r));
                },
                [&](const of13::PacketOut& po) { packetOut(bridge, po); },
                [&](const of13::MultipartRequest& m) { out.frames = multipart(bridge, msg.xid, m); },
                [&](const of13::BarrierRequest&) { one(of13::BarrierReply{}); },
                [&](const of13::GroupMod& gm) { groupMod(bridge, gm); },  // of13_group.cpp
                [&](const of13::MeterMod& mm) { of13meter::meterMod(of_, bridge, mm); },
                [&](const of13::PortMod& pm) { portMod(bridge, pm); },  // of13_port.cpp
                [&](const of13::TableMod& tm) {  // 7.3.3: 1.3's config bits are deprecated; accepted, as Open vSwitch
                    if (tm.table_id > ofproto::kMaxTable && tm.table_id != of13::kTableAll)
                        refuse(of13::kTableModFailed, code::kTmBadTable, "table " + std::to_string(tm.table_id) + " is outside 0..253");
                },
                [&](const auto&) {},  // hello, error, echo_reply: nothing to answer
            },
            msg.body);
    } catch (const Refusal& r) {
        out.frames = {of13::encode(of13::makeError(r.type, r.code, raw))};
        out.refused = r.message;
    } catch (const std::exception& e) {  // e.g. the bridge went away: never let a peer stop the loop
        out.frames = {of13::encode(of13::makeError(of13::kBadRequest, code::kReqEperm, raw))};
        out.refused = e.what();
    }
    return out;
}

std::optional<Of13Handler::Message> Of13Handler::flowMod(const std::string& bridge, const of13::FlowMod& fm) {
    ofproto::FlowMod mod;
    mod.command = command(fm.command);
    bool add = fm.command == of13::kAdd;
    if (add && fm.table_id > ofproto::kMaxTable)
        refuse(of13::kFlowModFailed, code::kFmBadTableId, "table " + std::to_string(fm.table_id) + " is outside 0..253");
    if (!add && fm.table_id > ofproto::kMaxTable && fm.table_id != of13::kTableAll)
        refuse(of13::kFlowModFailed, code::kFmBadTableId, "table " + std::to_string(fm.table_id) + " is outside 0..253");
    if (fm.buffer_id != of13::kNoBuffer)
        refuse(of13::kBadRequest, code::kBufferUnknown, "buffer " + std::to_string(fm.buffer_id) + " is unknown (the switch does not buffer)");
    mod.table = fm.table_id;
    mod.priority = fm.priority;
    mod.match = of13conv::toMatch(fm.match);
    mod.actions = of13conv::toActions(fm.instructions);
    mod.cookie = fm.cookie;
    mod.cookie_mask = add ? 0 : fm.cookie_mask;
    mod.idle_timeout = fm.idle_timeout;
    mod.hard_timeout = fm.hard_timeout;
    mod.send_flow_rem = fm.flags & of13::kSendFlowRem;
    mod.reset_counts = fm.flags & of13::kResetCounts;
    bool del = fm.command == of13::kDeleteCmd || fm.command == of13::kDeleteStrict;
    // out_port and out_group filter deletes only; other commands ignore them (7.3.4.2: os-ken
    // leaves them 0 in an add).
    if (del && fm.out_port != of13::kPortAny)
        mod.out_port = of13conv::toOfport(fm.out_port, of13::kFlowModFailed, code::kFmUnknown);
    if (del) mod.out_group = fm.out_group;  // OFPG_ANY is ofproto::kGroupAny
    if (add && (fm.flags & of13::kCheckOverlap)) checkOverlap(bridge, mod);
    if (!del) of13meter::checkFlowMeters(of_, bridge, mod.actions);
    try {
        of_.applyFlowMods(bridge, {mod}, ofproto::Ofproto::FlowLog::kOn);
    } catch (const ofproto::UnknownGroupError& e) {
        refuse(of13::kBadAction, code::kActBadOutGroup, e.what());
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        if (what.find("goto_table") != std::string::npos) refuse(of13::kBadInstruction, code::kInstBadTableId, what);
        refuse(of13::kFlowModFailed, what.find("table") != std::string::npos ? code::kFmBadTableId : code::kFmUnknown, what);
    }
    return std::nullopt;  // OpenFlow acknowledges a flow_mod only by the absence of an error
}

// OpenFlow 1.3.5 section 6.3.5: master/slave requests carry a generation_id that must not go
// back (compared as a signed distance, wrapping); a new master makes the other masters slaves.
of13::RoleReply Of13Handler::role(const std::string& bridge, const of13::RoleRequest& q, State& st) {
    BridgeRoles& br = roles_[bridge];
    if (q.role == of13::kRoleMaster || q.role == of13::kRoleSlave) {
        if (br.generation && static_cast<std::int64_t>(q.generation_id - *br.generation) < 0)
            refuse(of13::kRoleRequestFailed, code::kRoleStale,
                   "generation_id " + std::to_string(q.generation_id) + " is older than " + std::to_string(*br.generation));
        br.generation = q.generation_id;
    }
    if (q.role == of13::kRoleMaster)
        for (State* other : br.sessions)
            if (other != &st && other->role == of13::kRoleMaster) other->role = of13::kRoleSlave;
    if (q.role != of13::kRoleNoChange) st.role = q.role;
    of13::RoleReply rep;
    rep.role = st.role;
    rep.generation_id = br.generation.value_or(0);
    return rep;
}

void Of13Handler::attach(const std::string& bridge, State* st) { roles_[bridge].sessions.push_back(st); }

void Of13Handler::detach(const std::string& bridge, State* st) {
    auto it = roles_.find(bridge);
    if (it == roles_.end()) return;
    std::erase(it->second.sessions, st);
}

void Of13Handler::checkOverlap(const std::string& bridge, const ofproto::FlowMod& fm) const {
    for (const auto& r : of_.rules(bridge, fm.table, ofproto::Match{}))
        if (r->priority == fm.priority && r->table == fm.table && overlaps(r->match, fm.match) && !(r->match == fm.match))
            refuse(of13::kFlowModFailed, code::kFmOverlap,
                   "the rule overlaps an existing rule of priority " + std::to_string(fm.priority));
}

void Of13Handler::packetOut(const std::string& bridge, const of13::PacketOut& po) {
    if (po.buffer_id != of13::kNoBuffer)
        refuse(of13::kBadRequest, code::kBufferUnknown, "buffer " + std::to_string(po.buffer_id) + " is unknown (the switch does not buffer)");
    std::uint32_t in_port = po.in_port == of13::kPortAny ? ofproto::kPortNone
                                                         : of13conv::toOfport(po.in_port, of13::kBadRequest, code::kBadPort);
    auto actions = of13conv::toActions(po.actions, true);
    try {
        of_.packetOut(bridge, std::vector<std::uint8_t>(po.data.begin(), po.data.end()), in_port, actions);
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        refuse(of13::kBadRequest, what.find("in_port") != std::string::npos ? code::kBadPort : code::kBadPacket, what);
    }
}

std::vector<std::string> Of13Handler::multipart(const std::string& bridge, std::uint32_t xid,
                                                const of13::MultipartRequest& req) {
    if (req.flags & of13::kMoreFlag)
        refuse(of13::kBadRequest, code::kBadMultipart, "multipart requests in several parts are not supported");
    of13::MultipartReply rep;
    rep.type = req.type;
    switch (req.type) {
    case of13::kMpDesc:
        rep.desc = {"vswitch project", "userspace datapath", VSWITCH_VERSION, "None", "bridge " + bridge};
        break;
    case of13::kMpFlow: rep.flows = flowStats(bridge, req.flow); break;
    case of13::kMpAggregate:
        for (const auto& f : flowStats(bridge, req.flow)) {
            rep.aggregate.packet_count += f.packet_count;
            rep.aggregate.byte_count += f.byte_count;
            ++rep.aggregate.flow_count;
        }
        break;
    case of13::kMpTable:
        for (const auto& t : of_.tableStats(bridge))
            rep.tables.push_back({t.table, static_cast<std::uint32_t>(t.active), t.lookups, t.matched});
        break;
    case of13::kMpPortDesc: rep.port_descs = ports(bridge); break;
    case of13::kMpTableFeatures:  // a query (an empty request); setting features is refused by the decoder
        for (unsigned t = 0; t <= ofproto::kMaxTable; ++t) rep.table_features.push_back(tableFeatures(static_cast<std::uint8_t>(t)));
        break;
    case of13::kMpGroup: rep.groups = groupStats(bridge, req.group_id); break;  // of13_group.cpp
    case of13::kMpGroupDesc: rep.group_descs = groupDescs(bridge); break;
    case of13::kMpGroupFeatures: rep.group_features = groupFeatures(); break;
    case of13::kMpPortStats: {
        std::optional<std::uint32_t> only;
        if (req.port_no != of13::kPortAny) only = of13conv::toOfport(req.port_no, of13::kBadRequest, code::kBadPort);
        auto ld = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
        for (const auto& row : of_.ports(bridge)) {
            if (only && *only != row.ofport) continue;
            const auto& s = row.port->stats();
            of13::PortStats p;
            p.port_no = of13conv::fromOfport(row.ofport);
            p.rx_packets = ld(s.rx_packets);
            p.tx_packets = ld(s.tx_packets);
            p.rx_bytes = ld(s.rx_bytes);
            p.tx_bytes = ld(s.tx_bytes);
            p.rx_dropped = ld(s.rx_dropped);
            p.tx_dropped = ld(s.tx_dropped);
            rep.ports.push_back(p);
        }
        if (only && rep.ports.empty())
            refuse(of13::kBadRequest, code::kBadPort, "bridge " + bridge + " has no port " + std::to_string(req.port_no));
        break;
    }
    default:
        if (of13meter::multipart(of_, bridge, req, rep)) break;
        refuse(of13::kBadRequest, code::kBadMultipart, "multipart type " + std::to_string(req.type) + " is not supported");
    }
    return of13::encodeMultipart(xid, rep);
}

std::vector<of13::FlowStats> Of13Handler::flowStats(const std::string& bridge, const of13::FlowStatsRequest& req) const {
    if (req.table_id > ofproto::kMaxTable && req.table_id != of13::kTableAll)
        refuse(of13::kBadRequest, code::kBadTableId, "table " + std::to_string(req.table_id) + " is outside 0..253");
    std::vector<of13::FlowStats> out;
    ofproto::Match filter = of13conv::toMatch(req.match);
    std::uint32_t out_port = req.out_port == of13::kPortAny ? ofproto::kPortNone
                                                            : of13conv::toOfport(req.out_port, of13::kBadRequest, code::kBadPort);
    std::int64_t now = dp::monotonicMs();
    for (const auto& r : of_.rules(bridge, req.table_id, filter)) {
        if ((r->cookie & req.cookie_mask) != (req.cookie & req.cookie_mask) || !ofproto::outputsTo(*r, out_port)) continue;
        if (!ofproto::usesGroup(r->actions, req.out_group)) continue;  // OFPG_ANY: every rule
        of13::FlowStats s;
        s.table_id = r->table;
        std::int64_t age = now - r->created_ms;
        s.duration_sec = durationSec(age);
        s.duration_nsec = durationNsec(age);
        s.priority = r->priority;
        s.idle_timeout = r->idle_timeout;
        s.hard_timeout = r->hard_timeout;
        s.flags = r->send_flow_rem ? of13::kSendFlowRem : 0;
        s.cookie = r->cookie;
        s.packet_count = r->stats->packets.load(std::memory_order_relaxed);
        s.byte_count = r->stats->bytes.load(std::memory_order_relaxed);
        s.match = of13conv::fromMatch(r->match);
        std::uint8_t proto = r->match.mask.nw_proto == 0xff ? r->match.key.nw_proto : 0;
        s.instructions = of13conv::fromActions(r->actions, proto);
        out.push_back(std::move(s));
    }
    return out;
}

of13::Port Of13Handler::toWire(const protocol::of::PortDesc& d) {
    of13::Port p;
    p.port_no = of13conv::fromOfport(d.port_no);
    unsigned b[6] = {};
    if (std::sscanf(d.hw_addr.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) == 6)
        for (int i = 0; i < 6; ++i) p.hw_addr[i] = static_cast<std::uint8_t>(b[i]);
    p.name = d.name;
    p.config = d.config | (d.port_down ? of13::kPortConfigDown : 0);
    p.state = d.link_down ? of13::kPortStateLinkDown : of13::kPortStateLive;
    return p;
}

std::vector<of13::Port> Of13Handler::ports(const std::string& bridge) const {
    std::vector<of13::Port> out;
    for (const auto& row : of_.ports(bridge)) {
        of13::Port p;
        p.port_no = of13conv::fromOfport(row.ofport);
        p.hw_addr = row.port->mac().b;
        p.name = row.name;
        p.state = row.port->carrier() ? of13::kPortStateLive : of13::kPortStateLinkDown;
        p.config = row.config;  // port_mod's bits (ofproto/port_config.h)
        out.push_back(p);
    }
    return out;
}

std::uint64_t Of13Handler::datapathId(const std::string& bridge) const {
    for (const auto& p : of_.ports(bridge))
        if (p.ofport == ofproto::kPortLocal) return p.port->mac().toU64();
    return 0;
}

of13::PacketIn Of13Handler::toWire(const ofproto::PacketIn& pin) {
    of13::PacketIn p;
    p.total_len = static_cast<std::uint16_t>(std::min<std::uint32_t>(pin.total_len, 0xffff));
    p.reason = static_cast<std::uint8_t>(pin.reason);
    p.table_id = pin.table_id;
    p.cookie = pin.cookie;
    p.match.fields.push_back(of13::makeOxm(of13::OxmField::kInPort, of13conv::fromOfport(pin.in_ofport)));
    if (pin.tun_id) p.match.fields.push_back(of13::makeOxm(of13::OxmField::kTunnelId, pin.tun_id));
    p.data.assign(pin.frame.begin(), pin.frame.end());
    return p;
}

of13::FlowRemoved Of13Handler::toWire(const ofproto::RemovedRule& r) {
    of13::FlowRemoved f;
    f.cookie = r.rule->cookie;
    f.priority = r.rule->priority;
    f.reason = static_cast<std::uint8_t>(r.reason);
    f.table_id = r.rule->table;
    std::int64_t age = r.removed_ms - r.rule->created_ms;
    f.duration_sec = durationSec(age);
    f.duration_nsec = durationNsec(age);
    f.idle_timeout = r.rule->idle_timeout;
    f.hard_timeout = r.rule->hard_timeout;
    f.packet_count = r.rule->stats->packets.load(std::memory_order_relaxed);
    f.byte_count = r.rule->stats->bytes.load(std::memory_order_relaxed);
    f.match = of13conv::fromMatch(r.rule->match);
    return f;
}

}  // namespace vs::vswitchd
