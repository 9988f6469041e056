// vsappctl: argument parsing, params, text formatting of canned results, exit statuses
// (utilities/appctl.h).
#include "utilities/appctl.h"

#include <sstream>

#include <gtest/gtest.h>

#include "protocol/jsonrpc.h"

namespace vs::utilities {
namespace {

using Args = std::vector<std::string>;

std::string parseError(const Args& args) {
    try {
        parseAppctlArgs(args);
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

std::string paramsOf(const Args& args) { return protocol::toJson(appctlParams(parseAppctlArgs(args))); }

std::string text(std::string_view command, const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    return formatAppctlText(command, d);
}

TEST(AppctlParse, Params) {
    EXPECT_EQ(paramsOf({"fdb/show", "br0"}), R"({"bridge":"br0"})");
    EXPECT_EQ(paramsOf({"fdb/flush"}), "{}");
    EXPECT_EQ(paramsOf({"fdb/flush", "br0"}), R"({"bridge":"br0"})");
    EXPECT_EQ(paramsOf({"dpif/show"}), "null");
    EXPECT_EQ(paramsOf({"version"}), "null");
    EXPECT_EQ(paramsOf({"mdb/show", "br0", "-x"}), R"({"args":["br0","-x"]})") << "unknown commands pass through";
    EXPECT_EQ(paramsOf({"stp/show", "br0"}), R"({"bridge":"br0"})");
    EXPECT_EQ(paramsOf({"stp/tcn"}), "{}");
    EXPECT_THROW(parseAppctlArgs({"stp/show", "a", "b"}), CliError);
    EXPECT_EQ(paramsOf({"bond/show"}), "{}");
    EXPECT_EQ(paramsOf({"bond/show", "bond0"}), R"({"bond":"bond0"})");
    EXPECT_EQ(paramsOf({"lacp/show", "bond0"}), R"({"bond":"bond0"})");
    EXPECT_THROW(parseAppctlArgs({"bond/show", "a", "b"}), CliError);
}

TEST(AppctlFormat, StpShowInOvsLayout) {
    const char* json = R"({"bridges":[{"name":"br0","is_root":false,"root_port":"p1","root_path_cost":19,
        "root_id":{"priority":4096,"system_id":"02:00:00:00:00:01"},"hello_time":1,"max_age":6,"forward_delay":4,
        "bridge_id":{"priority":32768,"system_id":"02:00:00:00:00:02"},"bridge_hello_time":2,"bridge_max_age":20,
        "bridge_forward_delay":15,"topology_change":false,
        "ports":[{"name":"p1","role":"root","state":"forwarding","path_cost":19,"port_id":"128.1"},
                 {"name":"p2","role":"alternate","state":"blocking","path_cost":19,"port_id":"128.2"}]}]})";
    EXPECT_EQ(text("stp/show", json),
              "---- br0 ----\nRoot ID:\n  stp-priority    4096\n  stp-system-id   02:00:00:00:00:01\n"
              "  stp-hello-time  1s\n  stp-max-age     6s\n  stp-fwd-delay   4s\n  root-port       p1\n"
              "  root-path-cost  19\n\nBridge ID:\n  stp-priority    32768\n  stp-system-id   02:00:00:00:00:02\n"
              "  stp-hello-time  2s\n  stp-max-age     20s\n  stp-fwd-delay   15s\n\n"
              "  Interface  Role       State      Cost     Pri.Nbr\n"
              "  ---------- ---------- ---------- -------- -------\n"
              "  p1         root       forwarding 19       128.1\n"
              "  p2         alternate  blocking   19       128.2\n\n");
    EXPECT_EQ(text("stp/show", R"({"bridges":[1,{"name":"x","ports":[2]}]})").substr(0, 13), "---- x ----\nR");
}

TEST(AppctlParse, Options) {
    AppctlInvocation inv = parseAppctlArgs({"--socket=/tmp/s", "-T", "2", "--format", "json", "coverage/show"});
    EXPECT_EQ(inv.common.socket, "/tmp/s");
    EXPECT_DOUBLE_EQ(inv.common.timeoutSeconds, 2);
    EXPECT_EQ(inv.common.format, OutputFormat::kJson);
    EXPECT_EQ(inv.command, "coverage/show");
    EXPECT_EQ(parseAppctlArgs({"-t", "/tmp/t", "version"}).common.socket, "/tmp/t");
}

TEST(AppctlParse, Errors) {
    EXPECT_EQ(parseError({"fdb/show"}), "'fdb/show' takes arguments: fdb/show BRIDGE (got 0)");
    EXPECT_EQ(parseError({"dpif/show", "x"}), "'dpif/show' takes no arguments (got 1)");
    EXPECT_EQ(parseError({}), "missing command name (use --help for help)");
    EXPECT_EQ(parseError({"--frob", "version"}), "unrecognized option '--frob'; use --help for help");
    EXPECT_EQ(parseError({"-f", "xml", "version"}), "unknown output format 'xml' (use json or text)");
}

