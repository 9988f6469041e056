// IEEE 802.1D-2004 RSTP (see rstp.h): Port Protocol Migration (17.24), Bridge Detection (17.25),
// Port Transmit (17.26) and the BPDU codec (9.3).
#include <algorithm>

#include "ofproto/rstp.h"
#include "ofproto/stp.h"

namespace vs::ofproto {
namespace {

constexpr std::size_t kBpduOffset = 17;  // Ethernet (14) + LLC (3)
constexpr std::size_t kConfigSize = 35, kTcnSize = 4, kRstSize = 36;
constexpr std::uint8_t kTypeConfig = 0x00, kTypeTcn = 0x80, kTypeRst = 0x02;

std::uint64_t get(std::span<const std::uint8_t> f, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | f[at + i];
    return v;
}
void put(std::vector<std::uint8_t>& f, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) f.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint16_t to256(std::int64_t ms) { return static_cast<std::uint16_t>(std::clamp<std::int64_t>(ms * 256 / 1000, 0, 0xffff)); }

std::uint8_t roleBits(RstpRole r) {
    switch (r) {
    case RstpRole::kAlternate:
    case RstpRole::kBackup: return 1;
    case RstpRole::kRoot: return 2;
    case RstpRole::kDesignated: return 3;
    case RstpRole::kDisabled: return 0;
    }
    return 0;
}

}  // namespace

std::optional<RstpBpdu> parseRstpBpdu(std::span<const std::uint8_t> f, std::string* why) {
    auto fail = [why](const char* w) -> std::optional<RstpBpdu> {
        if (why) *why = w;
        return std::nullopt;
    };
    if (f.size() < kBpduOffset + kTcnSize) return fail("frame too short for a BPDU");
    if (get(f, 12, 2) >= 0x600) return fail("not an 802.3 frame with an LLC header (Ethertype, not length)");
    if (f[14] != 0x42 || f[15] != 0x42 || f[16] != 0x03) return fail("LLC header is not 42 42 03 (spanning tree, UI)");
    if (get(f, kBpduOffset, 2) != 0) return fail("protocol identifier is not 0 (spanning tree)");
    std::uint8_t version = f[kBpduOffset + 2], type = f[kBpduOffset + 3];
    RstpBpdu b;
    if (type == kTypeTcn) {
        b.type = RstpBpdu::Type::kTcn;
        return b;
    }
    if (type == kTypeConfig) {
        if (f.size() < kBpduOffset + kConfigSize) return fail("Configuration BPDU shorter than 35 octets");
        b.type = RstpBpdu::Type::kConfig;
    } else if (type == kTypeRst) {
        if (version < 2) return fail("RST BPDU with a protocol version below 2");
        if (f.size() < kBpduOffset + kRstSize) return fail("RST BPDU shorter than 36 octets");
        b.type = RstpBpdu::Type::kRst;
    } else {
        return fail("unknown BPDU type");
    }
    std::size_t o = kBpduOffset + 4;
    std::uint8_t flags = f[o];
    b.tc = flags & 0x01;
    b.tc_ack = flags & 0x80;
    if (b.type == RstpBpdu::Type::kRst) {
        b.proposal = flags & 0x02;
        static constexpr RstpRole kRoles[] = {RstpRole::kDisabled, RstpRole::kAlternate, RstpRole::kRoot,
                                              RstpRole::kDesignated};
        b.role = kRoles[(flags >> 2) & 3];
        b.learning = flags & 0x10;
        b.forwarding = flags & 0x20;
        b.agreement = flags & 0x40;
        b.tc_ack = false;
    }
    b.root_id = get(f, o + 1, 8);
    b.root_path_cost = static_cast<std::uint32_t>(get(f, o + 9, 4));
    b.bridge_id = get(f, o + 13, 8);
    b.port_id = static_cast<std::uint16_t>(get(f, o + 21, 2));
    b.message_age = static_cast<std::uint16_t>(get(f, o + 23, 2));
    b.max_age = static_cast<std::uint16_t>(get(f, o + 25, 2));
    b.hello_time = static_cast<std::uint16_t>(get(f, o + 27, 2));
    b.forward_delay = static_cast<std::uint16_t>(get(f, o + 29, 2));
    if (b.message_age >= b.max_age) return fail("Message Age not below Max Age (802.1D 9.3.4)");
    return b;
}

std::vector<std::uint8_t> buildRstpBpdu(const dp::MacAddr& src, const RstpBpdu& b) {
    std::vector<std::uint8_t> f(kStpMac.b.begin(), kStpMac.b.end());
    f.insert(f.end(), src.b.begin(), src.b.end());
    std::size_t body = b.type == RstpBpdu::Type::kTcn ? kTcnSize : b.type == RstpBpdu::Type::kConfig ? kConfigSize : kRstSize;
    put(f, 3 + body, 2);                                             // 802.3 length: LLC + BPDU
    f.insert(f.end(), {0x42, 0x42, 0x03, 0x00, 0x00});               // LLC, protocol identifier
    f.push_back(b.type == RstpBpdu::Type::kRst ? 2 : 0);             // version
    f.push_back(b.type == RstpBpdu::Type::kTcn ? kTypeTcn : b.type == RstpBpdu::Type::kConfig ? kTypeConfig : kTypeRst);
    if (b.type != RstpBpdu::Type::kTcn) {
        std::uint8_t flags = (b.tc ? 0x01 : 0);
        if (b.type == RstpBpdu::Type::kRst)
            flags |= (b.proposal ? 0x02 : 0) | (roleBits(b.role) << 2) | (b.learning ? 0x10 : 0) |
                     (b.forwarding ? 0x20 : 0) | (b.agreement ? 0x40 : 0);
        else
            flags |= b.tc_ack ? 0x80 : 0;
        f.push_back(flags);
        put(f, b.root_id, 8);
        put(f, b.root_path_cost, 4);
        put(f, b.bridge_id, 8);
        put(f, b.port_id, 2);
        put(f, b.message_age, 2);
        put(f, b.max_age, 2);
        put(f, b.hello_time, 2);
        put(f, b.forward_delay, 2);
        if (b.type == RstpBpdu::Type::kRst) f.push_back(0);  // Version 1 Length
    }
    if (f.size() < 60) f.resize(60, 0);
    return f;
}

// 17.24 Port Protocol Migration: CHECKING_RSTP, SELECTING_STP, SENSING.
bool Rstp::protocolMigration(Port& p) {
    using M = Port::Mig;
    auto checking = [&] {
        p.mig = M::kCheckingRstp;
        p.mcheck = false;
        p.send_rstp = rstpVersion();
        p.mdelay_while = kMigrateMs;
        return true;
    };
    switch (p.mig) {
    case M::kCheckingRstp:
        if (!p.enabled() && p.mdelay_while != kMigrateMs) return checking();
        if (p.mdelay_while != 0) return false;
        p.mig = M::kSensing;
        p.rcvd_rstp = p.rcvd_stp = false;
        return true;
    case M::kSelectingStp:
        if (p.mdelay_while != 0 && p.enabled() && !p.mcheck) return false;
        p.mig = M::kSensing;
        p.rcvd_rstp = p.rcvd_stp = false;
        return true;
    case M::kSensing:
        if (!p.enabled() || p.mcheck || (rstpVersion() && !p.send_rstp && p.rcvd_rstp)) return checking();
        if (p.send_rstp && p.rcvd_stp) {  // a legacy bridge: speak 802.1D-1998 to it
            p.mig = M::kSelectingStp;
            p.send_rstp = false;
            p.mdelay_while = kMigrateMs;
            return true;
        }
        return false;
    }
    return false;
}

// 17.25 Bridge Detection: an edge port is one that hears no BPDU.
bool Rstp::bridgeDetection(Port& p) {
    if (!p.oper_edge) {
        bool edge = (!p.enabled() && p.cfg.admin_edge) ||
                    (p.edge_delay_while == 0 && p.cfg.auto_edge && p.send_rstp && p.proposing);
        if (edge) p.oper_edge = true;
        return edge;
    }
    if (!p.enabled() && !p.cfg.admin_edge) {
        p.oper_edge = false;
        return true;
    }
    return false;
}

RstpBpdu Rstp::bpduOf(const Port& p, RstpBpdu::Type t) const {
    RstpBpdu b;
    b.type = t;
    b.root_id = p.designated_priority.root;
    b.root_path_cost = p.designated_priority.cost;
    b.bridge_id = p.designated_priority.bridge;
    b.port_id = p.designated_priority.port;
    b.message_age = to256(p.designated_times.message_age);
    b.max_age = to256(p.designated_times.max_age);
    b.hello_time = to256(p.designated_times.hello);
    b.forward_delay = to256(p.designated_times.forward_delay);
    b.tc = p.tc_while != 0;
    b.tc_ack = t == RstpBpdu::Type::kConfig && p.tc_ack;
    b.role = p.role;
    b.proposal = p.proposing;
    b.agreement = p.agree;
    b.learning = p.learning;
    b.forwarding = p.forwarding;
    return b;
}

// 17.26 Port Transmit: periodic (Hello Time) on designated ports, and whenever newInfo, at most
// Transmit Hold Count BPDUs a second; RST BPDUs, or towards a legacy bridge Configuration BPDUs
// (designated port) and TCN BPDUs (root port, while tcWhile runs).
bool Rstp::portTransmit(std::uint32_t id, Port& p) {
    if (!p.enabled() || !p.cfg.enable || p.updt_info || p.role == RstpRole::kDisabled) return false;
    if (p.hello_when == 0) {  // TRANSMIT_PERIODIC
        p.new_info = p.new_info || p.role == RstpRole::kDesignated || (p.role == RstpRole::kRoot && p.tc_while != 0);
        p.hello_when = kHelloMs;
    }
    if (!p.new_info || p.tx_count >= cfg_.transmit_hold_count) return false;
    std::optional<RstpBpdu> b;
    if (p.send_rstp) b = bpduOf(p, RstpBpdu::Type::kRst);
    else if (p.role == RstpRole::kDesignated) b = bpduOf(p, RstpBpdu::Type::kConfig);
    else if (p.role == RstpRole::kRoot && p.tc_while != 0) b = bpduOf(p, RstpBpdu::Type::kTcn);
    p.new_info = false;
    if (!b) return false;
    if (b->type == RstpBpdu::Type::kConfig && b->message_age >= b->max_age) return false;
    p.tc_ack = false;
    ++p.tx_count;
    ++p.tx;
    tx_.emplace_back(id, *b);
    return true;
}

}  // namespace vs::ofproto
