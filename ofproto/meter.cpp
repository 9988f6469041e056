#include "ofproto/meter.h"

#include <set>

#include "datapath/clock.h"

namespace vs::ofproto {
namespace {

[[noreturn]] void refuse(MeterError e, const std::string& what) { throw MeterRefused(e, what); }

}  // namespace

MeterTable::~MeterTable() {
    for (const auto& [id, e] : meters_) pool_->release(e.slot);
}

void MeterTable::validate(const MeterConfig& m) {
    if (m.id == 0 || (m.id > kMaxMeterId && m.id != kMeterAll))
        refuse(MeterError::kInvalidMeter, "meter id " + std::to_string(m.id) +
                                              (m.id == kMeterSlowpath || m.id == kMeterController ? " is a virtual meter" : " is outside 1..0xffff0000"));
    if (m.id == kMeterAll) refuse(MeterError::kInvalidMeter, "meter id ALL names no single meter to add or modify");
    if (m.flags & ~(kMeterKbps | kMeterPktps | kMeterBurst | kMeterStats))
        refuse(MeterError::kBadFlags, "meter flags 0x" + std::to_string(m.flags) + " have unknown bits");
    if (((m.flags & kMeterKbps) != 0) == ((m.flags & kMeterPktps) != 0))
        refuse(MeterError::kBadFlags, "a meter needs exactly one of kbps and pktps");
    if (m.bands.empty()) refuse(MeterError::kBadBand, "a meter needs at least one band");
    if (m.bands.size() > kMaxBands)
        refuse(MeterError::kOutOfBands, std::to_string(m.bands.size()) + " bands, at most " + std::to_string(kMaxBands));
    std::set<std::uint32_t> rates;
    for (const auto& b : m.bands) {
        if (b.type != MeterBandType::kDrop)
            refuse(MeterError::kBadBand, std::string(b.type == MeterBandType::kDscpRemark ? "dscp_remark" : "experimenter") +
                                             " bands are not supported (only drop)");
        if (b.rate == 0) refuse(MeterError::kBadRate, "a band's rate must be above 0");
        if ((m.flags & kMeterBurst) && b.burst == 0) refuse(MeterError::kBadBurst, "with the burst flag, a band's burst_size must be above 0");
        if (!rates.insert(b.rate).second)
            refuse(MeterError::kBadBandValue, "two bands of rate " + std::to_string(b.rate) + " (which one applies would be ambiguous)");
    }
}

void MeterTable::program(const Entry& e) const {
    dp::MeterSpec spec;
    spec.pktps = e.config.flags & kMeterPktps;
    for (const auto& b : e.config.bands)
        spec.bands.push_back({b.rate, (e.config.flags & kMeterBurst) ? b.burst : 0u});
    if (dp::Meter* m = pool_->get(e.slot)) m->configure(spec, dp::monotonicNs());
}

void MeterTable::add(const MeterConfig& m, std::int64_t now_ms) {
    validate(m);
    if (meters_.count(m.id)) refuse(MeterError::kMeterExists, "meter " + std::to_string(m.id) + " exists");
    auto slot = pool_->allocate();
    if (!slot) refuse(MeterError::kOutOfMeters, "the datapath's " + std::to_string(dp::MeterPool::kSlots) + " meters are all in use");
    auto& e = meters_[m.id] = Entry{m, *slot, now_ms};
    program(e);
}

void MeterTable::modify(const MeterConfig& m) {
    validate(m);
    auto it = meters_.find(m.id);
    if (it == meters_.end()) refuse(MeterError::kUnknownMeter, "meter " + std::to_string(m.id) + " does not exist");
    it->second.config = m;
    program(it->second);
}

std::vector<std::uint32_t> MeterTable::remove(std::uint32_t id) {
    std::vector<std::uint32_t> gone;
    for (auto it = meters_.begin(); it != meters_.end();) {
        if (id != kMeterAll && it->first != id) { ++it; continue; }
        pool_->release(it->second.slot);
        gone.push_back(it->first);
        it = meters_.erase(it);
    }
    return gone;
}

std::optional<std::uint32_t> MeterTable::slot(std::uint32_t id) const {
    auto it = meters_.find(id);
    if (it == meters_.end()) return std::nullopt;
    return it->second.slot;
}

std::vector<MeterConfig> MeterTable::configs(std::uint32_t id) const {
    std::vector<MeterConfig> out;
    for (const auto& [mid, e] : meters_)
        if (id == kMeterAll || id == mid) out.push_back(e.config);
    return out;
}

std::vector<MeterStatsRow> MeterTable::stats(std::uint32_t id, std::int64_t now_ms) const {
    std::vector<MeterStatsRow> out;
    for (const auto& [mid, e] : meters_) {
        if (id != kMeterAll && id != mid) continue;
        MeterStatsRow r;
        r.id = mid;
        r.age_ms = now_ms - e.created_ms;
        if (dp::Meter* m = pool_->get(e.slot)) {
            auto s = m->stats();
            r.packets = s.packets;
            r.bytes = s.bytes;
            r.bands = std::move(s.bands);
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace vs::ofproto
