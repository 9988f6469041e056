#include "utilities/vsctl_parse.h"

#include <algorithm>
#include <optional>

#include "utilities/cli_getopt.h"
#include "utilities/vsctl_db.h"
#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

constexpr int kMany = 1 << 20;

struct CommandSpec {
    std::string_view name;
    int minArgs;
    int maxArgs;
    bool modifies;
    bool mayExist;  // accepts --may-exist
    bool ifExists;  // accepts --if-exists
    bool columns;   // accepts --columns=
    bool id = false;   // accepts --id=@name
    bool all = false;  // accepts --all
};

constexpr CommandSpec kCommands[] = {
    {"add-br", 1, 3, true, true, false, false},
    {"del-br", 1, 1, true, false, true, false},
    {"list-br", 0, 0, false, false, false, false},
    {"br-exists", 1, 1, false, false, false, false},
    {"add-port", 2, kMany, true, true, false, false},
    {"add-bond", 4, kMany, true, true, false, false},
    {"del-port", 1, 2, true, false, true, false},
    {"add-bond-iface", 2, 2, true, true, false, false},
    {"del-bond-iface", 1, 2, true, false, true, false},
    {"list-ports", 1, 1, false, false, false, false},
    {"port-to-br", 1, 1, false, false, false, false},
    {"list-ifaces", 1, 1, false, false, false, false},
    {"iface-to-br", 1, 1, false, false, false, false},
    {"show", 0, 0, false, false, false, false},
    {"set-controller", 2, kMany, true, false, false, false},
    {"get-controller", 1, 1, false, false, false, false},
    {"del-controller", 1, 1, true, false, false, false},
    {"set-fail-mode", 2, 2, true, false, false, false},
    {"get-fail-mode", 1, 1, false, false, false, false},
    {"del-fail-mode", 1, 1, true, false, false, false},
    {"set-ssl", 3, 3, true, false, false, false},
    {"get-ssl", 0, 0, false, false, false, false},
    {"del-ssl", 0, 0, true, false, false, false},
    {"add-mirror", 2, kMany, true, true, false, false},  // docs/mirrors.md
    {"del-mirror", 2, 2, true, false, true, false},
    {"list-mirrors", 1, 1, false, false, false, false},
    {"set", 3, kMany, true, false, true, false},
    {"get", 2, kMany, false, false, true, false, true},
    {"clear", 3, kMany, true, false, true, false},
    {"remove", 4, kMany, true, false, true, false},
    {"list", 1, kMany, false, false, true, true},
    // The database path's commands (vsctl_db.h).
    {"find", 1, kMany, false, false, false, true},
    {"create", 1, kMany, true, false, false, false, true},
    {"destroy", 1, kMany, true, false, true, false, false, true},
    {"add", 4, kMany, true, false, true, false},
    {"wait-until", 2, kMany, false, false, false, false},
    {"set-manager", 1, kMany, true, false, false, false},
    {"get-manager", 0, 0, false, false, false, false},
    {"del-manager", 0, 0, true, false, false, false},
    {"emer-reset", 0, 0, true, false, false, false},
};

const CommandSpec* findSpec(std::string_view name) {
    for (const auto& spec : kCommands)
        if (spec.name == name) return &spec;
    return nullptr;
}

bool isOption(const std::string& a) { return a.size() > 1 && a[0] == '-'; }

