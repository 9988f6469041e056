// Parameter helpers shared by the management methods (rpc_*.cpp): string params given by name or,
// as vsappctl's passthrough sends them, by position in params.args; the bridge param checked
// against the running switch. Errors are RpcErrors naming the param.
//
// Thread-safety: control thread (the methods' thread).
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "vswitchd/daemon.h"

namespace vs::vswitchd::rpc {

using Alloc = rapidjson::Document::AllocatorType;

inline rapidjson::Value str(const std::string& s, Alloc& a) {
    return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

// params.NAME, or params.args[pos]. A NAME that is present but not a string is -32602.
inline std::optional<std::string> param(const rapidjson::Value& p, const char* name, int pos) {
    if (!p.IsObject()) return std::nullopt;
    if (auto it = p.FindMember(name); it != p.MemberEnd()) {
        if (!it->value.IsString())
            throw RpcError(protocol::ErrorCode::kInvalidParams, std::string("param '") + name + "' must be a string");
        return std::string(it->value.GetString());
    }
    if (auto a = p.FindMember("args"); a != p.MemberEnd() && a->value.IsArray() && a->value.Size() > unsigned(pos) &&
                                        a->value[pos].IsString())
        return std::string(a->value[pos].GetString());
    return std::nullopt;
}

// An optional name: params.NAME or vsappctl's single positional argument (args[0]); nullopt
// when neither is given. -32602 when NAME is not a string or args holds more than one name
// (`what` names it in the message: "a bridge name").
inline std::optional<std::string> optionalNameParam(const rapidjson::Value& p, const char* name, const char* what) {
    if (!p.IsObject()) return std::nullopt;
    if (auto it = p.FindMember(name); it != p.MemberEnd()) {
        if (!it->value.IsString())
            throw RpcError(protocol::ErrorCode::kInvalidParams, std::string("param '") + name + "' must be a string");
        return std::string(it->value.GetString());
    }
    if (auto a = p.FindMember("args"); a != p.MemberEnd() && a->value.IsArray() && !a->value.Empty()) {
        if (a->value.Size() > 1 || !a->value[0].IsString())
            throw RpcError(protocol::ErrorCode::kInvalidParams, std::string("expected at most one argument, ") + what);
        return std::string(a->value[0].GetString());
    }
    return std::nullopt;
}

// The bridge named by params.bridge / args[0]: -32602 if missing, -32001 if no such bridge.
inline std::string bridgeParam(Daemon& d, const rapidjson::Value& p) {
    auto b = param(p, "bridge", 0);
    if (!b) throw RpcError(protocol::ErrorCode::kInvalidParams, "missing param 'bridge'");
    if (!d.ofproto().hasBridge(*b)) throw RpcError(protocol::ErrorCode::kNotFound, "no bridge named " + *b);
    return *b;
}

}  // namespace vs::vswitchd::rpc
