// OVSDB monitors (RFC 7047 section 4.1.5 "monitor" and Open vSwitch's extensions "monitor_cond"
// and "monitor_cond_since", ovsdb-server(7)): which tables, columns and changes a client follows,
// and the <table-updates> (v1, "update") or <table-updates2> (v2, "update2"/"update3") objects
// that describe a database's initial contents or the change from one database to the next.
//
// Thread-safety: plain values; one thread at a time.
#pragma once

#include <map>
#include <set>
#include <string>

#include "ovsdb/database.h"

namespace vs::ovsdb {

struct MonitorTable {
    std::vector<std::string> columns;  // in the order the client listed them (all: the schema's order)
    bool initial = true, insert = true, del = true, modify = true;
    std::shared_ptr<const Conditions> where;  // monitor_cond: parsed conditions (null: every row)
};

struct Monitor {
    int version = 1;  // 1: "update" (monitor); 2: "update2"/"update3" (monitor_cond, monitor_cond_since)
    std::map<std::string, MonitorTable> tables;
};

// Parses <monitor-requests> (an object of table -> request or array of requests). Throws Error
// ("unknown table", "unknown column", "syntax error").
Monitor parseMonitorRequests(const Schema& schema, const rapidjson::Value& requests, int version);

// The rows `m` selects in `db` as its initial update (empty object: nothing to report).
rapidjson::Value initialUpdate(const Monitor& m, const Database& db, JsonAlloc& a);

// What changed from `before` to `after` in what `m` follows (empty object: nothing).
rapidjson::Value changeUpdate(const Monitor& m, const Database& before, const Database& after, JsonAlloc& a);

}  // namespace vs::ovsdb
