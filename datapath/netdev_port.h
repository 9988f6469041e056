// NetdevPort: the part every port backed by a Linux network device of its own name shares — its
// MAC address, MTU and carrier are read from the device when asked (SIOCGIFHWADDR, SIOCGIFMTU,
// IFF_UP|IFF_RUNNING through datapath/netdev_linux). AfPacketPort (an existing netdev) and TapPort
// (an internal device the switch creates) derive from it.
//
// Thread-safety: the getters are control-thread calls (each is one ioctl); nothing is cached.
#pragma once

#include "datapath/port.h"

namespace vs::dp {

class NetdevPort : public Port {
public:
    using Port::Port;
    MacAddr mac() const override;  // zero address if the device is gone
    int mtu() const override;      // bytes of L3 payload; 0 if the device is gone
    bool carrier() const override;
};

}  // namespace vs::dp
