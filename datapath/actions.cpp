#include "datapath/actions.h"

#include <arpa/inet.h>

#include "datapath/flow_key.h"

namespace vs::dp {

std::string formatActions(const ActionList& actions) {
    if (actions.empty()) return "drop";
    std::string s;
    for (const auto& a : actions) {
        if (!s.empty()) s += ",";
        switch (a.type) {
        case ActionType::kOutput: s += std::to_string(a.port); break;
        case ActionType::kPushVlan:
            s += "push_vlan(vid=" + std::to_string(a.vlan_tci & kVlanVidMask) +
                 ",pcp=" + std::to_string(a.vlan_tci >> 13) + ")";
            break;
        case ActionType::kPopVlan: s += "pop_vlan"; break;
        case ActionType::kDrop:
            s += "drop(" + std::string(coverageInfo(static_cast<Coverage>(a.port)).name) + ")";
            break;
        }
    }
    return s;
}

bool pushVlan(Packet& p, std::uint16_t tci) noexcept {
    if (p.size() < 12 || p.headroom() < 4) return false;
    std::uint8_t* d = p.push(4);
    std::memmove(d, d + 4, 12);
    std::uint16_t tag[2] = {htons(kEthTypeVlan), htons(static_cast<std::uint16_t>(tci & ~kVlanCfi))};
    std::memcpy(d + 12, tag, 4);
    if (p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) p.vnet.csum_start += 4;
    if (p.vnet.hdr_len) p.vnet.hdr_len += 4;
    return true;
}

bool popVlan(Packet& p) noexcept {
    if (p.size() < 18) return false;
    std::uint8_t* d = p.data();
    std::uint16_t tpid = static_cast<std::uint16_t>(d[12] << 8 | d[13]);
    if (tpid != kEthTypeVlan && tpid != kEthTypeQinQ) return false;
    std::memmove(d + 4, d, 12);
    p.pull(4);
    if ((p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && p.vnet.csum_start >= 4) p.vnet.csum_start -= 4;
    if (p.vnet.hdr_len >= 4) p.vnet.hdr_len -= 4;
    return true;
}

}  // namespace vs::dp
