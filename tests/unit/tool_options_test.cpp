// The tools' option parsing over getopt_long (utilities/cli_getopt.h) and the orders each tool
// accepts: vsappctl and vsofctl take options before or after the command, vsctl only before the
// first command (ovs-vsctl's rule); -T/--timeout is the timeout in all three, -t in vsctl and
// vsofctl too, and vsappctl's -t is the target socket (ovs-appctl's).
#include <gtest/gtest.h>

#include "utilities/appctl.h"
#include "utilities/cli_getopt.h"
#include "utilities/vsctl.h"
#include "utilities/vsofctl.h"

namespace vs::utilities {
namespace {

using Args = std::vector<std::string>;

constexpr OptionDef kDefs[] = {
    {"verbose", 'v', OptionDef::kNone, 1},
    {"timeout", 't', OptionDef::kRequired, 2},
    {"sort", 0, OptionDef::kOptional, 3},
    {"socket", 0, OptionDef::kRequired, 4},
    {"strict", 0, OptionDef::kNone, 5},
};

template <typename F>
std::string errorOf(F&& f) {
    try {
        f();
    } catch (const CliError& e) {
        return e.what();
    }
    return "<no error>";
}

std::string walkError(const Args& args) {
    return errorOf([&] { parseCommandLine(args, kDefs); });
}

TEST(CliGetopt, OptionsAnywhereWordsInOrder) {
    ParsedArgs p = parseCommandLine({"a", "-v", "b", "--timeout=2", "-t", "3", "--sort", "c", "--sort=x", "-"}, kDefs);
    EXPECT_EQ(p.words, (Args{"a", "b", "c", "-"}));
    ASSERT_EQ(p.options.size(), 5u);
    EXPECT_EQ(p.options[0].spelling, "-v");
    EXPECT_EQ(p.options[1].spelling, "--timeout");
    EXPECT_EQ(p.options[1].value, "2");
    EXPECT_EQ(p.options[2].spelling, "-t");
    EXPECT_EQ(p.options[2].value, "3");
    EXPECT_EQ(p.options[3].value, std::nullopt) << "an optional value only as --sort=VALUE";
    EXPECT_EQ(p.options[4].value, "x");
    EXPECT_FALSE(p.dashDashAfter);
}

TEST(CliGetopt, ClustersAbbreviationsAndValuesThatLookLikeOptions) {
    ParsedArgs p = parseCommandLine({"-vt5", "--verb", "--socket", "-weird", "--soc=/x"}, kDefs);
    ASSERT_EQ(p.options.size(), 5u);
    EXPECT_EQ(p.options[1].value, "5");
    EXPECT_EQ(p.options[2].spelling, "--verbose");
    EXPECT_EQ(p.options[3].value, "-weird");
    EXPECT_EQ(p.options[4].spelling, "--socket");
}

TEST(CliGetopt, DashDashEndsOptions) {
    ParsedArgs p = parseCommandLine({"a", "--", "-v", "--timeout"}, kDefs);
    EXPECT_EQ(p.words, (Args{"a", "-v", "--timeout"}));
    EXPECT_TRUE(p.options.empty());
    EXPECT_EQ(p.dashDashAfter, 1u);
}

TEST(CliGetopt, StopAfterAWordKeepsTheRestVerbatim) {
    auto first = [](const std::string&, std::size_t) { return true; };
    ParsedArgs p = parseCommandLine({"-v", "cmd", "-5", "--x", "--", "-v"}, kDefs, first);
    EXPECT_EQ(p.words, (Args{"cmd", "-5", "--x", "--", "-v"}));
    EXPECT_EQ(p.options.size(), 1u);
}

TEST(CliGetopt, ErrorsNameTheOption) {
    EXPECT_EQ(walkError({"--frob"}), "unrecognized option '--frob'; use --help for help");
    EXPECT_EQ(walkError({"--frob=1"}), "unrecognized option '--frob'; use --help for help");
    EXPECT_EQ(walkError({"-x"}), "unrecognized option '-x'; use --help for help");
    EXPECT_EQ(walkError({"--verbose", "-vx"}), "unrecognized option '-x'; use --help for help");
    EXPECT_EQ(walkError({"--timeout"}), "option '--timeout' requires an argument");
    EXPECT_EQ(walkError({"a", "--time"}), "option '--timeout' requires an argument");
    EXPECT_EQ(walkError({"-t"}), "option '-t' requires an argument");
    EXPECT_EQ(walkError({"--verbose=1"}), "option '--verbose' doesn't allow an argument");
    EXPECT_EQ(walkError({"--s"}), "option '--s' is ambiguous; possibilities: '--sort' '--socket' '--strict'");
}

TEST(CliGetopt, RepeatedParsesStartAfresh) {
    EXPECT_EQ(walkError({"-vx"}), "unrecognized option '-x'; use --help for help");
    // A parse that stopped inside "-vx" must not leak into the next one.
    ParsedArgs p = parseCommandLine({"-v", "w"}, kDefs);
    EXPECT_EQ(p.words, Args{"w"});
    EXPECT_EQ(p.options.size(), 1u);
}

// ---- vsappctl -------------------------------------------------------------------------------

TEST(AppctlOptionOrder, OptionsAfterAKnownCommand) {
    AppctlInvocation inv = parseAppctlArgs({"coverage/show", "--format=json"});
    EXPECT_EQ(inv.command, "coverage/show");
    EXPECT_TRUE(inv.args.empty());
    EXPECT_EQ(inv.common.format, OutputFormat::kJson);

    inv = parseAppctlArgs({"fdb/show", "br0", "-f", "json", "-T", "1.5", "--target", "/tmp/s"});
    EXPECT_EQ(inv.args, Args{"br0"});
    EXPECT_EQ(inv.common.format, OutputFormat::kJson);
    EXPECT_DOUBLE_EQ(inv.common.timeoutSeconds, 1.5);
    EXPECT_EQ(inv.common.socket, "/tmp/s");

    inv = parseAppctlArgs({"ofproto/trace", "--timeout=2", "br0", "in_port=p1"});
    EXPECT_EQ(inv.args, (Args{"br0", "in_port=p1"}));
    EXPECT_DOUBLE_EQ(inv.common.timeoutSeconds, 2);
}

TEST(AppctlOptionOrder, OtherCommandsGetTheirArgumentsVerbatim) {
    AppctlInvocation inv = parseAppctlArgs({"-f", "json", "dpctl/dump-flows", "-m", "-5", "--format=text"});
    EXPECT_EQ(inv.command, "dpctl/dump-flows");
    EXPECT_EQ(inv.args, (Args{"-m", "-5", "--format=text"}));
    EXPECT_EQ(inv.common.format, OutputFormat::kJson);
    EXPECT_EQ(parseAppctlArgs({"--", "x/y", "-1"}).args, Args{"-1"});
}

TEST(AppctlOptionOrder, Errors) {
    EXPECT_EQ(errorOf([] { parseAppctlArgs({"coverage/show", "--frob"}); }),
              "unrecognized option '--frob'; use --help for help");
    EXPECT_EQ(errorOf([] { parseAppctlArgs({"fdb/show", "br0", "-T"}); }), "option '-T' requires an argument");
    EXPECT_EQ(errorOf([] { parseAppctlArgs({"version", "--timeout"}); }), "option '--timeout' requires an argument");
    EXPECT_EQ(errorOf([] { parseAppctlArgs({"-T", "soon", "version"}); }),
              "invalid timeout 'soon' (expected a non-negative number of seconds)");
}

// ---- vsofctl --------------------------------------------------------------------------------

TEST(OfctlOptionOrder, OptionsBeforeAndAfterTheCommand) {
    OfctlInvocation a = parseOfctlArgs({"--strict", "-T", "3", "del-flows", "br0", "ip"});
    OfctlInvocation b = parseOfctlArgs({"del-flows", "br0", "ip", "--strict", "--timeout=3"});
    EXPECT_EQ(a.command, b.command);
    EXPECT_EQ(a.args, b.args);
    EXPECT_TRUE(a.strict && b.strict);
    EXPECT_DOUBLE_EQ(a.common.timeoutSeconds, 3);
    EXPECT_DOUBLE_EQ(b.common.timeoutSeconds, 3);
    EXPECT_EQ(parseOfctlArgs({"dump-flows", "br0", "--no-s"}).noStats, true) << "abbreviated long option";
}

TEST(OfctlOptionOrder, Errors) {
    EXPECT_EQ(errorOf([] { parseOfctlArgs({"dump-flows", "br0", "-x"}); }), "unrecognized option '-x'; use --help for help");
    EXPECT_EQ(errorOf([] { parseOfctlArgs({"dump-flows", "br0", "--strict=1"}); }),
              "option '--strict' doesn't allow an argument");
    EXPECT_EQ(errorOf([] { parseOfctlArgs({"show", "br0", "-O"}); }), "option '-O' requires an argument");
    EXPECT_EQ(errorOf([] { parseOfctlArgs({"--rsort=cookie", "dump-flows", "br0"}); }),
              "'--rsort=cookie': only sorting by priority is supported (--sort or --rsort)");
}

// ---- vsctl ----------------------------------------------------------------------------------

std::string vsctlError(const Args& args) {
    return errorOf([&] { planVsctl(args); });
}

TEST(VsctlOptionOrder, GlobalOptionsOnlyBeforeTheFirstCommand) {
    VsctlPlan p = planVsctl({"-T", "2", "-vfjson", "--may-exist", "add-br", "br0"});
    EXPECT_DOUBLE_EQ(p.invocation.common.timeoutSeconds, 2);
    EXPECT_TRUE(p.invocation.common.verbose);
    EXPECT_EQ(p.invocation.common.format, OutputFormat::kJson);
    EXPECT_TRUE(p.invocation.commands.at(0).options.mayExist);
    EXPECT_EQ(vsctlError({"list-br", "--format=json"}), "option '--format=json' must come before the first command");
    EXPECT_EQ(vsctlError({"show", "--", "-t", "1", "list-br"}), "option '-t' must come before the first command");
}

TEST(VsctlOptionOrder, CommandArgumentsMayStartWithADash) {
    VsctlPlan p = planVsctl({"set", "Port", "-p1", "tag=10"});
    EXPECT_EQ(p.invocation.commands.at(0).args, (Args{"Port", "-p1", "tag=10"}));
    p = planVsctl({"get", "Port", "-p1", "tag"});
    EXPECT_EQ(p.invocation.commands.at(0).args, (Args{"Port", "-p1", "tag"}));
}

TEST(VsctlOptionOrder, LeadingDashDashAndPerCommandOptions) {
    VsctlPlan p = planVsctl({"--", "--if-exists", "del-br", "br0", "--", "--columns=name", "list", "Bridge"});
    ASSERT_EQ(p.invocation.commands.size(), 2u);
    EXPECT_TRUE(p.invocation.commands[0].options.ifExists);
    EXPECT_EQ(p.invocation.commands[1].options.columns, Args{"name"});
    p = planVsctl({"--columns", "name,ofport", "list", "Interface"});
    EXPECT_EQ(p.invocation.commands.at(0).options.columns, (Args{"name", "ofport"}));
    EXPECT_EQ(vsctlError({"--may-exist", "--", "add-br", "br0"}), "missing command name after '--may-exist'");
    EXPECT_EQ(vsctlError({"--", "--timeout=1", "list-br"}), "option '--timeout=1' must come before the first command");
    EXPECT_EQ(vsctlError({"--columns="}), "'--columns=': empty column name");
    EXPECT_EQ(vsctlError({"--verbose=yes", "list-br"}), "option '--verbose' doesn't allow an argument");
    EXPECT_EQ(vsctlError({"-f"}), "option '-f' requires an argument");
}

}  // namespace
}  // namespace vs::utilities
