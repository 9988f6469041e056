// Replays the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/*) and every input a fuzzer ever
// crashed on (tests/fuzz/regressions/TARGET/*) through the fuzz entry points
// (tests/fuzz/targets/*.h), so that the normal unit-test run keeps them fixed. An entry point
// aborts with "*** fuzz target T: invariant violated: ..." and the file name when an invariant
// breaks; under scripts/sanitize.sh (ASan+UBSan) memory errors fail here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/fuzz/targets/cache_fresh.h"
#include "tests/fuzz/targets/config_load.h"
#include "tests/fuzz/targets/flow_extract.h"
#include "tests/fuzz/targets/flow_parse.h"
#include "tests/fuzz/targets/jsonrpc.h"
#include "tests/fuzz/targets/ovsdb_transact.h"
#include "tests/fuzz/targets/bpdu.h"
#include "tests/fuzz/targets/lacpdu.h"
#include "tests/fuzz/targets/mgmt_methods.h"
#include "tests/fuzz/targets/of13.h"
#include "tests/fuzz/targets/ofmsg.h"
#include "tests/fuzz/targets/vnet_offload.h"
#include "tests/fuzz/targets/vxlan_decap.h"
#include "tests/fuzz/targets/tunnel_header.h"
#include "protocol/ofmsg.h"
#include "vswitchd/config_store.h"
#include "vswitchd/flow_store.h"

namespace fs = std::filesystem;

namespace {

using EntryPoint = int (*)(const std::uint8_t*, std::size_t);

fs::path fuzzDir() {
    if (const char* src = std::getenv("VSWITCH_SOURCE_DIR")) return fs::path(src) / "tests" / "fuzz";
    return fs::path(__FILE__).parent_path().parent_path() / "fuzz";  // tests/unit/.. -> tests/fuzz
}

std::vector<fs::path> inputs(const std::string& target, const char* kind) {
    std::vector<fs::path> out;
    fs::path dir = fuzzDir() / kind / target;
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.' && e.path().extension() != ".md")
            out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Replays the corpus and the regressions of `target`; returns how many inputs ran.
std::size_t replay(const std::string& target, EntryPoint fn) {
    std::size_t n = 0;
    for (const char* kind : {"corpus", "regressions"}) {
        for (const auto& p : inputs(target, kind)) {
            std::string bytes = slurp(p);
            vs::fuzz::currentInputName() = p.string();
            fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            ++n;
        }
    }
    vs::fuzz::currentInputName().clear();
    return n;
}

void replayTarget(const std::string& target, EntryPoint fn) {
    ASSERT_TRUE(fs::is_directory(fuzzDir() / "corpus" / target))
        << "no seed corpus for " << target << " under " << fuzzDir() << " (set VSWITCH_SOURCE_DIR)";
    std::size_t n = replay(target, fn);
    EXPECT_GE(n, inputs(target, "corpus").size());
    EXPECT_GT(n, 0u);
}

}  // namespace

TEST(FuzzRegressions, FlowExtract) { replayTarget("flow_extract", vs::fuzz::flowExtract); }
TEST(FuzzRegressions, VxlanDecap) { replayTarget("vxlan_decap", vs::fuzz::vxlanDecap); }
TEST(FuzzRegressions, TunnelHeader) { replayTarget("tunnel_header", vs::fuzz::tunnelHeader); }
TEST(FuzzRegressions, VnetOffload) { replayTarget("vnet_offload", vs::fuzz::vnetOffload); }
TEST(FuzzRegressions, FlowParse) { replayTarget("flow_parse", vs::fuzz::flowParse); }
TEST(FuzzRegressions, JsonRpc) { replayTarget("jsonrpc", vs::fuzz::jsonRpc); }
TEST(FuzzRegressions, OvsdbTransact) { replayTarget("ovsdb_transact", vs::fuzz::ovsdbTransact); }
TEST(FuzzRegressions, ConfigLoad) { replayTarget("config_load", vs::fuzz::configLoad); }
TEST(FuzzRegressions, Lacpdu) { replayTarget("lacpdu", vs::fuzz::lacpdu); }
TEST(FuzzRegressions, Bpdu) { replayTarget("bpdu", vs::fuzz::bpdu); }
TEST(FuzzRegressions, OfMsg) { replayTarget("ofmsg", vs::fuzz::ofMsg); }
TEST(FuzzRegressions, Of13) { replayTarget("of13", vs::fuzz::of13Msg); }
TEST(FuzzRegressions, CacheFresh) { replayTarget("cache_fresh", vs::fuzz::cacheFresh); }

// The management methods run a real daemon core in a private network namespace: in a child
// process (a death-test fork), so this process keeps its namespace. Needs root, as the system tests.
TEST(FuzzRegressions, MgmtMethods) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a private network namespace for the daemon's ports)";
    ASSERT_TRUE(fs::is_directory(fuzzDir() / "corpus" / "mgmt_methods"));
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            std::size_t n = replay("mgmt_methods", vs::fuzz::mgmtMethods);
            std::fprintf(stderr, "replayed %zu inputs\n", n);
            std::_Exit(n > 0 ? 0 : 3);
        },
        ::testing::ExitedWithCode(0), "replayed [1-9][0-9]* inputs");
}

