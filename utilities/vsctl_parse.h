// vsctl command-line parsing (ovs-vsctl syntax): global options, then commands separated by
// "--", each optionally preceded by its own options (--may-exist, --if-exists, --columns=...).
// Everything here runs before the daemon is contacted, so an argument error changes nothing.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "utilities/vsctl_cli.h"
#include "utilities/vsctl_table.h"

namespace vs::utilities {

struct CommandOptions {
    bool mayExist = false;             // --may-exist (add-br, add-port, add-bond)
    bool ifExists = false;             // --if-exists (del-br, del-port, get, list)
    std::vector<std::string> columns;  // --columns=a,b (list)
    std::string id;                    // --id=@name (create, get): names the row for later commands
    bool all = false;                  // --all (destroy)
};

struct Command {
    std::string name;               // command word, e.g. "add-port"
    std::vector<std::string> args;  // its arguments, as given
    CommandOptions options;
    bool modifies = false;          // contributes ops to the transaction

    // "add-port br0 p1" (for messages).
    std::string text() const;
};

struct VsctlInvocation {
    CommonOptions common;  // common.socket already resolved (option, $VSWITCH_SOCKET, default)
    bool help = false;
    bool version = false;
    std::vector<Command> commands;
    // ovs-vsctl's database options (docs/vsctl.md "Database commands"): --db, --format=list|
    // table|csv|json|html, --data, --no-headings, --bare, --pretty, --oneline, --dry-run.
    struct Db {
        std::string target;    // --db=unix:PATH; empty: db.sock beside the management socket
        DbStyle style;
        bool oneline = false;
        bool dryRun = false;
        bool noWait = false;    // --no-wait: no check of the new interfaces' `error` column
        bool dbOption = false;  // an option only the database path has was given
    } db;
    bool useDb = false;  // run through the OVSDB server (needsDatabase(), vsctl_db.h)
};

// Parses argv (without the program name). Checks option placement, command names and argument
// counts, table names and COLUMN[:KEY][=VALUE] syntax of read commands; the ops of modifying
// commands are built (and checked) by planTransact. Throws CliError with a message naming the
// problem, e.g. "unknown command 'add-bridge'; use --help for help",
// "'add-br' command requires at least 1 argument", "'list-br' command has no '--may-exist' option".
// With --help or --version the command list may be empty.
VsctlInvocation parseVsctlArgs(const std::vector<std::string>& args);

// The --help text.
std::string vsctlUsage();

}  // namespace vs::utilities
