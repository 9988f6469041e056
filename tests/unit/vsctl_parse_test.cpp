// vsctl: command-line parsing into transact ops, ovs-vsctl value syntax, read commands against
// canned `get`/`show` results, text/JSON formatting and exit statuses (utilities/vsctl*.h).
#include <cstdlib>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "protocol/jsonrpc.h"
#include "utilities/vsctl.h"
#include "utilities/vsctl_read.h"
#include "utilities/vsctl_value.h"

namespace vs::utilities {
namespace {

using Args = std::vector<std::string>;

std::string opsOf(const Args& args) { return protocol::toJson(planVsctl(args).transact.params); }

// The message of the CliError `args` raise when planned.
std::string planError(const Args& args) {
    try {
        planVsctl(args);
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

// ---- parsing into ops ----------------------------------------------------------------------

TEST(VsctlParse, AddBrAndDelBr) {
    EXPECT_EQ(opsOf({"add-br", "br0"}), R"({"ops":[{"op":"add-br","bridge":"br0","may_exist":false}]})");
    EXPECT_EQ(opsOf({"del-br", "br0"}), R"({"ops":[{"op":"del-br","bridge":"br0","if_exists":false}]})");
}

TEST(VsctlParse, CommandsJoinedByDashDashFormOneTransaction) {
    EXPECT_EQ(opsOf({"--may-exist", "add-br", "br0", "--", "--if-exists", "del-port", "p1"}),
              R"({"ops":[{"op":"add-br","bridge":"br0","may_exist":true},)"
              R"({"op":"del-port","port":"p1","if_exists":true}]})");
}

TEST(VsctlParse, PerCommandOptionsMixWithGlobalOptionsBeforeTheFirstCommand) {
    VsctlPlan plan = planVsctl({"--timeout", "5", "--may-exist", "-f", "json", "add-br", "br0"});
    EXPECT_DOUBLE_EQ(plan.invocation.common.timeoutSeconds, 5);
    EXPECT_EQ(plan.invocation.common.format, OutputFormat::kJson);
    ASSERT_EQ(plan.invocation.commands.size(), 1u);
    EXPECT_TRUE(plan.invocation.commands[0].options.mayExist);
}

TEST(VsctlParse, DelPortWithAndWithoutBridge) {
    EXPECT_EQ(opsOf({"del-port", "br0", "p1"}),
              R"({"ops":[{"op":"del-port","bridge":"br0","port":"p1","if_exists":false}]})");
    EXPECT_EQ(opsOf({"del-port", "p1"}), R"({"ops":[{"op":"del-port","port":"p1","if_exists":false}]})");
}

TEST(VsctlParse, AddPortTrailingSettingsApplyToThePort) {
    EXPECT_EQ(opsOf({"add-port", "br0", "p1", "other_config:foo=bar", "tag=10"}),
              R"({"ops":[{"op":"add-port","bridge":"br0","port":"p1","may_exist":false},)"
              R"({"op":"set","table":"Port","record":"p1","column":"other_config","key":"foo","value":"bar"},)"
              R"({"op":"set","table":"Port","record":"p1","column":"tag","value":10}]})");
}

TEST(VsctlParse, AddPortThenSetInterfaceIsOneTransaction) {
    EXPECT_EQ(opsOf({"add-port", "br0", "vx1", "--", "set", "interface", "vx1", "type=vxlan",
                     "options:remote_ip=192.0.2.2"}),
              R"({"ops":[{"op":"add-port","bridge":"br0","port":"vx1","may_exist":false},)"
              R"({"op":"set","table":"Interface","record":"vx1","column":"type","value":"vxlan"},)"
              R"({"op":"set","table":"Interface","record":"vx1","column":"options","key":"remote_ip","value":"192.0.2.2"}]})");
}

TEST(VsctlParse, AddBond) {
    EXPECT_EQ(opsOf({"add-bond", "br0", "bond0", "a", "b", "bond_mode=balance-slb"}),
              R"({"ops":[{"op":"add-port","bridge":"br0","port":"bond0","interfaces":["a","b"],"may_exist":false},)"
              R"({"op":"set","table":"Port","record":"bond0","column":"bond_mode","value":"balance-slb"}]})");
    EXPECT_EQ(planError({"add-bond", "br0", "bond0", "a", "x=1"}),
              "'add-bond' requires at least 2 interfaces, but only 1 was specified");
}

TEST(VsctlParse, SetMapValuesAndQuoting) {
    EXPECT_EQ(opsOf({"set", "Bridge", "br0", R"(other_config={mac-aging-time=10, foo="a b"})"}),
              R"({"ops":[{"op":"set","table":"Bridge","record":"br0","column":"other_config",)"
              R"("value":{"mac-aging-time":"10","foo":"a b"}}]})");
    EXPECT_EQ(opsOf({"set", "Bridge", "br0", "external_ids={}"}),
              R"({"ops":[{"op":"set","table":"Bridge","record":"br0","column":"external_ids","value":{}}]})");
    EXPECT_EQ(opsOf({"set", "Bridge", "br0", R"(external_ids:"x y"="1,2")"}),
              R"({"ops":[{"op":"set","table":"Bridge","record":"br0","column":"external_ids","key":"x y","value":"1,2"}]})");
    // A keyed value is a string even when it looks like a number.
    EXPECT_EQ(opsOf({"set", "Bridge", "br0", "other_config:mac-aging-time=10"}),
              R"({"ops":[{"op":"set","table":"Bridge","record":"br0","column":"other_config","key":"mac-aging-time","value":"10"}]})");
}

TEST(VsctlParse, UnknownColumnsInferTheirType) {
    EXPECT_EQ(opsOf({"set", "Port", "p1", "trunks=[10, 20]", "lacp=active", "fake=true", "s=\"10\""}),
              R"({"ops":[{"op":"set","table":"Port","record":"p1","column":"trunks","value":[10,20]},)"
              R"({"op":"set","table":"Port","record":"p1","column":"lacp","value":"active"},)"
              R"({"op":"set","table":"Port","record":"p1","column":"fake","value":true},)"
              R"({"op":"set","table":"Port","record":"p1","column":"s","value":"10"}]})");
}

TEST(VsctlParse, PortVlanValueSyntax) {
    auto setOp = [](const std::string& column, const std::string& value) {
        return R"({"ops":[{"op":"set","table":"Port","record":"p1","column":")" + column + R"(","value":)" + value + "}]}";
    };
    EXPECT_EQ(opsOf({"set", "Port", "p1", "tag=10"}), setOp("tag", "10"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "tag=-1"}), setOp("tag", "-1")) << "the daemon says what is wrong";
    EXPECT_EQ(opsOf({"set", "Port", "p1", "tag=[]"}), setOp("tag", "[]"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "trunks=10,20"}), setOp("trunks", R"("10,20")"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "trunks=[10,20]"}), setOp("trunks", "[10,20]"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "trunks=10"}), setOp("trunks", "10"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "trunks=[]"}), setOp("trunks", "[]"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "vlan_mode=native-untagged"}), setOp("vlan_mode", R"("native-untagged")"));
    EXPECT_EQ(opsOf({"set", "Port", "p1", "vlan_mode=5"}), setOp("vlan_mode", R"("5")")) << "always a string";
    EXPECT_EQ(opsOf({"clear", "port", "p1", "tag", "trunks", "vlan_mode"}),
              R"({"ops":[{"op":"clear","table":"Port","record":"p1","column":"tag"},)"
              R"({"op":"clear","table":"Port","record":"p1","column":"trunks"},)"
              R"({"op":"clear","table":"Port","record":"p1","column":"vlan_mode"}]})");
    EXPECT_EQ(planError({"set", "Port", "p1", "vlan_mode:x=access"}), "cannot specify key to set for non-map column vlan_mode");
    EXPECT_EQ(opsOf({"add-port", "br0", "p1", "tag=10", "--", "set", "port", "p1", "trunks=[]"}),
              R"({"ops":[{"op":"add-port","bridge":"br0","port":"p1","may_exist":false},)"
              R"({"op":"set","table":"Port","record":"p1","column":"tag","value":10},)"
              R"({"op":"set","table":"Port","record":"p1","column":"trunks","value":[]}]})");
}

