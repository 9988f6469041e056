#include "vswitchd/mirror_config.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "vswitchd/config_ops.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

bool isEmpty(const Value& v) {
    return v.IsNull() || (v.IsArray() && v.Empty()) || (v.IsString() && v.GetStringLength() == 0);
}

// The items of a set value: a JSON array, or one string "a,b" (what `vsctl add-mirror ...
// select-src-port=p1,p2` sends), or one scalar.
std::vector<std::string> items(const Value& v) {
    std::vector<std::string> out;
    auto split = [&](const std::string& s) {
        std::size_t start = 0;
        while (start <= s.size()) {
            std::size_t comma = s.find(',', start);
            std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            part.erase(0, part.find_first_not_of(" \t"));
            part.erase(part.find_last_not_of(" \t") + 1);
            if (!part.empty()) out.push_back(part);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    };
    if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
            if (e.IsString()) out.push_back(str(e));
            else if (e.IsInt64()) out.push_back(std::to_string(e.GetInt64()));
            else throw ColumnError(ErrorCode::kInvalidParams, "", "expected strings or integers");
        }
    } else if (v.IsString()) {
        split(str(v));
    } else if (v.IsInt64()) {
        out.push_back(std::to_string(v.GetInt64()));
    } else if (!v.IsNull()) {
        throw ColumnError(ErrorCode::kInvalidParams, "", "expected a set (JSON array or \"a,b\")");
    }
    return out;
}

int vlanIn(const std::string& s, int lo) {
    int n = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < lo || n > 4095)
        throw ColumnError(ErrorCode::kInvalidValue, "",
                          "invalid VLAN " + quoteForMessage(s) + ": expected an integer in " + std::to_string(lo) + "..4095");
    return n;
}

ColumnDef<MirrorConfig> portSetColumn(const char* name, std::vector<std::string> MirrorConfig::*member) {
    ColumnDef<MirrorConfig> c;
    c.name = name;
    std::string n = name;
    c.toJson = [n, member](const MirrorConfig& r, Value& obj, JsonAlloc& a) {
        Value arr(rapidjson::kArrayType);
        for (const auto& p : r.*member) arr.PushBack(Value(p.c_str(), a), a);
        obj.AddMember(Value(n.c_str(), a), arr, a);
    };
    c.fromJson = [member](MirrorConfig& r, const Value& v) {
        std::set<std::string> names;
        for (auto& p : items(v)) {
            if (auto problem = checkName(p)) throw ColumnError(ErrorCode::kInvalidValue, "", *problem);
            names.insert(std::move(p));
        }
        r.*member = std::vector<std::string>(names.begin(), names.end());
    };
    c.clear = [member](MirrorConfig& r) { (r.*member).clear(); };
    return c;
}

ColumnDef<MirrorConfig> selectAllColumn() {
    ColumnDef<MirrorConfig> c;
    c.name = "select_all";
    c.toJson = [](const MirrorConfig& r, Value& obj, JsonAlloc& a) { obj.AddMember("select_all", r.select_all, a); };
    c.fromJson = [](MirrorConfig& r, const Value& v) {
        if (v.IsBool()) { r.select_all = v.GetBool(); return; }
        if (v.IsString() && (str(v) == "true" || str(v) == "false")) { r.select_all = str(v) == "true"; return; }
        throw ColumnError(ErrorCode::kInvalidValue, "", "expected true or false");
    };
    c.clear = [](MirrorConfig& r) { r.select_all = false; };
    return c;
}

ColumnDef<MirrorConfig> selectVlanColumn() {
    ColumnDef<MirrorConfig> c;
    c.name = "select_vlan";
    c.toJson = [](const MirrorConfig& r, Value& obj, JsonAlloc& a) {
        Value arr(rapidjson::kArrayType);
        for (int v : r.select_vlan) arr.PushBack(v, a);
        obj.AddMember("select_vlan", arr, a);
    };
    c.fromJson = [](MirrorConfig& r, const Value& v) {
        std::set<int> ids;
        for (const auto& s : items(v)) ids.insert(vlanIn(s, 0));
        r.select_vlan.assign(ids.begin(), ids.end());
    };
    c.clear = [](MirrorConfig& r) { r.select_vlan.clear(); };
    return c;
}

ColumnDef<MirrorConfig> outputPortColumn() {
    ColumnDef<MirrorConfig> c;
    c.name = "output_port";
    c.toJson = [](const MirrorConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (!r.output_port.empty()) v.SetString(r.output_port.c_str(), a);
        obj.AddMember("output_port", v, a);
    };
    c.fromJson = [](MirrorConfig& r, const Value& v) {
        if (isEmpty(v)) { r.output_port.clear(); return; }
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a port name");
        if (auto problem = checkName(str(v))) throw ColumnError(ErrorCode::kInvalidValue, "", *problem);
        r.output_port = str(v);
    };
    c.clear = [](MirrorConfig& r) { r.output_port.clear(); };
    return c;
}

