// RxRing: a memory-mapped AF_PACKET receive ring (TPACKET_V2, Documentation/networking/
// packet_mmap.rst in the kernel tree) on a packet socket that already has PACKET_VNET_HDR and is
// bound.
//
// Why V2 and not V3: a V3 block is handed to user space only when it is full or its timeout
// (>= 1 ms) expires, which would add up to a millisecond to every request/response exchange; a V2
// slot is handed over (and the socket woken) per frame.
//
// The kernel copies each received frame into a slot in the softirq of the device that delivered
// it (for a veth: the sender's CPU), so the poll thread skips recvmmsg's queueing, syscall and
// per-packet copy-out; it copies the frame from the slot into its Packet. Frames longer than a
// slot (GSO super-frames, jumbo frames) are marked TP_STATUS_COPY in their slot and queued whole
// on the socket (PACKET_COPY_THRESH); the reader fetches them with recvmsg in ring order.
//
// Thread-safety: one reader (the poll thread that owns the port). Construction and destruction on
// any thread while no reader runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>

#include <sys/socket.h>

#include "datapath/packet.h"

namespace vs::dp {

class RxRing {
public:
    static constexpr std::uint32_t kFrameSize = 2048;  // holds a 1518-byte frame + headers

    // Sets up a ring of `frames` slots (a power of two, >= 32; EINVAL otherwise) on `fd`. On
    // failure returns nullptr and sets `ec`; the socket may keep the TPACKET_V2 version and copy
    // threshold set on the way, so callers close it (AfPacketPort does).
    static std::unique_ptr<RxRing> create(int fd, std::uint32_t frames, std::error_code& ec);
    ~RxRing();
    RxRing(const RxRing&) = delete;
    RxRing& operator=(const RxRing&) = delete;

    // Bytes of kernel memory the ring pins (mapped into this process).
    std::size_t bytes() const noexcept { return size_; }

    // Receives up to `max` frames into pkts[0..max) (frame, size, offload header, VLAN tag put
    // back into the frame). Frames that cannot be received whole are counted in `dropped`.
    // Returns the number received; never blocks.
    int receive(Packet** pkts, int max, std::uint64_t& dropped) noexcept;

private:
    RxRing(int fd, std::uint8_t* map, std::size_t size, std::uint32_t frames)
        : fd_(fd), map_(map), size_(size), frames_(frames) {}
    bool fetchCopied(Packet& p) noexcept;

    int fd_;
    std::uint8_t* map_;
    std::size_t size_;
    std::uint32_t frames_;
    std::uint32_t head_ = 0;  // next slot to look at
};

// The kernel strips the outer 802.1Q tag into skb metadata before AF_PACKET sees the frame; the
// ring slot or PACKET_AUXDATA hands it back. These put it back into the frame after the source
// MAC (IEEE 802.1Q section 9) and shift the offload offsets with it, so the rest of the switch
// sees frames as they were on the wire.
void restoreVlanTag(Packet& p, std::uint16_t tpid, std::uint16_t tci) noexcept;
// From the PACKET_AUXDATA control message of a received `mh`, if it carries a tag.
void restoreVlanFromAuxdata(Packet& p, const msghdr& mh) noexcept;

}  // namespace vs::dp
