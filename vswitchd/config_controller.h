// Configuration of the controller channel (docs/controller.md): the Bridge columns `fail_mode`
// and `controller` (the bridge's Controller records, keyed by target), the Controller table's
// columns, the global SSL record, and the transaction ops that change them (set-controller,
// del-controller, set-fail-mode, del-fail-mode, set-ssl, del-ssl; docs/protocol.md "transact").
// Column semantics follow Open vSwitch's Controller and SSL tables (ovs-vswitchd.conf.db(5)).
//
// Validation: targets by protocol/oftarget.h ("invalid controller target 'tcp:': missing host
// ..."); inactivity_probe 0 (no probes) or 100..86400000 ms; max_backoff 1000..86400000 ms;
// controller_rate_limit and controller_burst_limit 1..1000000; fail_mode standalone or secure;
// SSL paths must be absolute. That the SSL files exist and hold a matching key and certificate is
// checked when a transaction is submitted (checkSslOps), not when the ops are applied, so that
// replaying a journal never fails because a file moved since.
//
// Thread-safety: free functions on values passed in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "vswitchd/config_schema.h"

namespace vs::vswitchd {

inline constexpr const char* kFailModeStandalone = "standalone";
inline constexpr const char* kFailModeSecure = "secure";

ColumnDef<BridgeConfig> failModeColumn();
ColumnDef<BridgeConfig> controllersColumn();
const std::vector<ColumnDef<ControllerConfig>>& controllerColumns();

// The Controller record `name` names: a target (that only one bridge has), or a bridge name (of
// a bridge with exactly one controller), as ovs-vsctl accepts. nullopt when none; throws OpError
// (-32003) when the name is ambiguous.
std::optional<std::pair<std::string, std::string>> findController(const Config& cfg, std::string_view name);
ControllerConfig* findControllerRecord(Config& cfg, const std::string& name);

// The ops. Each throws OpError naming the problem.
void setControllers(Config& cfg, const std::string& bridge, const std::vector<std::string>& targets);
void delControllers(Config& cfg, const std::string& bridge);
void setFailMode(Config& cfg, const std::string& bridge, const std::string& mode);
void delFailMode(Config& cfg, const std::string& bridge);
void setSsl(Config& cfg, const SslConfig& ssl);
void delSsl(Config& cfg);

// The SSL record in JSON ({"private_key","certificate","ca_cert"} or null), and back. fromJson
// throws ConfigFormatError naming `path` and the member.
rapidjson::Value sslToJson(const std::optional<SslConfig>& ssl, JsonAlloc& a);
std::optional<SslConfig> sslFromJson(const rapidjson::Value& v, const std::string& path);

// For each set-ssl op in `ops`: the files must be readable PEM, the key must match the
// certificate. Returns (op index, message) of the first problem.
std::optional<std::pair<int, std::string>> checkSslOps(const rapidjson::Value& ops);

// The effective fail mode of a bridge ("standalone" when unset).
inline bool isSecure(const BridgeConfig& br) { return br.fail_mode == kFailModeSecure; }

}  // namespace vs::vswitchd
