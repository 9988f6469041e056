// vsofctl: argument parsing, requests, error reporting, main (vsofctl.h).
#include "utilities/vsofctl.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>

#include "utilities/cli_getopt.h"

namespace vs::utilities {
namespace {

using Value = rapidjson::Value;

struct CommandSpec {
    std::string_view name;
    std::size_t minArgs;  // including BRIDGE
    std::size_t maxArgs;
    std::string_view usage;
    std::string_view method;
};

constexpr CommandSpec kCommands[] = {
    {"show", 1, 1, "show BRIDGE", "ofproto/show"},
    {"add-flow", 2, 2, "add-flow BRIDGE FLOW", "flow/add"},
    {"add-flows", 2, 2, "add-flows BRIDGE FILE", "flow/add"},
    {"mod-flows", 2, 2, "mod-flows BRIDGE FLOW", "flow/mod"},
    {"del-flows", 1, 2, "del-flows BRIDGE [MATCH]", "flow/del"},
    {"dump-flows", 1, 2, "dump-flows BRIDGE [MATCH]", "flow/dump"},
    {"dump-ports", 1, 2, "dump-ports BRIDGE [PORT]", "port/stats"},
    {"dump-tables", 1, 1, "dump-tables BRIDGE", "table/stats"},
    {"add-meter", 2, 2, "add-meter BRIDGE METER", "meter/add"},
    {"mod-meter", 2, 2, "mod-meter BRIDGE METER", "meter/mod"},
    {"del-meter", 1, 2, "del-meter BRIDGE [meter=ID]", "meter/del"},
    {"del-meters", 1, 1, "del-meters BRIDGE", "meter/del"},
    {"dump-meters", 1, 2, "dump-meters BRIDGE [meter=ID]", "meter/dump"},
    {"meter-stats", 1, 2, "meter-stats BRIDGE [meter=ID]", "meter/stats"},
    {"meter-features", 1, 1, "meter-features BRIDGE", "meter/features"},
    {"add-group", 2, 2, "add-group BRIDGE GROUP", "group/add"},
    {"add-groups", 2, 2, "add-groups BRIDGE FILE", "group/add"},
    {"mod-group", 2, 2, "mod-group BRIDGE GROUP", "group/mod"},
    {"del-groups", 1, 2, "del-groups BRIDGE [group_id=ID]", "group/del"},
    {"dump-groups", 1, 2, "dump-groups BRIDGE [ID|group_id=ID]", "group/dump"},
    {"dump-group-stats", 1, 2, "dump-group-stats BRIDGE [group_id=ID]", "group/stats"},
    {"mod-port", 3, 3, "mod-port BRIDGE PORT ACTION", "port/mod"},
};

const CommandSpec& spec(std::string_view name) {
    for (const auto& c : kCommands)
        if (c.name == name) return c;
    throw CliError("unknown command '" + std::string(name) + "'; use --help for help");
}

enum OptionId { kVerbose, kHelp, kVersion, kStrict, kNoStats, kSort, kRsort, kSocket, kTimeout, kFormat, kProtocols };

// ovs-ofctl's spellings; -T and --target are not ovs-ofctl's but keep the three tools alike
// (vsappctl: -t is the socket, as in ovs-appctl; -T and --timeout the timeout everywhere).
constexpr OptionDef kOptions[] = {
    {"verbose", 'v', OptionDef::kNone, kVerbose},
    {"help", 'h', OptionDef::kNone, kHelp},
    {"version", 'V', OptionDef::kNone, kVersion},
    {"strict", 0, OptionDef::kNone, kStrict},
    {"no-stats", 0, OptionDef::kNone, kNoStats},
    {"sort", 0, OptionDef::kOptional, kSort},
    {"rsort", 0, OptionDef::kOptional, kRsort},
    {"socket", 0, OptionDef::kRequired, kSocket},
    {"timeout", 't', OptionDef::kRequired, kTimeout},
    {nullptr, 'T', OptionDef::kRequired, kTimeout},
    {"format", 'f', OptionDef::kRequired, kFormat},
    {"protocols", 'O', OptionDef::kRequired, kProtocols},
};

SortOrder parseSort(const ParsedOption& o) {
    if (o.value && *o.value != "priority")
        throw CliError("'" + o.spelling + "=" + *o.value + "': only sorting by priority is supported (--sort or --rsort)");
    return o.id == kRsort ? SortOrder::kDescending : SortOrder::kAscending;
}

void applyOption(const ParsedOption& o, OfctlInvocation& inv) {
    switch (o.id) {
    case kVerbose: inv.common.verbose = true; break;
    case kHelp: inv.help = true; break;
    case kVersion: inv.version = true; break;
    case kStrict: inv.strict = true; break;
    case kNoStats: inv.noStats = true; break;
    case kSort: case kRsort: inv.sort = parseSort(o); break;
    case kSocket: inv.common.socket = *o.value; break;
    case kTimeout: inv.common.timeoutSeconds = parseTimeout(*o.value); break;
    case kFormat: inv.common.format = parseFormat(*o.value); break;
    case kProtocols: break;  // accepted for ovs-ofctl scripts (-O OpenFlow13), ignored
    }
}

void checkOptions(const OfctlInvocation& inv) {
    if (inv.strict && inv.command != "mod-flows" && inv.command != "del-flows")
        throw CliError("--strict applies only to mod-flows and del-flows");
    if ((inv.noStats || inv.sort != SortOrder::kNone) && inv.command != "dump-flows")
        throw CliError(std::string(inv.noStats ? "--no-stats" : "--sort/--rsort") + " applies only to dump-flows");
}

std::string argCountError(const CommandSpec& c, std::size_t got) {
    const std::string count = c.minArgs == c.maxArgs ? std::to_string(c.minArgs)
                                                     : std::to_string(c.minArgs) + " or " + std::to_string(c.maxArgs);
    return "'" + std::string(c.name) + "' takes " + count + (c.maxArgs == 1 ? " argument: " : " arguments: ") +
           std::string(c.usage) + " (got " + std::to_string(got) + ")";
}

bool singleFlow(const std::string& command) {
    return command == "add-flow" || command == "mod-flows" || command == "add-group" || command == "mod-group";
}
bool fileCommand(const std::string& command) { return command == "add-flows" || command == "add-groups"; }

// The text the daemon's error data points into, if known.
std::optional<std::string> errorContext(const OfctlInvocation& inv, const OfctlRequest& request, const Value& data) {
    if (fileCommand(inv.command)) {
        auto it = data.FindMember("line");
        if (it == data.MemberEnd() || !it->value.IsUint64()) return std::nullopt;
        const std::uint64_t line = it->value.GetUint64();
        if (line == 0 || line > request.flows.size()) return std::nullopt;
        return request.flows[line - 1];
    }
    if (singleFlow(inv.command) && !request.flows.empty()) return request.flows[0];
    if ((inv.command == "del-flows" || inv.command == "dump-flows") && !inv.args.empty()) return inv.args[0];
    return std::nullopt;
}

std::string caretLines(const std::string& text, std::size_t offset, std::size_t tokenSize) {
    std::string pad;
    for (std::size_t i = 0; i < offset; ++i) pad += text[i] == '\t' ? '\t' : ' ';
    return "\n  " + text + "\n  " + pad + "^" + std::string(tokenSize > 1 ? tokenSize - 1 : 0, '~');
}

std::string resultText(const OfctlInvocation& inv, const Value& result) {
    if (inv.command == "dump-flows") return formatDumpFlows(result, inv.noStats, inv.sort);
    if (inv.command == "show") return formatOfctlShow(result);
    if (inv.command == "dump-ports") return formatDumpPorts(result);
    if (inv.command == "dump-tables") return formatDumpTables(result);
    if (std::string_view(spec(inv.command).method).starts_with("meter/")) return formatMeterResult(inv.command, result);
    if (std::string_view(spec(inv.command).method).starts_with("group/")) return formatGroupResult(inv.command, result);
    return {};  // add-flow, add-flows, mod-flows, del-flows: silent, as ovs-ofctl
}

}  // namespace

OfctlInvocation parseOfctlArgs(const std::vector<std::string>& args) {
    OfctlInvocation inv;
    const ParsedArgs parsed = parseCommandLine(args, kOptions);  // options anywhere, as ovs-ofctl
    for (const auto& o : parsed.options) applyOption(o, inv);
    const std::vector<std::string>& positional = parsed.words;
    if (inv.common.socket.empty()) inv.common.socket = defaultSocketPath();
    if (positional.empty()) {
        if (inv.help || inv.version) return inv;
        throw CliError("missing command name (use --help for help)");
    }
    inv.command = positional[0];
    const CommandSpec& c = spec(inv.command);
    const std::size_t n = positional.size() - 1;
    if (n < c.minArgs || n > c.maxArgs) throw CliError(argCountError(c, n));
    inv.bridge = positional[1];
    inv.args.assign(positional.begin() + 2, positional.end());
    checkOptions(inv);
    return inv;
}

std::vector<std::string> readFlowFile(const std::string& path, std::istream& in) {
    std::vector<std::string> lines;
    auto readAll = [&lines](std::istream& s) {
        for (std::string line; std::getline(s, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            lines.push_back(std::move(line));
        }
        return !s.bad();
    };
    if (path == "-") {
        if (!readAll(in)) throw CliError("cannot read flows from standard input");
        return lines;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw CliError("cannot read '" + path + "': Is a directory");
    std::ifstream file(path);
    if (!file) throw CliError("cannot read '" + path + "': " + std::strerror(errno));
    if (!readAll(file)) throw CliError("cannot read '" + path + "': " + std::strerror(errno));
    return lines;
}

OfctlRequest ofctlRequest(const OfctlInvocation& inv, const std::vector<std::string>& fileLines) {
    const CommandSpec& c = spec(inv.command);
    OfctlRequest req;
    req.method = c.method;
    auto& params = req.params;
    auto& alloc = params.GetAllocator();
    params.SetObject();
    params.AddMember("bridge", Value(inv.bridge.c_str(), alloc), alloc);
    const std::string* arg = inv.args.empty() ? nullptr : &inv.args[0];
    if (fileCommand(inv.command)) req.flows = fileLines;
    else if (singleFlow(inv.command)) req.flows = {*arg};
    if (c.method == "flow/add" || c.method == "flow/mod") {
        Value flows(rapidjson::kArrayType);
        for (const auto& f : req.flows) flows.PushBack(Value(f.c_str(), static_cast<rapidjson::SizeType>(f.size()), alloc), alloc);
        params.AddMember("flows", flows, alloc);
    }
    if (inv.command == "del-flows") params.AddMember("match", Value(arg ? arg->c_str() : "", alloc), alloc);
    if (inv.command == "dump-flows" && arg) params.AddMember("match", Value(arg->c_str(), alloc), alloc);
    if (inv.command == "dump-ports" && arg) params.AddMember("port", Value(arg->c_str(), alloc), alloc);
    if (c.method.starts_with("meter/") && arg) params.AddMember("meter", Value(arg->c_str(), alloc), alloc);
    if (inv.command == "mod-port") {
        params.AddMember("port", Value(inv.args[0].c_str(), alloc), alloc);
        params.AddMember("action", Value(inv.args[1].c_str(), alloc), alloc);
    }
    if (c.method == "group/add" || c.method == "group/mod") {
        Value groups(rapidjson::kArrayType);
        for (const auto& g : req.flows) groups.PushBack(Value(g.c_str(), static_cast<rapidjson::SizeType>(g.size()), alloc), alloc);
        params.AddMember("groups", groups, alloc);
    } else if (c.method.starts_with("group/") && arg) {
        // ovs-ofctl's dump-groups takes a bare number (or ALL); the others group_id=ID.
        const bool bare = !arg->empty() && arg->find('=') == std::string::npos;
        const std::string text = bare ? "group_id=" + *arg : *arg;
        params.AddMember("group", Value(text.c_str(), alloc), alloc);
    }
    if (inv.command == "mod-flows" || inv.command == "del-flows") params.AddMember("strict", inv.strict, alloc);
    if (protocol::encodeRequest(req.method, params, 1).size() > protocol::kMaxLineBytes)
        throw CliError("the request is larger than the protocol's 64 MiB line limit; split the flow file");
    return req;
}

std::string ofctlErrorText(const OfctlInvocation& inv, const OfctlRequest& request, const protocol::Response& response) {
    std::string message = response.message;
    if (singleFlow(inv.command) && message.starts_with("line 1: ")) message.erase(0, 8);
    const Value& data = response.data;
    if (!data.IsObject()) return message;
    auto offset = data.FindMember("offset");
    if (offset == data.MemberEnd() || !offset->value.IsUint64()) return message;
    auto context = errorContext(inv, request, data);
    if (!context || offset->value.GetUint64() > context->size()) return message;
    auto token = data.FindMember("token");
    const std::size_t tokenSize =
        token != data.MemberEnd() && token->value.IsString() ? token->value.GetStringLength() : 1;
    return message + caretLines(*context, offset->value.GetUint64(), tokenSize);
}

int vsofctlMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
                const RpcFactory& connect) {
    try {
        const OfctlInvocation inv = parseOfctlArgs(args);
        if (inv.help) {
            out << ofctlUsage();
            return kExitOk;
        }
        if (inv.version) {
            out << "vsofctl (vswitch) " << VSWITCH_VERSION << "\n";
            return kExitOk;
        }
        const std::vector<std::string> lines =
            fileCommand(inv.command) ? readFlowFile(inv.args[0], in) : std::vector<std::string>{};
        const OfctlRequest request = ofctlRequest(inv, lines);
        std::unique_ptr<RpcCaller> rpc = connect(inv.common);
        const protocol::Response response = rpc->call(request.method, request.params);
        if (!response.ok) throw CliError(ofctlErrorText(inv, request, response));
        out << (inv.common.format == OutputFormat::kJson ? jsonLine(response.result) : resultText(inv, response.result));
        out.flush();
        return kExitOk;
    } catch (const CliError& e) {
        err << "vsofctl: " << e.what() << "\n";
        return e.status();
    } catch (const protocol::ClientError& e) {
        err << "vsofctl: " << e.what() << "\n";
        return kExitError;
    }
}

std::string ofctlUsage() {
    return R"(vsofctl: manage the OpenFlow flow tables of a vswitchd bridge (ovs-ofctl syntax)
usage: vsofctl [OPTIONS] COMMAND BRIDGE [ARG...]

Commands:
  show BRIDGE                  datapath id, tables and ports of BRIDGE
  add-flow BRIDGE FLOW         add FLOW, e.g. "priority=100,ip,nw_dst=10.0.0.1,actions=output:p2"
  add-flows BRIDGE FILE        add the flows of FILE, one per line ('-': standard input);
                               '#' comments and blank lines are skipped; one bad line adds nothing
  mod-flows BRIDGE FLOW        replace the actions of the flows FLOW matches (--strict: exact match
                               and priority)
  del-flows BRIDGE [MATCH]     delete the flows MATCH selects (all without MATCH; --strict: exact)
  dump-flows BRIDGE [MATCH]    print the flows (MATCH may also give table=, cookie=V/M, out_port=)
  dump-ports BRIDGE [PORT]     per-port packet, byte and drop counters
  dump-tables BRIDGE           per-table rule, lookup and match counts
  add-meter BRIDGE METER       add an OpenFlow meter, e.g. "meter=1,kbps,burst,bands=type=drop,rate=20000,burst_size=8000"
  mod-meter BRIDGE METER       change a meter's flags and bands (its rules' cached flows follow at once)
  del-meter BRIDGE [meter=ID]  delete a meter and the flows that use it (all meters without meter=ID)
  del-meters BRIDGE            delete every meter and the flows that use them
  dump-meters BRIDGE [meter=ID]  print the meters (one per line)
  meter-stats BRIDGE [meter=ID]  per-meter and per-band counters
  meter-features BRIDGE        what the switch's meters support
  add-group BRIDGE GROUP       add an OpenFlow group, e.g. "group_id=1,type=select,bucket=output:p2,bucket=output:p3"
  add-groups BRIDGE FILE       add the groups of FILE, one per line ('-': standard input)
  mod-group BRIDGE GROUP       replace a group's type and buckets
  del-groups BRIDGE [group_id=ID]  delete a group and the flows that use it (all groups without ID)
  dump-groups BRIDGE [group_id=ID]  print the groups (one per line)
  dump-group-stats BRIDGE [group_id=ID]  per-group and per-bucket counters
  mod-port BRIDGE PORT ACTION  change a port's OpenFlow config: up, down, receive, no-receive,
                               forward, no-forward, flood, no-flood, packet-in, no-packet-in

Options:
  --socket PATH            management socket (default: $VSWITCH_SOCKET or /run/vswitch/vswitchd.sock)
  -t, -T, --timeout SECS   give up after SECS seconds (default 0: wait forever)
  -f, --format FMT         text (default) or json (the daemon's result, unchanged)
  --strict                 mod-flows / del-flows: match exactly, priority included
  --no-stats               dump-flows: omit cookie, duration, table 0 and counters
  --sort, --rsort          dump-flows: sort by ascending / descending priority
  -O, --protocols VERSION  accepted for ovs-ofctl compatibility and ignored
  -v, --verbose            log the JSON-RPC requests and replies on stderr
  -h, --help               print this help
  -V, --version            print the version
Options may come before or after the command and its arguments (as with ovs-ofctl); "--" ends
them, so that an argument may start with '-'. Long options may be abbreviated (--no-s).
Flow syntax: docs/vsofctl.md. Exit status: 0 success, 1 error.
)";
}

}  // namespace vs::utilities
