// Slow-path translation: the NORMAL action (MAC learning switch with 802.1Q VLANs), run on an
// upcall. Ports are bundles: a bond is one port for learning, VLANs and flooding; its members'
// admissibility and output selection come from ofproto/bond.h. Behind a flow-based tunnel port
// (remote_ip=flow / key=flow) MACs are learned with their remote VTEP and VNI; unicasts to them
// set the tunnel destination, floods are replicated to every remote VTEP known on the port
// (docs/tunnels.md, "Flow-based tunnels and NORMAL").
#include <algorithm>
#include <cstring>
#include <set>

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
    std::int64_t now;
    MirrorMask* mirrored = nullptr;  // null: no port mirroring
};

// Output to port `out`: a bond picks one member (bond.h). Emits the tag changes that take the
// frame from its current tag (0 = untagged, else TCI | kVlanCfi) to what `out` expects for the
// VLAN, then the output (IEEE 802.1Q section 6.9). Returns false when no member may send.
bool Ofproto::outputTo(const Bundle& out, const Bridge& br, NormalOut& o) {
    if (!stpForwards(br, out)) return true;  // STP keeps the port from forwarding: nothing to send
    if (bundleConfigHas(br, out, kPortConfigNoFwd)) return true;  // port_mod no_forward (port_config.h)
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
    if (o.mirrored && !br.mirrors.empty()) {  // out's select_dst mirrors (mirror_xlate.cpp)
        MirrorOut m{o.key, o.mask, o.actions, o.cur_tci, o.sinks, *o.mirrored};
        mirrorOutput(br, out, m);
    }
    return true;
}

bool Ofproto::xlateNormal(Bridge& br, std::uint32_t in_ofport, const FlowKey& key, FlowKey& mask,
                          dp::ActionList& actions, std::uint16_t& cur, bool learn, dp::StatsSinks* sinks,
                          MirrorMask* mirrored) {
    mask.vlan_tci = 0xffff;
    auto in_it = br.ports.find(in_ofport);
    if (in_it == br.ports.end()) return false;  // resubmitted from a port that does not exist
    auto in_b = br.bundles.find(in_it->second.bundle);
    if (in_b == br.bundles.end()) return false;
    const Bundle& in = in_b->second;
    TunnelDest from = tunnelSource(in, key, &mask);
    bool tagged = key.vlan_tci & dp::kVlanCfi;
    auto vlan = in.vlan.inputVlan(key.vlanVid(), tagged);
    if (!vlan) {
        bool access = in.vlan.mode == VlanMode::kAccess;
        actions.push_back(dp::Action::drop(access ? dp::Coverage::drop_vlan_tagged_on_access
                                                  : dp::Coverage::drop_vlan_not_trunked));
        return false;
    }
    if (br.mirrors.isOutput(in.name)) {  // reserved for mirroring (mirror.h): no learning either
        actions.push_back(dp::Action::drop(dp::Coverage::drop_mirror_output_port));
        return false;
    }
    std::memset(mask.dl_dst, 0xff, 6);
    MacAddr dst = key.dlDst();
    if (dst == kSlowProtocolsMac) {  // IEEE 802.1Q section 8.6.3: never relayed by a bridge
        actions.push_back(dp::Action::drop(dp::Coverage::drop_slow_protocols));
        return false;
    }
    std::memset(mask.dl_src, 0xff, 6);
    std::int64_t now = clock_();
    if (in.bond) {
        dp::Coverage why;
        if (!bondAdmits(br, in, in_ofport, key, *vlan, &mask, now, why)) {
            actions.push_back(dp::Action::drop(why));
            return false;
        }
    }
    if (learn) learn = learnSource(br, in, key, &mask, *vlan, from, now);

    std::uint16_t pcp = tagged ? (key.vlan_tci & dp::kVlanPcpMask) : 0;  // priority is preserved
    NormalOut o{key, mask, actions, *vlan, cur, pcp, sinks, now, mirrored};
    forward(br, in, dst, o);
    return learn;
}

