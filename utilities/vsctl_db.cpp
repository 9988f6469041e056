#include "utilities/vsctl_db.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "utilities/vsctl_datum.h"
#include "utilities/vsctl_db_bridge.h"

namespace vs::utilities {
namespace {

using ovsdb::Column;
using ovsdb::ColumnType;
using ovsdb::Database;
using ovsdb::Datum;
using ovsdb::Row;
using ovsdb::TableSchema;
using ovsdb::Uuid;

std::string lower(std::string_view s) {
    std::string out;
    for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string q(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ovs-vsctl's record identification (ovs-vsctl(8) "Database Commands"): a record of TABLE is
// named by `nameColumn` of a row of `viaTable`; with `refColumn`, the record is the one row that
// column of that row refers to. An empty nameColumn: the one row, named ".".
struct RowId {
    const char* table;
    const char* viaTable;
    const char* nameColumn;
    const char* refColumn;
};
constexpr RowId kRowIds[] = {
    {"Open_vSwitch", "Open_vSwitch", "", ""},
    {"Bridge", "Bridge", "name", ""},
    {"Controller", "Bridge", "name", "controller"},
    {"Interface", "Interface", "name", ""},
    {"Mirror", "Mirror", "name", ""},
    {"Manager", "Manager", "target", ""},
    {"NetFlow", "Bridge", "name", "netflow"},
    {"Port", "Port", "name", ""},
    {"QoS", "Port", "name", "qos"},
    {"SSL", "Open_vSwitch", "", "ssl"},
    {"sFlow", "Bridge", "name", "sflow"},
    {"IPFIX", "Bridge", "name", "ipfix"},
    {"Flow_Table", "Flow_Table", "name", ""},
    {"AutoAttach", "Bridge", "name", "auto_attach"},
};

struct Symbol {
    Uuid uuid;
    bool defined = false;
};

struct Ctx {
    Database& db;
    const DbStyle& style;
    std::map<std::string, Symbol> symbols;
    DbRun run;

    Uuid lookup(const std::string& name) {
        auto [it, fresh] = symbols.try_emplace(name);
        if (fresh) it->second.uuid = ovsdb::randomUuid();
        return it->second.uuid;
    }
    SymbolLookup lookupFn() {
        return [this](const std::string& n) { return lookup(n); };
    }
};

const TableSchema& findTable(const Database& db, const std::string& name) {
    const std::string want = lower(name);
    std::vector<std::string> prefixed;
    for (const auto& [tname, t] : db.schema->tables) {
        if (lower(tname) == want) return t;
        if (lower(tname).starts_with(want)) prefixed.push_back(tname);
    }
    if (prefixed.size() == 1) return *db.schema->table(prefixed.front());
    if (prefixed.empty()) throw CliError("unknown table " + q(name));
    std::string list;
    for (const auto& p : prefixed) list += (list.empty() ? "" : ", ") + p;
    throw CliError(q(name) + " matches multiple table names: " + list);
}

// "_uuid", or the column of `t` named `name` ('-' and '_' alike, exact or a unique prefix).
std::string findColumn(const TableSchema& t, const std::string& name) {
    std::string want = lower(name);
    std::replace(want.begin(), want.end(), '-', '_');
    if (want == "_uuid") return want;
    std::vector<std::string> prefixes;
    for (const auto& [cname, c] : t.columns) {
        if (lower(cname) == want) return cname;
        if (lower(cname).starts_with(want)) prefixes.push_back(cname);
    }
    if (prefixes.size() == 1) return prefixes.front();
    if (prefixes.size() > 1) {
        std::string list;
        for (const auto& p : prefixes) list += (list.empty() ? "" : ", ") + p;
        throw CliError(t.name + " contains more than one column whose name matches " + q(name) + ": " + list);
    }
    throw CliError(t.name + " does not contain a column whose name matches " + q(name));
}

const Column& column(const TableSchema& t, const std::string& name) {
    const Column* c = t.column(name);
    if (!c) throw CliError(t.name + " does not contain a column whose name matches " + q(name));
    return *c;
}

std::optional<Uuid> rowByName(const Database& db, const RowId& id, const std::string& record) {
    const auto& via = db.tables.at(id.viaTable);
    std::optional<Uuid> found;
    if (std::string_view(id.nameColumn).empty()) {
        if (record != "." || via.size() != 1) return std::nullopt;
        found = via.begin()->first;
    } else {
        for (const auto& [uuid, row] : via) {
            const Datum& d = row.at(id.nameColumn);
            if (d.entries.size() == 1 && d.entries.begin()->first == ovsdb::Atom(record)) {
                if (found) throw CliError("multiple rows in " + std::string(id.viaTable) + " match " + q(record));
                found = uuid;
            }
        }
    }
    if (!found || std::string_view(id.refColumn).empty()) return found;
    const Datum& ref = via.at(*found).at(id.refColumn);
    if (ref.entries.size() != 1) return std::nullopt;
    if (auto u = std::get_if<Uuid>(&ref.entries.begin()->first)) return *u;
    return std::nullopt;
}

// The row of `t` that `record` names (a UUID or as kRowIds says), or nullopt.
std::optional<Uuid> findRow(Ctx& c, const TableSchema& t, const std::string& record) {
    const auto& rows = c.db.tables.at(t.name);
    if (ovsdb::isUuidText(record) && rows.count(Uuid{record})) return Uuid{record};
    if (record.starts_with("@")) {
        auto s = c.symbols.find(record);
        if (s != c.symbols.end() && rows.count(s->second.uuid)) return s->second.uuid;
    }
    for (const auto& id : kRowIds) {
        if (t.name != id.table) continue;
        auto u = rowByName(c.db, id, record);
        if (u && rows.count(*u)) return u;
    }
    return std::nullopt;
}

std::optional<Uuid> mustFindRow(Ctx& c, const TableSchema& t, const std::string& record, bool ifExists) {
    auto u = findRow(c, t, record);
    if (!u && !ifExists) throw CliError("no row " + q(record) + " in table " + t.name);
    return u;
}

void checkMutable(const TableSchema& t, const Column& col) {
    if (!col.mutable_) throw CliError("cannot modify read-only column " + col.name + " in table " + t.name);
}

// Splits "COLUMN[:KEY][=VALUE]": the column part ends at ':' or '='; the key may be quoted.
struct Setting {
    std::string column;
    std::optional<std::string> key;
    std::optional<std::string> value;
};
Setting parseSetting(const std::string& arg, bool needValue, const std::string& cmd) {
    Setting s;
    std::size_t i = arg.find_first_of(":=");
    s.column = arg.substr(0, i);
    if (s.column.empty()) throw CliError(q(arg) + ": missing column name");
    if (i != std::string::npos && arg[i] == ':') {
        std::size_t j = i + 1;
        if (j < arg.size() && arg[j] == '"') {
            ++j;
            while (j < arg.size() && arg[j] != '"') j += arg[j] == '\\' ? 2 : 1;
            ++j;
        }
        j = arg.find('=', std::min(j, arg.size()));
        s.key = arg.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1);
        i = j;
    }
    if (i != std::string::npos) s.value = arg.substr(i + 1);
    if (needValue && !s.value) throw CliError("'" + cmd + "' argument " + q(arg) + " is not COLUMN[:KEY]=VALUE");
    if (needValue && s.value->empty()) throw CliError(arg + ": argument does not end in \"=\" followed by a value.");
    if (!needValue && s.value) throw CliError("'" + cmd + "' argument " + q(arg) + " must not have a value");
    return s;
}

// One column of a row as a DbCell (the `_uuid` column included).
DbCell cell(const TableSchema& t, const Uuid& uuid, const Row& row, const std::string& col) {
    if (col == "_uuid") {
        Datum d;
        d.entries.emplace(uuid, std::monostate{});
        return {d, &uuidColumnType()};
    }
    return {row.at(col), &column(t, col).type};
}

std::vector<std::string> listColumns(const TableSchema& t, const CommandOptions& o) {
    std::vector<std::string> cols;
    if (!o.columns.empty()) {
        for (const auto& c : o.columns) cols.push_back(findColumn(t, c));
        return cols;
    }
    cols.push_back("_uuid");
    for (const auto& [name, c] : t.columns) cols.push_back(name);
    return cols;
}

// Rows in a stable order: by name where the table has one, then by UUID.
std::vector<Uuid> orderedRows(const Database& db, const TableSchema& t) {
    std::vector<std::pair<std::string, Uuid>> keyed;
    const bool named = t.column("name") != nullptr;
    for (const auto& [uuid, row] : db.tables.at(t.name))
        keyed.emplace_back(named ? datumToBare(row.at("name"), t.column("name")->type) : "", uuid);
    std::sort(keyed.begin(), keyed.end());
    std::vector<Uuid> out;
    for (auto& [k, u] : keyed) out.push_back(u);
    return out;
}

std::string printRows(Ctx& c, const TableSchema& t, const std::vector<Uuid>& uuids, const CommandOptions& o) {
    DbTable out;
    out.headings = listColumns(t, o);
    const auto& rows = c.db.tables.at(t.name);
    for (const auto& u : uuids) {
        std::vector<DbCell> r;
        for (const auto& col : out.headings) r.push_back(cell(t, u, rows.at(u), col));
        out.rows.push_back(std::move(r));
    }
    return formatDbTable(out, c.style);
}

void cmdList(Ctx& c, const Command& cmd, std::string& output) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    std::vector<Uuid> uuids;
    if (cmd.args.size() == 1) {
        uuids = orderedRows(c.db, t);
    } else {
        for (std::size_t i = 1; i < cmd.args.size(); ++i)
            if (auto u = mustFindRow(c, t, cmd.args[i], cmd.options.ifExists)) uuids.push_back(*u);
    }
    output = printRows(c, t, uuids, cmd.options);
}

// --- conditions (find, wait-until): COLUMN[:KEY]OP VALUE ---

struct Condition {
    std::string column;
    std::optional<std::string> key;
    std::string op;
    std::string value;
};

Condition parseCondition(const std::string& arg) {
    static const char* kOps[] = {"{>=}", "{<=}", "{!=}", "{=}", "{<}", "{>}", "!=", "<=", ">=", "=", "<", ">"};
    Condition cond;
    std::size_t i = arg.find_first_of(":=!<>{");
    if (i == std::string::npos || i == 0) throw CliError(q(arg) + ": argument does not end in \"=\", \"!=\", \"<\", \">\", \"<=\", \">=\", \"{=}\", \"{!=}\", \"{<}\", \"{>}\", \"{<=}\", or \"{>=}\" followed by a value.");
    cond.column = arg.substr(0, i);
    if (arg[i] == ':') {
        std::size_t j = i + 1;
        if (j < arg.size() && arg[j] == '"') {
            ++j;
            while (j < arg.size() && arg[j] != '"') j += arg[j] == '\\' ? 2 : 1;
            ++j;
        }
        std::size_t k = arg.find_first_of("=!<>{", std::min(j, arg.size()));
        if (k == std::string::npos) throw CliError(q(arg) + ": missing operator after the key");
        cond.key = arg.substr(i + 1, k - i - 1);
        i = k;
    }
    for (const char* op : kOps) {
        if (arg.compare(i, std::strlen(op), op) == 0) {
            cond.op = op;
            cond.value = arg.substr(i + std::strlen(op));
            return cond;
        }
    }
    throw CliError(q(arg) + ": unknown comparison operator");
}

// Datums compare as ovs-vsctl compares them: by size first, then element by element.
int compare3(const Datum& a, const Datum& b) {
    if (a.entries.size() != b.entries.size()) return a.entries.size() < b.entries.size() ? -1 : 1;
    if (a.entries == b.entries) return 0;
    return a.entries < b.entries ? -1 : 1;
}

bool includesAll(const Datum& big, const Datum& small) {
    for (const auto& [k, v] : small.entries) {
        auto it = big.entries.find(k);
        if (it == big.entries.end() || it->second != v) return false;
    }
    return true;
}

bool relop(const Datum& have, const Datum& want, const std::string& op) {
    if (op == "=" || op == "{=}") return compare3(have, want) == 0;
    if (op == "!=" || op == "{!=}") return compare3(have, want) != 0;
    if (op == "<") return compare3(have, want) < 0;
    if (op == ">") return compare3(have, want) > 0;
    if (op == "<=") return compare3(have, want) <= 0;
    if (op == ">=") return compare3(have, want) >= 0;
    if (op == "{<}") return have.entries.size() < want.entries.size() && includesAll(want, have);
    if (op == "{>}") return have.entries.size() > want.entries.size() && includesAll(have, want);
    if (op == "{<=}") return includesAll(want, have);
    return includesAll(have, want);  // {>=}
}

bool satisfied(Ctx& c, const TableSchema& t, const Uuid& uuid, const Condition& cond) {
    const std::string col = findColumn(t, cond.column);
    if (col == "_uuid")  // as ovs-vsctl: conditions name the schema's columns only
        throw CliError(t.name + " does not contain a column whose name matches " + q(cond.column));
    DbCell have = cell(t, uuid, c.db.tables.at(t.name).at(uuid), col);
    if (!cond.key) {
        Datum want = parseDatumText(cond.value, *have.type, c.lookupFn(), false);
        return relop(have.datum, want, cond.op);
    }
    if (!have.type->isMap()) throw CliError("cannot specify key to check for non-map column " + col);
    ovsdb::Atom key = parseWholeAtom(*cond.key, have.type->key, c.lookupFn());
    ColumnType vt;
    vt.key = *have.type->value;
    vt.min = 0;
    vt.max = SIZE_MAX;
    Datum want = parseDatumText(cond.value, vt, c.lookupFn(), false);
    Datum value;
    auto it = have.datum.entries.find(key);
    const bool setOp = cond.op.starts_with("{");
    if (it == have.datum.entries.end()) {
        if (!setOp) return false;
    } else {
        value.entries.emplace(it->second, std::monostate{});
    }
    return relop(value, want, cond.op);
}

void cmdFind(Ctx& c, const Command& cmd, std::string& output) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    std::vector<Condition> conds;
    for (std::size_t i = 1; i < cmd.args.size(); ++i) conds.push_back(parseCondition(cmd.args[i]));
    std::vector<Uuid> uuids;
    for (const auto& u : orderedRows(c.db, t)) {
        bool all = true;
        for (const auto& cond : conds) all = all && satisfied(c, t, u, cond);
        if (all) uuids.push_back(u);
    }
    output = printRows(c, t, uuids, cmd.options);
}

void defineSymbol(Ctx& c, const std::string& id, const Uuid& uuid) {
    if (!id.starts_with("@") || id.size() < 2)
        throw CliError("row id " + q(id) + " does not begin with \"@\"");
    auto [it, fresh] = c.symbols.try_emplace(id);
    if (!fresh && it->second.defined) throw CliError("row id " + q(id) + " may only be specified on one --id option");
    if (!fresh) {
        // Referenced before this command defined it: rename the placeholder to the real row.
        const Uuid old = it->second.uuid;
        for (auto& [tname, rows] : c.db.tables)
            for (auto& [u, row] : rows)
                for (auto& [cname, d] : row) {
                    Datum fixed;
                    bool changed = false;
                    for (const auto& [k, v] : d.entries) {
                        auto fix = [&](const ovsdb::Atom& a) {
                            if (auto x = std::get_if<Uuid>(&a); x && *x == old) return changed = true, ovsdb::Atom(uuid);
                            return a;
                        };
                        fixed.entries.emplace(fix(k), fix(v));
                    }
                    if (changed) d = std::move(fixed);
                }
    }
    it->second.uuid = uuid;
    it->second.defined = true;
}

void cmdGet(Ctx& c, const Command& cmd, std::string& output) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto uuid = mustFindRow(c, t, cmd.args[1], cmd.options.ifExists);
    if (!uuid) return;
    if (!cmd.options.id.empty()) defineSymbol(c, cmd.options.id, *uuid);
    const Row& row = c.db.tables.at(t.name).at(*uuid);
    for (std::size_t i = 2; i < cmd.args.size(); ++i) {
        Setting s = parseSetting(cmd.args[i], false, "get");
        const std::string col = findColumn(t, s.column);
        DbCell value = cell(t, *uuid, row, col);
        if (!s.key) {
            output += datumToString(value.datum, *value.type) + "\n";
            continue;
        }
        if (!value.type->isMap()) throw CliError("cannot specify key to get for non-map column " + col);
        ovsdb::Atom key = parseWholeAtom(*s.key, value.type->key, c.lookupFn());
        auto it = value.datum.entries.find(key);
        if (it == value.datum.entries.end()) {
            if (cmd.options.ifExists) {
                output += "\n";  // as ovs-vsctl: an empty line for a missing key
                continue;
            }
            throw CliError("no key " + q(*s.key) + " in " + t.name + " record " + q(cmd.args[1]) + " column " + col);
        }
        output += atomToString(it->second) + "\n";
    }
}