ColumnDef<MirrorConfig> outputVlanColumn() {
    ColumnDef<MirrorConfig> c;
    c.name = "output_vlan";
    c.toJson = [](const MirrorConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (r.output_vlan) v.SetInt(*r.output_vlan);
        obj.AddMember("output_vlan", v, a);
    };
    c.fromJson = [](MirrorConfig& r, const Value& v) {
        if (isEmpty(v)) { r.output_vlan.reset(); return; }
        auto all = items(v);
        if (all.size() != 1) throw ColumnError(ErrorCode::kInvalidValue, "", "expected one VLAN in 1..4095");
        r.output_vlan = vlanIn(all.front(), 1);
    };
    c.clear = [](MirrorConfig& r) { r.output_vlan.reset(); };
    return c;
}

ColumnDef<MirrorConfig> externalIdsColumn() {
    ColumnDef<MirrorConfig> c;
    c.name = "external_ids";
    c.isMap = true;
    c.toJson = [](const MirrorConfig& r, Value& obj, JsonAlloc& a) {
        Value m(rapidjson::kObjectType);
        for (const auto& [k, v] : r.external_ids) m.AddMember(Value(k.c_str(), a), Value(v.c_str(), a), a);
        obj.AddMember("external_ids", m, a);
    };
    c.fromJson = [](MirrorConfig& r, const Value& v) {
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a JSON object of strings");
        StringMap m;
        for (const auto& kv : v.GetObject()) {
            if (!kv.value.IsString()) throw ColumnError(ErrorCode::kInvalidParams, str(kv.name), "expected a string value");
            m[str(kv.name)] = str(kv.value);
        }
        r.external_ids = std::move(m);
    };
    c.setKey = [](MirrorConfig& r, const std::string& key, const Value& v) {
        if (key.empty()) throw ColumnError(ErrorCode::kInvalidValue, key, "keys must not be empty");
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, key, "expected a string value");
        r.external_ids[key] = str(v);
    };
    c.removeKey = [](MirrorConfig& r, const std::string& key) { r.external_ids.erase(key); };
    c.clear = [](MirrorConfig& r) { r.external_ids.clear(); };
    return c;
}

// Applies {COLUMN: VALUE} to `m`; ColumnError becomes OpError "Mirror M COLUMN: problem".
void applyColumns(MirrorConfig& m, const std::string& name, const Value& cols) {
    if (!cols.IsObject()) throw OpError(ErrorCode::kInvalidParams, "field 'columns' must be a JSON object");
    for (const auto& c : cols.GetObject()) {
        std::string col = str(c.name);
        std::replace(col.begin(), col.end(), '-', '_');  // ovs-vsctl accepts select-all for select_all
        const auto* def = findColumn(mirrorColumns(), col);
        if (!def) throw OpError(ErrorCode::kNotFound, "Mirror does not contain a column whose name matches '" + col + "'");
        try {
            def->fromJson(m, c.value);
        } catch (const ColumnError& e) {
            throw OpError(e.code, "Mirror " + name + " " + col + ": " + e.what());
        }
    }
}

}  // namespace

const std::vector<ColumnDef<MirrorConfig>>& mirrorColumns() {
    static const std::vector<ColumnDef<MirrorConfig>> cols = {
        selectAllColumn(),
        portSetColumn("select_src_port", &MirrorConfig::select_src_port),
        portSetColumn("select_dst_port", &MirrorConfig::select_dst_port),
        selectVlanColumn(),
        outputPortColumn(),
        outputVlanColumn(),
        externalIdsColumn(),
    };
    return cols;
}

ColumnDef<BridgeConfig> mirrorsColumn() {
    ColumnDef<BridgeConfig> c;
    c.name = "mirrors";
    c.toJson = [](const BridgeConfig& r, Value& obj, JsonAlloc& a) {
        Value m(rapidjson::kObjectType);
        for (const auto& [name, mc] : r.mirrors) {
            Value rec(rapidjson::kObjectType);
            for (const auto& col : mirrorColumns()) col.toJson(mc, rec, a);
            m.AddMember(Value(name.c_str(), a), rec, a);
        }
        obj.AddMember("mirrors", m, a);
    };
    c.fromJson = [](BridgeConfig& r, const Value& v) {
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a JSON object of mirrors by name");
        std::map<std::string, MirrorConfig> out;
        for (const auto& m : v.GetObject()) {
            std::string name = str(m.name);
            if (name.empty()) throw ColumnError(ErrorCode::kInvalidValue, name, "mirror names must not be empty");
            if (!m.value.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, name, "expected a JSON object");
            MirrorConfig mc;
            for (const auto& col : m.value.GetObject()) {
                const auto* def = findColumn(mirrorColumns(), str(col.name));
                if (!def) throw ColumnError(ErrorCode::kInvalidParams, name, "unknown member '" + str(col.name) + "'");
                try {
                    def->fromJson(mc, col.value);
                } catch (const ColumnError& e) {
                    throw ColumnError(e.code, name, def->name + ": " + e.what());
                }
            }
            if (!out.emplace(name, std::move(mc)).second) throw ColumnError(ErrorCode::kInvalidParams, name, "duplicate mirror");
        }
        r.mirrors = std::move(out);
    };
    c.clear = [](BridgeConfig& r) { r.mirrors.clear(); };
    return c;
}

