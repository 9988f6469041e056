#include "utilities/appctl.h"

#include <algorithm>
#include <cinttypes>
#include <memory>
#include <optional>
#include <cstdio>
#include <ostream>
#include <string_view>
#include <vector>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "utilities/cli_getopt.h"

namespace vs::utilities {
namespace {

using Value = rapidjson::Value;

struct KnownCommand {
    std::string_view name;
    int minArgs;
    int maxArgs;
    std::string_view usage;
};

constexpr KnownCommand kKnown[] = {
    {"fdb/show", 1, 1, "fdb/show BRIDGE"},
    {"fdb/flush", 0, 1, "fdb/flush [BRIDGE]"},
    {"dpif/show", 0, 0, "dpif/show"},
    {"coverage/show", 0, 0, "coverage/show"},
    {"version", 0, 0, "version"},
    {"dpif/dump-flows", 0, 0, "dpif/dump-flows"},
    {"ofproto/trace", 2, 2, "ofproto/trace BRIDGE FLOW"},
    {"bond/show", 0, 1, "bond/show [BOND]"},
    {"lacp/show", 0, 1, "lacp/show [BOND]"},
    {"stp/show", 0, 1, "stp/show [BRIDGE]"},
    {"stp/tcn", 0, 1, "stp/tcn [BRIDGE]"},
    {"rstp/show", 0, 1, "rstp/show [BRIDGE]"},
    {"vlog/list", 0, 0, "vlog/list"},
    {"vlog/set", 1, 64, "vlog/set SPEC..."},
    {"vlog/reopen", 0, 0, "vlog/reopen"},
};

const KnownCommand* findKnown(std::string_view name) {
    for (const auto& k : kKnown)
        if (k.name == name) return &k;
    return nullptr;
}

enum OptionId { kVerbose, kHelp, kVersion, kSocket, kTimeout, kFormat };

// ovs-appctl's spellings: -t/--target name the daemon's socket, -T/--timeout is the timeout.
constexpr OptionDef kOptions[] = {
    {"verbose", 'v', OptionDef::kNone, kVerbose},
    {"help", 'h', OptionDef::kNone, kHelp},
    {"version", 'V', OptionDef::kNone, kVersion},
    {"socket", 0, OptionDef::kRequired, kSocket},
    {"target", 't', OptionDef::kRequired, kSocket},
    {"timeout", 'T', OptionDef::kRequired, kTimeout},
    {"format", 'f', OptionDef::kRequired, kFormat},
};

void applyOption(const ParsedOption& o, AppctlInvocation& inv) {
    switch (o.id) {
    case kVerbose: inv.common.verbose = true; break;
    case kHelp: inv.help = true; break;
    case kVersion: inv.version = true; break;
    case kSocket: inv.common.socket = *o.value; break;
    case kTimeout: inv.common.timeoutSeconds = parseTimeout(*o.value); break;
    case kFormat: inv.common.format = parseFormat(*o.value); break;
    }
}

const Value* find(const Value& obj, const char* name) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::uint64_t u64(const Value& obj, const char* name) {
    if (!obj.IsObject()) return 0;
    auto it = obj.FindMember(name);
    if (it == obj.MemberEnd()) return 0;
    if (it->value.IsUint64()) return it->value.GetUint64();
    if (it->value.IsInt64() && it->value.GetInt64() > 0) return static_cast<std::uint64_t>(it->value.GetInt64());
    return 0;
}

std::string str(const Value& obj, const char* name) {
    if (!obj.IsObject()) return {};
    auto it = obj.FindMember(name);
    return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
}

const Value* array(const Value& obj, const char* name) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(name);
    return it != obj.MemberEnd() && it->value.IsArray() ? &it->value : nullptr;
}

std::string format(const char* fmt, auto... args) {
    char buf[512];
    int n = std::snprintf(buf, sizeof(buf), fmt, args...);
    return std::string(buf, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof(buf)) - 1)));
}

