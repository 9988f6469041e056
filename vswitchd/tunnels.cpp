#include "vswitchd/tunnels.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace vs::vswitchd {
namespace {

std::optional<long> number(const std::string& s, long lo, long hi) {
    long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
    return v;
}

std::optional<std::string> ipOption(const StringMap& o, const char* name, std::uint32_t& out) {
    auto it = o.find(name);
    if (it == o.end()) return std::nullopt;
    in_addr a{};
    if (inet_pton(AF_INET, it->second.c_str(), &a) != 1)
        return std::string("invalid ") + name + " '" + it->second + "': expected an IPv4 address";
    out = a.s_addr;
    return std::nullopt;
}

std::optional<std::string> intOption(const StringMap& o, const char* name, long lo, long hi, long& out) {
    auto it = o.find(name);
    if (it == o.end()) return std::nullopt;
    auto v = number(it->second, lo, hi);
    if (!v) return std::string("invalid ") + name + " '" + it->second + "': expected an integer in " +
                  std::to_string(lo) + ".." + std::to_string(hi);
    out = *v;
    return std::nullopt;
}

}  // namespace

std::vector<std::uint32_t> parseFloodRemotes(const StringMap& o, std::string* error) {
    std::vector<std::uint32_t> out;
    auto it = o.find("flood_remotes");
    if (it == o.end()) return out;
    const std::string& v = it->second;
    for (std::size_t pos = 0; pos <= v.size();) {
        std::size_t comma = std::min(v.find(',', pos), v.size());
        std::string ip = v.substr(pos, comma - pos);
        in_addr a{};
        if (inet_pton(AF_INET, ip.c_str(), &a) != 1 || a.s_addr == 0) {
            if (error) *error = "invalid flood_remotes '" + v + "': expected IPv4 addresses separated by commas";
            return {};
        }
        out.push_back(a.s_addr);
        pos = comma + 1;
    }
    return out;
}

std::optional<dp::TunnelProto> tunnelProto(const std::string& type) {
    if (type == "vxlan") return dp::TunnelProto::kVxlan;
    if (type == "geneve") return dp::TunnelProto::kGeneve;
    if (type == "gre") return dp::TunnelProto::kGre;
    return std::nullopt;
}

namespace {
std::optional<std::string> checkKnown(const std::string& type, const StringMap& o, bool udp) {
    static const char* known[] = {"remote_ip", "key", "local_ip", "tos", "ttl", "csum", "flood_remotes", "dst_port"};
    for (const auto& [k, v] : o) {
        bool ok = false;
        for (const char* n : known) ok |= k == n && (udp || k != "dst_port");
        if (!ok) return "unknown " + type + " option '" + k + "'";
    }
    return std::nullopt;
}

std::optional<std::string> keyOption(const StringMap& o, bool gre, dp::TunnelConfig& c) {
    auto k = o.find("key");
    if (k == o.end()) return std::nullopt;
    c.key_present = true;
    if (k->second == "flow") {
        c.key_flow = true;
        return std::nullopt;
    }
    long key = 0;
    if (auto e = intOption(o, "key", 0, gre ? 0xffffffffl : 0xffffffl, key)) return e;
    c.key = static_cast<std::uint32_t>(key);
    return std::nullopt;
}
}  // namespace

std::optional<std::string> parseTunnelOptions(const std::string& type, const StringMap& o, dp::TunnelConfig& c) {
    auto proto = tunnelProto(type);
    if (!proto) return "interface type " + type + " is not a tunnel";
    c.proto = *proto;
    const bool udp = c.proto != dp::TunnelProto::kGre;
    if (auto e = checkKnown(type, o, udp)) return e;
    auto r = o.find("remote_ip");
    if (r == o.end()) return type + " interface requires option remote_ip";
    if (r->second == "flow") c.remote_flow = true;
    else if (auto e = ipOption(o, "remote_ip", c.remote_ip)) return e;
    if (auto e = ipOption(o, "local_ip", c.local_ip)) return e;
    if (auto e = keyOption(o, !udp, c)) return e;
    long port = c.proto == dp::TunnelProto::kGeneve ? dp::kGenevePort : dp::kVxlanPort, tos = 0, ttl = 0;
    if (auto e = intOption(o, "dst_port", 1, 65535, port)) return e;
    if (auto e = intOption(o, "tos", 0, 255, tos)) return e;
    if (auto e = intOption(o, "ttl", 1, 255, ttl)) return e;
    auto cs = o.find("csum");
    if (cs != o.end() && cs->second != "true" && cs->second != "false")
        return "invalid csum '" + cs->second + "': expected true or false";
    c.csum = cs != o.end() && cs->second == "true";
    if (o.count("flood_remotes")) {
        if (!c.remote_flow) return std::string("option flood_remotes requires remote_ip=flow");
        if (c.key_flow) return std::string("option flood_remotes requires a fixed key, not key=flow");
        std::string err;
        if (parseFloodRemotes(o, &err).empty()) return err;
    }
    c.dst_port = udp ? static_cast<std::uint16_t>(port) : 0;
    c.tos = static_cast<int>(tos);
    c.ttl = static_cast<int>(ttl);
    return std::nullopt;
}

