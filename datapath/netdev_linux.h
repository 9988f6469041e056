// Small queries and settings on a Linux network device by name (ioctl on a datagram socket):
// index, MAC, MTU, flags. Used when the datapath opens system and internal ports.
//
// Thread-safety: stateless; each call opens and closes its own socket.
#pragma once

#include <string>
#include <system_error>

#include "datapath/packet.h"

namespace vs::dp::netdev {

// ifindex of `name`, or 0 with `ec` set (ENODEV when the device does not exist).
int ifindex(const std::string& name, std::error_code& ec);
// Hardware address of `name`.
MacAddr mac(const std::string& name, std::error_code& ec);
// MTU of `name` in bytes.
int mtu(const std::string& name, std::error_code& ec);
// True when the device is administratively up and has carrier (IFF_UP and IFF_RUNNING).
bool isRunning(const std::string& name);
// True when the device is administratively up (IFF_UP), whatever its carrier.
bool isUp(const std::string& name);
// Sets IFF_UP on `name`.
std::error_code setUp(const std::string& name);
// Clears IFF_UP on `name` (OpenFlow port_mod PORT_DOWN).
std::error_code setDown(const std::string& name);

}  // namespace vs::dp::netdev
