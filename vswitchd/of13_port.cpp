// OpenFlow 1.3 port_mod (OpenFlow 1.3.5 section 7.3.3) onto ofproto's port config
// (ofproto/port_config.h): the port must exist and its hw_addr match (OFPPMFC_BAD_PORT,
// OFPPMFC_BAD_HW_ADDR); unknown config bits are OFPPMFC_BAD_CONFIG; `advertise` is ignored (no
// speeds to advertise: as Open vSwitch does with a netdev that has no features). PORT_DOWN also
// sets the interface's netdev down (up when cleared), as Open vSwitch does. port_status follows
// from the controller manager's port snapshots (vswitchd/controller.cpp checkPorts).
#include "datapath/netdev_linux.h"
#include "vswitchd/log.h"
#include "vswitchd/of13_convert.h"
#include "vswitchd/of13_handler.h"

namespace vs::vswitchd {
namespace {

namespace of13 = protocol::of13;
using of13conv::Refusal;
constexpr vs::log::Module kLog = vs::log::Module::kController;

[[noreturn]] void refuse(std::uint16_t c, std::string message) {
    throw Refusal{of13::kPortModFailed, c, std::move(message)};
}

// A netdev we may set up or down: the interface's own device (system or internal).
void setAdminState(const ofproto::PortRow& row, bool down) {
    std::string type = row.port->type();
    if (type != "system" && type != "internal") return;
    std::error_code ec = down ? dp::netdev::setDown(row.name) : dp::netdev::setUp(row.name);
    if (ec) vs::log::warn(kLog, "port_mod: could not set {} {}: {}", row.name, down ? "down" : "up", ec.message());
}

}  // namespace

void Of13Handler::portMod(const std::string& bridge, const of13::PortMod& pm) {
    if (pm.port_no != of13::kPortLocal && pm.port_no >= of13::kPortMax)
        refuse(of13::code::kPmBadPort, "port_mod names reserved port " + std::to_string(pm.port_no) + " (only LOCAL may be changed)");
    std::uint32_t ofport = of13conv::toOfport(pm.port_no, of13::kPortModFailed, of13::code::kPmBadPort);
    std::optional<ofproto::PortRow> row;
    for (auto& r : of_.ports(bridge))
        if (r.ofport == ofport) row = std::move(r);
    if (!row) refuse(of13::code::kPmBadPort, "bridge " + bridge + " has no port " + std::to_string(pm.port_no));
    if (row->port->mac().b != pm.hw_addr)
        refuse(of13::code::kPmBadHwAddr, "hw_addr " + dp::MacAddr{pm.hw_addr}.toString() + " is not port " + row->name +
                                             "'s " + row->port->mac().toString());
    try {
        applyPortConfig(of_, bridge, *row, pm.config, pm.mask);
    } catch (const ofproto::PortConfigError& e) {
        refuse(e.code, e.what());
    }
    if (ports_changed_) ports_changed_(bridge);
}

void applyPortConfig(ofproto::Ofproto& of, const std::string& bridge, const ofproto::PortRow& row, std::uint32_t config,
                     std::uint32_t mask) {
    std::uint32_t old = of.setPortConfig(bridge, row.ofport, config, mask);
    std::uint32_t now = (old & ~mask) | (config & mask);
    if ((old ^ now) & ofproto::kPortConfigDown) setAdminState(row, now & ofproto::kPortConfigDown);
}

}  // namespace vs::vswitchd
