// Egress QoS plans, their application through libnl-route, and the policers (qos.h).
#include "vswitchd/qos.h"

#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>

#include <linux/pkt_sched.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/hfsc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

#include "datapath/clock.h"
#include "vswitchd/log.h"

namespace vs::vswitchd {
namespace {

constexpr log::Module kLog = log::Module::kBridge;
constexpr std::uint32_t kRootQdisc = 0x10000;  // 1:

std::optional<std::uint64_t> number(const StringMap& m, const char* key) {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec != std::errc() || end != it->second.data() + it->second.size()) return std::nullopt;
    return n;
}

TcClass queueClass(std::uint32_t id, const StringMap& oc, std::uint64_t qos_max, int mtu) {
    TcClass c;
    c.handle = kRootQdisc | ((id + 1) & 0xffff);
    c.parent = kQosRootClass;
    std::uint64_t mtu_bytes = static_cast<std::uint64_t>(mtu);
    c.min_rate = std::min(std::max(number(oc, "min-rate").value_or(0) / 8, mtu_bytes), qos_max);
    c.max_rate = std::min(std::max(number(oc, "max-rate").value_or(qos_max * 8) / 8, c.min_rate), qos_max);
    std::uint64_t burst = std::max<std::uint64_t>(number(oc, "burst").value_or(0) / 8, mtu_bytes + 64);
    c.burst = static_cast<std::uint32_t>(std::min<std::uint64_t>(burst, UINT32_MAX));
    c.priority = static_cast<std::uint32_t>(number(oc, "priority").value_or(0));
    return c;
}

// ---- libnl ------------------------------------------------------------------------------------

struct NlSock {
    nl_sock* s = nl_socket_alloc();
    ~NlSock() { if (s) nl_socket_free(s); }
};
template <class T, void (*Free)(T*)>
struct NlObj {
    T* p;
    ~NlObj() { if (p) Free(p); }
};
using Qdisc = NlObj<rtnl_qdisc, rtnl_qdisc_put>;
using Class = NlObj<rtnl_class, rtnl_class_put>;

std::string nlError(const std::string& what, int err) { return what + ": " + nl_geterror(err); }

std::string classId(std::uint32_t handle) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%x:%x", handle >> 16, handle & 0xffff);
    return buf;
}

int deleteRoot(nl_sock* s, int ifindex) {
    Qdisc q{rtnl_qdisc_alloc()};
    rtnl_tc_set_ifindex(TC_CAST(q.p), ifindex);
    rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
    int err = rtnl_qdisc_delete(s, q.p);
    return err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_INVAL ? 0 : err;  // none there
}

int addRootQdisc(nl_sock* s, int ifindex, const std::string& kind) {
    Qdisc q{rtnl_qdisc_alloc()};
    rtnl_tc_set_ifindex(TC_CAST(q.p), ifindex);
    rtnl_tc_set_parent(TC_CAST(q.p), TC_H_ROOT);
    rtnl_tc_set_handle(TC_CAST(q.p), kRootQdisc);
    if (int err = rtnl_tc_set_kind(TC_CAST(q.p), kind.c_str())) return err;
    if (kind == "htb") {
        rtnl_htb_set_defcls(q.p, 1);
        rtnl_htb_set_rate2quantum(q.p, 10);
    } else {
        rtnl_qdisc_hfsc_set_defcls(q.p, 1);
    }
    return rtnl_qdisc_add(s, q.p, NLM_F_CREATE | NLM_F_REPLACE);
}

