// A bridge's OpenFlow 1.3 meter table (OpenFlow 1.3.5 sections 5.7 "Meter Table" and 7.3.4.4
// "Meter Modification Message"): meter ids -> configuration and a datapath meter slot
// (datapath/meter.h) holding the bands' token buckets and the counters.
//
// What a meter may be, as Open vSwitch's userspace datapath: flags KBPS or PKTPS (exactly one),
// BURST, STATS; 1..kMaxBands bands of type drop (dscp_remark and experimenter bands are refused
// with BAD_BAND: the datapath applies only drops); rates > 0; with BURST, burst sizes > 0
// (without it, burst sizes are ignored and each band holds 100 ms of its rate). Meter ids
// 1..kMaxMeterId (OFPM_MAX); the virtual meters SLOWPATH/CONTROLLER are refused (INVALID_METER).
// Refusals are MeterError values with the spec's OFPMMFC_* code, so the OpenFlow layer answers
// with type OFPET_METER_MOD_FAILED and that code.
//
// A rule's meter instruction names the meter id; translation (xlate.cpp) looks the id up and
// emits the datapath meter action with the slot, so changing a meter's bands takes effect on
// cached megaflows at once. Deleting a meter deletes the rules that use it (Ofproto::meterMod),
// which invalidates their megaflows, then releases the slot.
//
// Thread-safety: none of its own; Ofproto guards each bridge's table with its mutex. Lifecycle:
// a bridge's table goes with the bridge, giving its slots back to the pool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "datapath/meter.h"

namespace vs::ofproto {

inline constexpr std::uint32_t kMaxMeterId = 0xffff0000;  // OFPM_MAX
inline constexpr std::uint32_t kMeterSlowpath = 0xfffffffd, kMeterController = 0xfffffffe;
inline constexpr std::uint32_t kMeterAll = 0xffffffff;    // OFPM_ALL
inline constexpr unsigned kMaxBands = dp::kMeterMaxBands;

enum MeterFlags : std::uint16_t { kMeterKbps = 1, kMeterPktps = 2, kMeterBurst = 4, kMeterStats = 8 };
enum class MeterBandType : std::uint16_t { kDrop = 1, kDscpRemark = 2, kExperimenter = 0xffff };

struct MeterBand {
    MeterBandType type = MeterBandType::kDrop;
    std::uint32_t rate = 0;        // kbit/s or packets/s, by the meter's flags
    std::uint32_t burst = 0;       // kbit or packets (with kMeterBurst)
    std::uint8_t prec_level = 0;   // dscp_remark only
    bool operator==(const MeterBand&) const = default;
};
struct MeterConfig {
    std::uint32_t id = 0;
    std::uint16_t flags = kMeterKbps;
    std::vector<MeterBand> bands;
    bool operator==(const MeterConfig&) const = default;
};

// The OFPMMFC_* codes (OpenFlow 1.3.5 section 7.4.4, ofp_meter_mod_failed_code).
enum class MeterError : std::uint16_t {
    kUnknown = 0, kMeterExists = 1, kInvalidMeter = 2, kUnknownMeter = 3, kBadCommand = 4, kBadFlags = 5,
    kBadRate = 6, kBadBurst = 7, kBadBand = 8, kBadBandValue = 9, kOutOfMeters = 10, kOutOfBands = 11,
};
struct MeterRefused : std::invalid_argument {
    MeterRefused(MeterError e, const std::string& what) : std::invalid_argument(what), error(e) {}
    MeterError error;
};

struct MeterStatsRow {
    std::uint32_t id = 0;
    std::uint64_t packets = 0, bytes = 0;
    std::int64_t age_ms = 0;                   // since the meter was added
    std::vector<dp::MeterBandStats> bands;
};

// ovs-ofctl(8)'s meter syntax (meter_text.cpp): "meter=1,kbps,burst,bands=type=drop,rate=20000,
// burst_size=8000" (commas or spaces); neither kbps nor pktps means kbps, as ovs-ofctl. `id_only`:
// only "meter=ID" or "meter=all" (del-meter, meter-stats). Throws std::invalid_argument naming
// the bad keyword; the values are checked later by validate(). formatMeter: dump-meters' form,
// "meter=1 kbps burst bands=type=drop rate=20000 burst_size=8000", which parseMeter reads back.
MeterConfig parseMeter(std::string_view text, bool id_only = false);
std::string formatMeter(const MeterConfig& m);

class MeterTable {
public:
    explicit MeterTable(std::shared_ptr<dp::MeterPool> pool) : pool_(std::move(pool)) {}
    ~MeterTable();
    MeterTable(const MeterTable&) = delete;
    MeterTable& operator=(const MeterTable&) = delete;

    // Checks `m` for add/modify; throws MeterRefused naming the problem.
    static void validate(const MeterConfig& m);
    // OFPMC_ADD: METER_EXISTS if the id is taken, OUT_OF_METERS when the datapath has no slot.
    void add(const MeterConfig& m, std::int64_t now_ms);
    // OFPMC_MODIFY: UNKNOWN_METER if absent. The bands change in place (counters kept).
    void modify(const MeterConfig& m);
    // OFPMC_DELETE of one id (or kMeterAll): the ids removed (none for an unknown id).
    std::vector<std::uint32_t> remove(std::uint32_t id);
    // The datapath slot of meter `id`, or nullopt.
    std::optional<std::uint32_t> slot(std::uint32_t id) const;
    // Configs and stats of `id` (kMeterAll: every meter), ascending ids.
    std::vector<MeterConfig> configs(std::uint32_t id) const;
    std::vector<MeterStatsRow> stats(std::uint32_t id, std::int64_t now_ms) const;
    std::size_t size() const { return meters_.size(); }

private:
    struct Entry {
        MeterConfig config;
        std::uint32_t slot;
        std::int64_t created_ms;
    };
    void program(const Entry& e) const;
    std::shared_ptr<dp::MeterPool> pool_;
    std::map<std::uint32_t, Entry> meters_;
};

}  // namespace vs::ofproto
