// Translation of vsctl's modifying commands into the ops of one `transact` request
// (docs/protocol.md): add-br, del-br, add-port, add-bond, add-bond-iface, del-bond-iface,
// del-port, set, clear, remove.
// Runs before the daemon is contacted; value syntax errors surface here.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "utilities/vsctl_parse.h"

namespace vs::utilities {

struct TransactPlan {
    rapidjson::Document params;          // {"ops": [...]}; Null when no command modifies
    std::vector<std::size_t> opCommand;  // op index -> index of the command that produced it
    // Interfaces this invocation creates or reconfigures: their entries in the reply's `errors`
    // map are reported (as ovs-vsctl reports errors of the interfaces it added).
    std::set<std::string> watchedInterfaces;
    // Records ({"Interface"|"Port", name}) that set/clear/remove touched, or that an add with
    // --may-exist may have found in place, and that this invocation did not create. The reply's
    // `errors` holds only interfaces whose configuration the transaction changed, so a repeated
    // `set` on an interface that failed would pass in silence: after the transaction vsctl reads
    // these records' interfaces' `error` column and reports what is still there.
    std::set<std::pair<std::string, std::string>> recheckRecords;

    bool empty() const { return opCommand.empty(); }
};

// Builds the transaction for all modifying commands of `commands`, in order. Throws CliError
// naming the command and the problem (bad COLUMN[:KEY]=VALUE, read-only column, ...).
TransactPlan planTransact(const std::vector<Command>& commands);

}  // namespace vs::utilities
