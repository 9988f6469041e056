// vsofctl: argument parsing, requests, text formatting of canned results, error reporting and
// exit statuses against a fake daemon (utilities/vsofctl.h, utilities/vsofctl_format.h).
#include "utilities/vsofctl.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "protocol/jsonrpc.h"

namespace vs::utilities {
namespace {

using Args = std::vector<std::string>;

std::string parseError(const Args& args) {
    try {
        parseOfctlArgs(args);
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

std::string request(const Args& args, const std::vector<std::string>& lines = {}) {
    OfctlRequest r = ofctlRequest(parseOfctlArgs(args), lines);
    return r.method + " " + protocol::toJson(r.params);
}

rapidjson::Document json(const char* text) {
    rapidjson::Document d;
    d.Parse(text);
    EXPECT_FALSE(d.HasParseError()) << text;
    return d;
}

TEST(VsofctlParse, Requests) {
    EXPECT_EQ(request({"show", "br0"}), R"(ofproto/show {"bridge":"br0"})");
    EXPECT_EQ(request({"add-flow", "br0", "ip actions=drop"}), R"(flow/add {"bridge":"br0","flows":["ip actions=drop"]})");
    EXPECT_EQ(request({"add-flows", "br0", "f.txt"}, {"# c", "ip actions=drop"}),
              R"(flow/add {"bridge":"br0","flows":["# c","ip actions=drop"]})");
    EXPECT_EQ(request({"mod-flows", "br0", "ip actions=NORMAL"}),
              R"(flow/mod {"bridge":"br0","flows":["ip actions=NORMAL"],"strict":false})");
    EXPECT_EQ(request({"--strict", "mod-flows", "br0", "ip actions=NORMAL"}),
              R"(flow/mod {"bridge":"br0","flows":["ip actions=NORMAL"],"strict":true})");
    EXPECT_EQ(request({"del-flows", "br0"}), R"(flow/del {"bridge":"br0","match":"","strict":false})");
    EXPECT_EQ(request({"del-flows", "br0", "tcp", "--strict"}), R"(flow/del {"bridge":"br0","match":"tcp","strict":true})");
    EXPECT_EQ(request({"dump-flows", "br0"}), R"(flow/dump {"bridge":"br0"})");
    EXPECT_EQ(request({"dump-flows", "br0", "table=1,ip"}), R"(flow/dump {"bridge":"br0","match":"table=1,ip"})");
    EXPECT_EQ(request({"dump-ports", "br0"}), R"(port/stats {"bridge":"br0"})");
    EXPECT_EQ(request({"dump-ports", "br0", "p1"}), R"(port/stats {"bridge":"br0","port":"p1"})");
    EXPECT_EQ(request({"dump-tables", "br0"}), R"(table/stats {"bridge":"br0"})");
}

TEST(VsofctlParse, Options) {
    OfctlInvocation inv = parseOfctlArgs({"--socket=/tmp/s", "dump-flows", "-t", "2.5", "br0", "--no-stats", "--rsort",
                                          "-O", "OpenFlow13", "--format", "json", "ip"});
    EXPECT_EQ(inv.common.socket, "/tmp/s");
    EXPECT_DOUBLE_EQ(inv.common.timeoutSeconds, 2.5);
    EXPECT_EQ(inv.common.format, OutputFormat::kJson);
    EXPECT_TRUE(inv.noStats);
    EXPECT_EQ(inv.sort, SortOrder::kDescending);
    EXPECT_EQ(inv.command, "dump-flows");
    EXPECT_EQ(inv.bridge, "br0");
    EXPECT_EQ(inv.args, Args{"ip"});
    EXPECT_EQ(parseOfctlArgs({"--sort=priority", "dump-flows", "br0"}).sort, SortOrder::kAscending);
    EXPECT_EQ(parseOfctlArgs({"--protocols=OpenFlow13", "-v", "show", "br0"}).common.verbose, true);
    EXPECT_EQ(parseOfctlArgs({"add-flows", "br0", "-"}).args, Args{"-"});
    EXPECT_EQ(parseOfctlArgs({"add-flow", "--", "br0", "-weird"}).args, Args{"-weird"});
    EXPECT_TRUE(parseOfctlArgs({"--help"}).help);
    EXPECT_TRUE(parseOfctlArgs({"-V"}).version);
}

TEST(VsofctlParse, Errors) {
    EXPECT_EQ(parseError({}), "missing command name (use --help for help)");
    EXPECT_EQ(parseError({"dump-flow", "br0"}), "unknown command 'dump-flow'; use --help for help");
    EXPECT_EQ(parseError({"add-flow", "br0"}), "'add-flow' takes 2 arguments: add-flow BRIDGE FLOW (got 1)");
    EXPECT_EQ(parseError({"show"}), "'show' takes 1 argument: show BRIDGE (got 0)");
    EXPECT_EQ(parseError({"del-flows", "br0", "ip", "tcp"}),
              "'del-flows' takes 1 or 2 arguments: del-flows BRIDGE [MATCH] (got 3)");
    EXPECT_EQ(parseError({"--strict", "add-flow", "br0", "actions=drop"}), "--strict applies only to mod-flows and del-flows");
    EXPECT_EQ(parseError({"--no-stats", "show", "br0"}), "--no-stats applies only to dump-flows");
    EXPECT_EQ(parseError({"--sort=cookie", "dump-flows", "br0"}),
              "'--sort=cookie': only sorting by priority is supported (--sort or --rsort)");
    EXPECT_EQ(parseError({"--frob", "show", "br0"}), "unrecognized option '--frob'; use --help for help");
    EXPECT_EQ(parseError({"show", "br0", "--timeout"}), "option '--timeout' requires an argument");
    EXPECT_EQ(parseError({"-t", "x", "show", "br0"}), "invalid timeout 'x' (expected a non-negative number of seconds)");
    EXPECT_EQ(parseError({"-f", "xml", "show", "br0"}), "unknown output format 'xml' (use json or text)");
}

TEST(VsofctlFormat, FlowLine) {
    auto f = json(R"({"table":0,"priority":100,"cookie":"0x0","duration":1.2345,"n_packets":3,"n_bytes":180,
                      "idle_timeout":10,"hard_timeout":0,"match":"ip,nw_dst=10.0.0.1","actions":"output:p2"})");
    EXPECT_EQ(formatFlowLine(f, false),
              " cookie=0x0, duration=1.234s, table=0, n_packets=3, n_bytes=180, idle_timeout=10, "
              "priority=100,ip,nw_dst=10.0.0.1 actions=output:p2");
    EXPECT_EQ(formatFlowLine(f, true), " idle_timeout=10, priority=100,ip,nw_dst=10.0.0.1 actions=output:p2");
    auto g = json(R"({"table":2,"priority":32768,"cookie":"0xfeed","duration":0,"n_packets":0,"n_bytes":0,
                      "idle_timeout":0,"hard_timeout":30,"send_flow_rem":true,"match":"","actions":"drop"})");
    EXPECT_EQ(formatFlowLine(g, false),
              " cookie=0xfeed, duration=0.000s, table=2, n_packets=0, n_bytes=0, hard_timeout=30, send_flow_rem actions=drop");
    EXPECT_EQ(formatFlowLine(g, true), " cookie=0xfeed, table=2, hard_timeout=30, send_flow_rem actions=drop");
    auto h = json(R"({"priority":0,"match":"","actions":"NORMAL"})");
    EXPECT_EQ(formatFlowLine(h, true), " priority=0 actions=NORMAL");
    EXPECT_EQ(formatFlowLine(json(R"({"priority":32768,"cookie":255,"match":"tcp","actions":""})"), true),
              " cookie=0xff, tcp actions=drop");
}

TEST(VsofctlFormat, DumpFlowsSorted) {
    auto r = json(R"({"flows":[{"priority":5,"match":"ip","actions":"drop"},{"priority":50,"match":"tcp","actions":"NORMAL"},
                               {"priority":5,"match":"arp","actions":"FLOOD"}]})");
    EXPECT_EQ(formatDumpFlows(r, true, SortOrder::kNone),
              " priority=5,ip actions=drop\n priority=50,tcp actions=NORMAL\n priority=5,arp actions=FLOOD\n");
    EXPECT_EQ(formatDumpFlows(r, true, SortOrder::kAscending),
              " priority=5,ip actions=drop\n priority=5,arp actions=FLOOD\n priority=50,tcp actions=NORMAL\n");
    EXPECT_EQ(formatDumpFlows(r, true, SortOrder::kDescending),
              " priority=50,tcp actions=NORMAL\n priority=5,ip actions=drop\n priority=5,arp actions=FLOOD\n");
    EXPECT_EQ(formatDumpFlows(json(R"({"flows":[]})"), false, SortOrder::kNone), "");
}

TEST(VsofctlFormat, Show) {
    auto r = json(R"({"datapath_id":"0000025e10000001","n_tables":254,"ports":[
        {"ofport":65534,"name":"br0","mac":"02:5e:10:00:00:01","state":"down","config":"PORT_DOWN"},
        {"ofport":2,"name":"p2","mac":"02:5e:10:00:00:03","state":"down","config":""},
        {"ofport":1,"name":"p1","mac":"02:5e:10:00:00:02","state":"up","config":""}]})");
    EXPECT_EQ(formatOfctlShow(r),
              "OFPT_FEATURES_REPLY: dpid:0000025e10000001\n"
              "n_tables:254, n_buffers:0\n"
              "capabilities: FLOW_STATS TABLE_STATS PORT_STATS\n"
              " 1(p1): addr:02:5e:10:00:00:02\n"
              "     config:     0\n"
              "     state:      0\n"
              " 2(p2): addr:02:5e:10:00:00:03\n"
              "     config:     0\n"
              "     state:      LINK_DOWN\n"
              " LOCAL(br0): addr:02:5e:10:00:00:01\n"
              "     config:     PORT_DOWN\n"
              "     state:      LINK_DOWN\n");
}

