#include "ofproto/vlan.h"

namespace vs::ofproto {

PortVlan PortVlan::fromColumns(std::optional<int> tag, const std::vector<int>& trunks, const std::string& mode) {
    PortVlan v;
    v.tag = tag.value_or(-1);
    if (mode == "access") v.mode = VlanMode::kAccess;
    else if (mode == "trunk") v.mode = VlanMode::kTrunk;
    else if (mode == "native-tagged") v.mode = VlanMode::kNativeTagged;
    else if (mode == "native-untagged") v.mode = VlanMode::kNativeUntagged;
    else v.mode = tag ? VlanMode::kAccess : VlanMode::kTrunk;
    if (v.mode == VlanMode::kAccess && v.tag < 0) v.tag = 0;  // access without a tag: VLAN 0
    v.all_trunks = trunks.empty();
    for (int t : trunks)
        if (t >= 0 && t < 4096) v.trunks.set(static_cast<std::size_t>(t));
    return v;
}

std::optional<std::uint16_t> PortVlan::inputVlan(std::uint16_t vid, bool tagged) const {
    bool untagged = !tagged || vid == 0;
    switch (mode) {
    case VlanMode::kAccess:
        if (!untagged) return std::nullopt;
        return static_cast<std::uint16_t>(tag);
    case VlanMode::kTrunk:
        if (!all_trunks && !trunks.test(untagged ? 0 : vid)) return std::nullopt;
        return untagged ? 0 : vid;
    case VlanMode::kNativeTagged:
    case VlanMode::kNativeUntagged:
        if (untagged) return static_cast<std::uint16_t>(tag);
        if (vid == tag || all_trunks || trunks.test(vid)) return vid;
        return std::nullopt;
    }
    return std::nullopt;
}

bool PortVlan::carries(std::uint16_t vlan) const {
    switch (mode) {
    case VlanMode::kAccess: return vlan == tag;
    case VlanMode::kTrunk: return all_trunks || trunks.test(vlan);
    default: return vlan == tag || all_trunks || trunks.test(vlan);
    }
}

bool PortVlan::sendsTagged(std::uint16_t vlan) const {
    switch (mode) {
    case VlanMode::kAccess: return false;
    case VlanMode::kTrunk: return vlan != 0;
    case VlanMode::kNativeTagged: return true;
    case VlanMode::kNativeUntagged: return vlan != tag;
    }
    return false;
}

}  // namespace vs::ofproto
