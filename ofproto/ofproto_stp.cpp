// Ofproto's spanning tree: one Stp machine (ofproto/stp.h) per bridge that runs STP, its ports
// being the bridge's plain, non-internal ports (bundles, by bundle id). BPDUs reach it through
// the slow path as LACPDUs do; what it decides is enforced where frames are translated:
// stpIntercept() in the upcall (BPDUs to the slow path, frames from a port that is not
// Forwarding dropped, or only learned from in Learning), stpForwards() wherever NORMAL or an
// OpenFlow output sends a frame out. A state change invalidates the bridge's megaflows; a
// topology change flushes its MAC table.
#include <stdexcept>

#include "datapath/coverage.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

// Open vSwitch's rule (bridge.c port_configure_stp): bonds and internal ports are left out and
// always forward; a port with other_config:stp-enable=false too.
bool Ofproto::stpParticipates(const Bridge& br, const Bundle& b) const {
    if (b.bond || b.members.size() != 1 || !b.stp.enable) return false;
    auto it = br.ports.find(b.members.front());
    return it != br.ports.end() && std::string(it->second.port->type()) != "internal";
}

bool Ofproto::stpForwards(const Bridge& br, const Bundle& b) {
    return (!br.stp || br.stp->forwards(b.id)) && (!br.rstp || br.rstp->forwards(b.id));  // RSTP: ofproto_rstp.cpp
}

StpSettings Ofproto::stpEffective(const Bridge& br) const {
    StpSettings s = br.stp_cfg;
    if (s.system.isZero())
        if (auto it = br.ports.find(kPortLocal); it != br.ports.end()) s.system = it->second.port->mac();
    return s;
}

void Ofproto::stpAddBundle(Bridge& br, const Bundle& b) {
    rstpAddBundle(br, b);  // ofproto_rstp.cpp
    if (!br.stp || !stpParticipates(br, b)) return;
    br.stp->addPort(b.id, b.stp, br.ports.at(b.members.front()).port->carrier(), clock_());
}

void Ofproto::setStp(const std::string& bridge, const std::optional<StpSettings>& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (!s) {
        if (!br.stp) return;
        br.stp.reset();
        invalidateBridge(br);
        ++stp_generation_;
        return;
    }
    if (auto problem = s->problem()) throw std::invalid_argument(*problem);
    if (br.rstp) throw std::invalid_argument("bridge " + bridge + " runs RSTP: stp_enable and rstp_enable are exclusive");
    br.stp_cfg = *s;
    std::int64_t now = clock_();
    if (br.stp) {
        br.stp->configure(stpEffective(br), now);
    } else {
        br.stp = std::make_unique<Stp>(stpEffective(br), now);
        for (const auto& [id, b] : br.bundles) stpAddBundle(br, b);
        br.stp_version = br.stp->version() - 1;  // invalidates in afterStp
    }
    afterStp(br);
}

void Ofproto::setPortStp(const std::string& bridge, const std::string& port_name, const StpPortSettings& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    Bundle* b = bundleNamed(br, port_name);
    if (!b || b->stp == s) return;
    b->stp = s;
    if (!br.stp) return;
    std::int64_t now = clock_();
    bool in = br.stp->hasPort(b->id), want = stpParticipates(br, *b);
    if (in && !want) br.stp->removePort(b->id, now);
    else if (!in && want) stpAddBundle(br, *b);
    else if (in) br.stp->setPortSettings(b->id, s, now);
    afterStp(br);
}

// BPDUs to send, megaflows to drop after a state change, the MAC table after a topology change.
void Ofproto::afterStp(Bridge& br) {
    if (!br.stp) return;
    for (const auto& [id, bpdu] : br.stp->transmit()) {
        auto bit = br.bundles.find(id);
        if (bit == br.bundles.end() || bit->second.members.empty()) continue;
        const BridgePort& bp = br.ports.at(bit->second.members.front());
        dp_->execute(buildStpBpdu(bp.port->mac(), bpdu), 0, {dp::Action::output(bp.dp_port)});
        dp::coverageAdd(dp::Coverage::stp_tx);
    }
    bool changed = br.stp->version() != br.stp_version;
    br.stp_version = br.stp->version();
    if (br.stp->takeFdbFlush()) {
        br.macs.flush();
        changed = true;
    }
    if (changed) {
        invalidateBridge(br);
        ++stp_generation_;
    }
}

