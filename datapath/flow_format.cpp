// Text form of megaflows for `vsappctl dpif/dump-flows`, close to Open vSwitch's datapath flow
// syntax: only fields the mask covers are shown, partially masked ones as value/mask.
#include <arpa/inet.h>

#include <cstdio>

#include "datapath/flow_key.h"

namespace vs::dp {
namespace {

std::string hex(std::uint64_t v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
}
std::string ip4(std::uint32_t n) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &n, b, sizeof b);
    return b;
}
std::string mac(const std::uint8_t* m) {
    MacAddr a;
    std::memcpy(a.b.data(), m, 6);
    return a.toString();
}
bool allOnes(const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) if (p[i] != 0xff) return false;
    return true;
}
bool zero(const std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) if (p[i]) return false;
    return true;
}
// "name=value" or "name=value/mask"; nothing when the mask is zero.
template <typename T, typename F>
void field(std::string& s, const char* name, T v, T m, F fmt) {
    if (!m) return;
    if (!s.empty() && s.back() != '(') s += ",";
    s += std::string(name) + "=" + fmt(v);
    if (m != static_cast<T>(~T{})) s += "/" + fmt(m);
}
void group(std::string& out, const std::string& inner, const char* name) {
    if (inner.empty()) return;
    if (!out.empty()) out += ",";
    out += std::string(name) + "(" + inner + ")";
}

}  // namespace

std::string formatMegaflow(const FlowKey& k, const FlowKey& m) {
    std::string out;
    if (m.in_port) out += "in_port(" + std::to_string(k.in_port) + ")";
    std::string tun;
    field(tun, "tun_id", k.tun_id, m.tun_id, [](auto v) { return hex(v); });
    field(tun, "src", k.tun_src, m.tun_src, ip4);
    field(tun, "dst", k.tun_dst, m.tun_dst, ip4);
    group(out, tun, "tunnel");
    std::string eth;
    if (!zero(m.dl_src, 6)) eth += "src=" + mac(k.dl_src) + (allOnes(m.dl_src, 6) ? "" : "/" + mac(m.dl_src));
    if (!zero(m.dl_dst, 6)) eth += std::string(eth.empty() ? "" : ",") + "dst=" + mac(k.dl_dst) + (allOnes(m.dl_dst, 6) ? "" : "/" + mac(m.dl_dst));
    group(out, eth, "eth");
    std::string vlan;
    field(vlan, "tci", k.vlan_tci, m.vlan_tci, [](auto v) { return hex(v); });
    group(out, vlan, "vlan");
    if (m.dl_type) group(out, hex(k.dl_type), "eth_type");
    std::string l3;
    bool v4 = k.dl_type == kEthTypeIPv4 || k.dl_type == kEthTypeArp;  // nw_src/nw_dst mean IPv4 here
    if (v4) field(l3, "src", k.nw_src, m.nw_src, ip4);
    if (v4) field(l3, "dst", k.nw_dst, m.nw_dst, ip4);
    auto num = [](auto v) { return std::to_string(v); };
    field(l3, "proto", k.nw_proto, m.nw_proto, num);
    field(l3, "tos", k.nw_tos, m.nw_tos, num);
    field(l3, "ttl", k.nw_ttl, m.nw_ttl, num);
    field(l3, "frag", k.nw_frag, m.nw_frag, num);
    group(out, l3, k.dl_type == kEthTypeArp ? "arp" : k.dl_type == kEthTypeIPv6 ? "ipv6" : "ipv4");
    std::string l4;
    field(l4, "src", k.tp_src, m.tp_src, num);
    field(l4, "dst", k.tp_dst, m.tp_dst, num);
    group(out, l4, "l4");
    return out.empty() ? "any" : out;
}

}  // namespace vs::dp
