// Text rendering of vsofctl's results, laid out as ovs-ofctl 3.x prints them (docs/vsofctl.md):
// dump-flows lines (" cookie=0x0, duration=1.234s, table=0, n_packets=0, n_bytes=0,
// priority=100,ip actions=output:p2"), show (OFPT_FEATURES_REPLY), dump-ports (OFPST_PORT) and
// dump-tables (OFPST_TABLE). Inputs are the daemon's JSON results (docs/protocol.md, "Flow table
// methods"); missing members read as 0 / empty, so a newer daemon with more members still prints.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include <rapidjson/document.h>

namespace vs::utilities {

enum class SortOrder { kNone, kAscending, kDescending };  // dump-flows --sort / --rsort (by priority)

// One flow of flow/dump's "flows" as a dump-flows line (leading space, no newline). Without
// stats: cookie only when non-zero, table only when non-zero, no duration/n_packets/n_bytes.
// Timeouts are printed when non-zero, "send_flow_rem " when the flow has it, priority when it
// is not 32768.
std::string formatFlowLine(const rapidjson::Value& flow, bool noStats);

// All flows of a flow/dump result, one line each, optionally sorted by priority (stable).
std::string formatDumpFlows(const rapidjson::Value& result, bool noStats, SortOrder sort);

// ofproto/show: features line, then one block per port (sorted by ofport; 65534 is LOCAL).
std::string formatOfctlShow(const rapidjson::Value& result);

// port/stats: "OFPST_PORT reply: N ports" and two lines per port; absent counters print as "?".
std::string formatDumpPorts(const rapidjson::Value& result);

// table/stats: "OFPST_TABLE reply:" and the tables that have rules or lookups.
std::string formatDumpTables(const rapidjson::Value& result);
// dump-meters, meter-stats and meter-features (vsofctl_meter.cpp); "" for the other meter commands.
std::string formatMeterResult(const std::string& command, const rapidjson::Value& result);
// dump-groups and dump-group-stats as ovs-ofctl -O OpenFlow13 prints them (vsofctl_group.cpp);
// "" for add-group(s), mod-group, del-groups.
std::string formatGroupResult(const std::string& command, const rapidjson::Value& result);

}  // namespace vs::utilities