TunnelSockets::~TunnelSockets() {
    for (auto& [k, s] : sockets_) dp_.removePort(s.dp_no);
}

std::optional<std::string> TunnelSockets::attach(const dp::TunnelConfig& cfg, std::uint32_t dp_port,
                                                 std::shared_ptr<dp::Port> port) {
    // GRE: one wildcard raw socket receives for every GRE port. The kernel gives each GRE packet to
    // every raw socket that matches it (it does not pick the most specific, as for UDP), so a
    // socket per local_ip beside a wildcard one would deliver each frame twice. Each port sends
    // through its own socket, bound to its local_ip (TunnelPort).
    const std::uint32_t rx_ip = cfg.proto == dp::TunnelProto::kGre ? 0u : cfg.local_ip;
    SockKey key{cfg.proto, rx_ip, cfg.dst_port};
    const char* proto = dp::tunnelProtoName(cfg.proto);
    for (const auto& [k, s] : sockets_)  // one UDP port, one protocol: a datagram says not which it is
        if (std::get<2>(k) == cfg.dst_port && cfg.dst_port && std::get<0>(k) != cfg.proto)
            return "UDP port " + std::to_string(cfg.dst_port) + " already carries " +
                   dp::tunnelProtoName(std::get<0>(k)) + ", cannot receive " + proto + " on it";
    if (!sockets_.count(key)) {
        std::error_code ec;
        auto s = dp::TunnelSocket::create(cfg.proto, rx_ip, cfg.dst_port, ec);
        if (!s) {
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &rx_ip, ip, sizeof ip);
            std::string where = cfg.proto == dp::TunnelProto::kGre
                                    ? std::string("IP protocol 47 on ") + ip
                                    : "UDP " + std::string(ip) + ":" + std::to_string(cfg.dst_port);
            std::string upper = proto;
            for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (cfg.proto == dp::TunnelProto::kGeneve) upper = "Geneve";
            return "cannot receive " + upper + " on " + where + " (" + ec.message() + ")";
        }
        std::shared_ptr<dp::TunnelSocket> shared(std::move(s));
        sockets_[key] = Sock{shared, dp_.addPort(shared)};
    }
    members_[dp_port] = Member{key, cfg.remote_flow ? 0u : cfg.remote_ip, cfg.key_flow ? dp::kAnyKey : cfg.key,
                               std::move(port)};
    publish(key);
    return std::nullopt;
}

void TunnelSockets::detach(std::uint32_t dp_port) {
    auto it = members_.find(dp_port);
    if (it == members_.end()) return;
    SockKey key = it->second.sock;
    members_.erase(it);
    publish(key);
}

void TunnelSockets::collect() {
    for (auto it = sockets_.begin(); it != sockets_.end();) {
        bool used = false;
        for (const auto& [no, m] : members_) used |= m.sock == it->first;
        if (used) { ++it; continue; }
        dp_.removePort(it->second.dp_no);  // closed once no poll thread holds it
        it = sockets_.erase(it);
    }
}

// Every socket of a protocol on a UDP port (GRE: every GRE socket) gets the demux of every tunnel
// there: the kernel hands a packet to the most specific bound socket (local_ip over the
// wildcard), whichever tunnel it is for.
void TunnelSockets::publish(const SockKey& k) {
    auto same = [&k](const SockKey& o) { return std::get<0>(o) == std::get<0>(k) && std::get<2>(o) == std::get<2>(k); };
    auto d = std::make_shared<dp::TunnelDemux>();
    for (const auto& [no, m] : members_)
        if (same(m.sock)) d->add(m.remote, m.key, no, m.port);
    for (auto& [key, s] : sockets_)
        if (same(key)) s.socket->setDemux(d);
}

}  // namespace vs::vswitchd
