// Bond and LACP introspection (docs/protocol.md "Bond methods"): bond/show [BOND] and
// lacp/show [BOND], in the spirit of ovs-appctl's commands of the same names. Params:
// {"bond": NAME} or vsappctl's {"args": [NAME]}; without a name, every bond (lacp/show: every
// bond that runs LACP).
#include "vswitchd/daemon.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::Alloc;
using rapidjson::Value;

using rpc::str;

std::optional<std::string> bondParam(const Value& p) { return rpc::optionalNameParam(p, "bond", "a bond name"); }

std::vector<ofproto::BondStatus> bonds(Daemon& d, const std::optional<std::string>& name) {
    try {
        return d.ofproto().bondStatus(name);
    } catch (const std::invalid_argument& e) {
        throw RpcError(ErrorCode::kNotFound, e.what());
    }
}

Value nullableString(const std::optional<std::string>& s, Alloc& a) { return s ? str(*s, a) : Value(); }

Value memberJson(Daemon& d, const ofproto::BondMemberStatus& m, Alloc& a) {
    Value o(rapidjson::kObjectType);
    o.AddMember("name", str(m.name, a), a);
    o.AddMember("ofport", m.ofport, a);
    o.AddMember("enabled", m.enabled, a);
    o.AddMember("active", m.active, a);
    o.AddMember("carrier", m.carrier, a);
    o.AddMember("may_enable", m.may_enable, a);
    Value delay;
    if (m.delay_ms >= 0) delay.SetInt64(m.delay_ms);
    o.AddMember("delay_ms", delay, a);
    o.AddMember("load_bytes", m.load_bytes, a);
    if (auto p = d.reconciler().port(m.name)) {
        const auto& st = p->stats();
        o.AddMember("tx_packets", static_cast<std::uint64_t>(st.tx_packets.load(std::memory_order_relaxed)), a);
        o.AddMember("tx_bytes", static_cast<std::uint64_t>(st.tx_bytes.load(std::memory_order_relaxed)), a);
        o.AddMember("rx_packets", static_cast<std::uint64_t>(st.rx_packets.load(std::memory_order_relaxed)), a);
        o.AddMember("rx_bytes", static_cast<std::uint64_t>(st.rx_bytes.load(std::memory_order_relaxed)), a);
    }
    return o;
}

Value bondJson(Daemon& d, const ofproto::BondStatus& b, Alloc& a) {
    Value o(rapidjson::kObjectType);
    o.AddMember("name", str(b.name, a), a);
    o.AddMember("bridge", str(b.bridge, a), a);
    o.AddMember("bond_mode", str(toString(b.settings.mode), a), a);
    o.AddMember("effective_mode", str(toString(b.effective_mode), a), a);
    o.AddMember("lacp", str(toString(b.settings.lacp), a), a);
    o.AddMember("lacp_status", str(b.lacp_status, a), a);
    o.AddMember("lacp_fallback_ab", b.settings.lacp_fallback_ab, a);
    o.AddMember("updelay", b.settings.updelay_ms, a);
    o.AddMember("downdelay", b.settings.downdelay_ms, a);
    o.AddMember("rebalance_interval", b.settings.rebalance_ms, a);
    Value next;
    if (b.next_rebalance_ms >= 0) next.SetInt64(b.next_rebalance_ms);
    o.AddMember("next_rebalance_ms", next, a);
    o.AddMember("primary", nullableString(b.settings.primary.empty() ? std::nullopt : std::optional(b.settings.primary), a), a);
    o.AddMember("active_member", nullableString(b.active, a), a);
    Value members(rapidjson::kArrayType);
    for (const auto& m : b.members) members.PushBack(memberJson(d, m, a), a);
    o.AddMember("members", members, a);
    Value hashes(rapidjson::kArrayType);
    for (const auto& h : b.hashes) {
        Value ho(rapidjson::kObjectType);
        ho.AddMember("hash", h.hash, a);
        ho.AddMember("member", str(h.member, a), a);
        ho.AddMember("load_bytes", h.load_bytes, a);
        ho.AddMember("total_bytes", h.total_bytes, a);
        hashes.PushBack(ho, a);
    }
    o.AddMember("hashes", hashes, a);
    return o;
}

void bondShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    auto name = bondParam(req.params);
    auto& a = res.GetAllocator();
    Value arr(rapidjson::kArrayType);
    for (const auto& b : bonds(d, name)) arr.PushBack(bondJson(d, b, a), a);
    res.SetObject();
    res.AddMember("bonds", arr, a);
}

Value infoJson(const ofproto::LacpPortInfo& i, Alloc& a) {
    Value o(rapidjson::kObjectType);
    o.AddMember("sys_id", str(i.system.toString(), a), a);
    o.AddMember("sys_priority", i.system_priority, a);
    o.AddMember("key", i.key, a);
    o.AddMember("port_id", i.port, a);
    o.AddMember("port_priority", i.port_priority, a);
    o.AddMember("state", i.state, a);
    o.AddMember("state_bits", str(ofproto::formatLacpState(i.state), a), a);
    return o;
}

Value lacpMemberJson(const ofproto::BondStatus& b, const ofproto::LacpMemberStatus& m, Alloc& a) {
    Value o(rapidjson::kObjectType);
    std::string name = "?";
    for (const auto& bm : b.members)
        if (bm.ofport == m.id) name = bm.name;
    o.AddMember("name", str(name, a), a);
    o.AddMember("ofport", m.id, a);
    o.AddMember("rx_state", str(toString(m.rx), a), a);
    o.AddMember("mux_state", str(toString(m.mux), a), a);
    const char* periodic = m.periodic == ofproto::LacpPeriodic::kFast ? "fast"
                           : m.periodic == ofproto::LacpPeriodic::kSlow ? "slow" : "none";
    o.AddMember("periodic", str(periodic, a), a);
    o.AddMember("selected", m.selected, a);
    o.AddMember("may_enable", m.may_enable, a);
    o.AddMember("rx_pdus", m.rx_pdus, a);
    o.AddMember("tx_pdus", m.tx_pdus, a);
    o.AddMember("actor", infoJson(m.actor, a), a);
    o.AddMember("partner", infoJson(m.partner, a), a);
    return o;
}

void lacpShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    auto name = bondParam(req.params);
    auto& a = res.GetAllocator();
    Value arr(rapidjson::kArrayType);
    for (const auto& b : bonds(d, name)) {
        if (!b.lacp) {
            if (name) throw RpcError(ErrorCode::kNotFound, "bond " + *name + " does not run LACP (lacp=off)");
            continue;
        }
        Value o(rapidjson::kObjectType);
        o.AddMember("name", str(b.name, a), a);
        o.AddMember("bridge", str(b.bridge, a), a);
        o.AddMember("lacp", str(toString(b.settings.lacp), a), a);
        o.AddMember("status", str(b.lacp_status, a), a);
        o.AddMember("lacp_time", str(b.lacp->fast ? "fast" : "slow", a), a);
        o.AddMember("fallback_ab", b.lacp->fallback_ab, a);
        o.AddMember("sys_id", str(b.lacp->system.toString(), a), a);
        o.AddMember("sys_priority", b.lacp->system_priority, a);
        o.AddMember("key", b.lacp->key, a);
        Value members(rapidjson::kArrayType);
        for (const auto& m : b.lacp_members) members.PushBack(lacpMemberJson(b, m, a), a);
        o.AddMember("members", members, a);
        arr.PushBack(o, a);
    }
    res.SetObject();
    res.AddMember("bonds", arr, a);
}

}  // namespace

void registerBondMethods(MethodTable& t, Daemon& d) {
    t.add("bond/show", [&d](const protocol::Request& r, rapidjson::Document& res) { bondShow(d, r, res); });
    t.add("lacp/show", [&d](const protocol::Request& r, rapidjson::Document& res) { lacpShow(d, r, res); });
}

}  // namespace vs::vswitchd
