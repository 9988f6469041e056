#include "vswitchd/of13_meter.h"

#include "vswitchd/of13_convert.h"

namespace vs::vswitchd::of13meter {
namespace {

namespace of13 = protocol::of13;
using of13conv::Refusal;

}  // namespace

ofproto::MeterConfig toConfig(const of13::MeterMod& mm) {
    ofproto::MeterConfig c;
    c.id = mm.meter_id;
    c.flags = mm.flags;
    for (const auto& b : mm.bands)
        c.bands.push_back({static_cast<ofproto::MeterBandType>(b.type), b.rate, b.burst_size, b.prec_level});
    return c;
}

of13::MeterConfig fromConfig(const ofproto::MeterConfig& c) {
    of13::MeterConfig w;
    w.flags = c.flags;
    w.meter_id = c.id;
    for (const auto& b : c.bands) {
        of13::MeterBand o;
        o.type = static_cast<std::uint16_t>(b.type);
        o.rate = b.rate;
        o.burst_size = b.burst;
        o.prec_level = b.prec_level;
        w.bands.push_back(o);
    }
    return w;
}

void meterMod(ofproto::Ofproto& of, const std::string& bridge, const of13::MeterMod& mm) {
    using C = ofproto::Ofproto::MeterCommand;
    C cmd = mm.command == of13::kMeterAdd ? C::kAdd : mm.command == of13::kMeterModify ? C::kModify : C::kDelete;
    try {
        of.meterMod(bridge, cmd, toConfig(mm));
    } catch (const ofproto::MeterRefused& e) {
        throw Refusal{of13::kMeterModFailed, static_cast<std::uint16_t>(e.error), e.what()};
    }
}

bool multipart(const ofproto::Ofproto& of, const std::string& bridge, const of13::MultipartRequest& req,
               of13::MultipartReply& rep) {
    if ((req.type == of13::kMpMeter || req.type == of13::kMpMeterConfig) && req.meter_id != of13::kMeterAll &&
        !of.meterExists(bridge, req.meter_id))  // as Open vSwitch's handle_meter_request
        throw Refusal{of13::kMeterModFailed, of13::code::kMmUnknownMeter, "meter " + std::to_string(req.meter_id) + " does not exist"};
    switch (req.type) {
    case of13::kMpMeter:
        for (const auto& s : of.meterStats(bridge, req.meter_id)) {
            of13::MeterStats w;
            w.meter_id = s.row.id;
            w.flow_count = s.flow_count;
            w.packet_in_count = s.row.packets;
            w.byte_in_count = s.row.bytes;
            w.duration_sec = static_cast<std::uint32_t>(s.row.age_ms / 1000);
            w.duration_nsec = static_cast<std::uint32_t>(s.row.age_ms % 1000 * 1000000);
            for (const auto& b : s.row.bands) w.bands.push_back({b.packets, b.bytes});
            rep.meter_stats.push_back(std::move(w));
        }
        return true;
    case of13::kMpMeterConfig:
        for (const auto& c : of.meterConfigs(bridge, req.meter_id)) rep.meter_configs.push_back(fromConfig(c));
        return true;
    case of13::kMpMeterFeatures:
        rep.meter_features.max_meter = dp::MeterPool::kSlots;
        rep.meter_features.band_types = 1u << of13::kBandDrop;
        rep.meter_features.capabilities = ofproto::kMeterKbps | ofproto::kMeterPktps | ofproto::kMeterBurst | ofproto::kMeterStats;
        rep.meter_features.max_bands = ofproto::kMaxBands;
        rep.meter_features.max_color = 0;  // no color-aware bands
        return true;
    default: return false;
    }
}

void checkFlowMeters(const ofproto::Ofproto& of, const std::string& bridge, const ofproto::ActionList& actions) {
    for (const auto& a : actions)
        if (a.type == ofproto::ActionType::kMeter && !of.meterExists(bridge, static_cast<std::uint32_t>(a.value)))
            throw Refusal{of13::kMeterModFailed, of13::code::kMmUnknownMeter,
                          "meter " + std::to_string(a.value) + " does not exist on bridge " + bridge};
}

}  // namespace vs::vswitchd::of13meter
