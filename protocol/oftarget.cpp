#include "protocol/oftarget.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace vs::protocol {
namespace {

bool isIpv4(const std::string& s) {
    in_addr a;
    return inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool isIpv6(const std::string& s) {
    in6_addr a;
    return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool isHostName(std::string_view s) {
    if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    });
}

struct Parts {
    std::string host;
    bool bracketed = false;
    std::string_view port;
    bool hasPort = false;
};

// Splits "HOST[:PORT]" / "[V6][:PORT]" (active) or "PORT[:IP]" (passive, handled by the caller).
std::variant<Parts, std::string> splitHostPort(std::string_view s) {
    Parts p;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos) return std::string("unterminated '[' in IPv6 address");
        p.host = std::string(s.substr(1, close - 1));
        p.bracketed = true;
        s.remove_prefix(close + 1);
        if (s.empty()) return p;
        if (s.front() != ':') return std::string("expected ':' after ']'");
        p.port = s.substr(1);
        p.hasPort = true;
        return p;
    }
    auto colon = s.find(':');
    p.host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) {
        p.port = s.substr(colon + 1);
        p.hasPort = true;
    }
    return p;
}

std::optional<std::string> parsePort(std::string_view text, std::uint16_t& out) {
    if (text.empty()) return std::nullopt;  // default
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    bool digits = std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || ec != std::errc() || end != text.data() + text.size())
        return "invalid port '" + std::string(text) + "': expected an integer in 1..65535";
    if (v < 1 || v > 65535) return "port " + std::string(text) + " is outside 1..65535";
    out = static_cast<std::uint16_t>(v);
    return std::nullopt;
}

std::optional<std::string> parseActive(std::string_view rest, Target& t, std::string_view kind) {
    auto split = splitHostPort(rest);
    if (auto* e = std::get_if<std::string>(&split)) return *e;
    Parts& p = std::get<Parts>(split);
    std::string expected = " (expected " + std::string(kind) + ":HOST[:PORT])";
    if (p.host.empty()) return "missing host" + expected;
    if (p.bracketed ? !isIpv6(p.host) : !(isIpv4(p.host) || isHostName(p.host)))
        return "invalid host '" + p.host + "'" + expected;
    if (p.hasPort && p.port.empty()) return "missing port after ':'" + expected;
    t.host = p.host;
    return parsePort(p.port, t.port);
}

std::optional<std::string> parsePassive(std::string_view rest, Target& t, std::string_view kind) {
    auto colon = rest.find(':');
    std::string_view port = rest.substr(0, colon);
    if (auto e = parsePort(port, t.port)) return e;
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view ip = rest.substr(colon + 1);
    std::string expected = " (expected " + std::string(kind) + ":[PORT][:IP])";
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') {
        t.host = std::string(ip.substr(1, ip.size() - 2));
        if (!isIpv6(t.host)) return "invalid IPv6 address '" + t.host + "'" + expected;
    } else {
        t.host = std::string(ip);
        if (!isIpv4(t.host)) return "invalid IP address '" + t.host + "'" + expected;
    }
    return std::nullopt;
}

}  // namespace

bool Target::hostIsAddress() const { return isIpv4(host) || isIpv6(host); }

std::string Target::canonical() const {
    static const char* names[] = {"tcp", "ssl", "ptcp", "pssl"};
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    std::string out = std::string(json ? "json:" : "") + names[static_cast<int>(kind)] + ":";
    if (active()) return out + h + ":" + std::to_string(port);
    out += std::to_string(port);
    return host.empty() ? out : out + ":" + h;
}

std::variant<Target, std::string> parseTarget(std::string_view whole) {
    return parseTarget(whole, kDefaultControllerPort, "controller target");
}

std::variant<Target, std::string> parseTarget(std::string_view whole, std::uint16_t default_port, std::string_view what) {
    Target t;
    t.port = default_port;
    std::string_view text = whole;
    if (text.starts_with("json:")) {
        t.json = true;
        text.remove_prefix(5);
    }
    auto colon = text.find(':');
    std::string_view kind = text.substr(0, colon);
    std::optional<std::string> problem;
    if (colon == std::string_view::npos) {
        problem = "expected tcp:HOST[:PORT], ssl:HOST[:PORT], ptcp:[PORT][:IP] or pssl:[PORT][:IP], "
                  "optionally prefixed json:";
    } else {
        std::string_view rest = text.substr(colon + 1);
        if (kind == "tcp" || kind == "ssl") {
            t.kind = kind == "tcp" ? Target::Kind::kTcp : Target::Kind::kSsl;
            problem = parseActive(rest, t, kind);
        } else if (kind == "ptcp" || kind == "pssl") {
            t.kind = kind == "ptcp" ? Target::Kind::kPtcp : Target::Kind::kPssl;
            problem = parsePassive(rest, t, kind);
        } else {
            problem = "unknown connection type '" + std::string(kind) +
                      "' (expected tcp:, ssl:, ptcp: or pssl:)";
        }
    }
    if (problem) return "invalid " + std::string(what) + " '" + std::string(whole) + "': " + *problem;
    return t;
}

}  // namespace vs::protocol
