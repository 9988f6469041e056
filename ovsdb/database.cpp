#include "ovsdb/database.h"

#include <algorithm>
#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace vs::ovsdb {
namespace {

using rapidjson::Value;

const ColumnType& uuidColumnType() {
    static const ColumnType t = [] {
        ColumnType c;
        c.key.type = AtomType::kUuid;
        return c;
    }();
    return t;
}

// The column a condition or mutation names, or _uuid.
const ColumnType& conditionColumnType(const TableSchema& t, const std::string& col) {
    if (col == "_uuid") return uuidColumnType();
    const Column* c = t.column(col);
    if (!c) throw Error("unknown column", "No column " + col + " in table " + t.name + ".");
    return c->type;
}

bool isSubset(const Datum& small, const Datum& big, bool isMap) {
    for (const auto& [k, v] : small.entries) {
        auto it = big.entries.find(k);
        if (it == big.entries.end() || (isMap && it->second != v)) return false;
    }
    return true;
}

bool isDisjoint(const Datum& a, const Datum& b, bool isMap) {
    for (const auto& [k, v] : a.entries) {
        auto it = b.entries.find(k);
        if (it != b.entries.end() && (!isMap || it->second == v)) return false;
    }
    return true;
}

bool holds(const Condition& c, const Uuid& uuid, const Row& row) {
    if (c.constant) return *c.constant;
    Datum uuidDatum;
    if (c.column == "_uuid") uuidDatum.entries.emplace(uuid, Atom{});
    const Datum& have = c.column == "_uuid" ? uuidDatum : row.at(c.column);
    switch (c.fn) {
    case Condition::Fn::kEq: return have == c.value;
    case Condition::Fn::kNe: return have != c.value;
    case Condition::Fn::kIncludes: return isSubset(c.value, have, c.type->isMap());
    case Condition::Fn::kExcludes: return isDisjoint(c.value, have, c.type->isMap());
    default: break;
    }
    if (have.entries.empty()) return false;  // an optional column with no value
    const Atom& a = have.entries.begin()->first;
    const Atom& b = c.value.entries.begin()->first;
    switch (c.fn) {
    case Condition::Fn::kLt: return a < b;
    case Condition::Fn::kLe: return a <= b;
    case Condition::Fn::kGt: return a > b;
    default: return a >= b;
    }
}

Condition::Fn conditionFunction(const std::string& fn) {
    static const std::map<std::string, Condition::Fn> kFns = {
        {"==", Condition::Fn::kEq}, {"!=", Condition::Fn::kNe}, {"includes", Condition::Fn::kIncludes},
        {"excludes", Condition::Fn::kExcludes}, {"<", Condition::Fn::kLt}, {"<=", Condition::Fn::kLe},
        {">", Condition::Fn::kGt}, {">=", Condition::Fn::kGe}};
    auto it = kFns.find(fn);
    if (it == kFns.end()) throw Error("syntax error", "unknown function \"" + fn + "\" in a condition");
    return it->second;
}

Condition parseCondition(const TableSchema& t, const Value& c, const NamedUuidResolver& resolve) {
    Condition out;
    if (c.IsBool()) {
        out.constant = c.GetBool();
        return out;
    }
    if (!c.IsArray() || c.Size() != 3 || !c[0].IsString() || !c[1].IsString())
        throw Error("syntax error", "a condition must be [COLUMN, FUNCTION, VALUE]");
    out.column = c[0].GetString();
    std::string fn = c[1].GetString();
    out.type = &conditionColumnType(t, out.column);
    out.value = datumFromJson(c[2], *out.type, resolve, false);
    out.fn = conditionFunction(fn);
    if (out.fn >= Condition::Fn::kLt) {
        const ColumnType& type = *out.type;
        bool numeric = type.key.type == AtomType::kInteger || type.key.type == AtomType::kReal;
        if (!numeric || type.max != 1 || type.isMap() || out.value.entries.size() != 1)
            throw Error("syntax error", "function " + fn + " needs a single integer or real, column " + out.column);
    }
    return out;
}

template <typename F>
void forEachRef(const ColumnType& t, const Datum& d, F&& f) {
    for (const auto& [k, v] : d.entries) {
        if (!t.key.refTable.empty()) f(t.key, k);
        if (t.value && !t.value->refTable.empty()) f(*t.value, v);
    }
}

// Strong references from every row: (table, uuid) that must exist.
void checkStrongRefs(const Database& db) {
    for (const auto& [tn, ts] : db.schema->tables)
        for (const auto& [uuid, row] : db.tables.at(tn))
            for (const auto& cn : ts.refColumns)
                forEachRef(ts.columns.at(cn).type, row.at(cn), [&](const BaseType& b, const Atom& a) {
                    if (b.weak || db.tables.at(b.refTable).count(std::get<Uuid>(a))) return;
                    throw Error("referential integrity violation",
                                "Table " + tn + " column " + cn + " row " + uuid.s + " references nonexistent row " +
                                    std::get<Uuid>(a).s + " in table " + b.refTable + ".");
                });
}

// Removes weak references to rows that no longer exist.
void dropDanglingWeakRefs(Database& db) {
    for (const auto& [tn, ts] : db.schema->tables)
        for (auto& [uuid, row] : db.tables.at(tn))
            for (const auto& cn : ts.refColumns) {
                const ColumnType& t = ts.columns.at(cn).type;
                auto dangling = [&](const BaseType* b, const Atom& a) {
                    return b && !b->refTable.empty() && b->weak && !db.tables.at(b->refTable).count(std::get<Uuid>(a));
                };
                auto& entries = row.at(cn).entries;
                for (auto it = entries.begin(); it != entries.end();)
                    it = dangling(&t.key, it->first) || dangling(t.value ? &*t.value : nullptr, it->second)
                             ? entries.erase(it)
                             : std::next(it);
            }
}

// Deletes non-root rows that no strong reference from a surviving row reaches.
void dropUnreachable(Database& db) {
    std::map<std::string, std::set<Uuid>> reached;
    std::vector<std::pair<const std::string*, Uuid>> work;
    for (const auto& [tn, table] : db.tables)
        if (db.schema->table(tn)->isRoot)
            for (const auto& [uuid, row] : table) work.emplace_back(&tn, uuid);
    while (!work.empty()) {
        auto [tn, uuid] = work.back();
        work.pop_back();
        if (!reached[*tn].insert(uuid).second) continue;
        const TableSchema& ts = *db.schema->table(*tn);
        const Row& row = db.tables.at(*tn).at(uuid);
        for (const auto& cn : ts.refColumns)
            forEachRef(ts.columns.at(cn).type, row.at(cn), [&](const BaseType& b, const Atom& a) {
                if (b.weak) return;
                auto target = db.tables.find(b.refTable);
                if (target->second.count(std::get<Uuid>(a))) work.emplace_back(&target->first, std::get<Uuid>(a));
            });
    }
    for (auto& [tn, table] : db.tables) {
        if (db.schema->table(tn)->isRoot) continue;
        const auto& keep = reached[tn];
        for (auto it = table.begin(); it != table.end();) it = keep.count(it->first) ? std::next(it) : table.erase(it);
    }
}

}  // namespace

