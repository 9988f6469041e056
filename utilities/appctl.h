// vsappctl: runtime introspection commands sent to vswitchd as JSON-RPC methods (ovs-appctl
// style). Known commands get typed params and text formatting: fdb/show BR, fdb/flush [BR],
// dpif/show, coverage/show, version, bond/show [BOND], lacp/show [BOND]. Any other command word
// is passed through as the method of the same name with params {"args": [...]}; the daemon
// answers -32601 if it does not know it.
// --format=json prints the result unchanged.
//
// Thread-safety: pure functions; appctlMain shares no state.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "utilities/vsctl.h"
#include "utilities/vsctl_cli.h"

namespace vs::utilities {

struct AppctlInvocation {
    CommonOptions common;  // common.socket resolved
    bool help = false;
    bool version = false;
    std::string command;            // e.g. "fdb/show"
    std::vector<std::string> args;  // its arguments
};

// Parses argv (without the program name): options, then COMMAND [ARG...]. Checks the argument
// count of known commands. Throws CliError before any contact with the daemon.
AppctlInvocation parseAppctlArgs(const std::vector<std::string>& args);

// The JSON-RPC params for the invocation's command (Null for commands that take none).
rapidjson::Document appctlParams(const AppctlInvocation& inv);

// Text rendering of `result` for `command` (ovs-appctl-like layouts for known commands; a string
// result verbatim; anything else as indented JSON). Always ends with a newline unless empty.
std::string formatAppctlText(std::string_view command, const rapidjson::Value& result);

// stp/show in Open vSwitch's layout (appctl_stp.cpp).
std::string formatStpShow(const rapidjson::Value& result);
// rstp/show (appctl_rstp.cpp).
std::string formatRstpShow(const rapidjson::Value& result);

// The --help text.
std::string appctlUsage();

// The whole program; errors printed as "vsappctl: MESSAGE" on `err`. Returns the exit status
// (0 ok, 1 any error including an error reply from the daemon).
int appctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const RpcFactory& connect);

}  // namespace vs::utilities