void setColumn(Ctx& c, const TableSchema& t, Row& row, const std::string& arg, const std::string& cmdName) {
    Setting s = parseSetting(arg, true, cmdName);
    const std::string col = findColumn(t, s.column);
    if (col == "_uuid") throw CliError("cannot modify read-only column _uuid in table " + t.name);
    const Column& column_ = column(t, col);
    if (cmdName != "create") checkMutable(t, column_);
    if (!s.key) {
        row[col] = parseDatumText(*s.value, column_.type, c.lookupFn());
        return;
    }
    if (!column_.type.isMap()) throw CliError("cannot specify key to set for non-map column " + col);
    ovsdb::Atom key = parseWholeAtom(*s.key, column_.type.key, c.lookupFn());
    ovsdb::Atom value = parseWholeAtom(*s.value, *column_.type.value, c.lookupFn());
    Datum& d = row[col];
    d.entries.erase(key);
    d.entries.emplace(std::move(key), std::move(value));
    if (d.entries.size() > column_.type.max)
        throw CliError("\"set\" operation would put " + std::to_string(d.entries.size()) + " values in column " + col +
                       " of table " + t.name + " but the maximum number is " + std::to_string(column_.type.max));
}

void cmdSet(Ctx& c, const Command& cmd) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto uuid = mustFindRow(c, t, cmd.args[1], cmd.options.ifExists);
    if (!uuid) return;
    for (std::size_t i = 2; i < cmd.args.size(); ++i) setColumn(c, t, c.db.tables.at(t.name).at(*uuid), cmd.args[i], "set");
}

