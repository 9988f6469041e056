#include "vswitchd/config_schema.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "vswitchd/config_controller.h"
#include "vswitchd/stp_config.h"
#include "vswitchd/mirror_config.h"
#include "vswitchd/qos.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// Checks a string value of a known map key; returns the problem or nullopt.
using ValueCheck = std::function<std::optional<std::string>(const std::string& value)>;
struct KeyRule {
    std::string key;
    ValueCheck check;
};

ValueCheck intRange(long long lo, long long hi) {
    return [lo, hi](const std::string& v) -> std::optional<std::string> {
        long long n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        bool digitsOnly = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digitsOnly && ec == std::errc() && end == v.data() + v.size() && n >= lo && n <= hi) return std::nullopt;
        return "invalid value " + quoteForMessage(v) + ": expected an integer in " + std::to_string(lo) + ".." +
               std::to_string(hi);
    };
}

ValueCheck oneOf(std::vector<std::string> allowed) {
    return [allowed](const std::string& v) -> std::optional<std::string> {
        for (const auto& a : allowed)
            if (a == v) return std::nullopt;
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return "invalid value " + quoteForMessage(v) + ": expected one of " + list;
    };
}

std::string checkMapValue(const std::vector<KeyRule>& rules, const std::string& key, const Value& v) {
    if (key.empty()) throw ColumnError(ErrorCode::kInvalidValue, key, "keys must not be empty");
    if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, key, "expected a string value");
    std::string s = str(v);
    for (const auto& r : rules)
        if (r.key == key)
            if (auto problem = r.check(s)) throw ColumnError(ErrorCode::kInvalidValue, key, *problem);
    return s;
}

template <class R>
ColumnDef<R> mapColumn(std::string name, StringMap R::*member, std::vector<KeyRule> rules = {}) {
    ColumnDef<R> c;
    c.name = name;
    c.isMap = true;
    c.toJson = [name, member](const R& r, Value& obj, JsonAlloc& a) {
        Value m(rapidjson::kObjectType);
        for (const auto& [k, v] : r.*member) m.AddMember(Value(k.c_str(), a), Value(v.c_str(), a), a);
        obj.AddMember(Value(name.c_str(), a), m, a);
    };
    c.fromJson = [rules, member](R& r, const Value& v) {
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a JSON object of strings");
        StringMap m;
        for (const auto& kv : v.GetObject()) {
            std::string key = str(kv.name);
            std::string val = checkMapValue(rules, key, kv.value);
            if (!m.emplace(key, std::move(val)).second)
                throw ColumnError(ErrorCode::kInvalidParams, key, "duplicate key");
        }
        r.*member = std::move(m);
    };
    c.setKey = [rules, member](R& r, const std::string& key, const Value& v) {
        (r.*member)[key] = checkMapValue(rules, key, v);
    };
    c.removeKey = [member](R& r, const std::string& key) { (r.*member).erase(key); };
    c.clear = [member](R& r) { (r.*member).clear(); };
    return c;
}

// A string column restricted to `allowed`; "" (and `clear`) mean `dflt`.
template <class R>
ColumnDef<R> enumColumn(std::string name, std::string R::*member, std::vector<std::string> allowed,
                        std::string dflt) {
    ColumnDef<R> c;
    c.name = name;
    c.toJson = [name, member](const R& r, Value& obj, JsonAlloc& a) {
        obj.AddMember(Value(name.c_str(), a), Value((r.*member).c_str(), a), a);
    };
    c.fromJson = [member, allowed, dflt](R& r, const Value& v) {
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a string");
        std::string s = v.GetStringLength() == 0 ? dflt : str(v);
        if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed)
                if (!a.empty()) list += (list.empty() ? "" : ", ") + a;
            throw ColumnError(ErrorCode::kInvalidValue, "",
                              "invalid value " + quoteForMessage(s) + ": expected one of " + list);
        }
        r.*member = std::move(s);
    };
    c.clear = [member, dflt](R& r) { r.*member = dflt; };
    return c;
}