TEST(VsofctlFormat, DumpPortsAndTables) {
    auto ports = json(R"({"ports":[{"ofport":1,"name":"p1","rx_packets":10,"rx_bytes":840,"rx_dropped":0,
        "tx_packets":9,"tx_bytes":756,"tx_dropped":1},{"ofport":12,"name":"vm12","rx_packets":0,"rx_bytes":0,
        "rx_dropped":0,"tx_packets":0,"tx_bytes":0,"tx_dropped":0,"rx_errors":2}]})");
    EXPECT_EQ(formatDumpPorts(ports),
              "OFPST_PORT reply: 2 ports\n"
              "  port  p1: rx pkts=10, bytes=840, drop=0, errs=?, frame=?, over=?, crc=?\n"
              "           tx pkts=9, bytes=756, drop=1, errs=?, coll=?\n"
              "  port vm12: rx pkts=0, bytes=0, drop=0, errs=2, frame=?, over=?, crc=?\n"
              "           tx pkts=0, bytes=0, drop=0, errs=?, coll=?\n");
    auto tables = json(R"({"tables":[{"table":0,"active_count":3,"lookup_count":12,"matched_count":10},
        {"table":1,"active_count":0,"lookup_count":0,"matched_count":0},
        {"table":5,"active_count":0,"lookup_count":4,"matched_count":0}]})");
    EXPECT_EQ(formatDumpTables(tables),
              "OFPST_TABLE reply:\n"
              "  table 0:\n    active=3, lookup=12, matched=10\n"
              "  table 5:\n    active=0, lookup=4, matched=0\n");
}

