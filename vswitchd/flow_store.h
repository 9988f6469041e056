// The flow tables' snapshot (Open vSwitch loses its OpenFlow rules on restart; we keep them).
// The rules of every bridge are kept as ovs-ofctl text lines, ports by number, in a file beside
// the config:
//   {"format":"vswitch-flows","version":2,"config_seq":N,"flow_seq":M,
//    "bridges":{"br0":["table=0, priority=0 actions=NORMAL",...]}}
// It is one half of the store's snapshot (config_store.h): changes after it live in the shared
// write-ahead journal, and (config_seq, flow_seq) say which journal records it already holds, so
// that a crash between writing it and emptying the journal replays nothing twice. Version 1 files
// (no cursors) from earlier releases load with both cursors 0. Written durably (temp + fsync +
// rename + fsync(dir)). Counters and timeouts start afresh on restart.
//
// Thread-safety: none; control thread only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vs::vswitchd {

using FlowLines = std::map<std::string, std::vector<std::string>>;  // bridge -> rule lines

struct FlowSnapshot {
    FlowLines bridges;            // a bridge without an entry keeps the rules add-br gives it
    std::uint64_t config_seq = 0; // config journal records up to this seq are in `bridges`
    std::uint64_t flow_seq = 0;   // flow journal records up to this flow_seq are in `bridges`
};

class FlowStore {
public:
    explicit FlowStore(std::filesystem::path path) : path_(std::move(path)) {}
    // Reads the file; a missing file is an empty snapshot. Throws ConfigError naming the file and
    // the problem for a corrupt one (left in place).
    FlowSnapshot load() const;
    // Writes `s` durably; returns the problem on failure (the old file stays).
    std::optional<std::string> save(const FlowSnapshot& s) const;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace vs::vswitchd
