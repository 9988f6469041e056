// OVSDB schemas and values (RFC 7047 sections 3.2 and 5.1): the atomic types, column types with
// their constraints, tables, and the atoms, sets and maps a column holds, with their JSON forms.
//
// Thread-safety: plain values; a Schema is immutable once parsed and may be shared between threads.
#pragma once

#include <climits>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

namespace vs::ovsdb {

using JsonAlloc = rapidjson::Document::AllocatorType;

// An RFC 7047 error: `error` is one of the RFC's error strings ("syntax error", "constraint
// violation", "referential integrity violation", "resources exhausted", "not supported",
// "timed out", "not owner", "aborted", "unknown database"), `details` names the problem.
struct Error : std::runtime_error {
    Error(std::string err, std::string det) : std::runtime_error(det), error(std::move(err)), details(std::move(det)) {}
    std::string error;
    std::string details;
    rapidjson::Value toJson(JsonAlloc& a) const;  // {"error": E, "details": D}
};

enum class AtomType { kInteger, kReal, kBoolean, kString, kUuid };
const char* atomTypeName(AtomType t);

struct Uuid {
    std::string s;  // 36 lowercase hex-and-dash characters
    auto operator<=>(const Uuid&) const = default;
};
bool isUuidText(std::string_view s);
Uuid randomUuid();

// One atom; std::monostate only as the "value" of a set's element.
using Atom = std::variant<std::monostate, std::int64_t, double, bool, std::string, Uuid>;

// A set (values unset) or a map, ordered by key: RFC 7047 <set> and <map>.
struct Datum {
    std::map<Atom, Atom> entries;
    bool operator==(const Datum&) const = default;
    bool operator<(const Datum& o) const { return entries < o.entries; }
};

// Resolves a ["named-uuid", NAME] reference inside a transaction; throws Error when unknown.
using NamedUuidResolver = std::function<Uuid(const std::string& name)>;

struct BaseType {
    AtomType type = AtomType::kString;
    std::optional<Datum> enumeration;
    std::int64_t minInteger = INT64_MIN, maxInteger = INT64_MAX;
    double minReal = -1e308, maxReal = 1e308;
    std::size_t minLength = 0, maxLength = SIZE_MAX;
    std::string refTable;  // uuid referring to a row of this table; empty: no reference
    bool weak = false;     // refType "weak"
    // The value's constraint violation, or nullopt.
    std::optional<std::string> violation(const Atom& a) const;
};

struct ColumnType {
    BaseType key;
    std::optional<BaseType> value;  // set: a map
    std::size_t min = 1, max = 1;   // SIZE_MAX: "unlimited"
    bool isMap() const { return value.has_value(); }
    bool isScalar() const { return min == 1 && max == 1 && !value; }
    Datum defaultValue() const;
};

struct Column {
    std::string name;
    ColumnType type;
    bool ephemeral = false;
    bool mutable_ = true;
};

struct TableSchema {
    std::string name;
    std::map<std::string, Column> columns;  // without _uuid and _version
    bool isRoot = false;
    std::size_t maxRows = SIZE_MAX;
    std::vector<std::vector<std::string>> indexes;
    std::vector<std::string> refColumns;  // the columns that hold references (key or value)
    const Column* column(const std::string& n) const;
};

struct Schema {
    std::string name, version, cksum;
    std::map<std::string, TableSchema> tables;
    std::shared_ptr<rapidjson::Document> json;  // the text as parsed, for get_schema
    const TableSchema* table(const std::string& n) const;
};

// Parses a schema (RFC 7047 section 3.2). Throws Error{"syntax error", ...} naming the bad member.
Schema parseSchema(std::string_view text);

// JSON <-> values (RFC 7047 section 5.1). Parsing checks the type and the constraints and throws
// Error ("syntax error" for a wrong shape, "constraint violation" for an out-of-range value).
// `resolve` may be null (then named-uuid is a syntax error).
Atom atomFromJson(const rapidjson::Value& v, const BaseType& t, const NamedUuidResolver& resolve);
Datum datumFromJson(const rapidjson::Value& v, const ColumnType& t, const NamedUuidResolver& resolve,
                    bool checkSize = true);
rapidjson::Value atomToJson(const Atom& a, JsonAlloc& alloc);
rapidjson::Value datumToJson(const Datum& d, const ColumnType& t, JsonAlloc& alloc);
// Size and element constraints of a whole datum; throws Error{"constraint violation"}.
void checkDatum(const Datum& d, const ColumnType& t, const std::string& column);

}  // namespace vs::ovsdb