void checkSize(const TableSchema& t, const Column& col, const Datum& d, const std::string& op) {
    const auto n = d.entries.size();
    if (n > col.type.max)
        throw CliError(q(op) + " operation would put " + std::to_string(n) + " values in column " + col.name +
                       " of table " + t.name + " but the maximum number is " + std::to_string(col.type.max));
    if (n < col.type.min)
        throw CliError(q(op) + " operation would put " + std::to_string(n) + " values in column " + col.name +
                       " of table " + t.name + " but the minimum number is " + std::to_string(col.type.min));
}

void cmdAddRemove(Ctx& c, const Command& cmd, bool add) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto uuid = mustFindRow(c, t, cmd.args[1], cmd.options.ifExists);
    if (!uuid) return;
    const Column& col = column(t, findColumn(t, cmd.args[2]));
    checkMutable(t, col);
    Datum& d = c.db.tables.at(t.name).at(*uuid)[col.name];
    for (std::size_t i = 3; i < cmd.args.size(); ++i) {
        if (add) {
            Datum more = parseDatumText(cmd.args[i], col.type, c.lookupFn(), false);
            for (auto& [k, v] : more.entries) d.entries.emplace(k, v);  // an existing key stays
            continue;
        }
        Datum less;
        bool pairs = col.type.isMap();
        if (pairs) {
            try {
                less = parseDatumText(cmd.args[i], col.type, c.lookupFn(), false);
            } catch (const CliError&) {
                pairs = false;
            }
        }
        if (!pairs) less = parseKeySetText(cmd.args[i], col.type, c.lookupFn());
        for (const auto& [k, v] : less.entries) {
            auto it = d.entries.find(k);
            if (it != d.entries.end() && (!pairs || it->second == v)) d.entries.erase(it);
        }
    }
    checkSize(t, col, d, add ? "add" : "remove");
}

