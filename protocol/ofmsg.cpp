// Encoding of controller-protocol messages (protocol/ofmsg.h).
#include "protocol/ofmsg.h"

#include <cinttypes>
#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/base64.h"
#include "protocol/ofmsg_detail.h"

namespace vs::protocol::of {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

void key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
void str(Writer& w, std::string_view k, std::string_view v) {
    key(w, k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void u64(Writer& w, std::string_view k, std::uint64_t v) {
    key(w, k);
    w.Uint64(v);
}
void dbl(Writer& w, std::string_view k, double v) {
    key(w, k);
    w.Double(v);
}
void boolean(Writer& w, std::string_view k, bool v) {
    key(w, k);
    w.Bool(v);
}
void bytes(Writer& w, std::string_view k, const std::vector<std::uint8_t>& v) { str(w, k, base64Encode(v)); }

void portDesc(Writer& w, const PortDesc& p) {
    w.StartObject();
    u64(w, "port_no", p.port_no);
    str(w, "name", p.name);
    str(w, "hw_addr", p.hw_addr);
    boolean(w, "link_down", p.link_down);
    boolean(w, "port_down", p.port_down);
    w.EndObject();
}

void portDescs(Writer& w, std::string_view k, const std::vector<PortDesc>& ports) {
    key(w, k);
    w.StartArray();
    for (const auto& p : ports) portDesc(w, p);
    w.EndArray();
}

void flowStats(Writer& w, const FlowStats& f) {
    w.StartObject();
    u64(w, "table_id", f.table_id);
    u64(w, "priority", f.priority);
    str(w, "cookie", hex64(f.cookie));
    dbl(w, "duration", f.duration);
    u64(w, "idle_timeout", f.idle_timeout);
    u64(w, "hard_timeout", f.hard_timeout);
    boolean(w, "send_flow_rem", f.send_flow_rem);
    u64(w, "packet_count", f.packet_count);
    u64(w, "byte_count", f.byte_count);
    str(w, "match", f.match);
    str(w, "actions", f.actions);
    w.EndObject();
}

void portStats(Writer& w, const PortStats& p) {
    w.StartObject();
    u64(w, "port_no", p.port_no);
    str(w, "name", p.name);
    u64(w, "rx_packets", p.rx_packets);
    u64(w, "tx_packets", p.tx_packets);
    u64(w, "rx_bytes", p.rx_bytes);
    u64(w, "tx_bytes", p.tx_bytes);
    u64(w, "rx_dropped", p.rx_dropped);
    u64(w, "tx_dropped", p.tx_dropped);
    w.EndObject();
}

void tableStats(Writer& w, const TableStats& t) {
    w.StartObject();
    u64(w, "table_id", t.table_id);
    u64(w, "active_count", t.active_count);
    u64(w, "lookup_count", t.lookup_count);
    u64(w, "matched_count", t.matched_count);
    w.EndObject();
}

void multipartReply(Writer& w, const MultipartReply& m) {
    str(w, "stats", statsName(m.stats));
    key(w, "body");
    w.StartArray();
    switch (m.stats) {
    case StatsType::kFlow: for (const auto& f : m.flows) flowStats(w, f); break;
    case StatsType::kPort: for (const auto& p : m.ports) portStats(w, p); break;
    case StatsType::kTable: for (const auto& t : m.tables) tableStats(w, t); break;
    case StatsType::kPortDesc: for (const auto& p : m.port_descs) portDesc(w, p); break;
    case StatsType::kDesc:
        w.StartObject();
        str(w, "mfr_desc", m.desc.mfr_desc);
        str(w, "hw_desc", m.desc.hw_desc);
        str(w, "sw_desc", m.desc.sw_desc);
        str(w, "serial_num", m.desc.serial_num);
        str(w, "dp_desc", m.desc.dp_desc);
        w.EndObject();
        break;
    }
    w.EndArray();
}

void featuresReply(Writer& w, const FeaturesReply& f) {
    str(w, "datapath_id", f.datapath_id);
    u64(w, "n_tables", static_cast<std::uint64_t>(f.n_tables));
    u64(w, "n_buffers", static_cast<std::uint64_t>(f.n_buffers));
    key(w, "capabilities");
    w.StartArray();
    for (const auto& c : f.capabilities) w.String(c.c_str(), static_cast<rapidjson::SizeType>(c.size()));
    w.EndArray();
    portDescs(w, "ports", f.ports);
}

void packetIn(Writer& w, const PacketIn& p) {
    str(w, "reason", reasonName(p.reason));
    u64(w, "table_id", p.table_id);
    str(w, "cookie", hex64(p.cookie));
    u64(w, "in_port", p.in_port);
    str(w, "match", p.match);
    u64(w, "total_len", p.total_len);
    bytes(w, "data", p.data);
}

void flowRemoved(Writer& w, const FlowRemoved& f) {
    str(w, "cookie", hex64(f.cookie));
    u64(w, "priority", f.priority);
    str(w, "reason", reasonName(f.reason));
    u64(w, "table_id", f.table_id);
    dbl(w, "duration", f.duration);
    u64(w, "idle_timeout", f.idle_timeout);
    u64(w, "hard_timeout", f.hard_timeout);
    u64(w, "packet_count", f.packet_count);
    u64(w, "byte_count", f.byte_count);
    str(w, "match", f.match);
}

void body(Writer& w, const Body& b) {
    std::visit(Overloaded{
                   [&](const Hello& h) {
                       key(w, "versions");
                       w.StartArray();
                       for (int v : h.versions) w.Int(v);
                       w.EndArray();
                   },
                   [&](const Error& e) {
                       str(w, "error_type", e.type);
                       str(w, "code", e.code);
                       str(w, "message", e.message);
                       str(w, "data", e.data);
                   },
                   [&](const EchoRequest& e) { str(w, "data", e.data); },
                   [&](const EchoReply& e) { str(w, "data", e.data); },
                   [&](const FeaturesRequest&) {},
                   [&](const FeaturesReply& f) { featuresReply(w, f); },
                   [&](const FlowMod& f) {
                       str(w, "command", commandName(f.command));
                       str(w, "flow", f.flow);
                   },
                   [&](const PacketIn& p) { packetIn(w, p); },
                   [&](const PacketOut& p) {
                       u64(w, "in_port", p.in_port);
                       str(w, "actions", p.actions);
                       bytes(w, "data", p.data);
                   },
                   [&](const PortStatus& p) {
                       str(w, "reason", reasonName(p.reason));
                       key(w, "port");
                       portDesc(w, p.port);
                   },
                   [&](const FlowRemoved& f) { flowRemoved(w, f); },
                   [&](const MultipartRequest& m) {
                       str(w, "stats", statsName(m.stats));
                       if (m.stats == StatsType::kFlow) str(w, "match", m.match);
                       if (m.stats == StatsType::kPort && m.port_no) u64(w, "port_no", *m.port_no);
                   },
                   [&](const MultipartReply& m) { multipartReply(w, m); },
                   [&](const BarrierRequest&) {},
                   [&](const BarrierReply&) {},
               },
               b);
}

}  // namespace

std::string_view typeName(const Body& b) { return detail::kTypeNames[b.index()]; }
std::string_view commandName(FlowModCommand c) { return detail::kCommandNames[static_cast<int>(c)]; }
std::string_view reasonName(PacketInReason r) { return detail::kPacketInReasons[static_cast<int>(r)]; }
std::string_view reasonName(PortReason r) { return detail::kPortReasons[static_cast<int>(r)]; }
std::string_view reasonName(RemovedReason r) { return detail::kRemovedReasons[static_cast<int>(r)]; }
std::string_view statsName(StatsType t) { return detail::kStatsNames[static_cast<int>(t)]; }

std::string hex64(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%" PRIx64, v);
    return b;
}

std::optional<std::uint64_t> parseHex64(std::string_view s) {
    if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s.substr(2)) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    return v;
}

std::string encode(const Message& msg) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    str(w, "type", typeName(msg.body));
    u64(w, "xid", msg.xid);
    body(w, msg.body);
    w.EndObject();
    return std::string(sb.GetString(), sb.GetSize());
}

Message makeError(std::uint32_t xid, std::string type, std::string code, std::string message,
                  std::string_view offending) {
    Error e{std::move(type), std::move(code), std::move(message), std::string(offending.substr(0, kErrorDataBytes))};
    // The offending bytes may be anything (garbage, cut UTF-8): keep the error line valid UTF-8.
    for (char& c : e.data)
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    return Message{xid, std::move(e)};
}

}  // namespace vs::protocol::of