int addClass(nl_sock* s, int ifindex, const std::string& kind, const TcClass& c, int mtu) {
    Class k{rtnl_class_alloc()};
    rtnl_tc_set_ifindex(TC_CAST(k.p), ifindex);
    rtnl_tc_set_parent(TC_CAST(k.p), c.parent);
    rtnl_tc_set_handle(TC_CAST(k.p), c.handle);
    rtnl_tc_set_mtu(TC_CAST(k.p), static_cast<std::uint32_t>(mtu) + 14);
    if (int err = rtnl_tc_set_kind(TC_CAST(k.p), kind.c_str())) return err;
    if (kind == "htb") {  // tc class add ... htb rate MIN ceil MAX burst B cburst B prio P
        rtnl_htb_set_rate64(k.p, c.min_rate);
        rtnl_htb_set_ceil64(k.p, c.max_rate);
        rtnl_htb_set_rbuffer(k.p, c.burst);
        rtnl_htb_set_cbuffer(k.p, c.burst);
        rtnl_htb_set_prio(k.p, c.priority);
    } else {  // hfsc: real-time and link-sharing curves at MIN, upper limit at MAX (linear)
        tc_service_curve lo{0, 0, static_cast<std::uint32_t>(std::min<std::uint64_t>(c.min_rate, UINT32_MAX))};
        tc_service_curve hi{0, 0, static_cast<std::uint32_t>(std::min<std::uint64_t>(c.max_rate, UINT32_MAX))};
        if (c.handle == kQosRootClass) lo = hi;
        rtnl_class_hfsc_set_rsc(k.p, &lo);
        rtnl_class_hfsc_set_fsc(k.p, &lo);
        rtnl_class_hfsc_set_usc(k.p, &hi);
    }
    return rtnl_class_add(s, k.p, NLM_F_CREATE | NLM_F_REPLACE);
}

int mtuOf(const std::string& netdev) {
    std::ifstream f("/sys/class/net/" + netdev + "/mtu");
    int mtu = 0;
    return (f >> mtu) && mtu > 0 ? mtu : 1500;
}

// The link's speed (bit/s) from sysfs, or kDefaultLinkRate when unknown (as Open vSwitch).
std::uint64_t linkRate(const std::string& netdev) {
    std::ifstream f("/sys/class/net/" + netdev + "/speed");
    long long mbps = 0;
    return (f >> mbps) && mbps > 0 ? static_cast<std::uint64_t>(mbps) * 1'000'000 : kDefaultLinkRate;
}

}  // namespace

TcPlan planQos(const QosConfig& q, int mtu, std::uint64_t link_bps) {
    TcPlan plan;
    plan.kind = q.type == "linux-hfsc" ? "hfsc" : "htb";
    std::uint64_t max_bytes = number(q.other_config, "max-rate").value_or(0) / 8;
    if (max_bytes == 0) max_bytes = link_bps / 8;
    TcClass root;
    root.handle = kQosRootClass;
    root.parent = kRootQdisc;
    root.min_rate = root.max_rate = max_bytes;
    root.burst = static_cast<std::uint32_t>(mtu + 64);
    plan.classes.push_back(root);
    if (!q.queues.count(0)) plan.classes.push_back(queueClass(0, {}, max_bytes, mtu));
    for (const auto& [id, qc] : q.queues) plan.classes.push_back(queueClass(id, qc.other_config, max_bytes, mtu));
    std::sort(plan.classes.begin() + 1, plan.classes.end(),
              [](const TcClass& a, const TcClass& b) { return a.handle < b.handle; });
    return plan;
}

std::optional<std::string> applyTcPlan(const std::string& netdev, const std::optional<TcPlan>& plan) {
    int ifindex = static_cast<int>(::if_nametoindex(netdev.c_str()));
    if (ifindex == 0) return "no network device " + netdev;
    NlSock sock;
    if (!sock.s) return std::string("out of memory");
    if (int err = nl_connect(sock.s, NETLINK_ROUTE)) return nlError("rtnetlink", err);
    if (int err = deleteRoot(sock.s, ifindex)) return nlError("deleting the root qdisc", err);
    if (!plan) return std::nullopt;
    if (int err = addRootQdisc(sock.s, ifindex, plan->kind)) {
        if (err == -NLE_OBJ_NOTFOUND) return "this kernel has no " + plan->kind + " qdisc (sch_" + plan->kind + ")";
        return nlError("adding qdisc " + plan->kind + " 1:", err);
    }
    int mtu = mtuOf(netdev);
    for (const TcClass& c : plan->classes)
        if (int err = addClass(sock.s, ifindex, plan->kind, c, mtu)) {
            deleteRoot(sock.s, ifindex);  // nothing half built stays
            return nlError("adding class " + classId(c.handle), err);
        }
    return std::nullopt;
}