namespace {
// An ARP announcement (Open vSwitch's is_gratuitous_arp): broadcast, and a reply or a request for
// the sender's own address. With `mask`, the megaflow matches every field this reads.
bool isGratuitousArp(const FlowKey& key, FlowKey* mask) {
    if (mask) mask->dl_type = 0xffff;
    if (key.dl_type != dp::kEthTypeArp) return false;
    if (mask) std::memset(mask->dl_dst, 0xff, 6);
    if (!key.dlDst().isBroadcast()) return false;
    if (mask) mask->nw_proto = 0xff;
    if (key.nw_proto == 2) return true;  // reply
    if (key.nw_proto != 1) return false;
    if (mask) mask->nw_src = mask->nw_dst = ~0u;
    return key.nw_src == key.nw_dst;
}
}  // namespace

// Learns the frame's source behind `in` (IEEE 802.1Q section 8.7), damping a MAC that a
// gratuitous ARP put on a plain port against a move back through a bond. Returns true: the
// megaflow asks to be reported while used (flowsUsed applies the same lock, so a flow cached
// during the lock learns once it is over).
bool Ofproto::learnSource(Bridge& br, const Bundle& in, const FlowKey& key, FlowKey* mask, std::uint16_t vlan,
                          const TunnelDest& from, std::int64_t now) {
    bool grat = isGratuitousArp(key, mask);
    if (grat && in.bond && br.macs.gratuitousArpLocked(key.dlSrc(), vlan, now)) return true;
    LearnResult lr = br.macs.learn(key.dlSrc(), vlan, in.id, now, from);
    if (grat && !in.bond) br.macs.lockGratuitousArp(key.dlSrc(), vlan, now);
    if (lr == LearnResult::kNew || lr == LearnResult::kMoved) invalidateBridge(br);
    return true;
}

// The forwarding half of NORMAL: flood, or the learned port (IEEE 802.1Q section 8.8).
void Ofproto::forward(Bridge& br, const Bundle& in, const MacAddr& dst, NormalOut& o) {
    if (dst.isMulticast()) return flood(br, in, o);
    auto entry = br.macs.lookupEntry(dst, o.vlan, o.now);
    if (!entry) return flood(br, in, o);
    auto oit = br.bundles.find(entry->port);
    if (oit == br.bundles.end() || !oit->second.vlan.carries(o.vlan) || br.mirrors.isOutput(oit->second.name))
        return flood(br, in, o);
    if (oit->second.tunnel.flowBased()) return unicastToVtep(oit->second, in, br, entry->remote, o);
    if (entry->port == in.id) return;  // destination is behind the ingress port: filter
    if (!outputTo(oit->second, br, o)) o.actions.push_back(dp::Action::drop(dp::Coverage::drop_bond_no_member));
}

// Floods to every port of the VLAN but the ingress one (a bond: one of its members), in ofport
// order: first the receivers that want the frame as it is now (tagged or not), then the others,
// so the tag changes at most once or twice. With split horizon, a frame from a tunnel goes to no
// tunnel; without it, a flow-based tunnel port also relays between its own remote VTEPs (a hub).
void Ofproto::flood(const Bridge& br, const Bundle& in, NormalOut& o) const {
    bool tagged_first = o.cur_tci != 0;
    bool from_tunnel = br.split_horizon && in.tunnel.tunnel;
    for (int pass = 0; pass < 2; ++pass)
        for (const auto& [ofport, bp] : br.ports) {
            const Bundle& b = br.bundles.at(bp.bundle);
            if (b.members.front() != ofport) continue;  // a bond once, at its first member
            if (br.mirrors.isOutput(b.name)) continue;   // reserved for mirroring (mirror.h)
            if (bundleConfigHas(br, b, kPortConfigNoFlood)) continue;  // port_mod no_flood (port_config.h)
            if (b.id == in.id && (br.split_horizon || !b.tunnel.flowBased())) continue;
            if (!b.vlan.carries(o.vlan) || b.vlan.sendsTagged(o.vlan) != (tagged_first == (pass == 0))) continue;
            if (from_tunnel && b.tunnel.tunnel) continue;
            if (b.tunnel.flowBased()) floodToVteps(b, in, br, o);
            else outputTo(b, br, o);
        }
}

namespace {
// Whether remote `d` of flow-based tunnel port `out` is where a frame received on `in` came from
// (its outer source address and VNI; constant per port for ports with a fixed remote and key).
bool cameFrom(const dp::TunnelMode& out_mode, bool same_port, const TunnelDest& d, bool in_tunnel,
              const FlowKey& key) {
    if (!in_tunnel) return false;
    bool vtep = out_mode.remote_flow ? d.vtep == key.tun_src : same_port;
    bool vni = !out_mode.key_flow || d.vni == static_cast<std::uint32_t>(key.tun_id);
    return vtep && vni;
}
}  // namespace

