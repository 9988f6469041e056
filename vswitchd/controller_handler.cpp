#include "vswitchd/controller_handler.h"

#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "datapath/clock.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"

namespace vs::vswitchd {
namespace {

namespace of = protocol::of;
using of::Message;

// Thrown inside the handler: becomes an error reply.
struct Refusal {
    std::string type, code, message;
};
[[noreturn]] void refuse(std::string type, std::string code, std::string message) {
    throw Refusal{std::move(type), std::move(code), std::move(message)};
}

ofproto::FlowMod::Command command(of::FlowModCommand c) {
    using C = ofproto::FlowMod::Command;
    switch (c) {
    case of::FlowModCommand::kAdd: return C::kAdd;
    case of::FlowModCommand::kModify: return C::kModify;
    case of::FlowModCommand::kModifyStrict: return C::kModifyStrict;
    case of::FlowModCommand::kDelete: return C::kDelete;
    case of::FlowModCommand::kDeleteStrict: return C::kDeleteStrict;
    }
    return C::kAdd;
}

// packet_out may name OFPP_TABLE ("output:TABLE" / "TABLE"), which flows may not: spell it as the
// number the parser accepts.
std::string withTablePort(std::string_view actions) {
    std::string out, token;
    auto flush = [&] {
        std::string lower;
        for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out += (lower == "table" || lower == "output:table") ? "output:" + std::to_string(ofproto::kPortTable) : token;
        token.clear();
    };
    int depth = 0;
    for (char c : actions) {
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (c == ',' && depth == 0) {
            flush();
            out += ',';
        } else {
            token += c;
        }
    }
    flush();
    return out;
}

std::string hexMac(std::uint64_t mac) {
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(mac));
    return b;
}

}  // namespace

std::optional<Message> OfRequestHandler::handle(const std::string& bridge, const Message& msg, std::string_view raw) {
    try {
        return std::visit(
            [&](const auto& body) -> std::optional<Message> {
                using T = std::decay_t<decltype(body)>;
                if constexpr (std::is_same_v<T, of::EchoRequest>) return Message{msg.xid, of::EchoReply{body.data}};
                else if constexpr (std::is_same_v<T, of::FeaturesRequest>) return Message{msg.xid, features(bridge)};
                else if constexpr (std::is_same_v<T, of::FlowMod>) return flowMod(bridge, msg);
                else if constexpr (std::is_same_v<T, of::PacketOut>) return packetOut(bridge, msg, raw);
                else if constexpr (std::is_same_v<T, of::MultipartRequest>) return multipart(bridge, msg, raw);
                else if constexpr (std::is_same_v<T, of::BarrierRequest>) return Message{msg.xid, of::BarrierReply{}};
                else if constexpr (std::is_same_v<T, of::EchoReply> || std::is_same_v<T, of::Error> ||
                                   std::is_same_v<T, of::Hello>)
                    return std::nullopt;
                else
                    refuse("bad_request", "bad_type",
                           "the switch does not accept " + std::string(of::typeName(msg.body)) + " messages");
            },
            msg.body);
    } catch (const Refusal& r) {
        return of::makeError(msg.xid, r.type, r.code, r.message, raw);
    } catch (const std::exception& e) {  // e.g. the bridge went away: never let a peer stop the loop
        return of::makeError(msg.xid, "bad_request", "eperm", e.what(), raw);
    }
}

std::optional<Message> OfRequestHandler::flowMod(const std::string& bridge, const Message& msg) {
    const auto& fm = std::get<of::FlowMod>(msg.body);
    auto resolver = [this, bridge](std::string_view n) { return of_.portNumber(bridge, std::string(n)); };
    auto parsed = ofproto::parseFlowMod(fm.flow, command(fm.command), resolver);
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) refuse("flow_mod_failed", "bad_flow", "flow: " + e->message);
    try {
        of_.applyFlowMods(bridge, {std::get<ofproto::FlowMod>(parsed)}, ofproto::Ofproto::FlowLog::kOn);
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        refuse("flow_mod_failed", what.find("table") != std::string::npos ? "bad_table_id" : "unknown", what);
    }
    return std::nullopt;  // OpenFlow acknowledges a flow_mod only by the absence of an error
}

std::optional<Message> OfRequestHandler::packetOut(const std::string& bridge, const Message& msg, std::string_view) {
    const auto& po = std::get<of::PacketOut>(msg.body);
    auto resolver = [this, bridge](std::string_view n) { return of_.portNumber(bridge, std::string(n)); };
    auto parsed = ofproto::parseFlowMod("actions=" + withTablePort(po.actions), ofproto::FlowMod::Command::kAdd, resolver);
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) refuse("bad_action", "bad_syntax", "actions: " + e->message);
    try {
        of_.packetOut(bridge, po.data, po.in_port, std::get<ofproto::FlowMod>(parsed).actions);
    } catch (const std::invalid_argument& e) {
        std::string what = e.what();
        refuse("bad_request", what.find("in_port") != std::string::npos ? "bad_port" : "bad_packet", what);
    }
    return std::nullopt;
}

