// Lenient readers of the daemon's introspection JSON for the tools' text layouts (appctl_stp.cpp,
// appctl_rstp.cpp, vsofctl_meter.cpp, vsofctl_group.cpp): a missing or mistyped member reads as empty, 0, false or an empty object, so
// an older or newer daemon's reply still prints.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include <rapidjson/document.h>

namespace vs::utilities::appjson {

using rapidjson::Value;

inline std::string s(const Value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}
inline long long n(const Value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsNumber() ? it->value.GetInt64() : 0;
}
inline std::uint64_t u64(const Value& o, const char* k) {
    if (!o.IsObject()) return 0;
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsUint64() ? it->value.GetUint64() : 0;
}
// The array member `k`, or null.
inline const Value* array(const Value& o, const char* k) {
    if (!o.IsObject()) return nullptr;
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}
inline bool flag(const Value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
inline const Value& member(const Value& o, const char* k) {
    static const Value kNull(rapidjson::kObjectType);
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsObject() ? it->value : kNull;
}
// printf into a string (at most 255 characters).
inline std::string line(const char* fmt, auto... args) {
    char b[256];
    std::snprintf(b, sizeof b, fmt, args...);
    return b;
}

}  // namespace vs::utilities::appjson
