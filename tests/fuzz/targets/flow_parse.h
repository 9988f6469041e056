// Fuzz entry point: the flow syntax (ofproto/ofp_parse.h) and its printer (ofp_print.h). The input
// is flow text; it is given to parseFlowMod under every command (add, modify, modify-strict,
// delete, delete-strict), to parseFlowFilter, to parseMatch, and as a whole file to parseFlowFile.
//
// Invariants: the parsers never throw (errors come back as ParseError, whose offset lies inside
// the text), and whatever parses prints back to text that parses to the same value:
//   parseFlowMod(formatFlowMod(x), x.command) == x, parseFlowFilter(formatFlowMod(f)) == f,
//   parseMatch(formatMatch(m)) == m,
// and printing is a fixed point (formatting the re-parsed value gives the same text). Ports are
// named through a resolver/namer pair that invert each other, as the daemon's do.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

struct FlowNames {
    std::map<std::string, std::uint32_t, std::less<>> by_name{
        {"p1", 1}, {"p2", 2}, {"eth0", 3}, {"vx-1", 7}, {"tap.9", 65279}, {"br0x", 100}};
    ofproto::PortResolver resolver() const {
        return [this](std::string_view n) -> std::optional<std::uint32_t> {
            auto it = by_name.find(n);
            if (it == by_name.end()) return std::nullopt;
            return it->second;
        };
    }
    ofproto::PortNamer namer() const {
        return [this](std::uint32_t no) {
            for (const auto& [n, v] : by_name)
                if (v == no) return n;
            return std::to_string(no);
        };
    }
};

namespace detail {

inline void checkParseError(const char* kName, const ofproto::ParseError& e, std::string_view text, bool file) {
    if (e.message.empty()) fuzzFail(kName, "a ParseError without a message for '" + excerpt(text) + "'");
    if (!file && e.offset > text.size())
        fuzzFail(kName, "ParseError offset " + std::to_string(e.offset) + " beyond the text ('" + excerpt(text) + "')");
    if (file && e.line == 0) fuzzFail(kName, "a flow-file error without a line number");
}

inline const char* commandName(ofproto::FlowMod::Command c) {
    using C = ofproto::FlowMod::Command;
    switch (c) {
    case C::kAdd: return "add";
    case C::kModify: return "modify";
    case C::kModifyStrict: return "modify-strict";
    case C::kDelete: return "delete";
    case C::kDeleteStrict: return "delete-strict";
    }
    return "?";
}

inline void roundTripFlowMod(const char* kName, const ofproto::FlowMod& fm, std::string_view text,
                             const FlowNames& names, bool filter) {
    const std::string printed = ofproto::formatFlowMod(fm, names.namer());
    auto again = filter ? ofproto::parseFlowFilter(printed, names.resolver())
                        : ofproto::parseFlowMod(printed, fm.command, names.resolver());
    const std::string ctx = std::string(filter ? "filter" : commandName(fm.command)) + ": '" + excerpt(text) +
                            "' printed as '" + excerpt(printed) + "'";
    if (auto* e = std::get_if<ofproto::ParseError>(&again))
        fuzzFail(kName, ctx + " does not parse back: " + e->message);
    const auto& fm2 = std::get<ofproto::FlowMod>(again);
    if (!(fm2 == fm)) fuzzFail(kName, ctx + " parses back to a different flow_mod ('" +
                                          excerpt(ofproto::formatFlowMod(fm2, names.namer())) + "')");
    if (ofproto::formatFlowMod(fm2, names.namer()) != printed) fuzzFail(kName, ctx + ": printing is not stable");
}

}  // namespace detail

inline int flowParse(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "flow_parse";
    using ofproto::FlowMod;
    if (size > 8192) return 0;  // long inputs only slow the fuzzer down; the grammar is local
    const std::string_view text = asText(data, size);
    static const FlowNames names;
    const auto resolver = names.resolver();

    for (auto cmd : {FlowMod::Command::kAdd, FlowMod::Command::kModify, FlowMod::Command::kModifyStrict,
                     FlowMod::Command::kDelete, FlowMod::Command::kDeleteStrict}) {
        auto r = ofproto::parseFlowMod(text, cmd, resolver);
        if (auto* e = std::get_if<ofproto::ParseError>(&r)) {
            detail::checkParseError(kName, *e, text, false);
            continue;
        }
        const auto& fm = std::get<FlowMod>(r);
        if (fm.command != cmd) fuzzFail(kName, "parseFlowMod returned another command");
        detail::roundTripFlowMod(kName, fm, text, names, false);
    }

    auto f = ofproto::parseFlowFilter(text, resolver);
    if (auto* e = std::get_if<ofproto::ParseError>(&f)) detail::checkParseError(kName, *e, text, false);
    else detail::roundTripFlowMod(kName, std::get<FlowMod>(f), text, names, true);

    auto m = ofproto::parseMatch(text, resolver);
    if (auto* e = std::get_if<ofproto::ParseError>(&m)) {
        detail::checkParseError(kName, *e, text, false);
    } else {
        const auto& match = std::get<ofproto::Match>(m);
        const std::string printed = ofproto::formatMatch(match, names.namer());
        auto again = ofproto::parseMatch(printed, resolver);
        if (auto* e = std::get_if<ofproto::ParseError>(&again))
            fuzzFail(kName, "match '" + excerpt(text) + "' printed as '" + excerpt(printed) +
                                "' does not parse back: " + e->message);
        if (!(std::get<ofproto::Match>(again) == match))
            fuzzFail(kName, "match '" + excerpt(text) + "' printed as '" + excerpt(printed) + "' parses back differently");
    }

    auto file = ofproto::parseFlowFile(text, FlowMod::Command::kAdd, resolver);
    if (auto* e = std::get_if<ofproto::ParseError>(&file)) {
        detail::checkParseError(kName, *e, text, true);
    } else {
        for (const auto& fm : std::get<std::vector<FlowMod>>(file)) detail::roundTripFlowMod(kName, fm, text, names, false);
    }
    return 0;
}

}  // namespace vs::fuzz
