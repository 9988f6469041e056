// Datapath actions: what a cached flow does to a packet. A flow's action list is built by the
// slow path at upcall time and never changes afterwards (a changed decision is a new flow).
//
// Thread-safety: ActionList is immutable once installed; the per-packet helpers modify only the
// packet they are given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datapath/coverage.h"
#include "datapath/packet.h"

namespace vs::dp {

enum class ActionType : std::uint8_t {
    kOutput,    // send to datapath port `port`
    kPushVlan,  // push a tag carrying `vlan_tci` (PCP+DEI+VID) with TPID `port` (0: 0x8100)
    kPopVlan,   // remove the outer 802.1Q/802.1ad tag, if any
    kDrop,      // drop, counting coverage counter `port` (a Coverage value): a named drop
    kSetEthSrc, kSetEthDst,    // value: MAC as 48 bits (first byte most significant)
    kSetIpv4Src, kSetIpv4Dst,  // value: IPv4 address, network order; checksums updated (RFC 1624)
    kSetIpTos, kSetIpTtl,      // value: the byte
    kSetIpv6Tclass, kSetIpv6Hlim,  // value: the traffic class / hop limit byte (RFC 8200 section 3)
    kSetTpSrc, kSetTpDst,      // value: TCP/UDP/SCTP port, host order
    kUserspace,                // hand a copy to the slow path (UpcallHandler::slowPath) with `value`
    kSetTunnel,                // Packet::tun_id = value, tun_dst = port (network order): flow-based tunnels
    kSetPriority,              // Packet::priority = value (skb->priority on transmit: egress QoS class)
    kMeter,                    // run the packet through meter slot `port` (meter.h); a drop band ends its actions
};

struct Action {
    ActionType type;
    std::uint16_t vlan_tci = 0;
    std::uint32_t port = 0;
    std::uint64_t value = 0;
    static Action output(std::uint32_t port) { return {ActionType::kOutput, 0, port, 0}; }
    static Action pushVlan(std::uint16_t tci, std::uint16_t tpid = 0) { return {ActionType::kPushVlan, tci, tpid, 0}; }
    static Action popVlan() { return {ActionType::kPopVlan, 0, 0, 0}; }
    static Action drop(Coverage why) { return {ActionType::kDrop, 0, static_cast<std::uint32_t>(why), 0}; }
    static Action set(ActionType t, std::uint64_t v) { return {t, 0, 0, v}; }
    static Action userspace(std::uint64_t userdata) { return {ActionType::kUserspace, 0, 0, userdata}; }
    static Action meter(std::uint32_t slot) { return {ActionType::kMeter, 0, slot, 0}; }
    bool operator==(const Action&) const = default;
};

using ActionList = std::vector<Action>;

// "2,push_vlan(vid=10,pcp=0),pop_vlan"; "drop" for an empty list; "drop(reason)" for kDrop.
std::string formatActions(const ActionList& actions);

// Pushes an IEEE 802.1Q tag (section 9.5) after the MAC addresses, adjusting the offload header;
// TPID `tpid` (0x8100 C-tag by default, 0x88a8 S-tag). Returns false when the frame is shorter
// than 12 bytes or the buffer lacks headroom.
bool pushVlan(Packet& p, std::uint16_t tci, std::uint16_t tpid = 0x8100) noexcept;
// Removes the outer tag (TPID 0x8100 or 0x88a8). Returns false when there is none.
bool popVlan(Packet& p) noexcept;
// Applies one kSet* action to the frame, fixing the IPv4 header checksum and the TCP/UDP checksum
// incrementally (RFC 1624 eqn. 3; for checksum-offloaded frames the partial pseudo-header sum is
// adjusted instead). Returns false when the frame lacks the header the action writes (no change).
bool applySet(Packet& p, const Action& a) noexcept;

}  // namespace vs::dp
