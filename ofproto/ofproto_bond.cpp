// Ofproto's bonds: bundles (ports) with several interfaces, link-state and LACP events, LACPDU
// transmission and gratuitous announcements after a failover, and the slow-path queue. The
// per-member decisions themselves are in bond.cpp and lacp.cpp.
#include <algorithm>
#include <stdexcept>

#include "ofproto/ofproto.h"

namespace vs::ofproto {
namespace {

// A RARP "reverse request" from `mac` to broadcast (RFC 903), as Open vSwitch's bond learning
// packets: switches on the other side learn `mac` behind the link it arrives on. `vid` >= 0 adds
// an 802.1Q tag. Padded to the 60-byte minimum frame.
std::vector<std::uint8_t> rarpFrame(const dp::MacAddr& mac, int vid) {
    std::vector<std::uint8_t> f(6, 0xff);
    f.insert(f.end(), mac.b.begin(), mac.b.end());
    if (vid >= 0) f.insert(f.end(), {0x81, 0x00, static_cast<std::uint8_t>(vid >> 8), static_cast<std::uint8_t>(vid & 0xff)});
    f.insert(f.end(), {0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03});
    for (int i = 0; i < 2; ++i) {
        f.insert(f.end(), mac.b.begin(), mac.b.end());  // sender / target hardware address
        f.insert(f.end(), 4, 0);                       // protocol addresses unknown
    }
    if (f.size() < 60) f.resize(60, 0);
    return f;
}

}  // namespace

Ofproto::Bundle& Ofproto::newBundle(Bridge& br, const std::string& name, const PortVlan& vlan) {
    std::uint32_t id = br.next_bundle++;
    Bundle& b = br.bundles[id];
    b.name = name;
    b.id = id;
    b.vlan = vlan;
    return b;
}

Ofproto::Bundle* Ofproto::bundleNamed(Bridge& br, const std::string& name) {
    for (auto& [id, b] : br.bundles)
        if (b.name == name) return &b;
    return nullptr;
}

void Ofproto::removeInterface(Bridge& br, std::uint32_t ofport) {
    auto it = br.ports.find(ofport);
    if (it == br.ports.end()) return;
    by_dp_port_.erase(it->second.dp_port);
    dp_->removePort(it->second.dp_port);
    if (auto bit = br.bundles.find(it->second.bundle); bit != br.bundles.end()) {
        std::erase(bit->second.members, ofport);
        if (bit->second.bond) bit->second.bond->removeMember(ofport, clock_());
    }
    br.ports.erase(it);
}

dp::MacAddr Ofproto::systemId(const Bridge& br, const Bundle& b) const {
    // The bridge's MAC (its local port's), else the lowest member's: IEEE 802.1AX-2014 6.3.2.
    if (auto it = br.ports.find(kPortLocal); it != br.ports.end())
        if (auto mac = it->second.port->mac(); !mac.isZero()) return mac;
    if (!b.members.empty()) return br.ports.at(b.members.front()).port->mac();
    return {};
}

void Ofproto::addBond(const std::string& bridge, const std::string& port_name, const PortVlan& vlan,
                      const BondSettings& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (bundleNamed(br, port_name)) throw std::invalid_argument("bridge " + bridge + " already has a port named " + port_name);
    Bundle& b = newBundle(br, port_name, vlan);
    b.bond = std::make_unique<Bond>(port_name, s, clock_());
    ++bond_count_;
    b.bond->setSystemId(systemId(br, b), clock_());
    dp_->invalidate();
}

void Ofproto::setBondSettings(const std::string& bridge, const std::string& port_name, const BondSettings& s) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    Bundle* b = bundleNamed(br, port_name);
    if (!b || !b->bond) throw std::invalid_argument("bridge " + bridge + " has no bond named " + port_name);
    afterBondChange(br, *b, b->bond->configure(s, clock_()));
}

std::uint32_t Ofproto::addBondMember(const std::string& bridge, const std::string& port_name, const std::string& iface,
                                     std::uint32_t ofport, std::shared_ptr<dp::Port> port) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    Bundle* b = bundleNamed(br, port_name);
    if (!b || !b->bond) throw std::invalid_argument("bridge " + bridge + " has no bond named " + port_name);
    if (br.ports.count(ofport)) throw std::invalid_argument("ofport " + std::to_string(ofport) + " in use on " + bridge);
    for (const auto& [n, bp] : br.ports)
        if (bp.name == iface) throw std::invalid_argument("bridge " + bridge + " already has an interface named " + iface);
    bool carrier = port->carrier();
    std::uint32_t dp_no = dp_->addPort(port);
    br.ports[ofport] = BridgePort{iface, ofport, dp_no, std::move(port), b->id};
    b->members.insert(std::upper_bound(b->members.begin(), b->members.end(), ofport), ofport);
    by_dp_port_[dp_no] = DpPortRef{&br, ofport};
    std::int64_t now = clock_();
    b->bond->addMember(ofport, dp_no, iface, carrier, now);
    b->bond->setSystemId(systemId(br, *b), now);
    afterBondChange(br, *b, true);
    return dp_no;
}

