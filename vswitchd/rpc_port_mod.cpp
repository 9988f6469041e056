// port/mod (docs/protocol.md "port/mod"), vsofctl's mod-port: ovs-ofctl's mod-port actions on a
// port's OpenFlow config (ofproto/port_config.h), the same change an OpenFlow port_mod makes
// (applyPortConfig, of13_port.cpp): megaflows invalidated, port_status sent, `down` sets the
// netdev down.
#include <utility>

#include "vswitchd/daemon.h"
#include "vswitchd/of13_handler.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;

// ovs-ofctl(8) mod-port actions: the bit and whether the action sets it.
std::pair<std::uint32_t, bool> actionBit(const std::string& a) {
    static const std::pair<const char*, std::pair<std::uint32_t, bool>> kActions[] = {
        {"down", {ofproto::kPortConfigDown, true}},          {"up", {ofproto::kPortConfigDown, false}},
        {"no-receive", {ofproto::kPortConfigNoRecv, true}},  {"receive", {ofproto::kPortConfigNoRecv, false}},
        {"no-flood", {ofproto::kPortConfigNoFlood, true}},   {"flood", {ofproto::kPortConfigNoFlood, false}},
        {"no-forward", {ofproto::kPortConfigNoFwd, true}},   {"forward", {ofproto::kPortConfigNoFwd, false}},
        {"no-packet-in", {ofproto::kPortConfigNoPacketIn, true}}, {"packet-in", {ofproto::kPortConfigNoPacketIn, false}},
    };
    for (const auto& [name, bit] : kActions)
        if (a == name) return bit;
    throw RpcError(ErrorCode::kInvalidValue, "unknown mod-port action '" + a +
                                                 "' (up, down, receive, no-receive, forward, no-forward, flood, "
                                                 "no-flood, packet-in, no-packet-in)");
}

void portMod(Daemon& d, const protocol::Request& r, rapidjson::Document& res) {
    std::string br = rpc::bridgeParam(d, r.params);
    auto port = rpc::param(r.params, "port", 1);
    auto action = rpc::param(r.params, "action", 2);
    if (!port) throw RpcError(ErrorCode::kInvalidParams, "missing param 'port'");
    if (!action) throw RpcError(ErrorCode::kInvalidParams, "missing param 'action'");
    auto [bit, set] = actionBit(*action);
    std::optional<ofproto::PortRow> row;
    for (auto& p : d.ofproto().ports(br))
        if (p.name == *port || std::to_string(p.ofport) == *port || (*port == "LOCAL" && p.ofport == ofproto::kPortLocal))
            row = std::move(p);
    if (!row) throw RpcError(ErrorCode::kNotFound, "bridge " + br + " has no port " + *port);
    applyPortConfig(d.ofproto(), br, *row, set ? bit : 0, bit);
    d.controllers().portsChanged(br);
    res.SetObject();
}

}  // namespace

void registerPortModMethods(MethodTable& t, Daemon& d) {
    t.add("port/mod", [&d](const protocol::Request& r, rapidjson::Document& res) { portMod(d, r, res); });
}

}  // namespace vs::vswitchd
