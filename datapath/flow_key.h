// FlowKey: the fields of a frame that the datapath caches and the slow path matches on, and the
// bounds-checked parser that fills it (flow extraction).
//
// A FlowKey is a fixed-size, 8-byte-aligned POD whose padding is always zero, so that masking,
// hashing and comparison work word by word. The same struct serves as a mask (a 1 bit = the
// field bit matters). Scalar fields are in host byte order; addresses and MACs in network order.
//
// Thread-safety: value type; parse functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "datapath/coverage.h"
#include "datapath/packet.h"

namespace vs::dp {

inline constexpr std::uint16_t kEthTypeIPv4 = 0x0800;
inline constexpr std::uint16_t kEthTypeArp = 0x0806;
inline constexpr std::uint16_t kEthTypeVlan = 0x8100;   // IEEE 802.1Q C-tag
inline constexpr std::uint16_t kEthTypeQinQ = 0x88a8;   // IEEE 802.1ad S-tag
inline constexpr std::uint16_t kEthTypeIPv6 = 0x86dd;
inline constexpr std::uint16_t kEthTypeNone = 0x05ff;   // 802.3 length field: no Ethertype (as OVS)
inline constexpr std::uint16_t kVlanCfi = 0x1000;       // in FlowKey::vlan_tci: "a tag is present"
inline constexpr std::uint16_t kVlanVidMask = 0x0fff;
inline constexpr std::uint16_t kVlanPcpMask = 0xe000;

inline constexpr std::uint8_t kFragAny = 1;    // nw_frag: packet is a fragment
inline constexpr std::uint8_t kFragLater = 2;  // nw_frag: not the first fragment

struct alignas(8) FlowKey {
    // Metadata.
    std::uint64_t tun_id;       // VXLAN VNI (issue: tunnels)
    std::uint32_t tun_src;      // outer IPv4 source, network order
    std::uint32_t tun_dst;
    std::uint32_t in_port;      // datapath port number
    // L2 (IEEE 802.3 / 802.1Q).
    std::uint16_t vlan_tci;     // outer tag's TCI | kVlanCfi, or 0 when untagged
    std::uint16_t dl_type;      // Ethertype after the tag
    std::uint8_t dl_dst[6];
    std::uint8_t dl_src[6];
    // L3.
    std::uint32_t nw_src;       // IPv4 source / ARP SPA, network order
    std::uint32_t nw_dst;       // IPv4 destination / ARP TPA
    std::uint8_t nw_proto;      // IP protocol / low byte of ARP opcode
    std::uint8_t nw_tos;        // DSCP + ECN
    std::uint8_t nw_ttl;
    std::uint8_t nw_frag;
    // L4.
    std::uint16_t tp_src;       // TCP/UDP port, ICMP type
    std::uint16_t tp_dst;       // TCP/UDP port, ICMP code
    std::uint8_t arp_sha[6];
    std::uint8_t arp_tha[6];
    std::uint8_t ipv6_src[16];
    std::uint8_t ipv6_dst[16];
    std::uint32_t ipv6_label;
    std::uint16_t vlan_tpid;    // the outer tag's TPID (0x8100 or 0x88a8) when vlan_tci has kVlanCfi
    std::uint16_t pad_;

    static constexpr std::size_t kWords = 13;
    const std::uint64_t* words() const noexcept { return reinterpret_cast<const std::uint64_t*>(this); }
    std::uint64_t* words() noexcept { return reinterpret_cast<std::uint64_t*>(this); }
    void clear() noexcept { std::memset(this, 0, sizeof *this); }
    bool operator==(const FlowKey& o) const noexcept { return std::memcmp(this, &o, sizeof *this) == 0; }

    MacAddr dlSrc() const noexcept { MacAddr m; std::memcpy(m.b.data(), dl_src, 6); return m; }
    MacAddr dlDst() const noexcept { MacAddr m; std::memcpy(m.b.data(), dl_dst, 6); return m; }
    std::uint16_t vlanVid() const noexcept { return vlan_tci & kVlanVidMask; }
};
static_assert(sizeof(FlowKey) == FlowKey::kWords * 8);
static_assert(std::is_trivially_copyable_v<FlowKey>);

// A FlowKey with every bit of every field set: "exact match".
FlowKey exactMask() noexcept;

// key & mask, word by word.
inline void applyMask(const FlowKey& key, const FlowKey& mask, FlowKey& out) noexcept {
    for (std::size_t i = 0; i < FlowKey::kWords; ++i) out.words()[i] = key.words()[i] & mask.words()[i];
}

// 64-bit hash of all words of `key`.
std::uint64_t hashKey(const FlowKey& key) noexcept;
// Hash of `key & mask` without materialising it.
std::uint64_t hashMasked(const FlowKey& key, const FlowKey& mask) noexcept;

// Text form of a megaflow (key under mask), showing only masked fields:
// "in_port(2),eth(src=..,dst=..),eth_type(0x800),ipv4(src=10.0.0.1,proto=17),l4(dst=53)".
std::string formatMegaflow(const FlowKey& key, const FlowKey& mask);

// Offsets of the headers found by extractFlow, from the start of the frame; 0 when absent.
struct HeaderOffsets {
    std::uint16_t l3 = 0;
    std::uint16_t l4 = 0;
};

// Extracts the flow key of an Ethernet frame (IEEE 802.3, 802.1Q/802.1ad outer tag, IPv4
// (RFC 791), IPv6 (RFC 8200) with extension headers, ARP (RFC 826), TCP, UDP, ICMP, ICMPv6).
// `in_port` is copied into the key. Every read is bounds-checked. Returns false for a malformed
// frame and sets `why` to the drop counter to bump (runt, truncated tag, truncated or
// inconsistent IP header, truncated L4 or ARP header). Never reads outside [data, data+len).
bool extractFlow(const std::uint8_t* data, std::size_t len, std::uint32_t in_port, FlowKey& key,
                 HeaderOffsets& ofs, Coverage& why) noexcept;

// Header walkers shared by the per-packet code that must find a header without a full parse
// (virtio-net header checks, software segmentation, header rewrites). Pure; bounds-checked.
//
// Offset of the L3 header after up to two IEEE 802.1Q/802.1ad tags, with its Ethertype in `type`;
// 0 when the frame ends first or carries a third tag.
std::size_t l3Start(const std::uint8_t* data, std::size_t len, std::uint16_t& type) noexcept;

// The upper-layer header of the IPv6 packet whose header starts at `ip` (RFC 8200 section 4:
// hop-by-hop, routing, destination-options and fragment headers, at most 8 of them).
struct Ipv6Upper {
    std::size_t off = 0;          // where the upper-layer header starts (may equal len)
    std::uint8_t proto = 0;       // its Next Header value
    bool fragment = false;        // a fragment header was seen
    bool later_fragment = false;  // ...with a non-zero offset: no upper-layer header here
};
// False when the 40-byte header or an extension header ends past `len`.
bool ipv6Upper(const std::uint8_t* data, std::size_t len, std::size_t ip, Ipv6Upper& out) noexcept;

}  // namespace vs::dp
