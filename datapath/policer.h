// Rate limiting on the fast path: a token bucket, and the ingress policer built on it.
//
// TokenBucket is unit-agnostic (bits for a kbit/s policer, packets for a packets-per-second
// meter band): `rate` units are added per second up to `burst`, and each admitted item takes its
// cost. It knows nothing of packets, ports or OpenFlow, so OpenFlow 1.3 meters (section 5.7,
// OFPMBT_DROP bands in kb/s or packets/s with a burst size) can reuse it as their band bucket;
// the time is always passed in (nanoseconds of a monotonic clock), so tests inject a clock.
//
// One departure from a textbook bucket, on purpose: an item that costs more than the whole
// bucket (a GSO super-frame of 64 KiB through a 100 kbit bucket) is admitted when the bucket is
// full and leaves it in debt (negative), which is repaid at `rate` before anything else passes.
// A strict bucket would drop such frames forever; this keeps the long-run rate exact.
//
// IngressPolicer: Open vSwitch's Interface ingress_policing_rate (kbit/s, 1 kbit = 1000 bits;
// 0 = off) and ingress_policing_burst (kbit; 0 = the default 8000 kbit), applied to the frames a
// port receives before they enter the datapath (vswitch.xml, Interface "Ingress Policing").
// Frames over the rate are dropped: counted in the port's rx_dropped and rx_policed and in the
// coverage counter drop_ingress_policed.
//
// Thread-safety: TokenBucket::admit()/admitBatch() may be called from any thread; a spinlock is
// held for one call (one batch), so a meter shared by several poll threads stays exact.
// configure() may run on the control thread while poll threads admit. IngressPolicer::police()
// runs on the port's poll thread; configure() on the control thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "datapath/packet.h"

namespace vs::dp {

struct PortStats;

class TokenBucket {
public:
    // `rate`: units per second (0 = disabled: everything passes). `burst`: bucket depth in units
    // (at least 1 is used). The bucket starts full at `now_ns`.
    void configure(std::uint64_t rate, std::uint64_t burst, std::int64_t now_ns) noexcept;
    bool enabled() const noexcept { return enabled_.load(std::memory_order_relaxed); }
    std::uint64_t rate() const noexcept { return rate_; }
    std::uint64_t burst() const noexcept { return burst_; }
    // Takes `cost` units at `now_ns` if the bucket holds them (or, for a cost over the whole
    // burst, if the bucket is full). Returns false (nothing taken) otherwise. A clock that goes
    // backwards adds nothing.
    bool admit(std::int64_t now_ns, std::uint64_t cost) noexcept;
    // The same for costs[0..n) in order under one lock; admitted[i] says which passed. Returns the
    // number admitted.
    unsigned admitBatch(std::int64_t now_ns, const std::uint64_t* costs, bool* admitted, unsigned n) noexcept;
    // Units in the bucket at `now_ns` (may be negative: debt), for tests and introspection.
    double level(std::int64_t now_ns) noexcept;

private:
    void refill(std::int64_t now_ns) noexcept;
    bool take(std::uint64_t cost) noexcept;
    void lock() noexcept;
    void unlock() noexcept { busy_.clear(std::memory_order_release); }

    std::atomic_flag busy_ = ATOMIC_FLAG_INIT;
    std::atomic<bool> enabled_{false};
    std::uint64_t rate_ = 0, burst_ = 0;
    double tokens_ = 0;
    std::int64_t last_ns_ = 0;
};

class IngressPolicer {
public:
    static constexpr std::uint64_t kDefaultBurstKbit = 8000;  // Open vSwitch's default when burst is 0
    // rate_kbps 0 turns policing off. burst_kbit 0 means kDefaultBurstKbit.
    void configure(std::uint64_t rate_kbps, std::uint64_t burst_kbit, std::int64_t now_ns) noexcept;
    bool enabled() const noexcept { return bucket_.enabled(); }
    // Polices pkts[0..n) received at `now_ns` (cost: the frame's bytes * 8): keeps the admitted
    // ones at the front of pkts (order kept; the dropped pointers move behind them) and returns
    // how many. Drops are added to stats.rx_dropped, stats.rx_policed and drop_ingress_policed.
    int police(Packet** pkts, int n, std::int64_t now_ns, PortStats& stats) noexcept;
    const TokenBucket& bucket() const noexcept { return bucket_; }

private:
    TokenBucket bucket_;
};

}  // namespace vs::dp
