// Slow-path translation: the NORMAL action (MAC learning switch), run on an upcall.
#include "datapath/coverage.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

using dp::FlowKey;

bool Ofproto::upcall(const FlowKey& key, const dp::Packet&, FlowKey& mask, dp::ActionList& actions) {
    std::lock_guard lk(mu_);
    auto it = by_dp_port_.find(key.in_port);
    if (it == by_dp_port_.end()) return false;  // the port went away while the packet was queued
    mask.in_port = ~0u;
    xlateNormal(*it->second.bridge, it->second.ofport, key, mask, actions);
    return true;
}

void Ofproto::xlateNormal(Bridge& br, std::uint32_t in_ofport, const FlowKey& key, FlowKey& mask,
                          dp::ActionList& actions) {
    // VLAN: every port is a trunk carrying all VLANs, frames leave as they came (802.1Q modes
    // come with the VLAN issue); learning and lookup are per VLAN.
    mask.vlan_tci = 0xffff;
    std::uint16_t vlan = key.vlanVid();
    std::memset(mask.dl_src, 0xff, 6);
    std::memset(mask.dl_dst, 0xff, 6);
    std::int64_t now = clock_();
    LearnResult lr = br.macs.learn(key.dlSrc(), vlan, in_ofport, now);
    if (lr == LearnResult::kNew || lr == LearnResult::kMoved) dp_->invalidate();

    MacAddr dst = key.dlDst();
    if (dst.isMulticast()) return flood(br, in_ofport, actions);
    auto out = br.macs.lookup(dst, vlan, now);
    if (!out) return flood(br, in_ofport, actions);
    if (*out == in_ofport) return;  // destination is behind the ingress port: filter
    auto pit = br.ports.find(*out);
    if (pit == br.ports.end()) return flood(br, in_ofport, actions);
    actions.push_back(dp::Action::output(pit->second.dp_port));
}

void Ofproto::flood(const Bridge& br, std::uint32_t in_ofport, dp::ActionList& actions) const {
    for (const auto& [ofport, bp] : br.ports)
        if (ofport != in_ofport) actions.push_back(dp::Action::output(bp.dp_port));
}

void Ofproto::flowsUsed(std::span<const std::pair<FlowKey, FlowKey>> flows) {
    std::lock_guard lk(mu_);
    std::int64_t now = clock_();
    bool changed = false;
    for (const auto& [key, mask] : flows) {
        if (mask.in_port != ~0u || mask.dl_src[0] != 0xff) continue;
        auto it = by_dp_port_.find(key.in_port);
        if (it == by_dp_port_.end()) continue;
        LearnResult lr = it->second.bridge->macs.learn(key.dlSrc(), key.vlanVid(), it->second.ofport, now);
        changed |= lr == LearnResult::kNew || lr == LearnResult::kMoved;
    }
    if (changed) dp_->invalidate();
}

}  // namespace vs::ofproto
