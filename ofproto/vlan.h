// A port's 802.1Q VLAN configuration and Open vSwitch's semantics for it (vswitch.xml, Port
// "VLAN Configuration"): which frames a port accepts, which VLAN they belong to, which VLANs it
// carries and whether it sends them tagged.
//
//   access          tag=N: untagged (and priority-tagged) frames belong to VLAN N; frames tagged
//                   with any other VID are dropped; frames leave untagged.
//   trunk           trunks=LIST (empty = all 4096): tagged frames on a listed VLAN are accepted,
//                   untagged ones belong to VLAN 0 (only if 0 is listed); VLAN 0 leaves untagged,
//                   others tagged.
//   native-tagged   tag=N plus trunks: untagged frames belong to VLAN N; every VLAN, N included,
//                   leaves tagged.
//   native-untagged as native-tagged, but VLAN N leaves untagged.
// Default mode: access when a tag is set, trunk otherwise (trunks are then ignored in access mode
// and the tag in trunk mode, as in Open vSwitch).
//
// Thread-safety: value type.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vs::ofproto {

enum class VlanMode { kAccess, kTrunk, kNativeTagged, kNativeUntagged };

struct PortVlan {
    VlanMode mode = VlanMode::kTrunk;
    int tag = -1;                  // access / native VLAN, or -1
    bool all_trunks = true;        // trunks empty: every VLAN
    std::bitset<4096> trunks;

    // Builds the effective configuration from the config columns. `mode` is "" (default),
    // "access", "trunk", "native-tagged" or "native-untagged"; values are assumed validated.
    static PortVlan fromColumns(std::optional<int> tag, const std::vector<int>& trunks, const std::string& mode);

    // The VLAN a frame received on this port belongs to, given the frame's VID (0 when untagged
    // or priority-tagged) — or nullopt when the port does not accept it.
    std::optional<std::uint16_t> inputVlan(std::uint16_t frame_vid, bool tagged) const;
    // Whether frames of `vlan` may leave through this port.
    bool carries(std::uint16_t vlan) const;
    // Whether frames of `vlan` leave tagged.
    bool sendsTagged(std::uint16_t vlan) const;
    bool operator==(const PortVlan&) const = default;
};

}  // namespace vs::ofproto
