// vsctl's driver: turns a command line into a plan (parsed commands + one transaction), runs it
// against the daemon through an RpcCaller, prints results and decides the exit status.
//
// Execution order (ovs-vsctl runs everything in one database transaction; we approximate it with
// one `transact` plus `get` snapshots):
//   1. read commands placed before the first modifying command are evaluated against a snapshot
//      taken before the transaction; if one fails, nothing is sent (nothing changes);
//   2. all modifying commands go in ONE `transact` (all-or-nothing);
//   3. read commands placed after a modifying command are evaluated against a snapshot taken
//      after the transaction;
//   4. outputs are printed in command order; interface setup errors of the interfaces this
//      invocation added or reconfigured are printed as
//      "vsctl: Error detected while setting up 'IFACE': MESSAGE." and make the exit status 1
//      (the configuration stays committed, as in Open vSwitch). The transact reply holds the
//      errors of interfaces it changed; for records that set/clear/remove (or an add with
//      --may-exist) touched without creating them, one `get` after the transaction reads their
//      `error` column, so a repeated `set` on a failed interface is not silent.
// Exit status: 0 ok, 1 error, 2 br-exists found no such bridge.
//
// Thread-safety: functions are reentrant; they share no state.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "utilities/vsctl_cli.h"
#include "utilities/vsctl_ops.h"
#include "utilities/vsctl_parse.h"

namespace vs::utilities {

struct VsctlPlan {
    VsctlInvocation invocation;
    TransactPlan transact;
};

// Parses and plans; throws CliError on any argument error (before any contact with the daemon).
VsctlPlan planVsctl(const std::vector<std::string>& args);

// Runs a plan; returns the exit status. Errors are printed on `err` prefixed "vsctl: ".
// Throws protocol::ClientError on transport failure.
int runVsctl(const VsctlPlan& plan, RpcCaller& rpc, std::ostream& out, std::ostream& err);

// Makes the RpcCaller for the resolved options (the executable connects a ClientRpc).
using RpcFactory = std::function<std::unique_ptr<RpcCaller>(const CommonOptions&)>;

// The whole program: plan, --help/--version, connect through `connect`, run; every error is
// printed as "vsctl: MESSAGE" on `err`. Returns the exit status.
int vsctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
              const RpcFactory& connect);

}  // namespace vs::utilities