Database::Database(std::shared_ptr<const Schema> s) : schema(std::move(s)) {
    for (const auto& [name, t] : schema->tables) tables[name];
}

Row Database::defaultRow(const std::string& table) const {
    Row r;
    for (const auto& [cn, col] : schema->table(table)->columns) r.emplace(cn, col.type.defaultValue());
    return r;
}

Conditions parseWhere(const TableSchema& t, const Value& where, const NamedUuidResolver& resolve) {
    if (!where.IsArray()) throw Error("syntax error", "\"where\" must be an array of conditions");
    Conditions out;
    for (const auto& c : where.GetArray()) out.push_back(parseCondition(t, c, resolve));
    return out;
}

bool matches(const Conditions& where, const Uuid& uuid, const Row& row) {
    for (const auto& c : where)
        if (!holds(c, uuid, row)) return false;
    return true;
}

const Uuid* uuidEquality(const Conditions& where) {
    for (const auto& c : where)
        if (!c.constant && c.column == "_uuid" && c.fn == Condition::Fn::kEq && c.value.entries.size() == 1)
            return &std::get<Uuid>(c.value.entries.begin()->first);
    return nullptr;
}

bool matches(const TableSchema& t, const Uuid& uuid, const Row& row, const Value& where, const NamedUuidResolver& resolve) {
    return matches(parseWhere(t, where, resolve), uuid, row);
}

std::string rowsToText(const Database& db) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    for (const auto& [tn, table] : db.tables) {
        if (table.empty()) continue;
        const TableSchema& ts = *db.schema->table(tn);
        Value rows(rapidjson::kObjectType);
        for (const auto& [uuid, row] : table) {
            Value r(rapidjson::kObjectType);
            for (const auto& [cn, col] : ts.columns)
                if (!(row.at(cn) == col.type.defaultValue()))
                    r.AddMember(Value(cn.c_str(), a), datumToJson(row.at(cn), col.type, a), a);
            rows.AddMember(Value(uuid.s.c_str(), a), r, a);
        }
        doc.AddMember(Value(tn.c_str(), a), rows, a);
    }
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    doc.Accept(w);
    return {sb.GetString(), sb.GetSize()};
}

void rowsFromJson(const Value& v, Database& db) {
    if (!v.IsObject()) throw Error("syntax error", "the rows must be a JSON object");
    for (auto& [tn, table] : db.tables) table.clear();
    for (const auto& t : v.GetObject()) {
        std::string tn = t.name.GetString();
        const TableSchema* ts = db.schema->table(tn);
        if (!ts || !t.value.IsObject()) throw Error("unknown table", "No table named " + tn + ".");
        for (const auto& r : t.value.GetObject()) {
            std::string u = r.name.GetString();
            if (!isUuidText(u) || !r.value.IsObject()) throw Error("syntax error", "bad row " + u + " in table " + tn);
            Row row = db.defaultRow(tn);
            for (const auto& c : r.value.GetObject()) {
                const Column* col = ts->column(c.name.GetString());
                if (!col) throw Error("unknown column", "No column " + std::string(c.name.GetString()) + " in table " + tn + ".");
                row[col->name] = datumFromJson(c.value, col->type, nullptr);
            }
            db.tables[tn][Uuid{u}] = std::move(row);
        }
    }
}

void collectGarbage(Database& db) {
    dropUnreachable(db);  // first: a row being collected may point at rows deleted with it
    checkStrongRefs(db);
    dropDanglingWeakRefs(db);
}

}  // namespace vs::ovsdb