// A daemon that answers each method from canned JSON and records the calls.
class FakeDaemon : public RpcCaller {
public:
    std::map<std::string, std::string> results;  // method -> result JSON
    std::map<std::string, std::string> errors;   // method -> error object JSON
    std::vector<std::string> calls;              // "method params"

    protocol::Response call(std::string_view method, const rapidjson::Value& params) override {
        const std::string m(method);
        calls.push_back(m + " " + protocol::toJson(params));
        const std::string line = errors.count(m) ? R"({"jsonrpc":"2.0","id":1,"error":)" + errors[m] + "}"
                                                 : R"({"jsonrpc":"2.0","id":1,"result":)" +
                                                       (results.count(m) ? results[m] : std::string("{}")) + "}";
        protocol::Response r;
        auto err = protocol::decodeResponse(line, r);
        EXPECT_FALSE(err) << *err;
        return r;
    }
};

struct RunResult {
    int status;
    std::string out, err;
    int connects;
};

RunResult run(FakeDaemon& daemon, const Args& args, const std::string& stdinText = "") {
    std::istringstream in(stdinText);
    std::ostringstream out, err;
    int connects = 0;
    RpcFactory factory = [&](const CommonOptions&) -> std::unique_ptr<RpcCaller> {
        ++connects;
        struct Forward : RpcCaller {
            FakeDaemon& d;
            explicit Forward(FakeDaemon& f) : d(f) {}
            protocol::Response call(std::string_view m, const rapidjson::Value& p) override { return d.call(m, p); }
        };
        return std::make_unique<Forward>(daemon);
    };
    const int status = vsofctlMain(args, in, out, err, factory);
    return {status, out.str(), err.str(), connects};
}

