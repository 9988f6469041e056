// LACP state machines and LACPDU codec (IEEE 802.1AX-2014 section 6.4). See lacp.h.
#include "ofproto/lacp.h"

#include <algorithm>
#include <tuple>

namespace vs::ofproto {
namespace {

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v & 0xff);
}

// Actor/Partner Information TLV body at `p` (after type and length): 18 octets used.
LacpPortInfo readInfo(const std::uint8_t* p) {
    LacpPortInfo i;
    i.system_priority = get16(p);
    std::copy(p + 2, p + 8, i.system.b.begin());
    i.key = get16(p + 8);
    i.port_priority = get16(p + 10);
    i.port = get16(p + 12);
    i.state = p[14];
    return i;
}

void writeInfo(std::uint8_t* p, std::uint8_t type, const LacpPortInfo& i) {
    p[0] = type;
    p[1] = 20;
    put16(p + 2, i.system_priority);
    std::copy(i.system.b.begin(), i.system.b.end(), p + 4);
    put16(p + 10, i.key);
    put16(p + 12, i.port_priority);
    put16(p + 14, i.port);
    p[16] = i.state;
}

bool fail(std::string* why, const char* msg) {
    if (why) *why = msg;
    return false;
}

bool checkFrame(std::span<const std::uint8_t> f, std::string* why) {
    if (f.size() < 14) return fail(why, "shorter than an Ethernet header");
    std::uint16_t type = get16(f.data() + 12);
    if (type == 0x8100 || type == 0x88a8) return fail(why, "VLAN-tagged (LACPDUs are untagged)");
    if (type != kEthTypeSlowProtocols) return fail(why, "not a Slow Protocols frame (Ethertype 0x8809)");
    if (f.size() < kLacpduFrameSize) return fail(why, "shorter than 110 octets after the Ethertype");
    const std::uint8_t* p = f.data() + 14;
    if (p[0] != kSlowSubtypeLacp) return fail(why, "Slow Protocols subtype is not LACP (1)");
    if (p[2] != 1 || p[3] != 20) return fail(why, "bad Actor Information TLV (type 1, length 20)");
    if (p[22] != 2 || p[23] != 20) return fail(why, "bad Partner Information TLV (type 2, length 20)");
    return true;
}

}  // namespace

std::string formatLacpState(std::uint8_t s) {
    static const char* const kNames[] = {"activity",   "timeout",      "aggregation", "synchronized",
                                         "collecting", "distributing", "defaulted",   "expired"};
    std::string out;
    for (int i = 0; i < 8; ++i)
        if (s & (1u << i)) out += (out.empty() ? "" : " ") + std::string(kNames[i]);
    return out;
}

const char* toString(LacpRxState s) {
    switch (s) {
    case LacpRxState::kInitialize: return "initialize";
    case LacpRxState::kPortDisabled: return "port_disabled";
    case LacpRxState::kExpired: return "expired";
    case LacpRxState::kDefaulted: return "defaulted";
    case LacpRxState::kCurrent: return "current";
    }
    return "?";
}

const char* toString(LacpMuxState s) {
    switch (s) {
    case LacpMuxState::kDetached: return "detached";
    case LacpMuxState::kWaiting: return "waiting";
    case LacpMuxState::kAttached: return "attached";
    case LacpMuxState::kCollectingDistributing: return "collecting_distributing";
    }
    return "?";
}

std::optional<Lacpdu> parseLacpdu(std::span<const std::uint8_t> frame, std::string* why) {
    if (!checkFrame(frame, why)) return std::nullopt;
    const std::uint8_t* p = frame.data() + 14;
    Lacpdu pdu;
    pdu.version = p[1];
    pdu.actor = readInfo(p + 4);
    pdu.partner = readInfo(p + 24);
    if (p[42] == 3 && p[43] == 16) pdu.collector_max_delay = get16(p + 44);
    return pdu;
}

