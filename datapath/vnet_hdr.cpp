// Per-packet code: validation of received virtio-net headers. See vnet_hdr.h.
#include "datapath/vnet_hdr.h"

#include "datapath/flow_key.h"
#include "datapath/gso.h"

namespace vs::dp {
namespace {

constexpr std::uint8_t kProtoTcp = 6, kProtoUdp = 17;
constexpr std::uint8_t kKnownFlags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
constexpr std::uint8_t kGsoUdpL4 = 5;  // VIRTIO_NET_HDR_GSO_UDP_L4 (virtio 1.2)

inline std::uint16_t rd16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// Where the L4 header of an IPv4/IPv6 frame starts and what it is.
struct L4Loc {
    std::size_t l4 = 0;
    std::uint8_t proto = 0;
    bool v4 = false;
    bool fragment = false;
};

// IPv4 (RFC 791) or IPv6 (RFC 8200, with its extension-header chain) after up to two tags.
// False if the frame is neither or its IP header does not fit.
bool locateL4(const std::uint8_t* d, std::size_t size, L4Loc& loc) noexcept {
    std::uint16_t type = 0;
    std::size_t off = l3Start(d, size, type);
    if (!off) return false;
    if (type == kEthTypeIPv4) {
        if (off + 20 > size || (d[off] >> 4) != 4) return false;
        std::size_t ihl = (d[off] & 0x0f) * 4u;
        if (ihl < 20 || off + ihl > size) return false;
        loc = {off + ihl, d[off + 9], true, (rd16(d + off + 6) & 0x3fff) != 0};
        return true;
    }
    Ipv6Upper up;
    if (type != kEthTypeIPv6 || off + 40 > size || (d[off] >> 4) != 6 || !ipv6Upper(d, size, off, up)) return false;
    loc = {up.off, up.proto, false, up.fragment};
    return true;
}

}  // namespace

Coverage checkVnetHdr(Packet& p) noexcept {
    virtio_net_hdr& h = p.vnet;
    const std::size_t size = p.size();
    h.flags &= kKnownFlags;
    const bool csum = h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (!csum) {
        h.csum_start = h.csum_offset = 0;
    } else if (h.csum_start < 14 || std::size_t(h.csum_start) + h.csum_offset + 2 > size) {
        return Coverage::drop_vnet_bad_csum;
    }
    const std::uint8_t gso = h.gso_type & static_cast<std::uint8_t>(~VIRTIO_NET_HDR_GSO_ECN);
    if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        h.gso_size = 0;
        if (h.hdr_len > size) h.hdr_len = static_cast<std::uint16_t>(size);
        return Coverage::kCount;
    }
    const bool tcp = gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6;
    const bool udp = gso == VIRTIO_NET_HDR_GSO_UDP || gso == kGsoUdpL4;
    if ((!tcp && !udp) || ((h.gso_type & VIRTIO_NET_HDR_GSO_ECN) && !tcp) || !csum)
        return Coverage::drop_vnet_bad_gso;
    L4Loc loc;
    if (!locateL4(p.data(), size, loc) || loc.fragment || loc.proto != (tcp ? kProtoTcp : kProtoUdp) ||
        (tcp && loc.v4 != (gso == VIRTIO_NET_HDR_GSO_TCPV4)))
        return Coverage::drop_vnet_bad_gso;
    if (h.csum_start != loc.l4 || h.csum_offset != (tcp ? 16 : 6)) return Coverage::drop_vnet_bad_csum;
    std::size_t hlen = loc.l4 + 8;
    if (tcp) {
        if (loc.l4 + 20 > size) return Coverage::drop_vnet_bad_l4;
        std::size_t doff = (p.data()[loc.l4 + 12] >> 4) * 4u;
        if (doff < 20) return Coverage::drop_vnet_bad_l4;
        hlen = loc.l4 + doff;
        if (hlen > WireFrame::kMaxHdr) return Coverage::drop_vnet_bad_l4;
    }
    if (hlen > size) return Coverage::drop_vnet_bad_l4;
    if (h.gso_size < (tcp ? kMinTcpGsoSize : 1)) return Coverage::drop_vnet_gso_size;
    const std::size_t payload = size - hlen;
    h.hdr_len = static_cast<std::uint16_t>(hlen);
    if (payload <= h.gso_size) {  // fits one segment: not really GSO
        h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
        h.gso_size = 0;
        return Coverage::kCount;
    }
    if ((payload + h.gso_size - 1) / h.gso_size > kMaxGsoSegments) return Coverage::drop_vnet_gso_segs;
    return Coverage::kCount;
}

}  // namespace vs::dp
