// vsofctl: the flow tables of a vswitchd bridge from the command line, with ovs-ofctl's syntax
// (docs/vsofctl.md). A thin client: flows and matches travel as text to the daemon, which parses
// them (ofproto/ofp_parse.h) and answers with the flow-table methods of docs/protocol.md
// ("Flow table methods"): flow/add, flow/mod, flow/del, flow/dump, ofproto/show, port/stats,
// table/stats. This file: argument parsing, request building, error reporting, main.
// Text rendering of the results: vsofctl_format.h.
//
// Thread-safety: pure functions; vsofctlMain shares no state.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "protocol/jsonrpc.h"
#include "utilities/vsctl.h"
#include "utilities/vsctl_cli.h"
#include "utilities/vsofctl_format.h"

namespace vs::utilities {

struct OfctlInvocation {
    CommonOptions common;  // common.socket resolved
    bool help = false;
    bool version = false;
    bool strict = false;   // mod-flows / del-flows --strict
    bool noStats = false;  // dump-flows --no-stats
    SortOrder sort = SortOrder::kNone;
    std::string command;            // "dump-flows", ...
    std::string bridge;
    std::vector<std::string> args;  // after the bridge: FLOW, FILE, MATCH or PORT
};

// Parses argv (without the program name). Options may come before or after the command
// (as with getopt); "--" ends them; "-" alone is an argument (stdin). Checks the command name,
// its argument count and which options apply to it. Throws CliError before any contact with the
// daemon, e.g. "unknown command 'dump-flow'; use --help for help",
// "'add-flow' takes 2 arguments: add-flow BRIDGE FLOW (got 1)".
OfctlInvocation parseOfctlArgs(const std::vector<std::string>& args);

// The lines of a flow file ("-": `in`), trailing '\r' removed. All lines are kept (comments and
// blank lines too) so that the daemon's "line N" matches the file. Throws CliError naming the
// file when it cannot be read.
std::vector<std::string> readFlowFile(const std::string& path, std::istream& in);

struct OfctlRequest {
    std::string method;
    rapidjson::Document params;
    std::vector<std::string> flows;  // the flow texts sent (add-flow, add-flows, mod-flows)
};

// The JSON-RPC request for an invocation; `fileLines` are add-flows' lines (else unused).
// Throws CliError when the request would exceed the protocol's line limit.
OfctlRequest ofctlRequest(const OfctlInvocation& inv, const std::vector<std::string>& fileLines = {});

// The message for an error reply: "MESSAGE", then (when the daemon located the problem with
// data {"line","offset","token"}) the offending flow text and a caret line under the token:
//   unknown field 'nw_srcc'
//     ip,nw_srcc=10.0.0.1 actions=drop
//        ^~~~~~~
// For a single flow (add-flow, mod-flows) the "line 1: " prefix is dropped.
std::string ofctlErrorText(const OfctlInvocation& inv, const OfctlRequest& request,
                           const protocol::Response& response);

// The --help text.
std::string ofctlUsage();

// The whole program: parse, --help/--version, read the flow file, connect through `connect`,
// call, print (text or --format=json). Errors go to `err` as "vsofctl: MESSAGE". Returns the exit
// status: 0 success, 1 any error (bad arguments, unreadable file, connection failure, error
// reply).
int vsofctlMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
                const RpcFactory& connect);

}  // namespace vs::utilities
