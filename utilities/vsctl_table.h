// Output of vsctl's database commands (list, find) as ovs-vsctl prints it (Open vSwitch's
// lib/table.c behaviour, ovs-vsctl(8) "Table Formatting Options"): --format=list|table|csv|json|
// html, --data=string|bare|json, --no-headings, --pretty.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <string>
#include <vector>

#include "ovsdb/schema.h"

namespace vs::utilities {

struct DbStyle {
    enum class Format { kList, kTable, kCsv, kJson, kHtml };
    enum class Data { kString, kBare, kJson };
    Format format = Format::kList;
    Data data = Data::kString;
    bool headings = true;
    bool pretty = false;  // --pretty: JSON indented as ovs-vsctl indents it
};

// "list", "table", "csv", "json", "html" (and "text" = list). Throws CliError naming the value.
DbStyle::Format parseDbFormat(const std::string& text);
// "string", "bare", "json". Throws CliError naming the value.
DbStyle::Data parseDbData(const std::string& text);

struct DbCell {
    ovsdb::Datum datum;
    const ovsdb::ColumnType* type;  // never null; must outlive the table
};

struct DbTable {
    std::vector<std::string> headings;
    std::vector<std::vector<DbCell>> rows;  // each as many cells as headings
};

// The ColumnType of the `_uuid` column (one uuid).
const ovsdb::ColumnType& uuidColumnType();

// The whole output of one list/find command, every line ended by '\n'.
std::string formatDbTable(const DbTable& t, const DbStyle& style);

// Compact JSON, or with `pretty` Open vSwitch's indented layout (two spaces per level, closing
// brackets on the last element's line).
std::string jsonText(const rapidjson::Value& v, bool pretty);

}  // namespace vs::utilities