void cmdClear(Ctx& c, const Command& cmd) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto uuid = mustFindRow(c, t, cmd.args[1], cmd.options.ifExists);
    if (!uuid) return;
    for (std::size_t i = 2; i < cmd.args.size(); ++i) {
        const Column& col = column(t, findColumn(t, cmd.args[i]));
        checkMutable(t, col);
        if (col.type.min > 0)
            throw CliError("\"clear\" operation cannot be applied to column " + col.name + " of table " + t.name +
                           ", which is not allowed to be empty");
        c.db.tables.at(t.name).at(*uuid)[col.name] = Datum{};
    }
}

void cmdCreate(Ctx& c, const Command& cmd, std::string& output) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    Uuid uuid = ovsdb::randomUuid();
    if (!cmd.options.id.empty()) {
        if (!cmd.options.id.starts_with("@")) throw CliError("row id " + q(cmd.options.id) + " does not begin with \"@\"");
        auto [it, fresh] = c.symbols.try_emplace(cmd.options.id);
        if (!fresh && it->second.defined)
            throw CliError("row id " + q(cmd.options.id) + " may only be specified on one --id option");
        if (fresh) it->second.uuid = uuid;
        uuid = it->second.uuid;
        it->second.defined = true;
    }
    if (cmd.options.id.empty() && !t.isRoot)  // nothing can refer to it: garbage at commit
        c.run.warnings.push_back("applying \"create\" command to table " + t.name +
                                 " without --id option will have no effect");
    Row row = c.db.defaultRow(t.name);
    for (std::size_t i = 1; i < cmd.args.size(); ++i) setColumn(c, t, row, cmd.args[i], "create");
    c.db.tables.at(t.name).emplace(uuid, std::move(row));
    c.run.created.push_back(uuid);
    output = uuid.s + "\n";
}

