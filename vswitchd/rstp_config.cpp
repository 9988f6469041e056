#include "vswitchd/rstp_config.h"

#include <cstdio>
#include <fstream>

namespace vs::vswitchd {
namespace {

long longKey(const StringMap& m, const char* key, long dflt) {
    auto it = m.find(key);
    if (it == m.end()) return dflt;
    try {
        return std::stol(it->second);
    } catch (...) {
        return dflt;  // the key's own rule refused it already
    }
}

bool boolKey(const StringMap& m, const char* key, bool dflt) {
    auto it = m.find(key);
    return it == m.end() ? dflt : it->second == "true";
}

ofproto::RstpSettings settingsOf(const BridgeConfig& bc) {
    const StringMap& oc = bc.other_config;
    ofproto::RstpSettings s;
    s.priority = static_cast<std::uint16_t>(longKey(oc, "rstp-priority", s.priority) & 0xf000);
    s.ageing_time_s = static_cast<int>(longKey(oc, "rstp-ageing-time", s.ageing_time_s));
    s.force_protocol_version = static_cast<int>(longKey(oc, "rstp-force-protocol-version", s.force_protocol_version));
    s.max_age_s = static_cast<int>(longKey(oc, "rstp-max-age", s.max_age_s));
    s.forward_delay_s = static_cast<int>(longKey(oc, "rstp-forward-delay", s.forward_delay_s));
    s.transmit_hold_count = static_cast<int>(longKey(oc, "rstp-transmit-hold-count", s.transmit_hold_count));
    if (auto it = oc.find("rstp-address"); it != oc.end()) dp::MacAddr::parse(it->second, s.address);
    return s;
}

long linkSpeedMbps(const std::string& netdev) {
    std::ifstream f("/sys/class/net/" + netdev + "/speed");
    long mbps = 0;
    if (!(f >> mbps) || mbps < 0) return 0;
    return mbps;
}

std::string hex4(std::uint16_t v) {
    char b[8];
    std::snprintf(b, sizeof b, "%04x", v);
    return b;
}

}  // namespace

std::optional<std::string> rstpProblem(const std::string& bn, const BridgeConfig& bc) {
    if (!bc.rstp_enable) return std::nullopt;
    if (auto p = settingsOf(bc).problem())
        return "Bridge " + bn + " other_config: " + *p + "; nothing changed (set the rstp-* timers in one command)";
    std::map<long, std::string> nums;
    for (const auto& [pn, pc] : bc.ports) {
        long n = longKey(pc.other_config, "rstp-port-num", 0);
        if (!n) continue;
        auto [it, fresh] = nums.emplace(n, pn);
        if (!fresh)
            return "Port " + pn + " other_config:rstp-port-num=" + std::to_string(n) + " is also port " + it->second +
                   "'s on bridge " + bn;
    }
    return std::nullopt;
}

std::optional<ofproto::RstpSettings> rstpSettingsOf(const BridgeConfig& bc) {
    if (!bc.rstp_enable) return std::nullopt;
    return settingsOf(bc);
}

std::uint32_t rstpPathCostForSpeed(long mbps) {
    if (mbps <= 0) return 200000;
    return static_cast<std::uint32_t>(std::max(1L, 20000000L / mbps));
}

ofproto::RstpPortSettings rstpPortSettingsOf(const PortConfig& pc) {
    const StringMap& oc = pc.other_config;
    ofproto::RstpPortSettings s;
    if (pc.interfaces.size() == 1 && pc.interfaces.begin()->second.type == "system")
        s.path_cost = rstpPathCostForSpeed(linkSpeedMbps(pc.interfaces.begin()->first));
    else
        s.path_cost = rstpPathCostForSpeed(0);
    s.enable = boolKey(oc, "rstp-enable", true);
    s.port_num = static_cast<std::uint16_t>(longKey(oc, "rstp-port-num", 0));
    s.priority = static_cast<std::uint8_t>(longKey(oc, "rstp-port-priority", s.priority) & 0xf0);
    s.path_cost = static_cast<std::uint32_t>(longKey(oc, "rstp-path-cost", static_cast<long>(s.path_cost)));
    s.admin_edge = boolKey(oc, "rstp-port-admin-edge", false);
    s.auto_edge = boolKey(oc, "rstp-port-auto-edge", true);
    s.admin_p2p = static_cast<ofproto::RstpP2p>(longKey(oc, "rstp-admin-p2p-mac", 1));
    s.admin_port_state = boolKey(oc, "rstp-admin-port-state", true);
    s.mcheck = boolKey(oc, "rstp-port-mcheck", false);
    return s;
}

std::string rstpBridgeIdText(std::uint64_t id) {
    char b[32];
    std::snprintf(b, sizeof b, "%x.%03x.%012llx", static_cast<unsigned>(id >> 60), static_cast<unsigned>((id >> 48) & 0xfff),
                  static_cast<unsigned long long>(id & 0xffffffffffffULL));
    return b;
}

StringMap rstpBridgeStatus(const ofproto::RstpBridgeStatus& s) {
    const ofproto::RstpStatus& r = s.rstp;
    return {{"rstp_bridge_id", rstpBridgeIdText(r.bridge_id)},
            {"rstp_root_id", rstpBridgeIdText(r.root_id)},
            {"rstp_root_path_cost", std::to_string(r.root_path_cost)},
            {"rstp_designated_id", rstpBridgeIdText(r.designated_id)},
            {"rstp_designated_port_id", hex4(r.designated_port_id)},
            {"rstp_bridge_port_id", hex4(r.root_port_id)}};
}

std::map<std::string, StringMap> rstpPortStatus(const ofproto::RstpBridgeStatus& s) {
    std::map<std::string, StringMap> out;
    for (const auto& p : s.rstp.ports) {
        auto name = s.port_names.find(p.id);
        if (name == s.port_names.end()) continue;
        out[name->second] = {{"rstp_port_id", hex4(p.port_id)},
                             {"rstp_port_role", ofproto::toString(p.role)},
                             {"rstp_port_state", ofproto::toString(p.state)},
                             {"rstp_designated_bridge_id", rstpBridgeIdText(p.designated_bridge)},
                             {"rstp_designated_port_id", hex4(p.designated_port)},
                             {"rstp_designated_path_cost", std::to_string(p.designated_cost)}};
    }
    return out;
}

std::map<std::string, std::map<std::string, std::int64_t>> rstpPortStatistics(const ofproto::RstpBridgeStatus& s) {
    std::map<std::string, std::map<std::string, std::int64_t>> out;
    for (const auto& p : s.rstp.ports) {
        auto name = s.port_names.find(p.id);
        if (name == s.port_names.end()) continue;
        out[name->second] = {{"rstp_tx_count", static_cast<std::int64_t>(p.tx)},
                             {"rstp_rx_count", static_cast<std::int64_t>(p.rx)},
                             {"rstp_error_count", static_cast<std::int64_t>(p.errors)},
                             {"rstp_uptime", p.uptime_s}};
    }
    return out;
}

}  // namespace vs::vswitchd