TEST(AppctlFormat, FdbShow) {
    EXPECT_EQ(text("fdb/show", R"({"entries":[{"port":"p1","ofport":1,"vlan":0,"mac":"02:00:00:00:00:01","age":3},
                                              {"port":"p2","ofport":2,"vlan":100,"mac":"02:00:00:00:00:02","age":120}]})"),
              " port  VLAN  MAC                Age\n"
              "   p1     0  02:00:00:00:00:01    3\n"
              "   p2   100  02:00:00:00:00:02  120\n");
}

TEST(AppctlFormat, FdbShowRemoteVtepBehindFlowBasedTunnel) {
    EXPECT_EQ(text("fdb/show", R"({"entries":[{"port":"p1","ofport":1,"vlan":0,"mac":"02:00:00:00:00:01","age":3},
                                              {"port":"vxf","ofport":2,"vlan":0,"mac":"02:00:00:00:00:02","age":5,
                                               "remote_vtep":"192.0.2.2"},
                                              {"port":"vxk","ofport":3,"vlan":0,"mac":"02:00:00:00:00:03","age":7,
                                               "remote_vtep":"192.0.2.3","vni":42}]})"),
              " port  VLAN  MAC                Age\n"
              "   p1     0  02:00:00:00:00:01    3\n"
              "  vxf     0  02:00:00:00:00:02    5  remote_vtep=192.0.2.2\n"
              "  vxk     0  02:00:00:00:00:03    7  remote_vtep=192.0.2.3  vni=42\n");
}

TEST(AppctlFormat, DpifShow) {
    EXPECT_EQ(text("dpif/show", R"({"lookups":{"hit":10,"missed":2,"lost":0},"flows":3,"bridges":[{"name":"br0","ports":[
        {"name":"p1","ofport":1,"dp_port":2,"type":"system","rx_packets":10,"rx_bytes":1000,"rx_dropped":1,
         "tx_packets":9,"tx_bytes":900,"tx_dropped":0}]}]})"),
              "lookups: hit:10 missed:2 lost:0\n"
              "flows: 3\n"
              "  br0:\n"
              "    p1 1/2: (system)\n"
              "      RX packets:10 bytes:1000 dropped:1\n"
              "      TX packets:9 bytes:900 dropped:0\n");
}

TEST(AppctlFormat, CoverageVersionFlushGeneric) {
    EXPECT_EQ(text("coverage/show", R"({"counters":[{"name":"drop_runt","total":12},{"name":"upcall","total":3}]})"),
              "drop_runt  12\nupcall     3\n");
    EXPECT_EQ(text("version", R"({"version":"0.1.0","protocol":1})"), "vswitchd (vswitch) 0.1.0 (protocol 1)\n");
    EXPECT_EQ(text("fdb/flush", R"({"flushed":4})"), "table successfully flushed\n");
    EXPECT_EQ(text("mdb/show", R"("mdb: nothing\n")"), "mdb: nothing\n");
    EXPECT_EQ(text("x/y", R"({"a":1})"), "{\n  \"a\": 1\n}\n");
}

class ReplyRpc : public RpcCaller {
public:
    explicit ReplyRpc(std::string line) : line_(std::move(line)) {}
    std::string lastMethod;
    protocol::Response call(std::string_view method, const rapidjson::Value&) override {
        lastMethod = method;
        protocol::Response r;
        EXPECT_FALSE(protocol::decodeResponse(line_, r));
        return r;
    }

private:
    std::string line_;
};

int runWith(const Args& args, const std::string& reply, std::string& out, std::string& err, int* connects = nullptr) {
    std::ostringstream o, e;
    RpcFactory factory = [&](const CommonOptions&) -> std::unique_ptr<RpcCaller> {
        if (connects) ++*connects;
        return std::make_unique<ReplyRpc>(reply);
    };
    int status = appctlMain(args, o, e, factory);
    out = o.str();
    err = e.str();
    return status;
}

TEST(AppctlRun, ErrorReplyExitsOne) {
    std::string out, err;
    int status = runWith({"foo/bar"}, R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"unknown method 'foo/bar'"}})",
                         out, err);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(out, "");
    EXPECT_EQ(err, "vsappctl: unknown method 'foo/bar'\n");
}

TEST(AppctlRun, JsonPrintsTheResultAsIs) {
    std::string out, err;
    EXPECT_EQ(runWith({"--format=json", "fdb/flush"}, R"({"jsonrpc":"2.0","id":1,"result":{"flushed":2}})", out, err), 0);
    EXPECT_EQ(out, "{\"flushed\":2}\n");
}

