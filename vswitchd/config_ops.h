// The `transact` operations of the management protocol (docs/protocol.md "transact"): add-br,
// del-br, add-port, del-port, set, clear, remove, applied to a Config value. Validation follows
// ovs-vsctl: names are IFNAMSIZ-safe, bridge/port/interface names share one namespace, ofports are
// the lowest free number of the bridge and never change while the interface exists. add-br also
// creates the bridge's local port (port and interface named like the bridge, type internal,
// ofport 65534), which del-port refuses to delete and no op may change into something else.
//
// Ops are dispatched through a table (op name -> allowed fields + handler) and set/clear/remove go
// through the column tables of config_schema.h, so new ops and columns are table entries.
//
// Thread-safety: free functions on values passed in. ConfigStore applies ops to a private copy,
// which is what makes a transaction all-or-nothing.
#pragma once

#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"
#include "vswitchd/config_model.h"

namespace vs::vswitchd {

// The first failing op of a transaction. `message` reads like ovs-vsctl's ("no bridge named br9")
// and names the bad field; `opIndex` is the 0-based index of the op (-1: `ops` itself is bad).
struct OpError : std::runtime_error {
    protocol::ErrorCode code;
    int opIndex;
    OpError(protocol::ErrorCode c, const std::string& message, int index = -1)
        : std::runtime_error(message), code(c), opIndex(index) {}
};

// Applies every op of `ops` (a JSON array of op objects) to `cfg`, in order. Throws OpError at the
// first failure, leaving `cfg` partly modified: callers pass a copy. Does not touch `cfg.seq`.
void applyOps(Config& cfg, const rapidjson::Value& ops);

}  // namespace vs::vswitchd
