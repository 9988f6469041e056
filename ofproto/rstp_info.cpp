// IEEE 802.1D-2004 RSTP (see rstp.h): Port Information (17.27) and Port Role Selection (17.28),
// with the procedures they call (17.21) under their names.
#include <tuple>

#include "ofproto/rstp.h"

namespace vs::ofproto {
namespace {

// The four components that travel in a BPDU (the receiving port's id is left out).
auto four(const Rstp::Vector& v) { return std::tie(v.root, v.cost, v.bridge, v.port); }

// 17.6: `m` is superior to `p`: better, or from the same designated bridge and port (a
// bridge's own changed information replaces what it said before).
bool superior(const Rstp::Vector& m, const Rstp::Vector& p) {
    if (four(m) < four(p)) return true;
    return (m.bridge & 0xffffffffffffULL) == (p.bridge & 0xffffffffffffULL) && (m.port & 0xfff) == (p.port & 0xfff);
}

}  // namespace

// 17.21.8 rcvInfo.
Rstp::RcvdInfo Rstp::rcvInfo(const Port& p) const {
    const Vector& m = p.msg_priority;
    if (p.rcvd_flags_designated) {
        bool same = four(m) == four(p.port_priority);
        if (superior(m, p.port_priority) && !(same && p.msg_times == p.port_times)) return RcvdInfo::kSuperiorDesignated;
        if (four(m) == four(p.port_priority) && p.msg_times == p.port_times) return RcvdInfo::kRepeatedDesignated;
        return RcvdInfo::kInferiorDesignated;
    }
    if (p.rcvd_flags_root_alt && !(four(m) < four(p.port_priority))) return RcvdInfo::kInferiorRootAlternate;
    return RcvdInfo::kOther;
}

// 17.27 Port Information, on a received BPDU (RECEIVE and what follows it).
void Rstp::portInformation(std::uint32_t, Port& p, const RstpBpdu& b) {
    if (p.info_is == Info::kDisabled) return;
    // 17.21.17 setTcFlags
    if (b.type == RstpBpdu::Type::kTcn) p.rcvd_tcn = true;
    else {
        p.rcvd_tc |= b.tc;
        if (b.type == RstpBpdu::Type::kConfig) p.rcvd_tc_ack |= b.tc_ack;
    }
    if (b.type == RstpBpdu::Type::kTcn) return;
    p.msg_priority = {b.root_id, b.root_path_cost, b.bridge_id, b.port_id, p.portId()};
    auto ms = [](std::uint16_t v) { return std::int64_t{v} * 1000 / 256; };
    p.msg_times = {ms(b.message_age), ms(b.max_age), ms(b.forward_delay), ms(b.hello_time)};
    if (p.msg_times.hello < 1000) p.msg_times.hello = 1000;
    bool rst = b.type == RstpBpdu::Type::kRst;
    p.rcvd_flags_designated = !rst || b.role == RstpRole::kDesignated;
    p.rcvd_flags_root_alt = rst && (b.role == RstpRole::kRoot || b.role == RstpRole::kAlternate);
    switch (rcvInfo(p)) {
    case RcvdInfo::kSuperiorDesignated: {
        // SUPERIOR_DESIGNATED
        p.agreed = p.proposing = false;
        p.proposed = rst && b.proposal;  // recordProposal
        bool better_or_same = !(four(p.port_priority) < four(p.msg_priority)) || p.info_is != Info::kReceived;
        p.agree = p.agree && better_or_same;
        p.port_priority = p.msg_priority;  // recordPriority
        p.port_times = p.msg_times;        // recordTimes
        // updtRcvdInfoWhile: three Hello Times, or zero when the information is too old.
        p.rcvd_info_while = p.port_times.message_age + 1000 <= p.port_times.max_age ? 3 * p.port_times.hello : 0;
        p.info_is = Info::kReceived;
        reselect_ = true;
        break;
    }
    case RcvdInfo::kRepeatedDesignated:
        if (rst && b.proposal) p.proposed = true;
        p.rcvd_info_while = p.port_times.message_age + 1000 <= p.port_times.max_age ? 3 * p.port_times.hello : 0;
        break;
    case RcvdInfo::kInferiorDesignated:
        if (rst && b.learning) {  // recordDispute
            p.agreed = p.proposing = false;
            p.disputed = true;
        }
        break;
    case RcvdInfo::kInferiorRootAlternate:
        if (rstpVersion() && p.p2p() && rst && b.agreement) {  // recordAgreement
            p.agreed = true;
            p.proposing = false;
        } else {
            p.agreed = false;
        }
        break;
    case RcvdInfo::kOther: break;
    }
}

// 17.27's transitions that need no BPDU: DISABLED when the port goes down, AGED when it comes
// up or its received information times out, UPDATE when role selection asks (updtInfo).
bool Rstp::agedOrUpdated(Port& p) {
    if (!p.enabled() && p.info_is != Info::kDisabled) {
        p.proposing = p.proposed = p.agree = p.agreed = false;
        p.rcvd_info_while = 0;
        p.info_is = Info::kDisabled;
        reselect_ = true;
        return true;
    }
    if (!p.enabled()) return false;
    if (p.info_is == Info::kDisabled || (p.info_is == Info::kReceived && p.rcvd_info_while == 0 && !p.updt_info)) {
        p.info_is = Info::kAged;
        reselect_ = true;
        return true;
    }
    if (!p.updt_info) return false;
    // UPDATE
    p.proposing = p.proposed = false;
    p.agreed = p.agreed && !(four(p.port_priority) < four(p.designated_priority));  // betterorsameInfo(Mine)
    p.synced = p.synced && p.agreed;
    p.port_priority = p.designated_priority;
    p.port_times = p.designated_times;
    p.updt_info = false;
    p.info_is = Info::kMine;
    p.new_info = true;
    return true;
}

// 17.28 Port Role Selection: clearReselectTree, updtRolesTree, setSelectedTree.
void Rstp::roleSelection() {
    reselect_ = false;
    updtRolesTree();
}

// 17.21.25 updtRolesTree.
void Rstp::updtRolesTree() {
    Vector best{bridgeId(), 0, bridgeId(), 0, 0};
    std::optional<std::uint32_t> best_port;
    for (const auto& [id, p] : ports_) {
        if (p.info_is != Info::kReceived) continue;
        if ((p.port_priority.bridge & 0xffffffffffffULL) == (bridgeId() & 0xffffffffffffULL)) continue;
        Vector rp{p.port_priority.root, p.port_priority.cost + p.cfg.path_cost, p.port_priority.bridge,
                  p.port_priority.port, p.portId()};
        if (rp < best) {
            best = rp;
            best_port = id;
        }
    }
    root_ = best;
    root_port_ = best_port;
    if (best_port) {
        root_times_ = ports_.at(*best_port).port_times;
        root_times_.message_age += 1000;  // incremented by one second (17.21.25 b)
    } else {
        root_times_ = {0, cfg_.max_age_s * 1000LL, cfg_.forward_delay_s * 1000LL, kHelloMs};
    }
    for (auto& [id, p] : ports_) {
        p.designated_priority = {root_.root, root_.cost, bridgeId(), p.portId(), p.portId()};
        p.designated_times = root_times_;
        p.designated_times.hello = kHelloMs;
        switch (p.info_is) {
        case Info::kDisabled: p.selected_role = RstpRole::kDisabled; break;
        case Info::kAged:
            p.selected_role = RstpRole::kDesignated;
            p.updt_info = true;
            break;
        case Info::kMine:
            p.selected_role = RstpRole::kDesignated;
            p.updt_info = four(p.port_priority) != four(p.designated_priority) || !(p.port_times == p.designated_times);
            break;
        case Info::kReceived:
            if (best_port == id) {
                p.selected_role = RstpRole::kRoot;
                p.updt_info = false;
            } else if (four(p.designated_priority) < four(p.port_priority)) {
                p.selected_role = RstpRole::kDesignated;
                p.updt_info = true;
            } else {
                bool ours = (p.port_priority.bridge & 0xffffffffffffULL) == (bridgeId() & 0xffffffffffffULL);
                p.selected_role = ours ? RstpRole::kBackup : RstpRole::kAlternate;
                p.updt_info = false;
            }
            break;
        }
    }
}

}  // namespace vs::ofproto