void cmdDestroy(Ctx& c, const Command& cmd) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto& rows = c.db.tables.at(t.name);
    if (cmd.options.all) {
        if (cmd.args.size() > 1) throw CliError("--all and records argument should not be specified together");
        if (t.isRoot) rows.clear();
        return;
    }
    if (cmd.args.size() == 1) throw CliError("either --all or records argument should be specified");
    // A row of a non-root table goes when nothing refers to it any more (garbage collection at
    // the end of the invocation, as ovsdb-server decides): destroying one still referenced
    // changes nothing, as with ovs-vsctl.
    for (std::size_t i = 1; i < cmd.args.size(); ++i)
        if (auto u = mustFindRow(c, t, cmd.args[i], cmd.options.ifExists); u && t.isRoot) rows.erase(*u);
}

void cmdWaitUntil(Ctx& c, const Command& cmd) {
    const TableSchema& t = findTable(c.db, cmd.args[0]);
    auto uuid = findRow(c, t, cmd.args[1]);
    bool ok = uuid.has_value();
    for (std::size_t i = 2; ok && i < cmd.args.size(); ++i) ok = satisfied(c, t, *uuid, parseCondition(cmd.args[i]));
    if (!ok) c.run.waitUnsatisfied = true;
}

void runOne(Ctx& c, const Command& cmd, std::string& output) {
    const std::string& n = cmd.name;
    if (n == "list") return cmdList(c, cmd, output);
    if (n == "find") return cmdFind(c, cmd, output);
    if (n == "get") return cmdGet(c, cmd, output);
    if (n == "set") return cmdSet(c, cmd);
    if (n == "add") return cmdAddRemove(c, cmd, true);
    if (n == "remove") return cmdAddRemove(c, cmd, false);
    if (n == "clear") return cmdClear(c, cmd);
    if (n == "create") return cmdCreate(c, cmd, output);
    if (n == "destroy") return cmdDestroy(c, cmd);
    if (n == "wait-until") return cmdWaitUntil(c, cmd);
    ApplySetting apply = [&c](const std::string& table, Row& row, const std::string& arg) {
        setColumn(c, *c.db.schema->table(table), row, arg, "set");
    };
    if (runBridgeCommand(c.db, cmd, apply, output, c.run.status)) return;
    throw CliError("'" + n + "' cannot be combined with database commands (find, create, destroy, add, wait-until, "
                   "--db and ovs-vsctl's output options) in one invocation; run it in an invocation of its own");
}

}  // namespace

bool isDbOnlyCommand(const std::string& name) {
    return isDbOnlyBridgeCommand(name) || name == "find" || name == "create" || name == "destroy" || name == "add" || name == "wait-until";
}

DbRun runDbCommands(Database& db, const std::vector<Command>& commands, const DbStyle& style) {
    Ctx c{db, style, {}, {}};
    c.run.outputs.resize(commands.size());
    c.run.isTable.resize(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i)
        c.run.isTable[i] = commands[i].name == "list" || commands[i].name == "find";
    for (std::size_t i = 0; i < commands.size(); ++i) runOne(c, commands[i], c.run.outputs[i]);
    for (const auto& [name, sym] : c.symbols)
        if (!sym.defined)
            throw CliError("row id " + q(name) + " is referenced but never created (e.g. with \"-- --id=" + name +
                           " create ...\")");
    try {
        ovsdb::collectGarbage(db);
    } catch (const ovsdb::Error& e) {
        throw CliError("transaction error: {\"details\":" + jsonText(rapidjson::Value(e.details.c_str(), static_cast<rapidjson::SizeType>(e.details.size())), false) +
                       ",\"error\":\"" + e.error + "\"}");
    }
    return std::move(c.run);
}

}  // namespace vs::utilities
