// IEEE 802.1D-2004 clause 17 RSTP (see rstp.h): the bridge and its ports, the timers (17.17,
// Port Timers machine 17.22), the loop that runs the machines to quiescence, status.
#include "ofproto/rstp.h"

#include <algorithm>

namespace vs::ofproto {

const char* toString(RstpRole r) {
    switch (r) {
    case RstpRole::kDisabled: return "Disabled";
    case RstpRole::kRoot: return "Root";
    case RstpRole::kDesignated: return "Designated";
    case RstpRole::kAlternate: return "Alternate";
    case RstpRole::kBackup: return "Backup";
    }
    return "?";
}

const char* toString(RstpState s) {
    switch (s) {
    case RstpState::kDisabled: return "Disabled";
    case RstpState::kDiscarding: return "Discarding";
    case RstpState::kLearning: return "Learning";
    case RstpState::kForwarding: return "Forwarding";
    }
    return "?";
}

std::optional<std::string> RstpSettings::problem() const {
    auto range = [](const char* key, long v, long lo, long hi) -> std::optional<std::string> {
        if (v >= lo && v <= hi) return std::nullopt;
        return std::string(key) + " " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi);
    };
    if (auto p = range("rstp-ageing-time", ageing_time_s, 10, 1000000)) return p;
    if (force_protocol_version != 0 && force_protocol_version != 2)
        return "rstp-force-protocol-version " + std::to_string(force_protocol_version) +
               " is neither 0 (STP compatibility) nor 2 (RSTP)";
    if (auto p = range("rstp-max-age", max_age_s, 6, 40)) return p;
    if (auto p = range("rstp-forward-delay", forward_delay_s, 4, 30)) return p;
    if (auto p = range("rstp-transmit-hold-count", transmit_hold_count, 1, 10)) return p;
    if (2 * (forward_delay_s - 1) < max_age_s)
        return "rstp-max-age " + std::to_string(max_age_s) + " is over 2 * (rstp-forward-delay - 1) = " +
               std::to_string(2 * (forward_delay_s - 1)) + " (802.1D-2004 17.14)";
    return std::nullopt;
}

Rstp::Rstp(const RstpSettings& s, std::int64_t now) : cfg_(s), last_run_(now) {
    cfg_.priority &= 0xf000;
    root_ = {bridgeId(), 0, bridgeId(), 0, 0};
    root_times_ = {0, cfg_.max_age_s * 1000LL, cfg_.forward_delay_s * 1000LL, kHelloMs};
}

// 17.18.1 BEGIN for every port: new bridge identifier or timers.
void Rstp::configure(const RstpSettings& in, std::int64_t now) {
    RstpSettings s = in;
    s.priority &= 0xf000;
    if (s == cfg_) return;
    cfg_ = s;
    root_ = {bridgeId(), 0, bridgeId(), 0, 0};
    root_times_ = {0, cfg_.max_age_s * 1000LL, cfg_.forward_delay_s * 1000LL, kHelloMs};
    root_port_.reset();
    for (auto& [id, p] : ports_) initPort(p, now);
    settle(now);
}

std::int64_t Rstp::fwdDelay(const Port& p) const {  // forwardDelay (17.20.6)
    return p.send_rstp ? p.designated_times.hello : p.designated_times.forward_delay;
}

std::uint16_t Rstp::lowestFreePortNum(std::uint32_t except) const {
    for (std::uint16_t n = 1; n <= 4095; ++n) {
        bool used = false;
        for (const auto& [id, p] : ports_) used |= id != except && p.num == n;
        if (!used) return n;
    }
    return 0;
}

