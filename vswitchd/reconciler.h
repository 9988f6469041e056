// Reconciliation: makes the running switch (ofproto bridges and datapath ports) match the
// committed config, and records per interface what could not be done (the Interface `error`
// column, as Open vSwitch reports it), without failing the rest.
//
// apply() is idempotent: it diffs the config against what runs, removes what is gone or changed,
// and creates what is missing. Interfaces in error are retried on every apply().
//
// Thread-safety: none; the daemon's control thread owns it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "ofproto/ofproto.h"
#include "vswitchd/config_model.h"
#include "vswitchd/qos.h"
#include "vswitchd/tunnels.h"

namespace vs::vswitchd {

class Reconciler {
public:
    explicit Reconciler(ofproto::Ofproto& of) : of_(of), tunnels_(of.datapath()) {}

    void apply(const Config& cfg);
    // A netdev appeared, changed or went away (link monitor): ports bound to a device that no
    // longer exists, or to an older device of the same name, are reopened; ports in error retry.
    void linkChanged(const Config& cfg, const std::string& name);
    // Link notifications were lost: linkChanged() for every interface we have open, then apply().
    // Returns the names of the interfaces it checked (for carrier re-reads).
    std::vector<std::string> linksLost(const Config& cfg);
    // Why interface `iface` is not running (or, running, why its QoS is not in force: qos.h), or
    // nullopt when it runs (or is unknown).
    std::optional<std::string> error(const std::string& iface) const;
    // The datapath port behind interface `iface`, if it runs.
    std::shared_ptr<dp::Port> port(const std::string& iface) const;

private:
    struct Running {
        std::string bridge;
        PortConfig cfg;
        std::shared_ptr<dp::Port> port;
        std::uint32_t dp_port = 0;
        bool bond = false;  // a bond: its interfaces that run are in `members`
        std::map<std::string, std::shared_ptr<dp::Port>> members;
    };

    void removeStale(const Config& cfg);
    void addMissing(const Config& cfg);
    std::shared_ptr<dp::Port> openInterface(const std::string& name, const InterfaceConfig& ic);
    static ofproto::BridgeSettings settingsOf(const BridgeConfig& bc);
    // Bonds (reconciler_bond.cpp): members are added and removed one by one, so that
    // add-bond-iface / del-bond-iface do not disturb the members that stay.
    static bool isBond(const PortConfig& pc);
    static ofproto::BondSettings bondSettingsOf(const PortConfig& pc);
    void reconcileBond(const std::string& bridge, const std::string& port, const PortConfig& pc,
                       const ofproto::PortVlan& vlan);
    void reopenBondMember(const std::string& netdev);

    ofproto::Ofproto& of_;
    std::set<std::string> bridges_;
    std::map<std::string, Running> ports_;          // by port name
    std::map<std::string, std::string> errors_;     // by interface name
    TunnelSockets tunnels_;
    QosApplier qos_;  // ingress policing and egress QoS (qos.h)
};

}  // namespace vs::vswitchd
