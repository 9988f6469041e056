// Bond member selection, admissibility, link-state delays and rebalancing. See bond.h.
#include "ofproto/bond.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace vs::ofproto {
namespace {

constexpr std::uint64_t kRebalanceMinBytes = 100000;  // below ~1 Mbit per 10 s: not worth moving

std::uint64_t mixIn(std::uint64_t h, std::uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

int bucketOf(std::uint64_t h) {
    // fmix64 (MurmurHash3 finaliser): every input bit reaches the low byte.
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return static_cast<int>(h & (Bond::kBuckets - 1));
}

std::uint64_t bytesAsWord(const std::uint8_t* p, std::size_t n) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, std::min<std::size_t>(n, 8));
    return v;
}

template <class T>
void maskAll(T& field) {
    std::memset(&field, 0xff, sizeof field);
}

}  // namespace

const char* toString(BondMode m) {
    switch (m) {
    case BondMode::kActiveBackup: return "active-backup";
    case BondMode::kBalanceSlb: return "balance-slb";
    case BondMode::kBalanceTcp: return "balance-tcp";
    }
    return "?";
}

const char* toString(LacpMode m) {
    switch (m) {
    case LacpMode::kOff: return "off";
    case LacpMode::kActive: return "active";
    case LacpMode::kPassive: return "passive";
    }
    return "?";
}

std::optional<BondMode> bondModeFromString(std::string_view s) {
    if (s.empty() || s == "active-backup") return BondMode::kActiveBackup;
    if (s == "balance-slb") return BondMode::kBalanceSlb;
    if (s == "balance-tcp") return BondMode::kBalanceTcp;
    return std::nullopt;
}

std::optional<LacpMode> lacpModeFromString(std::string_view s) {
    if (s.empty() || s == "off") return LacpMode::kOff;
    if (s == "active") return LacpMode::kActive;
    if (s == "passive") return LacpMode::kPassive;
    return std::nullopt;
}

int Bond::slbBucket(const dp::MacAddr& src, std::uint16_t vlan) { return bucketOf(mixIn(src.toU64(), vlan)); }

int Bond::tcpBucket(const dp::FlowKey& k, dp::FlowKey* mask) {
    dp::FlowKey scratch;
    dp::FlowKey& m = mask ? *mask : scratch;
    m.dl_type = 0xffff;
    std::uint64_t h = k.dl_type;
    bool ip = k.dl_type == dp::kEthTypeIPv4 || k.dl_type == dp::kEthTypeIPv6;
    if (k.dl_type == dp::kEthTypeIPv4) {
        h = mixIn(mixIn(h, k.nw_src), k.nw_dst);
        maskAll(m.nw_src);
        maskAll(m.nw_dst);
    } else if (k.dl_type == dp::kEthTypeIPv6) {
        for (int i = 0; i < 16; i += 8) h = mixIn(mixIn(h, bytesAsWord(k.ipv6_src + i, 8)), bytesAsWord(k.ipv6_dst + i, 8));
        maskAll(m.ipv6_src);
        maskAll(m.ipv6_dst);
    } else {  // not IP: the L2 addresses
        h = mixIn(mixIn(h, k.dlSrc().toU64()), k.dlDst().toU64());
        maskAll(m.dl_src);
        maskAll(m.dl_dst);
    }
    if (ip) {
        h = mixIn(h, k.nw_proto);
        m.nw_proto = 0xff;
        m.nw_frag = 0xff;
        bool ports = (k.nw_proto == 6 || k.nw_proto == 17 || k.nw_proto == 132) && !(k.nw_frag & dp::kFragLater);
        if (ports) {
            h = mixIn(mixIn(h, k.tp_src), k.tp_dst);
            m.tp_src = 0xffff;
            m.tp_dst = 0xffff;
        }
    }
    return bucketOf(h);
}

Bond::Bond(std::string name, const BondSettings& s, std::int64_t now) : name_(std::move(name)) {
    configure(s, now);
    next_rebalance_ = s_.rebalance_ms > 0 ? now + s_.rebalance_ms : 0;
}

const Bond::Member* Bond::member(std::uint32_t ofport) const {
    auto it = members_.find(ofport);
    return it == members_.end() ? nullptr : &it->second;
}

std::vector<std::uint32_t> Bond::enabledMembers() const {
    std::vector<std::uint32_t> out;
    for (const auto& [of, m] : members_)
        if (m.enabled) out.push_back(of);
    return out;
}

