#include "utilities/vsctl_read.h"

#include <algorithm>
#include <map>

#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

using Value = rapidjson::Value;

const Value& emptyObject() {
    static const Value empty(rapidjson::kObjectType);
    return empty;
}

const Value* member(const Value& obj, std::string_view name) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value& objectMember(const Value& obj, std::string_view name) {
    const Value* v = member(obj, name);
    return v && v->IsObject() ? *v : emptyObject();
}

std::string_view stringMember(const Value& obj, std::string_view name) {
    const Value* v = member(obj, name);
    return v && v->IsString() ? std::string_view(v->GetString(), v->GetStringLength()) : std::string_view();
}

std::vector<std::string> sortedKeys(const Value& obj) {
    std::vector<std::string> keys;
    if (obj.IsObject())
        for (const auto& m : obj.GetObject()) keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
    std::sort(keys.begin(), keys.end());
    return keys;
}

std::string namesOutput(const std::vector<std::string>& names, OutputFormat format) {
    if (format == OutputFormat::kJson) {
        rapidjson::Document doc(rapidjson::kArrayType);
        for (const auto& n : names) doc.PushBack(Value(n.c_str(), doc.GetAllocator()), doc.GetAllocator());
        return jsonLine(doc);
    }
    std::string out;
    for (const auto& n : names) out += n + "\n";
    return out;
}

std::string nameOutput(const std::string& name, OutputFormat format) {
    return format == OutputFormat::kJson ? jsonLine(Value(rapidjson::StringRef(name.c_str()))) : name + "\n";
}

const Value& requireBridge(const Snapshot& snap, const std::string& name) {
    const Value* b = snap.findBridge(name);
    if (!b) throw CliError("no bridge named " + name);
    return *b;
}

// The value of COLUMN or COLUMN:KEY in `rec` (nullptr: key absent). Throws on an unknown column.
const Value* columnValue(const std::string& table, const Value& rec, const ColumnArg& col) {
    const Value* v = member(rec, col.column);
    if (!v)
        throw CliError(table + " does not contain a column whose name matches \"" + col.column + "\"");
    if (!col.key) return v;
    if (!v->IsObject()) throw CliError("cannot specify key to get for non-map column " + col.column);
    return member(*v, *col.key);
}

ReadOutput getCommand(const Command& cmd, const Snapshot& snap, OutputFormat format) {
    const std::string table = canonicalTable(cmd.args[0]);
    const std::string& name = cmd.args[1];
    rapidjson::Document rec;
    if (!snap.record(table, name, rec)) {
        if (cmd.options.ifExists) return {};
        throw CliError("no row \"" + name + "\" in table " + table);
    }
    ReadOutput out;
    for (std::size_t i = 2; i < cmd.args.size(); ++i) {
        ColumnArg col = parseColumnArg(cmd.args[i]);
        const Value* v = columnValue(table, rec, col);
        if (!v && !cmd.options.ifExists)
            throw CliError("no key \"" + *col.key + "\" in " + table + " record \"" + name + "\" column " + col.column);
        if (format == OutputFormat::kJson)
            out.text += v ? jsonLine(*v) : std::string("null\n");
        else
            out.text += (v ? formatValue(*v) : std::string()) + "\n";
    }
    return out;
}

std::string listRecordText(const Value& rec) {
    std::string out;
    for (const auto& m : rec.GetObject()) {
        std::string name(m.name.GetString(), m.name.GetStringLength());
        name.resize(std::max<std::size_t>(name.size(), 20), ' ');
        out += name + ": " + formatValue(m.value) + "\n";
    }
    return out;
}

// Keeps the --columns of `rec` (in the order given), or all of them.
void selectColumns(const Command& cmd, const std::string& table, rapidjson::Document& rec) {
    if (cmd.options.columns.empty()) return;
    rapidjson::Document picked(rapidjson::kObjectType);
    for (const auto& c : cmd.options.columns) {
        const Value* v = columnValue(table, rec, ColumnArg{c, std::nullopt, std::nullopt});
        picked.AddMember(Value(c.c_str(), picked.GetAllocator()), Value(*v, picked.GetAllocator()),
                         picked.GetAllocator());
    }
    rec.Swap(picked);
}

ReadOutput listCommand(const Command& cmd, const Snapshot& snap, OutputFormat format) {
    const std::string table = canonicalTable(cmd.args[0]);
    std::vector<std::string> names(cmd.args.begin() + 1, cmd.args.end());
    if (names.empty()) names = snap.recordNames(table);
    rapidjson::Document all(rapidjson::kArrayType);
    std::string text;
    for (const auto& name : names) {
        rapidjson::Document rec;
        if (!snap.record(table, name, rec)) {
            if (cmd.options.ifExists) continue;
            throw CliError("no row \"" + name + "\" in table " + table);
        }
        selectColumns(cmd, table, rec);
        text += (text.empty() ? "" : "\n") + listRecordText(rec);
        all.PushBack(Value(rec, all.GetAllocator()), all.GetAllocator());
    }
    return {format == OutputFormat::kJson ? jsonLine(all) : text, kExitOk};
}

}  // namespace

