#include "vswitchd/tunnels.h"

#include <arpa/inet.h>

#include <algorithm>
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

std::optional<std::string> parseVxlanOptions(const StringMap& o, dp::VxlanConfig& c) {
    static const char* known[] = {"remote_ip", "key", "local_ip", "dst_port", "tos", "ttl", "flood_remotes"};
    for (const auto& [k, v] : o) {
        bool ok = false;
        for (const char* n : known) ok |= k == n;
        if (!ok) return "unknown vxlan option '" + k + "'";
    }
    auto r = o.find("remote_ip");
    if (r == o.end()) return std::string("vxlan interface requires option remote_ip");
    if (r->second == "flow") c.remote_flow = true;
    else if (auto e = ipOption(o, "remote_ip", c.remote_ip)) return e;
    if (auto e = ipOption(o, "local_ip", c.local_ip)) return e;
    auto k = o.find("key");
    if (k != o.end() && k->second == "flow") {
        c.key_flow = true;
    } else {
        long vni = 0;
        if (auto e = intOption(o, "key", 0, 0xffffff, vni)) return e;
        c.vni = static_cast<std::uint32_t>(vni);
    }
    long port = dp::kVxlanPort, tos = 0, ttl = 0;
    if (auto e = intOption(o, "dst_port", 1, 65535, port)) return e;
    if (auto e = intOption(o, "tos", 0, 255, tos)) return e;
    if (auto e = intOption(o, "ttl", 1, 255, ttl)) return e;
    if (o.count("flood_remotes")) {
        if (!c.remote_flow) return std::string("option flood_remotes requires remote_ip=flow");
        if (c.key_flow) return std::string("option flood_remotes requires a fixed key, not key=flow");
        std::string err;
        if (parseFloodRemotes(o, &err).empty()) return err;
    }
    c.dst_port = static_cast<std::uint16_t>(port);
    c.tos = static_cast<int>(tos);
    c.ttl = static_cast<int>(ttl);
    return std::nullopt;
}

TunnelSockets::~TunnelSockets() {
    for (auto& [k, s] : sockets_) dp_.removePort(s.dp_no);
}

std::optional<std::string> TunnelSockets::attach(const dp::VxlanConfig& cfg, std::uint32_t dp_port,
                                                 std::shared_ptr<dp::Port> port) {
    SockKey key{cfg.local_ip, cfg.dst_port};
    if (!sockets_.count(key)) {
        std::error_code ec;
        auto s = dp::VxlanSocket::create(cfg.local_ip, cfg.dst_port, ec);
        if (!s) {
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &cfg.local_ip, ip, sizeof ip);
            return "cannot receive VXLAN on UDP " + std::string(ip) + ":" + std::to_string(cfg.dst_port) + " (" +
                   ec.message() + ")";
        }
        std::shared_ptr<dp::VxlanSocket> shared(std::move(s));
        sockets_[key] = Sock{shared, dp_.addPort(shared)};
    }
    members_[dp_port] = Member{key, cfg.remote_flow ? 0u : cfg.remote_ip, cfg.key_flow ? dp::kAnyVni : cfg.vni,
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

// Every socket on a UDP port gets the demux of every tunnel on that port: the kernel hands a
// datagram to the most specific bound socket (local_ip over the wildcard), whichever tunnel it is for.
void TunnelSockets::publish(const SockKey& k) {
    auto d = std::make_shared<dp::VxlanDemux>();
    for (const auto& [no, m] : members_)
        if (m.sock.second == k.second) d->add(m.remote, m.vni, no, m.port);
    for (auto& [key, s] : sockets_)
        if (key.second == k.second) s.socket->setDemux(d);
}

}  // namespace vs::vswitchd
