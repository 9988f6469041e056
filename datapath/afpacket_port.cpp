// Control code for AfPacketPort: opening and configuring the socket. See afpacket_port.h.
#include "datapath/afpacket_port.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include <linux/filter.h>

#include "datapath/coverage.h"
#include "datapath/netdev_linux.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace vs::dp {
namespace {

std::error_code lastError() { return std::error_code(errno, std::generic_category()); }

bool setInt(int fd, int level, int opt, int v) { return ::setsockopt(fd, level, opt, &v, sizeof v) == 0; }

// Drops every frame (a classic BPF program returning 0, snaplen 0).
bool setDropAll(int fd, bool on) {
    int unused = 0;  // the kernel wants an int-sized option even where it reads none
    if (!on) return ::setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) == 0;
    sock_filter insn = BPF_STMT(BPF_RET | BPF_K, 0);
    sock_fprog prog{1, &insn};
    return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

// Everything up to bind: offload header, VLAN metadata, no echo of our own sends, deep buffers,
// and (before bind, as the kernel requires) the ring and the filter when asked for.
std::error_code configure(int fd, bool drop_all, std::unique_ptr<RxRing>* ring) {
    if (!setInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) return lastError();
    if (!setInt(fd, SOL_PACKET, PACKET_AUXDATA, 1)) return lastError();
    if (!setInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) return lastError();
    // Deeper socket buffers absorb bursts while the poll thread is busy elsewhere.
    if (!setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)) setInt(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
    if (!setInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)) setInt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
    if (drop_all && !setDropAll(fd, true)) return lastError();
    std::error_code ec;
    if (ring) *ring = RxRing::create(fd, AfPacketPort::kRingFrames, ec);
    return ec;
}

std::error_code bindPromisc(int fd, int ifindex) {
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) return lastError();
    packet_mreq mr{};
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) return lastError();
    return {};
}

// A bound packet socket on `ifindex`, or -1 with `ec` set.
int openSocket(int ifindex, bool drop_all, std::unique_ptr<RxRing>* ring, std::error_code& ec) {
    // Protocol 0 until bound, so nothing from other devices is queued before bind().
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { ec = lastError(); return -1; }
    ec = configure(fd, drop_all, ring);
    if (!ec) ec = bindPromisc(fd, ifindex);
    if (ec) {
        if (ring) ring->reset();
        ::close(fd);
        return -1;
    }
    return fd;
}

std::atomic<std::size_t> g_ring_budget{32u << 20};
std::atomic<std::size_t> g_ring_bytes{0};
std::atomic<std::uint64_t> g_promote_pps{AfPacketPort::kRingPromotePpsDefault};

}  // namespace

std::unique_ptr<AfPacketPort> AfPacketPort::open(const std::string& name, std::error_code& ec) {
    int idx = netdev::ifindex(name, ec);
    if (!idx) return nullptr;
    int fd = openSocket(idx, false, nullptr, ec);
    if (fd < 0) return nullptr;
    ec = netdev::setUp(name);
    if (ec) { ::close(fd); return nullptr; }
    return std::unique_ptr<AfPacketPort>(new AfPacketPort(name, fd, idx));
}

void AfPacketPort::setRingBudget(std::size_t bytes) noexcept { g_ring_budget.store(bytes); }
std::size_t AfPacketPort::ringBytesInUse() noexcept { return g_ring_bytes.load(); }
void AfPacketPort::setRingPromotePps(std::uint64_t pps) noexcept { g_promote_pps.store(std::max<std::uint64_t>(pps, 1)); }
std::int64_t AfPacketPort::promoteWindowNs() noexcept {
    return static_cast<std::int64_t>(kRingPromoteFrames * 1'000'000'000ULL / g_promote_pps.load(std::memory_order_relaxed));
}

// Runs on the owning poll thread. See afpacket_port.h for the order of the switch-over.
// fd() stays fd_ until its queue is drained (receiveRing), so the poll thread keeps waking for it.
bool AfPacketPort::promote() noexcept {
    std::size_t want = std::size_t(kRingFrames) * RxRing::kFrameSize;
    std::size_t used = g_ring_bytes.fetch_add(want);
    if (used + want > g_ring_budget.load()) {
        g_ring_bytes.fetch_sub(want);
        coverageAdd(Coverage::rx_ring_refused);
        return false;
    }
    std::error_code ec;
    std::unique_ptr<RxRing> ring;
    int nfd = openSocket(ifindex_, true, &ring, ec);
    if (nfd < 0 || !setDropAll(fd_, true) || !setDropAll(nfd, false)) {
        if (nfd >= 0) { setDropAll(fd_, false); ring.reset(); ::close(nfd); }
        g_ring_bytes.fetch_sub(want);
        ring_refused_ = true;  // the kernel said no (memory, limits): keep recvmmsg
        coverageAdd(Coverage::rx_ring_refused);
        return false;
    }
    ring_ = std::move(ring);
    ring_fd_ = nfd;
    draining_ = true;  // fd() moves to the ring once fd_'s queue is empty
    settleDrain();
    ring_busy_ms_ = 0;
    coverageAdd(Coverage::rx_ring_promoted);
    return true;
}

// Runs on the owning poll thread: the ring socket stops taking frames, fd_ starts again. The
// ring is read until empty (finishDemotion), then fd() moves back to fd_.
void AfPacketPort::demote() noexcept {
    if (!setDropAll(ring_fd_, true)) return;
    if (!setDropAll(fd_, false)) {
        setDropAll(ring_fd_, false);
        return;
    }
    demoting_ = true;
}

void AfPacketPort::finishDemotion() noexcept {
    g_ring_bytes.fetch_sub(ring_->bytes());
    ring_.reset();
    retired_fd_ = ring_fd_;  // still in the poll thread's epoll set until it sees fd() change
    ring_fd_ = -1;
    demoting_ = false;
    window_frames_ = 0;
    window_start_ns_ = 0;
    rx_fd_.store(fd_, std::memory_order_relaxed);
    coverageAdd(Coverage::rx_ring_released);
}

// Gives the ring back after kRingIdleMs below kRingKeepPps.
bool AfPacketPort::housekeep(std::int64_t now_ms) noexcept {
    if (!ring_ || draining_ || demoting_) return false;
    std::uint64_t frames = std::exchange(ring_frames_, 0);
    if (ring_busy_ms_ == 0 || frames >= kRingKeepPps) {
        ring_busy_ms_ = now_ms;
        return false;
    }
    if (now_ms - ring_busy_ms_ < kRingIdleMs) return false;
    demote();
    return demoting_;  // read what is left in the ring now: nothing may wake us for it
}

AfPacketPort::AfPacketPort(std::string name, int fd, int ifindex)
    : NetdevPort(std::move(name)), fd_(fd), rx_fd_(fd), ifindex_(ifindex) {
    for (int i = 0; i < kBatchSize; ++i) {
        rx_msgs_[i].msg_hdr.msg_iov = rx_iov_[i].data();
        rx_msgs_[i].msg_hdr.msg_iovlen = 2;
        tx_msgs_[i].msg_hdr.msg_iov = tx_iov_[i].data();
        tx_msgs_[i].msg_hdr.msg_iovlen = 2;
    }
}

AfPacketPort::~AfPacketPort() {
    if (ring_) {
        g_ring_bytes.fetch_sub(ring_->bytes());
        ring_.reset();  // unmapped before its socket closes
        ::close(ring_fd_);
    }
    if (retired_fd_ >= 0) ::close(retired_fd_);
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace vs::dp