void Snapshot::setGet(const rapidjson::Value& getResult) {
    get_.CopyFrom(getResult, get_.GetAllocator());
    hasGet_ = true;
}

void Snapshot::setShow(const rapidjson::Value& showResult) {
    show_.CopyFrom(showResult, show_.GetAllocator());
    hasShow_ = true;
}

const rapidjson::Value& Snapshot::bridges() const {
    return objectMember(objectMember(get_, "config"), "bridges");
}

const rapidjson::Value* Snapshot::interfaceStatus(std::string_view name) const {
    const Value* v = member(objectMember(objectMember(get_, "status"), "interfaces"), name);
    return v && v->IsObject() ? v : nullptr;
}

std::vector<std::string> Snapshot::bridgeNames() const { return sortedKeys(bridges()); }

const rapidjson::Value* Snapshot::findBridge(std::string_view name) const {
    const Value* b = member(bridges(), name);
    return b && b->IsObject() ? b : nullptr;
}

const rapidjson::Value* Snapshot::findPort(std::string_view name, std::string* bridge) const {
    for (const auto& b : bridges().GetObject()) {
        const Value* p = member(objectMember(b.value, "ports"), name);
        if (!p || !p->IsObject()) continue;
        if (bridge) *bridge = b.name.GetString();
        return p;
    }
    return nullptr;
}

const rapidjson::Value* Snapshot::findInterface(std::string_view name, std::string* bridge) const {
    for (const auto& b : bridges().GetObject()) {
        for (const auto& p : objectMember(b.value, "ports").GetObject()) {
            const Value* i = member(objectMember(p.value, "interfaces"), name);
            if (!i || !i->IsObject()) continue;
            if (bridge) *bridge = b.name.GetString();
            return i;
        }
    }
    return nullptr;
}

std::vector<std::string> Snapshot::portNames(const rapidjson::Value& bridge, std::string_view skipPort) const {
    std::vector<std::string> names = sortedKeys(objectMember(bridge, "ports"));
    std::erase(names, skipPort);
    return names;
}

