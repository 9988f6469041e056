// The Port `qos` column and its validation (qos.h).
#include <algorithm>
#include <charconv>

#include "ofproto/queue.h"
#include "vswitchd/qos.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

constexpr const char* kRateKeys[] = {"min-rate", "max-rate", "burst", "priority"};

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

std::optional<std::uint64_t> unsignedValue(const std::string& s) {
    std::uint64_t n = 0;
    bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (!digits || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
}

// Checks the numeric keys of an other_config; `what` names the owner ("QoS", "queue 1").
std::optional<std::string> numbersProblem(const StringMap& m, const std::string& what) {
    for (const char* key : kRateKeys) {
        auto it = m.find(key);
        if (it == m.end()) continue;
        auto n = unsignedValue(it->second);
        std::string unit = std::string(key) == "burst" ? "bits" : std::string(key) == "priority" ? "0..4294967295" : "bit/s";
        if (!n || (std::string(key) == "priority" && *n > 0xffffffffull))
            return what + " other_config:" + key + ": invalid value " + quoteForMessage(it->second) +
                   ": expected a non-negative integer (" + unit + ")";
    }
    return std::nullopt;
}

std::optional<std::uint64_t> rateOf(const StringMap& m, const char* key) {
    auto it = m.find(key);
    return it == m.end() ? std::nullopt : unsignedValue(it->second);
}

// ---- JSON ------------------------------------------------------------------------------------

Value mapJson(const StringMap& m, JsonAlloc& a) {
    Value o(rapidjson::kObjectType);
    for (const auto& [k, v] : m) o.AddMember(Value(k.c_str(), a), Value(v.c_str(), a), a);
    return o;
}

StringMap mapFrom(const Value& v, const char* what) {
    if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, what, "expected a JSON object of strings");
    StringMap m;
    for (const auto& kv : v.GetObject()) {
        if (!kv.value.IsString()) throw ColumnError(ErrorCode::kInvalidParams, what, "expected a JSON object of strings");
        m[str(kv.name)] = str(kv.value);
    }
    return m;
}

std::uint32_t queueId(const std::string& s) {
    auto n = unsignedValue(s);
    if (!n || *n > ofproto::kMaxQueueId)
        throw ColumnError(ErrorCode::kInvalidValue, s,
                          "invalid queue id " + quoteForMessage(s) + ": expected an integer in 0.." +
                              std::to_string(ofproto::kMaxQueueId));
    return static_cast<std::uint32_t>(*n);
}

bool allStrings(const Value& v) {
    for (const auto& kv : v.GetObject())
        if (!kv.value.IsString()) return false;
    return true;
}

// One key of the flat form (qos.h) set to `value`.
void setFlat(QosConfig& q, const std::string& key, const std::string& value) {
    if (key == "type") {
        q.type = value;
        return;
    }
    auto dot = key.find('.');
    if (dot == std::string::npos) {
        q.other_config[key] = value;
        return;
    }
    std::string sub = key.substr(dot + 1);
    if (sub.empty()) throw ColumnError(ErrorCode::kInvalidValue, key, "expected QUEUE.KEY (e.g. 0.max-rate)");
    q.queues[queueId(key.substr(0, dot))].other_config[sub] = value;
}

QosConfig structuredFrom(const Value& v) {
    QosConfig q;
    for (const auto& m : v.GetObject()) {
        std::string name = str(m.name);
        if (name == "type") {
            if (!m.value.IsString()) throw ColumnError(ErrorCode::kInvalidParams, name, "expected a string");
            q.type = str(m.value);
        } else if (name == "other_config") {
            q.other_config = mapFrom(m.value, "other_config");
        } else if (name == "external_ids") {
            q.external_ids = mapFrom(m.value, "external_ids");
        } else if (name == "queues") {
            if (!m.value.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, name, "expected a JSON object");
            for (const auto& qv : m.value.GetObject()) {
                if (!qv.value.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "queues", "expected a JSON object per queue");
                QueueConfig qc;
                for (const auto& f : qv.value.GetObject()) {
                    std::string fn = str(f.name);
                    if (fn == "other_config") qc.other_config = mapFrom(f.value, "other_config");
                    else if (fn == "external_ids") qc.external_ids = mapFrom(f.value, "external_ids");
                    else throw ColumnError(ErrorCode::kInvalidParams, fn, "unknown member of a queue");
                }
                q.queues[queueId(str(qv.name))] = std::move(qc);
            }
        } else {
            throw ColumnError(ErrorCode::kInvalidParams, name, "unknown member (type, other_config, external_ids, queues)");
        }
    }
    return q;
}