ColumnDef<InterfaceConfig> ofportColumn() {
    ColumnDef<InterfaceConfig> c;
    c.name = "ofport";
    c.writable = false;
    c.required = true;
    c.toJson = [](const InterfaceConfig& r, Value& obj, JsonAlloc& a) { obj.AddMember("ofport", r.ofport, a); };
    // kLocalOfport passes here; localPortProblem() checks that only a local port has it.
    c.fromJson = [](InterfaceConfig& r, const Value& v) {
        bool inRange = v.IsInt() && ((v.GetInt() >= kMinOfport && v.GetInt() <= kMaxOfport) || v.GetInt() == kLocalOfport);
        if (!inRange)
            throw ColumnError(ErrorCode::kInvalidValue, "",
                              "expected an integer in " + std::to_string(kMinOfport) + ".." +
                                  std::to_string(kMaxOfport) + " (or " + std::to_string(kLocalOfport) +
                                  " for a bridge's local port)");
        r.ofport = v.GetInt();
    };
    c.clear = [](InterfaceConfig& r) { r.ofport = 0; };
    return c;
}

std::string trimmed(const std::string& s) {
    std::size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Parses a VLAN ID given as a JSON integer or a decimal string.
int vlanId(const Value& v) {
    long long n = -1;
    if (v.IsInt64()) {
        n = v.GetInt64();
    } else if (v.IsString()) {
        std::string s = str(v);
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size())
            throw ColumnError(ErrorCode::kInvalidValue, "", "invalid VLAN " + quoteForMessage(s) + ": expected an integer in 0..4095");
    } else {
        throw ColumnError(ErrorCode::kInvalidParams, "", "expected a VLAN ID (integer 0..4095)");
    }
    if (n < 0 || n > 4095)
        throw ColumnError(ErrorCode::kInvalidValue, "", "VLAN " + std::to_string(n) + " is outside 0..4095");
    return static_cast<int>(n);
}

// Port:tag — an optional VLAN ID (IEEE 802.1Q: 12 bits). null / clear: no tag.
ColumnDef<PortConfig> tagColumn() {
    ColumnDef<PortConfig> c;
    c.name = "tag";
    c.toJson = [](const PortConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (r.tag) v.SetInt(*r.tag);
        obj.AddMember("tag", v, a);
    };
    c.fromJson = [](PortConfig& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty())) { r.tag.reset(); return; }
        r.tag = vlanId(v);
    };
    c.clear = [](PortConfig& r) { r.tag.reset(); };
    return c;
}

// Port:trunks — a set of VLAN IDs: a JSON array of IDs, one ID, or a string "10,20".
ColumnDef<PortConfig> trunksColumn() {
    ColumnDef<PortConfig> c;
    c.name = "trunks";
    c.toJson = [](const PortConfig& r, Value& obj, JsonAlloc& a) {
        Value arr(rapidjson::kArrayType);
        for (int t : r.trunks) arr.PushBack(t, a);
        obj.AddMember("trunks", arr, a);
    };
    c.fromJson = [](PortConfig& r, const Value& v) {
        std::set<int> ids;
        if (v.IsArray()) {
            for (const auto& e : v.GetArray()) ids.insert(vlanId(e));
        } else if (v.IsString()) {
            // "10,20" or "10, 20" (what `vsctl set port p1 trunks=10,20` sends); "" is the empty set.
            std::string s = str(v);
            bool blank = s.find_first_not_of(" \t") == std::string::npos;
            std::size_t start = 0;
            while (!blank) {
                std::size_t comma = s.find(',', start);
                std::string part = trimmed(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
                ids.insert(vlanId(Value(rapidjson::StringRef(part.c_str()))));
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else {
            ids.insert(vlanId(v));
        }
        r.trunks.assign(ids.begin(), ids.end());
    };
    c.clear = [](PortConfig& r) { r.trunks.clear(); };
    return c;
}

// Port:vlan_mode — optional: null (or "" / [] / clear) when unset, as ovs-vsctl shows `[]`.
ColumnDef<PortConfig> vlanModeColumn() {
    ColumnDef<PortConfig> c = enumColumn("vlan_mode", &PortConfig::vlan_mode,
                                         {"", "access", "trunk", "native-tagged", "native-untagged"}, "");
    c.toJson = [](const PortConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (!r.vlan_mode.empty()) v.SetString(r.vlan_mode.c_str(), a);
        obj.AddMember("vlan_mode", v, a);
    };
    auto fromString = c.fromJson;
    c.fromJson = [fromString](PortConfig& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty())) { r.vlan_mode.clear(); return; }
        fromString(r, v);
    };
    return c;
}

// An optional enum column (bond_mode, lacp): null / "" / [] / clear mean unset, shown as null.
template <class R>
ColumnDef<R> optionalEnumColumn(const char* name, std::string R::*member, std::vector<std::string> allowed) {
    allowed.insert(allowed.begin(), "");
    ColumnDef<R> c = enumColumn(name, member, allowed, "");
    std::string n = name;
    c.toJson = [n, member](const R& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (!(r.*member).empty()) v.SetString((r.*member).c_str(), a);
        obj.AddMember(Value(n.c_str(), a), v, a);
    };
    auto fromString = c.fromJson;
    c.fromJson = [fromString, member](R& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty())) { (r.*member).clear(); return; }
        fromString(r, v);
    };
    return c;
}

