// Spanning tree introspection (docs/stp.md, docs/protocol.md "STP methods"): stp/show [BRIDGE]
// and stp/tcn [BRIDGE], as ovs-appctl's commands of the same names. Params: {"bridge": NAME} or
// vsappctl's {"args": [NAME]}; without a name, every bridge that runs STP.
#include <cstdio>

#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::Alloc;
using rapidjson::Value;

using rpc::str;

std::optional<std::string> bridgeParam(const Value& p) { return rpc::optionalNameParam(p, "bridge", "a bridge name"); }

// A bridge identifier (802.1D-1998 9.2.5): priority and MAC, as "8000.020000000001".
std::string bridgeId(std::uint64_t id) {
    char b[32];
    std::snprintf(b, sizeof b, "%04x.%012llx", static_cast<unsigned>(id >> 48),
                  static_cast<unsigned long long>(id & 0xffffffffffffULL));
    return b;
}

Value idJson(std::uint64_t id, Alloc& a) {
    Value o(rapidjson::kObjectType);
    o.AddMember("id", str(bridgeId(id), a), a);
    o.AddMember("priority", static_cast<unsigned>(id >> 48), a);
    dp::MacAddr m;
    for (int i = 0; i < 6; ++i) m.b[i] = static_cast<std::uint8_t>(id >> (40 - 8 * i));
    o.AddMember("system_id", str(m.toString(), a), a);
    return o;
}

Value portJson(const ofproto::StpBridgeStatus& b, const ofproto::StpPortStatus& p, Alloc& a) {
    Value o(rapidjson::kObjectType);
    auto name = b.port_names.find(p.id);
    o.AddMember("name", str(name == b.port_names.end() ? "?" : name->second, a), a);
    o.AddMember("port_id", str(std::to_string(p.port_id >> 8) + "." + std::to_string(p.port_id & 0xff), a), a);
    o.AddMember("role", str(ofproto::toString(p.role), a), a);
    o.AddMember("state", str(ofproto::toString(p.state), a), a);
    o.AddMember("path_cost", p.path_cost, a);
    o.AddMember("sec_in_state", static_cast<std::int64_t>(p.sec_in_state), a);
    o.AddMember("designated_root", str(bridgeId(p.designated_root), a), a);
    o.AddMember("designated_bridge", str(bridgeId(p.designated_bridge), a), a);
    o.AddMember("designated_cost", p.designated_cost, a);
    o.AddMember("designated_port", p.designated_port, a);
    o.AddMember("tx_count", p.tx, a);
    o.AddMember("rx_count", p.rx, a);
    o.AddMember("error_count", p.errors, a);
    return o;
}

Value bridgeJson(const ofproto::StpBridgeStatus& b, Alloc& a) {
    const ofproto::StpStatus& s = b.stp;
    Value o(rapidjson::kObjectType);
    o.AddMember("name", str(b.bridge, a), a);
    o.AddMember("bridge_id", idJson(s.bridge_id, a), a);
    o.AddMember("root_id", idJson(s.designated_root, a), a);
    o.AddMember("is_root", s.designated_root == s.bridge_id, a);
    Value rp;
    if (s.root_port)
        if (auto n = b.port_names.find(*s.root_port); n != b.port_names.end()) rp = str(n->second, a);
    o.AddMember("root_port", rp, a);
    o.AddMember("root_path_cost", s.root_path_cost, a);
    o.AddMember("hello_time", s.hello_s, a);
    o.AddMember("max_age", s.max_age_s, a);
    o.AddMember("forward_delay", s.forward_delay_s, a);
    o.AddMember("bridge_hello_time", s.bridge_hello_s, a);
    o.AddMember("bridge_max_age", s.bridge_max_age_s, a);
    o.AddMember("bridge_forward_delay", s.bridge_forward_delay_s, a);
    o.AddMember("topology_change", s.topology_change, a);
    o.AddMember("topology_changes", s.topology_changes, a);
    Value ports(rapidjson::kArrayType);
    for (const auto& p : s.ports) ports.PushBack(portJson(b, p, a), a);
    o.AddMember("ports", ports, a);
    return o;
}

void stpShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    auto name = bridgeParam(req.params);
    std::vector<ofproto::StpBridgeStatus> all;
    try {
        all = d.ofproto().stpStatus(name);
    } catch (const std::invalid_argument& e) {
        throw RpcError(ErrorCode::kNotFound, e.what());
    }
    auto& a = res.GetAllocator();
    Value arr(rapidjson::kArrayType);
    for (const auto& b : all) arr.PushBack(bridgeJson(b, a), a);
    res.SetObject();
    res.AddMember("bridges", arr, a);
}

void stpTcn(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    try {
        d.ofproto().stpTcn(bridgeParam(req.params));
    } catch (const std::invalid_argument& e) {
        throw RpcError(ErrorCode::kNotFound, e.what());
    }
    res.SetString("sent topology change.");
}

}  // namespace

void registerStpMethods(MethodTable& t, Daemon& d) {
    t.add("stp/show", [&d](const protocol::Request& r, rapidjson::Document& res) { stpShow(d, r, res); });
    t.add("stp/tcn", [&d](const protocol::Request& r, rapidjson::Document& res) { stpTcn(d, r, res); });
}

}  // namespace vs::vswitchd
