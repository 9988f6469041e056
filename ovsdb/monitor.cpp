#include "ovsdb/monitor.h"

namespace vs::ovsdb {
namespace {

using rapidjson::Value;

void mergeRequest(const TableSchema& t, const Value& req, MonitorTable& mt, bool first, int version) {
    if (!req.IsObject()) throw Error("syntax error", "a monitor request for " + t.name + " must be an object");
    std::set<std::string> have(mt.columns.begin(), mt.columns.end());
    if (req.HasMember("columns")) {
        if (!req["columns"].IsArray()) throw Error("syntax error", "\"columns\" must be an array");
        for (const auto& c : req["columns"].GetArray()) {
            if (!c.IsString()) throw Error("syntax error", "\"columns\" must be an array of strings");
            if (!t.column(c.GetString()))
                throw Error("unknown column", "No column " + std::string(c.GetString()) + " in table " + t.name + ".");
            if (have.insert(c.GetString()).second) mt.columns.emplace_back(c.GetString());
        }
    }
    if (!req.HasMember("columns") || req["columns"].Empty())
        for (const auto& [cn, col] : t.columns)
            if (have.insert(cn).second) mt.columns.push_back(cn);
    if (req.HasMember("select") && req["select"].IsObject()) {
        const Value& s = req["select"];
        auto flag = [&](const char* n, bool& f) {
            if (s.HasMember(n) && s[n].IsBool()) f = first ? s[n].GetBool() : (f || s[n].GetBool());
        };
        flag("initial", mt.initial);
        flag("insert", mt.insert);
        flag("delete", mt.del);
        flag("modify", mt.modify);
    }
    if (version >= 2 && req.HasMember("where")) {
        mt.where = std::make_shared<const Conditions>(parseWhere(t, req["where"], nullptr));  // a bad one throws now
    }
}

bool selected(const MonitorTable& mt, const Uuid& u, const Row& r) {
    return !mt.where || matches(*mt.where, u, r);
}

Value rowJson(const MonitorTable& mt, const TableSchema& t, const Row& r, bool skipDefaults, JsonAlloc& a) {
    Value o(rapidjson::kObjectType);
    for (const auto& cn : mt.columns) {
        const Column& col = t.columns.at(cn);
        const Datum& d = r.at(cn);
        if (skipDefaults && d == col.type.defaultValue()) continue;
        o.AddMember(Value(cn.c_str(), a), datumToJson(d, col.type, a), a);
    }
    return o;
}

// update2 "modify": a scalar's new value; a set's symmetric difference; a map's changed pairs.
Datum diffDatum(const ColumnType& t, const Datum& before, const Datum& after) {
    if (t.isScalar()) return after;
    Datum d;
    for (const auto& [k, v] : before.entries) {
        auto it = after.entries.find(k);
        if (it == after.entries.end()) d.entries.emplace(k, v);
        else if (it->second != v) d.entries.emplace(k, it->second);
    }
    for (const auto& [k, v] : after.entries)
        if (!before.entries.count(k)) d.entries.emplace(k, v);
    return d;
}

Value modifyJson(const Monitor& m, const MonitorTable& mt, const TableSchema& t, const Row& before, const Row& after,
                 JsonAlloc& a) {
    Value changedOld(rapidjson::kObjectType), diff(rapidjson::kObjectType);
    for (const auto& cn : mt.columns) {
        const Column& col = t.columns.at(cn);
        if (before.at(cn) == after.at(cn)) continue;
        changedOld.AddMember(Value(cn.c_str(), a), datumToJson(before.at(cn), col.type, a), a);
        diff.AddMember(Value(cn.c_str(), a), datumToJson(diffDatum(col.type, before.at(cn), after.at(cn)), col.type, a), a);
    }
    if (diff.ObjectEmpty()) return Value();
    Value u(rapidjson::kObjectType);
    if (m.version >= 2) {
        u.AddMember("modify", diff, a);
    } else {
        u.AddMember("old", changedOld, a);
        u.AddMember("new", rowJson(mt, t, after, false, a), a);
    }
    return u;
}

Value insertJson(const Monitor& m, const MonitorTable& mt, const TableSchema& t, const Row& r, const char* kind,
                 JsonAlloc& a) {
    Value u(rapidjson::kObjectType);
    if (m.version >= 2) u.AddMember(Value(kind, a), rowJson(mt, t, r, true, a), a);
    else u.AddMember("new", rowJson(mt, t, r, false, a), a);
    return u;
}

Value deleteJson(const Monitor& m, const MonitorTable& mt, const TableSchema& t, const Row& r, JsonAlloc& a) {
    Value u(rapidjson::kObjectType);
    if (m.version >= 2) u.AddMember("delete", Value(), a);
    else u.AddMember("old", rowJson(mt, t, r, false, a), a);
    return u;
}

}  // namespace

Monitor parseMonitorRequests(const Schema& schema, const Value& requests, int version) {
    if (!requests.IsObject()) throw Error("syntax error", "<monitor-requests> must be an object");
    Monitor m;
    m.version = version;
    for (const auto& tr : requests.GetObject()) {
        std::string tn = tr.name.GetString();
        const TableSchema* t = schema.table(tn);
        if (!t) throw Error("unknown table", "No table named " + tn + ".");
        MonitorTable& mt = m.tables[tn];
        if (tr.value.IsArray()) {
            bool first = true;
            for (const auto& req : tr.value.GetArray()) {
                mergeRequest(*t, req, mt, first, version);
                first = false;
            }
        } else {
            mergeRequest(*t, tr.value, mt, true, version);
        }
    }
    return m;
}

Value initialUpdate(const Monitor& m, const Database& db, JsonAlloc& a) {
    Value out(rapidjson::kObjectType);
    for (const auto& [tn, mt] : m.tables) {
        if (!mt.initial) continue;
        const TableSchema& t = *db.schema->table(tn);
        Value rows(rapidjson::kObjectType);
        for (const auto& [uuid, row] : db.tables.at(tn))
            if (selected(mt, uuid, row)) rows.AddMember(Value(uuid.s.c_str(), a), insertJson(m, mt, t, row, "initial", a), a);
        if (!rows.ObjectEmpty()) out.AddMember(Value(tn.c_str(), a), rows, a);
    }
    return out;
}

Value changeUpdate(const Monitor& m, const Database& before, const Database& after, JsonAlloc& a) {
    Value out(rapidjson::kObjectType);
    for (const auto& [tn, mt] : m.tables) {
        const TableSchema& t = *after.schema->table(tn);
        const Table& tb = before.tables.at(tn);
        const Table& ta = after.tables.at(tn);
        if (tb == ta) continue;
        Value rows(rapidjson::kObjectType);
        for (const auto& [uuid, row] : tb) {
            auto it = ta.find(uuid);
            bool was = selected(mt, uuid, row);
            bool is = it != ta.end() && selected(mt, uuid, it->second);
            Value u;
            if (was && !is && mt.del) u = deleteJson(m, mt, t, row, a);
            else if (!was && is && mt.insert) u = insertJson(m, mt, t, it->second, "insert", a);
            else if (was && is && mt.modify && row != it->second) u = modifyJson(m, mt, t, row, it->second, a);
            if (!u.IsNull()) rows.AddMember(Value(uuid.s.c_str(), a), u, a);
        }
        for (const auto& [uuid, row] : ta)
            if (!tb.count(uuid) && mt.insert && selected(mt, uuid, row))
                rows.AddMember(Value(uuid.s.c_str(), a), insertJson(m, mt, t, row, "insert", a), a);
        if (!rows.ObjectEmpty()) out.AddMember(Value(tn.c_str(), a), rows, a);
    }
    return out;
}

}  // namespace vs::ovsdb