std::string plural(int n, std::string_view word) {
    return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// Global options, and the per-command options the first command may take among them (as
// ovs-vsctl accepts "vsctl --may-exist --timeout 5 add-br br0"). -T is not ovs-vsctl's but keeps
// the three tools alike (vsappctl's -t names the socket, as ovs-appctl's does).
enum OptionId { kSocket, kTimeout, kFormat, kVerbose, kHelp, kVersion, kNoWait, kMayExist, kIfExists, kColumns,
                kDb, kData, kNoHeadings, kBare, kPretty, kOneline, kDryRun, kId, kAll };

constexpr OptionDef kOptions[] = {
    {"socket", 0, OptionDef::kRequired, kSocket},
    {"timeout", 't', OptionDef::kRequired, kTimeout},
    {nullptr, 'T', OptionDef::kRequired, kTimeout},
    {"format", 'f', OptionDef::kRequired, kFormat},
    {"verbose", 'v', OptionDef::kNone, kVerbose},
    {"help", 'h', OptionDef::kNone, kHelp},
    {"version", 'V', OptionDef::kNone, kVersion},
    {"no-wait", 0, OptionDef::kNone, kNoWait},  // accepted for ovs-vsctl scripts; transact always waits
    {"may-exist", 0, OptionDef::kNone, kMayExist},
    {"if-exists", 0, OptionDef::kNone, kIfExists},
    {"columns", 0, OptionDef::kRequired, kColumns},
    {"db", 0, OptionDef::kRequired, kDb},
    {"data", 'd', OptionDef::kRequired, kData},
    {"no-headings", 0, OptionDef::kNone, kNoHeadings},
    {"no-heading", 0, OptionDef::kNone, kNoHeadings},  // ovs-docker spells it so
    {"bare", 0, OptionDef::kNone, kBare},
    {"pretty", 0, OptionDef::kNone, kPretty},
    {"oneline", 0, OptionDef::kNone, kOneline},
    {"dry-run", 0, OptionDef::kNone, kDryRun},
    {"id", 0, OptionDef::kRequired, kId},
    {"all", 0, OptionDef::kNone, kAll},
};

// A global option misplaced after the first command (for the message).
bool isGlobalOption(std::string_view a) {
    std::string_view base = a.substr(0, a.find('='));
    for (const auto& d : kOptions) {
        if (d.id == kMayExist || d.id == kIfExists || d.id == kColumns || d.id == kId || d.id == kAll) continue;
        if ((d.longName && base == std::string("--") + d.longName) ||
            (d.shortName && base == std::string{'-', d.shortName}))
            return true;
    }
    return false;
}

// --columns=a,b (`text` is the option as written, for the message).
void parseColumns(const std::string& text, const std::string& list, CommandOptions& opts) {
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = std::min(list.find(',', start), list.size());
        std::string col = list.substr(start, comma - start);
        if (col.empty()) throw CliError("'" + text + "': empty column name");
        opts.columns.push_back(normalColumnName(col));
        start = comma + 1;
    }
}

// Applies one option getopt found before the first command; per-command ones go to `first`
// and their names to `given`.
void applyOption(const ParsedOption& o, VsctlInvocation& inv, CommandOptions& first, std::vector<std::string>& given) {
    switch (o.id) {
    case kSocket: inv.common.socket = *o.value; break;
    case kTimeout: inv.common.timeoutSeconds = parseTimeout(*o.value); break;
    case kFormat:
        inv.db.style.format = parseDbFormat(*o.value);
        if (*o.value == "json" || *o.value == "text") inv.common.format = parseFormat(*o.value);
        else inv.db.dbOption = true;
        break;
    case kDb: inv.db.target = *o.value; inv.db.dbOption = true; break;
    case kData: inv.db.style.data = parseDbData(*o.value); inv.db.dbOption = true; break;
    case kNoHeadings: inv.db.style.headings = false; inv.db.dbOption = true; break;
    case kBare:
        inv.db.style = DbStyle{DbStyle::Format::kList, DbStyle::Data::kBare, false, false};
        inv.db.dbOption = true;
        break;
    case kPretty: inv.db.style.pretty = true; inv.db.dbOption = true; break;
    case kOneline: inv.db.oneline = true; inv.db.dbOption = true; break;
    case kDryRun: inv.db.dryRun = true; inv.db.dbOption = true; break;
    case kId: first.id = *o.value; given.push_back(o.spelling); break;
    case kAll: first.all = true; given.push_back(o.spelling); break;
    case kVerbose: inv.common.verbose = true; break;
    case kHelp: inv.help = true; break;
    case kVersion: inv.version = true; break;
    case kNoWait: inv.db.noWait = true; break;
    case kMayExist: first.mayExist = true; given.push_back(o.spelling); break;
    case kIfExists: first.ifExists = true; given.push_back(o.spelling); break;
    case kColumns: parseColumns(o.spelling + "=" + *o.value, *o.value, first); given.push_back(o.spelling); break;
    }
}

