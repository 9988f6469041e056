#include "vswitchd/qos_ovsdb.h"

#include <cstdint>

namespace vs::vswitchd {
namespace {

using ovsdb::Atom;
using ovsdb::Datum;
using ovsdb::Row;
using ovsdb::Uuid;

Datum mapDatum(const StringMap& m) {
    Datum d;
    for (const auto& [k, v] : m) d.entries.emplace(Atom{k}, Atom{v});
    return d;
}
StringMap strMap(const Row& r, const char* col) {
    StringMap m;
    for (const auto& [k, v] : r.at(col).entries) m.emplace(std::get<std::string>(k), std::get<std::string>(v));
    return m;
}
std::optional<Uuid> ref(const Row& r, const char* col) {
    const auto& e = r.at(col).entries;
    if (e.empty()) return std::nullopt;
    return std::get<Uuid>(e.begin()->first);
}
const Row* find(const ovsdb::Database& db, const char* table, const Uuid& u) {
    const auto& t = db.tables.at(table);
    auto it = t.find(u);
    return it == t.end() ? nullptr : &it->second;
}

int policingValue(const Row& r, const char* col) {
    const auto& e = r.at(col).entries;
    if (e.empty()) return 0;
    std::int64_t v = std::get<std::int64_t>(e.begin()->first);
    if (v < 0 || v > INT32_MAX)
        throw ovsdb::Error("constraint violation", std::string("Interface ") + col + " " + std::to_string(v) +
                                                       " is outside 0..2147483647");
    return static_cast<int>(v);
}

// The Queue rows of `q`, reusing the UUIDs `old` (the QoS row as it was) gave each queue id.
Datum projectQueues(const QosConfig& q, const Row* old, ovsdb::Database& db) {
    Datum queues;
    for (const auto& [id, qc] : q.queues) {
        std::optional<Uuid> u;
        if (old)
            if (auto it = old->at("queues").entries.find(Atom{std::int64_t{id}}); it != old->at("queues").entries.end())
                u = std::get<Uuid>(it->second);
        if (!u) u = ovsdb::randomUuid();
        const Row* prev = find(db, "Queue", *u);
        Row r = prev ? *prev : db.defaultRow("Queue");
        r["other_config"] = mapDatum(qc.other_config);
        r["external_ids"] = mapDatum(qc.external_ids);
        db.tables["Queue"][*u] = std::move(r);
        queues.entries.emplace(Atom{std::int64_t{id}}, Atom{*u});
    }
    return queues;
}

}  // namespace

void projectPolicing(const InterfaceConfig& ic, Row& row) {
    row["ingress_policing_rate"] = Datum{{{Atom{std::int64_t{ic.ingress_policing_rate}}, Atom{}}}};
    row["ingress_policing_burst"] = Datum{{{Atom{std::int64_t{ic.ingress_policing_burst}}, Atom{}}}};
}

void policingFromRow(const Row& row, InterfaceConfig& ic) {
    ic.ingress_policing_rate = policingValue(row, "ingress_policing_rate");
    ic.ingress_policing_burst = policingValue(row, "ingress_policing_burst");
}

void projectQos(const std::optional<QosConfig>& qos, Row& portRow, ovsdb::Database& db, QosWritten& written) {
    if (!qos) {
        portRow["qos"] = Datum{};
        return;
    }
    std::optional<Uuid> u = ref(portRow, "qos");
    if (u) {
        auto w = written.find(*u);
        if (w != written.end() && !(w->second == *qos)) u.reset();  // shared, but this port's differs now
        else if (w != written.end()) return;                         // shared and equal: already written
    }
    if (!u) u = ovsdb::randomUuid();
    const Row* prev = find(db, "QoS", *u);
    Row r = prev ? *prev : db.defaultRow("QoS");
    r["type"] = Datum{{{Atom{qos->type}, Atom{}}}};
    r["other_config"] = mapDatum(qos->other_config);
    r["external_ids"] = mapDatum(qos->external_ids);
    r["queues"] = projectQueues(*qos, prev, db);
    db.tables["QoS"][*u] = std::move(r);
    written[*u] = *qos;
    portRow["qos"] = Datum{{{Atom{*u}, Atom{}}}};
}

std::optional<QosConfig> qosFromRow(const ovsdb::Database& db, const Row& portRow) {
    auto u = ref(portRow, "qos");
    if (!u) return std::nullopt;
    const Row* r = find(db, "QoS", *u);
    if (!r) return std::nullopt;  // referential integrity was checked before: not reached
    QosConfig q;
    const auto& type = r->at("type").entries;
    q.type = type.empty() ? std::string() : std::get<std::string>(type.begin()->first);
    q.other_config = strMap(*r, "other_config");
    q.external_ids = strMap(*r, "external_ids");
    for (const auto& [k, v] : r->at("queues").entries) {
        std::int64_t id = std::get<std::int64_t>(k);
        const Row* qr = find(db, "Queue", std::get<Uuid>(v));
        if (!qr) continue;
        if (id < 0 || id > UINT32_MAX) throw ovsdb::Error("constraint violation", "queue id " + std::to_string(id) + " is out of range");
        q.queues[static_cast<std::uint32_t>(id)] = QueueConfig{strMap(*qr, "other_config"), strMap(*qr, "external_ids")};
    }
    return q;
}

}  // namespace vs::vswitchd
