#include "vswitchd/ovsdb_mapping.h"

#include <algorithm>
#include <set>

#include "vswitchd/config_json.h"
#include "vswitchd/config_schema.h"
#include "vswitchd/log.h"
#include "vswitchd/qos_ovsdb.h"

namespace vs::vswitchd {
namespace {

constexpr log::Module kLog = log::Module::kOvsdb;
using ovsdb::Atom;
using ovsdb::Datum;
using ovsdb::Row;
using ovsdb::Uuid;

// ---- config -> rows -------------------------------------------------------------------------

Datum strDatum(const std::string& s) { return Datum{{{Atom{s}, Atom{}}}}; }
Datum optStrDatum(const std::string& s) { return s.empty() ? Datum{} : strDatum(s); }
Datum intDatum(std::int64_t i) { return Datum{{{Atom{i}, Atom{}}}}; }
Datum optIntDatum(const std::optional<int>& i) { return i ? intDatum(*i) : Datum{}; }
Datum mapDatum(const StringMap& m) {
    Datum d;
    for (const auto& [k, v] : m) d.entries.emplace(Atom{k}, Atom{v});
    return d;
}
Datum uuidSet(const std::vector<Uuid>& uuids) {
    Datum d;
    for (const auto& u : uuids) d.entries.emplace(Atom{u}, Atom{});
    return d;
}

std::string rowName(const Row& r) {
    auto it = r.find("name");
    if (it == r.end() || it->second.entries.empty()) return {};
    return std::get<std::string>(it->second.entries.begin()->first);
}

// Existing rows of `table` by their name column.
std::map<std::string, Uuid> rowsByName(const ovsdb::Database& db, const std::string& table) {
    std::map<std::string, Uuid> out;
    for (const auto& [uuid, row] : db.tables.at(table)) out.emplace(rowName(row), uuid);
    return out;
}

struct Projector {
    const OvsdbStatus& status;
    ovsdb::Database& old;  // the rows being rebuilt: each is moved out once, when reused
    ovsdb::Database& db;
    std::map<std::string, Uuid> bridges, ports, ifaces;
    std::map<std::pair<std::string, std::string>, Uuid> controllers;  // (bridge, target)
    ovsdb::Table newBridges, newPorts, newIfaces, newCtrls;
    std::map<std::pair<std::string, std::string>, Uuid> mirrors;  // (bridge, name)
    ovsdb::Table newMirrors;
    QosWritten qosWritten;

    // The row `key` had (moved out of `old`: a copy of every row's ~40 columns was the largest
    // cost of a projection), or a new default row; `uuid` is its UUID.
    Row rowFor(const std::string& table, std::map<std::string, Uuid>& index, const std::string& key, Uuid& uuid) {
        auto it = index.find(key);
        if (it == index.end()) {
            uuid = ovsdb::randomUuid();
            return db.defaultRow(table);
        }
        uuid = it->second;
        index.erase(it);  // a second row of the same name gets a fresh one
        return std::move(old.tables.at(table).at(uuid));
    }

    Uuid iface(const std::string& name, const InterfaceConfig& ic) {
        Uuid u;
        Row r = rowFor("Interface", ifaces, name, u);
        r["name"] = strDatum(name);
        r["type"] = strDatum(ic.type == "system" ? "" : ic.type);
        r["options"] = mapDatum(ic.options);
        r["other_config"] = mapDatum(ic.other_config);
        r["external_ids"] = mapDatum(ic.external_ids);
        r["ofport"] = intDatum(ic.ofport);
        projectPolicing(ic, r);  // qos_ovsdb.h
        auto err = status.interfaceError ? status.interfaceError(name) : std::nullopt;
        r["error"] = err ? strDatum(*err) : Datum{};
        auto st = status.interfaceState ? status.interfaceState(name) : std::nullopt;
        r["mac_in_use"] = st ? strDatum(st->mac) : Datum{};
        r["mtu"] = st ? intDatum(st->mtu) : Datum{};
        r["link_state"] = st ? strDatum(st->up ? "up" : "down") : Datum{};
        r["ifindex"] = st ? intDatum(st->ifindex) : Datum{};
        r["admin_state"] = st && st->admin_up ? strDatum(*st->admin_up ? "up" : "down") : Datum{};
        Datum stats;
        if (st)
            for (const auto& [k, v] : st->statistics) stats.entries.emplace(Atom{k}, Atom{static_cast<std::int64_t>(v)});
        r["statistics"] = stats;
        newIfaces[u] = std::move(r);
        return u;
    }

