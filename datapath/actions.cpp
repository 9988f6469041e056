#include "datapath/actions.h"

#include <arpa/inet.h>

#include <cstdio>

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
            s += "push_vlan(" + std::string(a.port == kEthTypeQinQ ? "tpid=0x88a8," : "") +
                 "vid=" + std::to_string(a.vlan_tci & kVlanVidMask) + ",pcp=" + std::to_string(a.vlan_tci >> 13) + ")";
            break;
        case ActionType::kPopVlan: s += "pop_vlan"; break;
        case ActionType::kSetEthSrc: case ActionType::kSetEthDst: {
            MacAddr m;
            for (int i = 5, v = 0; i >= 0; --i, ++v) m.b[i] = static_cast<std::uint8_t>(a.value >> (8 * v));
            s += std::string(a.type == ActionType::kSetEthSrc ? "set(eth_src=" : "set(eth_dst=") + m.toString() + ")";
            break;
        }
        case ActionType::kSetIpv4Src: case ActionType::kSetIpv4Dst: {
            std::uint32_t n = static_cast<std::uint32_t>(a.value);
            const auto* b = reinterpret_cast<const std::uint8_t*>(&n);
            s += std::string(a.type == ActionType::kSetIpv4Src ? "set(ipv4_src=" : "set(ipv4_dst=") +
                 std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
                 std::to_string(b[3]) + ")";
            break;
        }
        case ActionType::kSetIpTos: s += "set(ipv4_tos=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetIpTtl: s += "set(ipv4_ttl=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetIpv6Tclass: s += "set(ipv6_tclass=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetIpv6Hlim: s += "set(ipv6_hlimit=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetTpSrc: s += "set(tp_src=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetTpDst: s += "set(tp_dst=" + std::to_string(a.value) + ")"; break;
        case ActionType::kSetTunnel: {
            const auto* b = reinterpret_cast<const std::uint8_t*>(&a.port);
            s += "set(tunnel(tun_id=" + std::to_string(a.value) + ",dst=" + std::to_string(b[0]) + "." +
                 std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]) + "))";
            break;
        }
        case ActionType::kSetPriority: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "set(skb_priority(0x%llx))", static_cast<unsigned long long>(a.value));
            s += buf;
            break;
        }
        case ActionType::kUserspace: s += "userspace(" + std::to_string(a.value) + ")"; break;
        case ActionType::kMeter: s += "meter(" + std::to_string(a.port) + ")"; break;
        case ActionType::kDrop:
            s += "drop(" + std::string(coverageInfo(static_cast<Coverage>(a.port)).name) + ")";
            break;
        }
    }
    return s;
}

bool pushVlan(Packet& p, std::uint16_t tci, std::uint16_t tpid) noexcept {
    if (p.size() < 12 || p.headroom() < 4) return false;
    std::uint8_t* d = p.push(4);
    std::memmove(d, d + 4, 12);
    std::uint16_t tag[2] = {htons(tpid), htons(static_cast<std::uint16_t>(tci & ~kVlanCfi))};
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
