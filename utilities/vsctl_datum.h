// ovs-vsctl's text syntax for OVSDB values (ovs-vsctl(8) "Database Values"), typed by the
// column's schema: atoms (integers, reals, true/false, strings bare or "JSON-quoted", UUIDs or
// @name references), sets `[a, b]` (brackets optional), maps `{k=v, k2=v2}` (braces optional);
// and the three ways vsctl prints a value: string (`--data=string`, ovs-vsctl's syntax), bare
// (`--data=bare`: no quotes or brackets, elements separated by spaces) and JSON (RFC 7047 5.1).
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "ovsdb/schema.h"

namespace vs::utilities {

// Resolves "@name" for a uuid atom; throws CliError when the name is unknown.
using SymbolLookup = std::function<ovsdb::Uuid(const std::string& name)>;

// One atom of type `t` from the whole of `text` (no trailing characters). Checks the type's
// constraints. Throws CliError: `"abc" is not a valid integer`, `constraint violation: ...`.
ovsdb::Atom parseAtomText(std::string_view text, const ovsdb::BaseType& t, const SymbolLookup& lookup);

// One atom from all of `text`, as ovs-vsctl reads a map key or a keyed value (COLUMN:KEY=VALUE):
// a string is the whole text unless it starts with '"' (then one JSON string), so
// `external-ids:x=a:b,c` sets "a:b,c". Throws CliError (an empty text is refused).
ovsdb::Atom parseWholeAtom(std::string_view text, const ovsdb::BaseType& t, const SymbolLookup& lookup);

// A whole value of column type `t` from `text`. An integer set takes ranges ("1-3"). With checkSize=false the number of elements is
// not checked (for add/remove operands). Throws CliError naming the problem.
ovsdb::Datum parseDatumText(std::string_view text, const ovsdb::ColumnType& t, const SymbolLookup& lookup,
                            bool checkSize = true);

// A set of keys of type `t.key` (for `remove` on a map by key). Throws CliError.
ovsdb::Datum parseKeySetText(std::string_view text, const ovsdb::ColumnType& t, const SymbolLookup& lookup);

std::string atomToString(const ovsdb::Atom& a);  // strings quoted when they need it
std::string datumToString(const ovsdb::Datum& d, const ovsdb::ColumnType& t);
std::string datumToBare(const ovsdb::Datum& d, const ovsdb::ColumnType& t);

}  // namespace vs::utilities