void check(const QosConfig& q) {
    if (auto p = qosProblem(q)) throw ColumnError(ErrorCode::kInvalidValue, "", *p);
}

}  // namespace

std::optional<std::string> qosProblem(const QosConfig& q) {
    const auto& types = qosTypes();
    if (std::find(types.begin(), types.end(), q.type) == types.end())
        return "QoS type " + quoteForMessage(q.type) + " is not supported (supported: linux-htb, linux-hfsc)";
    if (auto p = numbersProblem(q.other_config, "QoS")) return p;
    for (const auto& [id, qc] : q.queues) {
        std::string what = "queue " + std::to_string(id);
        if (id > ofproto::kMaxQueueId) return what + ": queue ids are 0.." + std::to_string(ofproto::kMaxQueueId);
        if (auto p = numbersProblem(qc.other_config, what)) return p;
        auto lo = rateOf(qc.other_config, "min-rate"), hi = rateOf(qc.other_config, "max-rate");
        if (lo && hi && *hi < *lo)
            return what + " other_config:max-rate " + std::to_string(*hi) + " is below its min-rate " + std::to_string(*lo);
    }
    return std::nullopt;
}

ColumnDef<PortConfig> qosColumn() {
    ColumnDef<PortConfig> c;
    c.name = "qos";
    c.isMap = true;  // keyed set/remove use the flat form
    c.toJson = [](const PortConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (r.qos) {
            v.SetObject();
            v.AddMember("type", Value(r.qos->type.c_str(), a), a);
            v.AddMember("other_config", mapJson(r.qos->other_config, a), a);
            v.AddMember("external_ids", mapJson(r.qos->external_ids, a), a);
            Value queues(rapidjson::kObjectType);
            for (const auto& [id, qc] : r.qos->queues) {
                Value qo(rapidjson::kObjectType);
                qo.AddMember("other_config", mapJson(qc.other_config, a), a);
                qo.AddMember("external_ids", mapJson(qc.external_ids, a), a);
                queues.AddMember(Value(std::to_string(id).c_str(), a), qo, a);
            }
            v.AddMember("queues", queues, a);
        }
        obj.AddMember("qos", v, a);
    };
    c.fromJson = [](PortConfig& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty())) { r.qos.reset(); return; }
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected null or a JSON object (docs/qos.md)");
        QosConfig q;
        if (allStrings(v)) {
            for (const auto& kv : v.GetObject()) setFlat(q, str(kv.name), str(kv.value));
        } else {
            q = structuredFrom(v);
        }
        check(q);
        r.qos = std::move(q);
    };
    c.setKey = [](PortConfig& r, const std::string& key, const Value& v) {
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, key, "expected a string value");
        QosConfig q = r.qos.value_or(QosConfig{});
        setFlat(q, key, str(v));
        if (q.type.empty() && key != "type") q.type = "linux-htb";  // a new QoS without a type: Open vSwitch's usual one
        check(q);
        r.qos = std::move(q);
    };
    c.removeKey = [](PortConfig& r, const std::string& key) {
        if (!r.qos) return;
        auto dot = key.find('.');
        if (key == "type") throw ColumnError(ErrorCode::kInvalidValue, key, "a QoS needs a type (clear the column to remove the QoS)");
        if (dot == std::string::npos) {
            r.qos->other_config.erase(key);
            return;
        }
        auto it = r.qos->queues.find(queueId(key.substr(0, dot)));
        if (it != r.qos->queues.end()) it->second.other_config.erase(key.substr(dot + 1));
    };
    c.clear = [](PortConfig& r) { r.qos.reset(); };
    return c;
}

bool sameApartFromPolicing(const InterfaceConfig& a, const InterfaceConfig& b) {
    InterfaceConfig x = a;
    x.ingress_policing_rate = b.ingress_policing_rate;
    x.ingress_policing_burst = b.ingress_policing_burst;
    return x == b;
}

bool sameInterfacesApartFromPolicing(const std::map<std::string, InterfaceConfig>& a,
                                     const std::map<std::string, InterfaceConfig>& b) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
        if (ia->first != ib->first || !sameApartFromPolicing(ia->second, ib->second)) return false;
    return true;
}

}  // namespace vs::vswitchd