// Consumes a per-command option of a later command (after "--"); returns its name
// ("--may-exist") or nullopt if not one. As in ovs-vsctl, these take values only as --name=VALUE.
std::optional<std::string> parsePerCommand(const std::string& a, CommandOptions& opts) {
    if (a == "--may-exist") return opts.mayExist = true, a;
    if (a == "--if-exists") return opts.ifExists = true, a;
    if (a.starts_with("--columns=")) {
        parseColumns(a, a.substr(10), opts);
        return std::string("--columns");
    }
    if (a.starts_with("--id=")) return opts.id = a.substr(5), std::string("--id");
    if (a == "--all") return opts.all = true, a;
    return std::nullopt;
}

void checkOptions(const CommandSpec& spec, const std::vector<std::string>& given) {
    for (const auto& opt : given) {
        bool ok = (opt == "--may-exist" && spec.mayExist) || (opt == "--if-exists" && spec.ifExists) ||
                  (opt == "--columns" && spec.columns) || (opt == "--id" && spec.id) || (opt == "--all" && spec.all);
        if (!ok) throw CliError("'" + std::string(spec.name) + "' command has no '" + opt + "' option");
    }
}

void checkArgCount(const CommandSpec& spec, int n) {
    const std::string name(spec.name);
    if (n < spec.minArgs)
        throw CliError("'" + name + "' command requires at least " + plural(spec.minArgs, "argument"));
    if (n > spec.maxArgs && spec.maxArgs == 0) throw CliError("'" + name + "' command takes no arguments");
    if (n > spec.maxArgs) throw CliError("'" + name + "' command takes at most " + plural(spec.maxArgs, "argument"));
    if (name == "add-br" && n > 1)
        throw CliError("'add-br' with a parent bridge and VLAN (fake bridges) is not supported");
}

// Syntax checks for read commands (modifying commands are checked when their ops are built).
void validateRead(const Command& cmd) {
    if (cmd.name == "get") {
        canonicalTable(cmd.args[0]);
        for (std::size_t i = 2; i < cmd.args.size(); ++i) {
            ColumnArg col = parseColumnArg(cmd.args[i]);
            if (col.value)
                throw CliError("'get' argument '" + cmd.args[i] + "' must be COLUMN or COLUMN:KEY, without '='");
        }
    } else if (cmd.name == "list") {
        canonicalTable(cmd.args[0]);
        for (const auto& c : cmd.options.columns) parseColumnArg(c);
    }
}

std::vector<std::vector<std::string>> splitSegments(const std::vector<std::string>& args) {
    std::vector<std::vector<std::string>> segments(1);
    for (const auto& a : args) {
        if (a == "--")
            segments.emplace_back();
        else
            segments.back().push_back(a);
    }
    return segments;
}

}  // namespace

std::string Command::text() const {
    std::string s = name;
    for (const auto& a : args) s += " " + a;
    return s;
}