void Bond::updateLacpConfig(std::int64_t now) {
    if (!lacp_) return;
    LacpConfig c;
    c.active = s_.lacp == LacpMode::kActive;
    c.fast = s_.lacp_fast;
    c.fallback_ab = s_.lacp_fallback_ab;
    c.system = system_id_;
    // The key is the lowest member's port number, as Open vSwitch derives it.
    c.key = members_.empty() ? 1 : static_cast<std::uint16_t>(members_.begin()->first);
    lacp_->configure(c, now);
}

bool Bond::configure(const BondSettings& s, std::int64_t now) {
    bool changed = !(s == s_);
    bool rebalance_changed = s.rebalance_ms != s_.rebalance_ms || s.mode != s_.mode;
    s_ = s;
    if (s_.lacp != LacpMode::kOff && !lacp_) {
        lacp_ = std::make_unique<Lacp>(LacpConfig{});
        updateLacpConfig(now);
        for (const auto& [of, m] : members_)
            lacp_->addMember(of, static_cast<std::uint16_t>(of), Lacp::kDefaultPortPriority, m.carrier, now);
    } else if (s_.lacp == LacpMode::kOff) {
        lacp_.reset();
    }
    updateLacpConfig(now);
    if (rebalance_changed) next_rebalance_ = s_.rebalance_ms > 0 ? now + s_.rebalance_ms : 0;
    changed |= updateEnabled(now);
    changed |= chooseActive();
    return changed;
}

bool Bond::setSystemId(const dp::MacAddr& mac, std::int64_t now) {
    if (mac == system_id_) return false;
    system_id_ = mac;
    updateLacpConfig(now);
    return run(now);
}

bool Bond::addMember(std::uint32_t ofport, std::uint32_t dp_port, const std::string& name, bool carrier,
                     std::int64_t now) {
    Member& m = members_[ofport] = Member{name, ofport, dp_port, carrier, false, std::nullopt};
    updateLacpConfig(now);
    if (lacp_) lacp_->addMember(ofport, static_cast<std::uint16_t>(ofport), Lacp::kDefaultPortPriority, carrier, now);
    // A new member starts in the state its link is in, without bond_updelay (as Open vSwitch's
    // bond_member_register); only later changes wait.
    m.enabled = mayEnable(m);
    if (m.enabled) reassignBuckets({ofport});
    updateEnabled(now);
    chooseActive();
    return true;
}

bool Bond::removeMember(std::uint32_t ofport, std::int64_t now) {
    if (!members_.erase(ofport)) return false;
    if (lacp_) lacp_->removeMember(ofport, now);
    updateLacpConfig(now);
    reassignBuckets({});
    updateEnabled(now);
    chooseActive();
    return true;
}

bool Bond::setCarrier(std::uint32_t ofport, bool up, std::int64_t now) {
    auto it = members_.find(ofport);
    if (it == members_.end() || it->second.carrier == up) return false;
    it->second.carrier = up;
    if (lacp_) lacp_->setPortEnabled(ofport, up, now);
    return run(now);
}

bool Bond::receiveLacpdu(std::uint32_t ofport, const Lacpdu& pdu, std::int64_t now) {
    if (!lacp_ || !members_.count(ofport)) return false;
    lacp_->receive(ofport, pdu, now);
    return run(now);
}

std::vector<Bond::LacpTx> Bond::lacpTransmit(std::int64_t now) {
    std::vector<LacpTx> out;
    if (!lacp_) return out;
    for (auto& [ofport, pdu] : lacp_->transmit(now))
        if (const Member* m = member(ofport)) out.push_back({ofport, m->dp_port, pdu});
    return out;
}

bool Bond::run(std::int64_t now) {
    bool changed = false;
    if (lacp_) {
        lacp_->run(now);
        if (lacp_->version() != lacp_version_) {  // negotiated / fallback changes decisions too
            lacp_version_ = lacp_->version();
            changed = true;
        }
    }
    changed |= updateEnabled(now);
    changed |= chooseActive();
    if (next_rebalance_ && now >= next_rebalance_) {
        next_rebalance_ = now + s_.rebalance_ms;
        changed |= rebalance();
    }
    return changed;
}

bool Bond::mayEnable(const Member& m) const {
    return m.carrier && (!lacp_ || lacp_->mayEnable(m.ofport));
}

