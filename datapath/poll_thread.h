// One datapath poll thread: waits on its ports' fds with epoll (no busy spin), receives batches,
// runs them through its own EMC and megaflow classifier, upcalls on a miss, executes actions and
// transmits in per-port batches.
//
// Thread-safety: everything here belongs to the thread; other threads only read the atomics
// (stats, flow counters) and call wake()/requestStop(). Control code (port table sync, sweeps) is
// in poll_thread.cpp; per-packet code in dp_execute.cpp.
#pragma once

#include "datapath/clock.h"  // monotonicMs(), used with the poll loop

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "datapath/datapath.h"
#include "datapath/flow_table.h"

namespace vs::dp {

class PollThread {
public:
    // Thread `index` of `count`: it polls the ports it owns (owns()); any thread may transmit to
    // any port.
    explicit PollThread(Datapath& dp, unsigned index = 0, unsigned count = 1);
    ~PollThread();
    void start();
    void requestStop() noexcept;
    void join();
    void wake() noexcept;
    // True when the thread is not running or has let go of every port table older than
    // `version` (Datapath::quiesce). Any thread.
    bool adoptedTable(std::uint64_t version) const noexcept {
        return !running_.load(std::memory_order_acquire) || adopted_.load(std::memory_order_acquire) >= version;
    }
    // Processes whatever is pending on every port once, on the caller's thread (tests).
    void runOnce();
    // The periodic sweep, now (Datapath::sweepForTest).
    void sweepNow();
    // Snapshot of this thread's megaflows, taken on the thread itself (waits at most `timeout_ms`;
    // runs inline when the thread is not started). Empty on timeout.
    std::vector<FlowDump> dumpFlows(int timeout_ms);
    // Queues `fn` to run on the thread (inline when it is not started).
    void post(std::function<void()> fn);
    // Runs `actions` on a copy of `frame` and transmits (on the thread).
    void executeFrame(const std::vector<std::uint8_t>& frame, std::uint32_t in_port, const ActionList& actions);

    std::atomic<std::uint64_t> hit{0}, missed{0}, lost{0}, flows{0};

private:
    void loop();
    void loopOnce();
    void runTasks();
    std::vector<FlowDump> dumpNow() const;
    void syncPorts();
    void watch(std::uint32_t no, int want);
    void checkGeneration();
    void checkPartial();
    void sweep(std::int64_t now);
    // Receives and processes up to a few batches from `port`; returns the frames received.
    int pollPort(std::uint32_t port_no, Port& port);
    // Per-packet path (dp_execute.cpp).
    void processBatch(Packet** pkts, int n, Port& in, std::uint32_t in_no);
    DpFlow* handleMiss(const FlowKey& key, Packet& pkt);
    void execute(const ActionList& actions, Packet* pkt) noexcept;
    Packet* writable(Packet* pkt) noexcept;
    bool runMeter(std::uint32_t slot, const Packet& pkt) noexcept;
    void queueTx(std::uint32_t port_no, Packet* pkt) noexcept;
    void flushTx() noexcept;

    bool owns(std::uint32_t port_no) const noexcept;

    Datapath& dp_;
    unsigned index_ = 0, count_ = 1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    int epfd_ = -1;
    int wakefd_ = -1;
    std::uint64_t table_version_ = ~0ull;
    std::atomic<bool> running_{false};
    std::atomic<std::uint64_t> adopted_{0};  // table_version_ once the older table is released
    std::uint64_t generation_ = ~0ull;
    std::uint64_t partial_seen_ = 0;  // Datapath::partialGeneration() this thread has applied
    std::shared_ptr<const PortTable> table_;
    std::vector<int> polled_fds_;  // by port number; -1 when not registered
    Classifier cls_;
    ExactMatchCache emc_;
    PacketPool rx_pool_{kBatchSize};
    std::vector<Packet*> rx_;
    static constexpr int kMaxClonesPerPacket = 64;  // copies one packet's actions may need
    PacketPool clone_pool_{64};
    std::size_t clones_used_ = 0;
    std::vector<std::vector<Packet*>> txq_;  // by port number
    std::vector<std::uint32_t> tx_dirty_;
    std::int64_t now_ms_ = 0;
    std::int64_t next_sweep_ms_ = 0;
    std::int64_t last_rx_ns_ = 0;  // adaptive busy polling: when the last frame arrived
    int last_received_ = 0;         // frames of the last turn that received any
    std::uint64_t batch_hit_ = 0, batch_miss_ = 0, batch_lost_ = 0;
    DpFlow scratch_flow_;  // actions of an upcall that was not installed
    Packet injected_;      // frame being executed for the control thread
    std::mutex task_mu_;
    std::vector<std::function<void()>> tasks_;  // control requests run on the thread
};


}  // namespace vs::dp
