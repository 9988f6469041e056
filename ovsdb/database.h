// An in-memory OVSDB database and the RFC 7047 "transact" engine (section 5.2): insert, select,
// update, mutate, delete, wait, commit, abort, comment and assert, with conditions (5.1),
// mutations (5.1), named-uuids, constraint checks, referential integrity and garbage collection of
// unreferenced non-root rows (section 3.2, "isRoot"). No sockets: the caller serves it.
//
// A transaction runs on a copy of the database and either yields the whole new database or an
// error with nothing changed (all-or-nothing); the caller decides whether to keep the copy.
//
// Thread-safety: plain values; one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "ovsdb/schema.h"

namespace vs::ovsdb {

using Row = std::map<std::string, Datum>;  // every column of the table (defaults filled in)
using Table = std::map<Uuid, Row>;

struct Database {
    std::shared_ptr<const Schema> schema;
    std::map<std::string, Table> tables;  // one entry per schema table
    bool operator==(const Database& o) const { return tables == o.tables; }

    explicit Database(std::shared_ptr<const Schema> s);
    // A new row of `table` with every column at its default value.
    Row defaultRow(const std::string& table) const;
};

// Who asks: the locks this client holds (for "assert").
struct TxnContext {
    std::function<bool(const std::string& lock)> holdsLock;
};

struct TxnOutcome {
    rapidjson::Document result{rapidjson::kArrayType};  // the "result" array of the reply
    bool ok = false;       // false: the result array carries an error; the database is unchanged
    bool changed = false;  // ok and some row changed
};

// Executes the operations `ops` (the transact params after the database name) against a copy of
// `db`. On success (*next) holds the new database; on failure *next is untouched. Referential
// integrity, constraints (size, enum, ranges, maxRows, indexes) and garbage collection are checked
// at commit, as ovsdb-server does; their errors are the extra last element of the result array.
TxnOutcome transact(const Database& db, const rapidjson::Value& ops, std::size_t firstOp, const TxnContext& ctx,
                    Database* next);

// Removes non-root rows that no strong reference reaches and weak references to missing rows
// (RFC 7047 section 3.2). Throws Error{"referential integrity violation"} for a strong reference
// to a missing row, Error{"constraint violation"} for a set left below its minimum size.
void collectGarbage(Database& db);

// The rows as JSON text, {TABLE: {UUID: {COLUMN: VALUE}}}, columns at their default omitted
// (for persisting them). rowsFromJson reads it back into `db` (whose tables it replaces) and throws
// Error naming the problem (unknown table or column, bad value, bad UUID).
std::string rowsToText(const Database& db);
void rowsFromJson(const rapidjson::Value& v, Database& db);

// One parsed RFC 7047 <condition> (section 5.1): [column, function, value], or true/false.
struct Condition {
    enum class Fn { kEq, kNe, kIncludes, kExcludes, kLt, kLe, kGt, kGe };  // ordered: kLt.. numeric
    std::optional<bool> constant;  // the condition `true` or `false`
    std::string column;            // a column of the table, or "_uuid"
    Fn fn = Fn::kEq;
    const ColumnType* type = nullptr;  // the column's type (in the schema, which outlives this)
    Datum value;
};
using Conditions = std::vector<Condition>;

// Parses `where` (an array of conditions) once, for evaluating it on many rows. Throws Error
// ("syntax error", "unknown column", or a value's own error) naming the bad condition.
Conditions parseWhere(const TableSchema& t, const rapidjson::Value& where, const NamedUuidResolver& resolve);
// True when `row` (whose UUID is `uuid`) satisfies every condition.
bool matches(const Conditions& where, const Uuid& uuid, const Row& row);
// The UUID a `["_uuid", "==", UUID]` condition of `where` names, or null: the only row that can
// match (a lookup instead of a scan).
const Uuid* uuidEquality(const Conditions& where);

// True when `row` satisfies every condition of `where` (RFC 7047 section 5.1 <condition>).
bool matches(const TableSchema& t, const Uuid& uuid, const Row& row, const rapidjson::Value& where,
             const NamedUuidResolver& resolve);

}  // namespace vs::ovsdb