void Ofproto::removeBondMember(const std::string& bridge, const std::string& port_name, const std::string& iface) {
    if (removeBondMemberLocked(bridge, port_name, iface)) dp_->quiesce();  // outside mu_
}

bool Ofproto::removeBondMemberLocked(const std::string& bridge, const std::string& port_name, const std::string& iface) {
    std::lock_guard lk(mu_);
    auto bit = bridges_.find(bridge);
    if (bit == bridges_.end()) return false;
    Bridge& br = *bit->second;
    Bundle* b = bundleNamed(br, port_name);
    if (!b) return false;
    for (std::uint32_t ofport : b->members)
        if (br.ports.at(ofport).name == iface) {
            removeInterface(br, ofport);
            if (b->bond) afterBondChange(br, *b, true);
            dp_->invalidate();
            return true;
        }
    return false;
}

void Ofproto::setCarrier(const std::string& netdev, bool up) {
    std::lock_guard lk(mu_);
    std::int64_t now = clock_();
    for (auto& [name, br] : bridges_)
        for (auto& [ofport, bp] : br->ports) {
            if (bp.port->name() != netdev) continue;
            if (br->groups.watches()) invalidateBridge(*br);  // fast_failover liveness (group_xlate.cpp)
            Bundle& b = br->bundles.at(bp.bundle);
            if (b.bond) afterBondChange(*br, b, b.bond->setCarrier(ofport, up, now));
            if (br->stp && br->stp->hasPort(b.id)) {  // ofproto_stp.cpp
                br->stp->setCarrier(b.id, up, now);
                afterStp(*br);
            }
            if (br->rstp && br->rstp->hasPort(b.id)) {  // ofproto_rstp.cpp
                br->rstp->setCarrier(b.id, up, now);
                afterRstp(*br);
            }
        }
}

void Ofproto::runBonds() {
    std::lock_guard lk(mu_);
    if (bond_count_ == 0) return;  // a bridge with many plain ports costs nothing per tick
    std::int64_t now = clock_();
    for (auto& [name, br] : bridges_)
        for (auto& [id, b] : br->bundles) {
            if (!b.bond) continue;
            bool changed = b.bond->setSystemId(systemId(*br, b), now);
            changed |= b.bond->run(now);
            afterBondChange(*br, b, changed);
        }
}

// After any bond event: stale cached decisions go, a new active member announces the MACs
// learned elsewhere, and LACP sends what its Transmit machine wants sent.
void Ofproto::afterBondChange(Bridge& br, Bundle& b, bool changed) {
    if (changed) dp_->invalidate();
    if (b.bond->takeLearningPacketsDue()) sendLearningPackets(br, b);
    sendLacpdus(br, b, clock_());
}

void Ofproto::sendLacpdus(const Bridge& br, Bundle& b, std::int64_t now) {
    for (const auto& tx : b.bond->lacpTransmit(now)) {
        auto frame = buildLacpdu(br.ports.at(tx.ofport).port->mac(), tx.pdu);
        dp_->execute(std::move(frame), 0, {dp::Action::output(tx.dp_port)});
        dp::coverageAdd(dp::Coverage::lacp_tx);
    }
}

void Ofproto::sendLearningPackets(const Bridge& br, const Bundle& b) {
    for (const auto& e : br.macs.entries()) {
        if (e.port == b.id || !b.vlan.carries(e.vlan)) continue;
        auto out = b.bond->learningOutput(e.mac, e.vlan);
        if (!out) continue;
        int vid = b.vlan.sendsTagged(e.vlan) ? e.vlan : -1;
        dp_->execute(rarpFrame(e.mac, vid), 0, {dp::Action::output(*out)});
        dp::coverageAdd(dp::Coverage::bond_learning_packets);
    }
}

