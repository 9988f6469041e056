// The management methods (docs/protocol.md): version, get, transact, show, fdb/show, fdb/flush,
// dpif/show, coverage/show. All run on the control thread.
#include <arpa/inet.h>

#include <set>

#include "datapath/coverage.h"
#include "datapath/clock.h"
#include "vswitchd/config_controller.h"
#include "vswitchd/config_json.h"
#include "vswitchd/daemon.h"
#include "vswitchd/mirror_config.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using Alloc = rapidjson::Document::AllocatorType;

rapidjson::Value str(const std::string& s, Alloc& a) { return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); }

// A string parameter given as params.NAME or as params.args[pos] (vsappctl passthrough form).
std::optional<std::string> stringParam(const rapidjson::Value& params, const char* name, int pos = 0) {
    if (params.IsObject()) {
        auto it = params.FindMember(name);
        if (it != params.MemberEnd()) {
            if (!it->value.IsString()) throw RpcError(ErrorCode::kInvalidParams, std::string("param '") + name + "' must be a string");
            return std::string(it->value.GetString());
        }
        auto args = params.FindMember("args");
        if (args != params.MemberEnd() && args->value.IsArray() && args->value.Size() > static_cast<unsigned>(pos)) {
            if (!args->value[pos].IsString()) throw RpcError(ErrorCode::kInvalidParams, "args must be strings");
            return std::string(args->value[pos].GetString());
        }
    }
    if (params.IsArray() && params.Size() > static_cast<unsigned>(pos) && params[pos].IsString())
        return std::string(params[pos].GetString());
    return std::nullopt;
}

std::string requireBridge(Daemon& d, const rapidjson::Value& params) {
    auto b = stringParam(params, "bridge");
    if (!b) throw RpcError(ErrorCode::kInvalidParams, "missing param 'bridge'");
    if (!d.ofproto().hasBridge(*b)) throw RpcError(ErrorCode::kNotFound, "no bridge named " + *b);
    return *b;
}

std::map<std::string, InterfaceConfig> interfaces(const Config& c) {
    std::map<std::string, InterfaceConfig> s;
    for (const auto& [bn, b] : c.bridges)
        for (const auto& [pn, p] : b.ports)
            for (const auto& [in, i] : p.interfaces) s.emplace(in, i);
    return s;
}

rapidjson::Value portStats(const dp::Port& p, Alloc& a) {
    rapidjson::Value s(rapidjson::kObjectType);
    const auto& st = p.stats();
    auto add = [&](const char* k, const std::atomic<std::uint64_t>& v) {
        s.AddMember(rapidjson::StringRef(k), static_cast<std::uint64_t>(v.load(std::memory_order_relaxed)), a);
    };
    add("rx_packets", st.rx_packets); add("rx_bytes", st.rx_bytes); add("rx_dropped", st.rx_dropped);
    add("tx_packets", st.tx_packets); add("tx_bytes", st.tx_bytes); add("tx_dropped", st.tx_dropped);
    add("rx_policed", st.rx_policed);  // of rx_dropped: over ingress_policing_rate (docs/qos.md)
    return s;
}

rapidjson::Value interfaceStatus(Daemon& d, const std::string& name, const InterfaceConfig& ic, Alloc& a) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("ofport", ic.ofport, a);
    auto err = d.reconciler().error(name);
    if (err) v.AddMember("error", str(*err, a), a); else v.AddMember("error", rapidjson::Value(), a);
    if (auto p = d.reconciler().port(name)) {
        v.AddMember("mac_in_use", str(p->mac().toString(), a), a);
        v.AddMember("mtu", p->mtu(), a);
        v.AddMember("link_state", rapidjson::StringRef(p->carrier() ? "up" : "down"), a);
        v.AddMember("statistics", portStats(*p, a), a);
    }
    return v;
}

