// Fuzz entry point: the OVSDB engine (ovsdb/): the stream framer, then RFC 7047 "transact" on the
// Open_vSwitch schema. The input is bytes as a client would send them: each JSON text the framer
// finds is, if it is an array, a transaction's operations, run in order against one database that
// starts with an Open_vSwitch row and bridge br0 (successful transactions are kept).
//
// Invariants: nothing throws or crashes; a failed transaction leaves the database unchanged and
// its result array carries an {"error","details"} object; after a successful one the database is
// consistent: garbage collection finds nothing more to do (no dangling strong or weak reference,
// no unreferenced non-root row), and a monitor's update from the old to the new database
// serialises.
#pragma once

#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "ovsdb/database.h"
#include "ovsdb/framing.h"
#include "ovsdb/monitor.h"
#include "ovsdb/vswitch_schema.h"
#include "protocol/jsonrpc.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

inline int ovsdbTransact(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "ovsdb_transact";
    static const auto schema = std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText()));
    ovsdb::Database db(schema);
    {
        rapidjson::Document seed;
        seed.Parse(R"([{"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","b"]}},
            {"op":"insert","table":"Interface","uuid-name":"i","row":{"name":"br0","type":"internal"}},
            {"op":"insert","table":"Port","uuid-name":"p","row":{"name":"br0","interfaces":["named-uuid","i"]}},
            {"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br0","ports":["named-uuid","p"]}}])");
        ovsdb::Database next(schema);
        if (!ovsdb::transact(db, seed, 0, {}, &next).ok) fuzzFail(kName, "the seed transaction failed");
        db = std::move(next);
    }
    rapidjson::Document all;
    ovsdb::Monitor monitor = ovsdb::parseMonitorRequests(*schema, rapidjson::Value(rapidjson::kObjectType), 2);
    for (const auto& [tn, t] : schema->tables) {
        ovsdb::MonitorTable mt;
        for (const auto& [cn, c] : t.columns) mt.columns.push_back(cn);
        monitor.tables[tn] = mt;
    }
    ovsdb::StreamFramer framer(1 << 20);
    framer.feed(asText(data, size));
    int n = 0;
    while (auto msg = framer.next()) {
        if (++n > 16) break;
        if (protocol::checkJsonDepth(*msg)) continue;
        rapidjson::Document ops;
        ops.Parse(msg->data(), msg->size());
        if (ops.HasParseError() || !ops.IsArray()) continue;
        ovsdb::Database next(schema);
        ovsdb::TxnOutcome out = ovsdb::transact(db, ops, 0, {}, &next);
        if (!out.ok) {
            bool hasError = false;
            for (const auto& r : out.result.GetArray())
                hasError = hasError || (r.IsObject() && r.HasMember("error") && r.HasMember("details"));
            if (!hasError) fuzzFail(kName, "a failed transaction has no error object: " + excerpt(*msg));
            continue;
        }
        ovsdb::Database again = next;
        try {
            ovsdb::collectGarbage(again);
        } catch (const ovsdb::Error& e) {
            fuzzFail(kName, "a committed database is inconsistent: " + e.details);
        }
        if (!(again == next)) fuzzFail(kName, "a committed database still had garbage: " + excerpt(*msg));
        (void)ovsdb::changeUpdate(monitor, db, next, all.GetAllocator());
        db = std::move(next);
    }
    return 0;
}

}  // namespace vs::fuzz