TEST(VsctlParse, TableNamesAreCaseInsensitiveAndMayBeAbbreviated) {
    EXPECT_EQ(opsOf({"clear", "BRIDGE", "br0", "other_config"}),
              R"({"ops":[{"op":"clear","table":"Bridge","record":"br0","column":"other_config"}]})");
    EXPECT_EQ(opsOf({"clear", "int", "p1", "options"}),
              R"({"ops":[{"op":"clear","table":"Interface","record":"p1","column":"options"}]})");
}

TEST(VsctlParse, RemoveKeys) {
    EXPECT_EQ(opsOf({"remove", "Interface", "p1", "options", "remote_ip", "\"key\""}),
              R"({"ops":[{"op":"remove","table":"Interface","record":"p1","column":"options","key":"remote_ip"},)"
              R"({"op":"remove","table":"Interface","record":"p1","column":"options","key":"key"}]})");
}

TEST(VsctlParse, ReadOnlyCommandsProduceNoOps) {
    VsctlPlan plan = planVsctl({"list-br", "--", "show", "--", "get", "Interface", "p1", "ofport"});
    EXPECT_TRUE(plan.transact.empty());
    EXPECT_TRUE(plan.transact.params.IsNull());
    EXPECT_EQ(plan.invocation.commands.size(), 3u);
}

