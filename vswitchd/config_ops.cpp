#include "vswitchd/config_ops.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "vswitchd/config_controller.h"
#include "vswitchd/config_schema.h"
#include "vswitchd/stp_config.h"
#include "vswitchd/mirror_config.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

[[noreturn]] void fail(ErrorCode code, const std::string& message) { throw OpError(code, message); }

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// Typed, checked access to the fields of one op object.
class OpArgs {
public:
    OpArgs(const Value& op, const std::vector<std::string_view>& allowed) : op_(op) {
        for (const auto& m : op.GetObject()) {
            std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name != "op" && std::find(allowed.begin(), allowed.end(), name) == allowed.end())
                fail(ErrorCode::kInvalidParams, "unknown field '" + std::string(name) + "'");
        }
    }
    const Value* get(const char* field) const {
        auto it = op_.FindMember(field);
        return it == op_.MemberEnd() ? nullptr : &it->value;
    }
    const Value& required(const char* field) const {
        const Value* v = get(field);
        if (!v) fail(ErrorCode::kInvalidParams, std::string("missing field '") + field + "'");
        return *v;
    }
    std::string string(const char* field) const {
        const Value& v = required(field);
        if (!v.IsString()) fail(ErrorCode::kInvalidParams, std::string("field '") + field + "' must be a string");
        return str(v);
    }
    std::optional<std::string> optString(const char* field) const {
        return get(field) ? std::optional(string(field)) : std::nullopt;
    }
    // A required string that must be a valid new name.
    std::string newName(const char* field) const {
        std::string name = string(field);
        if (auto problem = checkName(name)) fail(ErrorCode::kInvalidValue, *problem);
        return name;
    }
    bool flag(const char* field) const {
        const Value* v = get(field);
        if (!v) return false;
        if (!v->IsBool()) fail(ErrorCode::kInvalidParams, std::string("field '") + field + "' must be true or false");
        return v->GetBool();
    }

private:
    const Value& op_;
};

