#include "datapath/policer.h"

#include <algorithm>

#include "datapath/coverage.h"
#include "datapath/port.h"

namespace vs::dp {

void TokenBucket::lock() noexcept {
    while (busy_.test_and_set(std::memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

void TokenBucket::configure(std::uint64_t rate, std::uint64_t burst, std::int64_t now_ns) noexcept {
    lock();
    rate_ = rate;
    burst_ = std::max<std::uint64_t>(burst, 1);
    tokens_ = static_cast<double>(burst_);
    last_ns_ = now_ns;
    enabled_.store(rate != 0, std::memory_order_relaxed);
    unlock();
}

void TokenBucket::refill(std::int64_t now_ns) noexcept {
    if (now_ns <= last_ns_) return;
    double added = static_cast<double>(now_ns - last_ns_) * 1e-9 * static_cast<double>(rate_);
    tokens_ = std::min(tokens_ + added, static_cast<double>(burst_));
    last_ns_ = now_ns;
}

bool TokenBucket::take(std::uint64_t cost) noexcept {
    double need = static_cast<double>(std::min(cost, burst_));  // an oversize item needs a full bucket
    if (tokens_ < need) return false;
    tokens_ -= static_cast<double>(cost);
    return true;
}

bool TokenBucket::admit(std::int64_t now_ns, std::uint64_t cost) noexcept {
    bool out = false;
    admitBatch(now_ns, &cost, &out, 1);
    return out;
}

unsigned TokenBucket::admitBatch(std::int64_t now_ns, const std::uint64_t* costs, bool* admitted, unsigned n) noexcept {
    if (!enabled()) {
        std::fill(admitted, admitted + n, true);
        return n;
    }
    unsigned passed = 0;
    lock();
    refill(now_ns);
    for (unsigned i = 0; i < n; ++i) passed += (admitted[i] = take(costs[i])) ? 1 : 0;
    unlock();
    return passed;
}

double TokenBucket::level(std::int64_t now_ns) noexcept {
    lock();
    refill(now_ns);
    double t = tokens_;
    unlock();
    return t;
}

void IngressPolicer::configure(std::uint64_t rate_kbps, std::uint64_t burst_kbit, std::int64_t now_ns) noexcept {
    if (burst_kbit == 0) burst_kbit = kDefaultBurstKbit;
    bucket_.configure(rate_kbps * 1000, burst_kbit * 1000, now_ns);
}

int IngressPolicer::police(Packet** pkts, int n, std::int64_t now_ns, PortStats& stats) noexcept {
    if (n <= 0 || !enabled()) return n;
    std::uint64_t costs[kBatchSize];
    bool ok[kBatchSize];
    int kept = 0;
    for (int base = 0; base < n; base += kBatchSize) {
        int cnt = std::min(kBatchSize, n - base);
        for (int i = 0; i < cnt; ++i) costs[i] = std::uint64_t{pkts[base + i]->size()} * 8;
        bucket_.admitBatch(now_ns, costs, ok, static_cast<unsigned>(cnt));
        for (int i = 0; i < cnt; ++i)
            if (ok[i]) std::swap(pkts[kept++], pkts[base + i]);
    }
    if (std::uint64_t dropped = static_cast<std::uint64_t>(n - kept)) {
        PortStats::add(stats.rx_dropped, dropped);
        PortStats::add(stats.rx_policed, dropped);
        coverageAdd(Coverage::drop_ingress_policed, dropped);
    }
    return kept;
}

}  // namespace vs::dp
