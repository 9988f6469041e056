// flow_mod-level fields of the flow syntax and the public entry points (ofp_parse.h).
// OpenFlow 1.3 section 7.3.4.2 (flow_mod: table_id, priority, cookie/cookie_mask, idle and hard
// timeouts, OFPFF_SEND_FLOW_REM, out_port).
#include "ofproto/ofp_parse.h"

#include <set>

#include "ofproto/ofp_parse_detail.h"

namespace vs::ofproto {
namespace {

using namespace parse_detail;
using Command = FlowMod::Command;

bool isDelete(Command c) { return c == Command::kDelete || c == Command::kDeleteStrict; }
bool isModify(Command c) { return c == Command::kModify || c == Command::kModifyStrict; }

std::string_view commandName(Command c) {
    if (c == Command::kAdd) return "add-flow";
    return isModify(c) ? "mod-flows" : "del-flows";
}

// Output of dump-flows that add-flow ignores, so that it can be fed back (as ovs-ofctl).
bool isIgnoredStat(std::string_view key) {
    return key == "duration" || key == "n_packets" || key == "n_bytes" || key == "idle_age" || key == "hard_age";
}

bool isFlowModKey(std::string_view key) {
    return key == "table" || key == "priority" || key == "cookie" || key == "idle_timeout" ||
           key == "hard_timeout" || key == "send_flow_rem" || key == "out_port" || isIgnoredStat(key);
}

class FlowModParser {
public:
    FlowModParser(Command cmd, const PortResolver& resolver, std::string_view context = {})
        : resolver_(resolver), context_(context.empty() ? commandName(cmd) : context) {
        fm_.command = cmd;
        fm_.table = cmd == Command::kAdd ? 0 : kTableAll;
    }
    FlowMod parse(std::string_view text);

private:
    bool flowModField(const KeyValue& kv);
    void checkAllowed(const KeyValue& kv, bool allowed, std::string_view where) const;
    void parseTable(const KeyValue& kv);
    void parseCookie(const KeyValue& kv);