// Open vSwitch's bond_link_status_update: a change of may-enable starts bond_updelay or
// bond_downdelay; the member follows when the delay expires without the link changing back.
// The updelay is skipped when no member is enabled (there is nothing to protect).
bool Bond::updateEnabled(std::int64_t now) {
    bool changed = false;
    bool any_enabled = !enabledMembers().empty();
    std::vector<std::uint32_t> newly;
    for (auto& [of, m] : members_) {
        bool may = mayEnable(m);
        if (may == m.enabled) {
            m.delay_until.reset();
            continue;
        }
        if (!m.delay_until) {
            int delay = may ? s_.updelay_ms : s_.downdelay_ms;
            if (may && !any_enabled) delay = 0;
            m.delay_until = now + delay;
        }
        if (now < *m.delay_until) continue;
        m.enabled = may;
        m.delay_until.reset();
        changed = true;
        if (may) newly.push_back(of);
        else learning_due_ = true;  // its hashes move: tell the peer (Open vSwitch does too)
        any_enabled = !enabledMembers().empty();
    }
    if (changed) reassignBuckets(newly);
    return changed;
}

bool Bond::chooseActive() {
    std::optional<std::uint32_t> want;
    for (const auto& [of, m] : members_)
        if (!s_.primary.empty() && m.name == s_.primary && m.enabled) want = of;
    if (!want && active_)
        if (const Member* m = member(*active_); m && m->enabled) want = active_;
    for (const auto& [of, m] : members_)
        if (!want && m.enabled) want = of;
    if (want == active_) return false;
    if (want) {
        learning_due_ = true;
        if (active_) dp::coverageAdd(dp::Coverage::bond_active_changed);
    }
    active_ = want;
    return true;
}

// Buckets of members that are gone or disabled go to an enabled member; a member that has just
// been enabled takes back its share (bucket i belongs to enabled member i mod n by default).
void Bond::reassignBuckets(const std::vector<std::uint32_t>& newly_enabled) {
    auto enabled = enabledMembers();
    for (int b = 0; b < kBuckets; ++b) {
        Bucket& bk = buckets_[b];
        if (enabled.empty()) {
            bk.member = 0;
            continue;
        }
        std::uint32_t canonical = enabled[static_cast<std::size_t>(b) % enabled.size()];
        const Member* m = member(bk.member);
        bool fresh = std::find(newly_enabled.begin(), newly_enabled.end(), canonical) != newly_enabled.end();
        if (!m || !m->enabled || fresh) bk.member = canonical;
    }
}

// Open vSwitch's bond_rebalance: while the most loaded member carries noticeably more than the
// least loaded one, move to the latter the busiest bucket whose move narrows the gap; then
// halve every bucket's load (an exponentially weighted moving average).
bool Bond::rebalance() {
    for (auto& bk : buckets_) {
        std::uint64_t bytes = bk.sink->bytes.load(std::memory_order_relaxed);
        bk.load += bytes - bk.seen_bytes;
        bk.seen_bytes = bytes;
    }
    auto enabled = enabledMembers();
    bool moved = false;
    if (effectiveMode() != BondMode::kActiveBackup && enabled.size() >= 2) {
        std::map<std::uint32_t, std::uint64_t> load;
        for (auto of : enabled) load[of] = 0;
        for (const auto& bk : buckets_)
            if (load.count(bk.member)) load[bk.member] += bk.load;
        std::set<std::uint32_t> stuck;  // members with nothing useful to give away
        for (int iter = 0; iter < kBuckets; ++iter) {
            auto to = std::min_element(load.begin(), load.end(), [](auto& a, auto& b) { return a.second < b.second; });
            auto from = load.end();
            for (auto it = load.begin(); it != load.end(); ++it)
                if (!stuck.count(it->first) && (from == load.end() || it->second > from->second)) from = it;
            if (from == load.end() || from == to) break;
            std::uint64_t overload = from->second - to->second;
            if (overload < (to->second >> 5) || overload < kRebalanceMinBytes) break;
            int best = -1, busy = 0;
            for (int b = 0; b < kBuckets; ++b) {
                const Bucket& bk = buckets_[b];
                if (bk.member != from->first || bk.load == 0) continue;
                ++busy;
                if (bk.load < overload && (best < 0 || bk.load > buckets_[best].load)) best = b;
            }
            if (best < 0 || busy < 2) {
                stuck.insert(from->first);
                continue;
            }
            buckets_[best].member = to->first;
            from->second -= buckets_[best].load;
            to->second += buckets_[best].load;
            moved = true;
        }
    }
    for (auto& bk : buckets_) bk.load /= 2;
    if (moved) dp::coverageAdd(dp::Coverage::bond_rebalanced);
    return moved;
}

BondMode Bond::effectiveMode() const {
    if (lacp_ && !lacp_->negotiated() && s_.lacp_fallback_ab) return BondMode::kActiveBackup;
    return s_.mode;
}

