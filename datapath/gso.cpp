// Per-packet code: software segmentation and checksum completion. See gso.h.
#include "datapath/gso.h"

#include <endian.h>

#include <arpa/inet.h>

#include "datapath/flow_key.h"
#include "datapath/vnet_hdr.h"

namespace vs::dp {

// 32 bits at a time into a 64-bit accumulator: a big-endian 32-bit word is hi * 2^16 + lo, and
// 2^16 = 1 in one's-complement arithmetic (mod 0xffff), so its value counts as hi + lo (RFC 1071
// section 2 (B), "byte order independence" and wider words). No carry is lost: 2^32 words of
// at most 2^32 - 1 each would be needed to overflow 64 bits.
std::uint32_t csumPartial(const std::uint8_t* p, std::size_t n, std::uint32_t sum) noexcept {
    std::uint64_t s = sum;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        std::uint32_t w[4];
        std::memcpy(w, p + i, sizeof w);
        s += std::uint64_t(be32toh(w[0])) + be32toh(w[1]) + be32toh(w[2]) + be32toh(w[3]);
    }
    for (; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (i < n) s += static_cast<std::uint32_t>(p[i] << 8);
    while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
    return static_cast<std::uint32_t>(s);
}

std::uint16_t csumFold(std::uint32_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

namespace {

inline void put16(std::uint8_t* p, std::uint16_t v) { p[0] = static_cast<std::uint8_t>(v >> 8); p[1] = static_cast<std::uint8_t>(v); }
inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

OffloadResult completeChecksum(const Packet& p, std::vector<WireFrame>& out) {
    std::size_t start = p.vnet.csum_start, field = start + p.vnet.csum_offset;
    if (start < 14 || field + 2 > p.size() || field + 2 > WireFrame::kMaxHdr) return OffloadResult::kMalformed;
    WireFrame& w = out.emplace_back();
    w.hdr_len = static_cast<std::uint16_t>(field + 2);
    std::memcpy(w.hdr, p.data(), w.hdr_len);
    std::uint16_t c = static_cast<std::uint16_t>(~csumFold(csumPartial(p.data() + start, p.size() - start, 0)));
    put16(w.hdr + field, c ? c : 0xffff);  // UDP: 0 means "no checksum"; TCP never yields 0 here
    w.payload = p.data() + w.hdr_len;
    w.payload_len = p.size() - w.hdr_len;
    return OffloadResult::kOk;
}

// One TCP segment: headers copied from the super-frame and fixed for payload [off, off+len).
void emitSegment(const Packet& p, std::size_t l3, std::size_t l4, std::size_t hlen, bool v4, std::size_t off,
                 std::size_t len, std::size_t index, bool last, std::vector<WireFrame>& out) {
    WireFrame& w = out.emplace_back();
    std::memcpy(w.hdr, p.data(), hlen);
    w.hdr_len = static_cast<std::uint16_t>(hlen);
    w.payload = p.data() + hlen + off;
    w.payload_len = static_cast<std::uint32_t>(len);
    std::uint8_t* ip = w.hdr + l3;
    std::uint8_t* th = w.hdr + l4;
    std::size_t tcp_len = hlen - l4 + len;
    if (v4) {
        put16(ip + 2, static_cast<std::uint16_t>(l4 - l3 + tcp_len));
        put16(ip + 4, static_cast<std::uint16_t>(get16(ip + 4) + index));
        put16(ip + 10, 0);
        put16(ip + 10, static_cast<std::uint16_t>(~csumFold(csumPartial(ip, l4 - l3, 0))));
    } else {
        put16(ip + 4, static_cast<std::uint16_t>(l4 - l3 - 40 + tcp_len));
    }
    std::uint32_t seq;
    std::memcpy(&seq, th + 4, 4);
    seq = htonl(ntohl(seq) + static_cast<std::uint32_t>(off));
    std::memcpy(th + 4, &seq, 4);
    if (!last) th[13] &= static_cast<std::uint8_t>(~0x09);  // FIN, PSH only on the last segment
    if (index) th[13] &= static_cast<std::uint8_t>(~0x80);  // CWR only on the first
    put16(th + 16, 0);
    std::uint32_t sum = v4 ? csumPartial(ip + 12, 8, 0) : csumPartial(ip + 8, 32, 0);
    sum += 6 + static_cast<std::uint32_t>(tcp_len);
    sum = csumPartial(th, hlen - l4, sum);
    sum = csumPartial(w.payload, len, sum);
    put16(th + 16, static_cast<std::uint16_t>(~csumFold(sum)));
}

OffloadResult segmentTcp(const Packet& p, std::vector<WireFrame>& out) {
    std::uint16_t type = 0;
    std::size_t l3 = l3Start(p.data(), p.size(), type);
    bool v4 = (p.vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4;
    if (!l3 || type != (v4 ? kEthTypeIPv4 : kEthTypeIPv6)) return OffloadResult::kMalformed;
    std::size_t l4 = p.vnet.csum_start;
    if (l4 <= l3 || l4 + 20 > p.size()) return OffloadResult::kMalformed;
    std::size_t doff = (p.data()[l4 + 12] >> 4) * 4u;
    std::size_t hlen = l4 + doff;
    std::size_t mss = p.vnet.gso_size;
    // The TCP header (at least 20 bytes: emitSegment writes flags and checksum at th+13..th+17)
    // must lie inside both the frame and the header copy, and the segment count stay bounded.
    if (doff < 20 || hlen > p.size() || hlen > WireFrame::kMaxHdr || mss < kMinTcpGsoSize)
        return OffloadResult::kMalformed;
    std::size_t payload = p.size() - hlen;
    if ((payload + mss - 1) / mss > kMaxGsoSegments) return OffloadResult::kMalformed;
    std::size_t index = 0;
    for (std::size_t off = 0; off < payload || (payload == 0 && index == 0); off += mss, ++index) {
        std::size_t len = std::min(mss, payload - off);
        emitSegment(p, l3, l4, hlen, v4, off, len, index, off + len >= payload, out);
        if (payload == 0) break;
    }
    return OffloadResult::kOk;
}

}  // namespace

OffloadResult softwareOffload(const Packet& p, std::vector<WireFrame>& out) {
    std::uint8_t gso = p.vnet.gso_type & static_cast<std::uint8_t>(~VIRTIO_NET_HDR_GSO_ECN);
    if (gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6) return segmentTcp(p, out);
    if (gso != VIRTIO_NET_HDR_GSO_NONE) return OffloadResult::kUnsupported;
    if (p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) return completeChecksum(p, out);
    WireFrame& w = out.emplace_back();
    w.hdr_len = 0;
    w.payload = p.data();
    w.payload_len = p.size();
    return OffloadResult::kOk;
}

}  // namespace vs::dp
