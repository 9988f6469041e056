// The switch configuration as typed values: what the config store persists and the reconciler
// applies. Mirrors Open vSwitch's Bridge / Port / Interface tables, keyed by name.
//
// Thread-safety: plain values; the daemon's control thread owns the live copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vs::vswitchd {

using StringMap = std::map<std::string, std::string>;

struct InterfaceConfig {
    std::string type = "system";  // system | internal | tap | vxlan | patch | dummy
    StringMap options;
    StringMap other_config;
    StringMap external_ids;
    int ofport = 0;  // assigned by the store when the interface is added (1..65279), stable across restarts
    bool operator==(const InterfaceConfig&) const = default;
};

struct PortConfig {
    std::map<std::string, InterfaceConfig> interfaces;  // one for a plain port, several for a bond
    std::optional<int> tag;          // 802.1Q VLAN (0..4095) of an access / native port
    std::vector<int> trunks;         // VLANs a trunk carries, sorted and unique; empty = all
    std::string vlan_mode;           // "" (implicit) | access | trunk | native-tagged | native-untagged
    StringMap other_config;
    StringMap external_ids;
    bool operator==(const PortConfig&) const = default;
};

struct BridgeConfig {
    std::map<std::string, PortConfig> ports;
    StringMap other_config;  // mac-aging-time (s, default 300), mac-table-size (default 8192)
    StringMap external_ids;
    bool operator==(const BridgeConfig&) const = default;
};

struct Config {
    std::uint64_t seq = 0;  // bumped by every committed transaction
    std::map<std::string, BridgeConfig> bridges;
    bool operator==(const Config&) const = default;
};

}  // namespace vs::vswitchd