std::uint64_t Ofproto::stpGeneration() const {
    std::lock_guard lk(mu_);
    return stp_generation_;
}

void Ofproto::runStp() {
    std::lock_guard lk(mu_);
    std::int64_t now = clock_();
    for (auto& [name, br] : bridges_) {
        if (br->rstp) {  // ofproto_rstp.cpp
            br->rstp->configure(rstpEffective(*br), now);
            br->rstp->run(now);
            afterRstp(*br);
        }
        if (!br->stp) continue;
        br->stp->configure(stpEffective(*br), now);  // the local port's MAC may have arrived
        br->stp->run(now);
        afterStp(*br);
    }
}

// In the upcall, before the flow tables: BPDUs (IEEE 802.1D-1998 7.12.3: the Bridge Group
// Address is never relayed) go to the slow path; a frame from a port that does not learn is
// dropped; one from a Learning port is translated for learning only (`learn_only`).
bool Ofproto::stpIntercept(const Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key, dp::FlowKey& mask,
                           dp::ActionList& actions, bool& learn_only) const {
    learn_only = false;
    if (!br.stp && !br.rstp) return false;
    std::fill(std::begin(mask.dl_dst), std::end(mask.dl_dst), 0xff);
    if (key.dlDst() == kStpMac) {
        actions.push_back(dp::Action::userspace(slowPathUserdata(SlowPathKind::kStp)));
        return true;
    }
    auto pit = br.ports.find(in_ofport);
    if (pit == br.ports.end()) return false;
    std::uint32_t id = pit->second.bundle;
    bool learns = br.stp ? br.stp->learns(id) : br.rstp->learns(id);  // RSTP: ofproto_rstp.cpp
    if (!learns) {
        actions.push_back(dp::Action::drop(dp::Coverage::drop_stp_blocked));
        return true;
    }
    learn_only = !(br.stp ? br.stp->forwards(id) : br.rstp->forwards(id));
    return false;
}

void Ofproto::handleBpdu(const SlowPathPacket& p) {
    std::lock_guard lk(mu_);
    auto it = by_dp_port_.find(p.in_port);
    if (it == by_dp_port_.end()) return;
    Bridge& br = *it->second.bridge;
    auto pit = br.ports.find(it->second.ofport);
    if (pit != br.ports.end() && br.rstp && br.rstp->hasPort(pit->second.bundle))
        return rstpReceive(br, pit->second.bundle, p.frame);  // ofproto_rstp.cpp
    if (!br.stp || pit == br.ports.end() || !br.stp->hasPort(pit->second.bundle)) return;
    std::uint32_t id = pit->second.bundle;
    auto bpdu = parseStpBpdu(p.frame);
    if (!bpdu) {
        dp::coverageAdd(dp::Coverage::drop_stp_malformed);
        br.stp->receiveError(id);
        return;
    }
    dp::coverageAdd(dp::Coverage::stp_rx);
    br.stp->receive(id, *bpdu, clock_());
    afterStp(br);
}

std::vector<StpBridgeStatus> Ofproto::stpStatus(const std::optional<std::string>& bridge) const {
    std::lock_guard lk(mu_);
    std::vector<StpBridgeStatus> out;
    std::int64_t now = clock_();
    for (const auto& [name, br] : bridges_) {
        if (bridge && *bridge != name) continue;
        if (!br->stp) {
            if (bridge) throw std::invalid_argument("bridge " + name + " does not run STP (stp_enable=false)");
            continue;
        }
        StpBridgeStatus& s = out.emplace_back();
        s.bridge = name;
        s.stp = br->stp->status(now);
        for (const auto& ps : s.stp.ports)
            if (auto b = br->bundles.find(ps.id); b != br->bundles.end()) s.port_names[ps.id] = b->second.name;
    }
    if (bridge && out.empty()) throw std::invalid_argument("no bridge named " + *bridge);
    return out;
}

void Ofproto::stpTcn(const std::optional<std::string>& bridge) {
    std::lock_guard lk(mu_);
    bool found = false;
    for (auto& [name, br] : bridges_) {
        if ((bridge && *bridge != name) || !br->stp) continue;
        found = true;
        br->stp->topologyChange(clock_());
        afterStp(*br);
    }
    if (bridge && !found) throw std::invalid_argument("no bridge named " + *bridge + " running STP");
}

}  // namespace vs::ofproto