VsctlInvocation parseVsctlArgs(const std::vector<std::string>& args) {
    VsctlInvocation inv;
    // Global options end at the first command word, as in ovs-vsctl (getopt in POSIX order):
    // from there on every word belongs to the commands, so their arguments may start with '-'
    // ("--" separates commands; "--may-exist" before a later command is that command's).
    const ParsedArgs parsed =
        parseCommandLine(args, kOptions, [](const std::string&, std::size_t) { return true; });
    Command first;
    std::vector<std::string> firstGiven;
    for (const auto& o : parsed.options) applyOption(o, inv, first.options, firstGiven);
    auto segments = splitSegments(parsed.words);
    // A "--" that getopt consumed ended an empty first segment: the words start a later one.
    if (parsed.dashDashAfter) segments.insert(segments.begin(), std::vector<std::string>{});
    for (std::size_t s = 0; s < segments.size(); ++s) {
        const auto& seg = segments[s];
        std::size_t i = 0;
        Command cmd;
        std::vector<std::string> given;
        if (s == 0) {
            cmd = std::move(first);
            given = std::move(firstGiven);
        }
        while (i < seg.size() && isOption(seg[i])) {  // getopt took the first segment's options
            if (auto name = parsePerCommand(seg[i], cmd.options)) {
                given.push_back(*name);
                ++i;
                continue;
            }
            if (isGlobalOption(seg[i])) throw CliError("option '" + seg[i] + "' must come before the first command");
            throw CliError("unrecognized option '" + seg[i] + "'; use --help for help");
        }
        if (i == seg.size()) {
            if (!given.empty()) throw CliError("missing command name after '" + given.front() + "'");
            continue;  // empty segment, as ovs-vsctl allows
        }
        cmd.name = seg[i];
        cmd.args.assign(seg.begin() + static_cast<std::ptrdiff_t>(i) + 1, seg.end());
        const CommandSpec* spec = findSpec(cmd.name);
        if (!spec) throw CliError("unknown command '" + cmd.name + "'; use --help for help");
        checkOptions(*spec, given);
        // "vsctl show --format=json": say where the option belongs (no bridge, port, column or
        // key is sensibly named "--format=json"; short forms such as "-v" stay arguments).
        for (const auto& a : cmd.args)
            if (a.starts_with("--") && isGlobalOption(a))
                throw CliError("option '" + a + "' must come before the first command");
        checkArgCount(*spec, static_cast<int>(cmd.args.size()));
        cmd.modifies = spec->modifies;
        inv.commands.push_back(std::move(cmd));
    }
    inv.useDb = needsDatabase(inv);
    if (!inv.useDb)
        for (const auto& cmd : inv.commands) validateRead(cmd);
    if (inv.common.socket.empty()) inv.common.socket = defaultSocketPath();
    if (inv.commands.empty() && !inv.help && !inv.version)
        throw CliError("missing command name (use --help for help)");
    return inv;
}

