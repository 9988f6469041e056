// Slow-path translation through the OpenFlow pipeline (OpenFlow 1.3 section 5.1): table lookups,
// apply-actions, goto_table and resubmit, producing datapath actions and the megaflow mask.
//
// The packet is modelled by two keys: `flow`, the fields as the actions so far have set them, and
// `base`, the fields of the frame as the datapath will hold it. Field changes are "committed" as
// datapath set/push/pop actions only before an output, so consecutive rewrites cost one action.
//
// Masks correct by construction (Open vSwitch's flow_wildcards idea): every field an action writes
// is recorded in `written`, and commit() un-wildcards all of them in the megaflow mask, because
// whether (and which) datapath action a rewrite becomes depends on the frame's own value of that
// field (a tag to pop or not, a value already equal). Fields that are only read are un-wildcarded
// where they are read (table lookups, NORMAL, dec_ttl).
//
// Budgets (as Open vSwitch's): resubmit/goto_table depth 64, 4,096 table lookups, 8,192 datapath
// actions per translation. Past any of them the whole translation becomes one drop action named
// by its counter, and the slow path's warning hook (rate limited by the daemon) says why.
#include <arpa/inet.h>

#include <algorithm>

#include "datapath/coverage.h"
#include "ofproto/ofp_print.h"
#include "ofproto/ofproto.h"
#include "ofproto/queue.h"

