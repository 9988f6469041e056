#include "utilities/vsctl_table.h"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "utilities/vsctl_cli.h"
#include "utilities/vsctl_datum.h"

namespace vs::utilities {
namespace {

using Format = DbStyle::Format;
using Data = DbStyle::Data;

std::string compact(const rapidjson::Value& v) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    v.Accept(w);
    return sb.GetString();
}

void pretty(const rapidjson::Value& v, int level, std::string& out) {
    const std::string indent(static_cast<std::size_t>(level + 1) * 2, ' ');
    if (v.IsArray() && !v.Empty()) {
        out += '[';
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
            out += (i ? ",\n" : "\n") + indent;
            pretty(v[i], level + 1, out);
        }
        out += ']';
    } else if (v.IsObject() && v.MemberCount() > 0) {
        out += '{';
        bool first = true;
        for (const auto& m : v.GetObject()) {
            out += (first ? "\n" : ",\n") + indent + compact(m.name) + ": ";
            first = false;
            pretty(m.value, level + 1, out);
        }
        out += '}';
    } else {
        out += compact(v);
    }
}

std::string cellText(const DbCell& c, Data data) {
    switch (data) {
    case Data::kString: return datumToString(c.datum, *c.type);
    case Data::kBare: return datumToBare(c.datum, *c.type);
    case Data::kJson: {
        rapidjson::Document d;
        return compact(ovsdb::datumToJson(c.datum, *c.type, d.GetAllocator()));
    }
    }
    return "";
}

std::vector<std::vector<std::string>> texts(const DbTable& t, Data data) {
    std::vector<std::vector<std::string>> out;
    for (const auto& row : t.rows) {
        std::vector<std::string> line;
        for (const auto& c : row) line.push_back(cellText(c, data));
        out.push_back(std::move(line));
    }
    return out;
}

std::string listFormat(const DbTable& t, const DbStyle& s) {
    std::string out;
    auto cells = texts(t, s.data);
    for (std::size_t y = 0; y < cells.size(); ++y) {
        if (y) out += '\n';
        for (std::size_t x = 0; x < cells[y].size(); ++x) {
            if (s.headings) {
                std::string h = t.headings[x];
                if (h.size() < 20) h.resize(20, ' ');
                out += h + ": ";
            }
            out += cells[y][x] + "\n";
        }
    }
    return out;
}

std::string tableFormat(const DbTable& t, const DbStyle& s) {
    auto cells = texts(t, s.data);
    std::vector<std::size_t> width(t.headings.size(), 0);
    for (std::size_t x = 0; x < width.size(); ++x) {
        if (s.headings) width[x] = t.headings[x].size();
        for (const auto& row : cells) width[x] = std::max(width[x], row[x].size());
    }
    auto line = [&](const std::vector<std::string>& fields) {
        std::string l;
        for (std::size_t x = 0; x < fields.size(); ++x) {
            if (x) l += ' ';
            l += fields[x];
            if (x + 1 < fields.size() && fields[x].size() < width[x]) l.append(width[x] - fields[x].size(), ' ');
        }
        return l + "\n";
    };
    std::string out;
    if (s.headings) {
        out += line(t.headings);
        std::vector<std::string> dashes;
        for (auto w : width) dashes.emplace_back(w, '-');
        out += line(dashes);
    }
    for (const auto& row : cells) out += line(row);
    return out;
}

std::string csvCell(const std::string& text) {
    if (text.find_first_of("\n\",") == std::string::npos) return text;
    std::string q = "\"";
    for (char c : text) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string csvFormat(const DbTable& t, const DbStyle& s) {
    auto join = [](const std::vector<std::string>& fields) {
        std::string l;
        for (std::size_t x = 0; x < fields.size(); ++x) l += (x ? "," : "") + csvCell(fields[x]);
        return l + "\n";
    };
    std::string out;
    if (s.headings) out += join(t.headings);
    for (const auto& row : texts(t, s.data)) out += join(row);
    return out;
}

std::string htmlEscape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

// A cell's HTML: escaped, every UUID a link to its row (`<a href="#UUID">` + its first 8
// characters); the _uuid column's cell is that row's anchor, as ovs-vsctl writes them.
std::string htmlCell(const std::string& heading, const std::string& text) {
    if (heading == "_uuid")
        return "<a name=\"" + htmlEscape(text) + "\">" + htmlEscape(text.substr(0, 8)) + "</a>";
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        if (i + 36 <= text.size() && ovsdb::isUuidText(text.substr(i, 36))) {
            out += "<a href=\"#" + text.substr(i, 36) + "\">" + text.substr(i, 8) + "</a>";
            i += 36;
        } else {
            out += htmlEscape(text.substr(i, 1));
            ++i;
        }
    }
    return out;
}

std::string htmlFormat(const DbTable& t, const DbStyle& s) {
    std::string out = "<table border=1>\n";
    if (s.headings) {
        out += "  <tr>\n";
        for (const auto& h : t.headings) out += "    <th>" + htmlEscape(h) + "</th>\n";
        out += "  </tr>\n";
    }
    for (const auto& row : texts(t, s.data)) {
        out += "  <tr>\n";
        for (std::size_t x = 0; x < row.size(); ++x) out += "    <td>" + htmlCell(t.headings[x], row[x]) + "</td>\n";
        out += "  </tr>\n";
    }
    return out + "</table>\n";
}

std::string jsonFormat(const DbTable& t, const DbStyle& s) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto& a = d.GetAllocator();
    rapidjson::Value data(rapidjson::kArrayType);
    for (const auto& row : t.rows) {
        rapidjson::Value r(rapidjson::kArrayType);
        for (const auto& c : row) r.PushBack(ovsdb::datumToJson(c.datum, *c.type, a), a);
        data.PushBack(r, a);
    }
    d.AddMember("data", data, a);
    rapidjson::Value h(rapidjson::kArrayType);  // JSON always carries its headings (as ovs-vsctl)
    for (const auto& name : t.headings) h.PushBack(rapidjson::Value(name.c_str(), a), a);
    d.AddMember("headings", h, a);
    return jsonText(d, s.pretty) + "\n";
}

}  // namespace

DbStyle::Format parseDbFormat(const std::string& text) {
    if (text == "list" || text == "text") return Format::kList;
    if (text == "table") return Format::kTable;
    if (text == "csv") return Format::kCsv;
    if (text == "json") return Format::kJson;
    if (text == "html") return Format::kHtml;
    throw CliError("unknown output format \"" + text + "\" (use list, table, csv, json or html)");
}

DbStyle::Data parseDbData(const std::string& text) {
    if (text == "string") return Data::kString;
    if (text == "bare") return Data::kBare;
    if (text == "json") return Data::kJson;
    throw CliError("unknown data format \"" + text + "\" (use string, bare or json)");
}

const ovsdb::ColumnType& uuidColumnType() {
    static const ovsdb::ColumnType t = [] {
        ovsdb::ColumnType c;
        c.key.type = ovsdb::AtomType::kUuid;
        return c;
    }();
    return t;
}

std::string jsonText(const rapidjson::Value& v, bool prettyLayout) {
    if (!prettyLayout) return compact(v);
    std::string out;
    pretty(v, 0, out);
    return out;
}

std::string formatDbTable(const DbTable& t, const DbStyle& s) {
    switch (s.format) {
    case Format::kList: return listFormat(t, s);
    case Format::kTable: return tableFormat(t, s);
    case Format::kCsv: return csvFormat(t, s);
    case Format::kJson: return jsonFormat(t, s);
    case Format::kHtml: return htmlFormat(t, s);
    }
    return "";
}

}  // namespace vs::utilities