// The net effect of BEGIN on one port: Port Information DISABLED, Port Role Transitions
// INIT_PORT -> DISABLE_PORT -> DISABLED_PORT, Port Protocol Migration CHECKING_RSTP, Bridge
// Detection from AdminEdge, Topology Change INACTIVE, Port Transmit TRANSMIT_INIT.
void Rstp::initPort(Port& p, std::int64_t now) {
    p.info_is = Info::kDisabled;
    p.role = p.selected_role = RstpRole::kDisabled;
    p.learn = p.forward = p.learning = p.forwarding = false;
    setState(p, p.enabled() ? RstpState::kDiscarding : RstpState::kDisabled, now);
    p.proposing = p.proposed = p.agree = p.agreed = false;
    p.synced = true;
    p.sync = p.re_root = p.disputed = p.updt_info = false;
    p.designated_priority = root_;
    p.designated_times = root_times_;
    p.port_priority = {};
    p.port_times = root_times_;
    p.rr_while = p.rb_while = p.tc_while = p.rcvd_info_while = 0;
    p.fd_while = root_times_.max_age;
    p.mig = Port::Mig::kCheckingRstp;
    p.mcheck = false;
    p.send_rstp = rstpVersion();
    p.mdelay_while = kMigrateMs;
    p.rcvd_stp = p.rcvd_rstp = false;
    p.oper_edge = p.cfg.admin_edge;
    p.edge_delay_while = kMigrateMs;
    p.tc = Port::Tc::kInactive;
    p.tc_prop = p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = p.tc_ack = false;
    p.new_info = true;
    p.tx_count = 0;
    p.hello_when = 0;
    reselect_ = true;
}

void Rstp::addPort(std::uint32_t id, const RstpPortSettings& s, bool carrier, std::int64_t now) {
    if (ports_.count(id)) return setPortSettings(id, s, now);
    Port& p = ports_[id];
    p.cfg = s;
    p.num = s.port_num ? s.port_num : lowestFreePortNum(id);
    p.carrier = carrier;
    p.state_since = p.added = now;
    initPort(p, now);
    ++version_;
    settle(now);
}

void Rstp::setPortSettings(std::uint32_t id, const RstpPortSettings& s, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end() || it->second.cfg == s) return;
    Port& p = it->second;
    bool mcheck = s.mcheck && !p.cfg.mcheck;  // false -> true forces RST BPDUs (17.19.13)
    bool restart = s.enable != p.cfg.enable || s.port_num != p.cfg.port_num || s.priority != p.cfg.priority ||
                   s.admin_edge != p.cfg.admin_edge;
    p.cfg = s;
    if (s.port_num) p.num = s.port_num;
    if (restart) {
        initPort(p, now);
        ++version_;
    }
    if (mcheck && rstpVersion()) p.mcheck = true;
    reselect_ = true;  // a new path cost or port id changes the root path priority
    settle(now);
}

void Rstp::removePort(std::uint32_t id, std::int64_t now) {
    if (ports_.erase(id) == 0) return;
    if (root_port_ == id) root_port_.reset();
    reselect_ = true;
    ++version_;
    settle(now);
}

void Rstp::setCarrier(std::uint32_t id, bool up, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end() || it->second.carrier == up) return;
    it->second.carrier = up;
    if (up) initPort(it->second, now);  // 17.23 portEnabled: the machines start afresh
    settle(now);
}

void Rstp::receiveError(std::uint32_t id) {
    if (auto it = ports_.find(id); it != ports_.end()) ++it->second.errors;
}

// 17.23 Port Receive: the BPDU's version marks the port (updtBPDUVersion), a BPDU means the port
// is not an edge port, then Port Information records it.
void Rstp::receive(std::uint32_t id, const RstpBpdu& b, std::int64_t now) {
    auto it = ports_.find(id);
    if (it == ports_.end()) return;
    Port& p = it->second;
    ++p.rx;
    if (!p.enabled() || !p.cfg.enable) return;
    if (b.type == RstpBpdu::Type::kRst) p.rcvd_rstp = true;
    else p.rcvd_stp = true;
    p.oper_edge = false;
    p.edge_delay_while = kMigrateMs;
    settle(now);  // Port Protocol Migration may switch to STP before the information is used
    portInformation(id, p, b);
    settle(now);
}

void Rstp::setState(Port& p, RstpState s, std::int64_t now) {
    if (p.state == s) return;
    p.state = s;
    p.state_since = now;
    ++version_;
}

// Runs the machines until none has anything left to do, then Port Transmit once per port so
// that one BPDU carries everything decided.
void Rstp::settle(std::int64_t now) {
    for (int round = 0; round < 64; ++round) {
        bool changed = false;
        for (auto& [id, p] : ports_) changed |= agedOrUpdated(p);
        if (reselect_) {
            roleSelection();
            changed = true;
            for (auto& [id, p] : ports_) agedOrUpdated(p);
        }
        for (auto& [id, p] : ports_) changed |= roleTransitions(id, p);
        for (auto& [id, p] : ports_) changed |= stateTransitions(p, now);
        for (auto& [id, p] : ports_) changed |= topologyChange(id, p);
        for (auto& [id, p] : ports_) changed |= protocolMigration(p) | bridgeDetection(p);
        if (!changed) break;
    }
    for (auto& [id, p] : ports_) portTransmit(id, p);
}