TEST(VsctlParse, EmptySegmentsAreSkipped) {
    VsctlPlan plan = planVsctl({"--", "add-br", "br0", "--", "--", "list-br", "--"});
    ASSERT_EQ(plan.invocation.commands.size(), 2u);
    EXPECT_EQ(plan.invocation.commands[1].name, "list-br");
}

TEST(VsctlParse, WatchedInterfaces) {
    VsctlPlan plan = planVsctl({"add-port", "br0", "p1", "--", "add-bond", "br0", "b0", "e1", "e2", "--", "set",
                                "Interface", "vx1", "type=vxlan", "--", "set", "Bridge", "br0", "other_config:a=b"});
    EXPECT_EQ(plan.transact.watchedInterfaces, (std::set<std::string>{"p1", "e1", "e2", "vx1"}));
}

TEST(VsctlParse, SocketOptionEnvironmentAndDefault) {
    ::unsetenv("VSWITCH_SOCKET");
    EXPECT_EQ(planVsctl({"list-br"}).invocation.common.socket, "/run/vswitch/vswitchd.sock");
    ::setenv("VSWITCH_SOCKET", "/tmp/env.sock", 1);
    EXPECT_EQ(planVsctl({"list-br"}).invocation.common.socket, "/tmp/env.sock");
    EXPECT_EQ(planVsctl({"--socket=/tmp/a.sock", "list-br"}).invocation.common.socket, "/tmp/a.sock");
    EXPECT_EQ(planVsctl({"--socket", "/tmp/b.sock", "list-br"}).invocation.common.socket, "/tmp/b.sock");
    ::unsetenv("VSWITCH_SOCKET");
}

TEST(VsctlParse, FormatAndTimeoutSpellings) {
    EXPECT_EQ(planVsctl({"--format=json", "list-br"}).invocation.common.format, OutputFormat::kJson);
    EXPECT_EQ(planVsctl({"--format", "text", "list-br"}).invocation.common.format, OutputFormat::kText);
    EXPECT_DOUBLE_EQ(planVsctl({"--timeout=0.2", "list-br"}).invocation.common.timeoutSeconds, 0.2);
    EXPECT_DOUBLE_EQ(planVsctl({"-t", "3", "list-br"}).invocation.common.timeoutSeconds, 3);
    EXPECT_TRUE(planVsctl({"-v", "--no-wait", "list-br"}).invocation.common.verbose);
}

TEST(VsctlParseErrors, MessagesNameTheProblem) {
    EXPECT_EQ(planError({"add-bridge", "br0"}), "unknown command 'add-bridge'; use --help for help");
    EXPECT_EQ(planError({"add-br"}), "'add-br' command requires at least 1 argument");
    EXPECT_EQ(planError({"add-port", "br0"}), "'add-port' command requires at least 2 arguments");
    EXPECT_EQ(planError({"list-br", "x"}), "'list-br' command takes no arguments");
    EXPECT_EQ(planError({"del-port", "a", "b", "c"}), "'del-port' command takes at most 2 arguments");
    EXPECT_EQ(planError({"--format=xml", "list-br"}), "unknown output format \"xml\" (use list, table, csv, json or html)");
    EXPECT_EQ(planError({"--timeout=soon", "list-br"}),
              "invalid timeout 'soon' (expected a non-negative number of seconds)");
    EXPECT_EQ(planError({"--bogus", "list-br"}), "unrecognized option '--bogus'; use --help for help");
    EXPECT_EQ(planError({"--may-exist", "list-br"}), "'list-br' command has no '--may-exist' option");
    EXPECT_EQ(planError({"add-br", "br0", "--", "--if-exists", "add-br", "br1"}),
              "'add-br' command has no '--if-exists' option");
    EXPECT_EQ(planError({"list-br", "--", "--timeout=1", "show"}),
              "option '--timeout=1' must come before the first command");
    EXPECT_EQ(planError({"--socket"}), "option '--socket' requires an argument");
    EXPECT_EQ(planError({}), "missing command name (use --help for help)");
    EXPECT_EQ(planError({"list-br", "--", "--may-exist"}), "missing command name after '--may-exist'");
    EXPECT_EQ(planError({"add-br", "br0", "parent", "10"}),
              "'add-br' with a parent bridge and VLAN (fake bridges) is not supported");
}

