// Tokenizer, scalar/address/port parsers and match prerequisites of the flow syntax parser
// (ofp_parse_detail.h).
#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "ofproto/ofp_parse_detail.h"

namespace vs::ofproto::parse_detail {
namespace {

bool isSeparator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

KeyValue splitKeyValue(std::string_view whole, std::size_t offset) {
    KeyValue kv;
    kv.whole = whole;
    kv.offset = offset;
    const std::size_t eq = whole.find('=');
    kv.key = whole.substr(0, eq);
    if (eq != std::string_view::npos) {
        kv.hasValue = true;
        kv.value = whole.substr(eq + 1);
        kv.valueOffset = offset + eq + 1;
    } else {
        kv.valueOffset = offset + whole.size();
    }
    return kv;
}

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct ReservedName {
    std::string_view name;
    std::uint32_t port;
};

constexpr ReservedName kReserved[] = {
    {"local", kPortLocal}, {"in_port", kPortInPort},       {"normal", kPortNormal},
    {"flood", kPortFlood}, {"all", kPortAll},              {"controller", kPortController},
    {"none", kPortNone},   {"any", kPortNone},
};

}  // namespace

void fail(std::string message, std::size_t offset, std::string_view token) {
    throw Failure{std::move(message), offset, std::string(token)};
}

void badValue(const KeyValue& kv, std::string_view problem) {
    fail(std::string(kv.whole) + ": " + std::string(problem), kv.valueOffset, kv.value);
}

FlowTokens tokenize(std::string_view text) {
    FlowTokens out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (isSeparator(text[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && !isSeparator(text[end])) ++end;
        std::string_view tok = text.substr(i, end - i);
        if (tok.starts_with("actions=")) {
            std::string_view rest = text.substr(i);
            while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.remove_suffix(1);
            out.actions = splitKeyValue(rest, i);
            return out;
        }
        out.fields.push_back(splitKeyValue(tok, i));
        i = end;
    }
    return out;
}

std::optional<std::uint64_t> parseNumber(std::string_view s) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    }
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        int d = base == 16 ? hexDigit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
        if (d < 0) return std::nullopt;
        if (v > (UINT64_MAX - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base)) return std::nullopt;
        v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
    }
    return v;
}

std::uint64_t numberIn(const KeyValue& kv, std::string_view text, std::uint64_t max) {
    auto v = parseNumber(text);
    if (!v) badValue(kv, "invalid number '" + std::string(text) + "'");
    if (*v > max) badValue(kv, "out of range (0.." + std::to_string(max) + ")");
    return *v;
}

std::optional<std::array<std::uint8_t, 6>> parseMac(std::string_view s) {
    std::array<std::uint8_t, 6> mac{};
    std::size_t pos = 0;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0) {
            if (pos >= s.size() || s[pos] != ':') return std::nullopt;
            ++pos;
        }
        int digits = 0, v = 0;
        while (pos < s.size() && digits < 2 && hexDigit(s[pos]) >= 0) v = v * 16 + hexDigit(s[pos++]), ++digits;
        if (digits == 0) return std::nullopt;
        mac[i] = static_cast<std::uint8_t>(v);
    }
    if (pos != s.size()) return std::nullopt;
    return mac;
}

std::optional<std::uint32_t> parseIpv4(std::string_view s) {
    if (s.size() > 15) return std::nullopt;
    std::string str(s);
    in_addr a{};
    if (inet_pton(AF_INET, str.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

std::optional<std::array<std::uint8_t, 16>> parseIpv6(std::string_view s) {
    if (s.size() > 45) return std::nullopt;
    std::string str(s);
    std::array<std::uint8_t, 16> out{};
    if (inet_pton(AF_INET6, str.c_str(), out.data()) != 1) return std::nullopt;
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::uint32_t> reservedPort(std::string_view name) {
    const std::string l = lower(name);
    for (const auto& r : kReserved)
        if (r.name == l) return r.port;
    return std::nullopt;
}

std::optional<std::uint32_t> lookupPort(std::string_view text, const PortResolver& resolver, std::string& problem) {
    if (text.empty()) {
        problem = "missing port";
        return std::nullopt;
    }
    if (auto r = reservedPort(text)) return r;
    if (auto v = parseNumber(text)) {
        if ((*v >= 1 && *v < kPortMax) || (*v >= kPortInPort && *v <= kPortNone)) return static_cast<std::uint32_t>(*v);
        problem = "invalid port number '" + std::string(text) + "' (1..65279 or a reserved port)";
        return std::nullopt;
    }
    if (resolver) {
        if (auto p = resolver(text)) return p;
    }
    problem = "unknown port '" + std::string(text) + "'";
    return std::nullopt;
}

std::optional<std::uint16_t> exactDlType(const Match& match) {
    if (match.mask.dl_type != 0xffff) return std::nullopt;
    return match.key.dl_type;
}

std::optional<std::uint8_t> exactNwProto(const Match& match) {
    if (match.mask.nw_proto != 0xff) return std::nullopt;
    return match.key.nw_proto;
}

bool prereqMet(const Match& match, Prereq prereq) {
    const auto dl = exactDlType(match);
    const auto proto = exactNwProto(match);
    const bool v4 = dl == dp::kEthTypeIPv4, v6 = dl == dp::kEthTypeIPv6, arp = dl == dp::kEthTypeArp;
    const bool ipAny = v4 || v6;
    switch (prereq) {
        case Prereq::kNone: return true;
        case Prereq::kIpv4: return v4;
        case Prereq::kIpv4OrArp: return v4 || arp;
        case Prereq::kIpAny: return ipAny;
        case Prereq::kIpAnyOrArp: return ipAny || arp;
        case Prereq::kIpv6: return v6;
        case Prereq::kArp: return arp;
        case Prereq::kTransport: return ipAny && (proto == 6 || proto == 17 || proto == 132);
        case Prereq::kTcp: return ipAny && proto == 6;
        case Prereq::kUdp: return ipAny && proto == 17;
        case Prereq::kSctp: return ipAny && proto == 132;
        case Prereq::kIcmp: return (v4 && proto == 1) || (v6 && proto == 58);
        case Prereq::kIcmpv6: return v6 && proto == 58;
    }
    return false;
}

std::string_view prereqText(Prereq prereq) {
    switch (prereq) {
        case Prereq::kNone: return "";
        case Prereq::kIpv4: return "requires dl_type=0x0800 (add 'ip')";
        case Prereq::kIpv4OrArp: return "requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')";
        case Prereq::kIpAny: return "requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6')";
        case Prereq::kIpAnyOrArp: return "requires dl_type=0x0800, 0x86dd or 0x0806 (add 'ip', 'ipv6' or 'arp')";
        case Prereq::kIpv6: return "requires dl_type=0x86dd (add 'ipv6')";
        case Prereq::kArp: return "requires dl_type=0x0806 (add 'arp')";
        case Prereq::kTransport: return "requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')";
        case Prereq::kTcp: return "requires nw_proto=6 (add 'tcp' or 'tcp6')";
        case Prereq::kUdp: return "requires nw_proto=17 (add 'udp' or 'udp6')";
        case Prereq::kSctp: return "requires nw_proto=132 (add 'sctp' or 'sctp6')";
        case Prereq::kIcmp: return "requires nw_proto=1 (add 'icmp', or 'icmp6' for ICMPv6)";
        case Prereq::kIcmpv6: return "requires dl_type=0x86dd and nw_proto=58 (add 'icmp6')";
    }
    return "";
}

}  // namespace vs::ofproto::parse_detail
