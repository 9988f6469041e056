#include "vswitchd/config_controller.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "protocol/ofchannel.h"
#include "protocol/oftarget.h"
#include "vswitchd/config_json.h"
#include "vswitchd/config_ops.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rapidjson::Value;

[[noreturn]] void fail(ErrorCode code, const std::string& message) { throw OpError(code, message); }

std::string str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// An optional integer column: a JSON integer or a decimal string; null, [] and clear unset it.
// `zeroOk`: 0 is also valid (inactivity_probe: no probes).
ColumnDef<ControllerConfig> optionalIntColumn(const char* name, std::optional<int> ControllerConfig::*member, int lo,
                                              int hi, bool zeroOk = false) {
    ColumnDef<ControllerConfig> c;
    c.name = name;
    std::string n = name;
    c.toJson = [n, member](const ControllerConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (r.*member) v.SetInt(*(r.*member));
        obj.AddMember(Value(n.c_str(), a), v, a);
    };
    std::string expected = (zeroOk ? "0 or " : std::string()) + "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    c.fromJson = [member, lo, hi, zeroOk, expected](ControllerConfig& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty())) { r.*member = std::nullopt; return; }
        long long x = 0;
        std::string text;
        if (v.IsInt64()) {
            x = v.GetInt64();
            text = std::to_string(x);
        } else if (v.IsString()) {
            text = str(v);
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size())
                throw ColumnError(ErrorCode::kInvalidValue, "", "invalid value " + quoteForMessage(text) + ": expected " + expected);
        } else {
            throw ColumnError(ErrorCode::kInvalidParams, "", "expected " + expected);
        }
        if (!((x >= lo && x <= hi) || (zeroOk && x == 0)))
            throw ColumnError(ErrorCode::kInvalidValue, "", "invalid value " + quoteForMessage(text) + ": expected " + expected);
        r.*member = static_cast<int>(x);
    };
    c.clear = [member](ControllerConfig& r) { r.*member = std::nullopt; };
    return c;
}

ColumnDef<ControllerConfig> mapCol(const char* name, StringMap ControllerConfig::*member) {
    ColumnDef<ControllerConfig> c;
    c.name = name;
    c.isMap = true;
    std::string n = name;
    c.toJson = [n, member](const ControllerConfig& r, Value& obj, JsonAlloc& a) {
        Value m(rapidjson::kObjectType);
        for (const auto& [k, v] : r.*member) m.AddMember(Value(k.c_str(), a), Value(v.c_str(), a), a);
        obj.AddMember(Value(n.c_str(), a), m, a);
    };
    c.fromJson = [member](ControllerConfig& r, const Value& v) {
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a JSON object of strings");
        StringMap m;
        for (const auto& kv : v.GetObject()) {
            if (!kv.value.IsString()) throw ColumnError(ErrorCode::kInvalidParams, str(kv.name), "expected a string value");
            if (kv.name.GetStringLength() == 0) throw ColumnError(ErrorCode::kInvalidValue, "", "keys must not be empty");
            m[str(kv.name)] = str(kv.value);
        }
        r.*member = std::move(m);
    };
    c.setKey = [member](ControllerConfig& r, const std::string& key, const Value& v) {
        if (key.empty()) throw ColumnError(ErrorCode::kInvalidValue, key, "keys must not be empty");
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, key, "expected a string value");
        (r.*member)[key] = str(v);
    };
    c.removeKey = [member](ControllerConfig& r, const std::string& key) { (r.*member).erase(key); };
    c.clear = [member](ControllerConfig& r) { (r.*member).clear(); };
    return c;
}

// The canonical form of a valid target, or the complete error message.
std::string canonicalOrFail(const std::string& target) {
    auto parsed = protocol::parseTarget(target);
    if (auto* e = std::get_if<std::string>(&parsed)) fail(ErrorCode::kInvalidValue, *e);
    return std::get<protocol::Target>(parsed).canonical();
}

BridgeConfig& bridgeOrFail(Config& cfg, const std::string& name) {
    auto it = cfg.bridges.find(name);
    if (it == cfg.bridges.end()) fail(ErrorCode::kNotFound, "no bridge named " + name);
    return it->second;
}

void checkPath(const std::string& path, const char* what) {
    if (path.empty() || path.front() != '/')
        fail(ErrorCode::kInvalidValue, std::string("SSL ") + what + ": " + quoteForMessage(path) + " is not an absolute path");
}

}  // namespace

