// The bridges' OpenFlow meters across restarts (Open vSwitch forgets them; we keep them, as we
// keep the rules that use them). A file beside the config, one ovs-ofctl meter line per meter
// (ofproto::formatMeter):
//   {"format":"vswitch-meters","version":1,"bridges":{"br0":["meter=1 kbps burst bands=..."]}}
// The daemon saves it when the meters differ from what it last saved (checked about once a
// second, and at shutdown), written durably (temp + fsync + rename + fsync(dir)); a meter_mod
// less than a second before a crash may be lost (as a controller's flow_mods, flow_journal.h).
// At start the meters are restored before the rules. Counters start afresh. A bridge's meters go
// with the bridge.
//
// Thread-safety: none; control thread only.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ofproto/ofproto.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

using MeterLines = std::map<std::string, std::vector<std::string>>;  // bridge -> meter lines

class MeterStore {
public:
    explicit MeterStore(std::filesystem::path path) : path_(std::move(path)) {}
    // A missing file is no meters. Throws ConfigError naming the file and the problem if corrupt.
    MeterLines load() const;
    std::optional<std::string> save(const MeterLines& m) const;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The meters of every configured bridge that has some.
MeterLines exportMeters(const ofproto::Ofproto& of, const Config& cfg);
// Adds `m`'s meters to the bridges `of` has (others are skipped: deleted bridges). Throws
// ConfigError naming `file` and the line that does not parse or apply.
void restoreMeters(ofproto::Ofproto& of, const MeterLines& m, const std::string& file);

}  // namespace vs::vswitchd