TunnelDest Ofproto::tunnelSource(const Bundle& in, const FlowKey& key, FlowKey* mask) {
    TunnelDest t;
    if (in.tunnel.remote_flow) {
        t.vtep = key.tun_src;
        if (mask) mask->tun_src = ~0u;
    }
    if (in.tunnel.key_flow) {
        t.vni = static_cast<std::uint32_t>(key.tun_id);
        if (mask) mask->tun_id = ~0ull;
    }
    return t;
}

// The datapath's set-tunnel action (the VXLAN port reads the fields its options leave to the
// flow), then the output.
bool Ofproto::outputToVtep(const Bundle& out, const Bridge& br, const TunnelDest& to, NormalOut& o) {
    dp::Action t = dp::Action::set(dp::ActionType::kSetTunnel, to.vni);
    t.port = to.vtep;
    o.actions.push_back(t);
    return outputTo(out, br, o);
}

// A unicast to a MAC learned at remote `to` of flow-based tunnel port `out`. Never back to the
// VTEP the frame came from; from one VTEP of the port to another only without split horizon.
void Ofproto::unicastToVtep(const Bundle& out, const Bundle& in, const Bridge& br, const TunnelDest& to,
                            NormalOut& o) const {
    if (out.tunnel.remote_flow && !to.vtep) return flood(br, in, o);  // learned without a VTEP
    if (cameFrom(out.tunnel, out.id == in.id, to, in.tunnel.tunnel, o.key)) return;  // filter
    if (out.id == in.id && br.split_horizon) return;
    outputToVtep(out, br, to, o);
}

// One copy to each remote known on flow-based tunnel port `out`: those MACs were learned from
// (with key=flow, on the frame's VLAN only, so a VNI carries only its VLAN) and the port's static
// flood list, but not the one the frame came from.
void Ofproto::floodToVteps(const Bundle& out, const Bundle& in, const Bridge& br, NormalOut& o) {
    std::optional<std::uint16_t> vlan;
    if (out.tunnel.key_flow) vlan = o.vlan;
    std::vector<TunnelDest> dests = br.macs.remotes(out.id, o.now, vlan);
    if (!out.tunnel.key_flow)
        for (std::uint32_t ip : out.flood_vteps) dests.push_back({ip, 0});
    std::sort(dests.begin(), dests.end());
    dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
    for (const TunnelDest& d : dests) {
        if (out.tunnel.remote_flow && !d.vtep) continue;
        if (cameFrom(out.tunnel, out.id == in.id, d, in.tunnel.tunnel, o.key)) continue;
        outputToVtep(out, br, d, o);
    }
}

void Ofproto::flowsUsed(std::span<const std::pair<FlowKey, FlowKey>> flows) {
    UrgentLock lk(mu_);
    std::int64_t now = clock_();
    std::set<const Bridge*> changed;
    for (const auto& [key, mask] : flows) {
        // Only megaflows whose translation reached NORMAL and learned ask to be reported
        // (report_used), so there is nothing to guess from the mask.
        if (mask.in_port != ~0u) continue;
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
        // Behind a flow-based tunnel port, only megaflows that matched the remote VTEP/VNI tell it.
        if ((in.tunnel.remote_flow && mask.tun_src != ~0u) || (in.tunnel.key_flow && mask.tun_id != ~0ull)) continue;
        if (isGratuitousArp(key, nullptr) && in.bond && br.macs.gratuitousArpLocked(key.dlSrc(), *vlan, now)) continue;
        LearnResult lr = br.macs.learn(key.dlSrc(), *vlan, in.id, now, tunnelSource(in, key, nullptr));
        if (lr == LearnResult::kNew || lr == LearnResult::kMoved) changed.insert(&br);
    }
    for (const Bridge* br : changed) invalidateBridge(*br);
}

// The megaflows of packets received on the bridge's ports (one MAC learned or moved, a flow_mod):
// only those depend on its state, since no translation leaves the bridge.
void Ofproto::invalidateBridge(const Bridge& br) {
    std::vector<std::uint32_t> ports;
    ports.reserve(br.ports.size());
    for (const auto& [ofport, bp] : br.ports) ports.push_back(bp.dp_port);
    dp_->invalidatePorts(std::move(ports));
}

}  // namespace vs::ofproto
