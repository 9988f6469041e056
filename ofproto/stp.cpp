// IEEE 802.1D-1998 clause 8 STP (see stp.h). The procedures keep the standard's names (8.6 and
// 8.7) so the code reads against the text.
#include "ofproto/stp.h"

#include <algorithm>
#include <tuple>

namespace vs::ofproto {
namespace {

constexpr std::size_t kLlcOffset = 14;
constexpr std::size_t kBpduOffset = 17;      // after the LLC header
constexpr std::size_t kConfigBpduSize = 35;  // 9.3.1
constexpr std::size_t kTcnBpduSize = 4;      // 9.3.2
constexpr std::uint8_t kTypeConfig = 0x00, kTypeTcn = 0x80, kTypeRst = 0x02;
constexpr std::uint8_t kFlagTc = 0x01, kFlagTcAck = 0x80;
constexpr std::uint16_t kMessageAgeIncrement = 1;  // 1/256 s: our own processing time (8.6.1.3.2)

std::uint16_t to256(std::int64_t ms) { return static_cast<std::uint16_t>(std::clamp<std::int64_t>(ms * 256 / 1000, 0, 0xffff)); }
std::int64_t from256(std::uint16_t v) { return std::int64_t{v} * 1000 / 256; }

std::uint64_t get(std::span<const std::uint8_t> f, std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | f[at + i];
    return v;
}
void put(std::vector<std::uint8_t>& f, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) f.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

const char* toString(StpState s) {
    switch (s) {
    case StpState::kDisabled: return "disabled";
    case StpState::kBlocking: return "blocking";
    case StpState::kListening: return "listening";
    case StpState::kLearning: return "learning";
    case StpState::kForwarding: return "forwarding";
    }
    return "?";
}

const char* toString(StpRole r) {
    switch (r) {
    case StpRole::kDisabled: return "disabled";
    case StpRole::kRoot: return "root";
    case StpRole::kDesignated: return "designated";
    case StpRole::kAlternate: return "alternate";
    }
    return "?";
}

std::optional<StpBpdu> parseStpBpdu(std::span<const std::uint8_t> f, std::string* why) {
    auto fail = [why](const char* w) -> std::optional<StpBpdu> {
        if (why) *why = w;
        return std::nullopt;
    };
    if (f.size() < kBpduOffset + kTcnBpduSize) return fail("frame too short for a BPDU");
    if (get(f, 12, 2) >= 0x600) return fail("not an 802.3 frame with an LLC header (Ethertype, not length)");
    if (f[kLlcOffset] != 0x42 || f[kLlcOffset + 1] != 0x42 || f[kLlcOffset + 2] != 0x03)
        return fail("LLC header is not 42 42 03 (spanning tree, UI)");
    if (get(f, kBpduOffset, 2) != 0) return fail("protocol identifier is not 0 (spanning tree)");
    std::uint8_t type = f[kBpduOffset + 3];
    StpBpdu b;
    if (type == kTypeTcn) {
        b.type = StpBpdu::Type::kTcn;
        return b;
    }
    if (type == kTypeRst) return fail("RST BPDU (802.1D-2004 RSTP): this bridge runs 802.1D-1998 STP");
    if (type != kTypeConfig) return fail("unknown BPDU type");
    if (f.size() < kBpduOffset + kConfigBpduSize) return fail("Configuration BPDU shorter than 35 octets");
    std::size_t o = kBpduOffset + 4;
    StpConfigBpdu& c = b.config;
    c.tc = f[o] & kFlagTc;
    c.tc_ack = f[o] & kFlagTcAck;
    c.root_id = get(f, o + 1, 8);
    c.root_path_cost = static_cast<std::uint32_t>(get(f, o + 9, 4));
    c.bridge_id = get(f, o + 13, 8);
    c.port_id = static_cast<std::uint16_t>(get(f, o + 21, 2));
    c.message_age = static_cast<std::uint16_t>(get(f, o + 23, 2));
    c.max_age = static_cast<std::uint16_t>(get(f, o + 25, 2));
    c.hello_time = static_cast<std::uint16_t>(get(f, o + 27, 2));
    c.forward_delay = static_cast<std::uint16_t>(get(f, o + 29, 2));
    if (c.message_age >= c.max_age) return fail("Message Age not below Max Age (802.1D 9.3.4)");
    return b;
}

std::vector<std::uint8_t> buildStpBpdu(const dp::MacAddr& src, const StpBpdu& b) {
    std::vector<std::uint8_t> f(kStpMac.b.begin(), kStpMac.b.end());
    f.insert(f.end(), src.b.begin(), src.b.end());
    bool config = b.type == StpBpdu::Type::kConfig;
    put(f, 3 + (config ? kConfigBpduSize : kTcnBpduSize), 2);  // 802.3 length: LLC + BPDU
    f.insert(f.end(), {0x42, 0x42, 0x03, 0x00, 0x00, 0x00});   // LLC, protocol id, version 0
    f.push_back(config ? kTypeConfig : kTypeTcn);
    if (config) {
        const StpConfigBpdu& c = b.config;
        f.push_back(static_cast<std::uint8_t>((c.tc ? kFlagTc : 0) | (c.tc_ack ? kFlagTcAck : 0)));
        put(f, c.root_id, 8);
        put(f, c.root_path_cost, 4);
        put(f, c.bridge_id, 8);
        put(f, c.port_id, 2);
        put(f, c.message_age, 2);
        put(f, c.max_age, 2);
        put(f, c.hello_time, 2);
        put(f, c.forward_delay, 2);
    }
    if (f.size() < 60) f.resize(60, 0);
    return f;
}

std::optional<std::string> StpSettings::problem() const {
    if (hello_s < 1 || hello_s > 10) return "stp-hello-time " + std::to_string(hello_s) + " is outside 1..10 seconds";
    if (max_age_s < 6 || max_age_s > 40) return "stp-max-age " + std::to_string(max_age_s) + " is outside 6..40 seconds";
    if (forward_delay_s < 4 || forward_delay_s > 30)
        return "stp-forward-delay " + std::to_string(forward_delay_s) + " is outside 4..30 seconds";
    if (2 * (forward_delay_s - 1) < max_age_s)
        return "stp-max-age " + std::to_string(max_age_s) + " is over 2 * (stp-forward-delay - 1) = " +
               std::to_string(2 * (forward_delay_s - 1)) + " (802.1D-1998 8.10.2)";
    if (max_age_s < 2 * (hello_s + 1))
        return "stp-max-age " + std::to_string(max_age_s) + " is under 2 * (stp-hello-time + 1) = " +
               std::to_string(2 * (hello_s + 1)) + " (802.1D-1998 8.10.2)";
    return std::nullopt;
}

Stp::Stp(const StpSettings& s, std::int64_t now) : cfg_(s), last_run_(now) { initialise(now); }

void Stp::configure(const StpSettings& s, std::int64_t now) {
    if (s == cfg_) return;
    cfg_ = s;
    initialise(now);
}

// 8.8.1 Initialisation.
void Stp::initialise(std::int64_t now) {
    designated_root_ = bridgeId();
    root_path_cost_ = 0;
    root_port_.reset();
    max_age_ms_ = cfg_.max_age_s * 1000LL;
    hello_ms_ = cfg_.hello_s * 1000LL;
    forward_delay_ms_ = cfg_.forward_delay_s * 1000LL;
    tc_detected_ = false;
    setTopologyChange(false);
    tcn_timer_.stop();
    tc_timer_.stop();
    for (auto& [id, p] : ports_) {
        initPort(p, now);
        if (!participates(p)) setState(p, StpState::kDisabled, now);
    }
    portStateSelection(now);
    configBpduGeneration();
    hello_timer_.start();
}

std::uint16_t Stp::lowestFreePortNum(std::uint32_t except) const {
    for (std::uint16_t n = 1; n <= 255; ++n) {
        bool used = false;
        for (const auto& [id, p] : ports_) used |= id != except && p.num == n;
        if (!used) return n;
    }
    return 0;
}

void Stp::addPort(std::uint32_t id, const StpPortSettings& s, bool carrier, std::int64_t now) {
    if (ports_.count(id)) return setPortSettings(id, s, now);
    Port& p = ports_[id];
    p.cfg = s;
    p.num = s.port_num ? s.port_num : lowestFreePortNum(id);
    p.carrier = carrier;
    p.state_since = now;
    initPort(p, now);
    p.state = StpState::kDisabled;
    if (participates(p)) enablePort(id, p, now);
    ++version_;
}

void Stp::setPortSettings(std::uint32_t id, const StpPortSettings& s, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end() || it->second.cfg == s) return;
    Port& p = it->second;
    bool was = participates(p);
    bool designated = designatedPort(id, p);
    p.cfg = s;
    if (s.port_num) p.num = s.port_num;
    if (was != participates(p)) {
        if (was) disablePort(id, p, now);
        else enablePort(id, p, now);
        ++version_;  // forwards() of a port with STP off differs
        return;
    }
    if (designated) becomeDesignated(id, p);  // the port id may have changed
    configurationUpdate();
    portStateSelection(now);
}

void Stp::removePort(std::uint32_t id, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end()) return;
    bool was_root = isRoot();
    ports_.erase(it);
    configurationUpdate();
    portStateSelection(now);
    becameRoot(was_root);
    ++version_;
}