std::vector<std::uint8_t> buildLacpdu(const dp::MacAddr& src, const Lacpdu& pdu) {
    std::vector<std::uint8_t> f(kLacpduFrameSize, 0);
    std::copy(kSlowProtocolsMac.b.begin(), kSlowProtocolsMac.b.end(), f.begin());
    std::copy(src.b.begin(), src.b.end(), f.begin() + 6);
    put16(&f[12], kEthTypeSlowProtocols);
    std::uint8_t* p = &f[14];
    p[0] = kSlowSubtypeLacp;
    p[1] = 1;  // version 1
    writeInfo(p + 2, 1, pdu.actor);
    writeInfo(p + 22, 2, pdu.partner);
    p[42] = 3;  // Collector Information
    p[43] = 16;
    put16(p + 44, pdu.collector_max_delay);
    // Terminator TLV (type 0, length 0) and 50 reserved octets are already zero.
    return f;
}

// ---- state machines -------------------------------------------------------------------------

LacpPortInfo Lacp::actorInfo(const Member& m) const {
    LacpPortInfo a{cfg_.system_priority, cfg_.system, cfg_.key, m.priority, m.port, 0};
    std::uint8_t s = kLacpAggregation;
    if (cfg_.active) s |= kLacpActivity;
    if (cfg_.fast) s |= kLacpTimeout;
    if (m.mux == LacpMuxState::kAttached || m.mux == LacpMuxState::kCollectingDistributing) s |= kLacpSync;
    if (m.mux == LacpMuxState::kCollectingDistributing) s |= kLacpCollecting | kLacpDistributing;
    if (m.defaulted) s |= kLacpDefaulted;
    if (m.rx == LacpRxState::kExpired) s |= kLacpExpired;
    a.state = s;
    return a;
}

// recordDefault (section 6.4.9): the administrative partner values (none: all zero).
void Lacp::recordDefault(Member& m) {
    m.partner = LacpPortInfo{};
    m.defaulted = true;
}

// Receive machine EXPIRED state (section 6.4.12).
void Lacp::enterExpired(Member& m, std::int64_t now) {
    m.rx = LacpRxState::kExpired;
    m.partner.state = static_cast<std::uint8_t>((m.partner.state & ~kLacpSync) | kLacpTimeout);
    m.current_while = now + kShortTimeoutMs;
}

void Lacp::runReceive(Member& m, std::int64_t now) {
    if (!m.enabled) {
        if (m.rx != LacpRxState::kPortDisabled) {
            m.rx = LacpRxState::kPortDisabled;
            m.partner.state &= static_cast<std::uint8_t>(~kLacpSync);
            m.current_while = 0;
        }
        return;
    }
    if (m.rx == LacpRxState::kPortDisabled || m.rx == LacpRxState::kInitialize) {
        enterExpired(m, now);
    } else if (m.rx == LacpRxState::kCurrent && now >= m.current_while) {
        enterExpired(m, now);
    } else if (m.rx == LacpRxState::kExpired && now >= m.current_while) {
        m.rx = LacpRxState::kDefaulted;  // update_Default_Selected + recordDefault
        m.selected = false;
        recordDefault(m);
        m.current_while = 0;
    }
}

// Selection logic (section 6.4.14), one aggregator per bond: the lead is the member with a
// partner whose (system priority, system, key) and own (port priority, port) are lowest.
void Lacp::runSelection() {
    auto candidate = [](const Member& m) { return hasPartner(m); };
    auto rank = [](const Member& m) {
        return std::make_tuple(m.partner.system_priority, m.partner.system, m.partner.key, m.priority, m.port);
    };
    const Member* lead = nullptr;
    for (const auto& [id, m] : members_)
        if (candidate(m) && (!lead || rank(m) < rank(*lead))) lead = &m;
    for (auto& [id, m] : members_) {
        bool same = lead && m.partner.system == lead->partner.system &&
                    m.partner.system_priority == lead->partner.system_priority && m.partner.key == lead->partner.key;
        m.selected = candidate(m) && same && ((m.partner.state & kLacpAggregation) || &m == lead);
    }
}