TEST(AppctlRun, ArgumentErrorsDoNotConnect) {
    std::string out, err;
    int connects = 0;
    EXPECT_EQ(runWith({"fdb/show"}, "", out, err, &connects), 1);
    EXPECT_EQ(connects, 0);
    EXPECT_EQ(err, "vsappctl: 'fdb/show' takes arguments: fdb/show BRIDGE (got 0)\n");
}

}  // namespace
TEST(AppctlFormat, BondAndLacpShowInOpenVswitchLayout) {
    std::string bond = text("bond/show", R"({"bonds":[{"name":"bond0","bridge":"br0","bond_mode":"balance-tcp",
        "effective_mode":"balance-tcp","lacp":"active","lacp_status":"negotiated","lacp_fallback_ab":false,
        "updelay":0,"downdelay":200,"rebalance_interval":10000,"next_rebalance_ms":4000,"primary":null,
        "active_member":"p1","members":[
          {"name":"p1","ofport":1,"enabled":true,"active":true,"carrier":true,"may_enable":true,"delay_ms":null,
           "load_bytes":4096,"tx_packets":10,"tx_bytes":4096,"rx_packets":2,"rx_bytes":120},
          {"name":"p2","ofport":2,"enabled":false,"active":false,"carrier":false,"may_enable":false,"delay_ms":150,
           "load_bytes":0}],
        "hashes":[{"hash":17,"member":"p1","load_bytes":4096,"total_bytes":8192}]}]})");
    EXPECT_NE(bond.find("---- bond0 ----\nbond_mode: balance-tcp\nlacp_status: negotiated\n"), std::string::npos) << bond;
    EXPECT_NE(bond.find("downdelay: 200 ms\nnext rebalance: 4000 ms\n"), std::string::npos) << bond;
    EXPECT_NE(bond.find("member p1: enabled\n  active member\n  may_enable: true\n"), std::string::npos) << bond;
    EXPECT_NE(bond.find("  hash 17: 4 kB load\n"), std::string::npos) << bond;
    EXPECT_NE(bond.find("member p2: disabled\n  may_enable: false\n  carrier: down\n  enabled in 150 ms\n"),
              std::string::npos) << bond;
    std::string lacp = text("lacp/show", R"({"bonds":[{"name":"bond0","bridge":"br0","lacp":"active",
        "status":"negotiated","lacp_time":"fast","fallback_ab":false,"sys_id":"aa:bb:cc:dd:ee:ff",
        "sys_priority":65534,"key":1,"members":[{"name":"p1","ofport":1,"rx_state":"current",
        "mux_state":"collecting_distributing","periodic":"fast","selected":true,"may_enable":true,"rx_pdus":5,
        "tx_pdus":6,"actor":{"sys_id":"aa:bb:cc:dd:ee:ff","sys_priority":65534,"key":1,"port_id":1,
        "port_priority":65535,"state":63,"state_bits":"activity timeout aggregation synchronized collecting distributing"},
        "partner":{"sys_id":"02:00:00:00:00:09","sys_priority":100,"key":7,"port_id":3,"port_priority":1,
        "state":61,"state_bits":"activity aggregation synchronized collecting distributing"}}]}]})");
    EXPECT_NE(lacp.find("---- bond0 ----\n  status: active negotiated\n  sys_id: aa:bb:cc:dd:ee:ff\n"), std::string::npos) << lacp;
    EXPECT_NE(lacp.find("member: p1: current collecting_distributing\n"), std::string::npos) << lacp;
    EXPECT_NE(lacp.find("  partner sys_id: 02:00:00:00:00:09\n  partner sys_priority: 100\n"), std::string::npos) << lacp;
    EXPECT_NE(lacp.find("  actor state: activity timeout aggregation synchronized collecting distributing\n"),
              std::string::npos) << lacp;
}

}  // namespace vs::utilities

namespace vs::utilities {
namespace {

TEST(AppctlVlog, ParamsAndArgumentCounts) {
    EXPECT_EQ(paramsOf({"vlog/set", "mgmt:debug", "bond:file:warn"}), R"({"args":["mgmt:debug","bond:file:warn"]})");
    EXPECT_EQ(paramsOf({"vlog/list"}), "null");
    EXPECT_EQ(paramsOf({"vlog/reopen"}), "null");
    EXPECT_EQ(parseError({"vlog/set"}), "'vlog/set' takes arguments: vlog/set SPEC... (got 0)");
    EXPECT_EQ(parseError({"vlog/list", "x"}), "'vlog/list' takes no arguments (got 1)");
}

TEST(AppctlVlog, ListLayout) {
    EXPECT_EQ(text("vlog/list", R"({"modules":[{"name":"bond","console":"off","syslog":"info","file":"debug"}],
                                   "console":false,"syslog":"libc","file":"/var/log/vswitch/vswitchd.log"})"),
              "                  console    syslog     file\n"
              "                  -------    ------     ----\n"
              "bond              off        info       debug\n"
              "\n"
              "console: off (detached)\n"
              "syslog: libc\n"
              "file: /var/log/vswitch/vswitchd.log\n");
}

}  // namespace
}  // namespace vs::utilities
