#include "vswitchd/stp_config.h"

#include "vswitchd/rstp_config.h"

#include <cstdio>
#include <fstream>
#include <map>

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

ColumnDef<BridgeConfig> boolColumn(const char* name, bool BridgeConfig::*member) {
    ColumnDef<BridgeConfig> c;
    c.name = name;
    std::string n = name;
    c.toJson = [n, member](const BridgeConfig& r, Value& obj, JsonAlloc& a) {
        obj.AddMember(Value(n.c_str(), a), Value(r.*member), a);
    };
    c.fromJson = [member](BridgeConfig& r, const Value& v) {
        if (v.IsBool()) {
            r.*member = v.GetBool();
            return;
        }
        std::string s = v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string();
        if (s == "true" || s == "false") {
            r.*member = s == "true";
            return;
        }
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a boolean (true or false)");
        throw ColumnError(ErrorCode::kInvalidValue, "", "invalid value " + quoteForMessage(s) + ": expected true or false");
    };
    c.clear = [member](BridgeConfig& r) { r.*member = false; };
    return c;
}

int intKey(const StringMap& m, const char* key, int dflt) {
    auto it = m.find(key);
    if (it == m.end()) return dflt;
    try {
        return std::stoi(it->second);
    } catch (...) {
        return dflt;  // the key's own rule refused it already
    }
}

ofproto::StpSettings timersOf(const BridgeConfig& bc) {
    ofproto::StpSettings s;
    s.priority = static_cast<std::uint16_t>(intKey(bc.other_config, "stp-priority", s.priority));
    s.hello_s = intKey(bc.other_config, "stp-hello-time", s.hello_s);
    s.max_age_s = intKey(bc.other_config, "stp-max-age", s.max_age_s);
    s.forward_delay_s = intKey(bc.other_config, "stp-forward-delay", s.forward_delay_s);
    if (auto it = bc.other_config.find("stp-system-id"); it != bc.other_config.end())
        dp::MacAddr::parse(it->second, s.system);
    return s;
}

}  // namespace

ColumnDef<BridgeConfig> stpEnableColumn() { return boolColumn("stp_enable", &BridgeConfig::stp_enable); }
ColumnDef<BridgeConfig> rstpEnableColumn() { return boolColumn("rstp_enable", &BridgeConfig::rstp_enable); }

std::optional<std::string> stpProblem(const Config& cfg) {
    for (const auto& [bn, bc] : cfg.bridges) {
        if (bc.stp_enable && bc.rstp_enable)
            return "Bridge " + bn + ": stp_enable and rstp_enable are mutually exclusive (set one to false)";
        if (auto p = rstpProblem(bn, bc)) return p;  // rstp_config.h
        if (auto p = timersOf(bc).problem())
            return "Bridge " + bn + " other_config: " + *p + "; nothing changed (set the stp-* timers in one command)";
        std::map<int, std::string> nums;
        for (const auto& [pn, pc] : bc.ports) {
            int n = intKey(pc.other_config, "stp-port-num", 0);
            if (!n) continue;
            auto [it, fresh] = nums.emplace(n, pn);
            if (!fresh)
                return "Port " + pn + " other_config:stp-port-num=" + std::to_string(n) + " is also port " + it->second +
                       "'s on bridge " + bn;
        }
    }
    return std::nullopt;
}

namespace {
std::string stpId(std::uint64_t id) {
    char b[32];
    std::snprintf(b, sizeof b, "%04x.%012llx", static_cast<unsigned>(id >> 48),
                  static_cast<unsigned long long>(id & 0xffffffffffffULL));
    return b;
}
}  // namespace

StringMap stpBridgeStatus(const ofproto::StpBridgeStatus& s) {
    return {{"stp_bridge_id", stpId(s.stp.bridge_id)},
            {"stp_designated_root", stpId(s.stp.designated_root)},
            {"stp_root_path_cost", std::to_string(s.stp.root_path_cost)}};
}

std::map<std::string, StringMap> stpPortStatus(const ofproto::StpBridgeStatus& s) {
    std::map<std::string, StringMap> out;
    for (const auto& p : s.stp.ports) {
        auto name = s.port_names.find(p.id);
        if (name == s.port_names.end()) continue;
        char id[8];
        std::snprintf(id, sizeof id, "%04x", p.port_id);
        out[name->second] = {{"stp_port_id", id}, {"stp_state", ofproto::toString(p.state)},
                             {"stp_role", ofproto::toString(p.role)}};
    }
    return out;
}

std::optional<ofproto::StpSettings> stpSettingsOf(const BridgeConfig& bc) {
    if (!bc.stp_enable) return std::nullopt;
    return timersOf(bc);
}

std::uint32_t stpPathCostForSpeed(long mbps) {
    if (mbps >= 10000) return 2;
    if (mbps >= 1000) return 4;
    if (mbps >= 100) return 19;
    if (mbps >= 16) return 62;
    if (mbps >= 10) return 100;
    if (mbps >= 4) return 250;
    return 19;  // unknown
}

namespace {
// The link speed in Mb/s that the kernel reports (ethtool's, through sysfs); 0 when unknown (a
// link that is down, a TAP, a missing device).
long linkSpeedMbps(const std::string& netdev) {
    std::ifstream f("/sys/class/net/" + netdev + "/speed");
    long mbps = 0;
    if (!(f >> mbps) || mbps < 0) return 0;
    return mbps;
}
}  // namespace

ofproto::StpPortSettings stpPortSettingsOf(const PortConfig& pc) {
    ofproto::StpPortSettings s;
    if (pc.interfaces.size() == 1 && pc.interfaces.begin()->second.type == "system")
        s.path_cost = stpPathCostForSpeed(linkSpeedMbps(pc.interfaces.begin()->first));
    auto en = pc.other_config.find("stp-enable");
    s.enable = en == pc.other_config.end() || en->second != "false";
    s.port_num = static_cast<std::uint16_t>(intKey(pc.other_config, "stp-port-num", 0));
    s.priority = static_cast<std::uint8_t>(intKey(pc.other_config, "stp-port-priority", s.priority));
    s.path_cost = static_cast<std::uint32_t>(intKey(pc.other_config, "stp-path-cost", static_cast<int>(s.path_cost)));
    return s;
}

}  // namespace vs::vswitchd
