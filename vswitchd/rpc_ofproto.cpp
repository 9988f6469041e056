// Switch introspection for vsofctl and vsappctl: ofproto/show, port/stats, table/stats,
// ofproto/trace (docs/protocol.md "Flow table methods").
#include <charconv>
#include <cstdio>
#include <map>

#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::bridgeParam;
using rpc::param;
using rpc::str;


// Datapath ID: the local port's MAC in the low 48 bits, as Open vSwitch derives it.
std::string datapathId(Daemon& d, const std::string& br) {
    std::uint64_t mac = 0;
    for (const auto& p : d.ofproto().ports(br))
        if (p.name == br) mac = p.port->mac().toU64();
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(mac));
    return b;
}

void ofprotoShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto& a = res.GetAllocator();
    rapidjson::Value ports(rapidjson::kArrayType);
    for (const auto& p : d.ofproto().ports(br)) {
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("ofport", p.ofport, a);
        o.AddMember("name", str(p.name, a), a);
        o.AddMember("mac", str(p.port->mac().toString(), a), a);
        o.AddMember("state", rapidjson::StringRef(p.port->carrier() ? "up" : "down"), a);
        o.AddMember("config", str(ofproto::portConfigNames(p.config), a), a);  // port_mod's bits
        ports.PushBack(o, a);
    }
    res.SetObject();
    res.AddMember("datapath_id", str(datapathId(d, br), a), a);
    res.AddMember("n_tables", 254, a);
    res.AddMember("ports", ports, a);
}

void portStats(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto only = param(req.params, "port", 1);
    auto& a = res.GetAllocator();
    rapidjson::Value ports(rapidjson::kArrayType);
    for (const auto& p : d.ofproto().ports(br)) {
        if (only && *only != p.name && *only != std::to_string(p.ofport)) continue;
        const auto& s = p.port->stats();
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("ofport", p.ofport, a);
        o.AddMember("name", str(p.name, a), a);
        auto add = [&](const char* k, const std::atomic<std::uint64_t>& v) {
            o.AddMember(rapidjson::StringRef(k), static_cast<std::uint64_t>(v.load(std::memory_order_relaxed)), a);
        };
        add("rx_packets", s.rx_packets); add("rx_bytes", s.rx_bytes); add("rx_dropped", s.rx_dropped);
        add("tx_packets", s.tx_packets); add("tx_bytes", s.tx_bytes); add("tx_dropped", s.tx_dropped);
        ports.PushBack(o, a);
    }
    if (only && ports.Empty()) throw RpcError(ErrorCode::kNotFound, "bridge " + br + " has no port " + *only);
    res.SetObject();
    res.AddMember("ports", ports, a);
}

void tableStats(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto& a = res.GetAllocator();
    rapidjson::Value tables(rapidjson::kArrayType);
    for (const auto& t : d.ofproto().tableStats(br)) {
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("table", t.table, a);
        o.AddMember("active_count", static_cast<std::uint64_t>(t.active), a);
        o.AddMember("lookup_count", t.lookups, a);
        o.AddMember("matched_count", t.matched, a);
        tables.PushBack(o, a);
    }
    res.SetObject();
    res.AddMember("tables", tables, a);
}

// The datapath actions of a trace ("2,push_vlan(vid=10,pcp=0),3") with each output's datapath
// port number replaced by its interface name, as every other trace line names ports. Outputs are
// the bare numbers at the top level (dp::formatActions); numbers inside (...) are values.
std::string namedDatapathActions(const std::string& actions, const std::map<std::uint32_t, std::string>& dpNames) {
    std::string out;
    std::size_t start = 0;
    int depth = 0;
    for (std::size_t i = 0; i <= actions.size(); ++i) {
        if (i < actions.size() && actions[i] == '(') ++depth;
        if (i < actions.size() && actions[i] == ')') --depth;
        if (i < actions.size() && (actions[i] != ',' || depth > 0)) continue;
        std::string token = actions.substr(start, i - start);
        std::uint32_t n = 0;
        auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), n);
        if (!token.empty() && ec == std::errc() && end == token.data() + token.size())
            if (auto it = dpNames.find(n); it != dpNames.end()) token = it->second;
        out += (start ? "," : "") + token;
        start = i + 1;
    }
    return out;
}

// ofproto/trace BR FLOW: "Flow: FLOW" (the flow as parsed, ports by name), then the tables and
// rules a packet with these fields meets, and the datapath actions that result (ports by name),
// as ovs-appctl ofproto/trace prints them. The MAC table is read, not changed.
void trace(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = bridgeParam(d, req.params);
    auto flow = param(req.params, "flow", 1);
    if (!flow) throw RpcError(ErrorCode::kInvalidParams, "missing param 'flow' (e.g. in_port=1,dl_dst=...)");
    auto resolve = [&d, br](std::string_view n) { return d.ofproto().portNumber(br, std::string(n)); };
    auto parsed = ofproto::parseMatch(*flow, resolve);
    if (auto* e = std::get_if<ofproto::ParseError>(&parsed)) throw RpcError(ErrorCode::kInvalidValue, e->message);
    const auto& m = std::get<ofproto::Match>(parsed);
    if (!m.mask.in_port) throw RpcError(ErrorCode::kInvalidValue, "the flow must give in_port");
    // Names come from a snapshot: the describe callback runs under ofproto's mutex, so it must not
    // call back into ofproto (portName() would lock it again and deadlock the daemon).
    std::map<std::uint32_t, std::string> names, dpNames;
    for (const auto& p : d.ofproto().ports(br)) {
        names[p.ofport] = p.name;
        dpNames[p.dp_port] = p.name;
    }
    ofproto::PortNamer name = [names](std::uint32_t n) {
        auto it = names.find(n);
        return it == names.end() ? std::to_string(n) : it->second;
    };
    auto describe = [&name](const ofproto::Rule& r) {
        std::string match = ofproto::formatMatch(r.match, name);
        return "priority=" + std::to_string(r.priority) + (match.empty() ? "" : "," + match) +
               " actions=" + ofproto::formatActions(r.actions, name);
    };
    auto lines = d.ofproto().trace(br, m.key, describe);
    const std::string kDpActions = "Datapath actions: ";
    for (auto& l : lines)
        if (l.starts_with(kDpActions)) l = kDpActions + namedDatapathActions(l.substr(kDpActions.size()), dpNames);
    lines.insert(lines.begin(), "Flow: " + ofproto::formatMatch(m, name));
    auto& a = res.GetAllocator();
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& l : lines) arr.PushBack(str(l, a), a);
    res.SetObject();
    res.AddMember("lines", arr, a);
}

}  // namespace

void registerOfprotoMethods(MethodTable& t, Daemon& d) {
    using Fn = void (*)(Daemon&, const protocol::Request&, rapidjson::Document&);
    const std::pair<const char*, Fn> methods[] = {
        {"ofproto/show", ofprotoShow}, {"port/stats", portStats}, {"table/stats", tableStats},
        {"ofproto/trace", trace},
    };
    for (const auto& [name, fn] : methods)
        t.add(name, [&d, fn](const protocol::Request& r, rapidjson::Document& res) { fn(d, r, res); });
}

}  // namespace vs::vswitchd
