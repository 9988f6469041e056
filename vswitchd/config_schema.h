// The config schema: which columns the Bridge, Port and Interface tables have, how each column is
// written to / read from JSON, how `set` / `clear` / `remove` change it, and which values are valid.
// Both the config file loader (config_json.cpp) and the transaction ops (config_ops.cpp) go through
// these tables, so adding a column (Port tag/trunks/vlan_mode, bond settings, ...) is one entry in
// bridgeColumns()/portColumns()/interfaceColumns() plus a field in config_model.h.
//
// Also: name rules (IFNAMSIZ), the ofport range, and lookups of records by name.
//
// Thread-safety: the column tables are immutable after first use (function-local statics);
// everything else is free functions on values passed in.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

using JsonAlloc = rapidjson::Document::AllocatorType;

inline constexpr int kMinOfport = 1;
inline constexpr int kMaxOfport = 65279;           // OpenFlow 1.3 OFPP_MAX (0xfeff)
inline constexpr int kLocalOfport = 65534;         // OpenFlow 1.3 OFPP_LOCAL (0xfffe): the bridge's local port
inline constexpr const char* kLocalPortType = "internal";
inline constexpr std::size_t kMaxNameLength = 15;  // IFNAMSIZ - 1

// Returns nullopt if `name` is a valid bridge/port/interface name, else the complete message
// ("invalid name 'a b': ...").
std::optional<std::string> checkName(std::string_view name);

// `s` quoted for a message, shortened if long: 'abc', 'aaaa...' .
std::string quoteForMessage(std::string_view s);

// Thrown by a column's functions. `key` is the map key concerned (empty for the whole column);
// `problem` says what is wrong ("invalid value 'x': expected an integer in 1..1000000").
struct ColumnError : std::runtime_error {
    protocol::ErrorCode code;
    std::string key;
    ColumnError(protocol::ErrorCode c, std::string k, const std::string& problem)
        : std::runtime_error(problem), code(c), key(std::move(k)) {}
};

// One column of table R (BridgeConfig, PortConfig or InterfaceConfig).
template <class R>
struct ColumnDef {
    std::string name;
    bool isMap = false;
    bool writable = true;   // false: only the store sets it (ofport)
    bool required = false;  // must be present in the config file
    // Appends the column as member `name` of the record's JSON object.
    std::function<void(const R&, rapidjson::Value& obj, JsonAlloc&)> toJson;
    // Replaces the column's value by `v` (the file's representation; also `set` without a key).
    std::function<void(R&, const rapidjson::Value& v)> fromJson;
    // Map columns: sets one key (`set` with a key; `v` must be a string) / removes one key.
    std::function<void(R&, const std::string& key, const rapidjson::Value& v)> setKey;
    std::function<void(R&, const std::string& key)> removeKey;
    // Resets the column to its default (empty map, "system", ...).
    std::function<void(R&)> clear;
};

const std::vector<ColumnDef<BridgeConfig>>& bridgeColumns();
const std::vector<ColumnDef<PortConfig>>& portColumns();
const std::vector<ColumnDef<InterfaceConfig>>& interfaceColumns();

template <class R>
const ColumnDef<R>* findColumn(const std::vector<ColumnDef<R>>& cols, std::string_view name) {
    for (const auto& c : cols)
        if (c.name == name) return &c;
    return nullptr;
}

// Lookups by name across the whole config. Null when absent.
struct PortRef {
    std::string bridge;
    std::string port;
};
struct InterfaceRef {
    std::string bridge;
    std::string port;
    std::string iface;
};
std::optional<PortRef> findPort(const Config& cfg, std::string_view port);
std::optional<InterfaceRef> findInterface(const Config& cfg, std::string_view iface);

// Bridge, port and interface names share one namespace (the bridge's local port carries the
// bridge's name; interfaces are netdevs), as ovs-vsctl's check_conflicts(): returns why `name`
// cannot be used for something new ("a port named p1 already exists on bridge br0"), or nullopt.
std::optional<std::string> nameConflict(const Config& cfg, std::string_view name);

// Lowest ofport in [kMinOfport, kMaxOfport] not used by any interface of `br`; 0 if none is free.
int lowestFreeOfport(const BridgeConfig& br);

// The bridge's local port (as in Open vSwitch): every bridge BR has a port BR with one interface
// BR of type internal and ofport kLocalOfport (OFPP_LOCAL) — the host's own interface on the
// bridge, a TAP device named like the bridge. add-br creates it, del-br removes it, del-port
// refuses it. No other interface may use kLocalOfport.
//
// The local port of bridge `bridge` as a fresh record.
PortConfig localPortConfig(const std::string& bridge);
// True when port `port` of bridge `bridge` is that bridge's local port.
inline bool isLocalPort(std::string_view bridge, std::string_view port) { return bridge == port; }
// What breaks the local-port rules: where (bridge, port, interface; `column` "type"/"ofport", or
// empty for the port as a whole) and why, e.g. "the local interface br0 of bridge br0 must be of
// type internal", "ofport 65534 (OFPP_LOCAL) is reserved for the local port of bridge br0".
struct LocalPortProblem {
    std::string bridge, port, iface, column;
    std::string message;
};
// The first problem in `cfg`, or nullopt. `missingOk`: a bridge without its local port is not a
// problem (files written before local ports existed; see addMissingLocalPorts).
std::optional<LocalPortProblem> localPortProblem(const Config& cfg, bool missingOk = false);
// Rules across a port's bond columns (docs/bonds.md): balance-tcp needs LACP (Open vSwitch
// accepts it and then drops every frame while LACP is off; we refuse it). The first problem, or
// nullopt.
std::optional<std::string> bondProblem(const Config& cfg);

// Gives every bridge that lacks one its local port (loading a file written before local ports
// existed). Returns the names of the bridges changed.
std::vector<std::string> addMissingLocalPorts(Config& cfg);

}  // namespace vs::vswitchd
