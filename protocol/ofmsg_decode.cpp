// Decoding of controller-protocol messages (protocol/ofmsg.h): strict, with an error naming the
// member at fault.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>

#include "protocol/base64.h"
#include "protocol/jsonrpc.h"
#include "protocol/ofmsg.h"
#include "protocol/ofmsg_detail.h"

namespace vs::protocol::of {
namespace {

using rapidjson::Value;

struct Bad {
    std::string code;
    std::string message;
};

[[noreturn]] void bad(std::string code, std::string message) { throw Bad{std::move(code), std::move(message)}; }

// Checked access to the members of one JSON object; finish() refuses members nobody read.
class Fields {
public:
    Fields(const Value& obj, std::string where) : obj_(obj), where_(std::move(where)) {
        if (!obj.IsObject()) bad("bad_syntax", where_ + ": expected a JSON object");
        std::set<std::string_view> seen;
        for (const auto& m : obj.GetObject())
            if (!seen.insert(std::string_view(m.name.GetString(), m.name.GetStringLength())).second)
                bad("bad_syntax", where_ + ": member '" + std::string(m.name.GetString()) + "' appears twice");
    }

    const Value* find(std::string_view name) {
        used_.insert(std::string(name));
        auto it = obj_.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
        return it == obj_.MemberEnd() ? nullptr : &it->value;
    }
    const Value& need(std::string_view name) {
        const Value* v = find(name);
        if (!v) bad("bad_syntax", where_ + ": missing member '" + std::string(name) + "'");
        return *v;
    }
    [[noreturn]] void wrong(std::string_view name, std::string_view expected) {
        bad("bad_syntax", where_ + ": member '" + std::string(name) + "': expected " + std::string(expected));
    }
    std::string string(std::string_view name) {
        const Value& v = need(name);
        if (!v.IsString()) wrong(name, "a string");
        return std::string(v.GetString(), v.GetStringLength());
    }
    std::optional<std::string> optString(std::string_view name) {
        return find(name) ? std::optional(string(name)) : std::nullopt;
    }
    std::uint64_t uint(std::string_view name, std::uint64_t max) {
        const Value& v = need(name);
        if (!v.IsUint64() || v.GetUint64() > max) wrong(name, "an integer in 0.." + std::to_string(max));
        return v.GetUint64();
    }
    std::optional<std::uint64_t> optUint(std::string_view name, std::uint64_t max) {
        return find(name) ? std::optional(uint(name, max)) : std::nullopt;
    }
    double number(std::string_view name) {
        const Value& v = need(name);
        if (!v.IsNumber() || v.GetDouble() < 0) wrong(name, "a non-negative number");
        return v.GetDouble();
    }
    bool boolean(std::string_view name) {
        const Value& v = need(name);
        if (!v.IsBool()) wrong(name, "true or false");
        return v.GetBool();
    }
    std::uint64_t hex(std::string_view name) {
        auto v = parseHex64(string(name));
        if (!v) wrong(name, "a hex string such as \"0x1f\" (at most 16 digits)");
        return *v;
    }
    std::vector<std::uint8_t> frame(std::string_view name) {
        std::string text = string(name);
        auto v = base64Decode(text);
        if (!v) bad("bad_packet", where_ + ": member '" + std::string(name) + "' is not valid base64 (RFC 4648)");
        if (v->size() > kMaxFrameBytes)
            bad("bad_packet", where_ + ": member '" + std::string(name) + "' holds " + std::to_string(v->size()) +
                                  " bytes, more than " + std::to_string(kMaxFrameBytes));
        return std::move(*v);
    }
    const Value& array(std::string_view name) {
        const Value& v = need(name);
        if (!v.IsArray()) wrong(name, "an array");
        return v;
    }
    template <std::size_t N>
    std::size_t oneOf(std::string_view name, const std::array<std::string_view, N>& names) {
        std::string s = string(name);
        if (auto i = detail::indexOf(names, s)) return *i;
        std::string list;
        for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
        bad(name == "stats" ? "bad_multipart" : "bad_syntax",
            where_ + ": member '" + std::string(name) + "': '" + s + "' is not one of " + list);
    }
    void finish() {
        for (const auto& m : obj_.GetObject()) {
            std::string n(m.name.GetString(), m.name.GetStringLength());
            if (!used_.count(n)) bad("bad_syntax", where_ + ": unknown member '" + n + "'");
        }
    }
    const std::string& where() const { return where_; }

private:
    const Value& obj_;
    std::string where_;
    std::set<std::string> used_;
};

constexpr std::uint64_t kU8 = 0xff, kU16 = 0xffff, kU32 = 0xffffffff, kU64 = ~0ull;

PortDesc portDesc(const Value& v, const std::string& where) {
    Fields f(v, where);
    PortDesc p;
    p.port_no = static_cast<std::uint32_t>(f.uint("port_no", kU32));
    p.name = f.string("name");
    p.hw_addr = f.string("hw_addr");
    p.link_down = f.boolean("link_down");
    p.port_down = f.boolean("port_down");
    f.finish();
    return p;
}

std::vector<PortDesc> portDescs(const Value& arr, const std::string& where) {
    std::vector<PortDesc> out;
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) out.push_back(portDesc(arr[i], where + "[" + std::to_string(i) + "]"));
    return out;
}

FlowStats flowStats(const Value& v, const std::string& where) {
    Fields f(v, where);
    FlowStats s;
    s.table_id = static_cast<std::uint8_t>(f.uint("table_id", kU8));
    s.priority = static_cast<std::uint16_t>(f.uint("priority", kU16));
    s.cookie = f.hex("cookie");
    s.duration = f.number("duration");
    s.idle_timeout = static_cast<std::uint16_t>(f.uint("idle_timeout", kU16));
    s.hard_timeout = static_cast<std::uint16_t>(f.uint("hard_timeout", kU16));
    s.send_flow_rem = f.boolean("send_flow_rem");
    s.packet_count = f.uint("packet_count", kU64);
    s.byte_count = f.uint("byte_count", kU64);
    s.match = f.string("match");
    s.actions = f.string("actions");
    f.finish();
    return s;
}

PortStats portStats(const Value& v, const std::string& where) {
    Fields f(v, where);
    PortStats s;
    s.port_no = static_cast<std::uint32_t>(f.uint("port_no", kU32));
    s.name = f.string("name");
    s.rx_packets = f.uint("rx_packets", kU64);
    s.tx_packets = f.uint("tx_packets", kU64);
    s.rx_bytes = f.uint("rx_bytes", kU64);
    s.tx_bytes = f.uint("tx_bytes", kU64);
    s.rx_dropped = f.uint("rx_dropped", kU64);
    s.tx_dropped = f.uint("tx_dropped", kU64);
    f.finish();
    return s;
}

TableStats tableStats(const Value& v, const std::string& where) {
    Fields f(v, where);
    TableStats s;
    s.table_id = static_cast<std::uint8_t>(f.uint("table_id", kU8));
    s.active_count = f.uint("active_count", kU64);
    s.lookup_count = f.uint("lookup_count", kU64);
    s.matched_count = f.uint("matched_count", kU64);
    f.finish();
    return s;
}

Desc desc(const Value& v, const std::string& where) {
    Fields f(v, where);
    Desc d{f.string("mfr_desc"), f.string("hw_desc"), f.string("sw_desc"), f.string("serial_num"), f.string("dp_desc")};
    f.finish();
    return d;
}

MultipartReply multipartReply(Fields& f) {
    MultipartReply m;
    m.stats = static_cast<StatsType>(f.oneOf("stats", detail::kStatsNames));
    const Value& arr = f.array("body");
    for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
        std::string where = f.where() + ".body[" + std::to_string(i) + "]";
        switch (m.stats) {
        case StatsType::kFlow: m.flows.push_back(flowStats(arr[i], where)); break;
        case StatsType::kPort: m.ports.push_back(portStats(arr[i], where)); break;
        case StatsType::kTable: m.tables.push_back(tableStats(arr[i], where)); break;
        case StatsType::kPortDesc: m.port_descs.push_back(portDesc(arr[i], where)); break;
        case StatsType::kDesc:
            if (i > 0) bad("bad_syntax", where + ": a desc reply has one body element");
            m.desc = desc(arr[i], where);
            break;
        }
    }
    return m;
}