namespace vs::ofproto {

using dp::FlowKey;

struct Ofproto::XlateCtx {
    Bridge& br;
    FlowKey flow;          // in_port = ofport
    FlowKey base;
    std::uint64_t metadata = 0;
    FlowKey& wc;           // megaflow mask
    dp::ActionList& out;
    dp::StatsSinks& sinks;
    std::uint32_t in_ofport;
    int depth = 0;
    int lookups = 0;       // xlateTable calls (the first one and every resubmit/goto_table)
    std::optional<dp::Coverage> exhausted;  // a budget ran out: the translation is a drop
    FlowKey written{};     // fields actions wrote (commit() un-wildcards them)
    std::uint16_t inner_vlan_tci = 0;   // the tag a push_vlan went on top of (0: none)
    std::uint16_t inner_vlan_tpid = 0;
    ActionList action_set;  // write_actions so far, run when the pipeline ends (executeActionSet)
    bool learn = true;     // false for trace: no side effects
    bool learned = false;  // NORMAL ran with learning on the frame as received (report_used)
    const Rule* rule = nullptr;  // the rule whose actions run (a packet_in's cookie and reason)
    std::vector<std::string>* trace = nullptr;
    const std::function<std::string(const Rule&)>* describe = nullptr;
    MirrorMask mirrored = 0;  // mirrors that already copied this packet (mirror.h)
    std::uint32_t priority = 0, base_priority = 0;  // skb priority (queue.h): as set / as the datapath has it
    void note(const std::string& s) { if (trace) trace->push_back(std::string(2 * depth, ' ') + s); }
};

namespace {
constexpr int kMaxDepth = 64;
constexpr int kMaxLookups = 4096;
constexpr std::size_t kMaxDpActions = 8192;
std::uint64_t macBits(const std::uint8_t* m) {
    std::uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = (v << 8) | m[i];
    return v;
}
// After mirror copies changed the frame's tag in the datapath to `tci` (mirror_xlate.cpp).
void setBaseTag(FlowKey& base, std::uint16_t tci, const FlowKey& key) {
    if (tci == base.vlan_tci) return;
    base.vlan_tci = tci;
    base.vlan_tpid = !tci ? 0 : tci == key.vlan_tci && key.vlan_tpid ? key.vlan_tpid : dp::kEthTypeVlan;
}
bool hasPorts(const FlowKey& f) {
    return (f.dl_type == dp::kEthTypeIPv4 || f.dl_type == dp::kEthTypeIPv6) && !(f.nw_frag & dp::kFragLater) &&
           (f.nw_proto == 6 || f.nw_proto == 17 || f.nw_proto == 132);
}
}  // namespace

bool Ofproto::upcall(const FlowKey& key, const dp::Packet&, FlowKey& mask, dp::ActionList& actions,
                     dp::StatsSinks& sinks, bool& report_used) {
    UrgentLock lk(mu_);
    auto it = by_dp_port_.find(key.in_port);
    if (it == by_dp_port_.end()) return false;  // the port went away while the packet was queued
    mask.in_port = ~0u;
    if (interceptSlowProtocols(*it->second.bridge, it->second.ofport, key, mask, actions)) return true;  // LACPDUs
    bool stp_learn_only = false;  // ofproto_stp.cpp: BPDUs, ports STP keeps from forwarding
    if (stpIntercept(*it->second.bridge, it->second.ofport, key, mask, actions, stp_learn_only)) return true;
    if (portConfigHas(*it->second.bridge, it->second.ofport, kPortConfigNoRecv)) {  // port_config.h
        actions.assign(1, dp::Action::drop(dp::Coverage::drop_port_no_recv));
        return true;
    }
    FlowKey flow = key;
    flow.in_port = it->second.ofport;
    XlateCtx ctx{*it->second.bridge, flow, key, 0, mask, actions, sinks, it->second.ofport};
    std::uint16_t tci = key.vlan_tci;  // port mirroring: the copies of the frame as received
    MirrorOut m{flow, mask, actions, tci, &sinks, ctx.mirrored};
    if (!mirrorReceived(ctx.br, ctx.in_ofport, key, m)) {
        actions.assign(1, dp::Action::drop(dp::Coverage::drop_mirror_output_port));
        return true;
    }
    setBaseTag(ctx.base, tci, key);
    if (ctx.br.fail_open)  // standalone fail mode, no controller (connmgr.h): NORMAL before table 0
        xlateActions(ctx, ActionList{Action{ActionType::kNormal}}, 0);
    else
        xlateTable(ctx, 0);
    executeActionSet(ctx);
    finishXlate(ctx);
    report_used = ctx.learned && !ctx.exhausted;
    if (stp_learn_only) {  // STP Learning: NORMAL learned the source; nothing goes out
        actions.clear();
        actions.push_back(dp::Action::drop(dp::Coverage::drop_stp_blocked));
    }
    return true;
}

// A translation that ran out of a budget is one drop, whatever it had emitted. Otherwise a named
// drop noted on the way (a table miss, a VLAN NORMAL refused, an expired TTL) moves to the end of
// the list, and stays only when the packet is output nowhere: in the datapath a drop action ends
// the list, and a miss in one resubmit must not cancel the outputs of the actions around it
// (OpenFlow: a miss in a resubmit is no action).
void Ofproto::finishXlate(XlateCtx& ctx) {
    if (!ctx.exhausted) {
        auto is_drop = [](const dp::Action& a) { return a.type == dp::ActionType::kDrop; };
        auto first = std::find_if(ctx.out.begin(), ctx.out.end(), is_drop);
        if (first == ctx.out.end()) return;
        dp::Action d = *first;
        bool outputs = std::any_of(ctx.out.begin(), ctx.out.end(),
                                   [](const dp::Action& a) { return a.type == dp::ActionType::kOutput; });
        std::erase_if(ctx.out, is_drop);
        if (!outputs) ctx.out.push_back(d);  // last, so it ends nothing; counted on every hit
        return;
    }
    ctx.out.clear();
    ctx.out.push_back(dp::Action::drop(*ctx.exhausted));
    if (xlate_warning_) {
        const char* what = *ctx.exhausted == dp::Coverage::drop_resubmit_depth ? "resubmit depth over 64"
                           : *ctx.exhausted == dp::Coverage::drop_xlate_resubmit_limit
                               ? "over 4,096 resubmits"
                               : "over 8,192 datapath actions";
        xlate_warning_("bridge " + ctx.br.name + ": packet from ofport " + std::to_string(ctx.in_ofport) +
                       " dropped: its translation went " + what);
    }
}

// Stops the translation with `why` (the first budget exhausted wins).
void Ofproto::exhaust(XlateCtx& ctx, dp::Coverage why) {
    if (!ctx.exhausted) ctx.exhausted = why;
    ctx.note(std::string("translation stopped: ") + std::string(dp::coverageInfo(why).name));
}

// Looks `table_id` up and runs the matching rule's actions. `lookup_in_port` (resubmit(PORT,T)) is
// the in_port for the lookup only: as in Open vSwitch, the rule's actions see the packet's own
// in_port again (so IN_PORT, FLOOD, NORMAL and "not back out of the input port" keep their sense).
void Ofproto::xlateTable(XlateCtx& ctx, std::uint8_t table_id, std::optional<std::uint32_t> lookup_in_port) {
    if (ctx.exhausted) return;
    if (ctx.depth + 1 > kMaxDepth) return exhaust(ctx, dp::Coverage::drop_resubmit_depth);
    if (++ctx.lookups > kMaxLookups) return exhaust(ctx, dp::Coverage::drop_xlate_resubmit_limit);
    ++ctx.depth;
    OfTable& t = ctx.br.table(table_id);
    ++t.lookup_count;
    std::uint32_t own_in_port = ctx.flow.in_port;
    if (lookup_in_port) ctx.flow.in_port = *lookup_in_port;
    Rule* r = t.lookup(ctx.flow, ctx.metadata, ctx.wc);
    ctx.flow.in_port = own_in_port;
    if (!r) {
        ctx.note("table " + std::to_string(table_id) + ": no match: drop");
        ctx.out.push_back(dp::Action::drop(dp::Coverage::drop_table_miss));  // kept only if alone
    } else {
        ++t.matched_count;
        ctx.sinks.push_back(r->stats);
        if (ctx.describe) ctx.note("table " + std::to_string(table_id) + ": " + (*ctx.describe)(*r));
        const Rule* outer = ctx.rule;
        ctx.rule = r;
        xlateActions(ctx, r->actions, table_id);
        ctx.rule = outer;
    }
    --ctx.depth;
}

void Ofproto::commit(XlateCtx& ctx) {
    FlowKey& f = ctx.flow;
    FlowKey& b = ctx.base;
    auto& out = ctx.out;
    using T = dp::ActionType;
    for (std::size_t i = 0; i < FlowKey::kWords; ++i) ctx.wc.words()[i] |= ctx.written.words()[i];
    if (std::memcmp(f.dl_src, b.dl_src, 6)) out.push_back(dp::Action::set(T::kSetEthSrc, macBits(f.dl_src)));
    if (std::memcmp(f.dl_dst, b.dl_dst, 6)) out.push_back(dp::Action::set(T::kSetEthDst, macBits(f.dl_dst)));
    if (f.vlan_tci != b.vlan_tci || f.vlan_tpid != b.vlan_tpid) {  // the TPID is kept (an S-tag stays one)
        if (b.vlan_tci) out.push_back(dp::Action::popVlan());
        if (f.vlan_tci) out.push_back(dp::Action::pushVlan(f.vlan_tci, f.vlan_tpid == dp::kEthTypeQinQ ? dp::kEthTypeQinQ : 0));
    }
    commitIp(ctx);
    if (f.tun_id != b.tun_id || f.tun_dst != b.tun_dst) {  // set_tunnel / set_field:IP->tun_dst
        ctx.wc.tun_id = ~0ull;  // the action carries both, whichever one was written
        ctx.wc.tun_dst = ~0u;
        dp::Action t = dp::Action::set(T::kSetTunnel, f.tun_id);
        t.port = f.tun_dst;
        out.push_back(t);
    }
    if (ctx.priority != ctx.base_priority) {  // set_queue / enqueue / pop_queue (docs/qos.md)
        out.push_back(dp::Action::set(T::kSetPriority, ctx.priority));
        ctx.base_priority = ctx.priority;
    }
    std::uint32_t dp_in = b.in_port;
    b = f;
    b.in_port = dp_in;
}

// IPv4 (RFC 791) and IPv6 (RFC 8200 section 3) header fields, then TCP/UDP/SCTP ports.
void Ofproto::commitIp(XlateCtx& ctx) {
    const FlowKey& f = ctx.flow;
    const FlowKey& b = ctx.base;
    auto& out = ctx.out;
    using T = dp::ActionType;
    if (f.dl_type != dp::kEthTypeIPv4 && f.dl_type != dp::kEthTypeIPv6) return;
    ctx.wc.dl_type = 0xffff;
    if (f.dl_type == dp::kEthTypeIPv6) {
        if (f.nw_tos != b.nw_tos) out.push_back(dp::Action::set(T::kSetIpv6Tclass, f.nw_tos));
        if (f.nw_ttl != b.nw_ttl) out.push_back(dp::Action::set(T::kSetIpv6Hlim, f.nw_ttl));
    } else {
        if (f.nw_src != b.nw_src) out.push_back(dp::Action::set(T::kSetIpv4Src, f.nw_src));
        if (f.nw_dst != b.nw_dst) out.push_back(dp::Action::set(T::kSetIpv4Dst, f.nw_dst));
        if (f.nw_tos != b.nw_tos) out.push_back(dp::Action::set(T::kSetIpTos, f.nw_tos));
        if (f.nw_ttl != b.nw_ttl) out.push_back(dp::Action::set(T::kSetIpTtl, f.nw_ttl));
    }
    if (ctx.written.tp_src || ctx.written.tp_dst) {  // whether the ports are rewritten at all
        ctx.wc.nw_proto = 0xff;                        // depends on what hasPorts() reads
        ctx.wc.nw_frag = 0xff;
    }
    if (hasPorts(f)) {
        ctx.wc.nw_proto = 0xff;
        ctx.wc.nw_frag = 0xff;
        if (f.tp_src != b.tp_src) out.push_back(dp::Action::set(T::kSetTpSrc, f.tp_src));
        if (f.tp_dst != b.tp_dst) out.push_back(dp::Action::set(T::kSetTpDst, f.tp_dst));
    }
}

void Ofproto::outputPort(XlateCtx& ctx, std::uint32_t ofport) {
    auto it = ctx.br.ports.find(ofport);
    if (it == ctx.br.ports.end()) { ctx.note("output to missing port " + std::to_string(ofport) + ": skipped"); return; }
    if (it->second.of_config & kPortConfigNoFwd) { ctx.note("output to " + it->second.name + ": no_forward: skipped"); return; }
    if (!stpForwards(ctx.br, ctx.br.bundles.at(it->second.bundle))) { ctx.note("output to " + it->second.name + ": STP does not forward: skipped"); return; }
    commit(ctx);
    ctx.out.push_back(dp::Action::output(it->second.dp_port));
    ctx.note("output to " + it->second.name);
    if (!ctx.br.mirrors.empty()) {  // the port's select_dst mirrors (mirror_xlate.cpp)
        std::uint16_t tci = ctx.base.vlan_tci;
        MirrorOut m{ctx.flow, ctx.wc, ctx.out, tci, &ctx.sinks, ctx.mirrored};
        mirrorOutput(ctx.br, ctx.br.bundles.at(it->second.bundle), m);
        setBaseTag(ctx.base, tci, ctx.flow);
    }
}

// OpenFlow FLOOD/ALL through a flow-based tunnel port whose destination (tun_dst; with key=flow,
// tun_id) no action chose: NORMAL's head-end replication, one copy per remote VTEP learned behind
// the port and per flood_remotes address (docs/tunnels.md). False when the port is not such a
// port (the caller outputs once). The copies depend on the MAC table, whose changes invalidate
// the bridge's megaflows; with key=flow, on the frame's VLAN ID too (un-wildcarded).
bool Ofproto::floodToVtepsOf(XlateCtx& ctx, std::uint32_t ofport) {
    const BridgePort& bp = ctx.br.ports.at(ofport);
    const Bundle& b = ctx.br.bundles.at(bp.bundle);
    const bool need_dst = b.tunnel.remote_flow && !ctx.written.tun_dst;
    const bool need_vni = b.tunnel.key_flow && !ctx.written.tun_id;
    if (!need_dst && !need_vni) return false;
    FlowKey& f = ctx.flow;
    std::optional<std::uint16_t> vlan;
    if (b.tunnel.key_flow) {
        vlan = static_cast<std::uint16_t>(f.vlanVid());
        ctx.wc.vlan_tci |= dp::kVlanVidMask | dp::kVlanCfi;
    }
    std::vector<TunnelDest> dests = ctx.br.macs.remotes(b.id, clock_(), vlan);
    if (!b.tunnel.key_flow)
        for (std::uint32_t ip : b.flood_vteps) dests.push_back({ip, 0});
    std::sort(dests.begin(), dests.end());
    dests.erase(std::unique(dests.begin(), dests.end()), dests.end());
    const std::uint32_t dst = f.tun_dst;
    const std::uint64_t id = f.tun_id;
    for (const TunnelDest& d : dests) {
        if (need_dst && !d.vtep) continue;
        if (need_dst) f.tun_dst = d.vtep;
        if (need_vni) f.tun_id = d.vni;
        outputPort(ctx, ofport);
    }
    f.tun_dst = dst;
    f.tun_id = id;
    ctx.note("flood through flow-based " + bp.name + ": " + std::to_string(dests.size()) + " remote VTEPs");
    return true;
}

// set_field and the mod_* actions (OpenFlow 1.3 section 7.2.5 OFPAT_SET_FIELD) change `flow` only;
// commit() turns the changes into datapath actions at the next output.
// Every write also marks the field in ctx.written (see the top of this file).
void Ofproto::setField(XlateCtx& ctx, const Action& a) {
    FlowKey& f = ctx.flow;
    FlowKey& w = ctx.written;
    switch (a.field) {
    case Field::kEthSrc: std::memcpy(f.dl_src, a.mac.data(), 6); std::memset(w.dl_src, 0xff, 6); break;
    case Field::kEthDst: std::memcpy(f.dl_dst, a.mac.data(), 6); std::memset(w.dl_dst, 0xff, 6); break;
    case Field::kVlanVid: setVlanVid(ctx, a.value); break;
    case Field::kVlanPcp: setVlanPcp(ctx, a.value); break;
    case Field::kIpv4Src: f.nw_src = htonl(static_cast<std::uint32_t>(a.value)); w.nw_src = ~0u; break;
    case Field::kIpv4Dst: f.nw_dst = htonl(static_cast<std::uint32_t>(a.value)); w.nw_dst = ~0u; break;
    case Field::kIpTos: f.nw_tos = static_cast<std::uint8_t>((a.value & 0xfc) | (f.nw_tos & 0x03)); w.nw_tos = 0xff; break;
    case Field::kIpTtl: f.nw_ttl = static_cast<std::uint8_t>(a.value); w.nw_ttl = 0xff; break;
    case Field::kTpSrc: f.tp_src = static_cast<std::uint16_t>(a.value); w.tp_src = 0xffff; break;
    case Field::kTpDst: f.tp_dst = static_cast<std::uint16_t>(a.value); w.tp_dst = 0xffff; break;
    case Field::kTunId: f.tun_id = a.value; w.tun_id = ~0ull; break;
    case Field::kMetadata: ctx.metadata = a.value; break;
    case Field::kTunDst: f.tun_dst = htonl(static_cast<std::uint32_t>(a.value)); w.tun_dst = ~0u; break;
    }
}

// mod_vlan_vid / set_field:V->vlan_vid: rewrites the VID of the outer tag, or pushes a tag with
// PCP 0 on an untagged frame (Open vSwitch's semantics; OpenFlow 1.3 section 7.2.5).
void Ofproto::setVlanVid(XlateCtx& ctx, std::uint64_t vid) {
    FlowKey& f = ctx.flow;
    touchVlan(ctx);
    f.vlan_tci = static_cast<std::uint16_t>((f.vlan_tci & dp::kVlanPcpMask) | dp::kVlanCfi | (vid & dp::kVlanVidMask));
}

void Ofproto::setVlanPcp(XlateCtx& ctx, std::uint64_t pcp) {
    FlowKey& f = ctx.flow;
    touchVlan(ctx);
    f.vlan_tci = static_cast<std::uint16_t>((f.vlan_tci & dp::kVlanVidMask) | dp::kVlanCfi | ((pcp & 7) << 13));
}

// A VLAN write: the outer tag's TCI and TPID become part of the megaflow at the next commit, and
// an untagged frame gets a C-tag (TPID 0x8100) to write into.
void Ofproto::touchVlan(XlateCtx& ctx) {
    FlowKey& f = ctx.flow;
    ctx.written.vlan_tci = 0xffff;
    ctx.written.vlan_tpid = 0xffff;
    if (!(f.vlan_tci & dp::kVlanCfi)) {
        f.vlan_tci = 0;
        f.vlan_tpid = dp::kEthTypeVlan;
    }
}

// strip_vlan / pop_vlan: removes the outer tag. If push_vlan put it over another tag, that one is
// the outer tag again (a stack of two, as Open vSwitch's datapath supports; a frame that arrived
// with two tags is parsed as one, its inner tag as the Ethertype, in both).
void Ofproto::popVlanAction(XlateCtx& ctx) {
    FlowKey& f = ctx.flow;
    ctx.written.vlan_tci = 0xffff;
    ctx.written.vlan_tpid = 0xffff;
    if (ctx.inner_vlan_tci) {
        commit(ctx);
        ctx.out.push_back(dp::Action::popVlan());
        f.vlan_tci = ctx.base.vlan_tci = ctx.inner_vlan_tci;
        f.vlan_tpid = ctx.base.vlan_tpid = ctx.inner_vlan_tpid;
        ctx.inner_vlan_tci = ctx.inner_vlan_tpid = 0;
        return;
    }
    f.vlan_tci = 0;
    f.vlan_tpid = 0;
}

// push_vlan:ETHERTYPE (OpenFlow 1.3 section 7.2.5): a new outer tag, VID 0 and PCP 0 until
// set_field writes them (Open vSwitch's behaviour). On a tagged frame the current tag is first
// committed as it stands, then the new one goes on top of it.
void Ofproto::pushVlanAction(XlateCtx& ctx, std::uint16_t tpid) {
    FlowKey& f = ctx.flow;
    ctx.written.vlan_tci = 0xffff;
    ctx.written.vlan_tpid = 0xffff;
    if (f.vlan_tci & dp::kVlanCfi) {
        commit(ctx);
        ctx.inner_vlan_tci = f.vlan_tci;
        ctx.inner_vlan_tpid = f.vlan_tpid ? f.vlan_tpid : dp::kEthTypeVlan;
        ctx.out.push_back(dp::Action::pushVlan(dp::kVlanCfi, tpid == dp::kEthTypeQinQ ? tpid : 0));
        ctx.base.vlan_tci = f.vlan_tci = dp::kVlanCfi;
        ctx.base.vlan_tpid = f.vlan_tpid = tpid;
        return;
    }
    f.vlan_tci = dp::kVlanCfi;
    f.vlan_tpid = tpid;
}

// The action set (OpenFlow 1.3 section 5.10) once the pipeline ends: its actions in the spec's
// order, as Open vSwitch runs it (ofpacts_execute_action_set): the last pop_vlan, the last
// push_vlan, the last dec_ttl, every set-field in the order written, then the last output. A set
// without an output does nothing.
void Ofproto::executeActionSet(XlateCtx& ctx) {
    if (ctx.action_set.empty() || ctx.exhausted) return;
    auto last = [&](auto pred) -> const Action* {
        for (auto it = ctx.action_set.rbegin(); it != ctx.action_set.rend(); ++it)
            if (pred(it->type)) return &*it;
        return nullptr;
    };
    using T = ActionType;
    const Action* out = last([](T t) {
        return t == T::kOutput || t == T::kNormal || t == T::kFlood || t == T::kAll || t == T::kInPort || t == T::kLocal;
    });
    if (const Action* g = last([](T t) { return t == T::kGroup; })) out = g;  // a group outranks an output (5.10)
    if (!out) return;
    ActionList run;
    for (T one : {T::kStripVlan, T::kPushVlan, T::kDecTtl})
        if (const Action* a = last([one](T t) { return t == one; })) run.push_back(*a);
    for (const Action& a : ctx.action_set)
        if (a.type == T::kSetField || a.type == T::kSetVlanVid || a.type == T::kSetVlanPcp) run.push_back(a);
    if (const Action* q = last([](T t) { return t == T::kSetQueue; })) run.push_back(*q);  // "qos", before output
    run.push_back(*out);
    ctx.action_set.clear();
    ctx.note("action set: " + formatActions(run, {}));
    xlateActions(ctx, run, 0);
}

// OpenFlow 1.3 section 5.12: apply-actions run now; write_actions go into the action set.
void Ofproto::xlateActions(XlateCtx& ctx, const ActionList& actions, std::uint8_t table_id) {
    FlowKey& f = ctx.flow;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const Action& a = actions[i];
        if (ctx.exhausted) return;
        if (ctx.out.size() > kMaxDpActions) return exhaust(ctx, dp::Coverage::drop_xlate_action_limit);
        switch (a.type) {
        case ActionType::kOutput:
            if (a.port == kPortInPort) outputPort(ctx, ctx.in_ofport);
            else if (a.port == kPortLocal) outputPort(ctx, kPortLocal);
            else if (a.port == kPortNormal) goto normal;
            else if (a.port == kPortFlood || a.port == kPortAll) goto flood;
            else if (a.port == kPortController) goto controller;
            else if (a.port != f.in_port) outputPort(ctx, a.port);  // output to the ingress port needs IN_PORT
            break;
        case ActionType::kInPort: outputPort(ctx, ctx.in_ofport); break;
        case ActionType::kLocal: outputPort(ctx, kPortLocal); break;
        case ActionType::kNormal:
        normal: {
            commit(ctx);
            std::uint16_t cur = ctx.base.vlan_tci;
            std::size_t first = ctx.out.size();
            // Learning from the frame as it arrived (no rewrite of its source, tag or in_port) is
            // what the datapath's flowsUsed() report can refresh later: ask for it (report_used).
            bool as_received = f.in_port == ctx.in_ofport && !ctx.written.vlan_tci && !ctx.written.dl_src[0];
            if (xlateNormal(ctx.br, f.in_port, f, ctx.wc, ctx.out, cur, ctx.learn, &ctx.sinks, &ctx.mirrored) && as_received)
                ctx.learned = true;
            if (cur != ctx.base.vlan_tci) ctx.base.vlan_tpid = cur ? dp::kEthTypeVlan : 0;  // NORMAL pushes C-tags
            ctx.base.vlan_tci = cur;
            for (std::size_t i = first; i < ctx.out.size(); ++i)  // NORMAL chose a flow-based tunnel's VTEP
                if (ctx.out[i].type == dp::ActionType::kSetTunnel) {
                    ctx.base.tun_id = ctx.out[i].value;
                    ctx.base.tun_dst = ctx.out[i].port;
                }
            ctx.note("NORMAL");
            break;
        }
        case ActionType::kFlood:
        case ActionType::kAll:
        flood:
            for (const auto& [ofport, bp] : ctx.br.ports) {
                bool no_flood = (bp.of_config & kPortConfigNoFlood) &&  // FLOOD, not ALL (port_config.h)
                                (a.type == ActionType::kFlood || (a.type == ActionType::kOutput && a.port == kPortFlood));
                if (ofport != f.in_port && !no_flood && !floodToVtepsOf(ctx, ofport)) outputPort(ctx, ofport);
            }
            break;
        case ActionType::kController:
        controller: {
            // OpenFlow 1.3 section 7.4.1: a table-miss flow entry reports no_match.
            bool miss = ctx.rule && ctx.rule->priority == 0 && ctx.rule->match == Match();
            sendToController(ctx, a.max_len, miss ? PacketInReason::kNoMatch : PacketInReason::kAction, table_id);
            break;
        }
        case ActionType::kDrop: break;
        case ActionType::kSetVlanVid: setVlanVid(ctx, a.value); break;
        case ActionType::kSetVlanPcp: setVlanPcp(ctx, a.value); break;
        case ActionType::kStripVlan: popVlanAction(ctx); break;
        case ActionType::kPushVlan: pushVlanAction(ctx, static_cast<std::uint16_t>(a.value)); break;
        case ActionType::kSetField: setField(ctx, a); break;
        case ActionType::kDecTtl:
            ctx.wc.dl_type = 0xffff;
            if (f.dl_type != dp::kEthTypeIPv4 && f.dl_type != dp::kEthTypeIPv6) break;
            ctx.wc.nw_ttl = 0xff;
            if (f.nw_ttl <= 1) {
                sendToController(ctx, kMissSendLen, PacketInReason::kInvalidTtl, table_id);
                ctx.out.push_back(dp::Action::drop(dp::Coverage::drop_ttl_exceeded));
                ctx.note("dec_ttl: TTL expired, dropped");
                return;
            }
            --f.nw_ttl;
            ctx.written.nw_ttl = 0xff;
            break;
        case ActionType::kResubmit:
            xlateTable(ctx, a.table == kTableAll ? table_id : a.table,
                       a.port != kPortInPort ? std::optional<std::uint32_t>(a.port) : std::nullopt);
            break;
        case ActionType::kClearActions: ctx.action_set.clear(); break;
        case ActionType::kWriteActions: {
            std::size_t n = std::min<std::size_t>(a.value, actions.size() - i - 1);
            ctx.action_set.insert(ctx.action_set.end(), actions.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                  actions.begin() + static_cast<std::ptrdiff_t>(i + 1 + n));
            i += n;
            break;
        }
        case ActionType::kGotoTable: xlateTable(ctx, a.table); return;
        case ActionType::kSetQueue: ctx.priority = queuePriority(static_cast<std::uint32_t>(a.value)); break;
        case ActionType::kPopQueue: ctx.priority = 0; break;  // the priority every received frame has
        case ActionType::kMeter:  // ofproto_meter.cpp; an unknown meter meters nothing (as Open vSwitch)
            if (auto slot = meterSlot(ctx.br, static_cast<std::uint32_t>(a.value))) ctx.out.push_back(dp::Action::meter(*slot));
            ctx.note("meter:" + std::to_string(a.value));
            break;
        case ActionType::kEnqueue: {
            std::uint32_t saved = ctx.priority;
            ctx.priority = queuePriority(static_cast<std::uint32_t>(a.value));
            if (a.port == kPortInPort) outputPort(ctx, ctx.in_ofport);
            else if (a.port != f.in_port) outputPort(ctx, a.port);  // as output: not back out of in_port
            ctx.priority = saved;
            break;
        }
        case ActionType::kGroup: xlateGroup(ctx, static_cast<std::uint32_t>(a.value), table_id); break;
        }
    }
}