    const PortResolver& resolver_;
    std::string_view context_;  // "add-flow", "mod-flows", "del-flows", "dump-flows" (for messages)
    FlowMod fm_;
    std::set<std::string_view> seen_;
};

FlowMod FlowModParser::parse(std::string_view text) {
    const FlowTokens tokens = tokenize(text);
    MatchBuilder match(resolver_);
    for (const auto& kv : tokens.fields) {
        if (flowModField(kv) || match.tryField(kv)) continue;
        if (kv.key == "actions") fail("write actions=A,B,... without spaces around '='", kv.offset, kv.whole);
        fail("unknown field '" + std::string(kv.key) + "'", kv.offset, kv.key);
    }
    fm_.match = match.finish();
    const Command cmd = fm_.command;
    if (isDelete(cmd)) {
        if (tokens.actions)
            fail(std::string(context_) + " does not take actions", tokens.actions->offset, tokens.actions->whole);
        return fm_;
    }
    if (!tokens.actions)
        fail(std::string(context_) + " requires actions=... (actions=drop to drop)", text.size(), "");
    fm_.actions = parseActionList(tokens.actions->value, tokens.actions->valueOffset, fm_.match, fm_.table, resolver_);
    return fm_;
}

void FlowModParser::checkAllowed(const KeyValue& kv, bool allowed, std::string_view where) const {
    if (!allowed)
        fail("'" + std::string(kv.key) + "' is not allowed in " + std::string(context_) + " (" +
                 std::string(where) + ")",
             kv.offset, kv.whole);
}

bool FlowModParser::flowModField(const KeyValue& kv) {
    if (!isFlowModKey(kv.key)) return false;
    if (isIgnoredStat(kv.key)) return true;
    if (!seen_.insert(kv.key).second) fail("duplicate field '" + std::string(kv.key) + "'", kv.offset, kv.whole);
    const Command cmd = fm_.command;
    if (kv.key == "send_flow_rem") {
        checkAllowed(kv, !isDelete(cmd), "only in add-flow and mod-flows");
        if (kv.hasValue) fail("'send_flow_rem' takes no value", kv.offset, kv.whole);
        fm_.send_flow_rem = true;
        return true;
    }
    if (!kv.hasValue || kv.value.empty())
        fail(std::string(kv.key) + ": missing value (" + std::string(kv.key) + "=VALUE)", kv.offset, kv.whole);
    if (kv.key == "table") parseTable(kv);
    else if (kv.key == "priority") fm_.priority = static_cast<std::uint16_t>(numberIn(kv, kv.value, 0xffff));
    else if (kv.key == "cookie") parseCookie(kv);
    else if (kv.key == "out_port") {
        checkAllowed(kv, isDelete(cmd), "only in del-flows and dump-flows");
        std::string problem;
        auto p = lookupPort(kv.value, resolver_, problem);
        if (!p) badValue(kv, problem);
        fm_.out_port = *p;
    } else {
        checkAllowed(kv, !isDelete(cmd), "only in add-flow and mod-flows");
        const auto v = static_cast<std::uint16_t>(numberIn(kv, kv.value, 0xffff));
        (kv.key == "idle_timeout" ? fm_.idle_timeout : fm_.hard_timeout) = v;
    }
    return true;
}

void FlowModParser::parseTable(const KeyValue& kv) {
    if (fm_.command != Command::kAdd && lower(kv.value) == "all") {
        fm_.table = kTableAll;
        return;
    }
    const auto t = numberIn(kv, kv.value, 0xff);
    if (t > kMaxTable && (fm_.command == Command::kAdd || t != kTableAll))
        badValue(kv, fm_.command == Command::kAdd ? "out of range (0..253)" : "out of range (0..253, or 255/all)");
    fm_.table = static_cast<std::uint8_t>(t);
}

void FlowModParser::parseCookie(const KeyValue& kv) {
    const std::size_t slash = kv.value.find('/');
    if (slash == std::string_view::npos) {
        if (isDelete(fm_.command))
            badValue(kv, std::string(context_) + " selects rules by cookie=VALUE/MASK (a cookie without a mask would set it)");
        fm_.cookie = numberIn(kv, kv.value, UINT64_MAX);
        return;
    }
    if (fm_.command == Command::kAdd) badValue(kv, "add-flow cannot use a cookie mask");
    fm_.cookie = numberIn(kv, kv.value.substr(0, slash), UINT64_MAX);
    fm_.cookie_mask = numberIn(kv, kv.value.substr(slash + 1), UINT64_MAX);
}

ParseError toError(const Failure& f) { return ParseError{f.message, f.offset, f.token, 0}; }

bool isSkippedLine(std::string_view line) {
    const std::size_t first = line.find_first_not_of(" \t\r\n\f\v");
    return first == std::string_view::npos || line[first] == '#';
}

}  // namespace

std::variant<FlowMod, ParseError> parseFlowMod(std::string_view text, FlowMod::Command cmd,
                                               const PortResolver& resolver) {
    try {
        return FlowModParser(cmd, resolver).parse(text);
    } catch (const Failure& f) {
        return toError(f);
    }
}

std::variant<FlowMod, ParseError> parseFlowFilter(std::string_view text, const PortResolver& resolver) {
    try {
        return FlowModParser(Command::kDelete, resolver, "dump-flows").parse(text);
    } catch (const Failure& f) {
        return toError(f);
    }
}

std::variant<Match, ParseError> parseMatch(std::string_view text, const PortResolver& resolver) {
    try {
        const FlowTokens tokens = tokenize(text);
        if (tokens.actions) fail("actions are not allowed in a match", tokens.actions->offset, tokens.actions->whole);
        MatchBuilder match(resolver);
        for (const auto& kv : tokens.fields) {
            if (match.tryField(kv)) continue;
            if (isFlowModKey(kv.key))
                fail("'" + std::string(kv.key) + "' is not a match field", kv.offset, kv.whole);
            fail("unknown field '" + std::string(kv.key) + "'", kv.offset, kv.key);
        }
        return match.finish();
    } catch (const Failure& f) {
        return toError(f);
    }
}

std::variant<std::vector<FlowMod>, ParseError> parseFlowLines(std::span<const std::string> lines,
                                                              FlowMod::Command cmd, const PortResolver& resolver) {
    std::vector<FlowMod> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (isSkippedLine(lines[i])) continue;
        auto r = parseFlowMod(lines[i], cmd, resolver);
        if (auto* e = std::get_if<ParseError>(&r)) {
            e->line = i + 1;
            e->message = "line " + std::to_string(i + 1) + ": " + e->message;
            return std::move(*e);
        }
        out.push_back(std::move(std::get<FlowMod>(r)));
    }
    return out;
}

std::variant<std::vector<FlowMod>, ParseError> parseFlowFile(std::string_view text, FlowMod::Command cmd,
                                                             const PortResolver& resolver) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) nl = text.size();
        lines.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return parseFlowLines(lines, cmd, resolver);
}

}  // namespace vs::ofproto