Body hello(Fields& f) {
    Hello h;
    h.versions.clear();
    const Value& arr = f.array("versions");
    for (const auto& v : arr.GetArray()) {
        if (!v.IsInt() || v.GetInt() < 1) f.wrong("versions", "an array of positive integers");
        h.versions.push_back(v.GetInt());
    }
    return h;
}

Body featuresReply(Fields& f) {
    FeaturesReply r;
    r.datapath_id = f.string("datapath_id");
    r.n_tables = static_cast<int>(f.uint("n_tables", 255));
    r.n_buffers = static_cast<int>(f.uint("n_buffers", kU32 >> 1));
    for (const auto& c : f.array("capabilities").GetArray()) {
        if (!c.IsString()) f.wrong("capabilities", "an array of strings");
        r.capabilities.emplace_back(c.GetString(), c.GetStringLength());
    }
    r.ports = portDescs(f.array("ports"), f.where() + ".ports");
    return r;
}

Body packetIn(Fields& f) {
    PacketIn p;
    p.reason = static_cast<PacketInReason>(f.oneOf("reason", detail::kPacketInReasons));
    p.table_id = static_cast<std::uint8_t>(f.uint("table_id", kU8));
    p.cookie = f.hex("cookie");
    p.in_port = static_cast<std::uint32_t>(f.uint("in_port", kU32));
    p.match = f.string("match");
    p.total_len = static_cast<std::uint32_t>(f.uint("total_len", kU32));
    p.data = f.frame("data");
    return p;
}