TEST(VsofctlRun, AddFlowIsSilent) {
    FakeDaemon d;
    d.results["flow/add"] = R"({"added":1})";
    RunResult r = run(d, {"add-flow", "br0", "priority=10,ip actions=NORMAL"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    ASSERT_EQ(d.calls.size(), 1u);
    EXPECT_EQ(d.calls[0], R"(flow/add {"bridge":"br0","flows":["priority=10,ip actions=NORMAL"]})");
    r = run(d, {"--format=json", "add-flow", "br0", "ip actions=drop"});
    EXPECT_EQ(r.out, "{\"added\":1}\n");
}

TEST(VsofctlRun, DumpFlows) {
    FakeDaemon d;
    d.results["flow/dump"] = R"({"flows":[{"table":0,"priority":0,"cookie":"0x0","duration":12.5,"n_packets":7,
        "n_bytes":420,"idle_timeout":0,"hard_timeout":0,"match":"","actions":"NORMAL"}]})";
    RunResult r = run(d, {"dump-flows", "br0"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, " cookie=0x0, duration=12.500s, table=0, n_packets=7, n_bytes=420, priority=0 actions=NORMAL\n");
    r = run(d, {"dump-flows", "br0", "--no-stats"});
    EXPECT_EQ(r.out, " priority=0 actions=NORMAL\n");
}

TEST(VsofctlRun, ParseErrorShowsWhere) {
    FakeDaemon d;
    d.errors["flow/add"] = R"({"code":-32003,"message":"line 1: unknown field 'nw_srcc'",
                               "data":{"line":1,"offset":3,"token":"nw_srcc"}})";
    RunResult r = run(d, {"add-flow", "br0", "ip,nw_srcc=10.0.0.1 actions=drop"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "vsofctl: unknown field 'nw_srcc'\n"
                     "  ip,nw_srcc=10.0.0.1 actions=drop\n"
                     "     ^" + std::string(6, '~') + "\n");
}

TEST(VsofctlRun, AddFlowsFromStdinNamesTheLine) {
    FakeDaemon d;
    d.errors["flow/add"] = R"({"code":-32003,"message":"line 3: nw_src=10.0.0.300: invalid IPv4 address",
                               "data":{"line":3,"offset":10,"token":"10.0.0.300"}})";
    RunResult r = run(d, {"add-flows", "br0", "-"}, "# flows\r\nip actions=drop\nip,nw_src=10.0.0.300 actions=drop\n");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(d.calls[0],
              R"(flow/add {"bridge":"br0","flows":["# flows","ip actions=drop","ip,nw_src=10.0.0.300 actions=drop"]})");
    EXPECT_EQ(r.err, "vsofctl: line 3: nw_src=10.0.0.300: invalid IPv4 address\n"
                     "  ip,nw_src=10.0.0.300 actions=drop\n"
                     "            ^" + std::string(9, '~') + "\n");
}

