// OpenFlow 1.3 meters on the wire (OpenFlow 1.3.5 sections 7.3.4.4 "Meter Modification Message",
// 7.3.5.12 "Meter Statistics", 7.3.5.13 "Meter Configuration Statistics", 7.3.5.14 "Meter
// Features Statistics"): ofp_meter_mod and its bands, the three multipart replies.
#include "protocol/of13_detail.h"

namespace vs::protocol::of13::detail {
namespace {

constexpr std::size_t kBandLen = 16;  // every ofp_meter_band_* of 1.3

MeterBand readBand(Reader& r) {
    MeterBand b;
    b.type = r.u16("meter band");
    std::uint16_t len = r.u16("meter band");
    if (len != kBandLen)
        fail(kBadRequest, code::kBadLen, "meter band of length " + std::to_string(len) + ", expected 16");
    b.rate = r.u32("meter band");
    b.burst_size = r.u32("meter band");
    switch (b.type) {
    case kBandDrop: r.skip(4, "meter band"); break;
    case kBandDscpRemark: b.prec_level = r.u8("meter band"); r.skip(3, "meter band"); break;
    case kBandExperimenter: b.experimenter = r.u32("meter band"); break;
    default: fail(kMeterModFailed, code::kMmBadBand, "meter band type " + std::to_string(b.type) + " is unknown");
    }
    return b;
}

void writeBand(Writer& w, const MeterBand& b) {
    w.u16(b.type);
    w.u16(kBandLen);
    w.u32(b.rate);
    w.u32(b.burst_size);
    if (b.type == kBandDscpRemark) { w.u8(b.prec_level); w.zeros(3); }
    else if (b.type == kBandExperimenter) w.u32(b.experimenter);
    else w.zeros(4);
}

}  // namespace

MeterMod readMeterMod(Reader& r) {
    MeterMod m;
    m.command = r.u16("meter_mod");
    m.flags = r.u16("meter_mod");
    m.meter_id = r.u32("meter_mod");
    if (m.command > kMeterDelete)
        fail(kMeterModFailed, code::kMmBadCommand, "meter_mod command " + std::to_string(m.command) + " is unknown");
    while (r.left() > 0) m.bands.push_back(readBand(r));
    return m;
}

void writeMeterMod(Writer& w, const MeterMod& m) {
    w.u16(m.command);
    w.u16(m.flags);
    w.u32(m.meter_id);
    for (const auto& b : m.bands) writeBand(w, b);
}

void writeMeterStats(Writer& w, const MeterStats& s) {
    std::size_t start = w.size();
    w.u32(s.meter_id);
    w.u16(0);  // len, below
    w.zeros(6);
    w.u32(s.flow_count);
    w.u64(s.packet_in_count);
    w.u64(s.byte_in_count);
    w.u32(s.duration_sec);
    w.u32(s.duration_nsec);
    for (const auto& b : s.bands) {
        w.u64(b.packet_band_count);
        w.u64(b.byte_band_count);
    }
    w.put16At(start + 4, static_cast<std::uint16_t>(w.size() - start));
}

void writeMeterConfig(Writer& w, const MeterConfig& c) {
    std::size_t start = w.size();
    w.u16(0);  // length, below
    w.u16(c.flags);
    w.u32(c.meter_id);
    for (const auto& b : c.bands) writeBand(w, b);
    w.put16At(start, static_cast<std::uint16_t>(w.size() - start));
}

void writeMeterFeatures(Writer& w, const MeterFeatures& f) {
    w.u32(f.max_meter);
    w.u32(f.band_types);
    w.u32(f.capabilities);
    w.u8(f.max_bands);
    w.u8(f.max_color);
    w.zeros(2);
}

}  // namespace vs::protocol::of13::detail
