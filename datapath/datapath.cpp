// Control code of the datapath: port table publication, threads, stats.
#include "datapath/datapath.h"

#include "datapath/poll_thread.h"

#include <chrono>
#include <thread>

namespace vs::dp {

Datapath::Datapath(UpcallHandler& handler, DatapathConfig cfg)
    : handler_(handler), cfg_(cfg), table_(std::make_shared<PortTable>()), flow_limit_(cfg.flow_limit) {
    auto t = std::make_shared<PortTable>();
    t->by_no.resize(1);
    table_ = t;
}

Datapath::~Datapath() { stop(); }

std::unique_ptr<Dpif> createDatapath(UpcallHandler& handler, DatapathConfig cfg) {
    return std::make_unique<Datapath>(handler, cfg);
}

void Datapath::publish(std::shared_ptr<PortTable> t) {
    {
        std::lock_guard lk(mu_);
        table_ = std::move(t);
        table_version_.fetch_add(1, std::memory_order_acq_rel);
    }
    for (auto& th : threads_) th->wake();
}

std::shared_ptr<const PortTable> Datapath::portTable(std::uint64_t& version) const {
    std::lock_guard lk(mu_);
    version = table_version_.load(std::memory_order_acquire);
    return table_;
}

std::uint32_t Datapath::addPort(std::shared_ptr<Port> port) {
    std::uint32_t no;
    std::shared_ptr<PortTable> t;
    {
        std::lock_guard lk(mu_);
        no = next_port_no_++;
        t = std::make_shared<PortTable>(*table_);
    }
    if (t->by_no.size() <= no) t->by_no.resize(no + 1);
    t->by_no[no] = std::move(port);
    publish(std::move(t));
    return no;
}

void Datapath::removePort(std::uint32_t no) {
    std::shared_ptr<PortTable> t;
    {
        std::lock_guard lk(mu_);
        if (!table_->get(no)) return;
        t = std::make_shared<PortTable>(*table_);
    }
    t->by_no[no].reset();
    publish(std::move(t));
}

bool Datapath::quiesce(int timeout_ms) {
    const std::uint64_t want = portTableVersion();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        bool all = true;
        for (auto& th : threads_) all = all && th->adoptedTable(want);
        if (all) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        for (auto& th : threads_) th->wake();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

std::shared_ptr<Port> Datapath::port(std::uint32_t no) const {
    std::lock_guard lk(mu_);
    return no < table_->by_no.size() ? table_->by_no[no] : nullptr;
}

void Datapath::start() {
    if (!threads_.empty()) return;
    unsigned n = std::max(1u, cfg_.poll_threads);
    for (unsigned i = 0; i < n; ++i) threads_.push_back(std::make_unique<PollThread>(*this, i, n));
    for (auto& t : threads_) t->start();
}

void Datapath::stop() {
    for (auto& th : threads_) th->requestStop();
    for (auto& th : threads_) th->join();
    threads_.clear();
}

void Datapath::invalidate() noexcept {
    generation_.fetch_add(1, std::memory_order_acq_rel);
    for (auto& th : threads_) th->wake();
}

void Datapath::invalidatePorts(std::vector<std::uint32_t> ports) {
    {
        std::lock_guard lk(partial_mu_);
        std::uint64_t seq = partial_seq_.load(std::memory_order_relaxed) + 1;
        partial_.emplace_back(seq, std::move(ports));
        if (partial_.size() > kPartialKept) partial_.pop_front();
        partial_seq_.store(seq, std::memory_order_release);
    }
    for (auto& th : threads_) th->wake();
}

bool Datapath::partialSince(std::uint64_t seen, std::vector<std::uint32_t>& ports, std::uint64_t& now) const {
    std::lock_guard lk(partial_mu_);
    now = partial_seq_.load(std::memory_order_relaxed);
    if (now == seen) return true;
    if (partial_.empty() || partial_.front().first > seen + 1) return false;  // some were forgotten
    for (const auto& [seq, p] : partial_)
        if (seq > seen) ports.insert(ports.end(), p.begin(), p.end());
    return true;
}

DatapathStats Datapath::stats() const {
    DatapathStats s;
    auto add = [&s](const PollThread& t) {
        s.hit += t.hit.load(std::memory_order_relaxed);
        s.missed += t.missed.load(std::memory_order_relaxed);
        s.lost += t.lost.load(std::memory_order_relaxed);
        s.flows += t.flows.load(std::memory_order_relaxed);
    };
    for (const auto& th : threads_) add(*th);
    if (inline_thread_) add(*inline_thread_);
    return s;
}

void Datapath::execute(std::vector<std::uint8_t> frame, std::uint32_t in_port, ActionList actions) {
    PollThread* t = nullptr;
    if (!threads_.empty()) {
        t = threads_.front().get();
    } else {
        if (!inline_thread_) inline_thread_ = std::make_unique<PollThread>(*this);
        t = inline_thread_.get();
    }
    t->post([t, f = std::move(frame), in_port, a = std::move(actions)] { t->executeFrame(f, in_port, a); });
}

std::vector<FlowDump> Datapath::dumpFlows() {
    std::vector<FlowDump> out;
    for (auto& th : threads_) {
        auto d = th->dumpFlows(1000);
        out.insert(out.end(), d.begin(), d.end());
    }
    if (inline_thread_) {
        auto d = inline_thread_->dumpFlows(0);
        out.insert(out.end(), d.begin(), d.end());
    }
    return out;
}

void Datapath::sweepForTest() {
    if (!inline_thread_) inline_thread_ = std::make_unique<PollThread>(*this);
    inline_thread_->sweepNow();
}

void Datapath::runOnce() {
    if (!inline_thread_) inline_thread_ = std::make_unique<PollThread>(*this);
    inline_thread_->runOnce();
}

}  // namespace vs::dp
