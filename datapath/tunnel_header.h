// Tunnel encapsulation headers: parsing what arrives and building what leaves, for the three
// tunnel protocols the datapath speaks (docs/tunnels.md):
//   - VXLAN (RFC 7348 section 5), over UDP (default port 4789): 8 bytes, I flag + 24-bit VNI;
//   - Geneve (RFC 8926 section 3), over UDP (default port 6081): 8 bytes + options, 24-bit VNI,
//     protocol type 0x6558 (an Ethernet frame follows);
//   - GRE (RFC 2784 with RFC 2890's key and sequence number), IP protocol 47: 4 to 16 bytes,
//     protocol type 0x6558 ("gretap", Open vSwitch's type=gre), optional checksum and 32-bit key.
// Parsing is pure (no sockets, no state) so it is unit-tested and fuzzed on its own; the receive
// and transmit paths (tunnel.h) call it per packet.
//
// Thread-safety: plain functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "datapath/coverage.h"

namespace vs::dp {

enum class TunnelProto : std::uint8_t { kVxlan, kGeneve, kGre };

inline constexpr std::uint16_t kVxlanPort = 4789;   // IANA, RFC 7348 section 5
inline constexpr std::uint16_t kGenevePort = 6081;  // IANA, RFC 8926 section 3.3
inline constexpr std::uint16_t kEthTypeTeb = 0x6558;  // Transparent Ethernet Bridging
inline constexpr std::size_t kMaxTunnelHeader = 16;   // the longest header build*Header() writes

const char* tunnelProtoName(TunnelProto p) noexcept;  // "vxlan" | "geneve" | "gre"

// What a received tunnel header says. On success (`ok`), `inner` is the offset of the inner
// Ethernet frame from the header's start and `tun_id` the VNI (VXLAN, Geneve) or GRE key (0
// when the K bit is clear). On failure `why` names the drop counter.
struct TunnelHeader {
    bool ok = false;
    Coverage why{};
    std::size_t inner = 0;
    std::uint64_t tun_id = 0;
    bool key_present = false;      // GRE: the K bit
    std::uint32_t geneve_opts = 0; // Geneve: options carried (skipped; none is critical)
};

// RFC 7348 section 5: I flag set; reserved bits ignored (counted); at least an Ethernet header.
TunnelHeader parseVxlan(const std::uint8_t* h, std::size_t len) noexcept;
// RFC 8926 section 3.4: version 0; O (control) packets are not data and are dropped; protocol
// 0x6558; the options (Opt Len x 4 bytes) inside the datagram and well formed (each option's
// length within the options); a critical option (C bit, or an option type with its high bit
// set) is dropped, since this endpoint understands no option (section 3.5.1); others are skipped.
TunnelHeader parseGeneve(const std::uint8_t* h, std::size_t len) noexcept;
// RFC 2784 section 2 / RFC 2890: version 0, no routing (R, RFC 1701); protocol 0x6558; with the
// C bit the checksum over the GRE header and payload must verify (RFC 1071); K gives the key,
// S's sequence number is skipped (not enforced; RFC 2890 section 2.2 allows that).
TunnelHeader parseGre(const std::uint8_t* h, std::size_t len) noexcept;
TunnelHeader parseTunnelHeader(TunnelProto p, const std::uint8_t* h, std::size_t len) noexcept;

// Writes the header for an inner frame of `inner_len` bytes into `out` (kMaxTunnelHeader bytes of
// room) and returns its length. `id` is the VNI (24 bits used) or the GRE key. GRE: the K bit is
// set when `key_present`; with `csum` the C bit is set and the checksum left 0, to be completed by
// greFinishCsum() once the payload is known.
std::size_t buildTunnelHeader(TunnelProto p, std::uint8_t* out, std::uint64_t id, bool key_present,
                              bool csum) noexcept;
// Completes a GRE checksum (RFC 2784 section 2.5): `sum` is csumPartial() of the payload after the
// header; `hdr` the header built with csum = true.
void greFinishCsum(std::uint8_t* hdr, std::size_t hdr_len, std::uint32_t payload_sum) noexcept;

// Bytes a tunnel adds in front of the inner frame, outer IPv4 header included (for the MTU check).
std::size_t tunnelOverhead(TunnelProto p, bool key_present, bool csum) noexcept;

}  // namespace vs::dp