// The controller action: a datapath userspace action whose userdata names the packet_in context
// (connmgr.h). The frame goes as the actions before this one left it, so pending rewrites are
// committed first.
void Ofproto::sendToController(XlateCtx& ctx, std::uint16_t max_len, PacketInReason reason, std::uint8_t table_id) {
    if (reason == PacketInReason::kNoMatch && portConfigHas(ctx.br, ctx.in_ofport, kPortConfigNoPacketIn)) {
        ctx.note("controller: the in_port's config says no_packet_in: skipped");  // port_config.h
        return;
    }
    commit(ctx);
    PacketInContext c{ctx.br.name, reason, table_id, ctx.rule ? ctx.rule->cookie : ~0ull, max_len};
    ctx.out.push_back(dp::Action::userspace(slowPathUserdata(SlowPathKind::kController, internPacketIn(c))));
    ctx.note(std::string("controller: packet_in (") +
             (reason == PacketInReason::kNoMatch ? "no_match" : reason == PacketInReason::kAction ? "action" : "invalid_ttl") +
             ", max_len " + std::to_string(max_len) + ")");
}

// packet_out's actions (connmgr.h): `key` is the frame's flow with the datapath in_port.
// output:TABLE (OFPP_TABLE) runs the flow tables from table 0.
void Ofproto::xlatePacketOut(Bridge& br, const FlowKey& key, std::uint32_t in_ofport, bool learn,
                             const ActionList& actions, dp::ActionList& out) {
    FlowKey flow = key;
    flow.in_port = in_ofport;
    FlowKey wc;
    wc.clear();
    dp::StatsSinks sinks;
    XlateCtx ctx{br, flow, key, 0, wc, out, sinks, in_ofport};
    ctx.learn = learn;
    for (const Action& a : actions) {
        if (a.type == ActionType::kOutput && a.port == kPortTable) {
            xlateTable(ctx, 0);
            executeActionSet(ctx);  // the pipeline output:TABLE ran has ended
        } else {
            xlateActions(ctx, ActionList{a}, 0);
        }
    }
    finishXlate(ctx);
}