// Open vSwitch's bond_check_admissibility (bond.h); for balance-slb a source MAC learned on
// another port means our own frame came back, unless it is a gratuitous ARP (the host moved).
bool Ofproto::bondAdmits(const Bridge& br, const Bundle& in, std::uint32_t in_ofport, const dp::FlowKey& key,
                         std::uint16_t vlan, dp::FlowKey* mask, std::int64_t now, dp::Coverage& why) const {
    BondAdmission a = in.bond->admit(in_ofport, key);
    if (a.verdict == BondAdmission::kAccept) return true;
    why = a.reason;
    if (a.verdict == BondAdmission::kDrop) return false;
    auto where = br.macs.lookup(key.dlSrc(), vlan, now);
    if (!where || *where == in.id) return true;
    if (mask) mask->dl_type = 0xffff;
    if (key.dl_type != dp::kEthTypeArp) return false;
    if (mask) mask->nw_src = mask->nw_dst = ~0u;
    return key.nw_src == key.nw_dst;
}

// LACPDUs received on a member of a LACP bond go to the slow path (IEEE 802.1AX-2014 6.4.2:
// Slow_Protocols_Multicast destination, Ethertype 0x8809); they are never forwarded.
bool Ofproto::interceptSlowProtocols(const Bridge& br, std::uint32_t in_ofport, const dp::FlowKey& key,
                                     dp::FlowKey& mask, dp::ActionList& actions) const {
    auto pit = br.ports.find(in_ofport);
    if (pit == br.ports.end()) return false;
    const Bundle& b = br.bundles.at(pit->second.bundle);
    if (!b.bond || !b.bond->lacpEnabled()) return false;
    mask.dl_type = 0xffff;
    std::fill(std::begin(mask.dl_dst), std::end(mask.dl_dst), 0xff);
    if (key.dl_type != kEthTypeSlowProtocols || key.dlDst() != kSlowProtocolsMac) return false;
    actions.push_back(dp::Action::userspace(slowPathUserdata(SlowPathKind::kLacp)));
    return true;
}

void Ofproto::slowPath(const dp::Packet& pkt, std::uint64_t userdata) { slow_path_.push(pkt, userdata); }

void Ofproto::setSlowPathHandler(SlowPathKind kind, std::function<void(const SlowPathPacket&)> handler) {
    slow_path_handlers_[kind] = std::move(handler);
}

void Ofproto::processSlowPath() {
    for (const SlowPathPacket& p : slow_path_.take()) {
        SlowPathKind kind = slowPathKind(p.userdata);
        if (kind == SlowPathKind::kLacp) {
            handleLacpdu(p);
        } else if (kind == SlowPathKind::kStp) {
            handleBpdu(p);  // ofproto_stp.cpp
        } else if (auto it = slow_path_handlers_.find(kind); it != slow_path_handlers_.end() && it->second) {
            it->second(p);
        }
    }
}

void Ofproto::handleLacpdu(const SlowPathPacket& p) {
    std::lock_guard lk(mu_);
    auto it = by_dp_port_.find(p.in_port);
    if (it == by_dp_port_.end()) return;  // the member went away meanwhile
    Bridge& br = *it->second.bridge;
    auto pit = br.ports.find(it->second.ofport);
    if (pit == br.ports.end()) return;
    Bundle& b = br.bundles.at(pit->second.bundle);
    if (!b.bond || !b.bond->lacpEnabled()) return;
    if (p.frame.size() > 14 && p.frame[14] != kSlowSubtypeLacp) {  // Marker, OAM: not answered
        dp::coverageAdd(dp::Coverage::drop_slow_protocols);
        return;
    }
    auto pdu = parseLacpdu(p.frame);
    if (!pdu) {
        dp::coverageAdd(dp::Coverage::drop_lacp_malformed);
        return;
    }
    dp::coverageAdd(dp::Coverage::lacp_rx);
    afterBondChange(br, b, b.bond->receiveLacpdu(it->second.ofport, *pdu, clock_()));
}

std::vector<BondStatus> Ofproto::bondStatus(const std::optional<std::string>& bond) const {
    std::lock_guard lk(mu_);
    std::vector<BondStatus> out;
    std::int64_t now = clock_();
    for (const auto& [name, br] : bridges_)
        for (const auto& [id, b] : br->bundles) {
            if (!b.bond || (bond && *bond != b.name)) continue;
            out.push_back(b.bond->status(now));
            out.back().bridge = name;
        }
    if (bond && out.empty()) throw std::invalid_argument("no such bond " + *bond);
    return out;
}

}  // namespace vs::ofproto