void Stp::setCarrier(std::uint32_t id, bool up, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end() || it->second.carrier == up) return;
    Port& p = it->second;
    bool was = participates(p);
    p.carrier = up;
    if (was == participates(p)) return;
    if (was) disablePort(id, p, now);
    else enablePort(id, p, now);
}

void Stp::initPort(Port& p, std::int64_t now) {
    p.designated_root = designated_root_;
    p.designated_cost = root_path_cost_;
    p.designated_bridge = bridgeId();
    p.designated_port = p.portId();
    setState(p, StpState::kBlocking, now);
    p.tc_ack = p.config_pending = false;
    p.change_detection = true;
    p.message_age.stop();
    p.forward_delay.stop();
    p.hold.stop();
}

// 8.8.2 Enable Port.
void Stp::enablePort(std::uint32_t, Port& p, std::int64_t now) {
    initPort(p, now);
    portStateSelection(now);
}

// 8.8.3 Disable Port.
void Stp::disablePort(std::uint32_t, Port& p, std::int64_t now) {
    bool was_root = isRoot();
    initPort(p, now);
    setState(p, StpState::kDisabled, now);
    configurationUpdate();
    portStateSelection(now);
    becameRoot(was_root);
}

bool Stp::designatedPort(std::uint32_t, const Port& p) const {
    return p.designated_bridge == bridgeId() && p.designated_port == p.portId();
}