    Uuid port(const std::string& name, const PortConfig& pc) {
        Uuid u;
        Row r = rowFor("Port", ports, name, u);
        r["name"] = strDatum(name);
        r["tag"] = optIntDatum(pc.tag);
        Datum trunks;
        for (int t : pc.trunks) trunks.entries.emplace(Atom{std::int64_t{t}}, Atom{});
        r["trunks"] = trunks;
        r["vlan_mode"] = optStrDatum(pc.vlan_mode);
        r["bond_mode"] = optStrDatum(pc.bond_mode);
        r["lacp"] = optStrDatum(pc.lacp);
        r["bond_updelay"] = intDatum(pc.bond_updelay);
        r["bond_downdelay"] = intDatum(pc.bond_downdelay);
        r["other_config"] = mapDatum(pc.other_config);
        r["external_ids"] = mapDatum(pc.external_ids);
        if (status.portStatus) r["status"] = mapDatum(status.portStatus(name));
        if (status.portRstpStatus) r["rstp_status"] = mapDatum(status.portRstpStatus(name));  // rstp_config.h
        if (status.portRstpStatistics) {
            Datum stats;
            for (const auto& [k, v] : status.portRstpStatistics(name)) stats.entries.emplace(Atom{k}, Atom{v});
            r["rstp_statistics"] = stats;
        }
        std::vector<Uuid> members;
        for (const auto& [in, ic] : pc.interfaces) members.push_back(iface(in, ic));
        r["interfaces"] = uuidSet(members);
        projectQos(pc.qos, r, db, qosWritten);  // qos_ovsdb.h: QoS and Queue rows
        newPorts[u] = std::move(r);
        return u;
    }

    Uuid controller(const std::string& bridge, const std::string& target, const ControllerConfig& cc) {
        auto it = controllers.find({bridge, target});
        Uuid u = it != controllers.end() ? it->second : ovsdb::randomUuid();
        Row r = it != controllers.end() ? old.tables.at("Controller").at(u) : db.defaultRow("Controller");
        r["target"] = strDatum(target);
        r["inactivity_probe"] = optIntDatum(cc.inactivity_probe);
        r["max_backoff"] = optIntDatum(cc.max_backoff);
        r["controller_rate_limit"] = optIntDatum(cc.controller_rate_limit);
        r["controller_burst_limit"] = optIntDatum(cc.controller_burst_limit);
        r["other_config"] = mapDatum(cc.other_config);
        r["external_ids"] = mapDatum(cc.external_ids);
        newCtrls[u] = std::move(r);
        return u;
    }

    // A Mirror row (docs/mirrors.md): ports by their rows' UUIDs, statistics from the daemon.
    Uuid mirror(const std::string& bridge, const std::string& name, const MirrorConfig& mc,
                const std::map<std::string, Uuid>& portUuids) {
        auto it = mirrors.find({bridge, name});
        Uuid u = it != mirrors.end() ? it->second : ovsdb::randomUuid();
        Row r = it != mirrors.end() ? old.tables.at("Mirror").at(u) : db.defaultRow("Mirror");
        auto portSet = [&](const std::vector<std::string>& names) {
            std::vector<Uuid> us;
            for (const auto& n : names)
                if (auto p = portUuids.find(n); p != portUuids.end()) us.push_back(p->second);
            return uuidSet(us);
        };
        r["name"] = strDatum(name);
        r["select_all"] = Datum{{{Atom{mc.select_all}, Atom{}}}};
        r["select_src_port"] = portSet(mc.select_src_port);
        r["select_dst_port"] = portSet(mc.select_dst_port);
        Datum vlans;
        for (int v : mc.select_vlan) vlans.entries.emplace(Atom{std::int64_t{v}}, Atom{});
        r["select_vlan"] = vlans;
        r["output_port"] = mc.output_port.empty() ? Datum{} : portSet({mc.output_port});
        r["output_vlan"] = optIntDatum(mc.output_vlan);
        r["external_ids"] = mapDatum(mc.external_ids);
        Datum stats;
        if (auto s = status.mirrorStats ? status.mirrorStats(bridge, name) : std::nullopt) {
            stats.entries.emplace(Atom{std::string("tx_bytes")}, Atom{static_cast<std::int64_t>(s->second)});
            stats.entries.emplace(Atom{std::string("tx_packets")}, Atom{static_cast<std::int64_t>(s->first)});
        }
        r["statistics"] = stats;
        newMirrors[u] = std::move(r);
        return u;
    }

