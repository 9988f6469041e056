#include "ovsdb/schema.h"

#include <cmath>
#include <random>

#include <rapidjson/error/en.h>

namespace vs::ovsdb {
namespace {

using rapidjson::Value;

[[noreturn]] void syntax(const std::string& what) { throw Error("syntax error", what); }

AtomType atomTypeFromName(const std::string& n, const std::string& where) {
    if (n == "integer") return AtomType::kInteger;
    if (n == "real") return AtomType::kReal;
    if (n == "boolean") return AtomType::kBoolean;
    if (n == "string") return AtomType::kString;
    if (n == "uuid") return AtomType::kUuid;
    syntax(where + ": unknown atomic type \"" + n + "\"");
}

BaseType parseBaseType(const Value& v, const std::string& where) {
    BaseType b;
    if (v.IsString()) {
        b.type = atomTypeFromName(v.GetString(), where);
        return b;
    }
    if (!v.IsObject() || !v.HasMember("type") || !v["type"].IsString()) syntax(where + ": base type must have a \"type\"");
    b.type = atomTypeFromName(v["type"].GetString(), where);
    if (v.HasMember("minInteger") && v["minInteger"].IsInt64()) b.minInteger = v["minInteger"].GetInt64();
    if (v.HasMember("maxInteger") && v["maxInteger"].IsInt64()) b.maxInteger = v["maxInteger"].GetInt64();
    if (v.HasMember("minReal") && v["minReal"].IsNumber()) b.minReal = v["minReal"].GetDouble();
    if (v.HasMember("maxReal") && v["maxReal"].IsNumber()) b.maxReal = v["maxReal"].GetDouble();
    if (v.HasMember("minLength") && v["minLength"].IsUint64()) b.minLength = v["minLength"].GetUint64();
    if (v.HasMember("maxLength") && v["maxLength"].IsUint64()) b.maxLength = v["maxLength"].GetUint64();
    if (v.HasMember("refTable") && v["refTable"].IsString()) b.refTable = v["refTable"].GetString();
    if (v.HasMember("refType") && v["refType"].IsString()) b.weak = std::string(v["refType"].GetString()) == "weak";
    if (v.HasMember("enum")) {
        BaseType plain;
        plain.type = b.type;
        ColumnType ct;
        ct.key = plain;
        ct.min = 0;
        ct.max = SIZE_MAX;
        b.enumeration = datumFromJson(v["enum"], ct, nullptr, false);
    }
    return b;
}

ColumnType parseColumnType(const Value& v, const std::string& where) {
    ColumnType t;
    if (v.IsString()) {
        t.key = parseBaseType(v, where);
        return t;
    }
    if (!v.IsObject() || !v.HasMember("key")) syntax(where + ": column type must have a \"key\"");
    t.key = parseBaseType(v["key"], where);
    if (v.HasMember("value")) t.value = parseBaseType(v["value"], where);
    if (v.HasMember("min") && v["min"].IsUint64()) t.min = v["min"].GetUint64();
    if (v.HasMember("max")) {
        if (v["max"].IsUint64()) t.max = v["max"].GetUint64();
        else if (v["max"].IsString() && std::string(v["max"].GetString()) == "unlimited") t.max = SIZE_MAX;
        else syntax(where + ": \"max\" must be a number or \"unlimited\"");
    }
    if (t.min > 1 || t.max < 1 || t.min > t.max) syntax(where + ": bad min/max");
    return t;
}

Atom defaultAtom(AtomType t) {
    switch (t) {
        case AtomType::kInteger: return std::int64_t{0};
        case AtomType::kReal: return 0.0;
        case AtomType::kBoolean: return false;
        case AtomType::kString: return std::string();
        case AtomType::kUuid: return Uuid{"00000000-0000-0000-0000-000000000000"};
    }
    return {};
}

}  // namespace

Value Error::toJson(JsonAlloc& a) const {
    Value o(rapidjson::kObjectType);
    o.AddMember("error", Value(error.c_str(), a), a);
    o.AddMember("details", Value(details.c_str(), a), a);
    return o;
}

const char* atomTypeName(AtomType t) {
    switch (t) {
        case AtomType::kInteger: return "integer";
        case AtomType::kReal: return "real";
        case AtomType::kBoolean: return "boolean";
        case AtomType::kString: return "string";
        case AtomType::kUuid: return "uuid";
    }
    return "?";
}

bool isUuidText(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < 36; ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

Uuid randomUuid() {
    static std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string s(36, '-');
    for (std::size_t i = 0; i < 36; ++i)
        if (i != 8 && i != 13 && i != 18 && i != 23) s[i] = hex[rng() & 15];
    s[14] = '4';                   // RFC 4122 version 4
    s[19] = hex[8 | (rng() & 3)];  // variant 10xx
    return Uuid{s};
}

std::optional<std::string> BaseType::violation(const Atom& a) const {
    if (enumeration && !enumeration->entries.count(a)) return "is not one of the allowed values";
    if (auto i = std::get_if<std::int64_t>(&a)) {
        if (*i < minInteger || *i > maxInteger)
            return std::to_string(*i) + " is not in the range " + std::to_string(minInteger) + " to " + std::to_string(maxInteger);
    } else if (auto r = std::get_if<double>(&a)) {
        if (*r < minReal || *r > maxReal) return "value is out of range";
    } else if (auto s = std::get_if<std::string>(&a)) {
        if (s->size() < minLength || s->size() > maxLength) return "\"" + *s + "\" length is out of range";
    }
    return std::nullopt;
}

Datum ColumnType::defaultValue() const {
    Datum d;
    if (min == 0) return d;
    d.entries.emplace(defaultAtom(key.type), value ? defaultAtom(value->type) : Atom{});
    return d;
}

const Column* TableSchema::column(const std::string& n) const {
    auto it = columns.find(n);
    return it == columns.end() ? nullptr : &it->second;
}

const TableSchema* Schema::table(const std::string& n) const {
    auto it = tables.find(n);
    return it == tables.end() ? nullptr : &it->second;
}

Schema parseSchema(std::string_view text) {
    Schema s;
    s.json = std::make_shared<rapidjson::Document>();
    s.json->Parse(text.data(), text.size());
    if (s.json->HasParseError()) syntax(std::string("schema: ") + rapidjson::GetParseError_En(s.json->GetParseError()));
    const Value& root = *s.json;
    if (!root.IsObject() || !root.HasMember("name") || !root["name"].IsString() || !root.HasMember("tables") ||
        !root["tables"].IsObject())
        syntax("schema must be an object with \"name\" and \"tables\"");
    s.name = root["name"].GetString();
    if (root.HasMember("version") && root["version"].IsString()) s.version = root["version"].GetString();
    if (root.HasMember("cksum") && root["cksum"].IsString()) s.cksum = root["cksum"].GetString();
    for (auto& t : root["tables"].GetObject()) {
        TableSchema ts;
        ts.name = t.name.GetString();
        if (!t.value.IsObject() || !t.value.HasMember("columns") || !t.value["columns"].IsObject())
            syntax("table " + ts.name + " has no \"columns\"");
        if (t.value.HasMember("isRoot") && t.value["isRoot"].IsBool()) ts.isRoot = t.value["isRoot"].GetBool();
        if (t.value.HasMember("maxRows") && t.value["maxRows"].IsUint64()) ts.maxRows = t.value["maxRows"].GetUint64();
        if (t.value.HasMember("indexes") && t.value["indexes"].IsArray())
            for (auto& idx : t.value["indexes"].GetArray()) {
                std::vector<std::string> cols;
                if (idx.IsArray())
                    for (auto& c : idx.GetArray())
                        if (c.IsString()) cols.emplace_back(c.GetString());
                ts.indexes.push_back(std::move(cols));
            }
        for (auto& c : t.value["columns"].GetObject()) {
            Column col;
            col.name = c.name.GetString();
            std::string where = ts.name + "." + col.name;
            if (!c.value.IsObject() || !c.value.HasMember("type")) syntax(where + " has no \"type\"");
            col.type = parseColumnType(c.value["type"], where);
            if (c.value.HasMember("ephemeral") && c.value["ephemeral"].IsBool()) col.ephemeral = c.value["ephemeral"].GetBool();
            if (c.value.HasMember("mutable") && c.value["mutable"].IsBool()) col.mutable_ = c.value["mutable"].GetBool();
            if (!col.type.key.refTable.empty() || (col.type.value && !col.type.value->refTable.empty()))
                ts.refColumns.push_back(col.name);
            ts.columns.emplace(col.name, std::move(col));
        }
        s.tables.emplace(ts.name, std::move(ts));
    }
    return s;
}

Atom atomFromJson(const Value& v, const BaseType& t, const NamedUuidResolver& resolve) {
    Atom a;
    switch (t.type) {
        case AtomType::kInteger:
            if (!v.IsInt64()) syntax("expected an integer");
            a = v.GetInt64();
            break;
        case AtomType::kReal:
            if (!v.IsNumber()) syntax("expected a real number");
            a = v.GetDouble();
            break;
        case AtomType::kBoolean:
            if (!v.IsBool()) syntax("expected a boolean");
            a = v.GetBool();
            break;
        case AtomType::kString:
            if (!v.IsString()) syntax("expected a string");
            a = std::string(v.GetString(), v.GetStringLength());
            break;
        case AtomType::kUuid: {
            if (!v.IsArray() || v.Size() != 2 || !v[0].IsString() || !v[1].IsString())
                syntax("expected [\"uuid\", UUID] or [\"named-uuid\", NAME]");
            std::string kind = v[0].GetString(), text = v[1].GetString();
            if (kind == "uuid") {
                if (!isUuidText(text)) syntax("\"" + text + "\" is not a valid UUID");
                for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                a = Uuid{text};
            } else if (kind == "named-uuid" && resolve) {
                a = resolve(text);
            } else {
                syntax("expected [\"uuid\", UUID] or [\"named-uuid\", NAME], not [\"" + kind + "\", ...]");
            }
            break;
        }
    }
    if (auto why = t.violation(a)) throw Error("constraint violation", *why);
    return a;
}

Datum datumFromJson(const Value& v, const ColumnType& t, const NamedUuidResolver& resolve, bool checkSize) {
    Datum d;
    bool tagged = v.IsArray() && v.Size() == 2 && v[0].IsString();
    std::string tag = tagged ? v[0].GetString() : "";
    if (t.isMap()) {
        if (tag != "map" || !v[1].IsArray()) syntax("expected [\"map\", [[KEY, VALUE], ...]]");
        for (auto& pair : v[1].GetArray()) {
            if (!pair.IsArray() || pair.Size() != 2) syntax("a map's element must be [KEY, VALUE]");
            Atom k = atomFromJson(pair[0], t.key, resolve);
            if (d.entries.count(k)) syntax("a map has a duplicate key");
            d.entries.emplace(std::move(k), atomFromJson(pair[1], *t.value, resolve));
        }
    } else if (tag == "set") {
        if (!v[1].IsArray()) syntax("expected [\"set\", [ATOM, ...]]");
        for (auto& e : v[1].GetArray()) {
            Atom k = atomFromJson(e, t.key, resolve);
            if (d.entries.count(k)) syntax("a set has a duplicate element");
            d.entries.emplace(std::move(k), Atom{});
        }
    } else {
        d.entries.emplace(atomFromJson(v, t.key, resolve), Atom{});
    }
    if (checkSize && (d.entries.size() < t.min || d.entries.size() > t.max))
        throw Error("constraint violation", std::to_string(d.entries.size()) + " values where " +
                                                std::to_string(t.min) + " to " +
                                                (t.max == SIZE_MAX ? std::string("unlimited") : std::to_string(t.max)) +
                                                " are allowed");
    return d;
}

void checkDatum(const Datum& d, const ColumnType& t, const std::string& column) {
    if (d.entries.size() < t.min || d.entries.size() > t.max)
        throw Error("constraint violation", "column " + column + " holds " + std::to_string(d.entries.size()) +
                                                " values, outside its size limits");
    for (const auto& [k, v] : d.entries) {
        if (auto why = t.key.violation(k)) throw Error("constraint violation", "column " + column + ": " + *why);
        if (t.value)
            if (auto why = t.value->violation(v)) throw Error("constraint violation", "column " + column + ": " + *why);
    }
}

Value atomToJson(const Atom& a, JsonAlloc& alloc) {
    if (auto i = std::get_if<std::int64_t>(&a)) return Value(*i);
    if (auto r = std::get_if<double>(&a)) return Value(*r);
    if (auto b = std::get_if<bool>(&a)) return Value(*b);
    if (auto s = std::get_if<std::string>(&a)) return Value(s->c_str(), static_cast<rapidjson::SizeType>(s->size()), alloc);
    if (auto u = std::get_if<Uuid>(&a)) {
        Value arr(rapidjson::kArrayType);
        arr.PushBack("uuid", alloc);
        arr.PushBack(Value(u->s.c_str(), alloc), alloc);
        return arr;
    }
    return Value();
}

Value datumToJson(const Datum& d, const ColumnType& t, JsonAlloc& alloc) {
    Value out(rapidjson::kArrayType);
    if (t.isMap()) {
        Value pairs(rapidjson::kArrayType);
        for (const auto& [k, v] : d.entries) {
            Value p(rapidjson::kArrayType);
            p.PushBack(atomToJson(k, alloc), alloc);
            p.PushBack(atomToJson(v, alloc), alloc);
            pairs.PushBack(p, alloc);
        }
        out.PushBack("map", alloc);
        out.PushBack(pairs, alloc);
        return out;
    }
    if (d.entries.size() == 1) return atomToJson(d.entries.begin()->first, alloc);
    Value elems(rapidjson::kArrayType);
    for (const auto& [k, v] : d.entries) elems.PushBack(atomToJson(k, alloc), alloc);
    out.PushBack("set", alloc);
    out.PushBack(elems, alloc);
    return out;
}

}  // namespace vs::ovsdb
