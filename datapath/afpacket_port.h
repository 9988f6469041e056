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
// Thread-safety: receive() from the owning poll thread, send() under Port::txMutex(); construction on the control
// thread. The socket is closed (and promiscuous membership dropped) by the destructor.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <memory>
#include <system_error>

#include <linux/if_packet.h>

#include "datapath/netdev_port.h"

namespace vs::dp {

class AfPacketPort final : public NetdevPort {
public:
    // Opens netdev `name`. On failure returns nullptr and sets `ec` (ENODEV when the device does
    // not exist, EPERM without CAP_NET_RAW, ...).
    static std::unique_ptr<AfPacketPort> open(const std::string& name, std::error_code& ec);
    ~AfPacketPort() override;

    const char* type() const noexcept override { return "system"; }
    int fd() const noexcept override { return fd_; }
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const* pkts, int n) noexcept override;
    int ifindex() const noexcept { return ifindex_; }

private:
    AfPacketPort(std::string name, int fd, int ifindex);
    bool restoreVlan(Packet& p, const msghdr& mh) noexcept;

    static constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(tpacket_auxdata));
    int fd_ = -1;
    int ifindex_ = 0;
    // Per-call scratch for recvmmsg/sendmmsg, sized for one batch.
    std::array<mmsghdr, kBatchSize> rx_msgs_{};
    std::array<std::array<iovec, 2>, kBatchSize> rx_iov_{};
    std::array<std::array<unsigned char, kCmsgSpace>, kBatchSize> rx_cmsg_{};
    std::array<mmsghdr, kBatchSize> tx_msgs_{};
    std::array<std::array<iovec, 2>, kBatchSize> tx_iov_{};
};

}  // namespace vs::dp
