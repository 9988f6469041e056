// AfPacketPort: a "system" port — an existing Linux netdev (veth end, NIC, a TAP that QEMU
// created) opened with an AF_PACKET socket.
//
// Setup (afpacket_port.cpp): PACKET_VNET_HDR so GSO and checksum-offloaded frames cross the switch
// as one packet with their offload info (TCP keeps working on veths with offloads on);
// PACKET_AUXDATA so VLAN tags the kernel moved into metadata are put back into the frame;
// PACKET_IGNORE_OUTGOING so our own transmissions are not received again; promiscuous
// membership; the device is brought up.
// Per-packet (afpacket_rxtx.cpp): batched receive with recvmmsg and transmit with sendmmsg.
//
// Busy ports get a memory-mapped receive ring (datapath/rx_ring.h; promote()/demote() in
// afpacket_port.cpp): a port that receives at least setRingPromotePps() for a sustained moment is
// moved, on its poll thread, to a second socket with a TPACKET_V2 ring, while the process-wide
// ring budget (setRingBudget) lasts; a ring port that stays below kRingKeepPps for kRingIdleMs
// gives its ring back. A switch-over is ordered and never duplicates a frame: the socket that
// takes over starts with (or keeps) a drop-all filter; the one handing over is switched to
// drop-all, then the other to accept-all (a frame arriving between the two calls is lost); the
// handing-over socket is drained before the other is read, and fd() changes only then. The
// first socket is the transmit socket throughout.
//
// Thread-safety: receive() from the owning poll thread, send() under Port::txMutex(); construction on the control
// thread; fd() from the owning poll thread (or anywhere, for a value that may be just replaced).
// The sockets are closed (and promiscuous membership dropped) by the destructor.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <memory>
#include <system_error>

#include <linux/if_packet.h>

#include "datapath/netdev_port.h"
#include "datapath/rx_ring.h"

namespace vs::dp {

class AfPacketPort final : public NetdevPort {
public:
    // Opens netdev `name`. On failure returns nullptr and sets `ec` (ENODEV when the device does
    // not exist, EPERM without CAP_NET_RAW, ...).
    static std::unique_ptr<AfPacketPort> open(const std::string& name, std::error_code& ec);
    ~AfPacketPort() override;

    const char* type() const noexcept override { return "system"; }
    int fd() const noexcept override { return rx_fd_.load(std::memory_order_relaxed); }
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const* pkts, int n) noexcept override;
    bool housekeep(std::int64_t now_ms) noexcept override;
    int ifindex() const noexcept { return ifindex_; }

    // Bytes of receive rings all ports together may map (0: no rings). Default 32 MiB (64 ports).
    static void setRingBudget(std::size_t bytes) noexcept;
    static std::size_t ringBytesInUse() noexcept;
    // Receive rate that earns a ring, frames per second sustained over kRingPromoteFrames
    // (default 20,000; at least 1). Process-wide; takes effect at each port's next window.
    static void setRingPromotePps(std::uint64_t pps) noexcept;
    static constexpr std::uint64_t kRingPromotePpsDefault = 20000;
    static constexpr std::uint64_t kRingPromoteFrames = 4096;
    static constexpr std::uint32_t kRingFrames = 256;  // slots (2 KiB each: 512 KiB per ring)
    // A ring port below this rate (frames per second, per housekeeping second) for kRingIdleMs
    // gives its ring back.
    static constexpr std::uint64_t kRingKeepPps = 1000;
    static constexpr std::int64_t kRingIdleMs = 30000;

private:
    AfPacketPort(std::string name, int fd, int ifindex);
    int receiveQueued(Packet** pkts, int max, int& taken) noexcept;
    int receiveRing(Packet** pkts, int max) noexcept;
    void countRate(int n) noexcept;
    int samePriorityRun(Packet* const* pkts, int i, int cnt) noexcept;
    static std::int64_t promoteWindowNs() noexcept;  // kRingPromoteFrames at the promotion rate
    bool promote() noexcept;
    bool settleDrain() noexcept;
    void demote() noexcept;
    void finishDemotion() noexcept;

    static constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(tpacket_auxdata));
    int fd_ = -1;                 // transmit socket; also the receive socket until promoted
    std::atomic<int> rx_fd_{-1};  // the socket the poll thread waits on
    int ifindex_ = 0;
    std::uint32_t tx_priority_ = 0;  // SO_PRIORITY of fd_ (egress QoS class of the frames sent)
    std::unique_ptr<RxRing> ring_;  // receive ring, once promoted
    int ring_fd_ = -1;            // its socket
    int retired_fd_ = -1;         // a ring socket handed back, closed once no longer watched
    bool draining_ = false;       // promoted; frames queued on fd_ before the switch remain
    bool demoting_ = false;       // handing the ring back; its frames remain
    bool ring_refused_ = false;   // the kernel refused a ring: stop trying
    std::uint64_t window_frames_ = 0;   // promotion: frames in the current window
    std::int64_t window_start_ns_ = 0;
    std::uint64_t ring_frames_ = 0;     // demotion: frames since the last housekeep()
    std::int64_t ring_busy_ms_ = 0;     // last housekeep() that found the ring port busy
    // Per-call scratch for recvmmsg/sendmmsg, sized for one batch.
    std::array<mmsghdr, kBatchSize> rx_msgs_{};
    std::array<std::array<iovec, 2>, kBatchSize> rx_iov_{};
    std::array<std::array<unsigned char, kCmsgSpace>, kBatchSize> rx_cmsg_{};
    std::array<mmsghdr, kBatchSize> tx_msgs_{};
    std::array<std::array<iovec, 2>, kBatchSize> tx_iov_{};
};

}  // namespace vs::dp