std::vector<std::string> Ofproto::trace(const std::string& bridge, const dp::FlowKey& flow,
                                        const std::function<std::string(const Rule&)>& describe) {
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    std::vector<std::string> lines;
    dp::FlowKey wc;
    wc.clear();
    dp::ActionList actions;
    dp::StatsSinks sinks;
    dp::FlowKey base = flow;
    auto pit = br.ports.find(flow.in_port);
    base.in_port = pit == br.ports.end() ? 0 : pit->second.dp_port;
    XlateCtx ctx{br, flow, base, 0, wc, actions, sinks, flow.in_port};
    ctx.learn = false;
    ctx.trace = &lines;
    ctx.describe = &describe;
    std::uint16_t tci = base.vlan_tci;  // port mirroring, as upcall() (mirror_xlate.cpp)
    MirrorOut m{flow, wc, actions, tci, nullptr, ctx.mirrored};
    if (!mirrorReceived(br, flow.in_port, base, m)) {
        lines.push_back("input port is a mirror output port: dropped");
        lines.push_back("Datapath actions: " + dp::formatActions({dp::Action::drop(dp::Coverage::drop_mirror_output_port)}));
        return lines;
    }
    if (actions.size()) ctx.note("mirror copies of the frame as received");
    setBaseTag(ctx.base, tci, base);
    if (br.fail_open) {
        ctx.note("fail-open (standalone, no controller connected): NORMAL");
        xlateActions(ctx, ActionList{Action{ActionType::kNormal}}, 0);
    } else {
        xlateTable(ctx, 0);
    }
    executeActionSet(ctx);
    finishXlate(ctx);
    lines.push_back("Datapath actions: " + dp::formatActions(actions));
    return lines;
}

