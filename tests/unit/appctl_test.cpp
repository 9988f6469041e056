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
    EXPECT_EQ(paramsOf({"bond/show", "bond0", "-x"}), R"({"args":["bond0","-x"]})");
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
    EXPECT_EQ(text("lacp/show", R"("lacp: nothing\n")"), "lacp: nothing\n");
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
}  // namespace vs::utilities