// 8.6.2.2: the received information is better than what the port holds, or comes from the same
// designated port (a refresh). Our own BPDU looped back from the same port does not supersede.
bool Stp::supersedes(const Port& p, const StpConfigBpdu& c) const {
    if (c.root_id != p.designated_root) return c.root_id < p.designated_root;
    if (c.root_path_cost != p.designated_cost) return c.root_path_cost < p.designated_cost;
    if (c.bridge_id != p.designated_bridge) return c.bridge_id < p.designated_bridge;
    return c.bridge_id != bridgeId() || c.port_id <= p.designated_port;
}

// 8.6.1 Transmit Configuration BPDU (held back while the Hold Timer runs).
void Stp::transmitConfig(std::uint32_t id, Port& p) {
    if (p.hold.active) {
        p.config_pending = true;
        return;
    }
    StpBpdu b;
    StpConfigBpdu& c = b.config;
    c.root_id = designated_root_;
    c.root_path_cost = root_path_cost_;
    c.bridge_id = bridgeId();
    c.port_id = p.portId();
    if (!isRoot() && root_port_)
        c.message_age = static_cast<std::uint16_t>(to256(ports_.at(*root_port_).message_age.value) + kMessageAgeIncrement);
    c.max_age = to256(max_age_ms_);
    c.hello_time = to256(hello_ms_);
    c.forward_delay = to256(forward_delay_ms_);
    c.tc_ack = p.tc_ack;
    c.tc = topology_change_;
    if (c.message_age >= c.max_age) return;  // stale root information is not relayed
    p.tc_ack = p.config_pending = false;
    tx_.emplace_back(id, b);
    ++p.tx;
    p.hold.start();
}