// group:N (OpenFlow 1.3 section 5.6; ofproto/group.h). The chosen buckets (group_xlate.cpp) each
// run on their own copy of the packet: fields, metadata and queue as they were at the group
// action, restored after every bucket and after the group (Open vSwitch's clone semantics). A tag
// a bucket pushed over another one is popped again, so the next bucket starts from the frame
// the group received. The group's and each chosen bucket's counters ride on the megaflow. Every
// bucket run counts against the 4,096-lookup budget (chained all groups multiply).
void Ofproto::xlateGroup(XlateCtx& ctx, std::uint32_t id, std::uint8_t table_id) {
    const Group* g = ctx.br.groups.find(id);
    if (!g) { ctx.note("group " + std::to_string(id) + ": no such group: skipped"); return; }
    if (ctx.depth + 1 > kMaxDepth) return exhaust(ctx, dp::Coverage::drop_resubmit_depth);
    ++ctx.depth;
    ctx.sinks.push_back(g->stats);
    std::vector<std::size_t> chosen = groupBuckets(ctx.br, *g, ctx.flow, ctx.wc);
    ctx.note("group " + std::to_string(id) + " (" + std::string(groupTypeName(g->type)) + "): " +
             (chosen.empty() ? std::string("no live bucket") : std::to_string(chosen.size()) + " bucket(s)"));
    const FlowKey flow = ctx.flow;
    const std::uint64_t metadata = ctx.metadata;
    const std::uint32_t priority = ctx.priority;
    const std::uint16_t inner_tci = ctx.inner_vlan_tci;
    for (std::size_t i : chosen) {
        if (++ctx.lookups > kMaxLookups) {  // fan-out of chained all groups counts as lookups do
            exhaust(ctx, dp::Coverage::drop_xlate_resubmit_limit);
            break;
        }
        ctx.sinks.push_back(g->bucket_stats[i]);
        ctx.note("bucket " + std::to_string(i + 1));
        xlateActions(ctx, g->buckets[i].actions, table_id);
        if (ctx.inner_vlan_tci != inner_tci && ctx.inner_vlan_tci) {  // a stacked tag: back to one
            ctx.out.push_back(dp::Action::popVlan());
            ctx.base.vlan_tci = ctx.inner_vlan_tci;
            ctx.base.vlan_tpid = ctx.inner_vlan_tpid;
            ctx.inner_vlan_tci = ctx.inner_vlan_tpid = 0;
        }
        ctx.flow = flow;
        ctx.metadata = metadata;
        ctx.priority = priority;
    }
    --ctx.depth;
}

}  // namespace vs::ofproto