// {BRIDGE: {TARGET: {"is_connected": bool, "status": {...}}}} (the Controller status columns).
rapidjson::Value controllerStatus(Daemon& d, const Config& c, Alloc& a) {
    rapidjson::Value out(rapidjson::kObjectType);
    for (const auto& [bn, b] : c.bridges) {
        if (b.controllers.empty()) continue;
        rapidjson::Value per(rapidjson::kObjectType);
        for (const auto& [target, cc] : b.controllers) {
            auto st = d.controllers().status(bn, target).value_or(ControllerStatus{});
            rapidjson::Value o(rapidjson::kObjectType);
            o.AddMember("is_connected", st.is_connected, a);
            rapidjson::Value m(rapidjson::kObjectType);
            for (const auto& [k, v] : st.status) m.AddMember(str(k, a), str(v, a), a);
            o.AddMember("status", m, a);
            per.AddMember(str(target, a), o, a);
        }
        out.AddMember(str(bn, a), per, a);
    }
    return out;
}

void methodGet(Daemon& d, const protocol::Request&, rapidjson::Document& res) {
    auto& a = res.GetAllocator();
    const Config& c = d.store().config();
    res.SetObject();
    res.AddMember("seq", c.seq, a);
    res.AddMember("config", configToJson(c, a), a);
    rapidjson::Value ifaces(rapidjson::kObjectType);
    for (const auto& [bn, b] : c.bridges)
        for (const auto& [pn, p] : b.ports)
            for (const auto& [in, ic] : p.interfaces) ifaces.AddMember(str(in, a), interfaceStatus(d, in, ic, a), a);
    rapidjson::Value status(rapidjson::kObjectType);
    status.AddMember("interfaces", ifaces, a);
    status.AddMember("controllers", controllerStatus(d, c, a), a);
    status.AddMember("rstp", rstpStatusJson(d, a), a);  // rpc_rstp.cpp
    status.AddMember("mirrors", mirrorStatusJson(c, [&d](const std::string& b) { return d.ofproto().mirrorStats(b); }, a), a);
    res.AddMember("status", status, a);
}

void methodTransact(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    if (!req.params.IsObject() || !req.params.HasMember("ops") || !req.params["ops"].IsArray())
        throw RpcError(ErrorCode::kInvalidParams, "param 'ops' must be an array of operations");
    auto before = interfaces(d.store().config());
    if (auto bad = checkSslOps(req.params["ops"])) {  // files are checked here, not when a journal replays
        auto data = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
        data->AddMember("op_index", bad->first, data->GetAllocator());
        throw RpcError(ErrorCode::kInvalidValue, bad->second, data);
    }
    if (auto problem = d.persistFlowLog())  // the journal keeps the order the switch saw
        throw RpcError(ErrorCode::kPersistFailed, "could not save the configuration: " + *problem + "; nothing changed");
    TransactResult r = d.store().transact(req.params["ops"]);
    if (!r.ok()) throw r.error->toRpcError();
    if (r.changed) d.reconciler().apply(d.store().config());
    if (r.changed) d.controllers().apply(d.store().config());
    // The flow tables this transaction reset (a deleted bridge, a flush on a fail mode or
    // controller change) are in its journal record (ControllerManager::flowResets): no separate
    // write, and no crash can bring back rules the bridge no longer has. Snapshots wait until the
    // change is applied, so that the flows file shows the tables as they now are.
    if (r.changed) d.store().compactIfDue();
    auto& a = res.GetAllocator();
    res.SetObject();
    res.AddMember("seq", r.seq, a);
    rapidjson::Value errs(rapidjson::kObjectType);
    for (const auto& [name, ic] : interfaces(d.store().config())) {  // added or changed by this transaction
        auto old = before.find(name);
        if (old != before.end() && old->second == ic) continue;
        if (auto e = d.reconciler().error(name)) errs.AddMember(str(name, a), str(*e, a), a);
    }
    res.AddMember("errors", errs, a);
}

