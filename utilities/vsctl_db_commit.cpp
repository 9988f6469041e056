// The commit side of vsctl's database path (vsctl_db.h): reading the replica, and turning the
// difference between two replicas into one RFC 7047 transaction (section 5.2 operations).
#include <algorithm>

#include "utilities/vsctl_db.h"

namespace vs::utilities {
namespace {

using ovsdb::Column;
using ovsdb::Database;
using ovsdb::Row;
using ovsdb::TableSchema;
using ovsdb::Uuid;
using Alloc = rapidjson::Document::AllocatorType;

// JSON of a datum where references to rows this invocation inserts become named-uuids.
void nameNewRows(rapidjson::Value& v, const std::map<Uuid, std::size_t>& inserted, rapidjson::Document::AllocatorType& a) {
    if (!v.IsArray()) return;
    if (v.Size() == 2 && v[0].IsString() && std::string_view(v[0].GetString()) == "uuid" && v[1].IsString()) {
        Uuid u{v[1].GetString()};
        if (inserted.count(u)) {
            std::string name = "row" + u.s;
            std::replace(name.begin(), name.end(), '-', '_');
            v[0].SetString("named-uuid", a);
            v[1].SetString(name.c_str(), a);
        }
        return;
    }
    for (auto& e : v.GetArray()) nameNewRows(e, inserted, a);
}

rapidjson::Value uuidWhere(const Uuid& u, rapidjson::Document::AllocatorType& a) {
    rapidjson::Value cond(rapidjson::kArrayType), ref(rapidjson::kArrayType), where(rapidjson::kArrayType);
    ref.PushBack("uuid", a).PushBack(rapidjson::Value(u.s.c_str(), a), a);
    cond.PushBack("_uuid", a).PushBack("==", a).PushBack(ref, a);
    where.PushBack(cond, a);
    return where;
}

std::string uuidName(const Uuid& u) {
    std::string name = "row" + u.s;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

// {COLUMN: VALUE} of `row` for `cols`, references to inserted rows as named-uuids.
rapidjson::Value rowJson(const TableSchema& t, const Row& row, const std::vector<std::string>& cols,
                         const std::map<Uuid, std::size_t>& inserted, Alloc& a) {
    rapidjson::Value obj(rapidjson::kObjectType);
    for (const auto& col : cols) {
        rapidjson::Value v = ovsdb::datumToJson(row.at(col), t.column(col)->type, a);
        nameNewRows(v, inserted, a);
        obj.AddMember(rapidjson::Value(col.c_str(), a), v, a);
    }
    return obj;
}

void addInsert(CommitPlan& plan, const Database& after, const TableSchema& t, const Uuid& uuid, const Row& row) {
    auto& a = plan.ops.GetAllocator();
    const Row defaults = after.defaultRow(t.name);
    std::vector<std::string> cols;
    for (const auto& [col, d] : row)
        if (d != defaults.at(col)) cols.push_back(col);
    rapidjson::Value op(rapidjson::kObjectType);
    op.AddMember("op", "insert", a).AddMember("table", rapidjson::Value(t.name.c_str(), a), a);
    op.AddMember("uuid-name", rapidjson::Value(uuidName(uuid).c_str(), a), a);
    op.AddMember("row", rowJson(t, row, cols, plan.insertOp, a), a);
    plan.insertOp[uuid] = plan.ops.Size();
    plan.ops.PushBack(op, a);
}

// A `wait` that the changed columns still hold what was read, then the `update`.
void addUpdate(CommitPlan& plan, const TableSchema& t, const Uuid& uuid, const Row& before, const Row& row) {
    auto& a = plan.ops.GetAllocator();
    std::vector<std::string> cols;
    for (const auto& [col, d] : row)
        if (d != before.at(col)) cols.push_back(col);
    if (cols.empty()) return;
    rapidjson::Value wait(rapidjson::kObjectType), colNames(rapidjson::kArrayType), olds(rapidjson::kArrayType);
    for (const auto& col : cols) colNames.PushBack(rapidjson::Value(col.c_str(), a), a);
    olds.PushBack(rowJson(t, before, cols, plan.insertOp, a), a);
    wait.AddMember("op", "wait", a).AddMember("timeout", 0, a).AddMember("table", rapidjson::Value(t.name.c_str(), a), a);
    wait.AddMember("where", uuidWhere(uuid, a), a).AddMember("columns", colNames, a);
    wait.AddMember("until", "==", a).AddMember("rows", olds, a);
    plan.ops.PushBack(wait, a);
    rapidjson::Value op(rapidjson::kObjectType);
    op.AddMember("op", "update", a).AddMember("table", rapidjson::Value(t.name.c_str(), a), a);
    op.AddMember("where", uuidWhere(uuid, a), a).AddMember("row", rowJson(t, row, cols, plan.insertOp, a), a);
    plan.ops.PushBack(op, a);
}

void addDelete(CommitPlan& plan, const TableSchema& t, const Uuid& uuid) {
    auto& a = plan.ops.GetAllocator();
    rapidjson::Value op(rapidjson::kObjectType);
    op.AddMember("op", "delete", a).AddMember("table", rapidjson::Value(t.name.c_str(), a), a);
    op.AddMember("where", uuidWhere(uuid, a), a);
    plan.ops.PushBack(op, a);
}

}  // namespace

CommitPlan planCommit(const Database& before, const Database& after) {
    CommitPlan plan;
    // Every inserted row is known first, so that references to it become named-uuids.
    for (const auto& [tname, rows] : after.tables)
        for (const auto& [uuid, row] : rows)
            if (!before.tables.at(tname).count(uuid)) plan.insertOp.emplace(uuid, 0);
    for (const auto& [tname, rows] : after.tables) {
        const TableSchema& t = *after.schema->table(tname);
        const auto& old = before.tables.at(tname);
        for (const auto& [uuid, row] : rows) {
            auto prev = old.find(uuid);
            if (prev == old.end()) addInsert(plan, after, t, uuid, row);
            else addUpdate(plan, t, uuid, prev->second, row);
        }
        for (const auto& [uuid, row] : old)
            if (!rows.count(uuid)) addDelete(plan, t, uuid);
    }
    return plan;
}

rapidjson::Document selectAllOps(const ovsdb::Schema& schema) {
    rapidjson::Document ops(rapidjson::kArrayType);
    auto& a = ops.GetAllocator();
    ops.PushBack(rapidjson::Value(schema.name.c_str(), a), a);
    for (const auto& [tname, t] : schema.tables) {
        rapidjson::Value op(rapidjson::kObjectType);
        op.AddMember("op", "select", a).AddMember("table", rapidjson::Value(tname.c_str(), a), a);
        op.AddMember("where", rapidjson::Value(rapidjson::kArrayType), a);
        ops.PushBack(op, a);
    }
    return ops;
}

void loadReplica(const rapidjson::Value& result, Database& db) {
    if (!result.IsArray() || result.Size() < db.schema->tables.size())
        throw CliError("the database server's reply to select is not an array of " +
                       std::to_string(db.schema->tables.size()) + " results");
    rapidjson::SizeType i = 0;
    for (const auto& [tname, t] : db.schema->tables) {
        const rapidjson::Value& r = result[i++];
        if (!r.IsObject() || !r.HasMember("rows") || !r["rows"].IsArray())
            throw CliError("the database server could not select table " + tname + ": " + jsonText(r, false));
        auto& rows = db.tables[tname];
        rows.clear();
        for (const auto& jr : r["rows"].GetArray()) {
            Row row = db.defaultRow(tname);
            Uuid uuid;
            for (const auto& m : jr.GetObject()) {
                std::string col = m.name.GetString();
                if (col == "_uuid") uuid = Uuid{m.value[1].GetString()};
                else if (const Column* c = t.column(col)) row[col] = ovsdb::datumFromJson(m.value, c->type, nullptr, false);
            }
            rows.emplace(uuid, std::move(row));
        }
    }
}

}  // namespace vs::utilities