TEST(VsctlParseErrors, TablesColumnsAndValues) {
    // A table the management protocol does not know goes to the OVSDB server (vsctl_db.h),
    // which knows every table of the schema and names an unknown one (vsctl_db_test.cpp).
    EXPECT_TRUE(planVsctl({"set", "Bridgex", "br0", "a=b"}).invocation.useDb);
    EXPECT_TRUE(planVsctl({"get", "Flow", "x", "a"}).invocation.useDb);
    EXPECT_EQ(planError({"set", "Interface", "p1", "ofport=5"}), "cannot modify read-only column ofport in table Interface");
    EXPECT_EQ(planError({"clear", "Bridge", "br0", "name"}), "cannot modify read-only column name in table Bridge");
    EXPECT_EQ(planError({"set", "Interface", "p1", "type"}), "'set' argument 'type' is not COLUMN[:KEY]=VALUE");
    EXPECT_EQ(planError({"set", "Interface", "p1", "type:x=y"}), "cannot specify key to set for non-map column type");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other_config={a}"}), "missing '=' after key 'a' in map '{a}'");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other_config={a=1,a=2}"}), "duplicate key 'a' in map '{a=1,a=2}'");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other_config={a=1"}), "unbalanced '{' in '{a=1'");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other_config:\"a=1"}),
              "unterminated quoted string in 'other_config:\"a=1'");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other config=1"}), "'other config=1': invalid column name 'other config'");
    EXPECT_EQ(planError({"set", "Bridge", "br0", "other_config:=1"}), "'other_config:=1': missing key after 'other_config:'");
    EXPECT_EQ(planError({"get", "Bridge", "br0", "other_config:a=1"}),
              "'get' argument 'other_config:a=1' must be COLUMN or COLUMN:KEY, without '='");
    EXPECT_TRUE(planVsctl({"remove", "Bridge", "br0", "other_config", "a=1"}).invocation.useDb);  // ovs-vsctl's remove
    EXPECT_EQ(planError({"remove", "Interface", "p1", "type", "a"}), "cannot remove keys from non-map column type");
    EXPECT_EQ(planError({"clear", "Bridge", "br0", "other_config:a"}),
              "'clear' takes column names, but 'other_config:a' is not one");
}

TEST(VsctlParse, HelpAndVersionNeedNoCommand) {
    EXPECT_TRUE(planVsctl({"--help"}).invocation.help);
    EXPECT_TRUE(planVsctl({"-V"}).invocation.version);
}

// ---- value syntax -----------------------------------------------------------------------------

TEST(VsctlValue, FormatAtomQuotesLikeOvsVsctl) {
    EXPECT_EQ(formatAtom("internal"), "internal");
    EXPECT_EQ(formatAtom("br-int"), "br-int");
    EXPECT_EQ(formatAtom("br0"), "br0");
    EXPECT_EQ(formatAtom("10"), "\"10\"");
    EXPECT_EQ(formatAtom(""), "\"\"");
    EXPECT_EQ(formatAtom("true"), "\"true\"");
    EXPECT_EQ(formatAtom("a b"), "\"a b\"");
    EXPECT_EQ(formatAtom("02:00:00:00:00:01"), "\"02:00:00:00:00:01\"");
    EXPECT_EQ(formatAtom("say \"hi\""), R"("say \"hi\"")");
}

TEST(VsctlValue, FormatValue) {
    rapidjson::Document d;
    d.Parse(R"({"z":"1","a":"x y","m":"ok"})");
    EXPECT_EQ(formatValue(d), R"({a="x y", m=ok, z="1"})");
    d.Parse("null");
    EXPECT_EQ(formatValue(d), "[]");
    d.Parse(R"([1,"a",true])");
    EXPECT_EQ(formatValue(d), "[1, a, true]");
    d.Parse("{}");
    EXPECT_EQ(formatValue(d), "{}");
}

TEST(VsctlValue, ParseColumnArg) {
    ColumnArg a = parseColumnArg("options:remote_ip=1.2.3.4");
    EXPECT_EQ(a.column, "options");
    EXPECT_EQ(a.key, "remote_ip");
    EXPECT_EQ(a.value, "1.2.3.4");
    ColumnArg b = parseColumnArg("other_config:\"a:b\"");
    EXPECT_EQ(b.key, "a:b");
    EXPECT_FALSE(b.value);
    ColumnArg c = parseColumnArg("type=a=b");
    EXPECT_FALSE(c.key);
    EXPECT_EQ(c.value, "a=b");
    EXPECT_EQ(parseAtom("\"x\\ty\""), "x\ty");
    EXPECT_EQ(parseAtom("bare words stay"), "bare words stay");
    EXPECT_EQ(parseMap("a=b").size(), 1u);
}

// ovs-vsctl treats '-' and '_' alike in column names (libvirt writes external-ids:iface-id); keys
// are data and keep their dashes.
TEST(VsctlValue, DashAndUnderscoreAreOneInColumnNames) {
    ColumnArg a = parseColumnArg("external-ids:iface-id=vm1");
    EXPECT_EQ(a.column, "external_ids");
    EXPECT_EQ(a.key, "iface-id");
    EXPECT_EQ(parseColumnArg("other-config").column, "other_config");
    EXPECT_EQ(normalColumnName("ofport_request"), "ofport_request");
}

// ---- running against a fake daemon ---------------------------------------------------------

