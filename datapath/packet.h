// Packets and batches: the unit of work on the fast path.
//
// A Packet owns one fixed buffer, allocated once when its pool is created and reused for every
// frame it carries (no per-packet allocation). The frame starts `kHeadroom` bytes into the buffer
// so that tags and encapsulations can be pushed in place. Offload metadata travels with the frame
// as a virtio-net header (the format AF_PACKET and TAP use with PACKET_VNET_HDR / IFF_VNET_HDR),
// so GSO super-frames and checksum-offloaded frames cross the switch intact.
//
// Thread-safety: a Packet belongs to one poll thread at a time; no internal locking.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>


namespace vs::dp {

// The virtio-net header (virtio spec 1.x section 5.1.6, struct virtio_net_hdr, 10 bytes, host
// byte order on packet sockets and TAP). Declared here because <linux/virtio_net.h> is not
// valid C++ (it has a field named `class`).
struct virtio_net_hdr {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;
    std::uint16_t gso_size;
    std::uint16_t csum_start;
    std::uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10);
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_UDP = 3;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

// A 48-bit IEEE 802 MAC address, in transmission (network) order.
struct MacAddr {
    std::array<std::uint8_t, 6> b{};
    bool isMulticast() const noexcept { return b[0] & 1; }  // includes broadcast
    bool isBroadcast() const noexcept {
        return b == std::array<std::uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    }
    bool isZero() const noexcept { return b == std::array<std::uint8_t, 6>{}; }
    std::uint64_t toU64() const noexcept {
        std::uint64_t v = 0;
        for (auto x : b) v = (v << 8) | x;
        return v;
    }
    std::string toString() const;
    // Parses "aa:bb:cc:dd:ee:ff"; returns false on bad syntax.
    static bool parse(const std::string& s, MacAddr& out);
    bool operator==(const MacAddr&) const = default;
    auto operator<=>(const MacAddr&) const = default;
};

inline constexpr std::size_t kHeadroom = 128;               // room for tags / encapsulation
inline constexpr std::size_t kMaxFrame = 65536 + 18;         // largest GSO frame we accept (+L2)
inline constexpr std::size_t kBufferSize = kHeadroom + kMaxFrame;
inline constexpr int kBatchSize = 32;

class Packet {
public:
    Packet() : buf_(std::make_unique<std::uint8_t[]>(kBufferSize)) { reset(); }

    std::uint8_t* data() noexcept { return buf_.get() + offset_; }
    const std::uint8_t* data() const noexcept { return buf_.get() + offset_; }
    std::uint32_t size() const noexcept { return size_; }
    // Room after data() for a received frame.
    std::size_t tailroom() const noexcept { return kBufferSize - offset_; }
    void setSize(std::uint32_t n) noexcept { size_ = n; }

    // Prepends `n` bytes (must be <= headroom()). Returns the new start.
    std::uint8_t* push(std::size_t n) noexcept { offset_ -= n; size_ += n; return data(); }
    // Removes `n` bytes from the front.
    void pull(std::size_t n) noexcept { offset_ += n; size_ -= n; }
    std::size_t headroom() const noexcept { return offset_; }

    void reset() noexcept {
        offset_ = kHeadroom;
        size_ = 0;
        in_port = 0;
        tun_id = 0;
        tun_src = tun_dst = 0;
        priority = 0;
        std::memset(&vnet, 0, sizeof vnet);
    }
    // Copies frame, metadata and offload info from `o`.
    void copyFrom(const Packet& o) noexcept {
        offset_ = kHeadroom;
        size_ = o.size_;
        std::memcpy(data(), o.data(), o.size_);
        in_port = o.in_port;
        vnet = o.vnet;
        tun_id = o.tun_id;
        tun_src = o.tun_src;
        tun_dst = o.tun_dst;
        hash = o.hash;
        priority = o.priority;
    }

    std::uint32_t in_port = 0;      // datapath port number the frame arrived on (0: the polled port)
    std::uint64_t tun_id = 0;       // tunnel metadata: VNI (RFC 7348) on receive and for flow-based send
    std::uint32_t tun_src = 0;      // outer IPv4 source / destination, network order
    std::uint32_t tun_dst = 0;
    std::uint64_t hash = 0;         // flow hash, set by the datapath before actions run
    std::uint32_t priority = 0;     // skb->priority on transmit (kSetPriority; selects an egress QoS class)
    virtio_net_hdr vnet{};          // offload info (GSO type/size, checksum start/offset)
    std::uint16_t tx_refs = 0;      // outputs queued for this packet in the current batch

private:
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t offset_ = kHeadroom;
    std::uint32_t size_ = 0;
};

// A fixed set of reusable packets owned by one poll thread.
class PacketPool {
public:
    explicit PacketPool(std::size_t n) : packets_(n) {}
    Packet& operator[](std::size_t i) noexcept { return packets_[i]; }
    std::size_t size() const noexcept { return packets_.size(); }

private:
    std::vector<Packet> packets_;
};

}  // namespace vs::dp
