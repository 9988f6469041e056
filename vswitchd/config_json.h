// JSON (de)serialisation of the config (config_model.h), for the config file and the `get` method.
//
// File format (docs/protocol.md "Config file"):
//   {"format":"vswitch-config","version":1,"seq":N,"bridges":{NAME:{BRIDGE}, ...}}
// plus optional "ssl" and "ovsdb" (the OVSDB rows, kept as opaque JSON: Config::ovsdb)
// where a bridge is {"other_config":{..},"external_ids":{..},"ports":{NAME:{PORT}}}, a port is
// {"other_config":{..},"external_ids":{..},"interfaces":{NAME:{IFACE}}} and an interface is
// {"type":"system","options":{..},"other_config":{..},"external_ids":{..},"ofport":N}.
//
// Loading is strict: anything the daemon did not write (unknown member, wrong JSON type, bad name,
// duplicate name, ofport out of range or used twice in a bridge, unknown format or version) is an
// error naming the JSON path, e.g. `$.bridges.br0.ports.p1.interfaces.p1.ofport: expected an
// integer in 1..65279 (or 65534 for a bridge's local port)`. Optional columns that are absent take
// their defaults (so that files written before a column existed still load); `ofport` is required.
// Each bridge BR has its local port BR (interface BR, type internal, ofport 65534; see
// config_schema.h); a file written before local ports existed gets them added when it is loaded.
//
// Thread-safety: free functions on values passed in.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "vswitchd/config_model.h"

namespace vs::vswitchd {

inline constexpr const char* kConfigFormat = "vswitch-config";
inline constexpr int kConfigVersion = 1;

// A problem in a config document; what() is "JSON-PATH: problem" (or just the problem for
// syntax errors).
struct ConfigFormatError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// {"bridges":{...}}: the `config` member of the `get` result (no format/version/seq).
rapidjson::Value configToJson(const Config& cfg, rapidjson::Document::AllocatorType& alloc);

// The whole config file (format, version, seq, bridges), pretty-printed, ending in a newline.
std::string configToFileText(const Config& cfg);

// Parses and validates a config file's text. Throws ConfigFormatError.
Config configFromFileText(std::string_view text);

// Validates and converts a parsed config file document. Throws ConfigFormatError.
Config configFromJson(const rapidjson::Value& root);

}  // namespace vs::vswitchd