// 8.6.6 Transmit Topology Change Notification BPDU: towards the root.
void Stp::transmitTcn() {
    if (!root_port_) return;
    StpBpdu b;
    b.type = StpBpdu::Type::kTcn;
    tx_.emplace_back(*root_port_, b);
    ++ports_.at(*root_port_).tx;
}

// 8.6.4 Configuration BPDU Generation.
void Stp::configBpduGeneration() {
    for (auto& [id, p] : ports_)
        if (designatedPort(id, p) && p.state != StpState::kDisabled) transmitConfig(id, p);
}

// 8.6.7 Configuration Update.
void Stp::configurationUpdate() {
    rootSelection();
    designatedPortSelection();
}

// 8.6.8 Root Selection.
void Stp::rootSelection() {
    auto key = [](const Port& p) {
        return std::make_tuple(p.designated_root, p.designated_cost + p.cfg.path_cost, p.designated_bridge,
                               p.designated_port, p.portId());
    };
    std::optional<std::uint32_t> best;
    for (const auto& [id, p] : ports_) {
        if (designatedPort(id, p) || p.state == StpState::kDisabled || p.designated_root >= bridgeId()) continue;
        if (!best || key(p) < key(ports_.at(*best))) best = id;
    }
    root_port_ = best;
    if (!best) {
        designated_root_ = bridgeId();
        root_path_cost_ = 0;
    } else {
        const Port& r = ports_.at(*best);
        designated_root_ = r.designated_root;
        root_path_cost_ = r.designated_cost + r.cfg.path_cost;
    }
}

// 8.6.9 Designated Port Selection.
void Stp::designatedPortSelection() {
    for (auto& [id, p] : ports_) {
        bool ours = designatedPort(id, p) || p.designated_root != designated_root_ ||
                    root_path_cost_ < p.designated_cost ||
                    (root_path_cost_ == p.designated_cost &&
                     (bridgeId() < p.designated_bridge ||
                      (bridgeId() == p.designated_bridge && p.portId() <= p.designated_port)));
        if (ours) becomeDesignated(id, p);
    }
}

// 8.6.10 Become Designated Port.
void Stp::becomeDesignated(std::uint32_t, Port& p) {
    p.designated_root = designated_root_;
    p.designated_cost = root_path_cost_;
    p.designated_bridge = bridgeId();
    p.designated_port = p.portId();
}

// 8.6.11 Port State Selection.
void Stp::portStateSelection(std::int64_t now) {
    for (auto& [id, p] : ports_) {
        if (root_port_ == id) {
            p.config_pending = p.tc_ack = false;
            makeForwarding(p, now);
        } else if (designatedPort(id, p)) {
            p.message_age.stop();
            makeForwarding(p, now);
        } else {
            p.config_pending = p.tc_ack = false;
            makeBlocking(p, now);
        }
    }
}

// 8.6.12 Make Forwarding: through Listening and Learning, a Forward Delay each.
void Stp::makeForwarding(Port& p, std::int64_t now) {
    if (p.state != StpState::kBlocking) return;
    setState(p, StpState::kListening, now);
    p.forward_delay.start();
}

// 8.6.13 Make Blocking.
void Stp::makeBlocking(Port& p, std::int64_t now) {
    if (p.state == StpState::kDisabled || p.state == StpState::kBlocking) return;
    if ((p.state == StpState::kForwarding || p.state == StpState::kLearning) && p.change_detection)
        topologyChangeDetection();
    setState(p, StpState::kBlocking, now);
    p.forward_delay.stop();
}

void Stp::setState(Port& p, StpState s, std::int64_t now) {
    if (p.state == s) return;
    p.state = s;
    p.state_since = now;
    ++version_;
}

