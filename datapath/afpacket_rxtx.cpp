// Per-packet code for AfPacketPort: batched receive and transmit. See afpacket_port.h.
#include <arpa/inet.h>
#include <cerrno>

#include "datapath/afpacket_port.h"
#include "datapath/coverage.h"
#include "datapath/flow_key.h"

namespace vs::dp {

// The kernel strips the outer 802.1Q tag into skb metadata before AF_PACKET sees the frame;
// PACKET_AUXDATA hands it back and this puts it back in the frame (IEEE 802.1Q section 9), so the
// rest of the switch sees frames as they were on the wire.
bool AfPacketPort::restoreVlan(Packet& p, const msghdr& mh) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&mh), c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || p.size() < 12) return true;
        std::uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : kEthTypeVlan;
        std::uint8_t* d = p.push(4);
        std::memmove(d, d + 4, 12);
        std::uint16_t tag[2] = {htons(tpid), htons(aux.tp_vlan_tci)};
        std::memcpy(d + 12, tag, 4);
        if (p.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) p.vnet.csum_start += 4;
        if (p.vnet.hdr_len) p.vnet.hdr_len += 4;
        coverageAdd(Coverage::rx_vlan_restored);
        return true;
    }
    return true;
}

int AfPacketPort::receive(Packet** pkts, int max) noexcept {
    if (max > kBatchSize) max = kBatchSize;
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
        restoreVlan(*p, rx_msgs_[i].msg_hdr);
        bytes += p->size();
        std::swap(pkts[n], pkts[i]);  // keep received packets contiguous
        ++n;
    }
    PortStats::add(stats().rx_packets, static_cast<std::uint64_t>(n));
    PortStats::add(stats().rx_bytes, bytes);
    PortStats::add(stats().rx_dropped, dropped);
    return n;
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
            int r = ::sendmmsg(fd_, tx_msgs_.data() + i, static_cast<unsigned>(cnt - i), MSG_DONTWAIT);
            if (r > 0) {
                for (int k = i; k < i + r; ++k) bytes += pkts[base + k]->size();
                sent += r;
                i += r;
                continue;
            }
            if (errno == EINTR) continue;
            // The frame at i was refused (full queue, too big for the MTU, bad offload header).
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
