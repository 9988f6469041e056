// ovs-vsctl value syntax for vsctl: table names, the client's view of column kinds,
// `COLUMN[:KEY][=VALUE]` arguments, atoms ("quoted" JSON strings or bare words), maps
// `{k=v, k2=v2}`, sets `[a, b]`, and the reverse direction (formatting JSON values as ovs-vsctl
// prints them: strings quoted unless they look like identifiers, `[]` for an empty value).
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace vs::utilities {

// What the client knows about a column. kUnknown columns are passed to the daemon with their
// value's type inferred from its syntax (so columns the daemon adds later work without a new
// client); the daemon is the authority on what exists.
enum class ColumnKind {
    kUnknown,
    kString,    // a single string (Interface:type, Port:vlan_mode)
    kMap,       // string -> string map (other_config, external_ids, options)
    kReadOnly,  // readable only (name, ofport, error, statistics, ...)
};

// The tables vsctl knows: "Bridge", "Port", "Interface".
const std::vector<std::string>& knownTables();

// Canonical table name for `name`, matched case-insensitively, exactly or as a unique prefix.
// Throws CliError: `unknown table "X"`, `"X" matches multiple tables`.
std::string canonicalTable(std::string_view name);

// Kind of `column` in the canonical `table`.
ColumnKind columnKind(std::string_view table, std::string_view column);

// One "COLUMN", "COLUMN:KEY", "COLUMN=VALUE" or "COLUMN:KEY=VALUE" argument. `value` is the raw
// text after the first '=' that follows the column/key (parse it with the functions below).
struct ColumnArg {
    std::string column;
    std::optional<std::string> key;
    std::optional<std::string> value;
};

// Throws CliError naming the argument on bad syntax (empty or invalid column name, empty key,
// unterminated quote).
ColumnArg parseColumnArg(std::string_view arg);
// A column name as ovs-vsctl reads it: '-' and '_' are the same ("external-ids" is external_ids).
// Keys are data and keep their dashes ("external-ids:iface-id").
std::string normalColumnName(std::string_view name);

// An atom: a JSON-quoted string ("a b", with escapes) or the bare text as-is. Throws CliError.
std::string parseAtom(std::string_view text);

// A map "{k=v, k2=v2}" or "{}"; the braces may be omitted ("k=v"). Keys and values are atoms.
// Throws CliError (missing '=', duplicate key, unbalanced braces).
std::vector<std::pair<std::string, std::string>> parseMap(std::string_view text);

// Converts the VALUE of `column` (of `kind`, with or without a key) to the JSON the `set` op
// takes: a string for a keyed or kString value, an object for a kMap value; for kUnknown the
// type follows the syntax: "quoted" -> string, true/false -> bool, integer -> number,
// {..} -> object, [..] -> array, anything else -> string. Throws CliError.
void valueToJson(ColumnKind kind, bool keyed, std::string_view text, rapidjson::Value& out,
                 rapidjson::Document::AllocatorType& alloc);

// ovs-vsctl formatting: a string is printed bare if it starts with a letter or '_' and has only
// letters, digits, '_', '-', '.' and is not true/false; otherwise JSON-quoted.
std::string formatAtom(std::string_view s);

// Formats any JSON value: strings via formatAtom, numbers and booleans as-is, null as "[]",
// arrays as "[a, b]", objects as "{k=v, k2=v2}" sorted by key.
std::string formatValue(const rapidjson::Value& v);

}  // namespace vs::utilities
