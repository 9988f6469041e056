// Control code of ofproto: bridges, ports, MAC table management.
#include "ofproto/ofproto.h"

#include <stdexcept>

#include "datapath/clock.h"

namespace vs::ofproto {

Ofproto::Ofproto(dp::DatapathConfig cfg, Clock clock)
    : clock_(clock ? std::move(clock) : Clock(dp::monotonicMs)),
      dp_(dp::createDatapath(*this, cfg)) {}

Ofproto::~Ofproto() {
    slow_path_.setWake({});
    dp_->stop();
}

Ofproto::Bridge& Ofproto::bridgeOrThrow(const std::string& name) {
    auto it = bridges_.find(name);
    if (it == bridges_.end()) throw std::invalid_argument("no bridge named " + name);
    return *it->second;
}

const Ofproto::Bridge& Ofproto::bridgeOrThrow(const std::string& name) const {
    auto it = bridges_.find(name);
    if (it == bridges_.end()) throw std::invalid_argument("no bridge named " + name);
    return *it->second;
}

void Ofproto::addBridge(const std::string& name) {
    std::lock_guard lk(mu_);
    if (bridges_.count(name)) return;
    auto br = std::make_unique<Bridge>();
    br->name = name;
    applyFlowMod(*br, defaultNormalRule());
    bridges_.emplace(name, std::move(br));
}

void Ofproto::removeBridge(const std::string& name) {
    {
        std::lock_guard lk(mu_);
        auto it = bridges_.find(name);
        if (it == bridges_.end()) return;
        for (auto& [ofport, bp] : it->second->ports) {
            by_dp_port_.erase(bp.dp_port);
            dp_->removePort(bp.dp_port);
        }
        for (const auto& [id, b] : it->second->bundles)
            if (b.bond) --bond_count_;
        bridges_.erase(it);
        dp_->invalidate();
    }
    dp_->quiesce();  // outside mu_: a poll thread in an upcall waits for it
}

bool Ofproto::hasBridge(const std::string& name) const {
    std::lock_guard lk(mu_);
    return bridges_.count(name) > 0;
}

void Ofproto::setBridgeSettings(const std::string& name, const BridgeSettings& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(name);
    if (br.macs.agingSeconds() == s.mac_aging_s && br.macs.maxEntries() == s.mac_table_size &&
        br.split_horizon == s.tunnel_split_horizon)
        return;
    br.split_horizon = s.tunnel_split_horizon;
    br.macs.setAging(s.mac_aging_s);
    br.macs.setMaxEntries(s.mac_table_size);
    dp_->invalidate();
}

std::uint32_t Ofproto::addPort(const std::string& bridge, const std::string& port_name, std::uint32_t ofport,
                               std::shared_ptr<dp::Port> port, const PortVlan& vlan) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (br.ports.count(ofport)) throw std::invalid_argument("ofport " + std::to_string(ofport) + " in use on " + bridge);
    for (const auto& [n, bp] : br.ports)
        if (bp.name == port_name) throw std::invalid_argument("bridge " + bridge + " already has a port named " + port_name);
    if (bundleNamed(br, port_name)) throw std::invalid_argument("bridge " + bridge + " already has a port named " + port_name);
    Bundle& b = newBundle(br, port_name, vlan);
    b.tunnel = port->tunnelMode();
    std::uint32_t dp_no = dp_->addPort(port);
    br.ports[ofport] = BridgePort{port_name, ofport, dp_no, std::move(port), b.id};
    b.members.push_back(ofport);
    by_dp_port_[dp_no] = DpPortRef{&br, ofport};
    stpAddBundle(br, b);  // ofproto_stp.cpp
    dp_->invalidate();  // flooding decisions now include the new port
    return dp_no;
}

void Ofproto::removePort(const std::string& bridge, const std::string& port_name) {
    {
        std::lock_guard lk(mu_);
        auto bit = bridges_.find(bridge);
        if (bit == bridges_.end()) return;
        Bridge& br = *bit->second;
        Bundle* b = bundleNamed(br, port_name);
        if (!b) return;
        for (std::uint32_t ofport : std::vector<std::uint32_t>(b->members)) removeInterface(br, ofport);
        br.macs.flushPort(b->id);
        if (br.stp) br.stp->removePort(b->id, clock_());
        if (br.rstp) br.rstp->removePort(b->id, clock_());  // ofproto_rstp.cpp
        if (b->bond) --bond_count_;
        br.bundles.erase(b->id);
        dp_->invalidate();
    }
    dp_->quiesce();  // outside mu_: a poll thread in an upcall waits for it
}

void Ofproto::setPortVlan(const std::string& bridge, const std::string& port_name, const PortVlan& vlan) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    Bundle* b = bundleNamed(br, port_name);
    if (!b || b->vlan == vlan) return;
    b->vlan = vlan;
    br.macs.flushPort(b->id);
    dp_->invalidate();
}

std::vector<PortRow> Ofproto::ports(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    std::vector<PortRow> rows;
    for (const auto& [ofport, bp] : bridgeOrThrow(bridge).ports)
        rows.push_back({bp.name, bp.port->type(), ofport, bp.dp_port, bp.port, bp.of_config});
    return rows;
}

void Ofproto::setFloodVteps(const std::string& bridge, const std::string& port_name, std::vector<std::uint32_t> vteps) {
    std::lock_guard lk(mu_);
    Bundle* b = bundleNamed(bridgeOrThrow(bridge), port_name);
    if (!b || b->flood_vteps == vteps) return;
    b->flood_vteps = std::move(vteps);
    dp_->invalidate();
}

std::vector<FdbRow> Ofproto::fdb(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    const Bridge& br = bridgeOrThrow(bridge);
    std::int64_t now = clock_();
    std::vector<FdbRow> rows;
    for (const auto& e : br.macs.entries()) {  // MAC table ports are bundles
        auto bit = br.bundles.find(e.port);
        bool known = bit != br.bundles.end();
        std::uint32_t ofport = known && !bit->second.members.empty() ? bit->second.members.front() : 0;
        FdbRow& r = rows.emplace_back(FdbRow{known ? bit->second.name : "?", ofport, e.vlan, e.mac,
                                             static_cast<int>((now - e.used_ms) / 1000)});
        if (known && bit->second.tunnel.remote_flow) r.vtep = e.remote.vtep;
        if (known && bit->second.tunnel.key_flow) r.vni = e.remote.vni;
    }
    return rows;
}

std::size_t Ofproto::fdbFlush(const std::optional<std::string>& bridge) {
    std::lock_guard lk(mu_);
    std::size_t n = 0;
    if (bridge) {
        n = bridgeOrThrow(*bridge).macs.flush();
    } else {
        for (auto& [name, br] : bridges_) n += br->macs.flush();
    }
    dp_->invalidate();
    return n;
}

void Ofproto::runPeriodic() {
    std::lock_guard lk(mu_);
    std::int64_t now = clock_();
    std::size_t expired = 0;
    for (auto& [name, br] : bridges_) expired += br->macs.expire(now);
    if (expireRules(now) || expired) dp_->invalidate();
}

}  // namespace vs::ofproto
