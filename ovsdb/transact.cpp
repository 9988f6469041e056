// RFC 7047 section 5.2: the operations of a "transact" request.
#include "ovsdb/database.h"

#include <cmath>

namespace vs::ovsdb {
namespace {

using rapidjson::Value;

[[noreturn]] void syntax(const std::string& what) { throw Error("syntax error", what); }

const Value& member(const Value& op, const char* name) {
    if (!op.HasMember(name)) syntax(std::string("operation has no \"") + name + "\" member");
    return op[name];
}

std::string stringMember(const Value& op, const char* name) {
    const Value& v = member(op, name);
    if (!v.IsString()) syntax(std::string("\"") + name + "\" must be a string");
    return v.GetString();
}

class Executor {
public:
    Executor(Database& db, const TxnContext& ctx) : db_(db), ctx_(ctx) {
        resolve_ = [this](const std::string& name) { return symbol(name); };
    }

    Value execute(const Value& op, JsonAlloc& a);
    void finish();  // named-uuids, garbage collection, constraints

private:
    struct Symbol {
        Uuid uuid;
        bool created = false;
    };
    Uuid symbol(const std::string& name) {
        auto [it, fresh] = symbols_.try_emplace(name);
        if (fresh) it->second.uuid = randomUuid();
        return it->second.uuid;
    }
    const TableSchema& tableOf(const Value& op) {
        std::string name = stringMember(op, "table");
        const TableSchema* t = db_.schema->table(name);
        if (!t) throw Error("unknown table", "No table named " + name + ".");
        return *t;
    }
    const Column& columnOf(const TableSchema& t, const std::string& name) {
        const Column* c = t.column(name);
        if (!c) throw Error("unknown column", "No column " + name + " in table " + t.name + ".");
        return *c;
    }
    std::vector<Uuid> matching(const TableSchema& t, const Value& op) {
        std::vector<Uuid> out;
        Conditions where = parseWhere(t, member(op, "where"), resolve_);
        const auto& rows = db_.tables.at(t.name);
        if (const Uuid* only = uuidEquality(where)) {  // ovs-vsctl names rows by UUID: no scan
            auto it = rows.find(*only);
            if (it != rows.end() && matches(where, it->first, it->second)) out.push_back(it->first);
            return out;
        }
        for (const auto& [uuid, row] : rows)
            if (matches(where, uuid, row)) out.push_back(uuid);
        return out;
    }
    void setColumns(const TableSchema& t, const Value& rowJson, Row& row, bool isUpdate);
    Value opInsert(const Value& op, JsonAlloc& a);
    Value opSelect(const Value& op, JsonAlloc& a);
    Value opUpdate(const Value& op, JsonAlloc& a);
    Value opMutate(const Value& op, JsonAlloc& a);
    Value opDelete(const Value& op, JsonAlloc& a);
    Value opWait(const Value& op, JsonAlloc& a);
    void mutate(const TableSchema& t, Row& row, const Value& m);
    Value countResult(std::size_t n, JsonAlloc& a) {
        Value r(rapidjson::kObjectType);
        r.AddMember("count", static_cast<std::uint64_t>(n), a);
        return r;
    }