void methodShow(Daemon& d, const protocol::Request&, rapidjson::Document& res) {
    auto& a = res.GetAllocator();
    rapidjson::Value bridges(rapidjson::kArrayType);
    for (const auto& [bn, b] : d.store().config().bridges) {
        rapidjson::Value ports(rapidjson::kArrayType);
        for (const auto& [pn, p] : b.ports) {
            rapidjson::Value ifaces(rapidjson::kArrayType);
            for (const auto& [in, ic] : p.interfaces) {
                rapidjson::Value i(rapidjson::kObjectType);
                i.AddMember("name", str(in, a), a);
                i.AddMember("type", str(ic.type.empty() ? "system" : ic.type, a), a);
                i.AddMember("ofport", ic.ofport, a);
                if (!ic.options.empty()) {
                    rapidjson::Value opts(rapidjson::kObjectType);
                    for (const auto& [k, v] : ic.options) opts.AddMember(str(k, a), str(v, a), a);
                    i.AddMember("options", opts, a);
                }
                auto err = d.reconciler().error(in);
                if (err) i.AddMember("error", str(*err, a), a); else i.AddMember("error", rapidjson::Value(), a);
                ifaces.PushBack(i, a);
            }
            rapidjson::Value po(rapidjson::kObjectType);
            po.AddMember("name", str(pn, a), a);
            // VLAN columns only when set (ovs-vsctl show prints them only then).
            if (p.tag) po.AddMember("tag", *p.tag, a);
            if (!p.trunks.empty()) {
                rapidjson::Value trunks(rapidjson::kArrayType);
                for (int t : p.trunks) trunks.PushBack(t, a);
                po.AddMember("trunks", trunks, a);
            }
            if (!p.vlan_mode.empty()) po.AddMember("vlan_mode", str(p.vlan_mode, a), a);
            po.AddMember("interfaces", ifaces, a);
            ports.PushBack(po, a);
        }
        rapidjson::Value bo(rapidjson::kObjectType);
        bo.AddMember("name", str(bn, a), a);
        // Controllers and fail mode only when set (ovs-vsctl show prints them only then).
        if (!b.controllers.empty()) {
            rapidjson::Value ctls(rapidjson::kArrayType);
            for (const auto& [target, cc] : b.controllers) {
                rapidjson::Value co(rapidjson::kObjectType);
                co.AddMember("target", str(target, a), a);
                auto st = d.controllers().status(bn, target);
                co.AddMember("is_connected", st && st->is_connected, a);
                ctls.PushBack(co, a);
            }
            bo.AddMember("controller", ctls, a);
        }
        if (!b.fail_mode.empty()) bo.AddMember("fail_mode", str(b.fail_mode, a), a);
        bo.AddMember("ports", ports, a);
        bridges.PushBack(bo, a);
    }
    res.SetObject();
    res.AddMember("bridges", bridges, a);
}

void methodFdbShow(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::string br = requireBridge(d, req.params);
    auto& a = res.GetAllocator();
    rapidjson::Value rows(rapidjson::kArrayType);
    for (const auto& e : d.ofproto().fdb(br)) {
        rapidjson::Value r(rapidjson::kObjectType);
        r.AddMember("port", str(e.port_name, a), a);
        r.AddMember("ofport", e.ofport, a);
        r.AddMember("vlan", e.vlan, a);
        r.AddMember("mac", str(e.mac.toString(), a), a);
        r.AddMember("age", e.age_s, a);
        if (e.vtep) {  // behind a remote_ip=flow tunnel port
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &*e.vtep, ip, sizeof ip);
            r.AddMember("remote_vtep", str(ip, a), a);
        }
        if (e.vni) r.AddMember("vni", *e.vni, a);  // behind a key=flow tunnel port
        rows.PushBack(r, a);
    }
    res.SetObject();
    res.AddMember("entries", rows, a);
}

void methodFdbFlush(Daemon& d, const protocol::Request& req, rapidjson::Document& res) {
    std::optional<std::string> br;
    if (stringParam(req.params, "bridge")) br = requireBridge(d, req.params);
    res.SetObject();
    res.AddMember("flushed", static_cast<std::uint64_t>(d.ofproto().fdbFlush(br)), res.GetAllocator());
}

