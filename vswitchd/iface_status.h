// What vswitchd reports in an Interface row's read-only columns (OVSDB, vswitch.ovsschema):
// mac_in_use, mtu, link_state, ifindex, admin_state and statistics, observed from the datapath
// port and, for ports backed by a network device, from the kernel.
//
// Thread-safety: reads the port's atomics and the kernel; call from the control thread.
#pragma once

#include <cstdint>
#include <string>

#include "datapath/port.h"
#include "vswitchd/ovsdb_mapping.h"

namespace vs::vswitchd {

// The state of interface `name`, open as datapath port `p`. Statistics are the datapath's
// counters (rx/tx packets, bytes, dropped; rx_policed) and, for system and internal ports, the
// device's rx_errors/tx_errors (libvirt reads all eight of Open vSwitch's keys); ifindex and
// admin_state only for those ports (0 / unset otherwise).
InterfaceState observeInterface(const std::string& name, const dp::Port& p);
// A number that changes when the statistics, admin state or carrier change (refresh decisions).
std::uint64_t statisticsDigest(const InterfaceState& s);

}  // namespace vs::vswitchd