    Database& db_;
    const TxnContext& ctx_;
    NamedUuidResolver resolve_;
    std::map<std::string, Symbol> symbols_;
};

void Executor::setColumns(const TableSchema& t, const Value& rowJson, Row& row, bool isUpdate) {
    if (!rowJson.IsObject()) syntax("\"row\" must be an object");
    for (const auto& m : rowJson.GetObject()) {
        std::string cn = m.name.GetString();
        if (cn == "_uuid" || cn == "_version") throw Error("constraint violation", "cannot set column " + cn);
        const Column& col = columnOf(t, cn);
        if (isUpdate && !col.mutable_) throw Error("constraint violation", "column " + cn + " of table " + t.name + " is not mutable");
        row[cn] = datumFromJson(m.value, col.type, resolve_);
    }
}

Value Executor::opInsert(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    Uuid uuid;
    if (op.HasMember("uuid-name")) {
        if (!op["uuid-name"].IsString()) syntax("\"uuid-name\" must be a string");
        std::string name = op["uuid-name"].GetString();
        uuid = symbol(name);
        if (symbols_[name].created) throw Error("duplicate uuid-name", "uuid-name " + name + " is inserted twice");
        symbols_[name].created = true;
    } else {
        uuid = randomUuid();
    }
    Row row = db_.defaultRow(t.name);
    if (op.HasMember("row")) setColumns(t, op["row"], row, false);
    db_.tables.at(t.name)[uuid] = std::move(row);
    Value r(rapidjson::kObjectType);
    r.AddMember("uuid", atomToJson(uuid, a), a);
    return r;
}

Value Executor::opSelect(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    std::vector<std::string> cols;
    if (op.HasMember("columns")) {
        if (!op["columns"].IsArray()) syntax("\"columns\" must be an array");
        for (const auto& c : op["columns"].GetArray()) {
            if (!c.IsString()) syntax("\"columns\" must be an array of strings");
            if (std::string(c.GetString()) != "_uuid") columnOf(t, c.GetString());
            cols.emplace_back(c.GetString());
        }
    } else {
        cols.emplace_back("_uuid");
        for (const auto& [cn, c] : t.columns) cols.push_back(cn);
    }
    Value rows(rapidjson::kArrayType);
    for (const Uuid& uuid : matching(t, op)) {
        const Row& row = db_.tables.at(t.name).at(uuid);
        Value r(rapidjson::kObjectType);
        for (const auto& cn : cols) {
            Value v = cn == "_uuid" ? atomToJson(uuid, a) : datumToJson(row.at(cn), t.columns.at(cn).type, a);
            r.AddMember(Value(cn.c_str(), a), v, a);
        }
        rows.PushBack(r, a);
    }
    Value r(rapidjson::kObjectType);
    r.AddMember("rows", rows, a);
    return r;
}

Value Executor::opUpdate(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    const Value& rowJson = member(op, "row");
    auto uuids = matching(t, op);
    for (const Uuid& uuid : uuids) setColumns(t, rowJson, db_.tables.at(t.name).at(uuid), true);
    if (uuids.empty()) {  // still check the row's syntax, as ovsdb-server does
        Row scratch = db_.defaultRow(t.name);
        setColumns(t, rowJson, scratch, true);
    }
    return countResult(uuids.size(), a);
}

Value Executor::opDelete(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    auto uuids = matching(t, op);
    for (const Uuid& uuid : uuids) db_.tables.at(t.name).erase(uuid);
    return countResult(uuids.size(), a);
}

Value Executor::opMutate(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    const Value& mutations = member(op, "mutations");
    if (!mutations.IsArray()) syntax("\"mutations\" must be an array");
    auto uuids = matching(t, op);
    for (const Uuid& uuid : uuids)
        for (const auto& m : mutations.GetArray()) mutate(t, db_.tables.at(t.name).at(uuid), m);
    return countResult(uuids.size(), a);
}

Value Executor::opWait(const Value& op, JsonAlloc& a) {
    const TableSchema& t = tableOf(op);
    std::string until = stringMember(op, "until");
    if (until != "==" && until != "!=") syntax("\"until\" must be \"==\" or \"!=\"");
    const Value& rowsJson = member(op, "rows");
    if (!rowsJson.IsArray()) syntax("\"rows\" must be an array");
    std::vector<std::string> cols;
    if (op.HasMember("columns") && op["columns"].IsArray()) {
        for (const auto& c : op["columns"].GetArray()) {
            if (!c.IsString()) syntax("\"columns\" must be an array of strings");
            columnOf(t, c.GetString());
            cols.emplace_back(c.GetString());
        }
    } else {
        for (const auto& [cn, c] : t.columns) cols.push_back(cn);
    }
    std::multiset<Row> want, have;
    for (const auto& rj : rowsJson.GetArray()) {
        if (!rj.IsObject()) syntax("\"rows\" must be an array of objects");
        Row r;
        for (const auto& cn : cols) r[cn] = t.columns.at(cn).type.defaultValue();
        for (const auto& m : rj.GetObject()) {
            const Column& col = columnOf(t, m.name.GetString());
            r[col.name] = datumFromJson(m.value, col.type, resolve_);
        }
        want.insert(std::move(r));
    }
    for (const Uuid& uuid : matching(t, op)) {
        Row r;
        for (const auto& cn : cols) r[cn] = db_.tables.at(t.name).at(uuid).at(cn);
        have.insert(std::move(r));
    }
    bool equal = want == have;
    if ((until == "==") != equal)
        throw Error("timed out", "\"wait\" on table " + t.name + " was not satisfied (this server does not wait: "
                                 "a \"timeout\" other than 0 is treated as 0)");
    (void)a;
    return Value(rapidjson::kObjectType);
}

template <typename T>
T arith(const std::string& m, T x, T y) {
    if (m == "+=") return x + y;
    if (m == "-=") return x - y;
    if (m == "*=") return x * y;
    if (y == 0) throw Error("domain error", "division by zero in mutation " + m);
    if constexpr (std::is_integral_v<T>) return m == "/=" ? x / y : x % y;
    else {
        if (m == "%=") throw Error("syntax error", "%= applies only to integers");
        return x / y;
    }
}

void Executor::mutate(const TableSchema& t, Row& row, const Value& m) {
    if (!m.IsArray() || m.Size() != 3 || !m[0].IsString() || !m[1].IsString())
        syntax("a mutation must be [COLUMN, MUTATOR, VALUE]");
    std::string cn = m[0].GetString(), mut = m[1].GetString();
    const Column& col = columnOf(t, cn);
    if (!col.mutable_) throw Error("constraint violation", "column " + cn + " is not mutable");
    Datum& d = row.at(cn);
    if (mut == "insert" || mut == "delete") {
        ColumnType loose = col.type;
        loose.min = 0;
        loose.max = SIZE_MAX;
        if (mut == "delete" && col.type.isMap() && !(m[2].IsArray() && m[2].Size() == 2 && m[2][0] == "map")) {
            loose.value.reset();  // delete by a set of keys
            for (const auto& [k, v] : datumFromJson(m[2], loose, resolve_, false).entries) d.entries.erase(k);
        } else {
            Datum arg = datumFromJson(m[2], loose, resolve_, false);
            for (const auto& [k, v] : arg.entries) {
                if (mut == "insert") d.entries.emplace(k, v);  // a map keeps an existing key's value
                else if (auto it = d.entries.find(k); it != d.entries.end() && (!col.type.isMap() || it->second == v))
                    d.entries.erase(it);
            }
        }
    } else if (mut == "+=" || mut == "-=" || mut == "*=" || mut == "/=" || mut == "%=") {
        if (col.type.isMap() || (col.type.key.type != AtomType::kInteger && col.type.key.type != AtomType::kReal))
            syntax("mutator " + mut + " needs an integer or real column, not " + cn);
        ColumnType scalar = col.type;
        scalar.min = scalar.max = 1;
        scalar.key.minInteger = INT64_MIN;
        scalar.key.maxInteger = INT64_MAX;
        Atom arg = datumFromJson(m[2], scalar, resolve_).entries.begin()->first;
        std::map<Atom, Atom> out;
        for (const auto& [k, v] : d.entries) {
            if (auto i = std::get_if<std::int64_t>(&k)) out.emplace(arith(mut, *i, std::get<std::int64_t>(arg)), Atom{});
            else out.emplace(arith(mut, std::get<double>(k), std::get<double>(arg)), Atom{});
        }
        if (out.size() != d.entries.size()) throw Error("constraint violation", "mutation made set elements equal");
        d.entries = std::move(out);
    } else {
        syntax("unknown mutator \"" + mut + "\"");
    }
    checkDatum(d, col.type, cn);
}

Value Executor::execute(const Value& op, JsonAlloc& a) {
    if (!op.IsObject()) syntax("an operation must be an object");
    std::string name = stringMember(op, "op");
    if (name == "insert") return opInsert(op, a);
    if (name == "select") return opSelect(op, a);
    if (name == "update") return opUpdate(op, a);
    if (name == "mutate") return opMutate(op, a);
    if (name == "delete") return opDelete(op, a);
    if (name == "wait") return opWait(op, a);
    if (name == "commit" || name == "comment") return Value(rapidjson::kObjectType);
    if (name == "abort") throw Error("aborted", "aborted by request");
    if (name == "assert") {
        std::string lock = stringMember(op, "lock");
        if (!ctx_.holdsLock || !ctx_.holdsLock(lock)) throw Error("not owner", "this client does not hold lock " + lock);
        return Value(rapidjson::kObjectType);
    }
    syntax("unknown operation \"" + name + "\"");
}

void checkIndexes(const Database& db) {
    for (const auto& [tn, table] : db.tables) {
        const TableSchema& ts = *db.schema->table(tn);
        if (table.size() > ts.maxRows)
            throw Error("constraint violation", "Transaction causes \"" + tn + "\" table to contain " +
                                                    std::to_string(table.size()) + " rows, greater than the schema-defined limit of " +
                                                    std::to_string(ts.maxRows) + " row(s).");
        for (const auto& idx : ts.indexes) {
            std::set<std::vector<Datum>> seen;
            for (const auto& [uuid, row] : table) {
                std::vector<Datum> key;
                for (const auto& c : idx) key.push_back(row.at(c));
                if (!seen.insert(std::move(key)).second)
                    throw Error("constraint violation", "Transaction causes multiple rows in \"" + tn +
                                                            "\" table to have identical values for index on column \"" +
                                                            idx.front() + "\".");
            }
        }
        for (const auto& [uuid, row] : table)
            for (const auto& [cn, col] : ts.columns) checkDatum(row.at(cn), col.type, tn + "." + cn);
    }
}

void Executor::finish() {
    for (const auto& [name, s] : symbols_)
        if (!s.created) syntax("named-uuid \"" + name + "\" is referenced but never inserted");
    collectGarbage(db_);
    checkIndexes(db_);
}

}  // namespace

TxnOutcome transact(const Database& db, const Value& ops, std::size_t firstOp, const TxnContext& ctx, Database* next) {
    TxnOutcome out;
    auto& a = out.result.GetAllocator();
    Database work = db;
    Executor ex(work, ctx);
    std::size_t n = ops.IsArray() ? ops.Size() : 0;
    for (std::size_t i = firstOp; i < n; ++i) {
        try {
            out.result.PushBack(ex.execute(ops[static_cast<rapidjson::SizeType>(i)], a), a);
        } catch (const Error& e) {
            out.result.PushBack(e.toJson(a), a);
            for (std::size_t j = i + 1; j < n; ++j) out.result.PushBack(Value(), a);
            return out;
        }
    }
    try {
        ex.finish();
    } catch (const Error& e) {
        out.result.PushBack(e.toJson(a), a);
        return out;
    }
    out.ok = true;
    out.changed = !(work == db);
    if (next) *next = std::move(work);
    return out;
}

}  // namespace vs::ovsdb