// An integer column in lo..hi, given as a JSON integer or a decimal string (bond_updelay=100).
template <class R>
ColumnDef<R> intColumn(const char* name, int R::*member, int lo, int hi) {
    ColumnDef<R> c;
    c.name = name;
    std::string n = name;
    c.toJson = [n, member](const R& r, Value& obj, JsonAlloc& a) { obj.AddMember(Value(n.c_str(), a), Value(r.*member), a); };
    c.fromJson = [member, lo, hi](R& r, const Value& v) {
        std::optional<std::string> text;
        if (v.IsInt64()) text = std::to_string(v.GetInt64());
        else if (v.IsString()) text = str(v);
        else throw ColumnError(ErrorCode::kInvalidParams, "", "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
        if (auto problem = intRange(lo, hi)(*text)) throw ColumnError(ErrorCode::kInvalidValue, "", *problem);
        r.*member = std::stoi(*text);
    };
    c.clear = [member](R& r) { r.*member = 0; };
    return c;
}

ValueCheck macAddress() {
    return [](const std::string& v) -> std::optional<std::string> {
        dp::MacAddr m;
        if (dp::MacAddr::parse(v, m)) return std::nullopt;
        return "invalid value " + quoteForMessage(v) + ": expected a MAC address (aa:bb:cc:dd:ee:ff)";
    };
}

ValueCheck validName() {
    return [](const std::string& v) { return checkName(v); };
}

bool nameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

}  // namespace

std::string quoteForMessage(std::string_view s) {
    constexpr std::size_t kShown = 40;
    if (s.size() <= kShown) return "'" + std::string(s) + "'";
    return "'" + std::string(s.substr(0, kShown)) + "...' (" + std::to_string(s.size()) + " bytes)";
}

std::optional<std::string> checkName(std::string_view name) {
    const char* why = nullptr;
    if (name.empty())
        why = "names must not be empty";
    else if (name.size() > kMaxNameLength)
        why = "names are at most 15 characters (IFNAMSIZ)";
    else if (!std::all_of(name.begin(), name.end(), nameChar))
        why = "names may contain only letters, digits, '_', '.' and '-'";
    else if (name == "." || name == "..")
        why = "'.' and '..' are not valid names";
    if (!why) return std::nullopt;
    return "invalid name " + quoteForMessage(name) + ": " + why;
}