void QosApplier::apply(const Config& cfg, const PortLookup& portOf) {
    std::set<std::string> seen;
    for (const auto& [bn, bc] : cfg.bridges)
        for (const auto& [pn, pc] : bc.ports)
            for (const auto& [in, ic] : pc.interfaces) {
                seen.insert(in);
                bool policing = ic.ingress_policing_rate || policed_.count(in);
                bool shaping = pc.qos || shaped_.count(in);
                if (!policing && !shaping) continue;  // the common case costs no lookup
                auto port = portOf(in);
                if (policing) police(in, ic, port);
                if (shaping) shape(in, pc.qos ? &*pc.qos : nullptr, port);
            }
    for (auto it = shaped_.begin(); it != shaped_.end();) {  // interfaces gone: their qdisc goes too
        if (seen.count(it->first)) { ++it; continue; }
        if (!it->second.plan.kind.empty()) applyTcPlan(it->first, std::nullopt);
        it = shaped_.erase(it);
    }
    std::erase_if(policed_, [&](const auto& p) { return !seen.count(p.first); });
    std::erase_if(errors_, [&](const auto& e) { return !seen.count(e.first); });
}

void QosApplier::shape(const std::string& iface, const QosConfig* q, const std::shared_ptr<dp::Port>& port) {
    auto it = shaped_.find(iface);
    if (!q) {  // the QoS was removed: so is the qdisc (if one was built)
        bool built = it != shaped_.end() && !it->second.plan.kind.empty();
        if (auto err = built ? applyTcPlan(iface, std::nullopt) : std::nullopt)
            log::warn(kLog, "{}: removing QoS: {}", iface, *err);
        shaped_.erase(iface);
        errors_.erase(iface);
        return;
    }
    if (!port) return;  // not open (the reconciler reports why); applied once it is
    if (std::string(port->type()) != "system") {
        errors_[iface] = "QoS applies to system interfaces only, not to type " + std::string(port->type());
        shaped_[iface] = Shaped{};  // nothing built; still tracked, so that removing the QoS clears the error
        return;
    }
    TcPlan plan = planQos(*q, mtuOf(iface), linkRate(iface));
    if (it != shaped_.end() && it->second.port.lock() == port && it->second.plan == plan) return;
    if (auto err = applyTcPlan(iface, plan)) {
        std::string msg = "QoS not applied: " + *err;
        if (errors_[iface] != msg) log::warn(kLog, "{}: QoS {} not applied: {}", iface, q->type, *err);  // once per cause
        errors_[iface] = msg;
        shaped_[iface] = Shaped{};  // retried on the next apply
        return;
    }
    log::info(kLog, "{}: QoS {} applied ({} classes)", iface, q->type, plan.classes.size());
    errors_.erase(iface);
    shaped_[iface] = Shaped{port, std::move(plan)};
}

void QosApplier::police(const std::string& iface, const InterfaceConfig& ic, const std::shared_ptr<dp::Port>& port) {
    auto it = policed_.find(iface);
    if (!port) {
        if (it != policed_.end()) policed_.erase(it);
        return;
    }
    Policed want{port, ic.ingress_policing_rate, ic.ingress_policing_burst};
    bool same = it != policed_.end() && it->second.port.lock() == port && it->second.rate == want.rate &&
                it->second.burst == want.burst;
    if (same || (it == policed_.end() && want.rate == 0)) return;
    port->ingressPolicer().configure(static_cast<std::uint64_t>(want.rate), static_cast<std::uint64_t>(want.burst),
                                     dp::monotonicNs());
    policed_[iface] = want;
    if (want.rate) log::info(kLog, "{}: ingress policing {} kbit/s, burst {} kbit", iface, want.rate, want.burst);
}

std::optional<std::string> QosApplier::error(const std::string& iface) const {
    auto it = errors_.find(iface);
    return it == errors_.end() ? std::nullopt : std::optional(it->second);
}

}  // namespace vs::vswitchd
