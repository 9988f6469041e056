// The Open_vSwitch database (docs/ovsdb.md) as a projection of the config store, and back: one
// source of truth. The config (config_model.h) is what the store makes durable and the reconciler
// applies; the OVSDB rows of Open_vSwitch, Bridge, Port, Interface, Controller and SSL are derived
// from it, keeping each row's UUID (by name: bridge, port, interface; controller by bridge and
// target) and the columns the config does not model ("accepted, no effect"; an OVSDB transaction
// saves them in Config::ovsdb, so they are as durable as the config). An OVSDB transaction's
// resulting rows are mapped back into a Config, which the store validates and commits like any
// other transaction.
//
// Thread-safety: plain functions; the caller serialises (the daemon's control thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ovsdb/database.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// An open interface's state, for Interface.mac_in_use, mtu and link_state.
struct InterfaceState {
    std::string mac;  // "aa:bb:cc:dd:ee:ff"
    int mtu = 0;
    bool up = false;  // carrier
    int ifindex = 0;  // 0: no network device (tunnels, dummy)
    std::optional<bool> admin_up;  // IFF_UP; nullopt: no network device
    // Interface:statistics, Open vSwitch's key names (rx_packets, rx_bytes, rx_dropped, ...).
    std::vector<std::pair<std::string, std::uint64_t>> statistics;
};

// State the daemon reports in read-only columns.
struct OvsdbStatus {
    std::function<std::optional<InterfaceState>(const std::string& iface)> interfaceState;  // nullopt: not open
    std::function<std::optional<std::string>(const std::string& iface)> interfaceError;
    std::function<std::string(const std::string& bridge)> datapathId;  // 16 hex digits; "": not yet
    // Bridge:status and Port:status (STP: vswitchd/stp_config.h); empty maps when unset.
    std::function<StringMap(const std::string& bridge)> bridgeStatus;
    std::function<StringMap(const std::string& port)> portStatus;
    // Mirror.statistics (docs/mirrors.md): (tx_packets, tx_bytes) of a bridge's mirror; nullopt: none.
    std::function<std::optional<std::pair<std::uint64_t, std::uint64_t>>(const std::string& bridge,
                                                                       const std::string& mirror)> mirrorStats;
};

// Rewrites `db`'s Open_vSwitch, Bridge, Port, Interface, Controller and SSL rows to say what `cfg`
// says, keeping UUIDs and unmodelled columns of rows that still exist; rows of other tables are
// kept, then unreferenced non-root rows are collected. Creates the Open_vSwitch row if missing.
void projectConfig(const Config& cfg, const OvsdbStatus& status, ovsdb::Database& db);

// The Config that `db` describes (seq and ofports of existing interfaces taken from `current`;
// new interfaces get Interface.ofport_request or the bridge's lowest free ofport). Throws
// ovsdb::Error{"constraint violation", ...} when the rows do not form a valid config (a port on two
// bridges, a bridge without its local port, a value the config refuses).
Config configFromDb(const ovsdb::Database& db, const Config& current);

}  // namespace vs::vswitchd
