// OpenFlow 1.3 meters on a bridge (ofproto/meter.h): meter_mod, the meter statistics and the
// translation of the meter instruction into the datapath meter action.
#include <algorithm>

#include "ofproto/ofproto.h"

namespace vs::ofproto {
namespace {

bool usesMeter(const Rule& r, std::uint32_t id) {
    return std::any_of(r.actions.begin(), r.actions.end(), [&](const Action& a) {
        return a.type == ActionType::kMeter && (id == kMeterAll || a.value == id);
    });
}

}  // namespace

std::size_t Ofproto::meterMod(const std::string& bridge, MeterCommand cmd, const MeterConfig& m) {
    if (cmd == MeterCommand::kDelete) {
        if (m.id == 0 || (m.id > kMaxMeterId && m.id != kMeterAll))
            throw MeterRefused(MeterError::kInvalidMeter, "meter id " + std::to_string(m.id) + " names no meter");
        std::vector<FlowMod> dels;
        {
            std::lock_guard lk(mu_);
            bridgeOrThrow(bridge);
        }
        for (const auto& r : rules(bridge, kTableAll, Match{})) {
            if (!usesMeter(*r, m.id)) continue;
            FlowMod d;
            d.command = FlowMod::Command::kDeleteStrict;
            d.table = r->table;
            d.priority = r->priority;
            d.match = r->match;
            dels.push_back(std::move(d));
        }
        if (!dels.empty()) applyFlowMods(bridge, dels, FlowLog::kOn);  // invalidates their megaflows
        std::lock_guard lk(mu_);
        Bridge& br = bridgeOrThrow(bridge);
        if (br.meters) br.meters->remove(m.id);
        return dels.size();
    }
    std::lock_guard lk(mu_);
    Bridge& br = bridgeOrThrow(bridge);
    if (!br.meters) br.meters = std::make_unique<MeterTable>(dp_->meterPool());
    if (cmd == MeterCommand::kAdd) br.meters->add(m, clock_());
    else br.meters->modify(m);  // bands change in the datapath's meter: cached megaflows follow
    return 0;
}

std::vector<MeterConfig> Ofproto::meterConfigs(const std::string& bridge, std::uint32_t id) const {
    std::lock_guard lk(mu_);
    const Bridge& br = bridgeOrThrow(bridge);
    return br.meters ? br.meters->configs(id) : std::vector<MeterConfig>{};
}

std::vector<Ofproto::MeterStatsReply> Ofproto::meterStats(const std::string& bridge, std::uint32_t id) const {
    std::vector<MeterStatsReply> out;
    {
        std::lock_guard lk(mu_);
        const Bridge& br = bridgeOrThrow(bridge);
        if (!br.meters) return out;
        for (auto& row : br.meters->stats(id, clock_())) out.push_back({std::move(row), 0});
    }
    if (out.empty()) return out;
    for (const auto& r : rules(bridge, kTableAll, Match{}))
        for (const Action& a : r->actions)
            if (a.type == ActionType::kMeter)
                for (auto& s : out)
                    if (s.row.id == a.value) ++s.flow_count;
    return out;
}

bool Ofproto::meterExists(const std::string& bridge, std::uint32_t id) const {
    std::lock_guard lk(mu_);
    const Bridge& br = bridgeOrThrow(bridge);
    return br.meters && br.meters->slot(id).has_value();
}

std::optional<std::uint32_t> Ofproto::meterSlot(const Bridge& br, std::uint32_t id) {
    return br.meters ? br.meters->slot(id) : std::nullopt;
}

}  // namespace vs::ofproto
