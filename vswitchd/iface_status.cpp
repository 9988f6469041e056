// The Interface status columns vswitchd reports through OVSDB (iface_status.h).
#include "vswitchd/iface_status.h"

#include <fstream>

#include "datapath/netdev_linux.h"

namespace vs::vswitchd {

namespace {
// A kernel device's counter (/sys/class/net/DEV/statistics/NAME), if it has one.
std::optional<std::uint64_t> sysfsCounter(const std::string& dev, const char* name) {
    std::ifstream f("/sys/class/net/" + dev + "/statistics/" + name);
    std::uint64_t v = 0;
    if (f >> v) return v;
    return std::nullopt;
}
}  // namespace

// The Interface columns vswitchd reports (OVSDB): for ports backed by a network device (system,
// internal) its ifindex and administrative state; statistics are the datapath's own counters,
// plus the device's rx_errors/tx_errors, which libvirt expects beside them.
InterfaceState observeInterface(const std::string& name, const dp::Port& p) {
    InterfaceState s{p.mac().toString(), p.mtu(), p.carrier()};
    const std::string type = p.type();
    const auto& st = p.stats();
    auto load = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
    s.statistics = {{"rx_packets", load(st.rx_packets)}, {"rx_bytes", load(st.rx_bytes)},
                    {"rx_dropped", load(st.rx_dropped)}, {"tx_packets", load(st.tx_packets)},
                    {"tx_bytes", load(st.tx_bytes)}, {"tx_dropped", load(st.tx_dropped)},
                    {"rx_policed", load(st.rx_policed)}};
    if (type != "system" && type != "internal") return s;
    std::error_code ec;
    s.ifindex = dp::netdev::ifindex(name, ec);
    if (ec) return s;
    s.admin_up = dp::netdev::isUp(name);
    for (const char* k : {"rx_errors", "tx_errors"})
        if (auto v = sysfsCounter(name, k)) s.statistics.emplace_back(k, *v);
    return s;
}

std::uint64_t statisticsDigest(const InterfaceState& s) {
    std::uint64_t d = 0;
    for (const auto& [k, v] : s.statistics) d = d * 1000003u + v;
    return d * 31u + (s.admin_up.value_or(false) ? 1u : 0u) + (s.up ? 2u : 0u);
}

const InterfaceState& InterfaceStatusCache::get(const std::string& name, const std::shared_ptr<dp::Port>& port) {
    auto it = entries_.find(name);
    if (it == entries_.end() || it->second.port.lock() != port) return refresh(name, port);
    return it->second.state;
}

const InterfaceState& InterfaceStatusCache::refresh(const std::string& name, const std::shared_ptr<dp::Port>& port) {
    Entry& e = entries_[name];
    e.port = port;
    e.state = observeInterface(name, *port);
    return e.state;
}

}  // namespace vs::vswitchd
