// Per-packet code of a poll thread: classify, upcall on a miss, execute, batch transmit.
// Nothing here allocates on the cache-hit path or takes a lock.
#include "datapath/poll_thread.h"
#include "datapath/clock.h"
#include "datapath/meter.h"
#include "datapath/vnet_hdr.h"

namespace vs::dp {

void PollThread::processBatch(Packet** pkts, int n, Port& in, std::uint32_t in_no) {
    FlowKey key;
    HeaderOffsets ofs;
    std::uint64_t malformed = 0;
    for (int i = 0; i < n; ++i) {
        Packet* pkt = pkts[i];
        if (!pkt->in_port) pkt->in_port = in_no;  // a tunnel socket names the port it demultiplexed to
        Coverage why;
        // A guest writes the virtio-net header: nothing may act on it unchecked (vnet_hdr.h).
        if (!vnetHdrIsZero(pkt->vnet) && (why = checkVnetHdr(*pkt)) != Coverage::kCount) {
            coverageAdd(why);
            ++malformed;
            continue;
        }
        if (!extractFlow(pkt->data(), pkt->size(), pkt->in_port, key, ofs, why)) {
            coverageAdd(why);
            ++malformed;
            continue;
        }
        key.tun_id = pkt->tun_id;
        key.tun_src = pkt->tun_src;
        key.tun_dst = pkt->tun_dst;
        std::uint64_t h = hashKey(key);
        pkt->hash = h;
        DpFlow* flow = emc_.lookup(key, h);
        if (!flow) {
            flow = cls_.lookup(key);
            if (flow) emc_.insert(key, h, flow);
        }
        if (flow) {
            ++batch_hit_;
        } else {
            ++batch_miss_;
            flow = handleMiss(key, *pkt);
            if (!flow) continue;
            if (flow != &scratch_flow_) emc_.insert(key, h, flow);
        }
        flow->hit(pkt->size(), now_ms_);
        execute(flow->actions, pkt);
    }
    PortStats::add(in.stats().rx_dropped, malformed);
    flushTx();
    auto bump = [](std::atomic<std::uint64_t>& c, std::uint64_t& v) {
        if (v) { c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed); v = 0; }
    };
    bump(hit, batch_hit_);
    bump(missed, batch_miss_);
    bump(lost, batch_lost_);
}

DpFlow* PollThread::handleMiss(const FlowKey& key, Packet& pkt) {
    coverageAdd(Coverage::upcall);
    std::uint64_t gen_before = dp_.generation();
    std::uint64_t partial_before = dp_.partialGeneration();
    FlowKey mask;
    mask.clear();
    ActionList actions;
    StatsSinks sinks;
    bool report_used = false;
    try {
        if (!dp_.handler().upcall(key, pkt, mask, actions, sinks, report_used)) {
            coverageAdd(Coverage::drop_upcall_error);
            ++batch_lost_;
            return nullptr;
        }
    } catch (...) {  // a slow-path bug or bad_alloc costs this packet, not the poll thread
        coverageAdd(Coverage::drop_upcall_exception);
        ++batch_lost_;
        return nullptr;
    }
    // If the slow path changed meanwhile (including by this very upcall, e.g. it learned a new
    // MAC), the decision may already be stale for other packets: use it once, do not cache it.
    bool install = dp_.generation() == gen_before && generation_ == gen_before &&
                   dp_.partialGeneration() == partial_before && partial_seen_ == partial_before;
    if (install && cls_.size() >= dp_.flowLimit()) {
        coverageAdd(Coverage::flow_limit_hit);
        install = false;
    }
    if (!install) {
        for (auto& s : sinks) s->add(1, pkt.size(), now_ms_);  // this packet still counts
        scratch_flow_.actions = std::move(actions);
        return &scratch_flow_;
    }
    coverageAdd(Coverage::flow_install);
    DpFlow* f = cls_.insert(key, mask, std::move(actions), std::move(sinks), now_ms_);
    f->report_used = report_used;
    flows.store(cls_.size(), std::memory_order_relaxed);
    return f;
}

void PollThread::execute(const ActionList& actions, Packet* pkt) noexcept {
    if (actions.empty()) {
        coverageAdd(Coverage::drop_no_actions);
        return;
    }
    int clones = 0;  // copies this packet needed: bounded, so one packet cannot copy without end
    auto change = [&]() -> bool {
        if (pkt->tx_refs && ++clones > kMaxClonesPerPacket) {
            coverageAdd(Coverage::drop_clone_exhausted);
            return false;
        }
        pkt = writable(pkt);
        return true;
    };
    for (const Action& a : actions) {
        switch (a.type) {
        case ActionType::kOutput: queueTx(a.port, pkt); break;
        case ActionType::kPushVlan:
            if (!change()) return;
            pushVlan(*pkt, a.vlan_tci, a.port ? static_cast<std::uint16_t>(a.port) : kEthTypeVlan);
            break;
        case ActionType::kPopVlan:
            if (!change()) return;
            popVlan(*pkt);
            break;
        case ActionType::kDrop: coverageAdd(static_cast<Coverage>(a.port)); return;
        case ActionType::kUserspace: dp_.handler().slowPath(*pkt, a.value); break;
        case ActionType::kSetPriority:
            if (!change()) return;
            pkt->priority = static_cast<std::uint32_t>(a.value);
            break;
        case ActionType::kMeter:
            if (!runMeter(a.port, *pkt)) return;
            break;
        case ActionType::kSetTunnel:
            if (!change()) return;
            pkt->tun_id = a.value;
            pkt->tun_dst = a.port;
            break;
        default:  // header rewrites
            if (!change()) return;
            applySet(*pkt, a);
            break;
        }
    }
}

// OpenFlow 1.3 meter (meter.h): false when a drop band applies (counted as drop_meter).
bool PollThread::runMeter(std::uint32_t slot, const Packet& pkt) noexcept {
    Meter* m = dp_.meters().get(slot);
    if (!m || m->run(pkt.size(), meterSegments(pkt), monotonicNs())) return true;
    coverageAdd(Coverage::drop_meter);
    return false;
}

// A packet already queued for output must not change under the queued copy: modify a clone.
Packet* PollThread::writable(Packet* pkt) noexcept {
    if (pkt->tx_refs == 0) return pkt;
    if (clones_used_ == clone_pool_.size()) flushTx();  // frees every clone and every tx_ref
    if (pkt->tx_refs == 0) return pkt;
    Packet* c = &clone_pool_[clones_used_++];
    c->copyFrom(*pkt);
    c->tx_refs = 0;
    return c;
}

void PollThread::queueTx(std::uint32_t port_no, Packet* pkt) noexcept {
    if (!table_ || !table_->get(port_no)) {
        coverageAdd(Coverage::drop_port_gone);
        return;
    }
    auto& q = txq_[port_no];
    if (q.empty()) tx_dirty_.push_back(port_no);
    q.push_back(pkt);  // capacity grows once to the largest burst, then is reused
    ++pkt->tx_refs;
}

void PollThread::flushTx() noexcept {
    for (std::uint32_t no : tx_dirty_) {
        auto& q = txq_[no];
        if (Port* p = table_->get(no)) {
            std::lock_guard lk(p->txMutex());  // another poll thread may transmit to it too
            p->send(q.data(), static_cast<int>(q.size()));
        }
        for (Packet* pkt : q) pkt->tx_refs = 0;
        q.clear();
    }
    tx_dirty_.clear();
    clones_used_ = 0;
}

}  // namespace vs::dp
