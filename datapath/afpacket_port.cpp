// Control code for AfPacketPort: opening and configuring the socket. See afpacket_port.h.
#include "datapath/afpacket_port.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <unistd.h>

#include "datapath/netdev_linux.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace vs::dp {
namespace {

std::error_code lastError() { return std::error_code(errno, std::generic_category()); }

bool setInt(int fd, int level, int opt, int v) { return ::setsockopt(fd, level, opt, &v, sizeof v) == 0; }

std::error_code configure(int fd, int ifindex) {
    if (!setInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) return lastError();
    if (!setInt(fd, SOL_PACKET, PACKET_AUXDATA, 1)) return lastError();
    if (!setInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) return lastError();
    // Deeper socket buffers absorb bursts while the poll thread is busy elsewhere.
    if (!setInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)) setInt(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20);
    if (!setInt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20)) setInt(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20);
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

}  // namespace

std::unique_ptr<AfPacketPort> AfPacketPort::open(const std::string& name, std::error_code& ec) {
    int idx = netdev::ifindex(name, ec);
    if (!idx) return nullptr;
    // Protocol 0 until bound, so nothing from other devices is queued before bind().
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { ec = lastError(); return nullptr; }
    ec = configure(fd, idx);
    if (!ec) ec = netdev::setUp(name);
    if (ec) { ::close(fd); return nullptr; }
    return std::unique_ptr<AfPacketPort>(new AfPacketPort(name, fd, idx));
}

AfPacketPort::AfPacketPort(std::string name, int fd, int ifindex)
    : NetdevPort(std::move(name)), fd_(fd), ifindex_(ifindex) {
    for (int i = 0; i < kBatchSize; ++i) {
        rx_msgs_[i].msg_hdr.msg_iov = rx_iov_[i].data();
        rx_msgs_[i].msg_hdr.msg_iovlen = 2;
        tx_msgs_[i].msg_hdr.msg_iov = tx_iov_[i].data();
        tx_msgs_[i].msg_hdr.msg_iovlen = 2;
    }
}

AfPacketPort::~AfPacketPort() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace vs::dp
