// Controller connection targets, as Open vSwitch writes them (ovs-vsctl(8) "Controller
// Configuration"): the switch connects to `tcp:HOST[:PORT]` / `ssl:HOST[:PORT]`, or listens on
// `ptcp:[PORT][:IP]` / `pssl:[PORT][:IP]`. HOST is an IPv4 address, a host name, or an IPv6
// address in brackets ("[::1]"); IP (the address to listen on, default: all) is an IPv4 address
// or a bracketed IPv6 address. PORT is 1..65535 and defaults to 6653 (the IANA OpenFlow port).
// Such a target speaks binary OpenFlow 1.3, as in Open vSwitch. The prefix `json:` selects our
// JSON controller protocol instead (docs/controller.md): `json:tcp:HOST[:PORT]`, `json:pssl:...`.
// Shared by the daemon (config validation, connections), vsctl and vs-controller.
//
// Thread-safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace vs::protocol {

inline constexpr std::uint16_t kDefaultControllerPort = 6653;

struct Target {
    enum class Kind { kTcp, kSsl, kPtcp, kPssl };
    Kind kind = Kind::kTcp;
    std::string host;  // active: the peer (name or address, without brackets); passive: bind address, "" = any
    std::uint16_t port = kDefaultControllerPort;
    bool json = false;  // the json: prefix: the JSON dialect instead of OpenFlow 1.3

    bool active() const { return kind == Kind::kTcp || kind == Kind::kSsl; }
    bool tls() const { return kind == Kind::kSsl || kind == Kind::kPssl; }
    // True when `host` is an IPv4 or IPv6 address literal (not a name).
    bool hostIsAddress() const;
    // Canonical text with every default spelled out: "tcp:127.0.0.1:6653", "pssl:6653",
    // "ptcp:6653:127.0.0.1", "ssl:[::1]:6653", "json:pssl:6653".
    std::string canonical() const;
    bool operator==(const Target&) const = default;
};

// Parses a target. On failure returns the complete message, e.g. "invalid controller target
// 'tcp:': missing host (expected tcp:HOST[:PORT])" or "invalid controller target
// 'tcp:10.0.0.1:70000': port 70000 is outside 1..65535".
std::variant<Target, std::string> parseTarget(std::string_view text);
// The same syntax for another service: `default_port` when none is given, `what` names the
// target in messages ("OVSDB remote").
std::variant<Target, std::string> parseTarget(std::string_view text, std::uint16_t default_port, std::string_view what);

}  // namespace vs::protocol