// 17.22 Port Timers: every timer counts down to zero; txCount drops by one each second.
void Rstp::run(std::int64_t now) {
    std::int64_t dt = std::max<std::int64_t>(0, now - last_run_);
    last_run_ = now;
    auto tick = [dt](std::int64_t& t) { t = std::max<std::int64_t>(0, t - dt); };
    for (auto& [id, p] : ports_) {
        for (std::int64_t* t : {&p.fd_while, &p.rr_while, &p.rb_while, &p.tc_while, &p.rcvd_info_while, &p.hello_when,
                                &p.mdelay_while, &p.edge_delay_while})
            tick(*t);
        p.tx_count_left -= dt;
        while (p.tx_count_left <= 0) {
            p.tx_count_left += 1000;
            if (p.tx_count > 0) --p.tx_count;
        }
    }
    settle(now);
}

std::vector<std::pair<std::uint32_t, RstpBpdu>> Rstp::transmit() {
    std::vector<std::pair<std::uint32_t, RstpBpdu>> out;
    out.swap(tx_);
    return out;
}

RstpRole Rstp::role(std::uint32_t id) const {
    auto it = ports_.find(id);
    return it == ports_.end() ? RstpRole::kDisabled : it->second.role;
}

RstpState Rstp::state(std::uint32_t id) const {
    auto it = ports_.find(id);
    return it == ports_.end() ? RstpState::kDisabled : it->second.state;
}

bool Rstp::forwards(std::uint32_t id) const {
    auto it = ports_.find(id);
    if (it == ports_.end() || !it->second.cfg.enable) return true;
    return it->second.state == RstpState::kForwarding;
}

bool Rstp::learns(std::uint32_t id) const {
    auto it = ports_.find(id);
    if (it == ports_.end() || !it->second.cfg.enable) return true;
    return it->second.state == RstpState::kForwarding || it->second.state == RstpState::kLearning;
}

std::vector<std::uint32_t> Rstp::takeFdbFlush() {
    std::vector<std::uint32_t> out;
    for (auto& [id, p] : ports_)
        if (std::exchange(p.fdb_flush, false)) out.push_back(id);
    return out;
}

RstpStatus Rstp::status(std::int64_t now) const {
    RstpStatus s;
    s.bridge_id = bridgeId();
    s.root_id = root_.root;
    s.root_path_cost = root_.cost;
    s.root_port = root_port_;
    s.designated_id = bridgeId();
    if (root_port_) {
        const Port& r = ports_.at(*root_port_);
        s.root_port_id = r.portId();
        s.designated_id = r.port_priority.bridge;
        s.designated_port_id = r.port_priority.port;
    }
    s.hello_s = static_cast<int>(root_times_.hello / 1000);
    s.max_age_s = static_cast<int>(root_times_.max_age / 1000);
    s.forward_delay_s = static_cast<int>(root_times_.forward_delay / 1000);
    s.ageing_time_s = cfg_.ageing_time_s;
    s.force_protocol_version = cfg_.force_protocol_version;
    s.transmit_hold_count = cfg_.transmit_hold_count;
    s.topology_changes = topology_changes_;
    for (const auto& [id, p] : ports_) {
        RstpPortStatus& ps = s.ports.emplace_back();
        ps.id = id;
        ps.port_id = p.portId();
        ps.role = p.role;
        ps.state = p.state;
        ps.path_cost = p.cfg.path_cost;
        ps.designated_bridge = p.port_priority.bridge;
        ps.designated_port = p.port_priority.port;
        ps.designated_cost = p.port_priority.cost;
        ps.oper_edge = p.oper_edge;
        ps.send_rstp = p.send_rstp;
        ps.p2p = p.p2p();
        ps.sec_in_state = (now - p.state_since) / 1000;
        ps.uptime_s = (now - p.added) / 1000;
        ps.tx = p.tx;
        ps.rx = p.rx;
        ps.errors = p.errors;
    }
    return s;
}

}  // namespace vs::ofproto
