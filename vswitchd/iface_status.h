// What vswitchd reports in an Interface row's read-only columns (OVSDB, vswitch.ovsschema):
// mac_in_use, mtu, link_state, ifindex, admin_state and statistics, observed from the datapath
// port and, for ports backed by a network device, from the kernel.
//
// Thread-safety: reads the port's atomics and the kernel; call from the control thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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

// The interfaces' observed state, kept between OVSDB projections. Projecting the database reads
// every interface, and observing one costs several system calls (index, flags, sysfs counters):
// uncached, every OVSDB transaction paid that for every interface, twice (72 ms per transaction
// at 100 ports, bench/ovsdb.sh). An entry is observed again when its port object changes, when
// forgotten (a link event: flags, MTU, address or index may have changed) and on refresh (the
// daemon's periodic statistics round).
// Thread-safety: none; the control thread's.
class InterfaceStatusCache {
public:
    // The state of `name` open as `port` (not null): cached, or observed now.
    const InterfaceState& get(const std::string& name, const std::shared_ptr<dp::Port>& port);
    // Observes `name` now and caches the result.
    const InterfaceState& refresh(const std::string& name, const std::shared_ptr<dp::Port>& port);
    void forget(const std::string& name) { entries_.erase(name); }
    void clear() { entries_.clear(); }

private:
    struct Entry {
        std::weak_ptr<dp::Port> port;  // weak: a removed port's socket must close
        InterfaceState state;
    };
    std::map<std::string, Entry> entries_;
};

}  // namespace vs::vswitchd