// "p2" < "p10": digit runs compare as numbers, the rest as bytes.
bool naturalLess(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    while (i < a.size() && j < b.size()) {
        if (digit(a[i]) && digit(b[j])) {
            std::size_t ei = i, ej = j;
            while (ei < a.size() && digit(a[ei])) ++ei;
            while (ej < b.size() && digit(b[ej])) ++ej;
            std::string_view na = std::string_view(a).substr(i, ei - i), nb = std::string_view(b).substr(j, ej - j);
            while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
            while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
            if (na.size() != nb.size()) return na.size() < nb.size();
            if (na != nb) return na < nb;
            i = ei;
            j = ej;
        } else {
            if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j || (a.size() - i == b.size() - j && a < b);
}

// Open vSwitch's layout (" port  VLAN  MAC                Age", "%5s  %4d  MAC  %3d"), with the
// port column as wide as the longest name (OVS prints numbers; we print names, up to 15
// characters), rows sorted by port (p2 before p10), VLAN, then MAC (OVS lists them in LRU order,
// which a reader cannot search).
std::string formatFdb(const Value& result) {
    struct Row {
        std::string port;
        std::uint64_t vlan;
        std::string mac, age, remote;
    };
    std::vector<Row> rows;
    if (const Value* entries = array(result, "entries"))
        for (const auto& e : entries->GetArray()) {
            Row r{str(e, "port"), u64(e, "vlan"), str(e, "mac"), "?", ""};
            if (r.port.empty()) r.port = std::to_string(u64(e, "ofport"));
            if (const Value* age = find(e, "age"); age && age->IsNumber()) r.age = std::to_string(u64(e, "age"));
            if (!str(e, "remote_vtep").empty()) r.remote += "  remote_vtep=" + str(e, "remote_vtep");  // flow-based tunnel
            if (const Value* vni = find(e, "vni"); vni && vni->IsNumber()) r.remote += "  vni=" + std::to_string(u64(e, "vni"));
            rows.push_back(std::move(r));
        }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.port != b.port) return naturalLess(a.port, b.port);
        if (a.vlan != b.vlan) return a.vlan < b.vlan;
        return a.mac < b.mac;
    });
    int width = 5;
    for (const auto& r : rows) width = std::max(width, static_cast<int>(r.port.size()));
    std::string out = format("%*s  VLAN  MAC                Age\n", width, "port");
    for (const auto& r : rows)
        out += format("%*s  %4" PRIu64 "  %-17s  %3s%s\n", width, r.port.c_str(), r.vlan, r.mac.c_str(), r.age.c_str(),
                      r.remote.c_str());
    return out;
}

std::string formatDpifPort(const Value& p) {
    std::string out = format("    %s %" PRIu64 "/%" PRIu64 ": (%s)\n", str(p, "name").c_str(), u64(p, "ofport"),
                             u64(p, "dp_port"), str(p, "type").c_str());
    out += format("      RX packets:%" PRIu64 " bytes:%" PRIu64 " dropped:%" PRIu64 "\n", u64(p, "rx_packets"),
                  u64(p, "rx_bytes"), u64(p, "rx_dropped"));
    out += format("      TX packets:%" PRIu64 " bytes:%" PRIu64 " dropped:%" PRIu64 "\n", u64(p, "tx_packets"),
                  u64(p, "tx_bytes"), u64(p, "tx_dropped"));
    return out;
}

std::string formatDpif(const Value& result) {
    const Value* found = find(result, "lookups");
    const Value& lookups = found ? *found : result;
    std::string out = format("lookups: hit:%" PRIu64 " missed:%" PRIu64 " lost:%" PRIu64 "\n", u64(lookups, "hit"),
                             u64(lookups, "missed"), u64(lookups, "lost"));
    out += format("flows: %" PRIu64 "\n", u64(result, "flows"));
    const Value* bridges = array(result, "bridges");
    if (!bridges) return out;
    for (const auto& b : bridges->GetArray()) {
        out += "  " + str(b, "name") + ":\n";
        if (const Value* ports = array(b, "ports"))
            for (const auto& p : ports->GetArray()) out += formatDpifPort(p);
    }
    return out;
}