// 8.6.14 Topology Change Detection.
void Stp::topologyChangeDetection() {
    if (isRoot()) {
        setTopologyChange(true);
        tc_timer_.start();
    } else if (!tc_detected_) {
        transmitTcn();
        tcn_timer_.start();
    }
    tc_detected_ = true;
    fdb_flush_ = true;
    ++topology_changes_;
}

void Stp::setTopologyChange(bool on) {
    if (on && !topology_change_) fdb_flush_ = true;
    topology_change_ = on;
}

// After a port lost the root's information: the bridge became the root (8.7.5, 8.8.3).
void Stp::becameRoot(bool was_root) {
    if (!isRoot() || was_root) return;
    max_age_ms_ = cfg_.max_age_s * 1000LL;
    hello_ms_ = cfg_.hello_s * 1000LL;
    forward_delay_ms_ = cfg_.forward_delay_s * 1000LL;
    topologyChangeDetection();
    tcn_timer_.stop();
    configBpduGeneration();
    hello_timer_.start();
}

void Stp::receive(std::uint32_t id, const StpBpdu& b, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end()) return;
    Port& p = it->second;
    ++p.rx;
    if (p.state == StpState::kDisabled) return;
    if (b.type == StpBpdu::Type::kTcn) receiveTcn(id, p);
    else receiveConfig(id, p, b.config, now);
}

void Stp::receiveError(std::uint32_t id) {
    if (auto it = ports_.find(id); it != ports_.end()) ++it->second.errors;
}

// 8.7.1 Received Configuration BPDU.
void Stp::receiveConfig(std::uint32_t id, Port& p, const StpConfigBpdu& c, std::int64_t now) {
    if (!supersedes(p, c)) {
        if (designatedPort(id, p)) transmitConfig(id, p);  // a worse bridge on our segment: reply
        return;
    }
    bool was_root = isRoot();
    p.designated_root = c.root_id;  // 8.6.2 Record Configuration Information
    p.designated_cost = c.root_path_cost;
    p.designated_bridge = c.bridge_id;
    p.designated_port = c.port_id;
    p.message_age.start(from256(c.message_age));
    configurationUpdate();
    portStateSelection(now);
    if (was_root && !isRoot()) {
        hello_timer_.stop();
        if (tc_detected_) {
            tc_timer_.stop();
            transmitTcn();
            tcn_timer_.start();
        }
    }
    if (root_port_ == id) {
        max_age_ms_ = from256(c.max_age);  // 8.6.3 Record Configuration Timeout Values
        hello_ms_ = from256(c.hello_time);
        forward_delay_ms_ = from256(c.forward_delay);
        setTopologyChange(c.tc);
        configBpduGeneration();
        if (c.tc_ack) {  // 8.6.16 Topology Change Acknowledged
            tc_detected_ = false;
            tcn_timer_.stop();
        }
    }
}

// 8.7.2 Received Topology Change Notification BPDU.
void Stp::receiveTcn(std::uint32_t id, Port& p) {
    if (!designatedPort(id, p)) return;
    topologyChangeDetection();
    p.tc_ack = true;  // 8.6.17 Acknowledge Topology Change
    transmitConfig(id, p);
}

void Stp::topologyChange(std::int64_t) { topologyChangeDetection(); }

void Stp::messageAgeExpiry(std::uint32_t id, Port& p, std::int64_t now) {
    bool was_root = isRoot();
    becomeDesignated(id, p);
    configurationUpdate();
    portStateSelection(now);
    becameRoot(was_root);
}

void Stp::forwardDelayExpiry(Port& p, std::int64_t now) {
    if (p.state == StpState::kListening) {
        setState(p, StpState::kLearning, now);
        p.forward_delay.start();
    } else if (p.state == StpState::kLearning) {
        setState(p, StpState::kForwarding, now);
        bool designated_for_some = std::any_of(ports_.begin(), ports_.end(), [this](const auto& e) {
            return e.second.designated_bridge == bridgeId();
        });
        if (designated_for_some) topologyChangeDetection();
    }
}