const std::vector<ColumnDef<BridgeConfig>>& bridgeColumns() {
    static const std::vector<ColumnDef<BridgeConfig>> cols = {
        mapColumn("other_config", &BridgeConfig::other_config,
                  {{"mac-aging-time", intRange(1, 1000000)}, {"mac-table-size", intRange(1, 1000000)},
                   {"flow-limit", intRange(1, 10000000)}, {"tunnel-split-horizon", oneOf({"true", "false"})},
                   // spanning tree (stp_config.cpp checks the timers against each other)
                   {"stp-system-id", macAddress()}, {"stp-priority", intRange(0, 65535)},
                   {"stp-hello-time", intRange(1, 10)}, {"stp-max-age", intRange(6, 40)},
                   {"stp-forward-delay", intRange(4, 30)},
                   // rapid spanning tree (rstp_config.cpp checks max age against forward delay)
                   {"rstp-address", macAddress()}, {"rstp-priority", intRange(0, 61440)},
                   {"rstp-ageing-time", intRange(10, 1000000)}, {"rstp-force-protocol-version", oneOf({"0", "2"})},
                   {"rstp-max-age", intRange(6, 40)}, {"rstp-forward-delay", intRange(4, 30)},
                   {"rstp-transmit-hold-count", intRange(1, 10)}}),
        mapColumn("external_ids", &BridgeConfig::external_ids),
        failModeColumn(),     // config_controller.cpp
        controllersColumn(),
        stpEnableColumn(),    // stp_config.cpp
        rstpEnableColumn(),
        mirrorsColumn(),      // mirror_config.cpp
    };
    return cols;
}

const std::vector<ColumnDef<PortConfig>>& portColumns() {
    static const std::vector<ColumnDef<PortConfig>> cols = {
        tagColumn(),
        trunksColumn(),
        vlanModeColumn(),
        optionalEnumColumn("bond_mode", &PortConfig::bond_mode, {"active-backup", "balance-slb", "balance-tcp"}),
        optionalEnumColumn("lacp", &PortConfig::lacp, {"active", "passive", "off"}),
        intColumn("bond_updelay", &PortConfig::bond_updelay, 0, 3600000),
        intColumn("bond_downdelay", &PortConfig::bond_downdelay, 0, 3600000),
        mapColumn("other_config", &PortConfig::other_config,
                  {{"bond-primary", validName()},
                   {"bond-rebalance-interval", intRange(0, 10000)},
                   {"lacp-time", oneOf({"fast", "slow"})},
                   {"lacp-fallback-ab", oneOf({"true", "false"})},
                   {"stp-enable", oneOf({"true", "false"})}, {"stp-port-num", intRange(1, 255)},
                   {"stp-port-priority", intRange(0, 255)}, {"stp-path-cost", intRange(1, 65535)},
                   {"rstp-enable", oneOf({"true", "false"})}, {"rstp-port-priority", intRange(0, 240)},
                   {"rstp-port-num", intRange(1, 4095)}, {"rstp-path-cost", intRange(1, 200000000)},
                   {"rstp-port-admin-edge", oneOf({"true", "false"})}, {"rstp-port-auto-edge", oneOf({"true", "false"})},
                   {"rstp-port-mcheck", oneOf({"true", "false"})}, {"rstp-admin-p2p-mac", intRange(0, 2)},
                   {"rstp-admin-port-state", oneOf({"true", "false"})}}),
        mapColumn("external_ids", &PortConfig::external_ids),
        qosColumn(),  // qos.h
    };
    return cols;
}

const std::vector<ColumnDef<InterfaceConfig>>& interfaceColumns() {
    static const std::vector<ColumnDef<InterfaceConfig>> cols = {
        enumColumn("type", &InterfaceConfig::type, {"system", "internal", "tap", "vxlan", "geneve", "gre", "patch", "dummy"},
                   "system"),
        mapColumn("options", &InterfaceConfig::options),
        mapColumn("other_config", &InterfaceConfig::other_config),
        mapColumn("external_ids", &InterfaceConfig::external_ids),
        ofportColumn(),
        intColumn("ingress_policing_rate", &InterfaceConfig::ingress_policing_rate, 0, INT32_MAX),   // kbit/s (qos.h)
        intColumn("ingress_policing_burst", &InterfaceConfig::ingress_policing_burst, 0, INT32_MAX),  // kbit
    };
    return cols;
}

std::optional<PortRef> findPort(const Config& cfg, std::string_view port) {
    for (const auto& [brName, br] : cfg.bridges) {
        auto it = br.ports.find(std::string(port));
        if (it != br.ports.end()) return PortRef{brName, it->first};
    }
    return std::nullopt;
}