Body packetOut(Fields& f) {
    PacketOut p;
    if (auto port = f.optUint("in_port", kU32)) p.in_port = static_cast<std::uint32_t>(*port);
    p.actions = f.string("actions");
    p.data = f.frame("data");
    if (p.data.empty()) bad("bad_packet", f.where() + ": member 'data' is empty (no buffered packets to refer to)");
    return p;
}

Body flowRemoved(Fields& f) {
    FlowRemoved r;
    r.cookie = f.hex("cookie");
    r.priority = static_cast<std::uint16_t>(f.uint("priority", kU16));
    r.reason = static_cast<RemovedReason>(f.oneOf("reason", detail::kRemovedReasons));
    r.table_id = static_cast<std::uint8_t>(f.uint("table_id", kU8));
    r.duration = f.number("duration");
    r.idle_timeout = static_cast<std::uint16_t>(f.uint("idle_timeout", kU16));
    r.hard_timeout = static_cast<std::uint16_t>(f.uint("hard_timeout", kU16));
    r.packet_count = f.uint("packet_count", kU64);
    r.byte_count = f.uint("byte_count", kU64);
    r.match = f.string("match");
    return r;
}

Body multipartRequest(Fields& f) {
    MultipartRequest m;
    m.stats = static_cast<StatsType>(f.oneOf("stats", detail::kStatsNames));
    if (m.stats == StatsType::kFlow) m.match = f.optString("match").value_or("");
    if (m.stats == StatsType::kPort)
        if (auto p = f.optUint("port_no", kU32)) m.port_no = static_cast<std::uint32_t>(*p);
    return m;
}

Body decodeBody(std::size_t type, Fields& f) {
    switch (type) {
    case 0: return hello(f);
    case 1: return Error{f.string("error_type"), f.string("code"), f.string("message"), f.optString("data").value_or("")};
    case 2: return EchoRequest{f.optString("data").value_or("")};
    case 3: return EchoReply{f.optString("data").value_or("")};
    case 4: return FeaturesRequest{};
    case 5: return featuresReply(f);
    case 6: {
        FlowMod m;
        m.command = static_cast<FlowModCommand>(f.oneOf("command", detail::kCommandNames));
        m.flow = f.string("flow");
        return m;
    }
    case 7: return packetIn(f);
    case 8: return packetOut(f);
    case 9: {
        PortStatus p;
        p.reason = static_cast<PortReason>(f.oneOf("reason", detail::kPortReasons));
        p.port = portDesc(f.need("port"), f.where() + ".port");
        return p;
    }
    case 10: return flowRemoved(f);
    case 11: return multipartRequest(f);
    case 12: return multipartReply(f);
    case 13: return BarrierRequest{};
    default: return BarrierReply{};
    }
}

// Our messages nest at most four levels; RapidJSON parses (and destroys) recursively, so a line of
// a million '[' would overflow the stack. Counted outside strings, before parsing, by the same
// non-recursive scanner as the management protocol's (protocol/jsonrpc.h), with a tighter bound.
constexpr std::size_t kMaxDepth = 16;

// The xid of `doc` if it has a valid one, so that even a bad message's error names it.
std::uint32_t peekXid(const Value& doc) {
    if (!doc.IsObject()) return 0;
    auto it = doc.FindMember("xid");
    return it != doc.MemberEnd() && it->value.IsUint() ? it->value.GetUint() : 0;
}

}  // namespace

std::variant<Message, DecodeError> decode(std::string_view line) {
    if (line.size() > kMaxMessageBytes)
        return DecodeError{"bad_len", "message of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                                          std::to_string(kMaxMessageBytes), 0};
    if (auto deep = checkJsonDepth(line, kMaxDepth)) return DecodeError{"bad_syntax", "JSON " + *deep, 0};
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
    if (doc.HasParseError())
        return DecodeError{"bad_syntax", "not JSON: parse error at offset " + std::to_string(doc.GetErrorOffset()) +
                                             ": " + rapidjson::GetParseError_En(doc.GetParseError()), 0};
    // Found by fuzz_ofmsg: a lone surrogate escape decodes to bytes that are not UTF-8, which our
    // own encoder (and every peer) then refuses; refuse it here, as decodeRequest does.
    if (!isValidUtf8(doc)) return DecodeError{"bad_syntax", "a string is not valid UTF-8 (a lone surrogate escape?)", 0};
    std::uint32_t xid = peekXid(doc);
    try {
        Fields top(doc, "message");
        std::string type = top.string("type");
        auto index = detail::indexOf(detail::kTypeNames, type);
        if (!index) bad("bad_type", "unknown message type '" + type + "'");
        Message msg;
        msg.xid = static_cast<std::uint32_t>(top.uint("xid", kU32));
        Fields body(doc, type);
        body.find("type");
        body.find("xid");
        msg.body = decodeBody(*index, body);
        body.finish();
        return msg;
    } catch (const Bad& b) {
        return DecodeError{b.code, b.message, xid};
    }
}

}  // namespace vs::protocol::of