TEST(VsofctlRun, AddFlowsFromFile) {
    char path[] = "/tmp/vsofctl_test_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << "tcp actions=NORMAL\r\n\n# end";
    EXPECT_EQ(readFlowFile(path, std::cin), (Args{"tcp actions=NORMAL", "", "# end"}));
    FakeDaemon d;
    d.results["flow/add"] = R"({"added":1})";
    EXPECT_EQ(run(d, {"add-flows", "br0", path}).status, 0);
    std::remove(path);
    RunResult r = run(d, {"add-flows", "br0", path});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsofctl: cannot read '" + std::string(path) + "': No such file or directory\n");
    EXPECT_EQ(r.connects, 0);
    EXPECT_EQ(run(d, {"add-flows", "br0", "/tmp"}).err, "vsofctl: cannot read '/tmp': Is a directory\n");
}

TEST(VsofctlRun, ErrorsAndHelp) {
    FakeDaemon d;
    d.errors["ofproto/show"] = R"({"code":-32001,"message":"no bridge named br9"})";
    RunResult r = run(d, {"show", "br9"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsofctl: no bridge named br9\n");
    r = run(d, {"show"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.connects, 0);
    r = run(d, {"--help"});
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("dump-flows BRIDGE [MATCH]"), std::string::npos);
    d.errors["flow/del"] = R"j({"code":-32003,"message":"tp_dst requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')",
                               "data":{"line":1,"offset":3,"token":"tp_dst=80"}})j";
    r = run(d, {"del-flows", "br0", "ip,tp_dst=80"});
    EXPECT_EQ(r.err, "vsofctl: tp_dst requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')\n"
                     "  ip,tp_dst=80\n"
                     "     ^" + std::string(8, '~') + "\n");
}

TEST(VsofctlRun, Stats) {
    FakeDaemon d;
    d.results["table/stats"] = R"({"tables":[{"table":0,"active_count":1,"lookup_count":2,"matched_count":2}]})";
    EXPECT_EQ(run(d, {"dump-tables", "br0"}).out, "OFPST_TABLE reply:\n  table 0:\n    active=1, lookup=2, matched=2\n");
    d.results["port/stats"] = R"({"ports":[{"ofport":65534,"name":"br0","rx_packets":1,"rx_bytes":2,"rx_dropped":3,
        "tx_packets":4,"tx_bytes":5,"tx_dropped":6}]})";
    EXPECT_EQ(run(d, {"dump-ports", "br0"}).out,
              "OFPST_PORT reply: 1 port\n"
              "  port LOCAL: rx pkts=1, bytes=2, drop=3, errs=?, frame=?, over=?, crc=?\n"
              "           tx pkts=4, bytes=5, drop=6, errs=?, coll=?\n");
}