std::string formatCoverage(const Value& result) {
    const Value* counters = array(result, "counters");
    if (!counters) return {};
    std::size_t width = 0;
    for (const auto& c : counters->GetArray()) width = std::max(width, str(c, "name").size());
    std::string out;
    for (const auto& c : counters->GetArray()) {
        std::string name = str(c, "name");
        name.resize(width, ' ');
        out += name + "  " + std::to_string(u64(c, "total")) + "\n";
    }
    return out;
}

std::string formatVersion(const Value& result) {
    std::string out = "vswitchd (vswitch) " + str(result, "version");
    if (const Value* protocol = find(result, "protocol"); protocol && protocol->IsNumber())
        out += " (protocol " + std::to_string(u64(result, "protocol")) + ")";
    return out + "\n";
}

// ofproto/trace: one line per step.
std::string formatLines(const Value& result) {
    std::string out;
    if (const Value* lines = array(result, "lines"))
        for (const auto& l : lines->GetArray())
            if (l.IsString()) out += std::string(l.GetString(), l.GetStringLength()) + "\n";
    return out;
}

// dpif/dump-flows in Open vSwitch's layout: "MATCH, packets:N, bytes:N, used:S, actions:A".
std::string formatDumpFlows(const Value& result) {
    std::string out;
    const Value* flows = array(result, "flows");
    if (!flows) return out;
    for (const auto& f : flows->GetArray()) {
        const Value* used = find(f, "used");
        out += format("%s, packets:%" PRIu64 ", bytes:%" PRIu64 ", used:%.3fs, actions:%s\n", str(f, "match").c_str(),
                      u64(f, "packets"), u64(f, "bytes"), used && used->IsNumber() ? used->GetDouble() : 0.0,
                      str(f, "actions").c_str());
    }
    return out;
}

bool boolean(const Value& obj, const char* name) {
    const Value* v = find(obj, name);
    return v && v->IsBool() && v->GetBool();
}

std::string strOr(const Value& obj, const char* name, const char* dflt) {
    std::string s = str(obj, name);
    return s.empty() ? dflt : s;
}

std::string formatBondMember(const Value& m) {
    std::string out = "member " + str(m, "name") + ": " + (boolean(m, "enabled") ? "enabled" : "disabled") + "\n";
    if (boolean(m, "active")) out += "  active member\n";
    out += std::string("  may_enable: ") + (boolean(m, "may_enable") ? "true" : "false") + "\n";
    out += std::string("  carrier: ") + (boolean(m, "carrier") ? "up" : "down") + "\n";
    if (const Value* d = find(m, "delay_ms"); d && d->IsInt64())
        out += format("  %s in %" PRId64 " ms\n", boolean(m, "enabled") ? "disabled" : "enabled", d->GetInt64());
    if (find(m, "tx_packets"))
        out += format("  tx: %" PRIu64 " packets, %" PRIu64 " bytes; rx: %" PRIu64 " packets, %" PRIu64 " bytes\n",
                      u64(m, "tx_packets"), u64(m, "tx_bytes"), u64(m, "rx_packets"), u64(m, "rx_bytes"));
    return out;
}