    Uuid bridge(const std::string& name, const BridgeConfig& bc) {
        Uuid u;
        Row r = rowFor("Bridge", bridges, name, u);
        r["name"] = strDatum(name);
        r["fail_mode"] = optStrDatum(bc.fail_mode);
        r["stp_enable"] = Datum{{{Atom{bc.stp_enable}, Atom{}}}};  // stp_config.h
        r["rstp_enable"] = Datum{{{Atom{bc.rstp_enable}, Atom{}}}};
        r["other_config"] = mapDatum(bc.other_config);
        r["external_ids"] = mapDatum(bc.external_ids);
        if (status.datapathId)
            if (std::string id = status.datapathId(name); !id.empty()) r["datapath_id"] = strDatum(id);
        if (status.bridgeStatus) r["status"] = mapDatum(status.bridgeStatus(name));
        if (status.bridgeRstpStatus) r["rstp_status"] = mapDatum(status.bridgeRstpStatus(name));  // rstp_config.h
        std::vector<Uuid> ps, cs, ms;
        std::map<std::string, Uuid> portUuids;
        for (const auto& [pn, pc] : bc.ports) ps.push_back(portUuids[pn] = port(pn, pc));
        for (const auto& [t, cc] : bc.controllers) cs.push_back(controller(name, t, cc));
        for (const auto& [mn, mc] : bc.mirrors) ms.push_back(mirror(name, mn, mc, portUuids));
        r["ports"] = uuidSet(ps);
        r["controller"] = uuidSet(cs);
        r["mirrors"] = uuidSet(ms);
        newBridges[u] = std::move(r);
        return u;
    }
};

std::map<std::pair<std::string, std::string>, Uuid> controllersByTarget(const ovsdb::Database& db) {
    std::map<std::pair<std::string, std::string>, Uuid> out;
    for (const auto& [bu, br] : db.tables.at("Bridge"))
        for (const auto& [cu, unused] : br.at("controller").entries) {
            const auto& ct = db.tables.at("Controller");
            auto it = ct.find(std::get<Uuid>(cu));
            if (it == ct.end() || it->second.at("target").entries.empty()) continue;
            out.emplace(std::make_pair(rowName(br), std::get<std::string>(it->second.at("target").entries.begin()->first)),
                        std::get<Uuid>(cu));
        }
    return out;
}

std::map<std::pair<std::string, std::string>, Uuid> mirrorsByName(const ovsdb::Database& db) {
    std::map<std::pair<std::string, std::string>, Uuid> out;
    const auto& mt = db.tables.at("Mirror");
    for (const auto& [bu, br] : db.tables.at("Bridge"))
        for (const auto& [mu, unused] : br.at("mirrors").entries)
            if (auto it = mt.find(std::get<Uuid>(mu)); it != mt.end())
                out.emplace(std::make_pair(rowName(br), rowName(it->second)), std::get<Uuid>(mu));
    return out;
}

void projectSsl(const Config& cfg, const ovsdb::Database& old, ovsdb::Database& db, Row& ovs) {
    ovsdb::Table ssl;
    if (cfg.ssl) {
        const auto& ref = ovs.at("ssl").entries;
        Uuid u = ref.empty() ? ovsdb::randomUuid() : std::get<Uuid>(ref.begin()->first);
        auto it = old.tables.at("SSL").find(u);
        Row r = it != old.tables.at("SSL").end() ? it->second : db.defaultRow("SSL");
        r["private_key"] = strDatum(cfg.ssl->private_key);
        r["certificate"] = strDatum(cfg.ssl->certificate);
        r["ca_cert"] = strDatum(cfg.ssl->ca_cert);
        ssl[u] = std::move(r);
        ovs["ssl"] = uuidSet({u});
    } else {
        ovs["ssl"] = Datum{};
    }
    db.tables["SSL"] = std::move(ssl);
}

// ---- rows -> config -------------------------------------------------------------------------

[[noreturn]] void refuse(const std::string& why) { throw ovsdb::Error("constraint violation", why); }

std::string str(const Row& r, const char* col) {
    const auto& e = r.at(col).entries;
    return e.empty() ? std::string() : std::get<std::string>(e.begin()->first);
}
std::optional<int> optInt(const Row& r, const char* col) {
    const auto& e = r.at(col).entries;
    if (e.empty()) return std::nullopt;
    return static_cast<int>(std::get<std::int64_t>(e.begin()->first));
}
StringMap strMap(const Row& r, const char* col) {
    StringMap m;
    for (const auto& [k, v] : r.at(col).entries) m.emplace(std::get<std::string>(k), std::get<std::string>(v));
    return m;
}
std::vector<Uuid> refs(const Row& r, const char* col) {
    std::vector<Uuid> out;
    for (const auto& [k, v] : r.at(col).entries) out.push_back(std::get<Uuid>(k));
    return out;
}

struct Reader {
    const ovsdb::Database& db;
    const Config& current;
    std::set<Uuid> seenPorts, seenIfaces;

