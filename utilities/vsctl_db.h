// vsctl's generic database commands (ovs-vsctl(8) "Database Commands": list, find, get, set,
// add, remove, clear, create, destroy, wait-until) for every table of the Open_vSwitch schema,
// run against vswitchd's OVSDB server (RFC 7047, docs/ovsdb.md) as ovs-vsctl runs them:
//   1. one `transact` of `select`s reads every table into a local replica (ovsdb::Database);
//   2. the commands run in order on the replica (a later command sees what an earlier one did;
//      `--id=@name` names a created or found row for later commands); any error stops here and
//      nothing is sent;
//   3. the difference between the replica before and after becomes ONE `transact`: for each
//      changed row a `wait` that its changed columns still hold what was read (optimistic
//      concurrency: if another client changed them meanwhile, vsctl starts over from 1), then
//      insert/update/delete; the server checks constraints and references and commits all or
//      nothing;
//   4. outputs are printed with the UUIDs the server gave the created rows.
// `wait-until` whose condition does not hold yet starts over from 1 after 100 ms, until
// --timeout.
//
// Thread-safety: functions are reentrant; they share no state.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ovsdb/database.h"
#include "utilities/vsctl_parse.h"
#include "utilities/vsctl_table.h"

namespace vs::utilities {

// True for the commands only the database path runs (list/get/set/clear/remove run here too
// when the invocation needs the database path, see needsDatabase).
bool isDbOnlyCommand(const std::string& name);

// Whether an invocation needs the database path: a db-only command, a table, record (UUID) or
// option that only it knows (--db, --data, --no-headings, --bare, --pretty, --oneline, --dry-run,
// --format other than text/json, --id, --all, --if-exists on set/clear/remove/destroy).
bool needsDatabase(const VsctlInvocation& inv);

// Results of running the commands on a replica.
struct DbRun {
    std::vector<std::string> outputs;  // per command, in order
    std::vector<bool> isTable;         // per command: its output is a table (list, find)
    bool waitUnsatisfied = false;       // a wait-until's condition does not hold yet
    std::vector<ovsdb::Uuid> created;   // placeholder UUIDs of the rows `create` inserted
    int status = 0;                     // kExitAbsent: a br-exists found no such bridge
    std::vector<std::string> warnings;  // for stderr, e.g. a `create` that will have no effect
};

// Runs `commands` on `db` (changed in place): the generic commands here, the bridge, port,
// controller and manager commands through vsctl_db_bridge.h. Throws CliError naming the problem.
DbRun runDbCommands(ovsdb::Database& db, const std::vector<Command>& commands, const DbStyle& style);

// The transact operations (without the database name) that turn `before` into `after`, and for
// each inserted row its op index. Rows only in `after` are inserted with a uuid-name, rows only
// in `before` deleted, changed rows updated after a `wait` on their old values.
struct CommitPlan {
    rapidjson::Document ops{rapidjson::kArrayType};
    std::map<ovsdb::Uuid, std::size_t> insertOp;  // placeholder uuid -> op index
};
CommitPlan planCommit(const ovsdb::Database& before, const ovsdb::Database& after);

// Fills `db` from a select-everything reply (`result` of the transact built by selectAllOps).
rapidjson::Document selectAllOps(const ovsdb::Schema& schema);
void loadReplica(const rapidjson::Value& result, ovsdb::Database& db);

// Something that answers JSON-RPC calls on the database socket (OvsdbClient in the executable).
using DbCall = std::function<rapidjson::Document(const std::string& method, const rapidjson::Value& params)>;

// The whole database path of one invocation. Returns the exit status; errors as "vsctl: ...".
int runDbInvocation(const VsctlInvocation& inv, const DbCall& call, std::ostream& out, std::ostream& err);

}  // namespace vs::utilities