TEST(VsofctlGroups, Requests) {
    EXPECT_EQ(request({"add-group", "br0", "group_id=1,type=all,bucket=output:p1"}),
              R"(group/add {"bridge":"br0","groups":["group_id=1,type=all,bucket=output:p1"]})");
    EXPECT_EQ(request({"add-groups", "br0", "g.txt"}, {"# c", "group_id=2,type=indirect,bucket=output:1"}),
              R"(group/add {"bridge":"br0","groups":["# c","group_id=2,type=indirect,bucket=output:1"]})");
    EXPECT_EQ(request({"mod-group", "br0", "group_id=1,type=all"}), R"(group/mod {"bridge":"br0","groups":["group_id=1,type=all"]})");
    EXPECT_EQ(request({"del-groups", "br0"}), R"(group/del {"bridge":"br0"})");
    EXPECT_EQ(request({"del-groups", "br0", "group_id=3"}), R"(group/del {"bridge":"br0","group":"group_id=3"})");
    // ovs-ofctl's dump-groups takes the bare number; group_id=N works as well.
    EXPECT_EQ(request({"dump-groups", "br0", "7"}), R"(group/dump {"bridge":"br0","group":"group_id=7"})");
    EXPECT_EQ(request({"dump-groups", "br0", "group_id=7"}), R"(group/dump {"bridge":"br0","group":"group_id=7"})");
    EXPECT_EQ(request({"dump-group-stats", "br0"}), R"(group/stats {"bridge":"br0"})");
    EXPECT_EQ(parseError({"add-group", "br0"}), "'add-group' takes 2 arguments: add-group BRIDGE GROUP (got 1)");
    EXPECT_EQ(parseError({"del-groups", "br0", "group_id=1", "x"}),
              "'del-groups' takes 1 or 2 arguments: del-groups BRIDGE [group_id=ID] (got 3)");
}

TEST(VsofctlPortMod, Request) {
    EXPECT_EQ(request({"mod-port", "br0", "p1", "no-flood"}), R"(port/mod {"bridge":"br0","port":"p1","action":"no-flood"})");
    EXPECT_EQ(parseError({"mod-port", "br0", "p1"}), "'mod-port' takes 3 arguments: mod-port BRIDGE PORT ACTION (got 2)");
}

TEST(VsofctlGroups, Output) {
    FakeDaemon d;
    d.results["group/dump"] = R"({"groups":[{"group_id":1,"text":"group_id=1,type=all,bucket=actions=output:p1"},
        {"group_id":2,"text":"group_id=2,type=ff,bucket=watch_port:p1,actions=output:p1"}]})";
    EXPECT_EQ(run(d, {"dump-groups", "br0"}).out, "OFPST_GROUP_DESC reply (OF1.3):\n"
                                                  " group_id=1,type=all,bucket=actions=output:p1\n"
                                                  " group_id=2,type=ff,bucket=watch_port:p1,actions=output:p1\n");
    d.results["group/stats"] = R"({"groups":[{"group_id":1,"duration_ms":2310,"ref_count":1,"packet_count":5,
        "byte_count":300,"buckets":[{"packet_count":5,"byte_count":300},{"packet_count":0,"byte_count":0}]}]})";
    EXPECT_EQ(run(d, {"dump-group-stats", "br0"}).out,
              "OFPST_GROUP reply (OF1.3):\n"
              " group_id=1,duration=2.310s,ref_count=1,packet_count=5,byte_count=300,"
              "bucket0:packet_count=5,byte_count=300,bucket1:packet_count=0,byte_count=0\n");
    RunResult r = run(d, {"add-group", "br0", "group_id=1,type=all"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "");  // silent, as ovs-ofctl
    d.errors["group/add"] = R"({"code":-32003,"message":"OFPGMFC_GROUP_EXISTS: group 1 already exists"})";
    r = run(d, {"add-group", "br0", "group_id=1,type=all"});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsofctl: OFPGMFC_GROUP_EXISTS: group 1 already exists\n");
}

TEST(VsofctlGroups, AddGroupsNamesTheLine) {
    FakeDaemon d;
    d.errors["group/add"] = R"({"code":-32003,"message":"line 2: unknown action 'outpt:1'",
                                "data":{"line":2,"offset":33,"token":"outpt:1"}})";
    RunResult r = run(d, {"add-groups", "br0", "-"}, "group_id=1,type=all,bucket=output:1\ngroup_id=2,type=indirect,bucket=outpt:1\n");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsofctl: line 2: unknown action 'outpt:1'\n"
                     "  group_id=2,type=indirect,bucket=outpt:1\n"
                     "  " + std::string(33, ' ') + "^" + std::string(6, '~') + "\n");
}

}  // namespace
}  // namespace vs::utilities