ColumnDef<BridgeConfig> failModeColumn() {
    ColumnDef<BridgeConfig> c;
    c.name = "fail_mode";
    c.toJson = [](const BridgeConfig& r, Value& obj, JsonAlloc& a) {
        Value v;
        if (!r.fail_mode.empty()) v.SetString(r.fail_mode.c_str(), a);
        obj.AddMember("fail_mode", v, a);
    };
    c.fromJson = [](BridgeConfig& r, const Value& v) {
        if (v.IsNull() || (v.IsArray() && v.Empty()) || (v.IsString() && v.GetStringLength() == 0)) {
            r.fail_mode.clear();
            return;
        }
        if (!v.IsString()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a string");
        std::string s = str(v);
        if (s != kFailModeStandalone && s != kFailModeSecure)
            throw ColumnError(ErrorCode::kInvalidValue, "", "invalid value " + quoteForMessage(s) + ": expected one of standalone, secure");
        r.fail_mode = s;
    };
    c.clear = [](BridgeConfig& r) { r.fail_mode.clear(); };
    return c;
}

ColumnDef<BridgeConfig> controllersColumn() {
    ColumnDef<BridgeConfig> c;
    c.name = "controller";
    c.writable = false;  // set-controller / del-controller
    c.toJson = [](const BridgeConfig& r, Value& obj, JsonAlloc& a) {
        Value m(rapidjson::kObjectType);
        for (const auto& [target, cc] : r.controllers) {
            Value rec(rapidjson::kObjectType);
            for (const auto& col : controllerColumns()) col.toJson(cc, rec, a);
            m.AddMember(Value(target.c_str(), a), rec, a);
        }
        obj.AddMember("controller", m, a);
    };
    c.fromJson = [](BridgeConfig& r, const Value& v) {
        if (!v.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, "", "expected a JSON object of controllers by target");
        std::map<std::string, ControllerConfig> out;
        std::set<std::string> canonical;
        for (const auto& m : v.GetObject()) {
            std::string target = str(m.name);
            auto parsed = protocol::parseTarget(target);
            if (auto* e = std::get_if<std::string>(&parsed)) throw ColumnError(ErrorCode::kInvalidValue, target, *e);
            if (!canonical.insert(std::get<protocol::Target>(parsed).canonical()).second)
                throw ColumnError(ErrorCode::kInvalidValue, target, "the same target is listed twice");
            if (!m.value.IsObject()) throw ColumnError(ErrorCode::kInvalidParams, target, "expected a JSON object");
            ControllerConfig cc;
            for (const auto& col : m.value.GetObject()) {
                const auto* def = findColumn(controllerColumns(), str(col.name));
                if (!def) throw ColumnError(ErrorCode::kInvalidParams, target, "unknown member '" + str(col.name) + "'");
                try {
                    def->fromJson(cc, col.value);
                } catch (const ColumnError& e) {
                    throw ColumnError(e.code, target, def->name + ": " + e.what());
                }
            }
            out.emplace(target, std::move(cc));
        }
        r.controllers = std::move(out);
    };
    c.clear = [](BridgeConfig& r) { r.controllers.clear(); };
    return c;
}

const std::vector<ColumnDef<ControllerConfig>>& controllerColumns() {
    static const std::vector<ColumnDef<ControllerConfig>> cols = {
        optionalIntColumn("inactivity_probe", &ControllerConfig::inactivity_probe, 100, 86400000, true),
        optionalIntColumn("max_backoff", &ControllerConfig::max_backoff, 1000, 86400000),
        optionalIntColumn("controller_rate_limit", &ControllerConfig::controller_rate_limit, 1, 1000000),
        optionalIntColumn("controller_burst_limit", &ControllerConfig::controller_burst_limit, 1, 1000000),
        mapCol("other_config", &ControllerConfig::other_config),
        mapCol("external_ids", &ControllerConfig::external_ids),
    };
    return cols;
}

std::optional<std::pair<std::string, std::string>> findController(const Config& cfg, std::string_view name) {
    std::vector<std::pair<std::string, std::string>> byTarget;
    for (const auto& [bn, br] : cfg.bridges)
        if (br.controllers.count(std::string(name))) byTarget.emplace_back(bn, std::string(name));
    if (byTarget.size() > 1)
        fail(ErrorCode::kInvalidValue, "controller " + std::string(name) + " is on bridges " + byTarget[0].first + " and " +
                                           byTarget[1].first + "; name it by its bridge instead");
    if (byTarget.size() == 1) return byTarget.front();
    auto b = cfg.bridges.find(std::string(name));
    if (b == cfg.bridges.end() || b->second.controllers.empty()) return std::nullopt;
    if (b->second.controllers.size() > 1)
        fail(ErrorCode::kInvalidValue, "bridge " + b->first + " has " + std::to_string(b->second.controllers.size()) +
                                           " controllers; name one by its target");
    return std::make_pair(b->first, b->second.controllers.begin()->first);
}

ControllerConfig* findControllerRecord(Config& cfg, const std::string& name) {
    auto where = findController(cfg, name);
    return where ? &cfg.bridges.at(where->first).controllers.at(where->second) : nullptr;
}

void setControllers(Config& cfg, const std::string& bridge, const std::vector<std::string>& targets) {
    BridgeConfig& br = bridgeOrFail(cfg, bridge);
    std::map<std::string, ControllerConfig> next;
    std::set<std::string> canonical;
    for (const auto& t : targets) {
        if (!canonical.insert(canonicalOrFail(t)).second)
            fail(ErrorCode::kInvalidValue, "controller target " + t + " is listed twice");
        auto old = br.controllers.find(t);  // an unchanged target keeps its columns
        next.emplace(t, old != br.controllers.end() ? old->second : ControllerConfig{});
    }
    br.controllers = std::move(next);
}

void delControllers(Config& cfg, const std::string& bridge) { bridgeOrFail(cfg, bridge).controllers.clear(); }

void setFailMode(Config& cfg, const std::string& bridge, const std::string& mode) {
    BridgeConfig& br = bridgeOrFail(cfg, bridge);
    if (mode != kFailModeStandalone && mode != kFailModeSecure)
        fail(ErrorCode::kInvalidValue, "fail-mode must be \"standalone\" or \"secure\", not " + quoteForMessage(mode));
    br.fail_mode = mode;
}

void delFailMode(Config& cfg, const std::string& bridge) { bridgeOrFail(cfg, bridge).fail_mode.clear(); }

void setSsl(Config& cfg, const SslConfig& ssl) {
    checkPath(ssl.private_key, "private_key");
    checkPath(ssl.certificate, "certificate");
    checkPath(ssl.ca_cert, "ca_cert");
    cfg.ssl = ssl;
}

void delSsl(Config& cfg) { cfg.ssl.reset(); }

rapidjson::Value sslToJson(const std::optional<SslConfig>& ssl, JsonAlloc& a) {
    Value v;
    if (!ssl) return v;
    v.SetObject();
    v.AddMember("private_key", Value(ssl->private_key.c_str(), a), a);
    v.AddMember("certificate", Value(ssl->certificate.c_str(), a), a);
    v.AddMember("ca_cert", Value(ssl->ca_cert.c_str(), a), a);
    return v;
}

std::optional<SslConfig> sslFromJson(const rapidjson::Value& v, const std::string& path) {
    if (v.IsNull()) return std::nullopt;
    if (!v.IsObject()) throw ConfigFormatError(path + ": expected a JSON object or null");
    SslConfig s;
    std::set<std::string> seen;
    for (const auto& m : v.GetObject()) {
        std::string name = str(m.name);
        std::string* field = name == "private_key" ? &s.private_key : name == "certificate" ? &s.certificate
                             : name == "ca_cert"   ? &s.ca_cert : nullptr;
        if (!field) throw ConfigFormatError(path + "." + name + ": unknown member");
        if (!m.value.IsString()) throw ConfigFormatError(path + "." + name + ": expected a string");
        if (!seen.insert(name).second) throw ConfigFormatError(path + "." + name + ": duplicate member");
        *field = str(m.value);
    }
    for (const char* need : {"private_key", "certificate", "ca_cert"})
        if (!seen.count(need)) throw ConfigFormatError(path + ": missing member '" + need + "'");
    return s;
}

std::optional<std::pair<int, std::string>> checkSslOps(const rapidjson::Value& ops) {
    if (!ops.IsArray()) return std::nullopt;
    for (rapidjson::SizeType i = 0; i < ops.Size(); ++i) {
        const Value& op = ops[i];
        if (!op.IsObject() || !op.HasMember("op") || !op["op"].IsString() || str(op["op"]) != "set-ssl") continue;
        auto field = [&](const char* n) { return op.HasMember(n) && op[n].IsString() ? str(op[n]) : std::string(); };
        protocol::TlsFiles files{field("private_key"), field("certificate"), field("ca_cert")};
        auto absolute = [](const std::string& p) { return !p.empty() && p.front() == '/'; };
        if (!absolute(files.private_key) || !absolute(files.certificate) || !absolute(files.ca_cert)) continue;  // the op says why
        if (auto problem = protocol::checkTlsFiles(files)) return std::make_pair(static_cast<int>(i), "SSL: " + *problem);
    }
    return std::nullopt;
}

}  // namespace vs::vswitchd
