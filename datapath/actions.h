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
    kPushVlan,  // push an 802.1Q tag (TPID 0x8100) carrying `vlan_tci` (PCP+DEI+VID)
    kPopVlan,   // remove the outer 802.1Q/802.1ad tag, if any
    kDrop,      // drop, counting coverage counter `port` (a Coverage value): a named drop
};

struct Action {
    ActionType type;
    std::uint16_t vlan_tci = 0;
    std::uint32_t port = 0;
    static Action output(std::uint32_t port) { return {ActionType::kOutput, 0, port}; }
    static Action pushVlan(std::uint16_t tci) { return {ActionType::kPushVlan, tci, 0}; }
    static Action popVlan() { return {ActionType::kPopVlan, 0, 0}; }
    static Action drop(Coverage why) { return {ActionType::kDrop, 0, static_cast<std::uint32_t>(why)}; }
    bool operator==(const Action&) const = default;
};

using ActionList = std::vector<Action>;

// "2,push_vlan(vid=10,pcp=0),pop_vlan"; "drop" for an empty list; "drop(reason)" for kDrop.
std::string formatActions(const ActionList& actions);

// Pushes an IEEE 802.1Q tag (section 9.5) after the MAC addresses, adjusting the offload header.
// Returns false when the frame is shorter than 12 bytes or the buffer lacks headroom.
bool pushVlan(Packet& p, std::uint16_t tci) noexcept;
// Removes the outer tag (TPID 0x8100 or 0x88a8). Returns false when there is none.
bool popVlan(Packet& p) noexcept;

}  // namespace vs::dp