std::string vsctlUsage() {
    return R"(vsctl: vswitch configuration utility (ovs-vsctl syntax)
usage: vsctl [OPTIONS] COMMAND [ARG...] [-- [OPTIONS] COMMAND [ARG...]]...

Bridge commands:
  [--may-exist] add-br BRIDGE       create a new bridge
  [--if-exists] del-br BRIDGE       delete BRIDGE and all of its ports
  list-br                           print the names of all bridges
  br-exists BRIDGE                  exit 2 if BRIDGE does not exist

Port commands:
  list-ports BRIDGE                 print the names of all ports on BRIDGE
  [--may-exist] add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...
                                    add network device PORT to BRIDGE
  [--may-exist] add-bond BRIDGE PORT IFACE... [COLUMN[:KEY]=VALUE]...
                                    add bonded port PORT made of IFACEs
  [--may-exist] add-bond-iface BOND IFACE
                                    add interface IFACE to bond BOND
  [--if-exists] del-bond-iface [BOND] IFACE
                                    remove interface IFACE from its bond
  [--if-exists] del-port [BRIDGE] PORT
                                    delete PORT (or the port of interface PORT)
  port-to-br PORT                   print the name of the bridge that contains PORT

Interface commands:
  list-ifaces BRIDGE                print the names of all interfaces on BRIDGE
  iface-to-br IFACE                 print the name of the bridge that contains IFACE

Controller commands (docs/controller.md):
  set-controller BRIDGE TARGET...   connect BRIDGE to controllers: tcp:HOST[:PORT], ssl:HOST[:PORT]
                                    (the switch connects), ptcp:[PORT][:IP], pssl:[PORT][:IP]
                                    (the switch listens); PORT defaults to 6653. They speak
                                    OpenFlow 1.3; prefixed json: (json:ssl:...) the JSON protocol
  get-controller BRIDGE             print the controllers of BRIDGE
  del-controller BRIDGE             remove every controller of BRIDGE
  set-fail-mode BRIDGE MODE         standalone (NORMAL while no controller) or secure
  get-fail-mode BRIDGE              print the fail mode of BRIDGE (empty: standalone)
  del-fail-mode BRIDGE              back to the default (standalone)

Mirror commands (docs/mirrors.md):
  [--may-exist] add-mirror BRIDGE NAME [COLUMN=VALUE]...
                                    a port mirror; COLUMN: select-all, select-src-port,
                                    select-dst-port, select-vlan, output-port, output-vlan
  [--if-exists] del-mirror BRIDGE NAME
  list-mirrors BRIDGE               the bridge's mirrors with their counters

Manager commands (OVSDB managers, docs/ovsdb.md):
  set-manager TARGET...             serve OVSDB at TARGET (ptcp:PORT[:IP]) as well
  get-manager                       print the manager targets
  del-manager                       remove every manager
  emer-reset                        clear controllers, managers, mirrors, SSL and other_config

SSL commands:
  set-ssl PRIVKEY CERT CACERT       the switch's private key, certificate and the CA it trusts
  get-ssl                           print the SSL configuration
  del-ssl                           remove the SSL configuration

Database commands (ovs-vsctl's, docs/vsctl.md): TABLE is any table of the Open_vSwitch schema
(Open_vSwitch, Bridge, Port, Interface, Controller, Manager, SSL, Mirror, QoS, Queue, Flow_Table, ...),
a unique prefix of its name in any case; RECORD a name (Bridge, Port, Interface, Mirror, Flow_Table),
a bridge (Controller, NetFlow, sFlow, IPFIX), a port (QoS), a target (Manager), "." (Open_vSwitch,
SSL), or a UUID:
  [--columns=COL,...] [--if-exists] list TABLE [RECORD]...
  [--columns=COL,...] find TABLE [COLUMN[:KEY]{=,!=,<,>,<=,>=,{=},{!=},{<},{>},{<=},{>=}}VALUE]...
  [--if-exists] [--id=ID] get TABLE RECORD [COLUMN[:KEY]]...
  [--if-exists] set TABLE RECORD COLUMN[:KEY]=VALUE...
  [--if-exists] add TABLE RECORD COLUMN [KEY=]VALUE...
  [--if-exists] remove TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...
  [--if-exists] clear TABLE RECORD COLUMN...
  [--id=ID] create TABLE COLUMN[:KEY]=VALUE...
                                    print the new row's UUID; ID (@NAME) names it for later commands
  [--if-exists] [--all] destroy TABLE [RECORD]...
  wait-until TABLE RECORD [COLUMN[:KEY]=VALUE]...
                                    wait until RECORD exists and the conditions hold

Other:
  show                              print an overview of the configuration

Values: strings bare or "quoted"; maps {key=value,key2=value2}; e.g.
  vsctl set Bridge br0 other_config:mac-aging-time=10
  vsctl add-port br0 vx1 -- set Interface vx1 type=vxlan options:remote_ip=192.0.2.2
  vsctl add-port br0 p1 tag=10 -- set Port p2 trunks=10,20 vlan_mode=native-untagged
  vsctl set-controller br0 ssl:192.0.2.1 -- set Controller br0 inactivity_probe=1000
  vsctl add-bond br0 bond0 eth1 eth2 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast

Options:
  --socket PATH       management socket (default: $VSWITCH_SOCKET or /run/vswitch/vswitchd.sock)
  -t, -T, --timeout SECS
                      give up after SECS seconds (default 0: wait forever)
  -f, --format FMT    output format for read commands: text (default) or json; for the
                      database commands also list, table, csv, json, html (ovs-vsctl's)
  -d, --data FMT      database cells as string (default), bare or json
  --no-headings       database tables without headings
  --bare              --format=list --data=bare --no-headings
  --pretty            indent --format=json output
  --oneline           one line per command (tables excepted)
  --dry-run           run the database commands but commit nothing
  --db unix:PATH      OVSDB socket of vswitchd (default: db.sock beside the management socket)
  -v, --verbose       log the JSON-RPC requests and replies on stderr
  -h, --help          print this help
  -V, --version       print the version
OPTIONS MUST COME BEFORE THE FIRST COMMAND (as with ovs-vsctl): everything after the first
command word belongs to the commands, so that their arguments may start with '-' and "--" can
separate them; "vsctl list-br --format=json" is an error, "vsctl --format=json list-br" is right.
A command's own options (--may-exist, --if-exists, --columns=, --id=, --all) come right before
its word. Commands joined by -- run as one all-or-nothing transaction. An invocation with a
database-only command (find, create, destroy, add, wait-until), a table or option only OVSDB
knows, or --db runs through vswitchd's OVSDB server as ovs-vsctl would; besides the database
commands it may hold the bridge, port, controller and manager commands, but not the bond, SSL
or mirror commands nor show.
Exit status: 0 success, 1 error, 2 br-exists found no such bridge.
)";
}

}  // namespace vs::utilities
