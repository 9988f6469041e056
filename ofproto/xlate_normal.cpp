// Slow-path translation: the NORMAL action (MAC learning switch with 802.1Q VLANs), run on an
// upcall. Ports are bundles: a bond is one port for learning, VLANs and flooding; its members'
// admissibility and output selection come from ofproto/bond.h.
#include <cstring>

#include "datapath/coverage.h"
#include "datapath/flow_key.h"
#include "ofproto/lacp.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

using dp::FlowKey;

struct Ofproto::NormalOut {
    const FlowKey& key;
    FlowKey& mask;
    dp::ActionList& actions;
    std::uint16_t vlan;
    std::uint16_t& cur_tci;  // the frame's tag in the datapath now (0 = untagged)
    std::uint16_t pcp;
    dp::StatsSinks* sinks;
};

// Output to port `out`: a bond picks one member (bond.h). Emits the tag changes that take the
// frame from its current tag (0 = untagged, else TCI | kVlanCfi) to what `out` expects for the
// VLAN, then the output (IEEE 802.1Q section 6.9). Returns false when no member may send.
bool Ofproto::outputTo(const Bundle& out, const Bridge& br, NormalOut& o) {
    std::optional<std::uint32_t> dp_port;
    if (out.bond) dp_port = out.bond->chooseOutput(o.key, o.vlan, o.mask, o.sinks);
    else if (!out.members.empty()) dp_port = br.ports.at(out.members.front()).dp_port;
    if (!dp_port) return false;
    std::uint16_t want = out.vlan.sendsTagged(o.vlan) ? static_cast<std::uint16_t>(o.pcp | o.vlan | dp::kVlanCfi) : 0;
    if (want != o.cur_tci) {
        if (o.cur_tci) o.actions.push_back(dp::Action::popVlan());
        if (want) o.actions.push_back(dp::Action::pushVlan(want));
        o.cur_tci = want;
    }
    o.actions.push_back(dp::Action::output(*dp_port));
    return true;
}

void Ofproto::xlateNormal(Bridge& br, std::uint32_t in_ofport, const FlowKey& key, FlowKey& mask,
                          dp::ActionList& actions, std::uint16_t& cur, bool learn, dp::StatsSinks* sinks) {
    mask.vlan_tci = 0xffff;
    auto in_it = br.ports.find(in_ofport);
    if (in_it == br.ports.end()) return;  // resubmitted from a port that does not exist
    auto in_b = br.bundles.find(in_it->second.bundle);
    if (in_b == br.bundles.end()) return;
    const Bundle& in = in_b->second;
    bool tagged = key.vlan_tci & dp::kVlanCfi;
    auto vlan = in.vlan.inputVlan(key.vlanVid(), tagged);
    if (!vlan) {
        bool access = in.vlan.mode == VlanMode::kAccess;
        actions.push_back(dp::Action::drop(access ? dp::Coverage::drop_vlan_tagged_on_access
                                                  : dp::Coverage::drop_vlan_not_trunked));
        return;
    }
    std::memset(mask.dl_dst, 0xff, 6);
    MacAddr dst = key.dlDst();
    if (dst == kSlowProtocolsMac) {  // IEEE 802.1Q section 8.6.3: never relayed by a bridge
        actions.push_back(dp::Action::drop(dp::Coverage::drop_slow_protocols));
        return;
    }
    std::memset(mask.dl_src, 0xff, 6);
    std::int64_t now = clock_();
    if (in.bond) {
        dp::Coverage why;
        if (!bondAdmits(br, in, in_ofport, key, *vlan, &mask, now, why)) {
            actions.push_back(dp::Action::drop(why));
            return;
        }
    }
    if (learn) {
        LearnResult lr = br.macs.learn(key.dlSrc(), *vlan, in.id, now);
        if (lr == LearnResult::kNew || lr == LearnResult::kMoved) dp_->invalidate();
    }

    std::uint16_t pcp = tagged ? (key.vlan_tci & dp::kVlanPcpMask) : 0;  // priority is preserved
    NormalOut o{key, mask, actions, *vlan, cur, pcp, sinks};
    if (dst.isMulticast()) return flood(br, in, o);
    auto out = br.macs.lookup(dst, *vlan, now);
    if (!out) return flood(br, in, o);
    if (*out == in.id) return;  // destination is behind the ingress port: filter
    auto oit = br.bundles.find(*out);
    if (oit == br.bundles.end() || !oit->second.vlan.carries(*vlan)) return flood(br, in, o);
    if (!outputTo(oit->second, br, o)) actions.push_back(dp::Action::drop(dp::Coverage::drop_bond_no_member));
}

// Floods to every port of the VLAN but the ingress one (a bond: one of its members), in ofport
// order: first the receivers that want the frame as it is now (tagged or not), then the others,
// so the tag changes at most once or twice.
void Ofproto::flood(const Bridge& br, const Bundle& in, NormalOut& o) const {
    bool tagged_first = o.cur_tci != 0;
    auto tunnel = [&br](const Bundle& b) {
        return !b.bond && !b.members.empty() && std::strcmp(br.ports.at(b.members.front()).port->type(), "vxlan") == 0;
    };
    bool from_tunnel = br.split_horizon && tunnel(in);
    for (int pass = 0; pass < 2; ++pass)
        for (const auto& [ofport, bp] : br.ports) {
            const Bundle& b = br.bundles.at(bp.bundle);
            if (b.id == in.id || b.members.front() != ofport) continue;  // a bond once, at its first member
            if (!b.vlan.carries(o.vlan) || b.vlan.sendsTagged(o.vlan) != (tagged_first == (pass == 0))) continue;
            if (from_tunnel && tunnel(b)) continue;
            outputTo(b, br, o);
        }
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
        auto bit = br.bundles.find(pit->second.bundle);
        if (bit == br.bundles.end()) continue;
        const Bundle& in = bit->second;
        auto vlan = in.vlan.inputVlan(key.vlanVid(), key.vlan_tci & dp::kVlanCfi);
        if (!vlan) continue;
        dp::Coverage why;
        if (in.bond && !bondAdmits(br, in, it->second.ofport, key, *vlan, nullptr, now, why)) continue;  // a drop
        LearnResult lr = br.macs.learn(key.dlSrc(), *vlan, in.id, now);
        changed |= lr == LearnResult::kNew || lr == LearnResult::kMoved;
    }
    if (changed) dp_->invalidate();
}

}  // namespace vs::ofproto