Message OfRequestHandler::multipart(const std::string& bridge, const Message& msg, std::string_view) {
    const auto& req = std::get<of::MultipartRequest>(msg.body);
    of::MultipartReply rep;
    rep.stats = req.stats;
    switch (req.stats) {
    case of::StatsType::kDesc:
        rep.desc = {"vswitch project", "userspace datapath", VSWITCH_VERSION, "none", "bridge " + bridge};
        break;
    case of::StatsType::kFlow: rep.flows = flowStats(bridge, req.match); break;
    case of::StatsType::kTable:
        for (const auto& t : of_.tableStats(bridge)) rep.tables.push_back({t.table, t.active, t.lookups, t.matched});
        break;
    case of::StatsType::kPortDesc: rep.port_descs = portDescs(bridge); break;
    case of::StatsType::kPort:
        for (const auto& row : of_.ports(bridge)) {
            if (req.port_no && *req.port_no != row.ofport) continue;
            const auto& s = row.port->stats();
            auto ld = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
            rep.ports.push_back({row.ofport, row.name, ld(s.rx_packets), ld(s.tx_packets), ld(s.rx_bytes), ld(s.tx_bytes),
                                 ld(s.rx_dropped), ld(s.tx_dropped)});
        }
        if (req.port_no && rep.ports.empty())
            refuse("bad_request", "bad_port", "bridge " + bridge + " has no port " + std::to_string(*req.port_no));
        break;
    }
    return Message{msg.xid, std::move(rep)};
}

std::vector<of::FlowStats> OfRequestHandler::flowStats(const std::string& bridge, const std::string& filter_text) const {
    ofproto::FlowMod filter;
    filter.table = ofproto::kTableAll;
    if (!filter_text.empty()) {
        auto resolver = [this, bridge](std::string_view n) { return of_.portNumber(bridge, std::string(n)); };
        auto parsed = ofproto::parseFlowFilter(filter_text, resolver);
        if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) refuse("bad_request", "bad_match", "match: " + e->message);
        filter = std::get<ofproto::FlowMod>(parsed);
    }
    std::int64_t now = dp::monotonicMs();
    std::vector<of::FlowStats> out;
    for (const auto& r : of_.rules(bridge, filter.table, filter.match)) {
        if ((r->cookie & filter.cookie_mask) != (filter.cookie & filter.cookie_mask) || !ofproto::outputsTo(*r, filter.out_port))
            continue;
        of::FlowStats s;
        s.table_id = r->table;
        s.priority = r->priority;
        s.cookie = r->cookie;
        s.duration = static_cast<double>(now - r->created_ms) / 1000.0;
        s.idle_timeout = r->idle_timeout;
        s.hard_timeout = r->hard_timeout;
        s.send_flow_rem = r->send_flow_rem;
        s.packet_count = r->stats->packets.load(std::memory_order_relaxed);
        s.byte_count = r->stats->bytes.load(std::memory_order_relaxed);
        s.match = ofproto::formatMatch(r->match, {});
        s.actions = ofproto::formatActions(r->actions, {});
        out.push_back(std::move(s));
    }
    return out;
}

of::PortDesc OfRequestHandler::portDesc(const ofproto::PortRow& row) {
    of::PortDesc d;
    d.port_no = row.ofport;
    d.name = row.name;
    d.hw_addr = row.port->mac().toString();
    d.link_down = !row.port->carrier();
    d.config = row.config;  // port_mod's bits (ofproto/port_config.h)
    d.port_down = row.config & ofproto::kPortConfigDown;
    return d;
}

std::vector<of::PortDesc> OfRequestHandler::portDescs(const std::string& bridge) const {
    std::vector<of::PortDesc> out;
    for (const auto& row : of_.ports(bridge)) out.push_back(portDesc(row));
    return out;
}

std::string OfRequestHandler::datapathId(const std::string& bridge) const {
    for (const auto& p : of_.ports(bridge))
        if (p.ofport == ofproto::kPortLocal) return hexMac(p.port->mac().toU64());
    return hexMac(0);
}

of::FeaturesReply OfRequestHandler::features(const std::string& bridge) const {
    of::FeaturesReply f;
    f.datapath_id = datapathId(bridge);
    f.n_tables = ofproto::kMaxTable + 1;
    f.capabilities = {"flow_stats", "table_stats", "port_stats"};
    f.ports = portDescs(bridge);
    return f;
}

of::PacketIn OfRequestHandler::toWire(const ofproto::PacketIn& pin) {
    of::PacketIn p;
    p.reason = static_cast<of::PacketInReason>(pin.reason);
    p.table_id = pin.table_id;
    p.cookie = pin.cookie;
    p.in_port = pin.in_ofport;
    p.match = "in_port=" + std::to_string(pin.in_ofport);
    if (pin.tun_id) p.match += ",tun_id=" + of::hex64(pin.tun_id);
    p.total_len = pin.total_len;
    p.data = pin.frame;
    return p;
}

of::FlowRemoved OfRequestHandler::toWire(const ofproto::RemovedRule& r) {
    of::FlowRemoved f;
    f.cookie = r.rule->cookie;
    f.priority = r.rule->priority;
    f.reason = static_cast<of::RemovedReason>(r.reason);
    f.table_id = r.rule->table;
    f.duration = static_cast<double>(r.removed_ms - r.rule->created_ms) / 1000.0;
    f.idle_timeout = r.rule->idle_timeout;
    f.hard_timeout = r.rule->hard_timeout;
    f.packet_count = r.rule->stats->packets.load(std::memory_order_relaxed);
    f.byte_count = r.rule->stats->bytes.load(std::memory_order_relaxed);
    f.match = ofproto::formatMatch(r.rule->match, {});
    return f;
}

}  // namespace vs::vswitchd
