// The datapath: a set of numbered ports and the poll thread(s) that move frames between them
// through the flow cache, handing misses to the slow path (an upcall). The layers above reach it
// only through dp::Dpif (dpif.h, created by dp::createDatapath); this header is for the
// datapath's own code (poll threads) and its tests.
//
// Lifecycle: construct with an UpcallHandler, add ports, start(); stop() or the destructor joins
// the threads. Ports can be added and removed while running.
//
// Thread-safety: every public method is called from the control thread (or any single thread);
// the port table is published to poll threads as an immutable snapshot (a shared_ptr swapped under
// a mutex that poll threads take once per loop, never per packet). Slow-path state changes reach
// the poll threads through invalidate(): a generation counter that makes each poll thread flush
// its caches before its next batch (see docs/datapath.md for what that costs). A new port table
// flushes the caches too, so no cached flow outlives the ports it was computed for.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "datapath/dpif.h"

namespace vs::dp {

// A published, immutable set of ports indexed by port number (index 0 unused).
struct PortTable {
    std::vector<std::shared_ptr<Port>> by_no;
    Port* get(std::uint32_t no) const noexcept { return no < by_no.size() ? by_no[no].get() : nullptr; }
};

class PollThread;

class Datapath final : public Dpif {
public:
    explicit Datapath(UpcallHandler& handler, DatapathConfig cfg = {});
    ~Datapath() override;
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    // Adds a port; returns its datapath port number (>= 1; numbers are not reused while the
    // daemon runs, so no flow can ever send to a new port by an old number).
    std::uint32_t addPort(std::shared_ptr<Port> port) override;
    // Removes a port; its socket closes once no poll thread uses it any more (see quiesce()).
    void removePort(std::uint32_t port_no) override;
    // Waits, at most `timeout_ms`, until every running poll thread has adopted the latest port
    // table, so that no poll thread still references a port removed before the call: once the
    // caller drops its own references, the port's socket or TAP device is gone (a bridge deleted
    // and re-added at once must find its internal device's name free). Returns false on timeout.
    // Control thread; must not hold a lock that a poll thread may wait for (an upcall's).
    bool quiesce(int timeout_ms) override;
    using Dpif::quiesce;
    std::shared_ptr<Port> port(std::uint32_t port_no) const override;

    void start() override;
    void stop() override;
    // Invalidates every cached flow (before each poll thread's next batch).
    void invalidate() noexcept override;
    // Invalidates the cached flows of packets received on `ports` (datapath port numbers; every
    // megaflow matches its in_port exactly), before each poll thread's next batch; other flows
    // stay. For a change confined to one bridge (its MAC table, its flow tables), so that the
    // megaflows of the other bridges stay warm. Any thread.
    void invalidatePorts(std::vector<std::uint32_t> ports) override;
    void setFlowLimit(std::size_t n) noexcept override { flow_limit_.store(n, std::memory_order_relaxed); }

    DatapathStats stats() const override;
    // Runs `actions` on `frame` as if it had arrived on port `in_port` (0: none), on the first poll
    // thread (or inline when none runs): packet_out, LACPDUs, gratuitous announcements. Returns
    // without waiting for the transmit.
    void execute(std::vector<std::uint8_t> frame, std::uint32_t in_port, ActionList actions) override;
    // Every poll thread's megaflows (dpif/dump-flows). Waits at most ~1 s per thread.
    std::vector<FlowDump> dumpFlows() override;

    // For tests without threads: receive and process everything pending on every port once, on
    // the calling thread. Must not be used while start()ed.
    void runOnce() override;
    // For tests without threads: the periodic sweep (flow stats, idle expiry, flowsUsed) now.
    void sweepForTest() override;

    // Internal, used by PollThread.
    std::shared_ptr<const PortTable> portTable(std::uint64_t& version) const;
    std::uint64_t portTableVersion() const noexcept { return table_version_.load(std::memory_order_acquire); }
    std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
    std::uint64_t partialGeneration() const noexcept { return partial_seq_.load(std::memory_order_acquire); }
    // The ports of the partial invalidations after `seen` up to `now` (which it sets); false when
    // some were already forgotten (the caller flushes everything instead).
    bool partialSince(std::uint64_t seen, std::vector<std::uint32_t>& ports, std::uint64_t& now) const;
    std::size_t flowLimit() const noexcept { return flow_limit_.load(std::memory_order_relaxed); }
    UpcallHandler& handler() noexcept { return handler_; }
    // OpenFlow meters (meter.h): shared with their owners in the slow path, which may outlive this.
    MeterPool& meters() const noexcept { return *meters_; }
    std::shared_ptr<MeterPool> meterPool() const noexcept override { return meters_; }
    const DatapathConfig& config() const noexcept { return cfg_; }

private:
    void publish(std::shared_ptr<PortTable> t);

    UpcallHandler& handler_;
    DatapathConfig cfg_;
    mutable std::mutex mu_;
    std::shared_ptr<const PortTable> table_;
    std::atomic<std::uint64_t> table_version_{0};
    std::atomic<std::uint64_t> generation_{0};
    static constexpr std::size_t kPartialKept = 256;    // partial invalidations remembered
    mutable std::mutex partial_mu_;
    std::deque<std::pair<std::uint64_t, std::vector<std::uint32_t>>> partial_;
    std::atomic<std::uint64_t> partial_seq_{0};
    std::atomic<std::size_t> flow_limit_;
    std::uint32_t next_port_no_ = 1;
    std::vector<std::unique_ptr<PollThread>> threads_;
    std::unique_ptr<PollThread> inline_thread_;  // for runOnce()
    std::shared_ptr<MeterPool> meters_ = std::make_shared<MeterPool>();
};

}  // namespace vs::dp
