#include "vswitchd/reconciler.h"

#include "datapath/afpacket_port.h"
#include "datapath/dummy_port.h"
#include "datapath/netdev_linux.h"
#include "datapath/tap_port.h"
#include "datapath/tunnel.h"
#include "vswitchd/tunnels.h"
#include "vswitchd/log.h"
#include "vswitchd/rstp_config.h"
#include "vswitchd/stp_config.h"
#include "vswitchd/mirror_config.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kBridge;  // vlog/set module
}

namespace vs::vswitchd {
namespace {

// True when some bridge's port lists `iface` as one of its interfaces.
bool isConfigured(const Config& cfg, const std::string& iface) {
    for (const auto& [bridge, bc] : cfg.bridges)
        for (const auto& [name, pc] : bc.ports)
            if (pc.interfaces.count(iface)) return true;
    return false;
}

}  // namespace

std::optional<std::string> Reconciler::error(const std::string& iface) const {
    auto it = errors_.find(iface);
    if (it == errors_.end()) return qos_.error(iface);  // running, but its QoS is not in force
    return it->second;
}

std::shared_ptr<dp::Port> Reconciler::port(const std::string& iface) const {
    for (const auto& [name, r] : ports_) {
        if (!r.cfg.interfaces.count(iface)) continue;
        if (!r.bond) return r.port;
        auto m = r.members.find(iface);
        return m == r.members.end() ? nullptr : m->second;
    }
    return nullptr;
}

ofproto::BridgeSettings Reconciler::settingsOf(const BridgeConfig& bc) {
    ofproto::BridgeSettings s;
    auto num = [&](const char* key, long dflt) {
        auto it = bc.other_config.find(key);
        if (it == bc.other_config.end()) return dflt;
        try { return std::stol(it->second); } catch (...) { return dflt; }  // the store validated it
    };
    s.mac_aging_s = static_cast<int>(num("mac-aging-time", ofproto::MacTable::kDefaultAgingS));
    s.mac_table_size = static_cast<std::size_t>(num("mac-table-size", ofproto::MacTable::kDefaultMaxEntries));
    auto sh = bc.other_config.find("tunnel-split-horizon");
    s.tunnel_split_horizon = sh == bc.other_config.end() || sh->second != "false";
    return s;
}

void Reconciler::apply(const Config& cfg) {
    removeStale(cfg);
    addMissing(cfg);
    qos_.apply(cfg, [this](const std::string& iface) { return port(iface); });
    tunnels_.collect();
    for (const auto& [name, bc] : cfg.bridges) {  // port mirrors (mirror_config.h), after the ports
        try {
            of_.setMirrors(name, mirrorSpecs(bc));
        } catch (const std::invalid_argument& e) {  // the store validated them: not expected
            log::warn(kLog, "bridge {}: mirrors not applied: {}", name, e.what());
        }
    }
    // other_config:flow-limit bounds the datapath's megaflows; the datapath is shared by every
    // bridge, so the smallest limit set on any bridge applies.
    std::optional<std::size_t> limit;
    for (const auto& [name, bc] : cfg.bridges)
        if (auto it = bc.other_config.find("flow-limit"); it != bc.other_config.end())
            limit = std::min<std::size_t>(limit.value_or(SIZE_MAX), std::stoul(it->second));
    of_.datapath().setFlowLimit(limit.value_or(dp::DatapathConfig{}.flow_limit));
}

void Reconciler::linkChanged(const Config& cfg, const std::string& name) {
    reopenBondMember(name);
    for (auto it = ports_.begin(); it != ports_.end(); ++it) {
        auto* sys = dynamic_cast<dp::AfPacketPort*>(it->second.port.get());
        if (!sys || sys->name() != name) continue;
        std::error_code ec;
        if (dp::netdev::ifindex(name, ec) == sys->ifindex()) return;  // same device: nothing to do
        log::info(kLog, "netdev {} was removed or recreated: reopening port {}", name, it->first);
        of_.removePort(it->second.bridge, it->first);
        ports_.erase(it);
        break;
    }
    // Reconcile only for an interface we failed to open or that is configured but not open yet:
    // a host with many links sees events for all of them, and a full pass per event made adding
    // N ports cost O(N^2).
    if (errors_.count(name) || (!port(name) && isConfigured(cfg, name))) apply(cfg);
}

std::vector<std::string> Reconciler::linksLost(const Config& cfg) {
    std::vector<std::string> names;
    for (const auto& [pname, r] : ports_) {
        if (!r.bond)
            for (const auto& [iname, ic] : r.cfg.interfaces) names.push_back(iname);
        for (const auto& [member, port] : r.members) names.push_back(member);
    }
    for (const auto& n : names) linkChanged(cfg, n);
    apply(cfg);
    return names;
}

void Reconciler::removeStale(const Config& cfg) {
    for (auto it = ports_.begin(); it != ports_.end();) {
        const auto& [name, r] = *it;
        auto b = cfg.bridges.find(r.bridge);
        const PortConfig* pc = nullptr;
        if (b != cfg.bridges.end()) {
            auto p = b->second.ports.find(name);
            if (p != b->second.ports.end()) pc = &p->second;
        }
        // A bond stays a bond while its members change (reconcileBond); other changes recreate.
        bool keep = pc && (isBond(*pc) ? r.bond : !r.bond && sameInterfacesApartFromPolicing(pc->interfaces, r.cfg.interfaces));
        if (keep) { ++it; continue; }
        log::info(kLog, "removing port {} from bridge {}", name, r.bridge);
        of_.removePort(r.bridge, name);
        tunnels_.detach(r.dp_port);
        it = ports_.erase(it);
    }
    for (auto it = bridges_.begin(); it != bridges_.end();) {
        if (cfg.bridges.count(*it)) { ++it; continue; }
        log::info(kLog, "removing bridge {}", *it);
        of_.removeBridge(*it);
        it = bridges_.erase(it);
    }
    // Forget errors of interfaces that are no longer configured.
    std::set<std::string> ifaces;
    for (const auto& [bn, bc] : cfg.bridges)
        for (const auto& [pn, pc] : bc.ports)
            for (const auto& [in, ic] : pc.interfaces) ifaces.insert(in);
    std::erase_if(errors_, [&](const auto& e) { return !ifaces.count(e.first); });
}

void Reconciler::addMissing(const Config& cfg) {
    for (const auto& [bname, bc] : cfg.bridges) {
        if (bridges_.insert(bname).second) {
            log::info(kLog, "creating bridge {}", bname);
            of_.addBridge(bname);
        }
        of_.setBridgeSettings(bname, settingsOf(bc));
        if (!bc.rstp_enable) of_.setRstp(bname, std::nullopt);  // rstp_config.h: off before STP may start
        of_.setStp(bname, stpSettingsOf(bc));  // stp_config.h
        if (bc.rstp_enable) of_.setRstp(bname, rstpSettingsOf(bc));
        for (const auto& [pname, pc] : bc.ports) {
            auto run = ports_.find(pname);
            // Unchanged ports cost nothing: a transaction on a bridge with N ports stays O(N log N).
            if (run != ports_.end() && !run->second.bond && run->second.cfg == pc) continue;
            auto vlan = ofproto::PortVlan::fromColumns(pc.tag, pc.trunks, pc.vlan_mode);
            if (isBond(pc)) {
                reconcileBond(bname, pname, pc, vlan);
                continue;
            }
            if (run != ports_.end()) {
                of_.setPortVlan(bname, pname, vlan);
                of_.setPortStp(bname, pname, stpPortSettingsOf(pc));
                of_.setPortRstp(bname, pname, rstpPortSettingsOf(pc));
                run->second.cfg = pc;
                continue;
            }
            if (pc.interfaces.size() != 1) continue;  // the store refuses ports without interfaces
            const auto& [iname, ic] = *pc.interfaces.begin();
            auto port = openInterface(iname, ic);
            if (!port) continue;
            std::uint32_t dp_no = of_.addPort(bname, pname, static_cast<std::uint32_t>(ic.ofport), port, vlan);
            if (auto* vx = dynamic_cast<dp::TunnelPort*>(port.get())) {
                if (auto err = tunnels_.attach(vx->config(), dp_no, port)) {
                    of_.removePort(bname, pname);
                    log::warn(kLog, "{}: {}", iname, *err);
                    errors_[iname] = *err;
                    continue;
                }
                of_.setFloodVteps(bname, pname, parseFloodRemotes(ic.options));
            }
            of_.setPortStp(bname, pname, stpPortSettingsOf(pc));
            of_.setPortRstp(bname, pname, rstpPortSettingsOf(pc));
            errors_.erase(iname);
            ports_[pname] = Running{bname, pc, std::move(port), dp_no};
            log::info(kLog, "added port {} to bridge {} as ofport {}", pname, bname, ic.ofport);
        }
    }
}

std::shared_ptr<dp::Port> Reconciler::openInterface(const std::string& name, const InterfaceConfig& ic) {
    const std::string type = ic.type.empty() ? "system" : ic.type;
    if (type == "dummy") return std::make_shared<dp::DummyPort>(name);
    std::error_code ec;
    std::shared_ptr<dp::Port> p;
    std::string what;
    if (type == "system") {
        p = dp::AfPacketPort::open(name, ec);
        what = "could not open network device " + name;
    } else if (tunnelProto(type)) {
        dp::TunnelConfig tc;
        if (auto err = parseTunnelOptions(type, ic.options, tc)) {
            errors_[name] = *err;
            return nullptr;
        }
        p = dp::TunnelPort::create(name, tc, ec);
        what = "could not create " + type + " interface " + name;
    } else if (type == "internal") {
        p = dp::TapPort::create(name, ec);
        what = "could not create internal device " + name;
    } else {
        errors_[name] = "interface type " + type + " is not supported yet";
        return nullptr;
    }
    if (!p) {
        std::string msg = what + " (" + ec.message() + ")";
        if (errors_[name] != msg) log::warn(kLog, "{}", msg);
        errors_[name] = msg;
        return nullptr;
    }
    return p;
}

}  // namespace vs::vswitchd
