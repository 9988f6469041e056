// Control code of a poll thread: the loop, port table sync, cache invalidation, sweeps.
#include "datapath/poll_thread.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <system_error>

namespace vs::dp {

PollThread::PollThread(Datapath& dp, unsigned index, unsigned count) : dp_(dp), index_(index), count_(count) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) throw std::system_error(errno, std::generic_category(), "poll thread setup");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = 0;  // port number 0 = the wake fd
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
    for (std::size_t i = 0; i < rx_pool_.size(); ++i) rx_.push_back(&rx_pool_[i]);
}

PollThread::~PollThread() {
    requestStop();
    join();
    ::close(epfd_);
    ::close(wakefd_);
}

void PollThread::start() {
    running_.store(true, std::memory_order_release);
    thread_ = std::thread([this] { loop(); });
}

void PollThread::requestStop() noexcept {
    stop_.store(true);
    wake();
}

void PollThread::join() {
    if (thread_.joinable()) thread_.join();
    running_.store(false, std::memory_order_release);
}

void PollThread::wake() noexcept {
    std::uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof one);
}

// Ports are spread over the threads by port number, so the two directions of a conversation
// between two ports can run on two cores. Each port is received from by exactly one thread (a
// VXLAN receive socket shared by several tunnel ports is one port of its own).
bool PollThread::owns(std::uint32_t port_no) const noexcept { return port_no % count_ == index_; }

// Makes `want` (-1: nothing) the fd epoll reports for port `no`.
void PollThread::watch(std::uint32_t no, int want) {
    if (polled_fds_[no] == want) return;
    if (polled_fds_[no] >= 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, polled_fds_[no], nullptr);
    polled_fds_[no] = -1;
    if (want < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = no;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, want, &ev) == 0) polled_fds_[no] = want;
}

void PollThread::syncPorts() {
    if (dp_.portTableVersion() == table_version_) return;
    // Keep the old table (and so its ports) alive until their fds are out of the epoll set: if the
    // control thread holds the last other reference, it closes a removed port's fd as soon as we
    // let go, and an EPOLL_CTL_DEL after that could hit the same fd number reused by a new port
    // (ThreadSanitizer reported the close racing with the DEL).
    std::shared_ptr<const PortTable> old = std::move(table_);
    table_ = dp_.portTable(table_version_);
    std::size_t n = table_->by_no.size();
    if (polled_fds_.size() < n) polled_fds_.resize(n, -1);
    if (txq_.size() < n) txq_.resize(n);
    for (std::uint32_t no = 1; no < polled_fds_.size(); ++no) {
        Port* p = table_->get(no);
        watch(no, p && owns(no) ? p->fd() : -1);
    }
    // Flows computed for the old port set must not be used with the new one.
    cls_.clear();
    emc_.clear();
    flows.store(0, std::memory_order_relaxed);
    old.reset();  // the removed ports' last poll-thread reference
    adopted_.store(table_version_, std::memory_order_release);
}

void PollThread::checkGeneration() {
    std::uint64_t p = dp_.partialGeneration();
    if (p != partial_seen_) checkPartial();
    std::uint64_t g = dp_.generation();
    if (g == generation_) return;
    if (cls_.size()) coverageAdd(Coverage::flow_flush_generation);
    generation_ = g;
    cls_.clear();
    emc_.clear();
    flows.store(0, std::memory_order_relaxed);
}

// Partial invalidations (Datapath::invalidatePorts): drop the megaflows of packets received on
// those ports only; if some were forgotten meanwhile, everything.
void PollThread::checkPartial() {
    std::vector<std::uint32_t> ports;
    std::uint64_t now = partial_seen_;
    if (!dp_.partialSince(partial_seen_, ports, now)) {
        partial_seen_ = now;
        generation_ = ~0ull;  // the full flush below
        return;
    }
    partial_seen_ = now;
    std::sort(ports.begin(), ports.end());
    std::size_t removed = cls_.removeIf([&](DpFlow& f) {
        if (!std::binary_search(ports.begin(), ports.end(), f.key.in_port)) return false;
        f.pushStats();  // its traffic since the last sweep still counts (rules, mirrors)
        return true;
    });
    emc_.clear();
    if (removed) coverageAdd(Coverage::flow_flush_ports, removed);
    flows.store(cls_.size(), std::memory_order_relaxed);
}

void PollThread::sweep(std::int64_t now) {
    for (std::uint32_t no = 1; table_ && no < table_->by_no.size(); ++no)
        if (Port* p = table_->get(no); p && owns(no) && p->housekeep(now)) pollPort(no, *p);
    std::vector<std::pair<FlowKey, FlowKey>> used;
    std::int64_t idle_before = now - dp_.config().max_idle_ms;
    std::size_t expired = cls_.removeIf([&](DpFlow& f) {
        f.pushStats();
        std::uint64_t p = f.packets.load(std::memory_order_relaxed);
        if (p != f.packets_at_sweep && f.report_used) {
            used.emplace_back(f.key, f.mask);
            f.packets_at_sweep = p;
        }
        return f.used_ms.load(std::memory_order_relaxed) < idle_before;
    });
    if (expired) {
        emc_.clear();
        coverageAdd(Coverage::flow_idle_expired, expired);
    }
    cls_.rank();
    flows.store(cls_.size(), std::memory_order_relaxed);
    if (!used.empty()) dp_.handler().flowsUsed(used);
}

void PollThread::sweepNow() { sweep(monotonicMs()); }

