// ovs-ofctl dump-flows rendering of matches, actions and flow_mods (ofp_print.h).
#include "ofproto/ofp_print.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <optional>

namespace vs::ofproto {
namespace {

template <typename... Args>
std::string fmt(const char* f, Args... args) {
    char buf[128];
    const int n = std::snprintf(buf, sizeof buf, f, args...);
    return std::string(buf, n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string hex64(std::uint64_t v) { return fmt("0x%" PRIx64, v); }

std::string macText(const std::uint8_t* m) {
    return fmt("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

bool allOnes(const std::uint8_t* m, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (m[i] != 0xff) return false;
    return true;
}

bool allZero(const std::uint8_t* m, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (m[i] != 0) return false;
    return true;
}

// Number of leading one bits if `m` (n bytes) is a prefix mask, else nullopt.
std::optional<int> prefixLength(const std::uint8_t* m, std::size_t n) {
    int bits = 0;
    bool ended = false;
    for (std::size_t i = 0; i < n; ++i) {
        for (int b = 7; b >= 0; --b) {
            const bool one = (m[i] >> b) & 1;
            if (one && ended) return std::nullopt;
            if (one) ++bits;
            else ended = true;
        }
    }
    return bits;
}

std::string ipv4Text(std::uint32_t networkOrder) {
    char buf[INET_ADDRSTRLEN];
    in_addr a{networkOrder};
    return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "?";
}

std::string ipv6Text(const std::uint8_t* addr) {
    char buf[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, addr, buf, sizeof buf) ? buf : "?";
}

std::string masked16(std::uint16_t v, std::uint16_t m) {
    return m == 0xffff ? std::to_string(v) : fmt("0x%04x/0x%04x", v, m);
}

std::string masked64(std::uint64_t v, std::uint64_t m) {
    return m == UINT64_MAX ? hex64(v) : hex64(v) + "/" + hex64(m);
}

const char* reservedName(std::uint32_t port) {
    switch (port) {
        case kPortLocal: return "LOCAL";
        case kPortInPort: return "IN_PORT";
        case kPortNormal: return "NORMAL";
        case kPortFlood: return "FLOOD";
        case kPortAll: return "ALL";
        case kPortController: return "CONTROLLER";
        case kPortNone: return "ANY";
        case kPortTable: return "TABLE";
        default: return nullptr;
    }
}

// True when `name` reads back as a port name (not a number, reserved word or syntax).
bool safeName(const std::string& name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
    std::string l;
    for (char c : name) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* r : {"local", "in_port", "normal", "flood", "all", "controller", "none", "any", "table", "drop"})
        if (l == r) return false;
    return true;
}

class MatchPrinter {
public:
    MatchPrinter(const Match& m, const PortNamer& namer) : m_(m), k_(m.key), mk_(m.mask), namer_(namer) {
        if (mk_.dl_type == 0xffff) dl_ = k_.dl_type;
        if (mk_.nw_proto == 0xff) proto_ = k_.nw_proto;
    }
    std::string print();

private:
    void add(const std::string& s) {
        if (!out_.empty()) out_ += ',';
        out_ += s;
    }
    void shorthand();
    void vlan();
    void mac(const char* name, const std::uint8_t* v, const std::uint8_t* mask);
    void ipv4(const char* name, std::uint32_t v, std::uint32_t mask);
    void ipv6(const char* name, const std::uint8_t* v, const std::uint8_t* mask);
    void layer3();
    void layer4();

    const Match& m_;
    const dp::FlowKey& k_;
    const dp::FlowKey& mk_;
    const PortNamer& namer_;
    std::optional<std::uint16_t> dl_;
    std::optional<std::uint8_t> proto_;
    bool typePrinted_ = false;   // dl_type shown as a shorthand
    bool protoPrinted_ = false;  // nw_proto shown as a shorthand
    std::string out_;
};

void MatchPrinter::shorthand() {
    struct Short {
        std::uint16_t dl;
        std::uint8_t proto;
        const char* name;
    };
    static constexpr Short kShort[] = {
        {dp::kEthTypeIPv4, 1, "icmp"},  {dp::kEthTypeIPv4, 6, "tcp"},   {dp::kEthTypeIPv4, 17, "udp"},
        {dp::kEthTypeIPv4, 132, "sctp"}, {dp::kEthTypeIPv6, 58, "icmp6"}, {dp::kEthTypeIPv6, 6, "tcp6"},
        {dp::kEthTypeIPv6, 17, "udp6"}, {dp::kEthTypeIPv6, 132, "sctp6"},
    };
    if (!dl_) return;
    typePrinted_ = true;
    for (const auto& s : kShort) {
        if (s.dl == *dl_ && proto_ == s.proto) {
            protoPrinted_ = true;
            return add(s.name);
        }
    }
    if (*dl_ == dp::kEthTypeIPv4) add("ip");
    else if (*dl_ == dp::kEthTypeIPv6) add("ipv6");
    else if (*dl_ == dp::kEthTypeArp) add("arp");
    else typePrinted_ = false;
}

void MatchPrinter::vlan() {
    const std::uint16_t v = k_.vlan_tci, m = mk_.vlan_tci;
    if (m == 0) return;
    const std::uint16_t vidMask = m & dp::kVlanVidMask, pcpMask = m & dp::kVlanPcpMask;
    if ((m & dp::kVlanCfi) && (v & dp::kVlanCfi) && (vidMask == 0 || vidMask == dp::kVlanVidMask) &&
        (pcpMask == 0 || pcpMask == dp::kVlanPcpMask) && (vidMask || pcpMask)) {
        if (vidMask) add("dl_vlan=" + std::to_string(v & dp::kVlanVidMask));
        if (pcpMask) add("dl_vlan_pcp=" + std::to_string(v >> 13));
    } else if (m == 0xffff) {
        add(fmt("vlan_tci=0x%04x", v));
    } else {
        add(fmt("vlan_tci=0x%04x/0x%04x", v, m));
    }
}

void MatchPrinter::mac(const char* name, const std::uint8_t* v, const std::uint8_t* mask) {
    if (allZero(mask, 6)) return;
    std::string s = std::string(name) + "=" + macText(v);
    if (!allOnes(mask, 6)) s += "/" + macText(mask);
    add(s);
}

void MatchPrinter::ipv4(const char* name, std::uint32_t v, std::uint32_t mask) {
    if (mask == 0) return;
    std::string s = std::string(name) + "=" + ipv4Text(v);
    const auto* mb = reinterpret_cast<const std::uint8_t*>(&mask);  // network order
    if (mask != 0xffffffff) {
        auto len = prefixLength(mb, 4);
        s += len ? "/" + std::to_string(*len) : "/" + ipv4Text(mask);
    }
    add(s);
}

void MatchPrinter::ipv6(const char* name, const std::uint8_t* v, const std::uint8_t* mask) {
    if (allZero(mask, 16)) return;
    std::string s = std::string(name) + "=" + ipv6Text(v);
    if (!allOnes(mask, 16)) {
        auto len = prefixLength(mask, 16);
        s += len ? "/" + std::to_string(*len) : "/" + ipv6Text(mask);
    }
    add(s);
}

void MatchPrinter::layer3() {
    const bool arp = dl_ == dp::kEthTypeArp;
    ipv6("ipv6_src", k_.ipv6_src, mk_.ipv6_src);
    ipv6("ipv6_dst", k_.ipv6_dst, mk_.ipv6_dst);
    if (mk_.ipv6_label == 0xfffff) add(fmt("ipv6_label=0x%05x", k_.ipv6_label));
    else if (mk_.ipv6_label) add(fmt("ipv6_label=0x%05x/0x%05x", k_.ipv6_label, mk_.ipv6_label));
    ipv4(arp ? "arp_spa" : "nw_src", k_.nw_src, mk_.nw_src);
    ipv4(arp ? "arp_tpa" : "nw_dst", k_.nw_dst, mk_.nw_dst);
    if (mk_.nw_proto && !protoPrinted_) add((arp ? "arp_op=" : "nw_proto=") + std::to_string(k_.nw_proto));
    mac("arp_sha", k_.arp_sha, mk_.arp_sha);
    mac("arp_tha", k_.arp_tha, mk_.arp_tha);
    if (mk_.nw_tos & 0xfc) add("nw_tos=" + std::to_string(k_.nw_tos & 0xfc));
    if (mk_.nw_tos & 0x03) add("nw_ecn=" + std::to_string(k_.nw_tos & 0x03));
    if (mk_.nw_ttl) add("nw_ttl=" + std::to_string(k_.nw_ttl));
}

void MatchPrinter::layer4() {
    const char* src = "tp_src";
    const char* dst = "tp_dst";
    if (dl_ == dp::kEthTypeIPv4 && proto_ == 1) src = "icmp_type", dst = "icmp_code";
    if (dl_ == dp::kEthTypeIPv6 && proto_ == 58) src = "icmpv6_type", dst = "icmpv6_code";
    if (mk_.tp_src) add(std::string(src) + "=" + masked16(k_.tp_src, mk_.tp_src));
    if (mk_.tp_dst) add(std::string(dst) + "=" + masked16(k_.tp_dst, mk_.tp_dst));
}

std::string MatchPrinter::print() {
    shorthand();
    if (mk_.tun_id) add("tun_id=" + masked64(k_.tun_id, mk_.tun_id));
    ipv4("tun_src", k_.tun_src, mk_.tun_src);
    ipv4("tun_dst", k_.tun_dst, mk_.tun_dst);
    if (m_.metadata_mask) add("metadata=" + masked64(m_.metadata, m_.metadata_mask));
    if (mk_.in_port) add("in_port=" + formatPort(k_.in_port, namer_));
    vlan();
    mac("dl_src", k_.dl_src, mk_.dl_src);
    mac("dl_dst", k_.dl_dst, mk_.dl_dst);
    if (mk_.dl_type && !typePrinted_) add(fmt("dl_type=0x%04x", k_.dl_type));
    layer3();
    layer4();
    return out_;
}

std::string setFieldText(const Action& a, const PortNamer&) {
    switch (a.field) {
        case Field::kEthSrc: return "mod_dl_src:" + macText(a.mac.data());
        case Field::kEthDst: return "mod_dl_dst:" + macText(a.mac.data());
        case Field::kVlanVid: return "set_field:" + std::to_string(a.value) + "->vlan_vid";
        case Field::kVlanPcp: return "set_field:" + std::to_string(a.value) + "->vlan_pcp";
        case Field::kIpv4Src: return "mod_nw_src:" + ipv4Text(htonl(static_cast<std::uint32_t>(a.value)));
        case Field::kIpv4Dst: return "mod_nw_dst:" + ipv4Text(htonl(static_cast<std::uint32_t>(a.value)));
        case Field::kIpTos: return "mod_nw_tos:" + std::to_string(a.value);
        case Field::kIpTtl: return "mod_nw_ttl:" + std::to_string(a.value);
        case Field::kTpSrc: return "mod_tp_src:" + std::to_string(a.value);
        case Field::kTpDst: return "mod_tp_dst:" + std::to_string(a.value);
        case Field::kTunId: return "set_tunnel:" + hex64(a.value);
        case Field::kMetadata: return "set_field:" + hex64(a.value) + "->metadata";
        case Field::kTunDst: return "set_field:" + ipv4Text(htonl(static_cast<std::uint32_t>(a.value))) + "->tun_dst";
    }
    return "set_field:?";
}

std::string resubmitText(const Action& a, const PortNamer& namer) {
    if (a.table == kTableAll) return "resubmit:" + formatPort(a.port, namer);
    const std::string port = a.port == kPortInPort ? "" : formatPort(a.port, namer);
    return "resubmit(" + port + "," + std::to_string(a.table) + ")";
}

std::string actionText(const Action& a, const PortNamer& namer) {
    switch (a.type) {
        case ActionType::kOutput: return "output:" + formatPort(a.port, namer);
        case ActionType::kNormal: return "NORMAL";
        case ActionType::kFlood: return "FLOOD";
        case ActionType::kAll: return "ALL";
        case ActionType::kInPort: return "IN_PORT";
        case ActionType::kLocal: return "LOCAL";
        case ActionType::kController: return "CONTROLLER:" + std::to_string(a.max_len);
        case ActionType::kDrop: return "drop";
        case ActionType::kSetVlanVid: return "mod_vlan_vid:" + std::to_string(a.value);
        case ActionType::kSetVlanPcp: return "mod_vlan_pcp:" + std::to_string(a.value);
        case ActionType::kStripVlan: return "strip_vlan";
        case ActionType::kPushVlan: return fmt("push_vlan:0x%04" PRIx64, a.value);
        case ActionType::kSetField: return setFieldText(a, namer);
        case ActionType::kDecTtl: return "dec_ttl";
        case ActionType::kResubmit: return resubmitText(a, namer);
        case ActionType::kGotoTable: return "goto_table:" + std::to_string(a.table);
        case ActionType::kClearActions: return "clear_actions";
        case ActionType::kWriteActions: return "write_actions()";  // formatActions prints its contents
        case ActionType::kSetQueue: return "set_queue:" + std::to_string(a.value);
        case ActionType::kPopQueue: return "pop_queue";
        case ActionType::kEnqueue: return "enqueue:" + formatPort(a.port, namer) + ":" + std::to_string(a.value);
        case ActionType::kGroup: return "group:" + std::to_string(a.value);
        case ActionType::kMeter: return "meter:" + std::to_string(a.value);
    }
    return "?";
}

}  // namespace

std::string formatPort(std::uint32_t ofport, const PortNamer& namer) {
    if (const char* r = reservedName(ofport)) return r;
    if (namer) {
        std::string name = namer(ofport);
        if (name == std::to_string(ofport) || safeName(name)) return name;
    }
    return std::to_string(ofport);
}

std::string formatMatch(const Match& match, const PortNamer& namer) { return MatchPrinter(match, namer).print(); }

std::string formatActions(const ActionList& actions, const PortNamer& namer) {
    if (actions.empty()) return "drop";
    std::string out;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const Action& a = actions[i];
        if (!out.empty()) out += ',';
        if (a.type != ActionType::kWriteActions) {
            out += actionText(a, namer);
            continue;
        }
        out += "write_actions(";
        for (std::size_t k = 0; k < a.value && i + 1 < actions.size(); ++k)
            out += (k ? "," : "") + actionText(actions[++i], namer);
        out += ")";
    }
    return out;
}

std::string formatFlowMod(const FlowMod& fm, const PortNamer& namer) {
    using C = FlowMod::Command;
    const bool del = fm.command == C::kDelete || fm.command == C::kDeleteStrict;
    const bool add = fm.command == C::kAdd;
    std::string s;
    if (fm.table != (add ? 0 : kTableAll)) s += "table=" + std::to_string(fm.table) + ", ";
    // A delete's cookie is only ever a filter (V/M); with mask 0 it still prints, so it reads back.
    if (fm.cookie_mask || (del && fm.cookie)) s += "cookie=" + hex64(fm.cookie) + "/" + hex64(fm.cookie_mask) + ", ";
    else if (fm.cookie && !del) s += "cookie=" + hex64(fm.cookie) + ", ";
    if (fm.idle_timeout) s += "idle_timeout=" + std::to_string(fm.idle_timeout) + ", ";
    if (fm.hard_timeout) s += "hard_timeout=" + std::to_string(fm.hard_timeout) + ", ";
    if (fm.send_flow_rem) s += "send_flow_rem ";
    if (fm.out_port != kPortNone) s += "out_port=" + formatPort(fm.out_port, namer) + ", ";
    std::string body = fm.priority != kDefaultPriority ? "priority=" + std::to_string(fm.priority) : "";
    const std::string match = formatMatch(fm.match, namer);
    if (!match.empty()) body += (body.empty() ? "" : ",") + match;
    s += body;
    if (del) {
        while (!s.empty() && (s.back() == ' ' || s.back() == ',')) s.pop_back();
        return s;
    }
    if (!s.empty() && s.back() != ' ') s += ' ';
    return s + "actions=" + formatActions(fm.actions, namer);
}

}  // namespace vs::ofproto
