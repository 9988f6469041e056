// Ofproto's rapid spanning tree: one Rstp machine (ofproto/rstp.h) per bridge that runs RSTP,
// over the same ports as STP (stpParticipates: plain, non-internal ports with rstp-enable not
// false). It shares STP's plumbing in ofproto_stp.cpp: BPDUs reach handleBpdu() through the
// slow path, stpIntercept()/stpForwards() enforce the port states in translation (so in every
// megaflow), runStp() ticks the timers. A state change invalidates the bridge's megaflows; a
// topology change flushes the MACs learned on the ports the machine names (17.19.7 fdbFlush).
#include <stdexcept>

#include "datapath/coverage.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

RstpSettings Ofproto::rstpEffective(const Bridge& br) const {
    RstpSettings s = br.rstp_cfg;
    if (s.address.isZero())
        if (auto it = br.ports.find(kPortLocal); it != br.ports.end()) s.address = it->second.port->mac();
    return s;
}

void Ofproto::rstpAddBundle(Bridge& br, const Bundle& b) {
    if (!br.rstp || b.bond || b.members.size() != 1 || !b.rstp.enable) return;
    auto it = br.ports.find(b.members.front());
    if (it == br.ports.end() || std::string(it->second.port->type()) == "internal") return;
    br.rstp->addPort(b.id, b.rstp, it->second.port->carrier(), clock_());
}

void Ofproto::setRstp(const std::string& bridge, const std::optional<RstpSettings>& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (!s) {
        if (!br.rstp) return;
        br.rstp.reset();
        invalidateBridge(br);
        ++stp_generation_;
        return;
    }
    if (auto problem = s->problem()) throw std::invalid_argument(*problem);
    if (br.stp) throw std::invalid_argument("bridge " + bridge + " runs STP: stp_enable and rstp_enable are exclusive");
    br.rstp_cfg = *s;
    std::int64_t now = clock_();
    if (br.rstp) {
        br.rstp->configure(rstpEffective(br), now);
    } else {
        br.rstp = std::make_unique<Rstp>(rstpEffective(br), now);
        for (const auto& [id, b] : br.bundles) rstpAddBundle(br, b);
        br.rstp_version = br.rstp->version() - 1;  // invalidates in afterRstp
    }
    afterRstp(br);
}

void Ofproto::setPortRstp(const std::string& bridge, const std::string& port_name, const RstpPortSettings& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    Bundle* b = bundleNamed(br, port_name);
    if (!b || b->rstp == s) return;
    b->rstp = s;
    if (!br.rstp) return;
    std::int64_t now = clock_();
    bool in = br.rstp->hasPort(b->id);
    if (in && !s.enable) br.rstp->removePort(b->id, now);
    else if (!in) rstpAddBundle(br, *b);
    else br.rstp->setPortSettings(b->id, s, now);
    afterRstp(br);
}

// BPDUs to send, megaflows to drop after a state change, MACs to forget after a topology change.
void Ofproto::afterRstp(Bridge& br) {
    if (!br.rstp) return;
    for (const auto& [id, bpdu] : br.rstp->transmit()) {
        auto bit = br.bundles.find(id);
        if (bit == br.bundles.end() || bit->second.members.empty()) continue;
        const BridgePort& bp = br.ports.at(bit->second.members.front());
        dp_->execute(buildRstpBpdu(bp.port->mac(), bpdu), 0, {dp::Action::output(bp.dp_port)});
        dp::coverageAdd(dp::Coverage::stp_tx);
    }
    bool changed = br.rstp->version() != br.rstp_version;
    br.rstp_version = br.rstp->version();
    for (std::uint32_t id : br.rstp->takeFdbFlush()) changed |= br.macs.flushPort(id) > 0;
    if (changed) {
        invalidateBridge(br);
        ++stp_generation_;
    }
}

void Ofproto::rstpReceive(Bridge& br, std::uint32_t id, const std::vector<std::uint8_t>& frame) {
    auto bpdu = parseRstpBpdu(frame);
    if (!bpdu) {
        dp::coverageAdd(dp::Coverage::drop_stp_malformed);
        br.rstp->receiveError(id);
        return;
    }
    dp::coverageAdd(dp::Coverage::stp_rx);
    br.rstp->receive(id, *bpdu, clock_());
    afterRstp(br);
}

std::vector<RstpBridgeStatus> Ofproto::rstpStatus(const std::optional<std::string>& bridge) const {
    std::lock_guard lk(mu_);
    std::vector<RstpBridgeStatus> out;
    std::int64_t now = clock_();
    for (const auto& [name, br] : bridges_) {
        if (bridge && *bridge != name) continue;
        if (!br->rstp) {
            if (bridge) throw std::invalid_argument("bridge " + name + " does not run RSTP (rstp_enable=false)");
            continue;
        }
        RstpBridgeStatus& s = out.emplace_back();
        s.bridge = name;
        s.rstp = br->rstp->status(now);
        for (const auto& ps : s.rstp.ports)
            if (auto b = br->bundles.find(ps.id); b != br->bundles.end()) s.port_names[ps.id] = b->second.name;
    }
    if (bridge && out.empty()) throw std::invalid_argument("no bridge named " + *bridge);
    return out;
}

}  // namespace vs::ofproto
