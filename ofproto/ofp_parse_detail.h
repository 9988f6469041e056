// Internals of the ovs-ofctl flow syntax parser (ofp_parse.h), shared by its translation units:
// tokenizer, scalar/address/port parsers, the match builder (ofp_parse_match.cpp) and the action
// list parser (ofp_parse_actions.cpp). Not part of the public API: include ofp_parse.h instead.
//
// Errors are thrown as parse_detail::Failure (control-plane code; the public functions convert
// them to ParseError). Offsets are byte offsets into the text given to the public function.
//
// Thread-safety: pure functions and per-call objects.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ofproto/ofp_parse.h"

namespace vs::ofproto::parse_detail {

struct Failure {
    std::string message;
    std::size_t offset = 0;
    std::string token;
};

[[noreturn]] void fail(std::string message, std::size_t offset, std::string_view token);

// One "key=value" (or bare "key") token of a flow.
struct KeyValue {
    std::string_view whole;  // the whole token
    std::string_view key;
    std::string_view value;  // empty when !hasValue
    std::size_t offset = 0;  // of `whole` (== of `key`)
    std::size_t valueOffset = 0;
    bool hasValue = false;
};

// Throws "KEY=VALUE: problem" pointing at the value.
[[noreturn]] void badValue(const KeyValue& kv, std::string_view problem);

struct FlowTokens {
    std::vector<KeyValue> fields;
    std::optional<KeyValue> actions;  // "actions=..." (value: the rest of the text)
};

// Splits a flow on commas and white space; "actions=" takes the rest of the text.
FlowTokens tokenize(std::string_view text);

// Decimal or 0x-prefixed hexadecimal, no sign; nullopt on bad syntax or overflow.
std::optional<std::uint64_t> parseNumber(std::string_view s);
// parseNumber limited to [0, max]; throws badValue ("invalid number" / "out of range (0..max)").
std::uint64_t numberIn(const KeyValue& kv, std::string_view text, std::uint64_t max);

// "aa:bb:cc:dd:ee:ff" (1 or 2 hex digits per byte).
std::optional<std::array<std::uint8_t, 6>> parseMac(std::string_view s);
// Dotted quad; result in host order.
std::optional<std::uint32_t> parseIpv4(std::string_view s);
std::optional<std::array<std::uint8_t, 16>> parseIpv6(std::string_view s);

std::string lower(std::string_view s);

// Reserved port names (case-insensitive): LOCAL, IN_PORT, NORMAL, FLOOD, ALL, CONTROLLER,
// NONE, ANY.
std::optional<std::uint32_t> reservedPort(std::string_view name);

// A port: reserved name, number (1..0xfeff or a reserved value 0xfff8..0xffff) or a name the
// resolver knows. On failure returns nullopt and sets `problem`.
std::optional<std::uint32_t> lookupPort(std::string_view text, const PortResolver& resolver,
                                        std::string& problem);

// Match field prerequisites (OpenFlow 1.3 section 7.2.3.6), as Open vSwitch applies them.
enum class Prereq : std::uint8_t {
    kNone,
    kIpv4,        // dl_type 0x0800
    kIpv4OrArp,   // 0x0800 or 0x0806
    kIpAny,       // 0x0800 or 0x86dd
    kIpAnyOrArp,  // 0x0800, 0x86dd or 0x0806
    kIpv6,        // 0x86dd
    kArp,         // 0x0806
    kTransport,   // IPv4/IPv6 and nw_proto 6, 17 or 132
    kTcp, kUdp, kSctp,
    kIcmp,        // (0x0800, nw_proto 1) or (0x86dd, nw_proto 58)
    kIcmpv6,      // 0x86dd, nw_proto 58
};

bool prereqMet(const Match& match, Prereq prereq);
// "requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')".
std::string_view prereqText(Prereq prereq);

// The exact dl_type / nw_proto a match requires, if it requires one.
std::optional<std::uint16_t> exactDlType(const Match& match);
std::optional<std::uint8_t> exactNwProto(const Match& match);

// Accumulates match fields; checks conflicts as they come and prerequisites at the end.
class MatchBuilder {
public:
    explicit MatchBuilder(const PortResolver& resolver) : resolver_(resolver) {}

    // Applies `kv` if its key names a match field or shorthand; false if it names none.
    bool tryField(const KeyValue& kv);
    // Checks every field's prerequisites (first failure throws), normalises value &= mask.
    Match finish();

private:
    struct Use {
        std::string_view name;
        Prereq prereq;
        KeyValue kv;
    };
    struct Slot {
        std::size_t offset;
        std::size_t size;
    };

    void setBytes(const KeyValue& kv, Slot slot, const void* value, const void* mask);
    template <typename T>
    void setScalar(const KeyValue& kv, std::size_t offset, T value, T mask) {
        setBytes(kv, Slot{offset, sizeof(T)}, &value, &mask);
    }
    std::uint8_t* bytesOf(Match& m, bool mask, std::size_t offset);
    void applyShorthand(const KeyValue& kv, std::uint16_t dlType, std::optional<std::uint8_t> proto);
    void applyVlan(const KeyValue& kv, std::string_view name);
    void applyMacField(const KeyValue& kv, std::size_t offset);
    void applyIpv4Field(const KeyValue& kv, std::size_t offset);
    void applyIpv6Field(const KeyValue& kv, std::size_t offset);
    void applyTos(const KeyValue& kv, std::string_view name);
    bool applyNumeric(const KeyValue& kv, std::string_view name);

    const PortResolver& resolver_;
    Match match_;
    std::vector<Use> uses_;
    std::map<std::size_t, KeyValue> owners_;  // slot offset -> the token that last set it
};

// Offset used for Match::metadata in MatchBuilder's slots (beyond FlowKey).
inline constexpr std::size_t kMetadataSlot = sizeof(dp::FlowKey);

// Parses the text after "actions=" (starting at `offset` in the whole text) for a rule in
// `table` (kTableAll: unknown) whose match is `match`. Empty text or "drop" -> {kDrop}.
ActionList parseActionList(std::string_view text, std::size_t offset, const Match& match,
                           std::uint8_t table, const PortResolver& resolver);

}  // namespace vs::ofproto::parse_detail
