// Logging at run time (docs/operations.md "Logs", docs/protocol.md): vlog/list, vlog/set SPEC...,
// vlog/reopen, as Open vSwitch's ovs-appctl commands of the same names.
#include <vector>

#include "vswitchd/daemon.h"
#include "vswitchd/log.h"
#include "vswitchd/rpc_params.h"

namespace vs::vswitchd {
namespace {

using protocol::ErrorCode;
using rpc::str;

// {"modules": [{"name", "console", "syslog", "file"}...], "console": bool, "syslog": METHOD or
// "", "file": PATH or ""}: the level of every module at every destination, and which
// destinations are on.
void vlogList(const protocol::Request&, rapidjson::Document& res) {
    res.SetObject();
    auto& a = res.GetAllocator();
    rapidjson::Value modules(rapidjson::kArrayType);
    for (int m = 0; m < log::kModuleCount; ++m) {
        const auto mod = static_cast<log::Module>(m);
        rapidjson::Value o(rapidjson::kObjectType);
        o.AddMember("name", str(std::string(log::moduleName(mod)), a), a);
        for (int d = 0; d < log::kDestCount; ++d) {
            const auto dest = static_cast<log::Dest>(d);
            o.AddMember(str(std::string(log::destName(dest)), a), str(std::string(log::levelName(log::level(mod, dest))), a), a);
        }
        modules.PushBack(o, a);
    }
    res.AddMember("modules", modules, a);
    res.AddMember("console", log::console(), a);
    res.AddMember("syslog", str(log::syslogMethod(), a), a);
    res.AddMember("file", str(log::logFile(), a), a);
}

// params {"args": [SPEC...]}: every spec is parsed before any is applied, so a bad one changes
// nothing (-32602 naming the bad word).
void vlogSet(const protocol::Request& req, rapidjson::Document& res) {
    const auto& p = req.params;
    auto it = p.IsObject() ? p.FindMember("args") : p.MemberEnd();
    if (!p.IsObject() || it == p.MemberEnd() || !it->value.IsArray() || it->value.Empty())
        throw RpcError(ErrorCode::kInvalidParams, "vlog/set needs at least one spec in params.args, e.g. mgmt:file:debug");
    std::vector<log::LevelSpec> specs;
    for (const auto& v : it->value.GetArray()) {
        if (!v.IsString()) throw RpcError(ErrorCode::kInvalidParams, "vlog/set: every spec must be a string");
        try {
            specs.push_back(log::parseSpec(std::string_view(v.GetString(), v.GetStringLength())));
        } catch (const std::invalid_argument& e) {
            throw RpcError(ErrorCode::kInvalidParams, std::string("vlog/set: ") + e.what() + "; nothing changed");
        }
    }
    for (const auto& s : specs) log::apply(s);
    res.SetString("", res.GetAllocator());
}

void vlogReopen(const protocol::Request&, rapidjson::Document& res) {
    if (auto problem = log::reopen()) throw RpcError(ErrorCode::kInvalidValue, "vlog/reopen: " + *problem);
    res.SetString("", res.GetAllocator());
}

}  // namespace

void registerVlogMethods(MethodTable& t) {
    t.add("vlog/list", [](const protocol::Request& r, rapidjson::Document& res) { vlogList(r, res); });
    t.add("vlog/set", [](const protocol::Request& r, rapidjson::Document& res) { vlogSet(r, res); });
    t.add("vlog/reopen", [](const protocol::Request& r, rapidjson::Document& res) { vlogReopen(r, res); });
}

}  // namespace vs::vswitchd
