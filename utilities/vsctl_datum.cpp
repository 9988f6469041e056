#include "utilities/vsctl_datum.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <rapidjson/document.h>

#include "utilities/vsctl_cli.h"
#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

using ovsdb::Atom;
using ovsdb::AtomType;
using ovsdb::BaseType;
using ovsdb::ColumnType;
using ovsdb::Datum;

// Characters that end a bare token inside a set or map (ovs-vsctl's delimiters).
bool isDelim(char c) { return std::string_view(":=, []{}!<>").find(c) != std::string_view::npos; }

void skipSpace(std::string_view& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The next token of `s` (a "JSON string" or a bare word up to a delimiter), unquoted.
std::string nextToken(std::string_view& s) {
    skipSpace(s);
    if (!s.empty() && s.front() == '"') {
        std::size_t i = 1;
        for (; i < s.size() && s[i] != '"'; ++i)
            if (s[i] == '\\') ++i;
        if (i >= s.size()) throw CliError("unterminated quoted string " + std::string(s));
        std::string lit(s.substr(0, i + 1));
        s.remove_prefix(i + 1);
        rapidjson::Document d;
        d.Parse(lit.c_str(), lit.size());
        if (d.HasParseError() || !d.IsString()) throw CliError("invalid quoted string " + lit);
        return std::string(d.GetString(), d.GetStringLength());
    }
    std::size_t i = 0;
    while (i < s.size() && !isDelim(s[i]) && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string tok(s.substr(0, i));
    s.remove_prefix(i);
    return tok;
}

Atom atomFromToken(const std::string& tok, bool wasQuoted, const BaseType& t, const SymbolLookup& lookup) {
    switch (t.type) {
    case AtomType::kInteger: {
        errno = 0;
        char* end = nullptr;
        long long v = tok.empty() ? 0 : std::strtoll(tok.c_str(), &end, 10);
        if (tok.empty() || *end || errno) throw CliError(quoted(tok) + " is not a valid integer or range");
        return static_cast<std::int64_t>(v);
    }
    case AtomType::kReal: {
        char* end = nullptr;
        double v = tok.empty() ? 0 : std::strtod(tok.c_str(), &end);
        if (tok.empty() || *end) throw CliError(quoted(tok) + " is not a valid real number");
        return v;
    }
    case AtomType::kBoolean:
        if (tok == "true") return true;
        if (tok == "false") return false;
        throw CliError(quoted(tok) + " is not a valid boolean (use \"true\" or \"false\")");
    case AtomType::kString:
        (void)wasQuoted;
        return tok;
    case AtomType::kUuid:
        if (ovsdb::isUuidText(tok)) return ovsdb::Uuid{tok};
        if (tok.starts_with("@") && lookup) return lookup(tok);
        throw CliError(quoted(tok) + " is not a valid UUID");
    }
    return std::monostate{};
}

Atom parseOneAtom(std::string_view& s, const BaseType& t, const SymbolLookup& lookup) {
    skipSpace(s);
    const bool q = !s.empty() && s.front() == '"';
    std::string tok = nextToken(s);
    if (!q && tok.empty()) throw CliError("missing value in \"" + std::string(s) + "\"");
    Atom a = atomFromToken(tok, q, t, lookup);
    if (auto v = t.violation(a)) throw CliError("constraint violation: " + *v);
    return a;
}

void checkEnd(std::string_view rest, std::string_view whole) {
    skipSpace(rest);
    if (!rest.empty()) throw CliError("\"" + std::string(whole) + "\": trailing garbage \"" + std::string(rest) + "\"");
}

// Elements of a set or map: `[a, b]`/`a, b` or `{k=v}`/`k=v`.
Datum parseElements(std::string_view s, const ColumnType& t, bool keysOnly, const SymbolLookup& lookup,
                    std::string_view whole) {
    Datum d;
    const bool map = t.isMap() && !keysOnly;
    const char open = t.isMap() ? '{' : '[', close = t.isMap() ? '}' : ']';
    skipSpace(s);
    bool braced = !s.empty() && s.front() == open;
    if (!braced && !s.empty() && (s.front() == '[' || s.front() == '{')) {
        braced = true;  // ovs-vsctl accepts [] for an empty map too
    }
    if (braced) s.remove_prefix(1);
    for (;;) {
        skipSpace(s);
        if (s.empty() || (braced && (s.front() == close || s.front() == ']' || s.front() == '}'))) break;
        skipSpace(s);
        if (t.key.type == AtomType::kInteger && !map && !s.empty() && s.front() != '"') {
            std::string_view peek = s;
            std::string tok = nextToken(peek);
            auto dash = tok.find('-', 1);
            if (dash != std::string::npos) {  // a range "LOW-HIGH" of an integer set
                const long long lo = std::get<std::int64_t>(atomFromToken(tok.substr(0, dash), false, t.key, lookup));
                const long long hi = std::get<std::int64_t>(atomFromToken(tok.substr(dash + 1), false, t.key, lookup));
                if (hi < lo) throw CliError("\"" + tok + "\" is not a valid range. Range end cannot be before start.");
                if (hi - lo >= 4096) throw CliError("\"" + tok + "\" is not a valid range: more than 4096 values");
                for (long long i = lo; i <= hi; ++i) {
                    Atom a = static_cast<std::int64_t>(i);
                    if (auto v = t.key.violation(a)) throw CliError("constraint violation: " + *v);
                    d.entries.emplace(a, std::monostate{});
                }
                s = peek;
                skipSpace(s);
                if (!s.empty() && s.front() == ',') s.remove_prefix(1);
                continue;
            }
        }
        Atom k = parseOneAtom(s, t.key, lookup);
        Atom v = std::monostate{};
        if (map) {
            skipSpace(s);
            if (s.empty() || s.front() != '=') throw CliError("\"" + std::string(whole) + "\": missing '=' after a map key");
            s.remove_prefix(1);
            v = parseOneAtom(s, *t.value, lookup);
        }
        if (d.entries.count(k)) throw CliError("\"" + std::string(whole) + "\": duplicate key or value");
        d.entries.emplace(std::move(k), std::move(v));
        skipSpace(s);
        if (!s.empty() && s.front() == ',') s.remove_prefix(1);
    }
    if (braced) {
        if (s.empty()) throw CliError("\"" + std::string(whole) + "\": missing closing bracket");
        s.remove_prefix(1);
    }
    checkEnd(s, whole);
    return d;
}

std::string realText(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", 15, v);
    return buf;
}

std::string bareAtom(const Atom& a) {
    if (auto s = std::get_if<std::string>(&a)) return *s;
    return atomToString(a);
}

}  // namespace

Atom parseAtomText(std::string_view text, const BaseType& t, const SymbolLookup& lookup) {
    std::string_view s = text;
    Atom a = parseOneAtom(s, t, lookup);
    checkEnd(s, text);
    return a;
}

Atom parseWholeAtom(std::string_view text, const BaseType& t, const SymbolLookup& lookup) {
    if (t.type != AtomType::kString || (!text.empty() && text.front() == '"')) return parseAtomText(text, t, lookup);
    if (text.empty())
        throw CliError("An empty string is not valid as input; use \"\" to represent the empty string");
    Atom a = std::string(text);
    if (auto v = t.violation(a)) throw CliError("constraint violation: " + *v);
    return a;
}

Datum parseDatumText(std::string_view text, const ColumnType& t, const SymbolLookup& lookup, bool checkSize) {
    Datum d;
    if (t.min == 1 && t.max == 1 && !t.isMap()) {
        d.entries.emplace(parseAtomText(text, t.key, lookup), std::monostate{});
    } else {
        d = parseElements(text, t, false, lookup, text);
    }
    if (checkSize && (d.entries.size() < t.min || d.entries.size() > t.max)) {
        if (d.entries.size() > t.max)
            throw CliError("\"" + std::string(text) + "\": " + std::to_string(d.entries.size()) +
                           " values where the column holds at most " + std::to_string(t.max));
        throw CliError("\"" + std::string(text) + "\": " + std::to_string(d.entries.size()) +
                       " values where the column needs at least " + std::to_string(t.min));
    }
    return d;
}

Datum parseKeySetText(std::string_view text, const ColumnType& t, const SymbolLookup& lookup) {
    return parseElements(text, t, true, lookup, text);
}

std::string atomToString(const Atom& a) {
    if (auto i = std::get_if<std::int64_t>(&a)) return std::to_string(*i);
    if (auto r = std::get_if<double>(&a)) return realText(*r);
    if (auto b = std::get_if<bool>(&a)) return *b ? "true" : "false";
    if (auto s = std::get_if<std::string>(&a)) {
        if (ovsdb::isUuidText(*s)) return "\"" + *s + "\"";  // a string that reads as a UUID is quoted
        return formatAtom(*s);
    }
    if (auto u = std::get_if<ovsdb::Uuid>(&a)) return u->s;
    return "";
}

std::string datumToString(const Datum& d, const ColumnType& t) {
    const bool brackets = t.max > 1 || d.entries.empty();
    std::string out;
    if (brackets) out += t.isMap() ? '{' : '[';
    bool first = true;
    for (const auto& [k, v] : d.entries) {
        if (!first) out += ", ";
        first = false;
        out += atomToString(k);
        if (t.isMap()) out += "=" + atomToString(v);
    }
    if (brackets) out += t.isMap() ? '}' : ']';
    return out;
}

std::string datumToBare(const Datum& d, const ColumnType& t) {
    std::string out;
    bool first = true;
    for (const auto& [k, v] : d.entries) {
        if (!first) out += ' ';
        first = false;
        out += bareAtom(k);
        if (t.isMap()) out += "=" + bareAtom(v);
    }
    return out;
}

}  // namespace vs::utilities
