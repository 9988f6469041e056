// Rapid spanning tree configuration (docs/stp.md "RSTP"), as Open vSwitch's Bridge and Port
// tables have it: Bridge rstp_enable (stp_config.h has the column) and other_config rstp-address,
// rstp-priority, rstp-ageing-time, rstp-force-protocol-version, rstp-max-age, rstp-forward-delay,
// rstp-transmit-hold-count; Port other_config rstp-enable, rstp-port-priority, rstp-port-num,
// rstp-path-cost, rstp-port-admin-edge, rstp-port-auto-edge, rstp-admin-p2p-mac,
// rstp-admin-port-state, rstp-port-mcheck. Single-key ranges live in config_schema.cpp; this file
// holds the checks across keys, the translation into ofproto's settings and the status columns
// (Bridge rstp_status, Port rstp_status and rstp_statistics).
//
// Thread-safety: plain functions; the caller serialises (the daemon's control thread).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ofproto/ofproto.h"
#include "ofproto/rstp.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// Rules across one bridge's RSTP keys: 802.1D-2004 17.14's 2 * (Forward Delay - 1) >= Max Age
// (defaults 15 and 20 for unset keys) and two ports with one rstp-port-num. Checked only when
// rstp_enable is true. The first problem, or nullopt.
std::optional<std::string> rstpProblem(const std::string& bridge, const BridgeConfig& bc);

// ofproto's settings for bridge `bc`: nullopt when rstp_enable is false. rstp-priority is
// rounded down to a multiple of 4096 as Open vSwitch does.
std::optional<ofproto::RstpSettings> rstpSettingsOf(const BridgeConfig& bc);
// A port's settings; without rstp-path-cost, 802.1D-2004 table 17-3's cost for the link speed of
// a system port's netdev (rstpPathCostForSpeed), read when the port's config is applied.
ofproto::RstpPortSettings rstpPortSettingsOf(const PortConfig& pc);
// 20,000,000 / Mb/s (10 Gb/s: 2000, 1 Gb/s: 20000, 100 Mb/s: 200000); unknown (0): 200000.
std::uint32_t rstpPathCostForSpeed(long mbps);

// Open vSwitch's status columns: Bridge rstp_status (rstp_bridge_id, rstp_root_id,
// rstp_root_path_cost, rstp_designated_id, rstp_designated_port_id, rstp_bridge_port_id), and by
// port name Port rstp_status (rstp_port_id, rstp_port_role, rstp_port_state,
// rstp_designated_bridge_id, rstp_designated_port_id, rstp_designated_path_cost) and
// rstp_statistics (rstp_tx_count, rstp_rx_count, rstp_error_count, rstp_uptime).
StringMap rstpBridgeStatus(const ofproto::RstpBridgeStatus& s);
std::map<std::string, StringMap> rstpPortStatus(const ofproto::RstpBridgeStatus& s);
std::map<std::string, std::map<std::string, std::int64_t>> rstpPortStatistics(const ofproto::RstpBridgeStatus& s);
// "8.000.020000000001": priority nibble, system id extension, address (Open vSwitch's form).
std::string rstpBridgeIdText(std::uint64_t id);

}  // namespace vs::vswitchd