std::optional<InterfaceRef> findInterface(const Config& cfg, std::string_view iface) {
    std::string key(iface);
    for (const auto& [brName, br] : cfg.bridges)
        for (const auto& [portName, port] : br.ports)
            if (port.interfaces.count(key)) return InterfaceRef{brName, portName, key};
    return std::nullopt;
}

std::optional<std::string> nameConflict(const Config& cfg, std::string_view name) {
    std::string n(name);
    if (cfg.bridges.count(n)) return "a bridge named " + n + " already exists";
    if (auto p = findPort(cfg, name)) return "a port named " + n + " already exists on bridge " + p->bridge;
    if (auto i = findInterface(cfg, name))
        return "an interface named " + n + " already exists on bridge " + i->bridge;
    return std::nullopt;
}

PortConfig localPortConfig(const std::string& bridge) {
    PortConfig pc;
    InterfaceConfig& ic = pc.interfaces[bridge];
    ic.type = kLocalPortType;
    ic.ofport = kLocalOfport;
    return pc;
}

std::optional<LocalPortProblem> localPortProblem(const Config& cfg, bool missingOk) {
    for (const auto& [bn, br] : cfg.bridges) {
        auto local = br.ports.find(bn);
        if (local == br.ports.end()) {
            if (missingOk) continue;
            return LocalPortProblem{bn, bn, "", "", "bridge " + bn + " has no local port " + bn};
        }
        const auto& ifaces = local->second.interfaces;
        if (ifaces.size() != 1 || !ifaces.count(bn))
            return LocalPortProblem{bn, bn, "", "",
                                    "the local port " + bn + " of bridge " + bn + " must have exactly one interface, " + bn};
        const InterfaceConfig& ic = ifaces.at(bn);
        if (ic.type != kLocalPortType)
            return LocalPortProblem{bn, bn, bn, "type",
                                    "the local interface " + bn + " of bridge " + bn + " must be of type " +
                                        kLocalPortType + ", not " + ic.type};
        if (ic.ofport != kLocalOfport)
            return LocalPortProblem{bn, bn, bn, "ofport",
                                    "the local interface " + bn + " of bridge " + bn + " must have ofport " +
                                        std::to_string(kLocalOfport) + " (OFPP_LOCAL)"};
    }
    for (const auto& [bn, br] : cfg.bridges)
        for (const auto& [pn, port] : br.ports)
            for (const auto& [in, ic] : port.interfaces)
                if (ic.ofport == kLocalOfport && !isLocalPort(bn, pn))
                    return LocalPortProblem{bn, pn, in, "ofport",
                                            "ofport " + std::to_string(kLocalOfport) +
                                                " (OFPP_LOCAL) is reserved for the local port of bridge " + bn};
    return std::nullopt;
}

std::optional<std::string> bondProblem(const Config& cfg) {
    for (const auto& [bn, br] : cfg.bridges)
        for (const auto& [pn, port] : br.ports)
            if (port.bond_mode == "balance-tcp" && port.lacp != "active" && port.lacp != "passive")
                return "Port " + pn + " bond_mode: balance-tcp requires LACP (also set lacp=active or lacp=passive)";
    return std::nullopt;
}

std::vector<std::string> addMissingLocalPorts(Config& cfg) {
    std::vector<std::string> changed;
    for (auto& [bn, br] : cfg.bridges)
        if (!br.ports.count(bn)) {
            br.ports.emplace(bn, localPortConfig(bn));
            changed.push_back(bn);
        }
    return changed;
}

int lowestFreeOfport(const BridgeConfig& br) {
    std::set<int> used;
    for (const auto& [pn, port] : br.ports)
        for (const auto& [in, iface] : port.interfaces) used.insert(iface.ofport);
    int candidate = kMinOfport;
    for (int n : used) {
        if (n < candidate) continue;
        if (n > candidate) break;
        ++candidate;
    }
    return candidate <= kMaxOfport ? candidate : 0;
}

}  // namespace vs::vswitchd