std::optional<std::string> mirrorProblem(const Config& cfg) {
    for (const auto& [bn, br] : cfg.bridges) {
        if (br.mirrors.size() > ofproto::MirrorSet::kMaxMirrors)
            return "bridge " + bn + " has " + std::to_string(br.mirrors.size()) + " mirrors (at most " +
                   std::to_string(ofproto::MirrorSet::kMaxMirrors) + ")";
        for (const auto& [mn, m] : br.mirrors) {
            std::string what = "Mirror " + mn + " of bridge " + bn + ": ";
            auto onBridge = [&](const std::string& p) { return br.ports.count(p) != 0; };
            for (const auto* set : {&m.select_src_port, &m.select_dst_port})
                for (const auto& p : *set)
                    if (!onBridge(p)) return what + "selected port " + p + " is not a port of bridge " + bn;
            if (!m.output_port.empty() && !onBridge(m.output_port))
                return what + "output port " + m.output_port + " is not a port of bridge " + bn;
            if (!m.output_port.empty() && m.output_vlan)
                return what + "output_port and output_vlan are exclusive (set one)";
            auto selects = [&](const std::vector<std::string>& v) {
                return std::find(v.begin(), v.end(), m.output_port) != v.end();
            };
            if (!m.output_port.empty() && (selects(m.select_src_port) || selects(m.select_dst_port)))
                return what + "output port " + m.output_port + " is also a selected port";
        }
    }
    return std::nullopt;
}

MirrorConfig* findMirrorRecord(Config& cfg, const std::string& name) {
    MirrorConfig* found = nullptr;
    std::string where;
    for (auto& [bn, br] : cfg.bridges) {
        auto it = br.mirrors.find(name);
        if (it == br.mirrors.end()) continue;
        if (found)
            throw OpError(ErrorCode::kInvalidValue, "mirror " + name + " is on bridges " + where + " and " + bn +
                                                        "; use add-mirror/del-mirror with its bridge");
        found = &it->second;
        where = bn;
    }
    return found;
}

void addMirror(Config& cfg, const std::string& bridge, const std::string& name, const Value* columns, bool mayExist) {
    auto b = cfg.bridges.find(bridge);
    if (b == cfg.bridges.end()) throw OpError(ErrorCode::kNotFound, "no bridge named " + bridge);
    if (name.empty()) throw OpError(ErrorCode::kInvalidValue, "mirror names must not be empty");
    if (b->second.mirrors.count(name)) {
        if (mayExist) return;
        throw OpError(ErrorCode::kAlreadyExists, "bridge " + bridge + " already has a mirror named " + name);
    }
    MirrorConfig m;
    if (columns) applyColumns(m, name, *columns);
    b->second.mirrors.emplace(name, std::move(m));
}

void delMirror(Config& cfg, const std::string& bridge, const std::string& name, bool ifExists) {
    auto b = cfg.bridges.find(bridge);
    if (b == cfg.bridges.end()) throw OpError(ErrorCode::kNotFound, "no bridge named " + bridge);
    if (!b->second.mirrors.erase(name) && !ifExists)
        throw OpError(ErrorCode::kNotFound, "bridge " + bridge + " has no mirror named " + name);
}

void forgetMirrorPort(BridgeConfig& br, const std::string& port) {
    for (auto& [mn, m] : br.mirrors) {
        std::erase(m.select_src_port, port);
        std::erase(m.select_dst_port, port);
        if (m.output_port == port) m.output_port.clear();
    }
}

std::vector<ofproto::MirrorSpec> mirrorSpecs(const BridgeConfig& br) {
    std::vector<ofproto::MirrorSpec> out;
    for (const auto& [name, m] : br.mirrors) {
        ofproto::MirrorSpec s;
        s.name = name;
        s.select_all = m.select_all;
        s.src_ports = m.select_src_port;
        s.dst_ports = m.select_dst_port;
        for (int v : m.select_vlan) s.vlans.push_back(static_cast<std::uint16_t>(v));
        s.out_port = m.output_port;
        if (m.output_vlan) s.out_vlan = static_cast<std::uint16_t>(*m.output_vlan);
        out.push_back(std::move(s));
    }
    return out;
}

rapidjson::Value mirrorStatusJson(const Config& cfg,
                                  const std::function<std::vector<ofproto::MirrorStats>(const std::string&)>& stats,
                                  JsonAlloc& a) {
    Value out(rapidjson::kObjectType);
    for (const auto& [bn, br] : cfg.bridges) {
        if (br.mirrors.empty()) continue;
        Value per(rapidjson::kObjectType);
        for (const auto& s : stats(bn)) {
            Value o(rapidjson::kObjectType);
            o.AddMember("tx_packets", s.tx_packets, a);
            o.AddMember("tx_bytes", s.tx_bytes, a);
            per.AddMember(Value(s.name.c_str(), a), o, a);
        }
        out.AddMember(Value(bn.c_str(), a), per, a);
    }
    return out;
}

}  // namespace vs::vswitchd