// bond/show in Open vSwitch's layout: the bond's settings, then each member with its hashes.
std::string formatBondShow(const Value& result) {
    std::string out;
    const Value* bonds = array(result, "bonds");
    if (!bonds) return out;
    for (const auto& b : bonds->GetArray()) {
        out += "---- " + str(b, "name") + " ----\n";
        out += "bond_mode: " + str(b, "bond_mode");
        if (str(b, "effective_mode") != str(b, "bond_mode")) out += " (acting as " + str(b, "effective_mode") + ")";
        out += "\nlacp_status: " + str(b, "lacp_status") + "\n";
        out += std::string("lacp_fallback_ab: ") + (boolean(b, "lacp_fallback_ab") ? "true" : "false") + "\n";
        out += format("updelay: %" PRIu64 " ms\ndowndelay: %" PRIu64 " ms\n", u64(b, "updelay"), u64(b, "downdelay"));
        if (const Value* n = find(b, "next_rebalance_ms"); n && n->IsInt64())
            out += format("next rebalance: %" PRId64 " ms\n", n->GetInt64());
        out += "active-backup primary: " + strOr(b, "primary", "<none>") + "\n";
        out += "active member: " + strOr(b, "active_member", "<none>") + "\n";
        const Value* hashes = array(b, "hashes");
        if (const Value* members = array(b, "members"))
            for (const auto& m : members->GetArray()) {
                out += "\n" + formatBondMember(m);
                if (!hashes) continue;
                for (const auto& h : hashes->GetArray())
                    if (str(h, "member") == str(m, "name"))
                        out += format("  hash %" PRIu64 ": %" PRIu64 " kB load\n", u64(h, "hash"), u64(h, "load_bytes") / 1024);
            }
    }
    return out;
}

std::string formatLacpInfo(const char* who, const Value& i) {
    std::string w(who);
    return "  " + w + " sys_id: " + str(i, "sys_id") + "\n" +
           format("  %s sys_priority: %" PRIu64 "\n  %s port_id: %" PRIu64 "\n  %s port_priority: %" PRIu64
                  "\n  %s key: %" PRIu64 "\n",
                  who, u64(i, "sys_priority"), who, u64(i, "port_id"), who, u64(i, "port_priority"), who, u64(i, "key")) +
           "  " + w + " state: " + str(i, "state_bits") + "\n";
}

// lacp/show in Open vSwitch's layout: the aggregator, then actor and partner per member.
std::string formatLacpShow(const Value& result) {
    std::string out;
    const Value* bonds = array(result, "bonds");
    if (!bonds) return out;
    for (const auto& b : bonds->GetArray()) {
        out += "---- " + str(b, "name") + " ----\n";
        out += "  status: " + str(b, "lacp") + " " + str(b, "status") + "\n";
        out += "  sys_id: " + str(b, "sys_id") + "\n";
        out += format("  sys_priority: %" PRIu64 "\n  aggregation key: %" PRIu64 "\n", u64(b, "sys_priority"), u64(b, "key"));
        out += "  lacp_time: " + str(b, "lacp_time") + "\n";
        if (const Value* members = array(b, "members"))
            for (const auto& m : members->GetArray()) {
                out += "\nmember: " + str(m, "name") + ": " + str(m, "rx_state") + " " + str(m, "mux_state") + "\n";
                const Value* actor = find(m, "actor");
                const Value* partner = find(m, "partner");
                if (actor) out += format("  port_id: %" PRIu64 "\n  port_priority: %" PRIu64 "\n", u64(*actor, "port_id"),
                                         u64(*actor, "port_priority"));
                out += std::string("  may_enable: ") + (boolean(m, "may_enable") ? "true" : "false") + "\n";
                out += format("  LACPDUs: %" PRIu64 " received, %" PRIu64 " sent\n\n", u64(m, "rx_pdus"), u64(m, "tx_pdus"));
                if (actor) out += formatLacpInfo("actor", *actor) + "\n";
                if (partner) out += formatLacpInfo("partner", *partner);
            }
    }
    return out;
}

