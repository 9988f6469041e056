// Per-packet code: coalescing of received tunnels' inner TCP segments (tunnel_gro.h).
#include "datapath/tunnel_gro.h"

#include <cstring>

#include "datapath/gso.h"
#include "datapath/vnet_hdr.h"

namespace vs::dp {
namespace {
constexpr std::uint8_t kTcp = 6, kUdp = 17;
constexpr std::uint8_t kAck = 0x10, kPsh = 0x08;
constexpr std::uint32_t kMaxIpPacket = 65535;
// A frame with a partial checksum and an IP packet longer than kWholeTsoAbove was a TSO frame of
// its sender, delivered whole; it is passed on as GSO with segments that fit kInnerIpMtu.
constexpr std::uint32_t kWholeTsoAbove = 1500;
constexpr std::uint32_t kInnerIpMtu = 1450;

inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline std::uint32_t get32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
inline void put16(std::uint8_t* p, std::uint16_t v) { p[0] = static_cast<std::uint8_t>(v >> 8); p[1] = static_cast<std::uint8_t>(v); }

// Where a frame's IP and L4 headers are: untagged or one 802.1Q tag; IPv4 (no fragment, `len`
// exactly the IP packet plus L2) or IPv6 without extension headers.
struct L4 {
    bool ok = false, v6 = false;
    std::uint8_t proto = 0;
    std::uint16_t l3 = 0, l4 = 0;
    std::uint32_t l4_len = 0;
};

L4 locate(const std::uint8_t* f, std::uint32_t len) noexcept {
    L4 r;
    if (len < 14) return r;
    std::uint16_t l3 = 14, type = get16(f + 12);
    if (type == 0x8100) {
        if (len < 18) return r;
        l3 = 18;
        type = get16(f + 16);
    }
    const std::uint8_t* ip = f + l3;
    if (type == 0x0800 && len >= l3 + 20u && (ip[0] >> 4) == 4) {
        std::uint32_t ihl = (ip[0] & 0x0f) * 4u, tot = get16(ip + 2);
        if (ihl < 20 || tot < ihl || l3 + tot != len || (get16(ip + 6) & 0x3fff)) return r;  // MF or offset: a fragment
        r = {true, false, ip[9], l3, static_cast<std::uint16_t>(l3 + ihl), tot - ihl};
    } else if (type == 0x86dd && len >= l3 + 40u && (ip[0] >> 4) == 6) {
        std::uint32_t plen = get16(ip + 4);
        if (l3 + 40u + plen != len) return r;
        r = {true, true, ip[6], l3, static_cast<std::uint16_t>(l3 + 40), plen};
    }
    return r;
}

// The pseudo-header sum (RFC 793 / RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6), unfolded.
std::uint32_t pseudoSum(const std::uint8_t* f, const L4& h, std::uint32_t l4_len) noexcept {
    const std::uint8_t* ip = f + h.l3;
    std::uint32_t s = h.v6 ? csumPartial(ip + 8, 32, 0) : csumPartial(ip + 12, 8, 0);
    return s + h.proto + (l4_len >> 16) + (l4_len & 0xffff);
}

InnerCsum classify(const std::uint8_t* f, const L4& h) noexcept {
    std::uint32_t field_off = h.proto == kTcp ? 16 : h.proto == kUdp ? 6 : 0;
    if (!field_off || h.l4_len < field_off + 2) return InnerCsum::kNotL4;
    std::uint16_t field = get16(f + h.l4 + field_off);
    if (h.proto == kUdp && !h.v6 && field == 0) return InnerCsum::kNotL4;  // no checksum (RFC 768)
    std::uint32_t pseudo = pseudoSum(f, h, h.l4_len);
    if (csumFold(csumPartial(f + h.l4, h.l4_len, pseudo)) == 0xffff) return InnerCsum::kValid;
    return csumFold(pseudo) == field ? InnerCsum::kPartial : InnerCsum::kBad;
}

// The segment size for TCP payload behind `hdr` bytes of IP and TCP header: what fits an inner IP
// MTU of 1450 bytes, a 1500-byte underlay less VXLAN's 50 (RFC 7348 section 4). Used for frames
// longer than that, which no wire carried: Linux hands a UDP socket a tunnel's TSO skb whole
// (udp_unexpected_gso() lets SKB_GSO_UDP_TUNNEL through), so the sender's segment size is lost;
// a smaller segment is always safe to use.
std::uint32_t segmentSize(std::uint32_t ip_tcp_hdr) noexcept { return kInnerIpMtu - ip_tcp_hdr; }

// True if the checksum was left partial by the sender: the field holds the pseudo-header sum and
// the checksum does not verify. Costs only the pseudo-header sum unless the field matches it.
bool isPartial(const std::uint8_t* f, const L4& h) noexcept {
    std::uint32_t field_off = h.proto == kTcp ? 16 : h.proto == kUdp ? 6 : 0;
    if (!field_off || h.l4_len < field_off + 2) return false;
    if (csumFold(pseudoSum(f, h, h.l4_len)) != get16(f + h.l4 + field_off)) return false;
    return classify(f, h) == InnerCsum::kPartial;
}

// Marks `p` as carrying a partial checksum at L4 offset `l4` (TCP or UDP field).
void markPartial(Packet& p, std::uint16_t l4, std::uint8_t proto) noexcept {
    p.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p.vnet.csum_start = l4;
    p.vnet.csum_offset = proto == kTcp ? 16 : 6;
}
}  // namespace

InnerCsum classifyInnerCsum(const std::uint8_t* f, std::uint32_t len) noexcept {
    L4 h = locate(f, len);
    return h.ok ? classify(f, h) : InnerCsum::kNotL4;
}

TunnelGro::Tcp TunnelGro::parseTcp(const std::uint8_t* f, std::uint32_t len) noexcept {
    Tcp t;
    L4 h = locate(f, len);
    if (!h.ok || h.proto != kTcp || h.l4_len < 20) return t;
    if (!h.v6 && h.l4 - h.l3 != 20) return t;  // IPv4 options: not merged (Linux neither)
    std::uint32_t doff = (f[h.l4 + 12] >> 4) * 4u;
    if (doff < 20 || doff > h.l4_len) return t;
    t.v6 = h.v6;
    t.l3 = h.l3;
    t.l4 = h.l4;
    t.hdr = static_cast<std::uint16_t>(h.l4 + doff);
    t.payload = h.l4_len - doff;
    t.seq = get32(f + h.l4 + 4);
    t.flags = f[h.l4 + 13];
    bool candidate = t.payload >= kMinTcpGsoSize && (t.flags & ~(kAck | kPsh)) == 0 && (t.flags & kAck);
    if (!candidate) {  // never merged: only whether it is partial matters, which is cheaper to tell
        t.csum = isPartial(f, h) ? InnerCsum::kPartial : InnerCsum::kNotL4;
        return t;
    }
    t.csum = classify(f, h);  // a merged segment's checksum is not checked again: verify it
    bool whole_tso = t.csum == InnerCsum::kPartial && len - t.l3 > kWholeTsoAbove;
    t.ok = !whole_tso && (t.csum == InnerCsum::kValid || t.csum == InnerCsum::kPartial);
    return t;
}

void TunnelGro::begin(Packet** out, int max) noexcept {
    out_ = out;
    max_ = max;
    n_ = 0;
    open_ = false;
}

// Same connection and shape: every header byte equal except the IP length, IPv4 ID and header
// checksum, and the TCP sequence number, flags and checksum.
bool TunnelGro::tryMerge(const std::uint8_t* f, const Tcp& t, const TunnelRx& rx) noexcept {
    if (!open_ || !(rx == rx_) || t.v6 != head_.v6 || t.l4 != head_.l4 || t.hdr != head_.hdr) return false;
    if (t.seq != next_seq_ || t.payload > mss_ || segs_ >= kMaxSegments) return false;
    Packet& p = *out_[n_ - 1];
    if (p.size() + t.payload > kMaxFrame || p.size() - t.l3 + t.payload > kMaxIpPacket) return false;
    const std::uint8_t* h = p.data();
    auto same = [&](std::size_t from, std::size_t to) { return std::memcmp(h + from, f + from, to - from) == 0; };
    std::size_t l3 = t.l3, l4 = t.l4;
    bool ip_same = t.v6 ? same(l3, l3 + 4) && same(l3 + 6, l4)
                        : same(l3, l3 + 2) && same(l3 + 6, l3 + 10) && same(l3 + 12, l4);
    if (!same(0, l3) || !ip_same || !same(l4, l4 + 4) || !same(l4 + 8, l4 + 13) || !same(l4 + 14, l4 + 16) ||
        !same(l4 + 18, t.hdr))
        return false;
    std::memcpy(p.data() + p.size(), f + t.hdr, t.payload);
    p.setSize(p.size() + t.payload);
    next_seq_ += t.payload;
    ++segs_;
    ++merged_;
    if (t.csum == InnerCsum::kPartial) ++partial_;
    if (t.flags & kPsh) p.data()[t.l4 + 13] |= kPsh;
    if (t.payload < mss_ || (t.flags & kPsh)) close();  // a short or pushed segment ends it
    return true;
}

// Ends the open super-frame. One segment stays as it came (marked if its checksum is partial);
// several become a GSO frame: IP length (and IPv4 header checksum) for the whole, the TCP checksum
// field holding the pseudo-header sum of the whole, as Linux leaves it for TSO.
void TunnelGro::close() noexcept {
    if (!open_) return;
    open_ = false;
    Packet& p = *out_[n_ - 1];
    if (segs_ == 1) {
        if (head_.csum == InnerCsum::kPartial) markPartial(p, head_.l4, kTcp);
        return;
    }
    std::uint8_t* f = p.data();
    std::uint8_t* ip = f + head_.l3;
    std::uint32_t l4_len = p.size() - head_.l4;
    if (head_.v6) {
        put16(ip + 4, static_cast<std::uint16_t>(l4_len));
    } else {
        put16(ip + 2, static_cast<std::uint16_t>(p.size() - head_.l3));
        put16(ip + 10, 0);
        put16(ip + 10, static_cast<std::uint16_t>(~csumFold(csumPartial(ip, 20, 0))));
    }
    L4 h{true, head_.v6, kTcp, head_.l3, head_.l4, l4_len};
    put16(f + head_.l4 + 16, csumFold(pseudoSum(f, h, l4_len)));
    p.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p.vnet.gso_type = head_.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    p.vnet.gso_size = static_cast<std::uint16_t>(mss_);
    p.vnet.hdr_len = head_.hdr;
    p.vnet.csum_start = head_.l4;
    p.vnet.csum_offset = 16;
}

void TunnelGro::startSingle(Packet& p, const std::uint8_t* f, std::uint32_t len, const TunnelRx& rx) noexcept {
    p.reset();
    std::memcpy(p.data(), f, len);
    p.setSize(len);
    p.in_port = rx.port_no;
    p.tun_id = rx.tun_id;
    p.tun_src = rx.tun_src;
    p.tun_dst = rx.tun_dst;
}

bool TunnelGro::add(const std::uint8_t* f, std::uint32_t len, const TunnelRx& rx) noexcept {
    Tcp t = parseTcp(f, len);
    if (t.ok && tryMerge(f, t, rx)) return true;
    if (n_ >= max_) return false;
    close();
    Packet& p = *out_[n_++];
    startSingle(p, f, len, rx);
    if (t.ok && !(t.flags & kPsh)) {  // may be the head of a super-frame
        open_ = true;
        head_ = t;
        rx_ = rx;
        mss_ = t.payload;
        next_seq_ = t.seq + t.payload;
        segs_ = 1;
        if (t.csum == InnerCsum::kPartial) ++partial_;
        return true;
    }
    InnerCsum csum = t.csum;
    std::uint16_t l4 = t.l4;
    std::uint8_t proto = kTcp;
    if (!l4) {  // not a TCP segment parseTcp could read: classify it on its own
        L4 h = locate(f, len);
        if (h.ok && isPartial(f, h)) { csum = InnerCsum::kPartial; l4 = h.l4; proto = h.proto; }
    }
    if (csum == InnerCsum::kPartial) {
        markPartial(p, l4, proto);
        ++partial_;
        std::uint32_t mss = t.l4 ? segmentSize(t.hdr - t.l3) : 0;
        if (mss && len - t.l3 > kWholeTsoAbove && t.payload > mss) {  // a whole TSO frame of the sender (see segmentSize())
            p.vnet.gso_type = t.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
            p.vnet.gso_size = static_cast<std::uint16_t>(mss);
            p.vnet.hdr_len = t.hdr;
        }
    }
    return true;
}

int TunnelGro::finish() noexcept {
    close();
    return n_;
}

}  // namespace vs::dp
