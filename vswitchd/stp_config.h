// Spanning tree configuration (docs/stp.md), as Open vSwitch's Bridge and Port tables have it:
// Bridge columns stp_enable and rstp_enable, Bridge other_config stp-system-id, stp-priority,
// stp-hello-time, stp-max-age, stp-forward-delay, and Port other_config stp-enable,
// stp-port-num, stp-port-priority, stp-path-cost. This file holds the columns, the checks across
// keys that single-key ranges cannot express, and the translation into ofproto's StpSettings.
//
// Thread-safety: plain functions; the caller serialises (the daemon's control thread).
#pragma once

#include <optional>
#include <string>

#include "ofproto/ofproto.h"
#include "ofproto/stp.h"
#include "vswitchd/config_model.h"
#include "vswitchd/config_schema.h"

namespace vs::vswitchd {

// Bridge:stp_enable and Bridge:rstp_enable (booleans; JSON true/false or "true"/"false").
ColumnDef<BridgeConfig> stpEnableColumn();
ColumnDef<BridgeConfig> rstpEnableColumn();

// Rules across a bridge's spanning tree settings: the 802.1D-1998 8.10.2 relation of the three
// timers (2 * (Forward Delay - 1) >= Max Age >= 2 * (Hello Time + 1), with the defaults 2, 20,
// 15 for unset keys), stp_enable with rstp_enable (mutually exclusive; Open vSwitch would run
// RSTP, we refuse), RSTP's own rules (rstp_config.h), and two ports with one stp-port-num. The
// first problem, or nullopt.
std::optional<std::string> stpProblem(const Config& cfg);

// ofproto's settings for bridge `bc`: nullopt when stp_enable is false.
std::optional<ofproto::StpSettings> stpSettingsOf(const BridgeConfig& bc);
// A port's settings; without stp-path-cost, the cost follows the link speed of a system port's
// netdev as Open vSwitch and the Linux bridge choose it (stpPathCostForSpeed), read when the
// port's config is applied.
ofproto::StpPortSettings stpPortSettingsOf(const PortConfig& pc);
// 802.1D-1998 table 8-5's recommended path cost for a link of `mbps` Mb/s, with Open vSwitch's
// steps in between: 10 Gb/s and more 2, 1 Gb/s 4, 100 Mb/s 19, 10 Mb/s 100; unknown (0) 19.
std::uint32_t stpPathCostForSpeed(long mbps);

// Open vSwitch's status keys for a bridge running STP: Bridge:status stp_bridge_id,
// stp_designated_root ("8000.0a1b2c3d4e5f"), stp_root_path_cost; Port:status stp_port_id
// ("8001"), stp_state, stp_role, by port name.
StringMap stpBridgeStatus(const ofproto::StpBridgeStatus& s);
std::map<std::string, StringMap> stpPortStatus(const ofproto::StpBridgeStatus& s);

}  // namespace vs::vswitchd
