// OpenFlow port configuration (OpenFlow 1.3.5 section 7.2.1, ofp_port_config; set by port_mod,
// 7.3.3) and what it does in translation, as Open vSwitch does it:
//   PORT_DOWN     the interface is administratively down (the daemon sets the netdev down; the
//                 bit is kept here so that port_desc shows it);
//   NO_RECV       frames received on the port are dropped (coverage drop_port_no_recv), except
//                 the STP BPDUs and LACPDUs the switch itself consumes;
//   NO_FLOOD      the port is left out of OFPP_FLOOD and of NORMAL's flooding (an OpenFlow 1.0
//                 bit that Open vSwitch keeps for 1.3); OFPP_ALL still includes it;
//   NO_FWD        nothing is output to the port (explicit output, FLOOD, ALL, NORMAL, groups);
//   NO_PACKET_IN  a table miss (packet_in reason no_match) on a frame received on the port sends
//                 no packet_in (Open vSwitch's "no_packet_in" miss rule); an explicit controller
//                 action still does.
// A change invalidates the bridge's megaflows (the decisions above are cached in them).
//
// Thread-safety: constants.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace vs::ofproto {

inline constexpr std::uint32_t kPortConfigDown = 1u << 0;
inline constexpr std::uint32_t kPortConfigNoRecv = 1u << 2;
inline constexpr std::uint32_t kPortConfigNoFlood = 1u << 4;
inline constexpr std::uint32_t kPortConfigNoFwd = 1u << 5;
inline constexpr std::uint32_t kPortConfigNoPacketIn = 1u << 6;
inline constexpr std::uint32_t kPortConfigKnown =
    kPortConfigDown | kPortConfigNoRecv | kPortConfigNoFlood | kPortConfigNoFwd | kPortConfigNoPacketIn;

// The set bits as ovs-ofctl names them ("PORT_DOWN NO_FLOOD"); "" for none.
inline std::string portConfigNames(std::uint32_t config) {
    static const std::pair<std::uint32_t, const char*> kNames[] = {
        {kPortConfigDown, "PORT_DOWN"}, {kPortConfigNoRecv, "NO_RECV"}, {kPortConfigNoFlood, "NO_FLOOD"},
        {kPortConfigNoFwd, "NO_FWD"}, {kPortConfigNoPacketIn, "NO_PACKET_IN"}};
    std::string out;
    for (const auto& [bit, name] : kNames)
        if (config & bit) out += std::string(out.empty() ? "" : " ") + name;
    return out;
}

// port_mod refusals (ofp_port_mod_failed_code): BAD_PORT = 0, BAD_CONFIG = 2.
struct PortConfigError : std::invalid_argument {
    std::uint16_t code;
    PortConfigError(std::uint16_t c, const std::string& what) : std::invalid_argument(what), code(c) {}
};

}  // namespace vs::ofproto
