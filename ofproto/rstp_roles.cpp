// IEEE 802.1D-2004 RSTP (see rstp.h): Port Role Transitions (17.29), Port State Transition
// (17.30) and Topology Change (17.31). Each function takes one transition whose condition holds
// and says whether it did; settle() calls them until none does.
#include "ofproto/rstp.h"

namespace vs::ofproto {

// 17.20.3 allSynced: every other port agrees with the new information (the root port excepted).
bool Rstp::allSynced(std::uint32_t except) const {
    for (const auto& [id, q] : ports_) {
        if (id == except) continue;
        if (q.role != q.selected_role || q.updt_info) return false;
        if (q.role != RstpRole::kRoot && !q.synced) return false;
    }
    return true;
}

// 17.20.10 reRooted: no other port is a recent root port.
bool Rstp::reRooted(std::uint32_t except) const {
    for (const auto& [id, q] : ports_)
        if (id != except && q.rr_while != 0) return false;
    return true;
}

void Rstp::setSyncTree() {  // 17.21.14
    for (auto& [id, q] : ports_) q.sync = true;
}

void Rstp::setReRootTree() {  // 17.21.15
    for (auto& [id, q] : ports_) q.re_root = true;
}

// 17.29: a role change first (entry actions of ROOT_PORT, DESIGNATED_PORT, BLOCK_PORT /
// ALTERNATE_PORT, DISABLE_PORT / DISABLED_PORT), then the role's own transitions.
bool Rstp::roleTransitions(std::uint32_t id, Port& p) {
    if (p.updt_info) return false;  // selected && !updtInfo
    if (p.role != p.selected_role) {
        p.role = p.selected_role;
        switch (p.role) {
        case RstpRole::kRoot: p.rr_while = p.designated_times.forward_delay; break;
        case RstpRole::kDesignated: break;
        case RstpRole::kAlternate:
        case RstpRole::kBackup:
        case RstpRole::kDisabled: p.learn = p.forward = false; break;
        }
        return true;
    }
    switch (p.role) {
    case RstpRole::kRoot: return rootPortTransitions(id, p);
    case RstpRole::kDesignated: return designatedPortTransitions(p);
    case RstpRole::kAlternate:
    case RstpRole::kBackup: return alternatePortTransitions(id, p);
    case RstpRole::kDisabled:
        if (p.learning || p.forwarding || (p.synced && !p.sync && !p.re_root && p.rr_while == 0)) return false;
        p.fd_while = p.designated_times.max_age;  // DISABLED_PORT
        p.synced = true;
        p.rr_while = 0;
        p.sync = p.re_root = false;
        return true;
    }
    return false;
}

bool Rstp::rootPortTransitions(std::uint32_t id, Port& p) {
    p.rr_while = p.designated_times.forward_delay;  // ROOT_PORT holds rrWhile at FwdDelay
    if (p.proposed && !p.agree) {  // ROOT_PROPOSED
        setSyncTree();
        p.proposed = false;
        return true;
    }
    if ((allSynced(id) && !p.agree) || (p.proposed && p.agree)) {  // ROOT_AGREED
        p.proposed = p.sync = false;
        p.agree = true;
        p.new_info = true;
        return true;
    }
    if (p.sync) {  // ROOT_SYNCED (802.1Q-2005's name): the root port needs no discarding
        p.sync = false;
        p.synced = true;
        return true;
    }
    if (!p.forward && !p.re_root) {  // REROOT
        setReRootTree();
        return true;
    }
    if (p.re_root && p.forward) {  // REROOTED
        p.re_root = false;
        return true;
    }
    bool may = p.fd_while == 0 || (reRooted(id) && p.rb_while == 0 && rstpVersion());
    if (may && !p.learn) {  // ROOT_LEARN
        p.fd_while = fwdDelay(p);
        p.learn = true;
        return true;
    }
    if (may && p.learn && !p.forward) {  // ROOT_FORWARD
        p.fd_while = 0;
        p.forward = true;
        return true;
    }
    return false;
}

bool Rstp::designatedPortTransitions(Port& p) {
    if (!p.forward && !p.agreed && !p.proposing && !p.oper_edge) {  // DESIGNATED_PROPOSE
        p.proposing = true;
        p.edge_delay_while = edgeDelay(p);
        p.new_info = true;
        return true;
    }
    if ((!p.learning && !p.forwarding && !p.synced) || (p.agreed && !p.synced) || (p.oper_edge && !p.synced) ||
        (p.sync && p.synced)) {  // DESIGNATED_SYNCED
        p.rr_while = 0;
        p.synced = true;
        p.sync = false;
        return true;
    }
    if (p.re_root && p.rr_while == 0) {  // DESIGNATED_RETIRED
        p.re_root = false;
        return true;
    }
    if (((p.sync && !p.synced) || (p.re_root && p.rr_while != 0) || p.disputed) && !p.oper_edge &&
        (p.learn || p.forward)) {  // DESIGNATED_DISCARD
        p.learn = p.forward = p.disputed = false;
        p.fd_while = fwdDelay(p);
        return true;
    }
    bool may = (p.fd_while == 0 || p.agreed || p.oper_edge) && (p.rr_while == 0 || !p.re_root) && !p.sync;
    if (may && !p.learn) {  // DESIGNATED_LEARN
        p.learn = true;
        p.fd_while = fwdDelay(p);
        return true;
    }
    if (may && p.learn && !p.forward) {  // DESIGNATED_FORWARD
        p.forward = true;
        p.fd_while = 0;
        p.agreed = p.send_rstp;
        return true;
    }
    return false;
}

bool Rstp::alternatePortTransitions(std::uint32_t id, Port& p) {
    if (p.proposed && !p.agree) {  // ALTERNATE_PROPOSED
        setSyncTree();
        p.proposed = false;
        return true;
    }
    if ((allSynced(id) && !p.agree) || (p.proposed && p.agree)) {  // ALTERNATE_AGREED
        p.proposed = false;
        p.agree = true;
        p.new_info = true;
        return true;
    }
    if (p.learning || p.forwarding) return false;  // BLOCK_PORT waits for Discarding
    bool changed = p.sync || p.re_root || !p.synced || p.rr_while != 0;
    p.fd_while = fwdDelay(p);  // ALTERNATE_PORT
    p.synced = true;
    p.rr_while = 0;
    p.sync = p.re_root = false;
    if (p.role == RstpRole::kBackup && p.rb_while < 2 * kHelloMs) {  // BACKUP_PORT
        p.rb_while = 2 * kHelloMs;
        changed = true;
    }
    return changed;
}

// 17.30 Port State Transition: learning and forwarding follow learn and forward.
bool Rstp::stateTransitions(Port& p, std::int64_t now) {
    bool changed = false;
    if (p.learning != p.learn) {
        p.learning = p.learn;
        changed = true;
    }
    if (p.forwarding != p.forward) {
        p.forwarding = p.forward;
        changed = true;
    }
    RstpState s = !p.enabled()   ? RstpState::kDisabled
                  : p.forwarding ? RstpState::kForwarding
                  : p.learning   ? RstpState::kLearning
                                 : RstpState::kDiscarding;
    setState(p, s, now);
    return changed;
}

// 17.21.7 newTcWhile.
void Rstp::newTcWhile(Port& p) {
    if (p.tc_while != 0) return;
    if (p.send_rstp) {
        p.tc_while = p.designated_times.hello + 1000;
        p.new_info = true;
    } else {
        p.tc_while = root_times_.max_age + root_times_.forward_delay;
    }
}

void Rstp::setTcPropTree(std::uint32_t except) {  // 17.21.18
    for (auto& [id, q] : ports_)
        if (id != except) q.tc_prop = true;
}

// 17.31 Topology Change.
bool Rstp::topologyChange(std::uint32_t id, Port& p) {
    bool active_role = p.role == RstpRole::kRoot || p.role == RstpRole::kDesignated;
    switch (p.tc) {
    case Port::Tc::kInactive:
        if (p.learn && active_role) {  // LEARNING
            p.tc = Port::Tc::kLearning;
            p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = p.tc_prop = false;
            return true;
        }
        if (p.rcvd_tc || p.rcvd_tcn || p.rcvd_tc_ack || p.tc_prop) {  // ignored while inactive
            p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = p.tc_prop = false;
            return true;
        }
        return false;
    case Port::Tc::kLearning:
        if (active_role && p.forward && !p.oper_edge) {  // DETECTED
            newTcWhile(p);
            setTcPropTree(id);
            p.new_info = true;
            ++topology_changes_;
            p.tc = Port::Tc::kActive;
            return true;
        }
        if (!active_role && !p.learn && !p.learning) {  // INACTIVE
            p.fdb_flush = true;
            p.tc_while = 0;
            p.tc_ack = false;
            p.tc = Port::Tc::kInactive;
            return true;
        }
        if (p.rcvd_tc || p.rcvd_tcn || p.rcvd_tc_ack || p.tc_prop) {
            p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = p.tc_prop = false;
            return true;
        }
        return false;
    case Port::Tc::kActive:
        if (!active_role || p.oper_edge) {  // back to LEARNING
            p.tc = Port::Tc::kLearning;
            p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = p.tc_prop = false;
            return true;
        }
        if (p.rcvd_tcn || p.rcvd_tc) {  // NOTIFIED_TCN, NOTIFIED_TC
            if (p.rcvd_tcn) newTcWhile(p);
            p.rcvd_tcn = p.rcvd_tc = false;
            if (p.role == RstpRole::kDesignated) p.tc_ack = true;
            setTcPropTree(id);
            ++topology_changes_;
            return true;
        }
        if (p.tc_prop && !p.oper_edge) {  // PROPAGATING
            newTcWhile(p);
            p.fdb_flush = true;
            p.tc_prop = false;
            return true;
        }
        if (p.rcvd_tc_ack) {  // ACKNOWLEDGED
            p.tc_while = 0;
            p.rcvd_tc_ack = false;
            return true;
        }
        return false;
    }
    return false;
}

}  // namespace vs::ofproto