    const Row& row(const char* table, const Uuid& u) { return db.tables.at(table).at(u); }

    InterfaceConfig iface(const std::string& bridge, const std::string& name, const Row& r) {
        InterfaceConfig ic;
        ic.type = str(r, "type");
        if (ic.type.empty()) ic.type = "system";
        ic.options = strMap(r, "options");
        ic.other_config = strMap(r, "other_config");
        ic.external_ids = strMap(r, "external_ids");
        policingFromRow(r, ic);
        if (auto req = optInt(r, "ofport_request")) ic.ofport = *req;
        else if (auto br = current.bridges.find(bridge); br != current.bridges.end())
            for (const auto& [pn, pc] : br->second.ports)
                if (auto it = pc.interfaces.find(name); it != pc.interfaces.end()) ic.ofport = it->second.ofport;
        return ic;
    }

    PortConfig port(const std::string& bridge, const std::string& name, const Row& r) {
        PortConfig pc;
        pc.tag = optInt(r, "tag");
        for (const auto& [k, v] : r.at("trunks").entries) pc.trunks.push_back(static_cast<int>(std::get<std::int64_t>(k)));
        pc.vlan_mode = str(r, "vlan_mode");
        pc.bond_mode = str(r, "bond_mode");
        pc.lacp = str(r, "lacp");
        pc.bond_updelay = optInt(r, "bond_updelay").value_or(0);
        pc.bond_downdelay = optInt(r, "bond_downdelay").value_or(0);
        pc.other_config = strMap(r, "other_config");
        pc.external_ids = strMap(r, "external_ids");
        pc.qos = qosFromRow(db, r);
        for (const Uuid& iu : refs(r, "interfaces")) {
            if (!seenIfaces.insert(iu).second) refuse("Interface " + iu.s + " belongs to more than one port");
            const Row& ir = row("Interface", iu);
            std::string in = rowName(ir);
            if (pc.interfaces.count(in)) refuse("port " + name + " has two interfaces named " + in);
            pc.interfaces.emplace(in, iface(bridge, in, ir));
        }
        if (pc.interfaces.empty()) refuse("port " + name + " has no interfaces (a port needs at least one)");
        return pc;
    }

