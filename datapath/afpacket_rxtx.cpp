// Per-packet code for AfPacketPort: batched receive and transmit. See afpacket_port.h.
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <cerrno>
#include <ctime>

#include "datapath/afpacket_port.h"
#include "datapath/coverage.h"
#include "datapath/flow_key.h"

namespace vs::dp {

int AfPacketPort::receive(Packet** pkts, int max) noexcept {
    if (max > kBatchSize) max = kBatchSize;
    if (retired_fd_ >= 0) {  // the poll thread has watched the new fd since the last call
        ::close(retired_fd_);
        retired_fd_ = -1;
    }
    if (ring_) return receiveRing(pkts, max);
    int taken = 0;
    int n = receiveQueued(pkts, max, taken);
    if (!ring_refused_) countRate(taken);
    return n;
}

// recvmmsg on the first socket. `taken` is how many frames left the socket (received or dropped).
int AfPacketPort::receiveQueued(Packet** pkts, int max, int& taken) noexcept {
    for (int i = 0; i < max; ++i) {
        Packet& p = *pkts[i];
        p.reset();
        rx_iov_[i][0] = {&p.vnet, sizeof(virtio_net_hdr)};
        rx_iov_[i][1] = {p.data(), p.tailroom()};
        msghdr& mh = rx_msgs_[i].msg_hdr;
        mh.msg_control = rx_cmsg_[i].data();
        mh.msg_controllen = kCmsgSpace;
        mh.msg_flags = 0;
    }
    int r = ::recvmmsg(fd_, rx_msgs_.data(), static_cast<unsigned>(max), MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (r <= 0) return 0;
    taken = r;
    int n = 0;
    std::uint64_t bytes = 0, dropped = 0;
    for (int i = 0; i < r; ++i) {
        std::size_t len = rx_msgs_[i].msg_len;
        Packet* p = pkts[i];
        if ((rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) || len < sizeof(virtio_net_hdr) ||
            len - sizeof(virtio_net_hdr) > p->tailroom()) {
            coverageAdd(Coverage::drop_oversize);
            ++dropped;
            continue;
        }
        p->setSize(static_cast<std::uint32_t>(len - sizeof(virtio_net_hdr)));
        restoreVlanFromAuxdata(*p, rx_msgs_[i].msg_hdr);
        bytes += p->size();
        std::swap(pkts[n], pkts[i]);  // keep received packets contiguous
        ++n;
    }
    stats().addRx(static_cast<std::uint64_t>(n), bytes, dropped);
    return n;
}

int AfPacketPort::receiveRing(Packet** pkts, int max) noexcept {
    if (draining_) {  // what reached fd_ before the switch goes first
        int taken = 0;
        int n = receiveQueued(pkts, max, taken);
        if (!settleDrain() || taken > 0) return n;
    }
    std::uint64_t dropped = 0;
    int n = ring_->receive(pkts, max, dropped);
    ring_frames_ += static_cast<std::uint64_t>(n);
    std::uint64_t bytes = 0;
    for (int i = 0; i < n; ++i) bytes += pkts[i]->size();
    stats().addRx(static_cast<std::uint64_t>(n), bytes, dropped);
    if (demoting_ && n == 0 && !dropped) finishDemotion();
    return n;
}

// Nothing new reaches fd_ while draining, so once its queue is empty the ring takes over:
// decided here, because an empty fd_ never wakes the poll thread again. Returns true when done.
bool AfPacketPort::settleDrain() noexcept {
    int queued = 0;
    if (::ioctl(fd_, SIOCINQ, &queued) == 0 && queued > 0) return false;
    draining_ = false;
    rx_fd_.store(ring_fd_, std::memory_order_relaxed);
    return true;
}

// Counts frames in windows of kRingPromoteFrames; a window shorter than kRingPromoteFrames at
// the promotion rate (setRingPromotePps) earns the port a ring.
void AfPacketPort::countRate(int n) noexcept {
    window_frames_ += static_cast<std::uint64_t>(n);
    if (window_frames_ < kRingPromoteFrames) return;
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    std::int64_t now = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
    if (window_start_ns_ && now - window_start_ns_ <= promoteWindowNs()) promote();
    window_start_ns_ = now;
    window_frames_ = 0;
}

// Egress QoS (docs/qos.md): the kernel takes skb->priority from the socket's SO_PRIORITY at each
// send, so frames go out in runs of equal Packet::priority and the option changes only between
// runs (no syscall at all while every frame has the default priority 0). Returns the end of the
// run that starts at `i`.
int AfPacketPort::samePriorityRun(Packet* const* pkts, int i, int cnt) noexcept {
    std::uint32_t prio = pkts[i]->priority;
    int end = i + 1;
    while (end < cnt && pkts[end]->priority == prio) ++end;
    if (prio != tx_priority_) {
        int v = static_cast<int>(prio);
        if (::setsockopt(fd_, SOL_SOCKET, SO_PRIORITY, &v, sizeof v) == 0) tx_priority_ = prio;
    }
    return end;
}

int AfPacketPort::send(Packet* const* pkts, int n) noexcept {
    int sent = 0;
    std::uint64_t bytes = 0, dropped = 0;
    for (int base = 0; base < n; base += kBatchSize) {
        int cnt = std::min(kBatchSize, n - base);
        for (int i = 0; i < cnt; ++i) {
            Packet& p = *pkts[base + i];
            tx_iov_[i][0] = {&p.vnet, sizeof(virtio_net_hdr)};
            tx_iov_[i][1] = {p.data(), p.size()};
        }
        int i = 0;
        while (i < cnt) {
            int end = samePriorityRun(pkts + base, i, cnt);
            int r = ::sendmmsg(fd_, tx_msgs_.data() + i, static_cast<unsigned>(end - i), MSG_DONTWAIT);
            if (r > 0) {
                for (int k = i; k < i + r; ++k) bytes += pkts[base + k]->size();
                sent += r;
                i += r;
                continue;
            }
            if (errno == EINTR) continue;
            if (txQueueFull(errno)) {  // the rest would fail the same way: one syscall, not n
                std::uint64_t rest = static_cast<std::uint64_t>(n - base - i);
                coverageAdd(Coverage::drop_tx_busy, rest);
                dropped += rest;
                base = n;
                break;
            }
            // The frame at i was refused (too big for the MTU, bad offload header).
            coverageAdd(Coverage::drop_tx_error);
            ++dropped;
            ++i;
        }
    }
    PortStats::add(stats().tx_packets, static_cast<std::uint64_t>(sent));
    PortStats::add(stats().tx_bytes, bytes);
    PortStats::add(stats().tx_dropped, dropped);
    return sent;
}

}  // namespace vs::dp