// Found by fuzz_jsonrpc: RapidJSON parses (and copies, compares, writes) recursively, and a request
// line is allowed up to 64 MiB, so a few MB of '[' overflowed vswitchd's stack. Nesting deeper than
// kMaxJsonDepth is now refused before parsing, on every path that parses JSON it did not write.
TEST(FuzzRegressions, DeepNestingIsRefusedNotRecursedInto) {
    const std::size_t depth = 4u << 20;
    std::string deep = std::string(depth, '[') + std::string(depth, ']');
    std::string request = R"({"jsonrpc":"2.0","id":1,"method":"version","params":)" + deep + "}";
    vs::protocol::Request req;
    auto err = vs::protocol::decodeRequest(request, req);
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, vs::protocol::ErrorCode::kParseError);
    EXPECT_NE(err->message.find("nesting deeper than 128"), std::string::npos) << err->message;
    vs::protocol::Response resp;
    EXPECT_TRUE(vs::protocol::decodeResponse(R"({"jsonrpc":"2.0","id":1,"result":)" + deep + "}", resp).has_value());
    EXPECT_THROW(vs::vswitchd::configFromFileText(deep), vs::vswitchd::ConfigFormatError);

    // Exactly at the limit is fine; one more is not. Brackets inside strings do not count.
    std::string at = std::string(vs::protocol::kMaxJsonDepth, '[') + std::string(vs::protocol::kMaxJsonDepth, ']');
    EXPECT_FALSE(vs::protocol::checkJsonDepth(at));
    EXPECT_TRUE(vs::protocol::checkJsonDepth("[" + at + "]"));
    EXPECT_FALSE(vs::protocol::checkJsonDepth(R"(["[[[[\"[[[[", "\\"])", 2));

    // A journal record that deep: refused at start with the journal named, not a crash.
    auto dir = vs::fuzz::fuzzScratchDir() / "deep";
    fs::remove_all(dir);
    fs::create_directories(dir);
    vs::fuzz::writeRaw(dir / "conf.json", R"({"format":"vswitch-config","version":1,"seq":0,"bridges":{}})");
    vs::fuzz::writeRaw(dir / "conf.json.journal", R"({"seq":1,"ops":)" + deep + "}\n");
    try {
        vs::vswitchd::ConfigStore::open(dir / "conf.json");
        ADD_FAILURE() << "a journal record nested " << depth << " deep was accepted";
    } catch (const vs::vswitchd::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("conf.json.journal is corrupt: record 1"), std::string::npos) << e.what();
    }
    fs::remove_all(dir);
}

// The other parsers of JSON that the daemon did not write: the flows file (CONFIG.flows, read at
// start) and a controller's messages (a line of up to 1 MiB; the controller channel allows 16
// levels). Each is refused with an error that says why, before RapidJSON recurses.
TEST(FuzzRegressions, DeepNestingInTheFlowsFileAndControllerLines) {
    std::string deep = std::string(1u << 20, '[') + std::string(1u << 20, ']');
    auto dir = vs::fuzz::fuzzScratchDir() / "deepflows";
    fs::remove_all(dir);
    fs::create_directories(dir);
    vs::fuzz::writeRaw(dir / "conf.json.flows",
                       R"({"format":"vswitch-flows","version":1,"bridges":{"br0":)" + deep + "}}");
    try {
        vs::vswitchd::FlowStore(dir / "conf.json.flows").load();
        ADD_FAILURE() << "a flows file nested 1M deep was accepted";
    } catch (const vs::vswitchd::ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("nesting deeper than 128 levels"), std::string::npos) << e.what();
    }
    fs::remove_all(dir);

    std::string line = std::string(100000, '[');  // what one hostile controller line can be
    auto got = vs::protocol::of::decode(line);
    auto* err = std::get_if<vs::protocol::of::DecodeError>(&got);
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(err->code, "bad_syntax");
    EXPECT_NE(err->message.find("nesting deeper than 16 levels at offset 16"), std::string::npos) << err->message;
}
