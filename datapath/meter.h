// OpenFlow 1.3 meters in the datapath (OpenFlow 1.3.5 section 5.7 "Meter Table"): a meter is a set
// of bands, each a TokenBucket (policer.h, the same code as ingress policing) in kbit/s (cost:
// the frame's bits) or packets/s (cost: 1 per packet, or per TCP/UDP segment of a GSO
// super-frame). A packet that exceeds some band's bucket meets the band of the highest rate it
// exceeds; band type drop drops it (the only band type this datapath applies). As Open vSwitch's
// userspace datapath (dpif-netdev), every band's bucket is charged independently.
//
// MeterPool: a datapath's meters by slot (0..kSlots-1). The slow path allocates a slot per
// OpenFlow meter (ofproto/meter.h) and the datapath action kMeter names the slot, so a cached
// megaflow keeps working when the meter's bands change (no cache flush); the owner invalidates the
// megaflows that use a meter before releasing its slot.
//
// Thread-safety: Meter::run() and MeterPool::get() may be called from any poll thread at any time
// (no lock but the band buckets' one-batch spinlocks; counters are relaxed atomics). configure(),
// allocate() and release() are control-thread operations (allocate/release take a mutex). A slot's
// Meter object lives as long as the pool (released slots are reused, never freed), so a poll thread
// never follows a dangling pointer.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "datapath/packet.h"
#include "datapath/policer.h"

namespace vs::dp {

inline constexpr unsigned kMeterMaxBands = 8;

struct MeterBandSpec {
    std::uint64_t rate = 0;   // kbit/s (1 kbit = 1000 bits) or packets/s; > 0
    std::uint64_t burst = 0;  // kbit or packets; 0: the default (kMeterDefaultBurstMs of the rate)
};
struct MeterSpec {
    bool pktps = false;                  // bands in packets/s (else kbit/s)
    std::vector<MeterBandSpec> bands;    // 1..kMeterMaxBands
};
// A band without a burst size holds this much of its rate (100 ms; at least one full frame).
inline constexpr std::uint64_t kMeterDefaultBurstMs = 100;

struct MeterBandStats {
    std::uint64_t packets = 0, bytes = 0;  // packets that met (exceeded into) this band
};
struct MeterStats {
    std::uint64_t packets = 0, bytes = 0;  // packets that entered the meter
    std::vector<MeterBandStats> bands;
};

class Meter {
public:
    // Sets the bands (buckets start full at `now_ns`). Counters are kept (a modify keeps them);
    // resetCounters() zeroes them (a new meter in a reused slot).
    void configure(const MeterSpec& spec, std::int64_t now_ns) noexcept;
    void resetCounters() noexcept;
    // Meters one packet of `bytes` bytes (`segments` packets for a pktps band) at `now_ns`:
    // true when it passes, false when a drop band applies. Counted either way.
    bool run(std::uint32_t bytes, std::uint32_t segments, std::int64_t now_ns) noexcept;
    MeterStats stats() const;
    // The band a packet exceeding exactly the bands in `exceeded` (bit i = band i) meets: the one
    // of the highest rate, ties to the lower index; -1 for none. Bands' rates in `rates`.
    static int selectBand(const std::uint64_t* rates, unsigned n, unsigned exceeded) noexcept;

private:
    std::atomic<unsigned> n_bands_{0};
    std::atomic<bool> pktps_{false};
    std::array<TokenBucket, kMeterMaxBands> buckets_;
    std::array<std::atomic<std::uint64_t>, kMeterMaxBands> rates_{};
    std::atomic<std::uint64_t> packets_{0}, bytes_{0};
    std::array<std::atomic<std::uint64_t>, kMeterMaxBands> band_packets_{}, band_bytes_{};
};

// How many packets a frame counts as for a packets/s band: a GSO super-frame counts its segments.
std::uint32_t meterSegments(const Packet& p) noexcept;

class MeterPool {
public:
    static constexpr std::uint32_t kSlots = 4096;  // meters per datapath (all bridges together)
    // A free slot with a fresh meter (counters zero, no bands: passes everything) or nullopt when
    // all kSlots are in use.
    std::optional<std::uint32_t> allocate();
    void release(std::uint32_t slot);
    std::size_t inUse() const;
    // The meter of `slot`, or null (never allocated, or out of range). Any thread, lock-free.
    Meter* get(std::uint32_t slot) const noexcept {
        return slot < kSlots ? slots_[slot].load(std::memory_order_acquire) : nullptr;
    }

private:
    mutable std::mutex mu_;
    std::array<std::atomic<Meter*>, kSlots> slots_{};
    std::vector<std::unique_ptr<Meter>> owned_;
    std::vector<bool> used_ = std::vector<bool>(kSlots, false);
};

}  // namespace vs::dp