// Mux machine, coupled control (section 6.4.15). Ready is per member: its own wait_while.
void Lacp::runMux(Member& m, std::int64_t now) {
    for (int i = 0; i < 4; ++i) {
        LacpMuxState before = m.mux;
        switch (m.mux) {
        case LacpMuxState::kDetached:
            if (m.selected) {
                m.mux = LacpMuxState::kWaiting;
                m.wait_while = now + kAggregateWaitMs;
            }
            break;
        case LacpMuxState::kWaiting:
            if (!m.selected) m.mux = LacpMuxState::kDetached;
            else if (now >= m.wait_while) m.mux = LacpMuxState::kAttached;
            break;
        case LacpMuxState::kAttached:
            if (!m.selected) m.mux = LacpMuxState::kDetached;
            else if (m.partner.state & kLacpSync) m.mux = LacpMuxState::kCollectingDistributing;
            break;
        case LacpMuxState::kCollectingDistributing:
            if (!m.selected || !(m.partner.state & kLacpSync)) m.mux = LacpMuxState::kAttached;
            break;
        }
        if (m.mux == before) return;
    }
}

// Periodic Transmission machine (section 6.4.13): the partner's Timeout bit sets our rate.
void Lacp::runPeriodic(Member& m, std::int64_t now) {
    LacpPeriodic want = LacpPeriodic::kNone;
    if (m.enabled && (cfg_.active || (m.partner.state & kLacpActivity)))
        want = (m.partner.state & kLacpTimeout) ? LacpPeriodic::kFast : LacpPeriodic::kSlow;
    auto interval = [](LacpPeriodic p) { return p == LacpPeriodic::kFast ? kFastPeriodicMs : kSlowPeriodicMs; };
    if (want == LacpPeriodic::kNone) {
        m.periodic = want;
        m.periodic_at = 0;
        m.ntt = false;  // NO_PERIODIC: the Transmit machine sends nothing
        return;
    }
    if (m.periodic == LacpPeriodic::kNone) {
        m.periodic_at = now + interval(want);
    } else if (m.periodic == LacpPeriodic::kSlow && want == LacpPeriodic::kFast) {
        m.ntt = true;  // SLOW_PERIODIC -> PERIODIC_TX when the partner asks for short timeouts
        m.periodic_at = now + interval(want);
    } else if (m.periodic != want) {
        m.periodic_at = now + interval(want);
    }
    m.periodic = want;
    if (now >= m.periodic_at) {
        m.ntt = true;
        m.periodic_at = now + interval(want);
    }
}

void Lacp::step(std::int64_t now) {
    for (auto& [id, m] : members_) runReceive(m, now);
    runSelection();
    bool changed = false;
    bool negotiated_now = negotiated();
    for (auto& [id, m] : members_) {
        runMux(m, now);
        LacpPortInfo actor = actorInfo(m);
        if (!(actor == m.last_actor)) {
            m.ntt = true;
            m.last_actor = actor;
        }
        runPeriodic(m, now);
        bool may = mayEnable(id);
        if (may != m.last_may_enable) {
            m.last_may_enable = may;
            changed = true;
        }
    }
    if (changed || negotiated_now != last_negotiated_) ++version_;
    last_negotiated_ = negotiated_now;
}

void Lacp::configure(const LacpConfig& cfg, std::int64_t now) {
    if (cfg == cfg_) return;
    cfg_ = cfg;
    ++version_;  // fallback_ab may change mayEnable() without any member changing
    step(now);
}

void Lacp::addMember(std::uint32_t id, std::uint16_t port, std::uint16_t priority, bool enabled, std::int64_t now) {
    Member m;
    m.port = port;
    m.priority = priority;
    m.enabled = enabled;
    recordDefault(m);  // INITIALIZE, then PORT_DISABLED
    m.rx = LacpRxState::kPortDisabled;
    members_[id] = m;
    ++version_;
    step(now);
}

void Lacp::removeMember(std::uint32_t id, std::int64_t now) {
    if (members_.erase(id)) {
        ++version_;
        step(now);
    }
}

void Lacp::setPortEnabled(std::uint32_t id, bool enabled, std::int64_t now) {
    auto it = members_.find(id);
    if (it == members_.end() || it->second.enabled == enabled) return;
    it->second.enabled = enabled;
    step(now);
}