    BridgeConfig bridge(const std::string& name, const Row& r) {
        BridgeConfig bc;
        bc.fail_mode = str(r, "fail_mode");
        for (auto [col, member] : {std::pair{"stp_enable", &BridgeConfig::stp_enable}, {"rstp_enable", &BridgeConfig::rstp_enable}})
            if (const auto& e = r.at(col).entries; !e.empty()) bc.*member = std::get<bool>(e.begin()->first);
        bc.other_config = strMap(r, "other_config");
        bc.external_ids = strMap(r, "external_ids");
        for (const Uuid& pu : refs(r, "ports")) {
            if (!seenPorts.insert(pu).second) refuse("Port " + pu.s + " belongs to more than one bridge");
            const Row& pr = row("Port", pu);
            std::string pn = rowName(pr);
            if (bc.ports.count(pn)) refuse("bridge " + name + " has two ports named " + pn);
            bc.ports.emplace(pn, port(name, pn, pr));
        }
        for (const Uuid& mu : refs(r, "mirrors")) {  // docs/mirrors.md
            const Row& mr = row("Mirror", mu);
            auto portNames = [&](const char* col) {
                std::vector<std::string> names;
                for (const Uuid& pu : refs(mr, col))
                    if (auto it = db.tables.at("Port").find(pu); it != db.tables.at("Port").end())
                        names.push_back(rowName(it->second));
                std::sort(names.begin(), names.end());
                names.erase(std::unique(names.begin(), names.end()), names.end());
                return names;
            };
            MirrorConfig mc;
            const auto& all = mr.at("select_all").entries;
            mc.select_all = !all.empty() && std::get<bool>(all.begin()->first);
            mc.select_src_port = portNames("select_src_port");
            mc.select_dst_port = portNames("select_dst_port");
            for (const auto& [k, v] : mr.at("select_vlan").entries) mc.select_vlan.push_back(static_cast<int>(std::get<std::int64_t>(k)));
            if (auto out = portNames("output_port"); !out.empty()) mc.output_port = out.front();
            mc.output_vlan = optInt(mr, "output_vlan");
            mc.external_ids = strMap(mr, "external_ids");
            std::string mn = rowName(mr);
            if (!bc.mirrors.emplace(mn, std::move(mc)).second) refuse("bridge " + name + " has two mirrors named " + mn);
        }
        for (const Uuid& cu : refs(r, "controller")) {
            const Row& cr = row("Controller", cu);
            ControllerConfig cc;
            cc.inactivity_probe = optInt(cr, "inactivity_probe");
            cc.max_backoff = optInt(cr, "max_backoff");
            cc.controller_rate_limit = optInt(cr, "controller_rate_limit");
            cc.controller_burst_limit = optInt(cr, "controller_burst_limit");
            cc.other_config = strMap(cr, "other_config");
            cc.external_ids = strMap(cr, "external_ids");
            bc.controllers.emplace(str(cr, "target"), cc);
        }
        return bc;
    }
};

void assignOfports(Config& c) {
    for (auto& [bn, br] : c.bridges)
        for (auto& [pn, pc] : br.ports)
            for (auto& [in, ic] : pc.interfaces) {
                if (isLocalPort(bn, pn) && in == bn) ic.ofport = kLocalOfport;
                else if (ic.ofport == 0 && (ic.ofport = lowestFreeOfport(br)) == 0)
                    refuse("bridge " + bn + " has no free ofport left");
            }
}

}  // namespace

void projectConfig(const Config& cfg, const OvsdbStatus& status, ovsdb::Database& db) {
    ovsdb::Database old(db.schema);  // the rows being rebuilt (the other tables stay in place)
    for (const char* t : {"Bridge", "Port", "Interface", "Controller", "SSL", "Mirror"}) old.tables[t] = std::move(db.tables[t]);
    auto& ovsTable = db.tables["Open_vSwitch"];
    if (ovsTable.empty()) ovsTable[ovsdb::randomUuid()] = db.defaultRow("Open_vSwitch");
    Row& ovs = ovsTable.begin()->second;
    Projector p{status, old, db, rowsByName(old, "Bridge"), rowsByName(old, "Port"), rowsByName(old, "Interface"),
                controllersByTarget(old), {}, {}, {}, {}, mirrorsByName(old), {}};
    std::vector<Uuid> bridgeUuids;
    for (const auto& [bn, bc] : cfg.bridges) bridgeUuids.push_back(p.bridge(bn, bc));
    db.tables["Bridge"] = std::move(p.newBridges);
    db.tables["Port"] = std::move(p.newPorts);
    db.tables["Interface"] = std::move(p.newIfaces);
    db.tables["Controller"] = std::move(p.newCtrls);
    db.tables["Mirror"] = std::move(p.newMirrors);
    ovs["bridges"] = uuidSet(bridgeUuids);
    projectSsl(cfg, old, db, ovs);
    ovs["ovs_version"] = strDatum(VSWITCH_VERSION);
    ovs["db_version"] = strDatum(db.schema->version);
    try {
        ovsdb::collectGarbage(db);
    } catch (const ovsdb::Error& e) {
        log::warn(kLog, "OVSDB rows left inconsistent by a config change: {}", e.details);
    }
}

Config configFromDb(const ovsdb::Database& db, const Config& current) {
    Config c;
    c.seq = current.seq;
    const auto& ovsTable = db.tables.at("Open_vSwitch");
    if (ovsTable.empty()) return c;
    const Row& ovs = ovsTable.begin()->second;
    Reader rd{db, current, {}, {}};
    for (const Uuid& bu : refs(ovs, "bridges")) {
        const Row& br = db.tables.at("Bridge").at(bu);
        std::string bn = rowName(br);
        if (c.bridges.count(bn)) refuse("two bridges are named " + bn);
        c.bridges.emplace(bn, rd.bridge(bn, br));
    }
    if (auto refsSsl = refs(ovs, "ssl"); !refsSsl.empty()) {
        const Row& s = db.tables.at("SSL").at(refsSsl.front());
        c.ssl = SslConfig{str(s, "private_key"), str(s, "certificate"), str(s, "ca_cert")};
    }
    assignOfports(c);
    try {
        Config checked = configFromFileText(configToFileText(c));
        checked.seq = c.seq;
        return checked;
    } catch (const std::exception& e) {
        refuse(e.what());
    }
}

}  // namespace vs::vswitchd
