// TapPort: an "internal" port — a TAP device the daemon creates and owns (/dev/net/tun with
// IFF_TAP | IFF_NO_PI | IFF_VNET_HDR). It is the host's own L3 interface on a bridge: what the
// host sends through the device arrives here, what the switch sends here is delivered to the
// host stack. Frames are written through the fd, never through AF_PACKET (which would loop back
// as receive). Offloads (checksum, TSO) are enabled so that the host's TCP crosses the switch as
// GSO super-frames with their virtio-net header, as on AF_PACKET ports.
//
// Thread-safety: receive() from the owning poll thread, send() under Port::txMutex(); construction on the control thread.
// Lifecycle: the device exists while the object lives (not persistent); the destructor closes
// the fd and the kernel removes the device.
#pragma once

#include <memory>
#include <system_error>

#include "datapath/netdev_port.h"

namespace vs::dp {

class TapPort final : public NetdevPort {
public:
    // Creates TAP device `name` (1..15 characters) and brings it up. Fails with EBUSY/EEXIST when
    // a device of that name exists (and is not a free TAP), EPERM without CAP_NET_ADMIN.
    static std::unique_ptr<TapPort> create(const std::string& name, std::error_code& ec);
    ~TapPort() override;

    const char* type() const noexcept override { return "internal"; }
    int fd() const noexcept override { return fd_; }
    int receive(Packet** pkts, int max) noexcept override;
    int send(Packet* const* pkts, int n) noexcept override;

private:
    TapPort(std::string name, int fd) : NetdevPort(std::move(name)), fd_(fd) {}
    int fd_ = -1;
};

}  // namespace vs::dp
