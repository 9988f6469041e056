// ovs-vsctl's bridge, port, controller and manager commands as changes to an OVSDB replica
// (ovs-vsctl(8)): add-br, del-br, list-br, br-exists, add-port, del-port, list-ports,
// list-ifaces, port-to-br, iface-to-br, set-controller, get-controller, del-controller,
// set-fail-mode, get-fail-mode, del-fail-mode, set-manager, get-manager, del-manager, emer-reset.
// They run on the database path (vsctl_db.h) beside the generic commands, in the same one
// transaction, so `add-port br0 p1 -- --id=@m create Mirror ... -- add Bridge br0 mirrors @m`
// commits together. Rows nothing refers to any more (a deleted bridge's ports and interfaces)
// are garbage-collected at the end of the invocation, as ovsdb-server does.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <functional>
#include <string>

#include "ovsdb/database.h"
#include "utilities/vsctl_parse.h"

namespace vs::utilities {

// Applies "COLUMN[:KEY]=VALUE" to a row of `table` (the generic `set`'s parser, with @NAME).
using ApplySetting = std::function<void(const std::string& table, ovsdb::Row& row, const std::string& arg)>;

// Runs `cmd` if it is one of the commands above: appends its output to `output`, sets `status`
// (kExitAbsent for br-exists on a missing bridge) and returns true; false for other commands.
// Throws CliError with ovs-vsctl's wording ("no bridge named br9", "cannot create a port named p1
// because a port named p1 already exists on bridge br0", ...).
bool runBridgeCommand(ovsdb::Database& db, const Command& cmd, const ApplySetting& apply, std::string& output,
                      int& status);

// Names of the commands runBridgeCommand handles that only the database path has (set-manager,
// get-manager, del-manager, emer-reset).
bool isDbOnlyBridgeCommand(const std::string& name);

}  // namespace vs::utilities