constexpr const char* kGetResult = R"J({"seq":3,
 "config":{"bridges":{
   "br0":{"other_config":{"mac-aging-time":"10"},"external_ids":{},
          "ports":{"br0":{"tag":null,"trunks":[],"vlan_mode":null,"other_config":{},"external_ids":{},
                          "interfaces":{"br0":{"type":"internal","options":{},"other_config":{},"external_ids":{},"ofport":65534}}},
                   "p1":{"tag":10,"trunks":[],"vlan_mode":null,"other_config":{},"external_ids":{},
                         "interfaces":{"p1":{"type":"internal","options":{},"other_config":{},"external_ids":{},"ofport":1}}},
                   "bond0":{"tag":5,"trunks":[10,20],"vlan_mode":"native-untagged","other_config":{},"external_ids":{},
                         "interfaces":{"e2":{"type":"system","options":{},"other_config":{},"external_ids":{},"ofport":3},
                                       "e1":{"type":"system","options":{},"other_config":{},"external_ids":{},"ofport":2}}}}},
   "br1":{"other_config":{},"external_ids":{},"ports":{"br1":{"tag":null,"trunks":[],"vlan_mode":null,"other_config":{},
          "external_ids":{},"interfaces":{"br1":{"type":"internal","options":{},"other_config":{},"external_ids":{},"ofport":65534}}}}}}},
 "status":{"interfaces":{"p1":{"ofport":1,"error":null,"mac_in_use":"02:00:00:00:00:01","mtu":1500,"link_state":"up",
   "statistics":{"rx_packets":5,"rx_bytes":300,"rx_dropped":0,"tx_packets":1,"tx_bytes":60,"tx_dropped":0}},
   "e1":{"ofport":2,"error":"could not open network device e1 (No such device)"}}}})J";

constexpr const char* kShowResult = R"J({"bridges":[{"name":"br0","ports":[
   {"name":"br0","interfaces":[{"name":"br0","type":"internal","ofport":65534,"error":null}]},
   {"name":"p1","tag":10,"interfaces":[{"name":"p1","type":"internal","ofport":1,"error":null}]},
   {"name":"p2","tag":20,"trunks":[10,20],"vlan_mode":"native-untagged",
    "interfaces":[{"name":"p2","type":"system","ofport":3,"error":null}]},
   {"name":"p9","interfaces":[{"name":"p9","type":"system","ofport":2,
                               "error":"could not open network device p9 (No such device)"}]}]},
  {"name":"br1","ports":[{"name":"br1","interfaces":[{"name":"br1","type":"internal","ofport":65534,
                           "error":"could not create internal device br1 (File exists)"}]}]}]})J";

class FakeRpc : public RpcCaller {
public:
    std::map<std::string, std::string> results;  // method -> result JSON
    std::map<std::string, std::string> errors;   // method -> full error object JSON
    std::vector<std::string> calls;              // "method params"

    protocol::Response call(std::string_view method, const rapidjson::Value& params) override {
        std::string m(method);
        calls.push_back(m + " " + protocol::toJson(params));
        std::string line = errors.count(m) ? R"({"jsonrpc":"2.0","id":1,"error":)" + errors[m] + "}"
                                           : R"({"jsonrpc":"2.0","id":1,"result":)" + result(m) + "}";
        protocol::Response r;
        auto err = protocol::decodeResponse(line, r);
        EXPECT_FALSE(err) << *err;
        return r;
    }

private:
    std::string result(const std::string& m) {
        if (results.count(m)) return results[m];
        if (m == "get") return kGetResult;
        if (m == "show") return kShowResult;
        if (m == "transact") return R"({"seq":4,"errors":{}})";
        return "null";
    }
};

struct RunResult {
    int status;
    std::string out;
    std::string err;
    int connects;
};

RunResult run(const Args& args, FakeRpc& rpc) {
    std::ostringstream out, err;
    int connects = 0;
    RpcFactory factory = [&](const CommonOptions&) {
        ++connects;
        struct Forward : RpcCaller {
            FakeRpc& f;
            explicit Forward(FakeRpc& r) : f(r) {}
            protocol::Response call(std::string_view m, const rapidjson::Value& p) override { return f.call(m, p); }
        };
        return std::unique_ptr<RpcCaller>(std::make_unique<Forward>(rpc));
    };
    int status = vsctlMain(args, out, err, factory);
    return {status, out.str(), err.str(), connects};
}

RunResult run(const Args& args) {
    FakeRpc rpc;
    return run(args, rpc);
}

