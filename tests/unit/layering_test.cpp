// The layers above the datapath reach it only through dp::Dpif (datapath/dpif.h): no source file
// in ofproto/, vswitchd/ or utilities/ includes the concrete datapath's headers. CMake's link
// rules keep datapath/ from seeing the layers above; this keeps the layers above from seeing the
// datapath's inside.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

fs::path sourceDir() {
    if (const char* src = std::getenv("VSWITCH_SOURCE_DIR")) return src;
    return fs::path(__FILE__).parent_path().parent_path().parent_path();  // tests/unit/../..
}

// Headers of the datapath's implementation; everything else in datapath/ (packets, flow keys,
// actions, ports, dpif.h) is the vocabulary the layers share.
const std::vector<std::string> kInternal = {"datapath/datapath.h", "datapath/poll_thread.h", "datapath/rx_ring.h"};

std::vector<std::string> offenders(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        auto ext = e.path().extension();
        if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
        std::ifstream in(e.path());
        for (std::string line; std::getline(in, line);)
            for (const auto& h : kInternal)
                if (line.starts_with("#include") && line.find("\"" + h + "\"") != std::string::npos)
                    out.push_back(e.path().string() + ": " + line);
    }
    return out;
}

TEST(LayeringTest, LayersAboveTheDatapathIncludeOnlyItsInterface) {
    for (const char* layer : {"ofproto", "vswitchd", "utilities"}) {
        fs::path dir = sourceDir() / layer;
        ASSERT_TRUE(fs::is_directory(dir)) << dir << " (set VSWITCH_SOURCE_DIR)";
        EXPECT_EQ(offenders(dir), std::vector<std::string>{}) << layer << " reaches past datapath/dpif.h";
    }
}

TEST(LayeringTest, TheCheckFindsAnInclude) {
    fs::path dir = fs::temp_directory_path() / ("vs-layering-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "x.cpp") << "#include \"datapath/poll_thread.h\"\n";
    EXPECT_EQ(offenders(dir).size(), 1u);
    fs::remove_all(dir);
}

}  // namespace
