// Persistence of the flow tables (Open vSwitch loses its OpenFlow rules on restart; we keep them).
// The rules of every bridge are kept as ovs-ofctl text lines, ports by number, in a file beside
// the config: {"format":"vswitch-flows","version":1,"bridges":{"br0":["table=0, priority=0 actions=NORMAL",...]}}.
// Written durably (temp + fsync + rename + fsync(dir), as the config) before a flow change is
// acknowledged. A bridge with no entry gets the default rule (priority 0, NORMAL). Counters and
// timeouts start afresh on restart.
//
// Thread-safety: none; control thread only.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vs::vswitchd {

using FlowLines = std::map<std::string, std::vector<std::string>>;  // bridge -> rule lines

class FlowStore {
public:
    explicit FlowStore(std::filesystem::path path) : path_(std::move(path)) {}
    // Reads the file; a missing file is empty. Throws ConfigError naming the file and the problem
    // for a corrupt one (left in place).
    FlowLines load() const;
    // Writes `lines` durably; returns the problem on failure (the old file stays).
    std::optional<std::string> save(const FlowLines& lines) const;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace vs::vswitchd