// 8.7.3-8.7.8: timer expiries. Every timer advances first, then the expiries run: a timer that
// an expiry starts does not count the time that passed before it started.
void Stp::run(std::int64_t now) {
    std::int64_t dt = std::max<std::int64_t>(0, now - last_run_);
    last_run_ = now;
    bool hello = hello_timer_.expired(dt, hello_ms_);
    bool tcn = tcn_timer_.expired(dt, cfg_.hello_s * 1000LL);
    bool tc = tc_timer_.expired(dt, max_age_ms_ + forward_delay_ms_);
    struct Due {
        std::uint32_t id;
        bool age, fwd, hold;
    };
    std::vector<Due> due;
    for (auto& [id, p] : ports_) {
        Due d{id, p.message_age.expired(dt, max_age_ms_), p.forward_delay.expired(dt, forward_delay_ms_),
              p.hold.expired(dt, kHoldTimeMs)};
        if (d.age || d.fwd || d.hold) due.push_back(d);
    }
    if (hello) {
        configBpduGeneration();
        hello_timer_.start();
    }
    if (tcn) {
        transmitTcn();
        tcn_timer_.start();
    }
    if (tc) {
        tc_detected_ = false;
        setTopologyChange(false);
    }
    for (const Due& d : due) {
        auto it = ports_.find(d.id);
        if (it == ports_.end()) continue;
        Port& p = it->second;
        if (d.age && !p.message_age.active) messageAgeExpiry(d.id, p, now);
        if (d.fwd && !p.forward_delay.active) forwardDelayExpiry(p, now);
        if (d.hold && !p.hold.active && p.config_pending) transmitConfig(d.id, p);
    }
}

std::vector<std::pair<std::uint32_t, StpBpdu>> Stp::transmit() {
    std::vector<std::pair<std::uint32_t, StpBpdu>> out;
    out.swap(tx_);
    return out;
}

StpState Stp::state(std::uint32_t id) const {
    auto it = ports_.find(id);
    return it == ports_.end() ? StpState::kDisabled : it->second.state;
}

bool Stp::forwards(std::uint32_t id) const {
    auto it = ports_.find(id);
    if (it == ports_.end() || !it->second.cfg.enable) return true;  // STP off on the port
    return it->second.state == StpState::kForwarding;
}

bool Stp::learns(std::uint32_t id) const {
    auto it = ports_.find(id);
    if (it == ports_.end() || !it->second.cfg.enable) return true;
    return it->second.state == StpState::kForwarding || it->second.state == StpState::kLearning;
}

bool Stp::takeFdbFlush() { return std::exchange(fdb_flush_, false); }

StpStatus Stp::status(std::int64_t now) const {
    StpStatus s;
    s.bridge_id = bridgeId();
    s.designated_root = designated_root_;
    s.root_path_cost = root_path_cost_;
    s.root_port = root_port_;
    s.hello_s = static_cast<int>((hello_ms_ + 500) / 1000);
    s.max_age_s = static_cast<int>((max_age_ms_ + 500) / 1000);
    s.forward_delay_s = static_cast<int>((forward_delay_ms_ + 500) / 1000);
    s.bridge_hello_s = cfg_.hello_s;
    s.bridge_max_age_s = cfg_.max_age_s;
    s.bridge_forward_delay_s = cfg_.forward_delay_s;
    s.topology_change = topology_change_;
    s.topology_changes = topology_changes_;
    for (const auto& [id, p] : ports_) {
        StpPortStatus& ps = s.ports.emplace_back();
        ps.id = id;
        ps.port_id = p.portId();
        ps.state = p.state;
        ps.role = p.state == StpState::kDisabled ? StpRole::kDisabled
                  : root_port_ == id             ? StpRole::kRoot
                  : designatedPort(id, p)        ? StpRole::kDesignated
                                                 : StpRole::kAlternate;
        ps.path_cost = p.cfg.path_cost;
        ps.designated_root = p.designated_root;
        ps.designated_bridge = p.designated_bridge;
        ps.designated_cost = p.designated_cost;
        ps.designated_port = p.designated_port;
        ps.sec_in_state = (now - p.state_since) / 1000;
        ps.tx = p.tx;
        ps.rx = p.rx;
        ps.errors = p.errors;
    }
    return s;
}

}  // namespace vs::ofproto
