#include "vswitchd/config_json.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/mirror_config.h"
#include "vswitchd/config_controller.h"
#include "vswitchd/config_schema.h"
#include "vswitchd/stp_config.h"

namespace vs::vswitchd {
namespace {

using rapidjson::Value;

// JSON path of member `key` under `path`: `$.bridges.br0`, or `$.bridges["a b"]` for odd keys.
std::string child(const std::string& path, std::string_view key) {
    bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (plain) return path + "." + std::string(key);
    Value k(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    return path + "[" + protocol::toJson(k) + "]";
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw ConfigFormatError(path + ": " + problem);
}

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

template <class R>
void columnsToJson(const R& rec, const std::vector<ColumnDef<R>>& cols, Value& obj, JsonAlloc& a) {
    for (const auto& c : cols) c.toJson(rec, obj, a);
}

// Reads the members of one record object: the columns of R plus the child collection `childName`
// (handled by `readChild`). Strict: unknown or repeated members are errors.
template <class R>
void readRecord(R& rec, const Value& obj, const std::string& path, const std::vector<ColumnDef<R>>& cols,
                std::string_view childName, const std::function<void(const Value&, const std::string&)>& readChild) {
    if (!obj.IsObject()) fail(path, "expected a JSON object");
    std::set<std::string> seen;
    for (const auto& m : obj.GetObject()) {
        std::string name = str(m.name);
        std::string mpath = child(path, name);
        if (!seen.insert(name).second) fail(mpath, "duplicate member");
        if (!childName.empty() && name == childName) {
            readChild(m.value, mpath);
            continue;
        }
        const ColumnDef<R>* col = findColumn(cols, name);
        if (!col) fail(mpath, "unknown member");
        try {
            col->fromJson(rec, m.value);
        } catch (const ColumnError& e) {
            fail(e.key.empty() ? mpath : child(mpath, e.key), e.what());
        }
    }
    for (const auto& c : cols)
        if (c.required && !seen.count(c.name)) fail(path, "missing member '" + c.name + "'");
}

// Iterates a {NAME: OBJECT} collection, checking each name. `add` returns false on a duplicate.
void forEachNamed(const Value& v, const std::string& path,
                  const std::function<bool(const std::string& name, const Value&, const std::string&)>& add) {
    if (!v.IsObject()) fail(path, "expected a JSON object");
    for (const auto& m : v.GetObject()) {
        std::string name = str(m.name);
        std::string mpath = child(path, name);
        if (auto problem = checkName(name)) fail(mpath, *problem);
        if (!add(name, m.value, mpath)) fail(mpath, "duplicate name " + name);
    }
}

void readPort(PortConfig& port, const Value& v, const std::string& path) {
    bool haveIfaces = false;
    readRecord(port, v, path, portColumns(), "interfaces", [&](const Value& ifaces, const std::string& ipath) {
        haveIfaces = true;
        forEachNamed(ifaces, ipath, [&](const std::string& name, const Value& iv, const std::string& p) {
            InterfaceConfig iface;
            readRecord(iface, iv, p, interfaceColumns(), "", {});
            return port.interfaces.emplace(name, std::move(iface)).second;
        });
        if (port.interfaces.empty()) fail(ipath, "a port must have at least one interface");
    });
    if (!haveIfaces) fail(path, "missing member 'interfaces'");
}

void readBridge(BridgeConfig& br, const Value& v, const std::string& path) {
    readRecord(br, v, path, bridgeColumns(), "ports", [&](const Value& ports, const std::string& ppath) {
        forEachNamed(ports, ppath, [&](const std::string& name, const Value& pv, const std::string& p) {
            PortConfig port;
            readPort(port, pv, p);
            return br.ports.emplace(name, std::move(port)).second;
        });
    });
}

// Names share one namespace (see nameConflict()); ofports are unique within a bridge.
void checkNamesAndOfports(const Config& cfg) {
    std::map<std::string, std::string> uses;  // name -> "bridge br0" / "port p1 on bridge br0" / ...
    auto claim = [&](const std::string& name, const std::string& what, const std::string& path) {
        auto [it, fresh] = uses.emplace(name, what);
        if (!fresh) fail(path, "name " + name + " is already used by " + it->second);
    };
    for (const auto& [bn, br] : cfg.bridges) claim(bn, "bridge " + bn, child("$.bridges", bn));
    for (const auto& [bn, br] : cfg.bridges) {
        std::string bpath = child(child("$.bridges", bn), "ports");
        std::map<int, std::string> ofports;
        for (const auto& [pn, port] : br.ports) {
            std::string ppath = child(bpath, pn);
            if (!isLocalPort(bn, pn)) claim(pn, "port " + pn + " on bridge " + bn, ppath);  // shares the bridge's name
            for (const auto& [in, iface] : port.interfaces) {
                std::string ipath = child(child(ppath, "interfaces"), in);
                if (in != pn) claim(in, "interface " + in + " on bridge " + bn, ipath);
                auto [it, fresh] = ofports.emplace(iface.ofport, in);
                if (!fresh)
                    fail(child(ipath, "ofport"), "ofport " + std::to_string(iface.ofport) +
                                                     " is also used by interface " + it->second + " of bridge " + bn);
            }
        }
    }
    if (auto p = bondProblem(cfg)) fail("$.bridges", *p);
    if (auto p = stpProblem(cfg)) fail("$.bridges", *p);
    if (auto p = mirrorProblem(cfg)) fail("$.bridges", *p);  // mirror_config.h
    if (auto p = localPortProblem(cfg, /*missingOk=*/true)) {
        std::string path = child(child(child("$.bridges", p->bridge), "ports"), p->port);
        if (!p->iface.empty()) path = child(child(path, "interfaces"), p->iface);
        if (!p->column.empty()) path = child(path, p->column);
        fail(path, p->message);
    }
}

}  // namespace

Value configToJson(const Config& cfg, JsonAlloc& a) {
    Value bridges(rapidjson::kObjectType);
    for (const auto& [bn, br] : cfg.bridges) {
        Value bobj(rapidjson::kObjectType);
        columnsToJson(br, bridgeColumns(), bobj, a);
        Value ports(rapidjson::kObjectType);
        for (const auto& [pn, port] : br.ports) {
            Value pobj(rapidjson::kObjectType);
            columnsToJson(port, portColumns(), pobj, a);
            Value ifaces(rapidjson::kObjectType);
            for (const auto& [in, iface] : port.interfaces) {
                Value iobj(rapidjson::kObjectType);
                columnsToJson(iface, interfaceColumns(), iobj, a);
                ifaces.AddMember(Value(in.c_str(), a), iobj, a);
            }
            pobj.AddMember("interfaces", ifaces, a);
            ports.AddMember(Value(pn.c_str(), a), pobj, a);
        }
        bobj.AddMember("ports", ports, a);
        bridges.AddMember(Value(bn.c_str(), a), bobj, a);
    }
    Value out(rapidjson::kObjectType);
    out.AddMember("bridges", bridges, a);
    out.AddMember("ssl", sslToJson(cfg.ssl, a), a);
    return out;
}

std::string configToFileText(const Config& cfg) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("format", Value(kConfigFormat, a), a);
    doc.AddMember("version", kConfigVersion, a);
    doc.AddMember("seq", static_cast<uint64_t>(cfg.seq), a);
    Value body = configToJson(cfg, a);
    doc.AddMember("bridges", body["bridges"], a);
    doc.AddMember("ssl", body["ssl"], a);
    if (!cfg.ovsdb.empty()) {
        rapidjson::Document rows;
        rows.Parse(cfg.ovsdb.c_str(), cfg.ovsdb.size());
        if (!rows.HasParseError()) doc.AddMember("ovsdb", Value(rows, a), a);
    }
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 1);
    doc.Accept(w);
    return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

Config configFromJson(const Value& root) {
    if (!root.IsObject()) fail("$", "expected a JSON object");
    auto format = root.FindMember("format");
    if (format == root.MemberEnd()) fail("$", "missing member 'format' (not a vswitch config file)");
    if (!format->value.IsString() || str(format->value) != kConfigFormat)
        fail("$.format", std::string("expected \"") + kConfigFormat + "\" (not a vswitch config file)");
    Config cfg;
    bool haveVersion = false, haveSeq = false, haveBridges = false;
    std::set<std::string> seen;
    for (const auto& m : root.GetObject()) {
        std::string name = str(m.name);
        std::string path = child("$", name);
        if (!seen.insert(name).second) fail(path, "duplicate member");
        if (name == "format") {
            continue;
        } else if (name == "version") {
            if (!m.value.IsInt()) fail(path, "expected an integer");
            if (m.value.GetInt() != kConfigVersion)
                fail(path, "unsupported version " + std::to_string(m.value.GetInt()) + " (this vswitchd reads version " +
                               std::to_string(kConfigVersion) + ")");
            haveVersion = true;
        } else if (name == "seq") {
            if (!m.value.IsUint64()) fail(path, "expected a non-negative integer");
            cfg.seq = m.value.GetUint64();
            haveSeq = true;
        } else if (name == "bridges") {
            forEachNamed(m.value, path, [&](const std::string& bn, const Value& bv, const std::string& p) {
                BridgeConfig br;
                readBridge(br, bv, p);
                return cfg.bridges.emplace(bn, std::move(br)).second;
            });
            haveBridges = true;
        } else if (name == "ssl") {  // optional: files written before it existed lack it
            cfg.ssl = sslFromJson(m.value, path);
        } else if (name == "ovsdb") {  // optional: the OVSDB rows, opaque here (ovsdb_mapping.h)
            if (!m.value.IsObject()) fail(path, "expected a JSON object");
            for (const auto& t : m.value.GetObject())
                if (!t.value.IsObject()) fail(child(path, str(t.name)), "expected a JSON object");
            rapidjson::StringBuffer sb;
            rapidjson::Writer<rapidjson::StringBuffer> w(sb);
            m.value.Accept(w);
            cfg.ovsdb.assign(sb.GetString(), sb.GetSize());
        } else {
            fail(path, "unknown member");
        }
    }
    if (!haveVersion) fail("$", "missing member 'version'");
    if (!haveSeq) fail("$", "missing member 'seq'");
    if (!haveBridges) fail("$", "missing member 'bridges'");
    checkNamesAndOfports(cfg);
    addMissingLocalPorts(cfg);  // a file written before bridges had local ports
    return cfg;
}

Config configFromFileText(std::string_view text) {
    if (text.empty()) throw ConfigFormatError("the file is empty");
    if (auto deep = protocol::checkJsonDepth(text)) throw ConfigFormatError("invalid JSON: " + *deep);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError())
        throw ConfigFormatError("invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                                rapidjson::GetParseError_En(doc.GetParseError()));
    return configFromJson(doc);
}

}  // namespace vs::vswitchd