bool Bond::takeLearningPacketsDue() {
    bool due = learning_due_;
    learning_due_ = false;
    if (!due || !active_) return false;
    if (lacp_) return s_.lacp_fallback_ab && !lacp_->negotiated();
    return s_.mode != BondMode::kBalanceTcp;
}

BondAdmission Bond::admit(std::uint32_t in_ofport, const dp::FlowKey& key) const {
    using C = dp::Coverage;
    const Member* m = member(in_ofport);
    if (!m) return {BondAdmission::kDrop, C::drop_bond_member_disabled};
    if (lacp_) {
        // A negotiated partner knows the bond: accept on every member LACP enabled.
        if (lacp_->negotiated())
            return m->enabled ? BondAdmission{} : BondAdmission{BondAdmission::kDrop, C::drop_bond_member_disabled};
        if (!s_.lacp_fallback_ab) return {BondAdmission::kDrop, C::drop_bond_lacp_not_negotiated};
    }
    BondMode mode = effectiveMode();
    if (mode == BondMode::kBalanceTcp) return {BondAdmission::kDrop, C::drop_bond_lacp_not_negotiated};
    if (key.dlDst().isMulticast() && active_ != in_ofport) return {BondAdmission::kDrop, C::drop_bond_multicast_not_active};
    if (mode == BondMode::kActiveBackup && active_ != in_ofport) return {BondAdmission::kDrop, C::drop_bond_inactive_member};
    if (mode == BondMode::kBalanceSlb) return {BondAdmission::kDropIfMoved, C::drop_bond_reflected};
    return {};
}

std::optional<std::uint32_t> Bond::chooseOutput(const dp::FlowKey& key, std::uint16_t vlan, dp::FlowKey& mask,
                                                dp::StatsSinks* sinks) const {
    bool negotiated = lacp_ && lacp_->negotiated();
    if (lacp_ && !negotiated && !s_.lacp_fallback_ab) return std::nullopt;
    BondMode mode = effectiveMode();
    const Member* m = nullptr;
    if (mode == BondMode::kActiveBackup) {
        m = active_ ? member(*active_) : nullptr;
    } else if (mode == BondMode::kBalanceTcp && !negotiated) {
        return std::nullopt;  // balance-tcp needs LACP
    } else {
        int b = mode == BondMode::kBalanceSlb ? slbBucket(key.dlSrc(), vlan) : tcpBucket(key, &mask);
        if (mode == BondMode::kBalanceSlb) maskAll(mask.dl_src);
        m = member(buckets_[b].member);
        if (m && m->enabled && sinks) sinks->push_back(buckets_[b].sink);
    }
    if (!m || !m->enabled) return std::nullopt;
    return m->dp_port;
}

std::optional<std::uint32_t> Bond::learningOutput(const dp::MacAddr& mac, std::uint16_t vlan) const {
    const Member* m = nullptr;
    BondMode mode = effectiveMode();
    if (mode == BondMode::kActiveBackup) m = active_ ? member(*active_) : nullptr;
    else if (mode == BondMode::kBalanceSlb) m = member(buckets_[slbBucket(mac, vlan)].member);
    if (!m || !m->enabled) return std::nullopt;
    return m->dp_port;
}

BondStatus Bond::status(std::int64_t now) const {
    BondStatus st;
    st.name = name_;
    st.settings = s_;
    st.effective_mode = effectiveMode();
    st.lacp_status = !lacp_ ? "off" : lacp_->negotiated() ? "negotiated" : "configured";
    if (active_) st.active = member(*active_)->name;
    if (next_rebalance_ && effectiveMode() != BondMode::kActiveBackup) st.next_rebalance_ms = std::max<std::int64_t>(0, next_rebalance_ - now);
    std::map<std::uint32_t, std::uint64_t> load;
    for (int b = 0; b < kBuckets; ++b) {
        const Bucket& bk = buckets_[b];
        std::uint64_t total = bk.sink->bytes.load(std::memory_order_relaxed);
        std::uint64_t recent = bk.load + (total - bk.seen_bytes);
        load[bk.member] += recent;
        if (total && effectiveMode() != BondMode::kActiveBackup && member(bk.member))
            st.hashes.push_back({b, member(bk.member)->name, recent, total});
    }
    for (const auto& [of, m] : members_) {
        BondMemberStatus ms{m.name, of, m.dp_port, m.carrier, mayEnable(m), m.enabled, active_ == of, -1, load[of]};
        if (m.delay_until) ms.delay_ms = std::max<std::int64_t>(0, *m.delay_until - now);
        st.members.push_back(ms);
    }
    if (lacp_) {
        st.lacp = lacp_->config();
        st.lacp_members = lacp_->status();
    }
    return st;
}

}  // namespace vs::ofproto
