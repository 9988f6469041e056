// The OVSDB side of QoS (docs/qos.md, docs/ovsdb.md): Interface ingress_policing_rate/burst and
// Port qos -> QoS -> Queue rows, to and from the config (ovsdb_mapping.cpp calls these).
//
// QoS and Queue are root tables (vswitch.ovsschema): rows no port references stay, with no effect,
// as in Open vSwitch (`clear port p qos` keeps the QoS row; `--all destroy qos` removes it). A
// port's QoS row keeps its UUID and the columns the config does not model (Queue dscp) while the
// port references it; two ports that reference one QoS row with the same content keep sharing it.
//
// Thread-safety: plain functions; the caller serialises (the daemon's control thread).
#pragma once

#include <map>
#include <optional>

#include "ovsdb/database.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// Sets `row`'s policing columns from `ic`.
void projectPolicing(const InterfaceConfig& ic, ovsdb::Row& row);
// Reads them. Throws ovsdb::Error{"constraint violation"} for a value above 2147483647.
void policingFromRow(const ovsdb::Row& row, InterfaceConfig& ic);

// QoS rows written by one projection (by UUID), so that ports sharing a row keep sharing it.
using QosWritten = std::map<ovsdb::Uuid, QosConfig>;
// Sets `portRow`'s qos column for `qos`, writing the QoS and Queue rows into `db` (reusing the
// UUIDs `portRow` referenced before).
void projectQos(const std::optional<QosConfig>& qos, ovsdb::Row& portRow, ovsdb::Database& db, QosWritten& written);
// The QoS `portRow` references, or nullopt. Values are checked later, with the config.
std::optional<QosConfig> qosFromRow(const ovsdb::Database& db, const ovsdb::Row& portRow);

}  // namespace vs::vswitchd