void Lacp::receive(std::uint32_t id, const Lacpdu& pdu, std::int64_t now) {
    auto it = members_.find(id);
    if (it == members_.end() || !it->second.enabled) return;  // PORT_DISABLED ignores LACPDUs
    Member& m = it->second;
    ++m.rx_pdus;
    // update_Selected: a different partner port (or aggregatability) means reselecting.
    constexpr std::uint8_t kAgg = kLacpAggregation;
    if (!pdu.actor.sameIdentity(m.partner) || (pdu.actor.state & kAgg) != (m.partner.state & kAgg)) {
        m.selected = false;
        m.mux = LacpMuxState::kDetached;
    }
    // update_NTT: the partner's view of us is out of date.
    LacpPortInfo actor = actorInfo(m);
    constexpr std::uint8_t kCompared = kLacpActivity | kLacpTimeout | kLacpSync | kLacpAggregation;
    if (!pdu.partner.sameIdentity(actor) || (pdu.partner.state & kCompared) != (actor.state & kCompared)) m.ntt = true;
    // recordPDU (section 6.4.9).
    bool matches = pdu.partner.sameIdentity(actor) && (pdu.partner.state & kAgg) == (actor.state & kAgg);
    bool sync = (pdu.actor.state & kLacpSync) && (matches || !(pdu.actor.state & kAgg));
    m.partner = pdu.actor;
    m.partner.state = static_cast<std::uint8_t>(sync ? (m.partner.state | kLacpSync) : (m.partner.state & ~kLacpSync));
    m.defaulted = false;
    m.rx = LacpRxState::kCurrent;
    m.current_while = now + (cfg_.fast ? kShortTimeoutMs : kLongTimeoutMs);
    step(now);
}

void Lacp::run(std::int64_t now) { step(now); }

std::vector<std::pair<std::uint32_t, Lacpdu>> Lacp::transmit(std::int64_t now) {
    std::vector<std::pair<std::uint32_t, Lacpdu>> out;
    for (auto& [id, m] : members_) {
        if (!m.ntt || m.periodic == LacpPeriodic::kNone || !m.enabled) continue;
        std::erase_if(m.tx_times, [now](std::int64_t t) { return t + kFastPeriodicMs <= now; });
        if (m.tx_times.size() >= static_cast<std::size_t>(kMaxTxPerFastPeriod)) continue;  // NTT stays set
        Lacpdu pdu;
        pdu.actor = actorInfo(m);
        pdu.partner = m.partner;
        out.emplace_back(id, pdu);
        m.tx_times.push_back(now);
        m.ntt = false;
        ++m.tx_pdus;
    }
    return out;
}

// A partner is known when its information came from a LACPDU (not the defaults): CURRENT, or
// EXPIRED after CURRENT (EXPIRED entered from PORT_DISABLED still has the defaults).
bool Lacp::hasPartner(const Member& m) {
    return m.enabled && !m.defaulted && (m.rx == LacpRxState::kCurrent || m.rx == LacpRxState::kExpired);
}

bool Lacp::negotiated() const {
    for (const auto& [id, m] : members_)
        if (hasPartner(m)) return true;
    return false;
}

bool Lacp::mayEnable(std::uint32_t id) const {
    auto it = members_.find(id);
    if (it == members_.end() || !it->second.enabled) return false;
    if (negotiated()) return it->second.mux == LacpMuxState::kCollectingDistributing;
    return cfg_.fallback_ab;
}

std::vector<LacpMemberStatus> Lacp::status() const {
    std::vector<LacpMemberStatus> out;
    for (const auto& [id, m] : members_) {
        LacpMemberStatus s;
        s.id = id;
        s.actor = actorInfo(m);
        s.partner = m.partner;
        s.rx = m.rx;
        s.mux = m.mux;
        s.periodic = m.periodic;
        s.port_enabled = m.enabled;
        s.selected = m.selected;
        s.may_enable = mayEnable(id);
        s.rx_pdus = m.rx_pdus;
        s.tx_pdus = m.tx_pdus;
        out.push_back(s);
    }
    return out;
}

}  // namespace vs::ofproto