BridgeConfig& bridgeOrFail(Config& cfg, const std::string& name) {
    auto it = cfg.bridges.find(name);
    if (it == cfg.bridges.end()) fail(ErrorCode::kNotFound, "no bridge named " + name);
    return it->second;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

void opAddBr(Config& cfg, const OpArgs& a) {
    std::string br = a.newName("bridge");
    bool mayExist = a.flag("may_exist");
    if (cfg.bridges.count(br)) {
        if (mayExist) return;
        fail(ErrorCode::kAlreadyExists, "cannot create a bridge named " + br + " because a bridge named " + br +
                                            " already exists");
    }
    if (auto why = nameConflict(cfg, br))
        fail(ErrorCode::kAlreadyExists, "cannot create a bridge named " + br + " because " + *why);
    cfg.bridges[br].ports.emplace(br, localPortConfig(br));  // the local port, as in Open vSwitch
}

void opDelBr(Config& cfg, const OpArgs& a) {
    std::string br = a.string("bridge");
    bool ifExists = a.flag("if_exists");
    if (!cfg.bridges.count(br) && ifExists) return;
    bridgeOrFail(cfg, br);
    cfg.bridges.erase(br);
}

// The "interfaces" field of add-port: a non-empty array of distinct valid names; default [port].
std::vector<std::string> interfaceList(const OpArgs& a, const std::string& port) {
    const Value* v = a.get("interfaces");
    if (!v) return {port};
    if (!v->IsArray() || v->Empty())
        fail(ErrorCode::kInvalidParams, "field 'interfaces' must be a non-empty array of names");
    std::vector<std::string> names;
    for (const auto& item : v->GetArray()) {
        if (!item.IsString()) fail(ErrorCode::kInvalidParams, "field 'interfaces' must be a non-empty array of names");
        std::string name = str(item);
        if (auto problem = checkName(name)) fail(ErrorCode::kInvalidValue, *problem);
        if (std::find(names.begin(), names.end(), name) != names.end())
            fail(ErrorCode::kInvalidValue, "interface " + name + " is listed twice in field 'interfaces'");
        names.push_back(name);
    }
    return names;
}

// --may-exist add-port of an existing port: fine if it is on `br` with the same interfaces.
void checkExistingPort(const Config& cfg, const PortRef& where, const std::string& br, bool mayExist,
                       const std::vector<std::string>& ifaces) {
    const std::string& port = where.port;
    if (where.bridge != br) fail(ErrorCode::kAlreadyExists, port + " is already a port on bridge " + where.bridge);
    if (!mayExist) fail(ErrorCode::kAlreadyExists, "bridge " + br + " already has a port named " + port);
    std::vector<std::string> have;
    for (const auto& [name, iface] : cfg.bridges.at(br).ports.at(port).interfaces) have.push_back(name);
    std::vector<std::string> want = ifaces;
    std::sort(want.begin(), want.end());
    if (have != want)
        fail(ErrorCode::kAlreadyExists, "port " + port + " on bridge " + br + " already exists with interfaces " +
                                            joined(have) + ", not " + joined(want));
}

void opAddPort(Config& cfg, const OpArgs& a) {
    std::string br = a.string("bridge");
    std::string port = a.newName("port");
    std::vector<std::string> ifaces = interfaceList(a, port);
    bool mayExist = a.flag("may_exist");
    BridgeConfig& bridge = bridgeOrFail(cfg, br);
    // A bridge's name is its local port's: only `--may-exist add-port BR BR` passes (a no-op).
    if (cfg.bridges.count(port) && !(mayExist && port == br))
        fail(ErrorCode::kAlreadyExists, "cannot create a port named " + port + " because a bridge named " + port +
                                            " already exists");
    if (auto where = findPort(cfg, port)) return checkExistingPort(cfg, *where, br, mayExist, ifaces);
    if (auto why = nameConflict(cfg, port))
        fail(ErrorCode::kAlreadyExists, "cannot create a port named " + port + " because " + *why);
    for (const auto& name : ifaces)
        if (auto why = nameConflict(cfg, name))
            fail(ErrorCode::kAlreadyExists, "cannot create an interface named " + name + " because " + *why);
    PortConfig& pc = bridge.ports[port];
    for (const auto& name : ifaces) {
        int ofport = lowestFreeOfport(bridge);
        if (ofport == 0) fail(ErrorCode::kInvalidValue, "bridge " + br + " has no free ofport left");
        pc.interfaces[name].ofport = ofport;
    }
}

void opDelPort(Config& cfg, const OpArgs& a) {
    std::optional<std::string> br = a.optString("bridge");
    std::string target = a.string("port");
    bool ifExists = a.flag("if_exists");
    if (br) bridgeOrFail(cfg, *br);
    std::optional<PortRef> where = findPort(cfg, target);
    if (!where)
        if (auto iface = findInterface(cfg, target)) where = PortRef{iface->bridge, iface->port};
    if (!where) {
        if (ifExists) return;
        fail(ErrorCode::kNotFound, "no port named " + target);
    }
    if (br && where->bridge != *br) fail(ErrorCode::kNotFound, "bridge " + *br + " does not have a port " + target);
    if (isLocalPort(where->bridge, where->port))
        fail(ErrorCode::kInvalidValue, "cannot delete port " + where->port + " because it is the local port for bridge " +
                                           where->bridge + " (deleting this port requires deleting the entire bridge)");
    cfg.bridges.at(where->bridge).ports.erase(where->port);
    forgetMirrorPort(cfg.bridges.at(where->bridge), where->port);  // mirror_config.h
}

// add-bond-iface BOND IFACE: a new interface (with the bridge's lowest free ofport) in an existing
// port, which becomes (or stays) a bond. --may-exist: fine if IFACE is already in BOND.
void opAddBondIface(Config& cfg, const OpArgs& a) {
    std::string bond = a.string("bond");
    std::string iface = a.newName("interface");
    auto where = findPort(cfg, bond);
    if (!where) fail(ErrorCode::kNotFound, "no port named " + bond);
    if (isLocalPort(where->bridge, where->port))
        fail(ErrorCode::kInvalidValue, "cannot add an interface to " + bond + ": it is the local port of bridge " + where->bridge);
    BridgeConfig& br = cfg.bridges.at(where->bridge);
    PortConfig& pc = br.ports.at(where->port);
    if (pc.interfaces.count(iface)) {
        if (a.flag("may_exist")) return;
        fail(ErrorCode::kAlreadyExists, "port " + bond + " already has an interface named " + iface);
    }
    if (auto why = nameConflict(cfg, iface))
        fail(ErrorCode::kAlreadyExists, "cannot create an interface named " + iface + " because " + *why);
    int ofport = lowestFreeOfport(br);
    if (ofport == 0) fail(ErrorCode::kInvalidValue, "bridge " + where->bridge + " has no free ofport left");
    pc.interfaces[iface].ofport = ofport;
}

// del-bond-iface [BOND] IFACE: removes an interface from its port; a port keeps at least one.
void opDelBondIface(Config& cfg, const OpArgs& a) {
    std::optional<std::string> bond = a.optString("bond");
    std::string iface = a.string("interface");
    auto where = findInterface(cfg, iface);
    if (!where) {
        if (a.flag("if_exists")) return;
        fail(ErrorCode::kNotFound, "no interface named " + iface);
    }
    if (bond && !findPort(cfg, *bond)) fail(ErrorCode::kNotFound, "no port named " + *bond);
    if (bond && where->port != *bond) fail(ErrorCode::kNotFound, "port " + *bond + " does not have an interface " + iface);
    PortConfig& pc = cfg.bridges.at(where->bridge).ports.at(where->port);
    if (pc.interfaces.size() <= 1)
        fail(ErrorCode::kInvalidValue, "cannot remove interface " + iface + " from port " + where->port +
                                           ": it is the port's last interface (a port needs at least one; use del-port)");
    pc.interfaces.erase(iface);
}

// set / clear / remove on one table, through its column definitions.
class Table {
public:
    virtual ~Table() = default;
    virtual void set(Config& cfg, const std::string& rec, const std::string& col, const std::optional<std::string>& key,
                     const Value& value) const = 0;
    virtual void clear(Config& cfg, const std::string& rec, const std::string& col) const = 0;
    virtual void remove(Config& cfg, const std::string& rec, const std::string& col, const std::string& key) const = 0;
};

template <class R>
class TableImpl final : public Table {
public:
    using Finder = R* (*)(Config&, const std::string&);
    TableImpl(std::string name, std::string noun, const std::vector<ColumnDef<R>>& cols,
              std::vector<std::string> structural, Finder find)
        : name_(std::move(name)), noun_(std::move(noun)), cols_(cols), structural_(std::move(structural)),
          find_(find) {}

    void set(Config& cfg, const std::string& rec, const std::string& col, const std::optional<std::string>& key,
             const Value& value) const override {
        R& r = record(cfg, rec);
        const ColumnDef<R>& c = column(col);
        guarded(rec, col, key, [&] { key ? c.setKey(r, *key, value) : c.fromJson(r, value); });
    }
    void clear(Config& cfg, const std::string& rec, const std::string& col) const override {
        R& r = record(cfg, rec);
        column(col).clear(r);
    }
    void remove(Config& cfg, const std::string& rec, const std::string& col, const std::string& key) const override {
        R& r = record(cfg, rec);
        const ColumnDef<R>& c = column(col);
        if (!c.isMap) notMap(col);
        c.removeKey(r, key);
    }

private:
    R& record(Config& cfg, const std::string& rec) const {
        R* r = find_(cfg, rec);
        if (!r) fail(ErrorCode::kNotFound, "no " + noun_ + " named " + rec);
        return *r;
    }
    const ColumnDef<R>& column(const std::string& col) const {
        const ColumnDef<R>* c = findColumn(cols_, col);
        bool structural = std::find(structural_.begin(), structural_.end(), col) != structural_.end();
        if ((c && !c->writable) || structural)
            fail(ErrorCode::kInvalidParams, "column " + col + " of table " + name_ + " is read-only");
        if (!c) fail(ErrorCode::kNotFound, name_ + " does not contain a column whose name matches '" + col + "'");
        return *c;
    }
    [[noreturn]] void notMap(const std::string& col) const {
        fail(ErrorCode::kInvalidParams, "column " + col + " of table " + name_ + " is not a map; field 'key' is not allowed");
    }
    template <class F>
    void guarded(const std::string& rec, const std::string& col, const std::optional<std::string>& key, F&& f) const {
        if (key && !column(col).isMap) notMap(col);
        try {
            f();
        } catch (const ColumnError& e) {
            std::string field = col + (e.key.empty() ? "" : ":" + e.key);
            fail(e.code, name_ + " " + rec + " " + field + ": " + e.what());
        }
    }

    std::string name_, noun_;
    const std::vector<ColumnDef<R>>& cols_;
    std::vector<std::string> structural_;  // read-only: the record name and child collections
    Finder find_;
};

BridgeConfig* findBridgeRec(Config& cfg, const std::string& name) {
    auto it = cfg.bridges.find(name);
    return it == cfg.bridges.end() ? nullptr : &it->second;
}
PortConfig* findPortRec(Config& cfg, const std::string& name) {
    auto ref = findPort(cfg, name);
    return ref ? &cfg.bridges.at(ref->bridge).ports.at(ref->port) : nullptr;
}
InterfaceConfig* findInterfaceRec(Config& cfg, const std::string& name) {
    auto ref = findInterface(cfg, name);
    return ref ? &cfg.bridges.at(ref->bridge).ports.at(ref->port).interfaces.at(ref->iface) : nullptr;
}

const Table& tableOrFail(const std::string& name) {
    static const std::map<std::string, std::unique_ptr<Table>> tables = [] {
        std::map<std::string, std::unique_ptr<Table>> t;
        t["bridge"] = std::make_unique<TableImpl<BridgeConfig>>("Bridge", "bridge", bridgeColumns(),
                                                                std::vector<std::string>{"name", "ports"}, findBridgeRec);
        t["port"] = std::make_unique<TableImpl<PortConfig>>("Port", "port", portColumns(),
                                                            std::vector<std::string>{"name", "interfaces"}, findPortRec);
        t["interface"] = std::make_unique<TableImpl<InterfaceConfig>>(
            "Interface", "interface", interfaceColumns(), std::vector<std::string>{"name"}, findInterfaceRec);
        // Records: a target, or the name of a bridge with one controller (config_controller.h).
        t["controller"] = std::make_unique<TableImpl<ControllerConfig>>(
            "Controller", "controller", controllerColumns(),
            std::vector<std::string>{"target", "is_connected", "status"}, findControllerRecord);
        t["mirror"] = std::make_unique<TableImpl<MirrorConfig>>(  // mirror_config.h
            "Mirror", "mirror", mirrorColumns(), std::vector<std::string>{"name", "statistics"}, findMirrorRecord);
        return t;
    }();
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto it = tables.find(lower);
    if (it == tables.end()) fail(ErrorCode::kNotFound, "unknown table '" + name + "'");
    return *it->second;
}

void opSet(Config& cfg, const OpArgs& a) {
    const Table& t = tableOrFail(a.string("table"));
    t.set(cfg, a.string("record"), a.string("column"), a.optString("key"), a.required("value"));
}

void opClear(Config& cfg, const OpArgs& a) {
    const Table& t = tableOrFail(a.string("table"));
    t.clear(cfg, a.string("record"), a.string("column"));
}

void opRemove(Config& cfg, const OpArgs& a) {
    const Table& t = tableOrFail(a.string("table"));
    t.remove(cfg, a.string("record"), a.string("column"), a.string("key"));
}

// Controller channel ops (config_controller.h).
void opSetController(Config& cfg, const OpArgs& a) {
    const Value& v = a.required("targets");
    if (!v.IsArray() || v.Empty()) fail(ErrorCode::kInvalidParams, "field 'targets' must be a non-empty array of strings");
    std::vector<std::string> targets;
    for (const auto& t : v.GetArray()) {
        if (!t.IsString()) fail(ErrorCode::kInvalidParams, "field 'targets' must be a non-empty array of strings");
        targets.push_back(str(t));
    }
    setControllers(cfg, a.string("bridge"), targets);
}
void opDelController(Config& cfg, const OpArgs& a) { delControllers(cfg, a.string("bridge")); }
void opSetFailMode(Config& cfg, const OpArgs& a) { setFailMode(cfg, a.string("bridge"), a.string("mode")); }
void opDelFailMode(Config& cfg, const OpArgs& a) { delFailMode(cfg, a.string("bridge")); }
void opSetSsl(Config& cfg, const OpArgs& a) {
    setSsl(cfg, SslConfig{a.string("private_key"), a.string("certificate"), a.string("ca_cert")});
}
void opDelSsl(Config& cfg, const OpArgs&) { delSsl(cfg); }
// Port mirrors (mirror_config.h).
void opAddMirror(Config& cfg, const OpArgs& a) {
    addMirror(cfg, a.string("bridge"), a.string("mirror"), a.get("columns"), a.flag("may_exist"));
}
void opDelMirror(Config& cfg, const OpArgs& a) { delMirror(cfg, a.string("bridge"), a.string("mirror"), a.flag("if_exists")); }

struct OpSpec {
    std::vector<std::string_view> fields;  // besides "op"
    void (*run)(Config&, const OpArgs&);
};

const std::map<std::string, OpSpec, std::less<>>& opTable() {
    static const std::map<std::string, OpSpec, std::less<>> table = {
        {"add-br", {{"bridge", "may_exist"}, opAddBr}},
        {"del-br", {{"bridge", "if_exists"}, opDelBr}},
        {"add-port", {{"bridge", "port", "interfaces", "may_exist"}, opAddPort}},
        {"del-port", {{"bridge", "port", "if_exists"}, opDelPort}},
        {"add-bond-iface", {{"bond", "interface", "may_exist"}, opAddBondIface}},
        {"del-bond-iface", {{"bond", "interface", "if_exists"}, opDelBondIface}},
        {"set-controller", {{"bridge", "targets"}, opSetController}},
        {"del-controller", {{"bridge"}, opDelController}},
        {"set-fail-mode", {{"bridge", "mode"}, opSetFailMode}},
        {"del-fail-mode", {{"bridge"}, opDelFailMode}},
        {"set-ssl", {{"private_key", "certificate", "ca_cert"}, opSetSsl}},
        {"del-ssl", {{}, opDelSsl}},
        {"add-mirror", {{"bridge", "mirror", "columns", "may_exist"}, opAddMirror}},
        {"del-mirror", {{"bridge", "mirror", "if_exists"}, opDelMirror}},
        {"set", {{"table", "record", "column", "key", "value"}, opSet}},
        {"clear", {{"table", "record", "column"}, opClear}},
        {"remove", {{"table", "record", "column", "key"}, opRemove}},
    };
    return table;
}

void applyOne(Config& cfg, const Value& op) {
    if (!op.IsObject()) fail(ErrorCode::kInvalidParams, "an op must be a JSON object");
    auto name = op.FindMember("op");
    if (name == op.MemberEnd() || !name->value.IsString())
        fail(ErrorCode::kInvalidParams, "field 'op' must be a string");
    auto spec = opTable().find(std::string_view(name->value.GetString(), name->value.GetStringLength()));
    if (spec == opTable().end())
        fail(ErrorCode::kInvalidParams, "unknown op " + quoteForMessage(str(name->value)));
    OpArgs args(op, spec->second.fields);
    spec->second.run(cfg, args);
    // Whatever the op, every bridge keeps its local port as add-br made it (`set Interface br0
    // type=system` is refused here).
    if (auto p = localPortProblem(cfg)) {
        std::string where = p->iface.empty() ? "Port " + p->port : "Interface " + p->iface;
        fail(ErrorCode::kInvalidValue, where + (p->column.empty() ? "" : " " + p->column) + ": " + p->message);
    }
}

}  // namespace

void applyOps(Config& cfg, const Value& ops) {
    if (!ops.IsArray()) throw OpError(ErrorCode::kInvalidParams, "field 'ops' must be an array of ops");
    for (rapidjson::SizeType i = 0; i < ops.Size(); ++i) {
        try {
            applyOne(cfg, ops[i]);
        } catch (const OpError& e) {
            throw OpError(e.code, e.what(), static_cast<int>(i));
        }
    }
    // Rules across columns hold for the transaction as a whole (add-bond ... bond_mode=balance-tcp
    // lacp=active sets them in two ops).
    if (auto p = bondProblem(cfg)) throw OpError(ErrorCode::kInvalidValue, *p);
    if (auto p = stpProblem(cfg)) throw OpError(ErrorCode::kInvalidValue, *p);
    if (auto p = mirrorProblem(cfg)) throw OpError(ErrorCode::kInvalidValue, *p);
}

}  // namespace vs::vswitchd
