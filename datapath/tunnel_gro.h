// Receive offloads for tunnels: the inner frames of received tunnel datagrams, coalesced.
//
// A tunnel delivers one inner frame per datagram (about 1450 bytes of TCP payload each), where a
// veth or TAP would hand the switch one TSO super-frame of up to 64 KiB. Handing the destination
// port every segment separately costs one transmit each and makes the receiving stack do all the
// work GRO exists to avoid (docs/tunnels.md, "Receive offloads"). TunnelGro merges consecutive
// inner TCP segments of one connection, arriving through the same tunnel port, into one GSO
// super-frame with a virtio-net header (GSO TCPV4/TCPV6, checksum left partial), the form a veth
// with TSO would have produced, so every output path (AF_PACKET and TAP ports with a vnet header;
// tunnels and controllers through gso.h) already knows it. This is Linux's tcp_gro_receive rule
// set in small: same Ethernet, IP and TCP headers except lengths, IPv4 ID and checksums; sequence
// numbers contiguous; only ACK/PSH flags; equal segment sizes, a shorter or PSH segment ending the
// super-frame; at most 64 segments and 64 KiB of IP packet.
//
// Checksums. A segment joins a super-frame only if its TCP checksum verifies (RFC 1071), because
// the super-frame's checksum is left to the receiver's "hardware" and will not be checked again,
// or if it is *partial*: the sender's kernel left it to offload (CHECKSUM_PARTIAL) and no device
// on a virtual underlay ever completed it, so the field holds only the pseudo-header sum (Linux's
// tcp_v4_send_check/udp4_hwcsum convention). A UDP socket cannot see that skb state; the field's
// value shows it. A lone frame (TCP or UDP) with a partial checksum is passed on with
// VIRTIO_NET_HDR_F_NEEDS_CSUM set, exactly the state the kernel had it in, so the receiving stack
// or a tunnel's software offload completes it; a frame whose checksum is simply wrong is passed on
// unchanged (the receiver drops it, as it would have).
//
// Whole TSO frames. Linux delivers a tunnel's TSO skb to a UDP socket unsegmented when it crossed
// a virtual underlay as GSO (udp_unexpected_gso() passes SKB_GSO_UDP_TUNNEL): the "datagram" holds
// one inner frame of several segments, checksum partial, and the sender's segment size is lost. A
// partial TCP frame whose IP packet exceeds 1500 bytes is taken for one and passed on as GSO with
// segments that fit a 1450-byte inner MTU (1500 less VXLAN's 50), which is never larger than the
// sender's; a complete-checksum frame of that size is a jumbo frame and left alone.
//
// Thread-safety: one TunnelGro per receiving poll thread (it writes into that thread's packets).
#pragma once

#include <cstdint>

#include "datapath/packet.h"

namespace vs::dp {

// Tunnel metadata of an inner frame: which port it arrived on and its outer identity.
struct TunnelRx {
    std::uint32_t port_no = 0;
    std::uint64_t tun_id = 0;
    std::uint32_t tun_src = 0;   // network order
    std::uint32_t tun_dst = 0;
    bool operator==(const TunnelRx&) const = default;
};

// Whether an inner frame's L4 checksum is complete, partial (left to offload) or neither.
enum class InnerCsum { kNotL4, kValid, kPartial, kBad };

// Classifies the TCP/UDP checksum of the Ethernet frame `f` (`len` bytes; untagged or one 802.1Q
// tag; IPv4 without fragments or IPv6 without extension headers). kNotL4 for anything else,
// including IPv4 UDP without a checksum (0).
InnerCsum classifyInnerCsum(const std::uint8_t* f, std::uint32_t len) noexcept;

class TunnelGro {
public:
    static constexpr int kMaxSegments = 64;

    // Starts a batch that writes into out[0..max) (each reset before use).
    void begin(Packet** out, int max) noexcept;
    // Adds one inner frame. Returns false (and takes nothing) when it would need a new packet
    // and all `max` are used: finish() and call again with fresh packets.
    bool add(const std::uint8_t* frame, std::uint32_t len, const TunnelRx& rx) noexcept;
    // Completes the open super-frame; returns how many packets of `out` are filled.
    int finish() noexcept;

    // Segments merged into an earlier one since construction (for counters).
    std::uint64_t merged() const noexcept { return merged_; }
    // Frames passed on with a partial checksum marked NEEDS_CSUM, or merged while partial.
    std::uint64_t partial() const noexcept { return partial_; }

private:
    struct Tcp {
        bool ok = false;             // a mergeable TCP segment
        bool v6 = false;
        std::uint16_t l3 = 0, l4 = 0, hdr = 0;  // offsets: IP header, TCP header, payload
        std::uint32_t payload = 0;   // TCP payload bytes
        std::uint32_t seq = 0;
        std::uint8_t flags = 0;
        InnerCsum csum = InnerCsum::kNotL4;  // for a segment never merged: kPartial or kNotL4 only
    };
    static Tcp parseTcp(const std::uint8_t* f, std::uint32_t len) noexcept;
    bool tryMerge(const std::uint8_t* f, const Tcp& t, const TunnelRx& rx) noexcept;
    void close() noexcept;
    void startSingle(Packet& p, const std::uint8_t* f, std::uint32_t len, const TunnelRx& rx) noexcept;

    Packet** out_ = nullptr;
    int max_ = 0;
    int n_ = 0;              // packets used
    // The open super-frame: out_[n_ - 1] while open_.
    bool open_ = false;
    Tcp head_;               // its first segment's layout
    TunnelRx rx_;
    std::uint32_t next_seq_ = 0;
    std::uint32_t mss_ = 0;
    int segs_ = 0;
    std::uint64_t merged_ = 0, partial_ = 0;
};

}  // namespace vs::dp
