#include "utilities/vsctl_value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "protocol/jsonrpc.h"
#include "utilities/vsctl_cli.h"

namespace vs::utilities {
namespace {

std::string lower(std::string_view s) {
    std::string out;
    for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool isSpace(char c) { return c == ' ' || c == '\t'; }

void skipSpace(std::string_view s, std::size_t& pos) {
    while (pos < s.size() && isSpace(s[pos])) ++pos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
    return s;
}

// Parses the JSON string literal starting at s[pos] == '"'; advances pos past it.
std::string readQuoted(std::string_view s, std::size_t& pos, std::string_view context) {
    std::size_t i = pos + 1;
    while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
    if (i >= s.size()) throw CliError("unterminated quoted string in '" + std::string(context) + "'");
    rapidjson::Document doc;
    doc.Parse(s.data() + pos, i + 1 - pos);
    if (doc.HasParseError() || !doc.IsString())
        throw CliError("invalid quoted string " + std::string(s.substr(pos, i + 1 - pos)) + " in '" +
                       std::string(context) + "'");
    pos = i + 1;
    return std::string(doc.GetString(), doc.GetStringLength());
}

struct Token {
    std::string text;
    bool quoted = false;
};

// A quoted string, or bare text up to (not including) any character of `stops`, trimmed.
Token readToken(std::string_view s, std::size_t& pos, std::string_view stops, std::string_view context) {
    skipSpace(s, pos);
    if (pos < s.size() && s[pos] == '"') {
        Token t{readQuoted(s, pos, context), true};
        skipSpace(s, pos);
        return t;
    }
    std::size_t start = pos;
    while (pos < s.size() && stops.find(s[pos]) == std::string_view::npos) ++pos;
    return Token{std::string(trim(s.substr(start, pos - start))), false};
}

bool validColumnName(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

std::optional<long long> parseInteger(std::string_view s) {
    long long v = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

void setString(rapidjson::Value& out, std::string_view s, rapidjson::Document::AllocatorType& alloc) {
    out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

void inferScalar(const Token& t, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) {
    if (!t.quoted) {
        if (t.text == "true" || t.text == "false") return void(out.SetBool(t.text == "true"));
        if (auto n = parseInteger(t.text)) return void(out.SetInt64(*n));
    }
    setString(out, t.text, alloc);
}

void parseSetValue(std::string_view text, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) {
    std::string_view body = trim(text);
    if (body.size() < 2 || body.back() != ']') throw CliError("unbalanced '[' in '" + std::string(text) + "'");
    body = body.substr(1, body.size() - 2);
    out.SetArray();
    std::size_t pos = 0;
    skipSpace(body, pos);
    while (pos < body.size()) {
        Token t = readToken(body, pos, ",", text);
        if (t.text.empty() && !t.quoted) throw CliError("empty element in '" + std::string(text) + "'");
        rapidjson::Value v;
        inferScalar(t, v, alloc);
        out.PushBack(v, alloc);
        if (pos < body.size() && body[pos] != ',')
            throw CliError("expected ',' in '" + std::string(text) + "'");
        if (pos < body.size()) ++pos;
    }
}

void mapToJson(std::string_view text, rapidjson::Value& out, rapidjson::Document::AllocatorType& alloc) {
    out.SetObject();
    for (const auto& [k, v] : parseMap(text)) {
        rapidjson::Value key, value;
        setString(key, k, alloc);
        setString(value, v, alloc);
        out.AddMember(key, value, alloc);
    }
}

}  // namespace

const std::vector<std::string>& knownTables() {
    static const std::vector<std::string> tables = {"Bridge", "Port", "Interface", "Controller", "Mirror"};
    return tables;
}

std::string canonicalTable(std::string_view name) {
    const std::string want = lower(name);
    std::vector<std::string> prefixed;
    for (const auto& t : knownTables()) {
        if (lower(t) == want) return t;
        if (!want.empty() && lower(t).starts_with(want)) prefixed.push_back(t);
    }
    if (prefixed.size() == 1) return prefixed.front();
    if (prefixed.size() > 1) throw CliError("\"" + std::string(name) + "\" matches multiple tables");
    throw CliError("unknown table \"" + std::string(name) + "\" (tables: Bridge, Port, Interface, Controller, Mirror)");
}

ColumnKind columnKind(std::string_view table, std::string_view column) {
    if (column == "other_config" || column == "external_ids") return ColumnKind::kMap;
    if (column == "name") return ColumnKind::kReadOnly;
    if (table == "Bridge" && (column == "ports" || column == "controller")) return ColumnKind::kReadOnly;
    if (table == "Bridge" && column == "fail_mode") return ColumnKind::kString;
    if (table == "Controller" && (column == "target" || column == "is_connected" || column == "status"))
        return ColumnKind::kReadOnly;
    if (table == "Port" && column == "interfaces") return ColumnKind::kReadOnly;
    if (table == "Mirror" && column == "statistics") return ColumnKind::kReadOnly;  // docs/mirrors.md
    if ((table == "Bridge" || table == "Port") && column == "rstp_status") return ColumnKind::kReadOnly;  // docs/stp.md
    if (table == "Port" && column == "rstp_statistics") return ColumnKind::kReadOnly;
    if (table == "Mirror" && column == "output_port") return ColumnKind::kString;
    if (table == "Port" && (column == "vlan_mode" || column == "bond_mode" || column == "lacp")) return ColumnKind::kString;  // tag, trunks: inferred (10, [10,20], 10,20)
    if (table == "Interface") {
        static const std::set<std::string_view> readOnly = {"ofport", "error", "statistics", "mac_in_use",
                                                            "mtu", "link_state"};
        if (column == "type") return ColumnKind::kString;
        if (column == "options") return ColumnKind::kMap;
        if (readOnly.count(column)) return ColumnKind::kReadOnly;
    }
    return ColumnKind::kUnknown;
}

std::string normalColumnName(std::string_view name) {
    std::string out(name);
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

ColumnArg parseColumnArg(std::string_view arg) {
    ColumnArg out;
    const std::size_t sep = arg.find_first_of(":=");
    out.column = normalColumnName(arg.substr(0, sep));
    if (!validColumnName(out.column))
        throw CliError("'" + std::string(arg) + "': invalid column name '" + out.column + "'");
    if (sep == std::string_view::npos) return out;
    std::size_t pos = sep + 1;
    if (arg[sep] == ':') {
        Token key = readToken(arg, pos, "=", arg);
        if (key.text.empty() && !key.quoted)
            throw CliError("'" + std::string(arg) + "': missing key after '" + out.column + ":'");
        out.key = key.text;
        if (pos == arg.size()) return out;
        if (arg[pos] != '=') throw CliError("'" + std::string(arg) + "': expected '=' after the key");
        ++pos;
    }
    out.value = std::string(arg.substr(pos));
    return out;
}

std::string parseAtom(std::string_view text) {
    std::size_t pos = 0;
    skipSpace(text, pos);
    if (pos < text.size() && text[pos] == '"') {
        std::string s = readQuoted(text, pos, text);
        skipSpace(text, pos);
        if (pos != text.size()) throw CliError("unexpected text after the quoted string in '" + std::string(text) + "'");
        return s;
    }
    return std::string(text);
}

std::vector<std::pair<std::string, std::string>> parseMap(std::string_view text) {
    std::string_view body = trim(text);
    if (!body.empty() && body.front() == '{') {
        if (body.size() < 2 || body.back() != '}') throw CliError("unbalanced '{' in '" + std::string(text) + "'");
        body = body.substr(1, body.size() - 2);
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    std::set<std::string> seen;
    std::size_t pos = 0;
    skipSpace(body, pos);
    while (pos < body.size()) {
        Token key = readToken(body, pos, "=,", text);
        if (key.text.empty() && !key.quoted) throw CliError("missing key in map '" + std::string(text) + "'");
        if (pos >= body.size() || body[pos] != '=')
            throw CliError("missing '=' after key '" + key.text + "' in map '" + std::string(text) + "'");
        ++pos;
        Token value = readToken(body, pos, ",", text);
        if (value.text.empty() && !value.quoted)
            throw CliError("missing value for key '" + key.text + "' in map '" + std::string(text) +
                           "' (use \"\" for an empty string)");
        if (!seen.insert(key.text).second)
            throw CliError("duplicate key '" + key.text + "' in map '" + std::string(text) + "'");
        pairs.emplace_back(key.text, value.text);
        if (pos < body.size() && body[pos] != ',') throw CliError("expected ',' in map '" + std::string(text) + "'");
        if (pos < body.size()) ++pos;
    }
    return pairs;
}

void valueToJson(ColumnKind kind, bool keyed, std::string_view text, rapidjson::Value& out,
                 rapidjson::Document::AllocatorType& alloc) {
    if (keyed || kind == ColumnKind::kString) return setString(out, parseAtom(text), alloc);
    if (kind == ColumnKind::kMap) return mapToJson(text, out, alloc);
    std::string_view body = trim(text);
    if (!body.empty() && body.front() == '{') return mapToJson(text, out, alloc);
    if (!body.empty() && body.front() == '[') return parseSetValue(text, out, alloc);
    if (!body.empty() && body.front() == '"') return setString(out, parseAtom(text), alloc);
    inferScalar(Token{std::string(text), false}, out, alloc);
}

std::string formatAtom(std::string_view s) {
    bool bare = !s.empty() && (std::isalpha(static_cast<unsigned char>(s.front())) || s.front() == '_') &&
                s != "true" && s != "false" &&
                std::all_of(s.begin(), s.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                });
    if (bare) return std::string(s);
    rapidjson::Value v(rapidjson::StringRef(s.data(), s.size()));
    return protocol::toJson(v);
}

std::string formatValue(const rapidjson::Value& v) {
    if (v.IsString()) return formatAtom(std::string_view(v.GetString(), v.GetStringLength()));
    if (v.IsNull()) return "[]";
    if (v.IsArray()) {
        std::string s = "[";
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) s += (i ? ", " : "") + formatValue(v[i]);
        return s + "]";
    }
    if (v.IsObject()) {
        std::map<std::string, std::string> sorted;
        for (const auto& m : v.GetObject())
            sorted[std::string(m.name.GetString(), m.name.GetStringLength())] = formatValue(m.value);
        std::string s = "{";
        bool first = true;
        for (const auto& [k, val] : sorted) {
            s += (first ? "" : ", ") + formatAtom(k) + "=" + val;
            first = false;
        }
        return s + "}";
    }
    return protocol::toJson(v);  // numbers, booleans
}

}  // namespace vs::utilities