std::vector<std::string> Snapshot::interfaceNames(const rapidjson::Value& bridge, std::string_view skipPort) const {
    std::vector<std::string> names;
    for (const auto& p : objectMember(bridge, "ports").GetObject()) {
        if (std::string_view(p.name.GetString(), p.name.GetStringLength()) == skipPort) continue;
        for (auto& n : sortedKeys(objectMember(p.value, "interfaces"))) names.push_back(std::move(n));
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> Snapshot::recordNames(std::string_view table) const {
    std::vector<std::string> names;
    for (const auto& b : bridges().GetObject()) {
        if (table == "Bridge") names.emplace_back(b.name.GetString());
        if (table == "Port") for (auto& n : portNames(b.value, {})) names.push_back(std::move(n));
        if (table == "Interface") for (auto& n : interfaceNames(b.value, {})) names.push_back(std::move(n));
        if (table == "Controller") for (auto& n : sortedKeys(objectMember(b.value, "controller"))) names.push_back(std::move(n));
        if (table == "Mirror") for (auto& n : sortedKeys(objectMember(b.value, "mirrors"))) names.push_back(std::move(n));
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool Snapshot::record(std::string_view table, std::string_view name, rapidjson::Document& out) const {
    if (table == "Controller") return controllerRecord(name, out);
    if (table == "Mirror") {
        for (const auto& b : bridges().GetObject())
            if (member(objectMember(b.value, "mirrors"), name)) return mirrorRecord(b.name.GetString(), name, out);
        return false;
    }
    const Value* base = table == "Bridge" ? findBridge(name)
                        : table == "Port" ? findPort(name)
                        : table == "Interface" ? findInterface(name) : nullptr;
    if (!base) return false;
    auto& alloc = out.GetAllocator();
    std::map<std::string, Value> cols;
    const char* children = table == "Bridge" ? "ports" : table == "Port" ? "interfaces" : nullptr;
    for (const auto& m : base->GetObject()) {
        std::string col = m.name.GetString();
        if ((children && col == children) || (table == "Bridge" && (col == "controller" || col == "mirrors"))) {
            Value names(rapidjson::kArrayType);
            for (const auto& n : sortedKeys(m.value)) names.PushBack(Value(n.c_str(), alloc), alloc);
            cols[col] = std::move(names);
        } else if (col != "name") {
            cols[col].CopyFrom(m.value, alloc);
        }
    }
    if (table == "Bridge" || table == "Port") {  // RSTP status (vswitchd/rpc_rstp.cpp): listed while RSTP runs
        const Value& rstp = objectMember(objectMember(get_, "status"), "rstp");
        const Value* st = member(objectMember(rstp, table == "Bridge" ? "bridges" : "ports"), name);
        if (st && st->IsObject() && table == "Bridge") cols["rstp_status"].CopyFrom(*st, alloc);
        if (st && st->IsObject() && table == "Port") {
            cols["rstp_status"].CopyFrom(objectMember(*st, "rstp_status"), alloc);
            cols["rstp_statistics"].CopyFrom(objectMember(*st, "rstp_statistics"), alloc);
        }
    }
    if (table == "Interface") {
        // Status columns read as empty ([] / {}) until the daemon reports them.
        for (const char* col : {"ofport", "error", "mac_in_use", "mtu", "link_state"}) cols.try_emplace(col);
        cols.try_emplace("statistics", rapidjson::kObjectType);
        if (const Value* status = interfaceStatus(name))
            for (const auto& m : status->GetObject()) cols[m.name.GetString()].CopyFrom(m.value, alloc);
    }
    out.SetObject();
    out.AddMember("name", Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc), alloc);
    for (auto& [col, v] : cols) out.AddMember(Value(col.c_str(), alloc), v, alloc);
    return true;
}

// A Controller record: named by its target, or by its bridge when the bridge has one controller
// (as ovs-vsctl). Columns: target, the config columns, and is_connected / status from `get`.
bool Snapshot::controllerRecord(std::string_view name, rapidjson::Document& out) const {
    std::string bridge, target;
    for (const auto& b : bridges().GetObject()) {
        const Value& ctls = objectMember(b.value, "controller");
        if (member(ctls, name)) {
            bridge = b.name.GetString();
            target = std::string(name);
        }
    }
    if (target.empty()) {
        const Value* b = findBridge(name);
        if (!b) return false;
        auto targets = sortedKeys(objectMember(*b, "controller"));
        if (targets.size() != 1) return false;
        bridge = std::string(name);
        target = targets.front();
    }
    auto& alloc = out.GetAllocator();
    std::map<std::string, Value> cols;
    const Value& rec = objectMember(objectMember(*findBridge(bridge), "controller"), target);
    for (const auto& m : rec.GetObject()) cols[m.name.GetString()].CopyFrom(m.value, alloc);
    cols["is_connected"].SetBool(false);
    cols["status"].SetObject();
    const Value& st = objectMember(objectMember(objectMember(objectMember(get_, "status"), "controllers"), bridge), target);
    for (const auto& m : st.GetObject()) cols[m.name.GetString()].CopyFrom(m.value, alloc);
    out.SetObject();
    out.AddMember("target", Value(target.c_str(), alloc), alloc);
    for (auto& [col, v] : cols) out.AddMember(Value(col.c_str(), alloc), v, alloc);
    return true;
}

bool Snapshot::mirrorRecord(std::string_view bridge, std::string_view name, rapidjson::Document& out) const {
    const Value* b = findBridge(bridge);
    const Value* rec = b ? member(objectMember(*b, "mirrors"), name) : nullptr;
    if (!rec || !rec->IsObject()) return false;
    auto& alloc = out.GetAllocator();
    std::map<std::string, Value> cols;
    for (const auto& m : rec->GetObject()) cols[m.name.GetString()].CopyFrom(m.value, alloc);
    cols["statistics"].SetObject();
    const Value& st = objectMember(objectMember(objectMember(objectMember(get_, "status"), "mirrors"), bridge), name);
    cols["statistics"].CopyFrom(st, alloc);
    out.SetObject();
    out.AddMember("name", Value(name.data(), static_cast<rapidjson::SizeType>(name.size()), alloc), alloc);
    for (auto& [col, v] : cols) out.AddMember(Value(col.c_str(), alloc), v, alloc);
    return true;
}

std::string Snapshot::sslText(OutputFormat format) const {
    const Value* ssl = member(objectMember(get_, "config"), "ssl");
    if (format == OutputFormat::kJson) return ssl ? jsonLine(*ssl) : std::string("null\n");
    if (!ssl || !ssl->IsObject()) return {};
    return "Private key: " + std::string(stringMember(*ssl, "private_key")) + "\nCertificate: " +
           std::string(stringMember(*ssl, "certificate")) + "\nCA Certificate: " +
           std::string(stringMember(*ssl, "ca_cert")) + "\nBootstrap: false\n";
}

bool needsShow(const Command& cmd) { return !cmd.modifies && cmd.name == "show"; }
bool needsGet(const Command& cmd) { return !cmd.modifies && cmd.name != "show"; }

ReadOutput evaluateRead(const Command& cmd, const Snapshot& snap, OutputFormat format) {
    const auto& a = cmd.args;
    if (cmd.name == "list-br") return {namesOutput(snap.bridgeNames(), format)};
    if (cmd.name == "br-exists") return {"", snap.findBridge(a[0]) ? kExitOk : kExitAbsent};
    // As ovs-vsctl, list-ports / list-ifaces leave out the bridge's local port (named like the bridge).
    if (cmd.name == "list-ports") return {namesOutput(snap.portNames(requireBridge(snap, a[0]), a[0]), format)};
    if (cmd.name == "list-ifaces") return {namesOutput(snap.interfaceNames(requireBridge(snap, a[0]), a[0]), format)};
    if (cmd.name == "port-to-br" || cmd.name == "iface-to-br") {
        std::string bridge;
        bool port = cmd.name == "port-to-br";
        if (!(port ? snap.findPort(a[0], &bridge) : snap.findInterface(a[0], &bridge)))
            throw CliError(std::string(port ? "no port named " : "no interface named ") + a[0]);
        return {nameOutput(bridge, format)};
    }
    if (cmd.name == "show") return {format == OutputFormat::kJson ? jsonLine(snap.show()) : formatShow(snap.show())};
    if (cmd.name == "get-controller")
        return {namesOutput(sortedKeys(objectMember(requireBridge(snap, a[0]), "controller")), format)};
    if (cmd.name == "get-fail-mode") {
        std::string_view mode = stringMember(requireBridge(snap, a[0]), "fail_mode");
        if (format == OutputFormat::kJson) return {mode.empty() ? std::string("null\n") : nameOutput(std::string(mode), format)};
        return {mode.empty() ? std::string() : std::string(mode) + "\n"};
    }
    if (cmd.name == "get-ssl") return {snap.sslText(format)};
    if (cmd.name == "list-mirrors") {  // the bridge's Mirror records, as `list Mirror` prints them
        rapidjson::Document all(rapidjson::kArrayType);
        std::string text;
        for (const auto& name : sortedKeys(objectMember(requireBridge(snap, a[0]), "mirrors"))) {
            rapidjson::Document rec;
            snap.mirrorRecord(a[0], name, rec);
            text += (text.empty() ? "" : "\n") + listRecordText(rec);
            all.PushBack(Value(rec, all.GetAllocator()), all.GetAllocator());
        }
        return {format == OutputFormat::kJson ? jsonLine(all) : text};
    }
    if (cmd.name == "get") return getCommand(cmd, snap, format);
    if (cmd.name == "list") return listCommand(cmd, snap, format);
    throw CliError("internal error: '" + cmd.name + "' is not a read command");
}

std::string formatShow(const rapidjson::Value& showResult) {
    std::string out;
    const Value* bridges = member(showResult, "bridges");
    if (!bridges || !bridges->IsArray()) return out;
    for (const auto& b : bridges->GetArray()) {
        out += "Bridge " + formatAtom(stringMember(b, "name")) + "\n";
        if (const Value* ctls = member(b, "controller"); ctls && ctls->IsArray())
            for (const auto& c : ctls->GetArray()) {
                out += "    Controller " + formatAtom(stringMember(c, "target")) + "\n";
                const Value* up = member(c, "is_connected");
                if (up && up->IsBool() && up->GetBool()) out += "        is_connected: true\n";
            }
        if (std::string_view mode = stringMember(b, "fail_mode"); !mode.empty())
            out += "    fail_mode: " + formatAtom(mode) + "\n";
        const Value* ports = member(b, "ports");
        if (!ports || !ports->IsArray()) continue;
        for (const auto& p : ports->GetArray()) {
            out += "    Port " + formatAtom(stringMember(p, "name")) + "\n";
            for (const char* col : {"tag", "trunks", "vlan_mode"}) {  // present only when set
                const Value* v = member(p, col);
                if (v && !v->IsNull() && !(v->IsArray() && v->Empty()) && !(v->IsString() && v->GetStringLength() == 0))
                    out += "        " + std::string(col) + ": " + formatValue(*v) + "\n";
            }
            const Value* ifaces = member(p, "interfaces");
            if (!ifaces || !ifaces->IsArray()) continue;
            for (const auto& i : ifaces->GetArray()) {
                out += "        Interface " + formatAtom(stringMember(i, "name")) + "\n";
                std::string_view type = stringMember(i, "type");
                if (!type.empty() && type != "system") out += "            type: " + formatAtom(type) + "\n";
                const Value* options = member(i, "options");
                if (options && options->IsObject() && options->MemberCount() > 0)
                    out += "            options: " + formatValue(*options) + "\n";
                const Value* error = member(i, "error");
                if (error && error->IsString()) out += "            error: " + formatValue(*error) + "\n";
            }
        }
    }
    return out;
}

}  // namespace vs::utilities
