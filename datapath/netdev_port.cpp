// Control code of NetdevPort. See netdev_port.h.
#include "datapath/netdev_port.h"

#include "datapath/netdev_linux.h"

namespace vs::dp {

MacAddr NetdevPort::mac() const {
    std::error_code ec;
    return netdev::mac(name(), ec);
}

int NetdevPort::mtu() const {
    std::error_code ec;
    int m = netdev::mtu(name(), ec);
    return ec ? 0 : m;
}

bool NetdevPort::carrier() const { return netdev::isRunning(name()); }

}  // namespace vs::dp
