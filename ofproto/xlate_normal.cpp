// Slow-path translation: the NORMAL action (MAC learning switch with 802.1Q VLANs), run on an
// upcall.
#include <cstring>

#include "datapath/coverage.h"
#include "datapath/flow_key.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

using dp::FlowKey;

// Emits the tag changes that take the frame from its current tag (`cur_tci`: 0 = untagged, else
// TCI | kVlanCfi) to what `out` expects for `vlan`, then the output (IEEE 802.1Q section 6.9).
void Ofproto::outputTo(const BridgePort& out, std::uint16_t vlan, std::uint16_t& cur_tci, std::uint16_t pcp,
                       dp::ActionList& actions) {
    std::uint16_t want = out.vlan.sendsTagged(vlan) ? static_cast<std::uint16_t>(pcp | vlan | dp::kVlanCfi) : 0;
    if (want != cur_tci) {
        if (cur_tci) actions.push_back(dp::Action::popVlan());
        if (want) actions.push_back(dp::Action::pushVlan(want));
        cur_tci = want;
    }
    actions.push_back(dp::Action::output(out.dp_port));
}

void Ofproto::xlateNormal(Bridge& br, std::uint32_t in_ofport, const FlowKey& key, FlowKey& mask,
                          dp::ActionList& actions, std::uint16_t& cur, bool learn) {
    mask.vlan_tci = 0xffff;
    auto in_it = br.ports.find(in_ofport);
    if (in_it == br.ports.end()) return;  // resubmitted from a port that does not exist
    const BridgePort& in = in_it->second;
    bool tagged = key.vlan_tci & dp::kVlanCfi;
    auto vlan = in.vlan.inputVlan(key.vlanVid(), tagged);
    if (!vlan) {
        bool access = in.vlan.mode == VlanMode::kAccess;
        actions.push_back(dp::Action::drop(access ? dp::Coverage::drop_vlan_tagged_on_access
                                                  : dp::Coverage::drop_vlan_not_trunked));
        return;
    }
    std::memset(mask.dl_src, 0xff, 6);
    std::memset(mask.dl_dst, 0xff, 6);
    std::int64_t now = clock_();
    if (learn) {
        LearnResult lr = br.macs.learn(key.dlSrc(), *vlan, in_ofport, now);
        if (lr == LearnResult::kNew || lr == LearnResult::kMoved) dp_->invalidate();
    }

    std::uint16_t pcp = tagged ? (key.vlan_tci & dp::kVlanPcpMask) : 0;  // priority is preserved
    MacAddr dst = key.dlDst();
    if (dst.isMulticast()) return flood(br, in_ofport, *vlan, cur, pcp, actions);
    auto out = br.macs.lookup(dst, *vlan, now);
    if (!out) return flood(br, in_ofport, *vlan, cur, pcp, actions);
    if (*out == in_ofport) return;  // destination is behind the ingress port: filter
    auto pit = br.ports.find(*out);
    if (pit == br.ports.end() || !pit->second.vlan.carries(*vlan)) return flood(br, in_ofport, *vlan, cur, pcp, actions);
    outputTo(pit->second, *vlan, cur, pcp, actions);
}

// Floods to every port of the VLAN but the ingress one: first the receivers that want the frame as
// it is now (tagged or not), then the others, so the tag changes at most once or twice.
void Ofproto::flood(const Bridge& br, std::uint32_t in_ofport, std::uint16_t vlan, std::uint16_t& cur_tci,
                    std::uint16_t pcp, dp::ActionList& actions) const {
    bool tagged_first = cur_tci != 0;
    auto tunnel = [](const BridgePort& p) { return std::strcmp(p.port->type(), "vxlan") == 0; };
    auto in = br.ports.find(in_ofport);
    bool from_tunnel = br.split_horizon && in != br.ports.end() && tunnel(in->second);
    for (int pass = 0; pass < 2; ++pass)
        for (const auto& [ofport, bp] : br.ports)
            if (ofport != in_ofport && bp.vlan.carries(vlan) && bp.vlan.sendsTagged(vlan) == (tagged_first == (pass == 0)) &&
                !(from_tunnel && tunnel(bp)))
                outputTo(bp, vlan, cur_tci, pcp, actions);
}

void Ofproto::flowsUsed(std::span<const std::pair<FlowKey, FlowKey>> flows) {
    std::lock_guard lk(mu_);
    std::int64_t now = clock_();
    bool changed = false;
    for (const auto& [key, mask] : flows) {
        if (mask.in_port != ~0u || mask.dl_src[0] != 0xff) continue;
        auto it = by_dp_port_.find(key.in_port);
        if (it == by_dp_port_.end()) continue;
        Bridge& br = *it->second.bridge;
        auto pit = br.ports.find(it->second.ofport);
        if (pit == br.ports.end()) continue;
        auto vlan = pit->second.vlan.inputVlan(key.vlanVid(), key.vlan_tci & dp::kVlanCfi);
        if (!vlan) continue;
        LearnResult lr = br.macs.learn(key.dlSrc(), *vlan, it->second.ofport, now);
        changed |= lr == LearnResult::kNew || lr == LearnResult::kMoved;
    }
    if (changed) dp_->invalidate();
}

}  // namespace vs::ofproto