// vlog/list in Open vSwitch's layout: one row per module, its level per destination; then which
// destinations are on.
std::string formatVlogList(const Value& result) {
    std::string out = format("%-16s  %-9s  %-9s  %s\n", "", "console", "syslog", "file");
    out += format("%-16s  %-9s  %-9s  %s\n", "", "-------", "------", "----");
    if (const Value* modules = array(result, "modules"))
        for (const auto& m : modules->GetArray())
            out += format("%-16s  %-9s  %-9s  %s\n", str(m, "name").c_str(), str(m, "console").c_str(),
                          str(m, "syslog").c_str(), str(m, "file").c_str());
    out += std::string("\nconsole: ") + (boolean(result, "console") ? "on" : "off (detached)") + "\n";
    out += "syslog: " + strOr(result, "syslog", "off") + "\n";
    out += "file: " + strOr(result, "file", "none") + "\n";
    return out;
}

std::string formatGeneric(const Value& result) {
    if (result.IsString()) {
        std::string s(result.GetString(), result.GetStringLength());
        if (!s.empty() && s.back() != '\n') s += '\n';
        return s;
    }
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 2);
    result.Accept(w);
    return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

}  // namespace

AppctlInvocation parseAppctlArgs(const std::vector<std::string>& args) {
    AppctlInvocation inv;
    // Options may follow the words of the commands vsappctl knows (none of their arguments starts
    // with '-'); after any other command word everything is that command's, verbatim, as in
    // ovs-appctl (its arguments may be options of its own or negative numbers).
    const ParsedArgs parsed = parseCommandLine(
        args, kOptions, [](const std::string& word, std::size_t index) { return index == 0 && !findKnown(word); });
    for (const auto& o : parsed.options) applyOption(o, inv);
    if (inv.common.socket.empty()) inv.common.socket = defaultSocketPath();
    if (parsed.words.empty()) {
        if (inv.help || inv.version) return inv;
        throw CliError("missing command name (use --help for help)");
    }
    inv.command = parsed.words[0];
    inv.args.assign(parsed.words.begin() + 1, parsed.words.end());
    if (const KnownCommand* k = findKnown(inv.command)) {
        const int n = static_cast<int>(inv.args.size());
        if (n < k->minArgs || n > k->maxArgs)
            throw CliError("'" + inv.command + "' takes " +
                           (k->maxArgs == 0 ? std::string("no arguments") : "arguments: " + std::string(k->usage)) +
                           " (got " + std::to_string(n) + ")");
    }
    return inv;
}

rapidjson::Document appctlParams(const AppctlInvocation& inv) {
    rapidjson::Document params;
    auto& alloc = params.GetAllocator();
    const KnownCommand* known = findKnown(inv.command);
    if (known && known->maxArgs == 0) return params;  // Null: no params
    params.SetObject();
    if (known && inv.command != "vlog/set") {  // fdb/show, fdb/flush: {"bridge": B} (fdb/flush without B: all bridges)
        bool bond = inv.command == "bond/show" || inv.command == "lacp/show";  // {"bond": B}
        if (!inv.args.empty())
            params.AddMember(Value(bond ? "bond" : "bridge", alloc), Value(inv.args[0].c_str(), alloc), alloc);
        if (inv.command == "ofproto/trace") params.AddMember("flow", Value(inv.args[1].c_str(), alloc), alloc);
        return params;
    }
    Value list(rapidjson::kArrayType);
    for (const auto& a : inv.args) list.PushBack(Value(a.c_str(), alloc), alloc);
    params.AddMember("args", list, alloc);
    return params;
}

std::string formatAppctlText(std::string_view command, const rapidjson::Value& result) {
    if (command == "fdb/show") return formatFdb(result);
    if (command == "fdb/flush") return "table successfully flushed\n";
    if (command == "dpif/show") return formatDpif(result);
    if (command == "coverage/show") return formatCoverage(result);
    if (command == "version") return formatVersion(result);
    if (command == "ofproto/trace") return formatLines(result);
    if (command == "dpif/dump-flows") return formatDumpFlows(result);
    if (command == "bond/show") return formatBondShow(result);
    if (command == "lacp/show") return formatLacpShow(result);
    if (command == "stp/show" && result.IsObject()) return formatStpShow(result);  // appctl_stp.cpp
    if (command == "rstp/show" && result.IsObject()) return formatRstpShow(result);  // appctl_rstp.cpp
    if (command == "vlog/list") return formatVlogList(result);
    return formatGeneric(result);
}