void methodDpifShow(Daemon& d, const protocol::Request&, rapidjson::Document& res) {
    auto& a = res.GetAllocator();
    auto st = d.ofproto().datapath().stats();
    rapidjson::Value lookups(rapidjson::kObjectType);
    lookups.AddMember("hit", st.hit, a);
    lookups.AddMember("missed", st.missed, a);
    lookups.AddMember("lost", st.lost, a);
    rapidjson::Value bridges(rapidjson::kArrayType);
    for (const auto& [bn, b] : d.store().config().bridges) {
        rapidjson::Value ports(rapidjson::kArrayType);
        if (d.ofproto().hasBridge(bn)) {
            for (const auto& row : d.ofproto().ports(bn)) {
                rapidjson::Value p = portStats(*row.port, a);
                p.AddMember("name", str(row.name, a), a);
                p.AddMember("ofport", row.ofport, a);
                p.AddMember("dp_port", row.dp_port, a);
                p.AddMember("type", str(row.type, a), a);
                ports.PushBack(p, a);
            }
        }
        rapidjson::Value bo(rapidjson::kObjectType);
        bo.AddMember("name", str(bn, a), a);
        bo.AddMember("ports", ports, a);
        bridges.PushBack(bo, a);
    }
    res.SetObject();
    res.AddMember("lookups", lookups, a);
    res.AddMember("flows", st.flows, a);
    res.AddMember("bridges", bridges, a);
}

void methodCoverageShow(Daemon&, const protocol::Request&, rapidjson::Document& res) {
    auto& a = res.GetAllocator();
    rapidjson::Value rows(rapidjson::kArrayType);
    for (unsigned i = 0; i < dp::kCoverageCount; ++i) {
        auto c = static_cast<dp::Coverage>(i);
        auto info = dp::coverageInfo(c);
        rapidjson::Value r(rapidjson::kObjectType);
        r.AddMember("name", rapidjson::StringRef(info.name.data(), static_cast<rapidjson::SizeType>(info.name.size())), a);
        r.AddMember("total", dp::coverageRead(c), a);
        r.AddMember("description", rapidjson::StringRef(info.description.data(), static_cast<rapidjson::SizeType>(info.description.size())), a);
        rows.PushBack(r, a);
    }
    res.SetObject();
    res.AddMember("counters", rows, a);
}

void methodDpifDumpFlows(Daemon& d, const protocol::Request&, rapidjson::Document& res) {
    auto& a = res.GetAllocator();
    std::int64_t now = dp::monotonicMs();
    rapidjson::Value rows(rapidjson::kArrayType);
    for (const auto& f : d.ofproto().datapath().dumpFlows()) {
        rapidjson::Value r(rapidjson::kObjectType);
        r.AddMember("match", str(dp::formatMegaflow(f.key, f.mask), a), a);
        r.AddMember("packets", f.packets, a);
        r.AddMember("bytes", f.bytes, a);
        r.AddMember("used", (now - f.used_ms) / 1000.0, a);
        r.AddMember("age", (now - f.created_ms) / 1000.0, a);
        r.AddMember("actions", str(f.actions, a), a);
        rows.PushBack(r, a);
    }
    res.SetObject();
    res.AddMember("flows", rows, a);
}

void methodVersion(Daemon&, const protocol::Request&, rapidjson::Document& res) {
    res.SetObject();
    res.AddMember("version", rapidjson::StringRef(VSWITCH_VERSION), res.GetAllocator());
    res.AddMember("protocol", 1, res.GetAllocator());
}

}  // namespace

void registerRpcMethods(MethodTable& t, Daemon& d) {
    using Fn = void (*)(Daemon&, const protocol::Request&, rapidjson::Document&);
    const std::pair<const char*, Fn> methods[] = {
        {"version", methodVersion},   {"get", methodGet},           {"transact", methodTransact},
        {"show", methodShow},         {"fdb/show", methodFdbShow},  {"fdb/flush", methodFdbFlush},
        {"dpif/show", methodDpifShow}, {"coverage/show", methodCoverageShow},
        {"dpif/dump-flows", methodDpifDumpFlows},
    };
    for (const auto& [name, fn] : methods)
        t.add(name, [&d, fn](const protocol::Request& r, rapidjson::Document& res) { fn(d, r, res); });
}

}  // namespace vs::vswitchd
