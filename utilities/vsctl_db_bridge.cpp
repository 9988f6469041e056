#include "utilities/vsctl_db_bridge.h"

#include <algorithm>
#include <optional>
#include <set>

#include "utilities/vsctl_cli.h"

namespace vs::utilities {
namespace {

using ovsdb::Atom;
using ovsdb::Database;
using ovsdb::Datum;
using ovsdb::Row;
using ovsdb::Uuid;

Datum str(const std::string& s) {
    Datum d;
    d.entries.emplace(s, std::monostate{});
    return d;
}

Datum ref(const Uuid& u) {
    Datum d;
    d.entries.emplace(u, std::monostate{});
    return d;
}

std::string nameOf(const Row& row) {
    const Datum& d = row.at("name");
    if (d.entries.empty()) return "";
    auto s = std::get_if<std::string>(&d.entries.begin()->first);
    return s ? *s : "";
}

std::optional<Uuid> byName(const Database& db, const std::string& table, const std::string& name) {
    for (const auto& [u, row] : db.tables.at(table))
        if (nameOf(row) == name) return u;
    return std::nullopt;
}

Row& row(Database& db, const std::string& table, const Uuid& u) { return db.tables.at(table).at(u); }

Uuid ovsRow(Database& db) {
    auto& rows = db.tables.at("Open_vSwitch");
    if (rows.size() != 1) throw CliError("database has " + std::to_string(rows.size()) + " Open_vSwitch rows");
    return rows.begin()->first;
}

std::vector<Uuid> refs(const Row& r, const std::string& column) {
    std::vector<Uuid> out;
    for (const auto& [k, v] : r.at(column).entries)
        if (auto u = std::get_if<Uuid>(&k)) out.push_back(*u);
    return out;
}

// The bridge whose `ports` holds port `port`.
std::optional<Uuid> bridgeOfPort(const Database& db, const Uuid& port) {
    for (const auto& [u, r] : db.tables.at("Bridge"))
        if (r.at("ports").entries.count(port)) return u;
    return std::nullopt;
}

std::optional<Uuid> portOfIface(const Database& db, const Uuid& iface) {
    for (const auto& [u, r] : db.tables.at("Port"))
        if (r.at("interfaces").entries.count(iface)) return u;
    return std::nullopt;
}

Uuid mustBridge(const Database& db, const std::string& name) {
    auto u = byName(db, "Bridge", name);
    if (!u) throw CliError("no bridge named " + name);
    return *u;
}

Uuid insert(Database& db, const std::string& table, Row r) {
    Uuid u = ovsdb::randomUuid();
    db.tables.at(table).emplace(u, std::move(r));
    return u;
}

// A new port `port` with interfaces `ifaces` on bridge `br` (interface type from `type`).
Uuid newPort(Database& db, const Uuid& br, const std::string& port, const std::vector<std::string>& ifaces,
             const std::string& type) {
    Datum ifaceRefs;
    for (const auto& name : ifaces) {
        Row i = db.defaultRow("Interface");
        i["name"] = str(name);
        if (!type.empty()) i["type"] = str(type);
        ifaceRefs.entries.emplace(insert(db, "Interface", std::move(i)), std::monostate{});
    }
    Row p = db.defaultRow("Port");
    p["name"] = str(port);
    p["interfaces"] = ifaceRefs;
    Uuid pu = insert(db, "Port", std::move(p));
    row(db, "Bridge", br)["ports"].entries.emplace(pu, std::monostate{});
    return pu;
}

void checkNewPortName(const Database& db, const std::string& name) {
    if (auto p = byName(db, "Port", name)) {
        auto br = bridgeOfPort(db, *p);
        throw CliError("cannot create a port named " + name + " because a port named " + name +
                       " already exists on bridge " + (br ? nameOf(db.tables.at("Bridge").at(*br)) : "?"));
    }
    if (auto i = byName(db, "Interface", name)) {
        auto p = portOfIface(db, *i);
        throw CliError("cannot create an interface named " + name + " because a port named " +
                       (p ? nameOf(db.tables.at("Port").at(*p)) : "?") + " already has an interface named " + name);
    }
}

void addBr(Database& db, const Command& c) {
    const std::string& name = c.args[0];
    if (byName(db, "Bridge", name)) {
        if (c.options.mayExist) return;
        throw CliError("cannot create a bridge named " + name + " because a bridge named " + name + " already exists");
    }
    checkNewPortName(db, name);
    Row b = db.defaultRow("Bridge");
    b["name"] = str(name);
    Uuid bu = insert(db, "Bridge", std::move(b));
    newPort(db, bu, name, {name}, "internal");
    row(db, "Open_vSwitch", ovsRow(db))["bridges"].entries.emplace(bu, std::monostate{});
}

// Deletes port `pu` and its interfaces at once (so that a later command of the invocation may
// reuse their names, as in "--if-exists del-br s1 -- add-br s1").
void erasePort(Database& db, const Uuid& pu) {
    for (const auto& i : refs(db.tables.at("Port").at(pu), "interfaces")) db.tables.at("Interface").erase(i);
    db.tables.at("Port").erase(pu);
}

void delBr(Database& db, const Command& c) {
    auto u = byName(db, "Bridge", c.args[0]);
    if (!u) {
        if (c.options.ifExists) return;
        throw CliError("no bridge named " + c.args[0]);
    }
    row(db, "Open_vSwitch", ovsRow(db))["bridges"].entries.erase(*u);
    for (const auto& p : refs(db.tables.at("Bridge").at(*u), "ports")) erasePort(db, p);
    db.tables.at("Bridge").erase(*u);  // its mirrors, controllers... go by garbage collection
}

void addPort(Database& db, const Command& c, const ApplySetting& apply) {
    const Uuid br = mustBridge(db, c.args[0]);
    const std::string& name = c.args[1];
    if (c.options.mayExist && byName(db, "Port", name)) {
        auto pu = *byName(db, "Port", name);
        auto on = bridgeOfPort(db, pu);
        if (on != br)
            throw CliError("\"--may-exist add-port " + c.args[0] + " " + name + "\" but " + name +
                           " is actually attached to bridge " + (on ? nameOf(db.tables.at("Bridge").at(*on)) : "?"));
        return;
    }
    checkNewPortName(db, name);
    Uuid pu = newPort(db, br, name, {name}, "");
    for (std::size_t i = 2; i < c.args.size(); ++i) apply("Port", row(db, "Port", pu), c.args[i]);
}

void delPort(Database& db, const Command& c) {
    const std::string& name = c.args.back();
    auto pu = byName(db, "Port", name);
    if (!pu) {
        if (c.options.ifExists) return;
        throw CliError("no port named " + name);
    }
    auto br = bridgeOfPort(db, *pu);
    if (c.args.size() == 2 && (!br || nameOf(db.tables.at("Bridge").at(*br)) != c.args[0]))
        throw CliError("bridge " + c.args[0] + " does not have a port " + name);
    if (br) row(db, "Bridge", *br)["ports"].entries.erase(*pu);
    erasePort(db, *pu);
}

std::string sortedLines(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += n + "\n";
    return out;
}

std::string listPortsOrIfaces(Database& db, const Command& c, bool ifaces) {
    Row& b = row(db, "Bridge", mustBridge(db, c.args[0]));
    std::vector<std::string> names;
    for (const auto& p : refs(b, "ports")) {
        const Row& pr = db.tables.at("Port").at(p);
        if (nameOf(pr) == c.args[0]) continue;  // the local port is not listed
        if (!ifaces) names.push_back(nameOf(pr));
        else
            for (const auto& i : refs(pr, "interfaces")) names.push_back(nameOf(db.tables.at("Interface").at(i)));
    }
    return sortedLines(names);
}

std::string toBr(Database& db, const Command& c, bool iface) {
    const std::string& name = c.args[0];
    auto u = byName(db, iface ? "Interface" : "Port", name);
    std::optional<Uuid> port = u && iface ? portOfIface(db, *u) : u;
    if (!port) throw CliError(std::string("no ") + (iface ? "interface" : "port") + " named " + name);
    auto br = bridgeOfPort(db, *port);
    if (!br) throw CliError(std::string("no ") + (iface ? "interface" : "port") + " named " + name);
    return nameOf(db.tables.at("Bridge").at(*br)) + "\n";
}

// set-controller / set-manager: rows of `table` with these targets become `column` of `owner`.
void setTargets(Database& db, Row& owner, const std::string& column, const std::string& table,
                const std::vector<std::string>& targets) {
    Datum d;
    for (const auto& t : targets) {
        Row r = db.defaultRow(table);
        r["target"] = str(t);
        d.entries.emplace(insert(db, table, std::move(r)), std::monostate{});
    }
    owner[column] = d;  // the old rows go by garbage collection
}

std::string targetsOf(Database& db, const Row& owner, const std::string& column, const std::string& table) {
    std::vector<std::string> out;
    for (const auto& u : refs(owner, column)) {
        const Datum& t = db.tables.at(table).at(u).at("target");
        if (!t.entries.empty()) out.push_back(std::get<std::string>(t.entries.begin()->first));
    }
    return sortedLines(out);
}

void emerReset(Database& db) {
    Row& ovs = row(db, "Open_vSwitch", ovsRow(db));
    ovs["manager_options"] = Datum{};
    ovs["ssl"] = Datum{};
    for (auto& [u, b] : db.tables.at("Bridge")) {
        for (const char* col : {"controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix", "flood_vlans"})
            b[col] = Datum{};
        Datum keep;
        for (const auto& [k, v] : b["other_config"].entries)
            if (k == Atom(std::string("hwaddr"))) keep.entries.emplace(k, v);
        b["other_config"] = keep;
    }
    for (auto& [u, p] : db.tables.at("Port")) p["other_config"] = Datum{};
    for (auto& [u, i] : db.tables.at("Interface")) {
        i["ingress_policing_rate"] = db.defaultRow("Interface").at("ingress_policing_rate");
        i["ingress_policing_burst"] = db.defaultRow("Interface").at("ingress_policing_burst");
    }
}

}  // namespace

bool isDbOnlyBridgeCommand(const std::string& name) {
    return name == "set-manager" || name == "get-manager" || name == "del-manager" || name == "emer-reset";
}

bool runBridgeCommand(Database& db, const Command& c, const ApplySetting& apply, std::string& output, int& status) {
    const std::string& n = c.name;
    if (n == "add-br") addBr(db, c);
    else if (n == "del-br") delBr(db, c);
    else if (n == "list-br") {
        std::vector<std::string> names;
        for (const auto& [u, b] : db.tables.at("Bridge")) names.push_back(nameOf(b));
        output += sortedLines(names);
    } else if (n == "br-exists") {
        if (!byName(db, "Bridge", c.args[0])) status = kExitAbsent;
    } else if (n == "add-port") addPort(db, c, apply);
    else if (n == "del-port") delPort(db, c);
    else if (n == "list-ports") output += listPortsOrIfaces(db, c, false);
    else if (n == "list-ifaces") output += listPortsOrIfaces(db, c, true);
    else if (n == "port-to-br") output += toBr(db, c, false);
    else if (n == "iface-to-br") output += toBr(db, c, true);
    else if (n == "set-controller" || n == "del-controller") {
        std::vector<std::string> targets(c.args.begin() + 1, c.args.end());
        setTargets(db, row(db, "Bridge", mustBridge(db, c.args[0])), "controller", "Controller", targets);
    } else if (n == "get-controller") {
        output += targetsOf(db, row(db, "Bridge", mustBridge(db, c.args[0])), "controller", "Controller");
    } else if (n == "set-fail-mode") {
        if (c.args[1] != "standalone" && c.args[1] != "secure")
            throw CliError("fail-mode must be \"standalone\" or \"secure\"");
        row(db, "Bridge", mustBridge(db, c.args[0]))["fail_mode"] = str(c.args[1]);
    } else if (n == "get-fail-mode") {
        const Datum& d = row(db, "Bridge", mustBridge(db, c.args[0])).at("fail_mode");
        if (!d.entries.empty()) output += std::get<std::string>(d.entries.begin()->first) + "\n";
    } else if (n == "del-fail-mode") {
        row(db, "Bridge", mustBridge(db, c.args[0]))["fail_mode"] = Datum{};
    } else if (n == "set-manager" || n == "del-manager") {
        setTargets(db, row(db, "Open_vSwitch", ovsRow(db)), "manager_options", "Manager", c.args);
    } else if (n == "get-manager") {
        output += targetsOf(db, row(db, "Open_vSwitch", ovsRow(db)), "manager_options", "Manager");
    } else if (n == "emer-reset") emerReset(db);
    else return false;
    return true;
}

}  // namespace vs::utilities