std::string appctlUsage() {
    return R"(vsappctl: runtime introspection of vswitchd
usage: vsappctl [OPTIONS] COMMAND [ARG...]

Commands:
  fdb/show BRIDGE       print the MAC learning table of BRIDGE
  fdb/flush [BRIDGE]    flush the MAC table of BRIDGE (default: every bridge)
  dpif/show             datapath lookups, flow count and per-port counters
  coverage/show         drop and event counters
  dpif/dump-flows       the datapath's megaflows: masked match, counters, age, actions
  ofproto/trace BRIDGE FLOW
                        the tables and rules a packet meets and the datapath actions,
                        e.g. ofproto/trace br0 in_port=p1,tcp,nw_dst=10.0.0.2
  bond/show [BOND]      bonds: mode, members (enabled, active), hashes and their load
  lacp/show [BOND]      LACP: actor and partner system, key, port, priority, state
  stp/show [BRIDGE]     STP: root and bridge identifiers, timers, each port's role and state
  stp/tcn [BRIDGE]      STP: signal a topology change (every bridge running STP by default)
  rstp/show [BRIDGE]    RSTP: root and bridge identifiers, each port's role, state and cost
  vlog/list             each log module's level at each destination (console, syslog, file)
  vlog/set SPEC...      change log levels; SPEC is MODULE:LEVEL, MODULE:DEST:LEVEL or
                        ANY:DEST:LEVEL (DEST console|syslog|file; LEVEL debug|info|warn|
                        err|off), as ovs-appctl vlog/set
  vlog/reopen           reopen the log file (after logrotate moved it; SIGHUP does the same)
  version               the daemon's version
  other/command ARG...  sent as method "other/command" with params {"args": [ARG...]}

Options:
  -t, --target, --socket PATH
                          management socket (default: $VSWITCH_SOCKET or
                          /run/vswitch/vswitchd.sock); -t is the target, as in ovs-appctl
  -T, --timeout SECS      give up after SECS seconds (default 0: wait forever)
  -f, --format FMT        text (default) or json (the daemon's result, unchanged)
  -v, --verbose           log the JSON-RPC requests and replies on stderr
  -h, --help              print this help
  -V, --version           print the version
Options may come before the command, or after the command and its arguments when the command
is one listed above (vsappctl fdb/show br0 --format=json); the arguments of any other command
are passed on verbatim, so they may start with '-' (as with ovs-appctl). "--" ends the options.
Exit status: 0 success, 1 error (including an error reply from the daemon).
)";
}

int appctlMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               const RpcFactory& connect) {
    try {
        AppctlInvocation inv = parseAppctlArgs(args);
        if (inv.help) return out << appctlUsage(), kExitOk;
        if (inv.version) return out << "vsappctl (vswitch) " << VSWITCH_VERSION << "\n", kExitOk;
        rapidjson::Document params = appctlParams(inv);
        std::unique_ptr<RpcCaller> rpc = connect(inv.common);
        protocol::Response response = rpc->call(inv.command, params);
        if (!response.ok) throw CliError(response.message);
        out << (inv.common.format == OutputFormat::kJson ? jsonLine(response.result)
                                                          : formatAppctlText(inv.command, response.result));
        out.flush();
        return kExitOk;
    } catch (const CliError& e) {
        err << "vsappctl: " << e.what() << "\n";
        return e.status();
    } catch (const protocol::ClientError& e) {
        err << "vsappctl: " << e.what() << "\n";
        return kExitError;
    }
}

}  // namespace vs::utilities
