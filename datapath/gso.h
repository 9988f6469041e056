// Software offloads for ports that cannot take a frame with a virtio-net header (VXLAN tunnels):
// TCP segmentation of GSO super-frames and completion of checksums that the sender left to
// "hardware" (CHECKSUM_PARTIAL). Without this, a TSO frame from a veth would leave a tunnel as one
// 64 KiB datagram with a wrong checksum.
//
// The output is a list of wire frames, each given as a rewritten copy of its headers followed by
// a slice of the original packet's payload, so payload bytes are never copied (only read, for the
// checksum).
//
// Thread-safety: pure functions; the caller owns the output vector.
#pragma once

#include <cstdint>
#include <vector>

#include "datapath/packet.h"

namespace vs::dp {

struct WireFrame {
    static constexpr std::size_t kMaxHdr = 192;
    std::uint8_t hdr[kMaxHdr];   // rewritten headers (hdr_len bytes), then...
    std::uint16_t hdr_len = 0;
    const std::uint8_t* payload = nullptr;  // ...these bytes of the original packet
    std::uint32_t payload_len = 0;
    std::uint32_t size() const { return hdr_len + payload_len; }
};

enum class OffloadResult { kOk, kUnsupported, kMalformed };

// Appends to `out` the wire frames of `p`: one frame for a plain frame (no copy) or a
// checksum-offloaded one (checksum completed, RFC 1071), MSS-sized TCP segments for a TCPv4/TCPv6
// GSO frame (IP length/ID/checksum, TCP sequence, flags and checksum fixed per segment, as RFC 7414's
// TSO behaviour). kUnsupported: a GSO type other than TCP (nothing appended); kMalformed: offsets
// outside the frame.
OffloadResult softwareOffload(const Packet& p, std::vector<WireFrame>& out);

// Internet checksum (RFC 1071) of `n` bytes added to `sum`, not folded.
std::uint32_t csumPartial(const std::uint8_t* p, std::size_t n, std::uint32_t sum) noexcept;
std::uint16_t csumFold(std::uint32_t sum) noexcept;

}  // namespace vs::dp
