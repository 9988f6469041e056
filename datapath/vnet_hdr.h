// Validation of the virtio-net header that comes with a received frame, before anything trusts it.
//
// TAP ports (IFF_VNET_HDR) and AF_PACKET ports (PACKET_VNET_HDR) hand the switch a
// virtio_net_hdr with every frame (virtio spec 1.x section 5.1.6). On a TAP that QEMU created, or a
// veth whose other end a container controls, its fields are written by the guest: a GSO type, a
// segment size, a checksum start and offset, a header length. The kernel passes most of them
// through without checking them against the frame, so the datapath must, before software
// segmentation (gso.h), checksum completion or a header rewrite reads or writes at those offsets.
//
// Thread-safety: pure functions on a Packet the calling poll thread owns.
#pragma once

#include <cstdint>
#include <cstring>

#include "datapath/coverage.h"
#include "datapath/packet.h"

namespace vs::dp {

// The smallest gso_size accepted for TCP: Linux never sends segments smaller than this (the lower
// bound of net.ipv4.tcp_min_snd_mss, TCP_MIN_SND_MSS in include/net/tcp.h).
inline constexpr std::uint16_t kMinTcpGsoSize = 48;
// The most segments one GSO frame may become. A 64 KiB frame stays under it for every gso_size of
// 256 bytes or more (every path MTU from 296 bytes up); only a frame that would be cut into more,
// smaller pieces is refused. Bounds the work one received frame can cause (a tunnel sends every
// segment as a datagram of its own).
inline constexpr std::uint32_t kMaxGsoSegments = 256;

inline bool vnetHdrIsZero(const virtio_net_hdr& h) noexcept {
    std::uint64_t a;
    std::uint16_t b;
    std::memcpy(&a, &h, 8);
    std::memcpy(&b, reinterpret_cast<const std::uint8_t*>(&h) + 8, 2);
    return (a | b) == 0;
}

// Checks `p.vnet` against the frame in `p` and normalises what is harmless to fix:
//  - unknown flag bits are cleared; without NEEDS_CSUM the checksum fields are cleared; hdr_len is
//    recomputed for GSO frames and clamped to the frame otherwise;
//  - NEEDS_CSUM: csum_start at or after the Ethernet header and the 2-byte checksum field
//    (csum_start + csum_offset) inside the frame;
//  - GSO (TCPv4/TCPv6, optionally with ECN; UDP and UDP_L4): NEEDS_CSUM set, the frame IPv4/IPv6
//    (after up to two 802.1Q/802.1ad tags) carrying TCP/UDP as the type says, not a fragment,
//    csum_start exactly at that L4 header with the checksum at its place (16 for TCP, 6 for UDP), a
//    TCP data offset of at least 5 words and the whole L4 header inside both the frame and the
//    192 bytes software segmentation rewrites (WireFrame::kMaxHdr), gso_size at least
//    kMinTcpGsoSize for TCP (1 for UDP) and at most kMaxGsoSegments segments. A GSO frame whose
//    payload fits one segment is not GSO (as Linux's virtio_net_hdr_to_skb): its GSO type is
//    cleared and it keeps only its checksum offload.
// Returns Coverage::kCount when the header is acceptable, or the drop counter that names what is
// wrong (drop_vnet_*); the caller drops the frame and bumps it. Never reads outside the frame.
Coverage checkVnetHdr(Packet& p) noexcept;

}  // namespace vs::dp
