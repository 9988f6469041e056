#include "datapath/meter.h"

#include <algorithm>

namespace vs::dp {

void Meter::configure(const MeterSpec& spec, std::int64_t now_ns) noexcept {
    unsigned n = static_cast<unsigned>(std::min<std::size_t>(spec.bands.size(), kMeterMaxBands));
    // Fewer bands: hide the old ones first; more: configure the new ones before showing them.
    if (n < n_bands_.load(std::memory_order_relaxed)) n_bands_.store(n, std::memory_order_release);
    pktps_.store(spec.pktps, std::memory_order_relaxed);
    for (unsigned i = 0; i < n; ++i) {
        const auto& b = spec.bands[i];
        std::uint64_t unit = spec.pktps ? 1 : 1000;  // packets, or bits per kbit
        std::uint64_t rate = b.rate * unit;
        std::uint64_t burst = b.burst ? b.burst * unit : rate * kMeterDefaultBurstMs / 1000;
        if (!spec.pktps) burst = std::max<std::uint64_t>(burst, 1514 * 8);
        buckets_[i].configure(rate, std::max<std::uint64_t>(burst, 1), now_ns);
        rates_[i].store(b.rate, std::memory_order_relaxed);
    }
    n_bands_.store(n, std::memory_order_release);
}

void Meter::resetCounters() noexcept {
    packets_.store(0, std::memory_order_relaxed);
    bytes_.store(0, std::memory_order_relaxed);
    for (unsigned i = 0; i < kMeterMaxBands; ++i) {
        band_packets_[i].store(0, std::memory_order_relaxed);
        band_bytes_[i].store(0, std::memory_order_relaxed);
    }
}

int Meter::selectBand(const std::uint64_t* rates, unsigned n, unsigned exceeded) noexcept {
    int best = -1;
    for (unsigned i = 0; i < n; ++i)
        if ((exceeded >> i & 1) && (best < 0 || rates[i] > rates[best])) best = static_cast<int>(i);
    return best;
}

bool Meter::run(std::uint32_t bytes, std::uint32_t segments, std::int64_t now_ns) noexcept {
    packets_.fetch_add(segments ? segments : 1, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    unsigned n = n_bands_.load(std::memory_order_acquire);
    std::uint64_t cost = pktps_.load(std::memory_order_relaxed) ? std::max<std::uint32_t>(segments, 1)
                                                                : std::uint64_t{bytes} * 8;
    unsigned exceeded = 0;
    std::uint64_t rates[kMeterMaxBands];
    for (unsigned i = 0; i < n; ++i) {
        rates[i] = rates_[i].load(std::memory_order_relaxed);
        if (!buckets_[i].admit(now_ns, cost)) exceeded |= 1u << i;
    }
    int band = selectBand(rates, n, exceeded);
    if (band < 0) return true;
    band_packets_[band].fetch_add(segments ? segments : 1, std::memory_order_relaxed);
    band_bytes_[band].fetch_add(bytes, std::memory_order_relaxed);
    return false;  // every band is a drop band
}

MeterStats Meter::stats() const {
    MeterStats s;
    s.packets = packets_.load(std::memory_order_relaxed);
    s.bytes = bytes_.load(std::memory_order_relaxed);
    unsigned n = n_bands_.load(std::memory_order_acquire);
    for (unsigned i = 0; i < n; ++i)
        s.bands.push_back({band_packets_[i].load(std::memory_order_relaxed), band_bytes_[i].load(std::memory_order_relaxed)});
    return s;
}

std::uint32_t meterSegments(const Packet& p) noexcept {
    std::uint8_t gso = p.vnet.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso == VIRTIO_NET_HDR_GSO_NONE || p.vnet.gso_size == 0 || p.size() <= p.vnet.hdr_len) return 1;
    std::uint32_t payload = p.size() - p.vnet.hdr_len;
    return (payload + p.vnet.gso_size - 1) / p.vnet.gso_size;
}

std::optional<std::uint32_t> MeterPool::allocate() {
    std::lock_guard lk(mu_);
    for (std::uint32_t i = 0; i < kSlots; ++i) {
        if (used_[i]) continue;
        Meter* m = slots_[i].load(std::memory_order_relaxed);
        if (!m) {
            owned_.push_back(std::make_unique<Meter>());
            m = owned_.back().get();
        }
        m->configure(MeterSpec{}, 0);
        m->resetCounters();
        slots_[i].store(m, std::memory_order_release);
        used_[i] = true;
        return i;
    }
    return std::nullopt;
}

void MeterPool::release(std::uint32_t slot) {
    std::lock_guard lk(mu_);
    if (slot >= kSlots || !used_[slot]) return;
    used_[slot] = false;
    if (Meter* m = slots_[slot].load(std::memory_order_relaxed)) m->configure(MeterSpec{}, 0);  // passes all
}

std::size_t MeterPool::inUse() const {
    std::lock_guard lk(mu_);
    return static_cast<std::size_t>(std::count(used_.begin(), used_.end(), true));
}

}  // namespace vs::dp
