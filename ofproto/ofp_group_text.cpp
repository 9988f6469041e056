// ovs-ofctl group syntax (ofp_group_text.h).
#include "ofproto/ofp_group_text.h"

#include "ofproto/ofp_parse_detail.h"

namespace vs::ofproto {

namespace {

using parse_detail::fail;

struct Piece {
    std::string_view text;
    std::size_t offset;
};

std::string_view trim(std::string_view s, std::size_t& offset) {
    while (!s.empty() && (s.front() == ' ' || s.front() == ',' || s.front() == '\t')) {
        s.remove_prefix(1);
        ++offset;
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == ',' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::uint64_t number(std::string_view key, std::string_view v, std::size_t off, std::uint64_t max) {
    auto n = parse_detail::parseNumber(v);
    if (!n || *n > max) fail(std::string(key) + "=" + std::string(v) + ": expected a number up to " + std::to_string(max), off, v);
    return *n;
}

GroupType typeNamed(std::string_view v, std::size_t off) {
    std::string t = parse_detail::lower(v);
    if (t == "all") return GroupType::kAll;
    if (t == "select") return GroupType::kSelect;
    if (t == "indirect") return GroupType::kIndirect;
    if (t == "ff" || t == "fast_failover") return GroupType::kFastFailover;
    fail("type=" + std::string(v) + ": expected all, select, indirect or ff", off, v);
}

// "weight:1,watch_port:2,actions=output:2" or "output:2"; `offset` of its first byte.
// A select group's bucket weighs 1 unless it says otherwise (ovs-ofctl(8)); others weigh 0.
Bucket parseBucket(std::string_view text, std::size_t offset, GroupType type, const PortResolver& resolver) {
    Bucket b;
    b.weight = type == GroupType::kSelect ? 1 : 0;
    while (true) {
        std::size_t comma = text.find(',');
        std::string_view tok = text.substr(0, comma);
        std::size_t sep = tok.find_first_of(":=");
        std::string key = parse_detail::lower(tok.substr(0, sep == std::string_view::npos ? tok.size() : sep));
        if (sep == std::string_view::npos || (key != "weight" && key != "watch_port" && key != "watch_group")) break;
        std::string_view v = tok.substr(sep + 1);
        if (key == "weight") b.weight = static_cast<std::uint16_t>(number(key, v, offset + sep + 1, 0xffff));
        if (key == "watch_group") b.watch_group = static_cast<std::uint32_t>(number(key, v, offset + sep + 1, kGroupMax));
        if (key == "watch_port") {
            std::string problem;
            auto p = parse_detail::lookupPort(v, resolver, problem);
            if (!p) fail("watch_port=" + std::string(v) + ": " + problem, offset + sep + 1, v);
            b.watch_port = *p;
        }
        if (comma == std::string_view::npos) return b;
        text.remove_prefix(comma + 1);
        offset += comma + 1;
    }
    if (text.rfind("actions=", 0) == 0) {
        text.remove_prefix(8);
        offset += 8;
    }
    b.actions = parse_detail::parseActionList(text, offset, Match{}, kTableAll, resolver);
    if (b.actions.size() == 1 && b.actions[0].type == ActionType::kDrop) b.actions.clear();
    return b;
}

GroupMod parse(std::string_view text, GroupMod::Command cmd, const PortResolver& resolver) {
    GroupMod g;
    g.command = cmd;
    // Buckets start at each "bucket=" (never inside actions); the head holds group_id and type.
    std::vector<Piece> pieces;
    std::size_t at = 0;
    while (true) {
        std::size_t next = text.find("bucket=", at);
        pieces.push_back({text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at), at});
        if (next == std::string_view::npos) break;
        at = next + 7;
    }
    bool have_id = false;
    std::size_t off = pieces[0].offset;
    std::string_view head = trim(pieces[0].text, off);
    while (!head.empty()) {
        std::size_t comma = head.find_first_of(", ");
        std::string_view tok = head.substr(0, comma);
        std::size_t eq = tok.find('=');
        std::string key = parse_detail::lower(tok.substr(0, eq));
        std::string_view v = eq == std::string_view::npos ? std::string_view{} : tok.substr(eq + 1);
        if (key == "group_id" && (parse_detail::lower(v) == "all" || parse_detail::lower(v) == "any") &&
            cmd == GroupMod::Command::kDelete) {
            g.group_id = kGroupAll;
            have_id = true;
        } else if (key == "group_id") {
            g.group_id = static_cast<std::uint32_t>(number(key, v, off + eq + 1, kGroupMax));
            have_id = true;
        } else if (key == "type") {
            g.type = typeNamed(v, off + eq + 1);
        } else if (key != "duration" && key != "ref_count" && key != "packet_count" && key != "byte_count") {
            fail("unknown group field '" + std::string(tok) + "'", off, tok);
        }
        if (comma == std::string_view::npos) break;
        head.remove_prefix(comma + 1);
        off += comma + 1;
        head = trim(head, off);
    }
    if (cmd == GroupMod::Command::kDelete) {
        if (pieces.size() > 1) fail("del-groups takes no buckets", pieces[1].offset, "bucket=");
        if (!have_id) g.group_id = kGroupAll;
        return g;
    }
    if (!have_id) fail("group_id is required", 0, text.substr(0, 8));
    for (std::size_t i = 1; i < pieces.size(); ++i) {
        std::size_t boff = pieces[i].offset;
        std::string_view b = trim(pieces[i].text, boff);
        g.buckets.push_back(parseBucket(b, boff, g.type, resolver));
    }
    return g;
}

}  // namespace

std::variant<GroupMod, ParseError> parseGroupMod(std::string_view text, GroupMod::Command cmd,
                                                 const PortResolver& resolver) {
    try {
        return parse(text, cmd, resolver);
    } catch (const parse_detail::Failure& f) {
        return ParseError{f.message, f.offset, f.token};
    }
}

std::string formatGroup(const GroupMod& g, const PortNamer& namer) {
    std::string s = "group_id=" + std::to_string(g.group_id) + ",type=" + std::string(groupTypeName(g.type));
    for (const auto& b : g.buckets) {
        s += ",bucket=";
        if (b.weight != (g.type == GroupType::kSelect ? 1 : 0)) s += "weight:" + std::to_string(b.weight) + ",";
        if (b.watch_port != kWatchPortAny) s += "watch_port:" + formatPort(b.watch_port, namer) + ",";
        if (b.watch_group != kGroupAny) s += "watch_group:" + std::to_string(b.watch_group) + ",";
        s += "actions=" + (b.actions.empty() ? std::string("drop") : formatActions(b.actions, namer));
    }
    return s;
}

}  // namespace vs::ofproto
