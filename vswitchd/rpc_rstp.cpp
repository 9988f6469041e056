// Rapid spanning tree introspection (docs/stp.md "RSTP", docs/protocol.md): rstp/show [BRIDGE],
// as ovs-appctl's command of the same name. Params: {"bridge": NAME} or vsappctl's {"args":
// [NAME]}; without a name, every bridge that runs RSTP.
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"
#include "vswitchd/rstp_config.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::Alloc;
using rapidjson::Value;

using rpc::str;

std::optional<std::string> bridgeParam(const Value& p) { return rpc::optionalNameParam(p, "bridge", "a bridge name"); }

Value idJson(std::uint64_t id, Alloc& a) {
    Value o(rapidjson::kObjectType);
    o.AddMember("id", str(rstpBridgeIdText(id), a), a);
    o.AddMember("priority", static_cast<unsigned>(id >> 48), a);
    dp::MacAddr m;
    for (int i = 0; i < 6; ++i) m.b[i] = static_cast<std::uint8_t>(id >> (40 - 8 * i));
    o.AddMember("address", str(m.toString(), a), a);
    return o;
}

Value portJson(const ofproto::RstpBridgeStatus& b, const ofproto::RstpPortStatus& p, Alloc& a) {
    Value o(rapidjson::kObjectType);
    auto name = b.port_names.find(p.id);
    o.AddMember("name", str(name == b.port_names.end() ? "?" : name->second, a), a);
    o.AddMember("port_id", str(std::to_string((p.port_id >> 12) << 4) + "." + std::to_string(p.port_id & 0xfff), a), a);
    o.AddMember("role", str(ofproto::toString(p.role), a), a);
    o.AddMember("state", str(ofproto::toString(p.state), a), a);
    o.AddMember("path_cost", p.path_cost, a);
    o.AddMember("oper_edge", p.oper_edge, a);
    o.AddMember("protocol", str(p.send_rstp ? "rstp" : "stp", a), a);
    o.AddMember("point_to_point", p.p2p, a);
    o.AddMember("sec_in_state", static_cast<std::int64_t>(p.sec_in_state), a);
    o.AddMember("designated_bridge", str(rstpBridgeIdText(p.designated_bridge), a), a);
    o.AddMember("designated_port", p.designated_port, a);
    o.AddMember("designated_cost", p.designated_cost, a);
    o.AddMember("tx_count", p.tx, a);
    o.AddMember("rx_count", p.rx, a);
    o.AddMember("error_count", p.errors, a);
    return o;
}

Value bridgeJson(const ofproto::RstpBridgeStatus& b, Alloc& a) {
    const ofproto::RstpStatus& s = b.rstp;
    Value o(rapidjson::kObjectType);
    o.AddMember("name", str(b.bridge, a), a);
    o.AddMember("bridge_id", idJson(s.bridge_id, a), a);
    o.AddMember("root_id", idJson(s.root_id, a), a);
    o.AddMember("is_root", s.root_id == s.bridge_id, a);
    Value rp;
    if (s.root_port)
        if (auto n = b.port_names.find(*s.root_port); n != b.port_names.end()) rp = str(n->second, a);
    o.AddMember("root_port", rp, a);
    o.AddMember("root_path_cost", s.root_path_cost, a);
    o.AddMember("hello_time", s.hello_s, a);
    o.AddMember("max_age", s.max_age_s, a);
    o.AddMember("forward_delay", s.forward_delay_s, a);
    o.AddMember("ageing_time", s.ageing_time_s, a);
    o.AddMember("force_protocol_version", s.force_protocol_version, a);
    o.AddMember("transmit_hold_count", s.transmit_hold_count, a);
    o.AddMember("topology_changes", s.topology_changes, a);
    Value ports(rapidjson::kArrayType);
    for (const auto& p : s.ports) ports.PushBack(portJson(b, p, a), a);
    o.AddMember("ports", ports, a);
    return o;
}

void rstpShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    auto name = bridgeParam(req.params);
    std::vector<ofproto::RstpBridgeStatus> all;
    try {
        all = d.ofproto().rstpStatus(name);
    } catch (const std::invalid_argument& e) {
        throw RpcError(ErrorCode::kNotFound, e.what());
    }
    auto& a = res.GetAllocator();
    Value arr(rapidjson::kArrayType);
    for (const auto& b : all) arr.PushBack(bridgeJson(b, a), a);
    res.SetObject();
    res.AddMember("bridges", arr, a);
}

}  // namespace

rapidjson::Value rstpStatusJson(Daemon& d, Alloc& a) {
    Value bridges(rapidjson::kObjectType), ports(rapidjson::kObjectType);
    for (const auto& b : d.ofproto().rstpStatus(std::nullopt)) {
        Value bs(rapidjson::kObjectType);
        for (const auto& [k, v] : rstpBridgeStatus(b)) bs.AddMember(str(k, a), str(v, a), a);
        bridges.AddMember(str(b.bridge, a), bs, a);
        auto stats = rstpPortStatistics(b);
        for (const auto& [port, st] : rstpPortStatus(b)) {
            Value p(rapidjson::kObjectType), s(rapidjson::kObjectType), c(rapidjson::kObjectType);
            for (const auto& [k, v] : st) s.AddMember(str(k, a), str(v, a), a);
            for (const auto& [k, v] : stats[port]) c.AddMember(str(k, a), Value(static_cast<int64_t>(v)), a);
            p.AddMember("rstp_status", s, a);
            p.AddMember("rstp_statistics", c, a);
            ports.AddMember(str(port, a), p, a);
        }
    }
    Value out(rapidjson::kObjectType);
    out.AddMember("bridges", bridges, a);
    out.AddMember("ports", ports, a);
    return out;
}

void registerRstpMethods(MethodTable& t, Daemon& d) {
    t.add("rstp/show", [&d](const protocol::Request& r, rapidjson::Document& res) { rstpShow(d, r, res); });
}

}  // namespace vs::vswitchd
