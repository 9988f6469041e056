// Fuzz entry point: what a guest controls on a TAP or PACKET_VNET_HDR port, a (virtio_net_hdr,
// frame) pair, through the validation (dp::checkVnetHdr) and the software offloads that tunnels use
// (dp::softwareOffload: TCP segmentation and checksum completion). Issue #21.
//
// Input: 10 bytes of virtio_net_hdr (host order, as the kernel hands it over), 2 bytes (big
// endian) of padding length, then the frame; the frame is extended by that many bytes of a fixed
// pattern (up to dp::kMaxFrame in all), so that short inputs reach GSO-sized frames.
//
// softwareOffload runs twice: on the raw pair (it must be safe on its own: the header copy is a
// fixed 192-byte buffer inside WireFrame, where an overflow is invisible to ASan, hence the
// checks below) and on the validated pair. Invariants: every WireFrame's header fits its buffer and
// its payload slice lies inside the frame; segmentation yields at most kMaxGsoSegments frames that
// share one header length and cover the payload contiguously; a TCP GSO frame the validation
// accepted is segmented (never kMalformed), and every IPv4 segment has valid IP and TCP checksums;
// a refused pair names a drop_vnet_* counter.
#pragma once

#include <cstring>
#include <vector>

#include "datapath/coverage.h"
#include "datapath/flow_key.h"
#include "datapath/gso.h"
#include "datapath/vnet_hdr.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline void checkWireFrames(const char* name, const dp::Packet& p, const std::vector<dp::WireFrame>& out) {
    const std::uint8_t* lo = p.data();
    const std::uint8_t* hi = p.data() + p.size();
    if (out.size() > dp::kMaxGsoSegments) fuzzFail(name, "more than kMaxGsoSegments wire frames");
    for (const dp::WireFrame& w : out) {
        if (w.hdr_len > dp::WireFrame::kMaxHdr) fuzzFail(name, "wire frame header longer than its buffer");
        if (w.payload_len && (w.payload < lo || w.payload > hi || w.payload_len > std::size_t(hi - w.payload)))
            fuzzFail(name, "wire frame payload outside the frame");
    }
    if (out.size() < 2) return;
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].hdr_len != out[0].hdr_len) fuzzFail(name, "segments with different header lengths");
        if (out[i].payload != out[i - 1].payload + out[i - 1].payload_len)
            fuzzFail(name, "segment payloads not contiguous");
    }
    if (out.back().payload + out.back().payload_len != hi) fuzzFail(name, "segments do not cover the frame");
}

inline std::uint16_t wireSum(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
    return dp::csumFold(dp::csumPartial(p, n, s));
}

// IP header and TCP checksum of one untagged-or-tagged IPv4 segment (headers from hdr, payload).
inline bool ipv4SegmentValid(const dp::WireFrame& w, std::size_t l3, std::size_t l4) {
    std::vector<std::uint8_t> f(w.hdr, w.hdr + w.hdr_len);
    f.insert(f.end(), w.payload, w.payload + w.payload_len);
    const std::uint8_t* ip = f.data() + l3;
    if (wireSum(ip, l4 - l3) != 0xffff) return false;
    std::size_t tcp_len = f.size() - l4;
    std::uint32_t pseudo = dp::csumPartial(ip + 12, 8, 0) + 6 + static_cast<std::uint32_t>(tcp_len);
    return wireSum(f.data() + l4, tcp_len, pseudo) == 0xffff;
}

inline int vnetOffload(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "vnet_offload";
    if (size < 12) return 0;
    dp::virtio_net_hdr h;
    std::memcpy(&h, data, sizeof h);
    std::size_t pad = static_cast<std::size_t>(data[10] << 8 | data[11]);
    std::size_t len = size - 12;
    if (len + pad > dp::kMaxFrame) pad = dp::kMaxFrame - std::min(len, dp::kMaxFrame);
    len = std::min(len, dp::kMaxFrame);
    static dp::Packet raw, checked;
    raw.reset();
    std::memcpy(raw.data(), data + 12, len);
    for (std::size_t i = 0; i < pad; ++i) raw.data()[len + i] = static_cast<std::uint8_t>(i * 31 + 7);
    raw.setSize(static_cast<std::uint32_t>(len + pad));
    raw.vnet = h;
    checked.copyFrom(raw);

    std::vector<dp::WireFrame> out;
    if (dp::softwareOffload(raw, out) == dp::OffloadResult::kOk) checkWireFrames(kName, raw, out);

    dp::Coverage why = dp::checkVnetHdr(checked);
    if (why != dp::Coverage::kCount) {
        std::string name(dp::coverageInfo(why).name);
        if (name.rfind("drop_vnet_", 0) != 0) fuzzFail(kName, "a refused header names counter " + name);
        return 0;
    }
    out.clear();
    dp::OffloadResult r = dp::softwareOffload(checked, out);
    const std::uint8_t gso = checked.vnet.gso_type & static_cast<std::uint8_t>(~dp::VIRTIO_NET_HDR_GSO_ECN);
    const bool tcp = gso == dp::VIRTIO_NET_HDR_GSO_TCPV4 || gso == dp::VIRTIO_NET_HDR_GSO_TCPV6;
    if (tcp && r != dp::OffloadResult::kOk) fuzzFail(kName, "a validated TCP GSO frame was not segmented");
    if (r != dp::OffloadResult::kOk) return 0;
    checkWireFrames(kName, checked, out);
    if (tcp && out.size() < 2) fuzzFail(kName, "a validated GSO frame became fewer than two segments");
    if (gso == dp::VIRTIO_NET_HDR_GSO_TCPV4) {
        // The IPv4 header starts after the Ethernet header and its tags (validated: at most two).
        const std::uint8_t* d = checked.data();
        std::size_t l4 = checked.vnet.csum_start, l3 = 14;
        auto tagged = [&](std::size_t at) {
            std::uint16_t t = static_cast<std::uint16_t>(d[at] << 8 | d[at + 1]);
            return t == dp::kEthTypeVlan || t == dp::kEthTypeQinQ;
        };
        while (l3 < 22 && tagged(l3 - 2)) l3 += 4;
        for (const dp::WireFrame& w : out)
            if (!ipv4SegmentValid(w, l3, l4)) fuzzFail(kName, "a segment has a wrong IPv4 or TCP checksum");
    }
    return 0;
}

}  // namespace vs::fuzz
