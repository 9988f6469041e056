// Port mirroring in translation (ofproto/mirror.h, docs/mirrors.md): the copies a packet makes,
// as datapath actions emitted beside its own outputs. Open vSwitch's mirror_packet() semantics:
// a received packet is copied before the pipeline runs (the frame as received), a sent one right
// after its output (the frame as sent); a copy leaves tagged as its output port sends the packet's
// VLAN; every mirror serves a packet at most once.
//
// Megaflows: whenever a port has mirrors, the copies' tag actions depend on the frame's tag, so
// the megaflow matches vlan_tci and vlan_tpid; RSPAN reads the destination MAC (reserved
// addresses are never mirrored to a VLAN). Which mirrors apply depends only on the ports (the
// in_port is always exact) and on those fields, so a megaflow's copies are what a fresh
// translation would make. setMirrors() invalidates the bridge's megaflows.
#include <cstring>
#include <stdexcept>

#include "datapath/coverage.h"
#include "ofproto/ofproto.h"

namespace vs::ofproto {

using dp::FlowKey;

namespace {
// IEEE 802.1Q section 8.6.3: 01:80:c2:00:00:00..0f (Open vSwitch's eth_addr_is_reserved).
bool reservedDst(const FlowKey& key) {
    static const std::uint8_t kPrefix[5] = {0x01, 0x80, 0xc2, 0x00, 0x00};
    return std::memcmp(key.dl_dst, kPrefix, 5) == 0 && (key.dl_dst[5] & 0xf0) == 0;
}
}  // namespace

void Ofproto::setMirrors(const std::string& bridge, std::vector<MirrorSpec> specs) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (!br.mirrors.set(std::move(specs))) return;
    for (const auto& name : br.mirrors.outputPorts())  // reserved for mirroring from now on
        if (Bundle* b = bundleNamed(br, name)) br.macs.flushPort(b->id);
    invalidateBridge(br);
}

std::vector<MirrorStats> Ofproto::mirrorStats(const std::string& bridge) const {
    std::lock_guard lk(mu_);
    return bridgeOrThrow(bridge).mirrors.stats();
}

bool Ofproto::mirrorReceived(const Bridge& br, std::uint32_t in_ofport, const FlowKey& key, MirrorOut& m) {
    if (br.mirrors.empty()) return true;
    auto pit = br.ports.find(in_ofport);
    if (pit == br.ports.end()) return true;
    const Bundle& in = br.bundles.at(pit->second.bundle);
    if (br.mirrors.isOutput(in.name)) return false;
    MirrorMask candidates = br.mirrors.srcMirrors(in.name) & ~m.done;
    if (!candidates) return true;
    m.mask.vlan_tci = 0xffff;
    m.mask.vlan_tpid = 0xffff;
    bool tagged = key.vlan_tci & dp::kVlanCfi;
    auto vlan = in.vlan.inputVlan(key.vlanVid(), tagged);
    if (!vlan) return true;  // the port does not accept it: not received, not mirrored
    mirrorPacket(br, candidates, *vlan, tagged ? (key.vlan_tci & dp::kVlanPcpMask) : 0, m);
    return true;
}

void Ofproto::mirrorSent(const Bridge& br, const Bundle& out, std::uint16_t vlan, std::uint16_t pcp, MirrorOut& m) {
    MirrorMask candidates = br.mirrors.dstMirrors(out.name) & ~m.done;
    if (!candidates) return;
    m.mask.vlan_tci = 0xffff;
    m.mask.vlan_tpid = 0xffff;
    mirrorPacket(br, candidates, vlan, pcp, m);
}

// The VLAN of the frame as `out` sends it is what `out` would make of it on input; its priority
// is the sent tag's (none when sent untagged: the copy of a frame leaving an access port has PCP
// 0, as in Open vSwitch).
void Ofproto::mirrorOutput(const Bridge& br, const Bundle& out, MirrorOut& m) {
    if (!(br.mirrors.dstMirrors(out.name) & ~m.done)) return;
    m.mask.vlan_tci = 0xffff;
    m.mask.vlan_tpid = 0xffff;
    bool tagged = m.cur_tci & dp::kVlanCfi;
    auto vlan = out.vlan.inputVlan(m.cur_tci & dp::kVlanVidMask, tagged);
    if (!vlan) return;
    mirrorSent(br, out, *vlan, tagged ? (m.cur_tci & dp::kVlanPcpMask) : 0, m);
}

// Mirrors of `candidates` that select `vlan` count the packet; each output (a port, or a VLAN
// flooded) gets one copy.
void Ofproto::mirrorPacket(const Bridge& br, MirrorMask candidates, std::uint16_t vlan, std::uint16_t pcp,
                           MirrorOut& m) {
    const MirrorSet& ms = br.mirrors;
    MirrorMask selected = 0;
    for (std::size_t i = 0; i < ms.size(); ++i)
        if ((candidates >> i & 1) && ms.selectsVlan(i, vlan)) selected |= MirrorMask{1} << i;
    for (std::size_t i = 0; i < ms.size(); ++i) {
        if (!(selected >> i & 1)) continue;
        if (m.sinks) m.sinks->push_back(ms.counters(i));
        if (m.done >> i & 1) continue;  // a mirror with the same output already copied it
        m.done |= ms.dups(i);
        const MirrorSpec& s = ms.spec(i);
        if (!s.out_port.empty()) {
            for (const auto& [id, b] : br.bundles)
                if (b.name == s.out_port) mirrorCopy(br, b, vlan, pcp, m);
            continue;
        }
        std::memset(m.mask.dl_dst, 0xff, 6);
        if (!s.out_vlan || vlan == *s.out_vlan || reservedDst(m.key)) continue;
        for (const auto& [ofport, bp] : br.ports) {  // RSPAN: every port carrying the VLAN, in ofport order
            const Bundle& b = br.bundles.at(bp.bundle);
            if (b.members.front() != ofport || !b.vlan.carries(*s.out_vlan) || ms.isOutput(b.name)) continue;
            if (b.tunnel.flowBased()) continue;  // no destination to send a copy to
            mirrorCopy(br, b, *s.out_vlan, pcp, m);
        }
    }
}

// One copy out of `to` (a bond: the member its hash picks), tagged as `to` sends `vlan`.
bool Ofproto::mirrorCopy(const Bridge& br, const Bundle& to, std::uint16_t vlan, std::uint16_t pcp, MirrorOut& m) {
    std::optional<std::uint32_t> dp_port;
    if (to.bond) dp_port = to.bond->chooseOutput(m.key, vlan, m.mask, m.sinks);
    else if (!to.members.empty()) dp_port = br.ports.at(to.members.front()).dp_port;
    if (!dp_port) return false;
    std::uint16_t want = to.vlan.sendsTagged(vlan) ? static_cast<std::uint16_t>(pcp | vlan | dp::kVlanCfi) : 0;
    if (want != m.cur_tci) {
        if (m.cur_tci) m.actions.push_back(dp::Action::popVlan());
        if (want) m.actions.push_back(dp::Action::pushVlan(want));
        m.cur_tci = want;
    }
    m.actions.push_back(dp::Action::output(*dp_port));
    return true;
}

}  // namespace vs::ofproto
