// The reconciler's bonds: a port with several interfaces (or with LACP) becomes an ofproto bond;
// its members are added and removed one by one as the config changes (add-bond-iface,
// del-bond-iface), so the members that stay keep forwarding and LACP keeps its state.
#include "datapath/afpacket_port.h"
#include "datapath/netdev_linux.h"
#include "vswitchd/log.h"
#include "vswitchd/reconciler.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kBond;  // vlog/set module
}

namespace vs::vswitchd {

bool Reconciler::isBond(const PortConfig& pc) {
    return pc.interfaces.size() > 1 || pc.lacp == "active" || pc.lacp == "passive";
}

// The store validated every value (config_schema.cpp), so parsing here cannot fail.
ofproto::BondSettings Reconciler::bondSettingsOf(const PortConfig& pc) {
    ofproto::BondSettings s;
    s.mode = ofproto::bondModeFromString(pc.bond_mode).value_or(ofproto::BondMode::kActiveBackup);
    s.lacp = ofproto::lacpModeFromString(pc.lacp).value_or(ofproto::LacpMode::kOff);
    s.updelay_ms = pc.bond_updelay;
    s.downdelay_ms = pc.bond_downdelay;
    auto get = [&pc](const char* key) {
        auto it = pc.other_config.find(key);
        return it == pc.other_config.end() ? std::string() : it->second;
    };
    s.primary = get("bond-primary");
    if (auto v = get("bond-rebalance-interval"); !v.empty()) s.rebalance_ms = std::stoi(v);
    s.lacp_fast = get("lacp-time") == "fast";
    s.lacp_fallback_ab = get("lacp-fallback-ab") == "true";
    return s;
}

void Reconciler::reconcileBond(const std::string& bridge, const std::string& pname, const PortConfig& pc,
                               const ofproto::PortVlan& vlan) {
    auto settings = bondSettingsOf(pc);
    auto it = ports_.find(pname);
    if (it == ports_.end()) {
        log::info(kLog, "creating bond {} on bridge {} (bond_mode {}, lacp {})", pname, bridge, toString(settings.mode),
                  toString(settings.lacp));
        of_.addBond(bridge, pname, vlan, settings);
        it = ports_.emplace(pname, Running{bridge, {}, nullptr, 0, true, {}}).first;
    } else {
        of_.setPortVlan(bridge, pname, vlan);
        of_.setBondSettings(bridge, pname, settings);
    }
    Running& r = it->second;
    for (auto m = r.members.begin(); m != r.members.end();) {
        auto want = pc.interfaces.find(m->first);
        auto had = r.cfg.interfaces.find(m->first);
        if (want != pc.interfaces.end() && had != r.cfg.interfaces.end() && sameApartFromPolicing(want->second, had->second)) {
            ++m;
            continue;
        }
        log::info(kLog, "removing interface {} from bond {}", m->first, pname);
        of_.removeBondMember(bridge, pname, m->first);
        m = r.members.erase(m);
    }
    for (const auto& [iname, ic] : pc.interfaces) {
        if (r.members.count(iname)) continue;
        if (tunnelProto(ic.type) || ic.type == "patch") {
            errors_[iname] = "a " + ic.type + " interface cannot be a bond member";
            continue;
        }
        auto port = openInterface(iname, ic);
        if (!port) continue;
        try {
            of_.addBondMember(bridge, pname, iname, static_cast<std::uint32_t>(ic.ofport), port);
        } catch (const std::invalid_argument& e) {
            errors_[iname] = e.what();
            continue;
        }
        errors_.erase(iname);
        r.members[iname] = std::move(port);
        log::info(kLog, "added interface {} to bond {} on bridge {} as ofport {}", iname, pname, bridge, ic.ofport);
    }
    r.cfg = pc;
}

// A bond member's netdev was removed or recreated: drop the stale member; apply() reopens it.
void Reconciler::reopenBondMember(const std::string& netdev) {
    for (auto& [pname, r] : ports_) {
        if (!r.bond) continue;
        auto m = r.members.find(netdev);
        if (m == r.members.end()) continue;
        auto* sys = dynamic_cast<dp::AfPacketPort*>(m->second.get());
        if (!sys) continue;
        std::error_code ec;
        if (dp::netdev::ifindex(netdev, ec) == sys->ifindex()) continue;
        log::info(kLog, "netdev {} was removed or recreated: reopening member of bond {}", netdev, pname);
        of_.removeBondMember(r.bridge, pname, netdev);
        r.members.erase(m);
    }
}

}  // namespace vs::vswitchd