int PollThread::pollPort(std::uint32_t port_no, Port& port) {
    int total = 0;
    for (int round = 0; round < 4; ++round) {  // bounded, so one busy port cannot starve others
        int n = port.receive(rx_.data(), kBatchSize);
        if (n <= 0) break;
        total += n;
        int kept = port.ingressPolicer().enabled()
                       ? port.ingressPolicer().police(rx_.data(), n, monotonicNs(), port.stats())
                       : n;
        if (kept > 0) processBatch(rx_.data(), kept, port, port_no);
        if (n < kBatchSize) break;
    }
    // A port may move to another socket while receiving (an AF_PACKET port earning a ring).
    if (port.fd() != polled_fds_[port_no]) watch(port_no, port.fd());
    return total;
}

void PollThread::runOnce() {
    syncPorts();
    checkGeneration();
    now_ms_ = monotonicMs();
    for (std::uint32_t no = 1; table_ && no < table_->by_no.size(); ++no)
        if (Port* p = table_->get(no); p && owns(no)) pollPort(no, *p);
    if (now_ms_ >= next_sweep_ms_) {
        sweep(now_ms_);
        next_sweep_ms_ = now_ms_ + 1000;
    }
}

std::vector<FlowDump> PollThread::dumpNow() const {
    std::vector<FlowDump> out;
    out.reserve(cls_.size());
    cls_.forEach([&](const DpFlow& f) {
        out.push_back({f.key, f.mask, formatActions(f.actions), f.packets.load(std::memory_order_relaxed),
                       f.bytes.load(std::memory_order_relaxed), f.used_ms.load(std::memory_order_relaxed),
                       f.created_ms});
    });
    return out;
}

std::vector<FlowDump> PollThread::dumpFlows(int timeout_ms) {
    if (!thread_.joinable()) return dumpNow();
    auto done = std::make_shared<std::promise<std::vector<FlowDump>>>();
    auto fut = done->get_future();
    {
        std::lock_guard lk(task_mu_);
        tasks_.push_back([this, done] { done->set_value(dumpNow()); });
    }
    wake();
    if (fut.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) return {};
    return fut.get();
}

void PollThread::post(std::function<void()> fn) {
    if (!thread_.joinable()) return fn();
    {
        std::lock_guard lk(task_mu_);
        tasks_.push_back(std::move(fn));
    }
    wake();
}

void PollThread::executeFrame(const std::vector<std::uint8_t>& frame, std::uint32_t in_port, const ActionList& actions) {
    syncPorts();
    if (frame.size() > kMaxFrame) return;
    injected_.reset();
    std::memcpy(injected_.data(), frame.data(), frame.size());
    injected_.setSize(static_cast<std::uint32_t>(frame.size()));
    injected_.in_port = in_port;
    execute(actions, &injected_);
    flushTx();
}

void PollThread::runTasks() {
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard lk(task_mu_);
        tasks.swap(tasks_);
    }
    for (auto& t : tasks) t();
}

// Adaptive busy polling: after a batch arrives the thread keeps polling (epoll_wait with a zero
// timeout) for busy_poll_us before it sleeps again, so the next frame of a conversation (a reply,
// the next segment) finds it awake instead of paying a wake-up; with no traffic it sleeps.
void PollThread::loop() {
    last_rx_ns_ = monotonicNs() - static_cast<std::int64_t>(dp_.config().busy_poll_us) * 1000 - 1;
    while (!stop_.load(std::memory_order_relaxed)) {
        // Nothing a packet, a task or the slow path throws may end the thread: that would stop
        // forwarding on every port it owns, silently. Count it and go on with the next turn.
        try {
            loopOnce();
        } catch (...) {
            coverageAdd(Coverage::poll_thread_exception);
            for (std::uint32_t no : tx_dirty_) {  // nothing half-queued survives into the next turn
                for (Packet* pkt : txq_[no]) pkt->tx_refs = 0;
                txq_[no].clear();
            }
            tx_dirty_.clear();
            clones_used_ = 0;
        }
    }
}

// Frames per turn below which traffic counts as sparse (a conversation, not a flood).
constexpr int kSparseFrames = 8;

void PollThread::loopOnce() {
    epoll_event evs[64];
    const std::int64_t spin_ns = static_cast<std::int64_t>(dp_.config().busy_poll_us) * 1000;
    syncPorts();
    checkGeneration();
    bool spin = spin_ns > 0 && monotonicNs() - last_rx_ns_ < spin_ns;
    int n = ::epoll_wait(epfd_, evs, 64, spin ? 0 : dp_.config().poll_timeout_ms);
    now_ms_ = monotonicMs();
    int received = 0;
    for (int i = 0; i < n; ++i) {
        std::uint32_t no = evs[i].data.u32;
        if (no == 0) {
            std::uint64_t v;
            (void)!::read(wakefd_, &v, sizeof v);
            runTasks();
            continue;
        }
        checkGeneration();
        if (Port* p = table_ ? table_->get(no) : nullptr) received += pollPort(no, *p);
    }
    if (received) {
        last_rx_ns_ = monotonicNs();
        last_received_ = received;
    }
    // A spin that found nothing after sparse traffic (a request/response conversation) gives the
    // CPU to any other runnable task first (issue #20, item 1): on a host with few cores the frame
    // we wait for is usually being produced by a thread of the workload (a ping-pong's peer) that
    // a spinning poll thread would keep off this CPU. On an otherwise idle CPU sched_yield()
    // returns at once and the spin goes on. Not after a full turn (a flood): a yield there puts
    // the thread behind every runnable task for a time slice while the receive ring overflows.
    if (spin && n == 0 && last_received_ < kSparseFrames) ::sched_yield();
    if (now_ms_ >= next_sweep_ms_) {
        sweep(now_ms_);
        next_sweep_ms_ = now_ms_ + 1000;
    }
}

}  // namespace vs::dp