TEST(VsctlRun, ArgumentErrorsNeverContactTheDaemon) {
    for (const Args& args : {Args{"frob"}, Args{"add-br"}, Args{"--format=yaml", "list-br"},
                             Args{"set", "Bridge", "br0", "other_config={a"}}) {
        RunResult r = run(args);
        EXPECT_EQ(r.status, 1);
        EXPECT_EQ(r.connects, 0);
        EXPECT_TRUE(r.err.starts_with("vsctl: ")) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST(VsctlRun, HelpAndVersion) {
    RunResult h = run({"--help"});
    EXPECT_EQ(h.status, 0);
    EXPECT_EQ(h.connects, 0);
    EXPECT_NE(h.out.find("add-port BRIDGE PORT"), std::string::npos);
    RunResult v = run({"--version"});
    EXPECT_EQ(v.status, 0);
    EXPECT_EQ(v.out, std::string("vsctl (vswitch) ") + VSWITCH_VERSION + "\n");
}

TEST(VsctlRun, ListBrTextAndJson) {
    EXPECT_EQ(run({"list-br"}).out, "br0\nbr1\n");
    EXPECT_EQ(run({"--format=json", "list-br"}).out, "[\"br0\",\"br1\"]\n");
}

TEST(VsctlRun, BrExistsExitStatus) {
    RunResult yes = run({"br-exists", "br0"});
    EXPECT_EQ(yes.status, 0);
    EXPECT_EQ(yes.out, "");
    RunResult no = run({"br-exists", "br9"});
    EXPECT_EQ(no.status, 2);
    EXPECT_EQ(no.out, "");
    EXPECT_EQ(no.err, "");
}

TEST(VsctlRun, PortAndInterfaceQueries) {
    // As ovs-vsctl: the bridge's local port (br0 on br0) is not listed.
    EXPECT_EQ(run({"list-ports", "br0"}).out, "bond0\np1\n");
    EXPECT_EQ(run({"list-ifaces", "br0"}).out, "e1\ne2\np1\n");
    EXPECT_EQ(run({"list-ports", "br1"}).out, "");
    EXPECT_EQ(run({"list-ifaces", "br1"}).out, "");
    EXPECT_EQ(run({"-f", "json", "list-ports", "br1"}).out, "[]\n");
    EXPECT_EQ(run({"port-to-br", "br0"}).out, "br0\n");
    EXPECT_EQ(run({"iface-to-br", "br1"}).out, "br1\n");
    EXPECT_EQ(run({"port-to-br", "bond0"}).out, "br0\n");
    EXPECT_EQ(run({"iface-to-br", "e2"}).out, "br0\n");
    EXPECT_EQ(run({"-f", "json", "iface-to-br", "e2"}).out, "\"br0\"\n");
    RunResult missing = run({"list-ports", "br9"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_EQ(missing.err, "vsctl: no bridge named br9\n");
    EXPECT_EQ(run({"port-to-br", "e1"}).err, "vsctl: no port named e1\n");
    EXPECT_EQ(run({"iface-to-br", "bond0"}).err, "vsctl: no interface named bond0\n");
}

TEST(VsctlRun, ShowText) {
    RunResult r = run({"show"});
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "Bridge br0\n"
              "    Port br0\n"
              "        Interface br0\n"
              "            type: internal\n"
              "    Port p1\n"
              "        tag: 10\n"
              "        Interface p1\n"
              "            type: internal\n"
              "    Port p2\n"
              "        tag: 20\n"
              "        trunks: [10, 20]\n"
              "        vlan_mode: native-untagged\n"
              "        Interface p2\n"
              "    Port p9\n"
              "        Interface p9\n"
              "            error: \"could not open network device p9 (No such device)\"\n"
              "Bridge br1\n"
              "    Port br1\n"
              "        Interface br1\n"
              "            type: internal\n"
              "            error: \"could not create internal device br1 (File exists)\"\n");
}

TEST(VsctlRun, ShowJsonIsTheRawResult) {
    rapidjson::Document expected, got;
    expected.Parse(kShowResult);
    RunResult r = run({"--format=json", "show"});
    got.Parse(r.out.c_str());
    EXPECT_TRUE(got == expected) << r.out;
}

TEST(VsctlRun, GetColumnsAndKeys) {
    EXPECT_EQ(run({"get", "Interface", "p1", "ofport", "type", "mac_in_use", "error"}).out,
              "1\ninternal\n\"02:00:00:00:00:01\"\n[]\n");
    EXPECT_EQ(run({"get", "Bridge", "br0", "other_config:mac-aging-time"}).out, "\"10\"\n");
    EXPECT_EQ(run({"get", "Bridge", "br0", "other_config"}).out, "{mac-aging-time=\"10\"}\n");
    EXPECT_EQ(run({"get", "Interface", "p1", "statistics:rx_packets"}).out, "5\n");
    EXPECT_EQ(run({"get", "port", "bond0", "interfaces"}).out, "[e1, e2]\n");
    // Status columns the daemon has not reported (yet) read as empty.
    EXPECT_EQ(run({"get", "Interface", "e2", "mac_in_use", "statistics", "ofport"}).out, "[]\n{}\n3\n");
    EXPECT_EQ(run({"get", "Interface", "e1", "error"}).out, "\"could not open network device e1 (No such device)\"\n");
    EXPECT_EQ(run({"--format=json", "get", "Interface", "p1", "ofport", "statistics:tx_bytes", "link_state"}).out,
              "1\n60\n\"up\"\n");
}

TEST(VsctlRun, GetErrors) {
    EXPECT_EQ(run({"get", "Interface", "p9", "ofport"}).err, "vsctl: no row \"p9\" in table Interface\n");
    EXPECT_EQ(run({"get", "Interface", "p1", "color"}).err,
              "vsctl: Interface does not contain a column whose name matches \"color\"\n");
    EXPECT_EQ(run({"get", "Bridge", "br0", "other_config:nope"}).err,
              "vsctl: no key \"nope\" in Bridge record \"br0\" column other_config\n");
    EXPECT_EQ(run({"get", "Interface", "p1", "type:x"}).err, "vsctl: cannot specify key to get for non-map column type\n");
    RunResult quiet = run({"--if-exists", "get", "Bridge", "br0", "other_config:nope"});
    EXPECT_EQ(quiet.status, 0);
    EXPECT_EQ(quiet.out, "\n");
    EXPECT_EQ(run({"--if-exists", "get", "Interface", "p9", "ofport"}).out, "");
}

TEST(VsctlRun, ListText) {
    RunResult r = run({"list", "Bridge", "br1"});
    EXPECT_EQ(r.out,
              "name                : br1\n"
              "external_ids        : {}\n"
              "other_config        : {}\n"
              "ports               : [br1]\n");
    RunResult cols = run({"--columns=name,ofport", "list", "Interface"});
    EXPECT_EQ(cols.out, "name                : br0\nofport              : 65534\n\n"
                        "name                : br1\nofport              : 65534\n\n"
                        "name                : e1\nofport              : 2\n\n"
                        "name                : e2\nofport              : 3\n\n"
                        "name                : p1\nofport              : 1\n");
    EXPECT_EQ(run({"list", "Port", "nope"}).err, "vsctl: no row \"nope\" in table Port\n");
}

TEST(VsctlRun, PortVlanColumns) {
    EXPECT_EQ(run({"get", "Port", "p1", "tag", "trunks", "vlan_mode"}).out, "10\n[]\n[]\n");
    EXPECT_EQ(run({"get", "Port", "bond0", "tag", "trunks", "vlan_mode"}).out, "5\n[10, 20]\nnative-untagged\n");
    EXPECT_EQ(run({"get", "Port", "br0", "tag"}).out, "[]\n");
    EXPECT_EQ(run({"-f", "json", "get", "Port", "bond0", "trunks", "tag", "vlan_mode"}).out,
              "[10,20]\n5\n\"native-untagged\"\n");
    EXPECT_EQ(run({"list", "Port", "p1"}).out,
              "name                : p1\n"
              "external_ids        : {}\n"
              "interfaces          : [p1]\n"
              "other_config        : {}\n"
              "tag                 : 10\n"
              "trunks              : []\n"
              "vlan_mode           : []\n");
}

TEST(VsctlRun, ListJson) {
    RunResult r = run({"-f", "json", "--columns=name,mtu", "list", "Interface", "p1"});
    EXPECT_EQ(r.out, "[{\"name\":\"p1\",\"mtu\":1500}]\n");
}

TEST(VsctlRun, ModifyingCommandsSendOneTransact) {
    FakeRpc rpc;
    RunResult r = run({"add-br", "br2", "--", "add-port", "br2", "p2"}, rpc);
    EXPECT_EQ(r.status, 0);
    ASSERT_EQ(rpc.calls.size(), 1u);
    EXPECT_EQ(rpc.calls[0],
              R"(transact {"ops":[{"op":"add-br","bridge":"br2","may_exist":false},)"
              R"({"op":"add-port","bridge":"br2","port":"p2","may_exist":false}]})");
}

TEST(VsctlRun, ReadsBeforeAndAfterTheTransaction) {
    FakeRpc rpc;
    run({"list-br", "--", "add-br", "br2", "--", "show"}, rpc);
    ASSERT_EQ(rpc.calls.size(), 3u);
    EXPECT_TRUE(rpc.calls[0].starts_with("get "));
    EXPECT_TRUE(rpc.calls[1].starts_with("transact "));
    EXPECT_TRUE(rpc.calls[2].starts_with("show "));
}

TEST(VsctlRun, FailingReadBeforeTheTransactionChangesNothing) {
    FakeRpc rpc;
    RunResult r = run({"port-to-br", "nope", "--", "add-br", "br2"}, rpc);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsctl: no port named nope\n");
    ASSERT_EQ(rpc.calls.size(), 1u);
    EXPECT_TRUE(rpc.calls[0].starts_with("get "));
}

TEST(VsctlRun, TransactErrorNamesTheCommand) {
    FakeRpc rpc;
    rpc.errors["transact"] = R"({"code":-32002,"message":"cannot create a bridge named br0 because a bridge named br0 already exists","data":{"op_index":1}})";
    RunResult one = run({"add-br", "br0"}, rpc);
    EXPECT_EQ(one.status, 1);
    EXPECT_EQ(one.err, "vsctl: cannot create a bridge named br0 because a bridge named br0 already exists\n");
    RunResult two = run({"add-br", "br5", "--", "add-br", "br0"}, rpc);
    EXPECT_EQ(two.err,
              "vsctl: cannot create a bridge named br0 because a bridge named br0 already exists"
              " (in command 'add-br br0')\n");
}

TEST(VsctlRun, InterfaceSetupErrorsOfThisInvocationFailIt) {
    FakeRpc rpc;
    rpc.results["transact"] =
        R"J({"seq":5,"errors":{"p9":"could not open network device p9 (No such device)","old":"stale"}})J";
    RunResult r = run({"add-port", "br0", "p9"}, rpc);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsctl: Error detected while setting up 'p9': could not open network device p9 (No such device).\n");
    // An unrelated interface's error does not fail another command.
    RunResult other = run({"set", "Bridge", "br0", "other_config:a=b"}, rpc);
    EXPECT_EQ(other.status, 0);
    EXPECT_EQ(other.err, "");
}

TEST(VsctlRun, RepeatedSetOnAFailedInterfaceStillReportsItsError) {
    // The daemon's reply lists only interfaces the transaction changed: a `set` that changes
    // nothing (or only a Port column) has no errors in it, yet e1 still fails (kGetResult).
    FakeRpc rpc;
    rpc.results["transact"] = R"J({"seq":5,"errors":{}})J";
    RunResult r = run({"set", "Interface", "e1", "type=system"}, rpc);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsctl: Error detected while setting up 'e1': could not open network device e1 (No such device).\n");
    ASSERT_EQ(rpc.calls.size(), 2u);
    EXPECT_TRUE(rpc.calls[1].starts_with("get "));

    RunResult port = run({"set", "Port", "bond0", "tag=7"}, rpc);  // a Port: its interfaces
    EXPECT_EQ(port.status, 1);
    EXPECT_EQ(port.err, r.err);
    RunResult mayExist = run({"--may-exist", "add-port", "br0", "bond0"}, rpc);
    EXPECT_EQ(mayExist.status, 1);
    EXPECT_EQ(mayExist.err, r.err);
    RunResult ok = run({"set", "Interface", "p1", "other_config:a=b"}, rpc);
    EXPECT_EQ(ok.status, 0);
    EXPECT_EQ(ok.err, "");
}

TEST(VsctlRun, ErrorsInTheReplyAreReportedOnce) {
    FakeRpc rpc;
    rpc.results["transact"] = R"J({"seq":5,"errors":{"e1":"could not open network device e1 (No such device)"}})J";
    RunResult r = run({"set", "Interface", "e1", "type=system"}, rpc);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsctl: Error detected while setting up 'e1': could not open network device e1 (No such device).\n");
}

TEST(VsctlRun, NewPortsNeedNoSecondRoundTrip) {
    FakeRpc rpc;
    rpc.results["transact"] = R"J({"seq":5,"errors":{}})J";
    RunResult r = run({"add-port", "br0", "p5", "tag=3", "--", "set", "Interface", "p5", "type=internal"}, rpc);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(rpc.calls.size(), 1u) << "what the invocation creates is covered by the reply's errors";
}

TEST(VsctlRun, ServerErrorOnGet) {
    FakeRpc rpc;
    rpc.errors["get"] = R"({"code":-32603,"message":"internal error: boom"})";
    RunResult r = run({"list-br"}, rpc);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, "vsctl: internal error: boom\n");
}

TEST(VsctlRun, ConnectFailureIsReported) {
    std::ostringstream out, err;
    RpcFactory factory = [](const CommonOptions& o) -> std::unique_ptr<RpcCaller> {
        throw protocol::ClientError("cannot connect to " + o.socket + ": No such file or directory (is vswitchd running?)");
    };
    int status = vsctlMain({"--socket=/nonexistent/x.sock", "list-br"}, out, err, factory);
    EXPECT_EQ(status, 1);
    EXPECT_EQ(err.str(), "vsctl: cannot connect to /nonexistent/x.sock: No such file or directory (is vswitchd running?)\n");
}

TEST(VsctlFormat, ShowFromCannedResult) {
    rapidjson::Document d;
    d.Parse(R"({"bridges":[{"name":"br0","ports":[{"name":"vx1","interfaces":[
        {"name":"vx1","type":"vxlan","options":{"remote_ip":"192.0.2.2"},"ofport":1,"error":null}]}]}]})");
    EXPECT_EQ(formatShow(d),
              "Bridge br0\n    Port vx1\n        Interface vx1\n            type: vxlan\n"
              "            options: {remote_ip=\"192.0.2.2\"}\n");
}

}  // namespace
}  // namespace vs::utilities
