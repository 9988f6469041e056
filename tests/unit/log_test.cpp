// vswitchd/log.h: the vlog/set spec parser (Open vSwitch's syntax), per-module and
// per-destination levels, the file destination and reopen(), the unix:PATH syslog destination.
#include "vswitchd/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace vs::log {
namespace {

std::string specError(std::string_view spec) {
    try {
        parseSpec(spec);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(LogSpec, WordsInAnyOrder) {
    LevelSpec s = parseSpec("mgmt:file:debug");
    EXPECT_EQ(s.module, Module::kMgmt);
    EXPECT_EQ(s.dest, Dest::kFile);
    EXPECT_EQ(s.level, Level::kDebug);
    s = parseSpec("warn:SYSLOG:Controller");  // any order, case-insensitive
    EXPECT_EQ(s.module, Module::kController);
    EXPECT_EQ(s.dest, Dest::kSyslog);
    EXPECT_EQ(s.level, Level::kWarn);
}

TEST(LogSpec, MissingPartsMeanAnyAndDebug) {
    LevelSpec s = parseSpec("mgmt:info");
    EXPECT_EQ(s.module, Module::kMgmt);
    EXPECT_FALSE(s.dest) << "no destination: every destination";
    s = parseSpec("ANY:console:off");
    EXPECT_FALSE(s.module) << "ANY: every module";
    EXPECT_EQ(s.dest, Dest::kConsole);
    EXPECT_EQ(s.level, Level::kOff);
    s = parseSpec("bond");
    EXPECT_EQ(s.level, Level::kDebug) << "no level: debug, as in Open vSwitch";
    s = parseSpec("err");
    EXPECT_FALSE(s.module);
    EXPECT_FALSE(s.dest);
    s = parseSpec("config,file,dbg");  // ',' separates too; dbg is Open vSwitch's name
    EXPECT_EQ(s.module, Module::kConfig);
    EXPECT_EQ(s.level, Level::kDebug);
}

TEST(LogSpec, ErrorsNameTheProblem) {
    EXPECT_EQ(specError("nosuch:debug"), "no module, destination or level 'nosuch' in 'nosuch:debug'");
    EXPECT_EQ(specError("mgmt:loud"), "no module, destination or level 'loud' in 'mgmt:loud'");
    EXPECT_EQ(specError("mgmt:info:debug"), "two levels in 'mgmt:info:debug'");
    EXPECT_EQ(specError("mgmt:bond"), "two modules in 'mgmt:bond'");
    EXPECT_EQ(specError("file:console:info"), "two destinations in 'file:console:info'");
    EXPECT_EQ(specError("mgmt::info"), "empty word in log level spec 'mgmt::info'");
    EXPECT_EQ(specError(""), "empty word in log level spec ''");
}

TEST(LogSpec, NamesRoundTrip) {
    for (int m = 0; m < kModuleCount; ++m) EXPECT_EQ(parseModule(moduleName(Module(m))), Module(m));
    for (int d = 0; d < kDestCount; ++d) EXPECT_EQ(parseDest(destName(Dest(d))), Dest(d));
    for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kErr, Level::kOff})
        EXPECT_EQ(parseLevel(levelName(l)), l);
}

// The process-wide state: each test leaves it as it found it (console on, info, no file).
class LogOutput : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("vslogtest" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        setConsole(false);
    }
    void TearDown() override {
        setLogFile("");
        setSyslog("");
        setConsole(true);
        setLevel(Level::kInfo);
        std::filesystem::remove_all(dir_);
    }
    static std::string slurp(const std::filesystem::path& p) {
        std::ifstream f(p);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    std::filesystem::path dir_;
};

TEST_F(LogOutput, PerModuleAndDestinationLevels) {
    setLogFile((dir_ / "a.log").string());
    EXPECT_FALSE(enabled(Module::kMgmt, Level::kDebug));
    debug(Module::kMgmt, "hidden {}", 1);
    apply(parseSpec("mgmt:file:debug"));
    EXPECT_TRUE(enabled(Module::kMgmt, Level::kDebug));
    EXPECT_FALSE(enabled(Module::kBond, Level::kDebug)) << "other modules keep their level";
    EXPECT_EQ(level(Module::kMgmt, Dest::kConsole), Level::kInfo) << "other destinations keep theirs";
    debug(Module::kMgmt, "shown {}", 2);
    debug(Module::kBond, "hidden {}", 3);
    std::string text = slurp(dir_ / "a.log");
    EXPECT_EQ(text.find("hidden"), std::string::npos) << text;
    EXPECT_NE(text.find("|mgmt|debug|shown 2\n"), std::string::npos) << text;
    apply(parseSpec("any:any:off"));
    EXPECT_FALSE(enabled(Module::kMgmt, Level::kErr));
}

TEST_F(LogOutput, ReopenFollowsRotation) {
    EXPECT_TRUE(reopen().has_value()) << "no file configured is an error";
    const auto path = dir_ / "v.log";
    setLogFile(path.string());
    info(Module::kDaemon, "before");
    std::filesystem::rename(path, dir_ / "v.log.1");
    info(Module::kDaemon, "still the old file");
    EXPECT_EQ(reopen(), std::nullopt);
    info(Module::kDaemon, "after");
    EXPECT_NE(slurp(dir_ / "v.log.1").find("still the old file"), std::string::npos);
    EXPECT_NE(slurp(path).find("|daemon|info|after"), std::string::npos);
    EXPECT_EQ(slurp(path).find("before"), std::string::npos);
}

TEST_F(LogOutput, UnixSyslogSendsRfc3164Datagrams) {
    const auto path = dir_ / "log.sock";
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_THROW(setSyslog("udp:1.2.3.4"), std::invalid_argument);
    setSyslog("unix:" + path.string());
    warn(Module::kController, "controller {} gone", "tcp:x");
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    ::close(fd);
    ASSERT_GT(n, 0);
    std::string msg(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(msg.rfind("<28>", 0), 0u) << msg;  // facility daemon (3) * 8 + warning (4)
    EXPECT_NE(msg.find(" vswitchd[" + std::to_string(::getpid()) + "]: controller|warn|controller tcp:x gone"),
              std::string::npos)
        << msg;
}

TEST(LogRateLimiter, SuppressesAndCounts) {
    RateLimiter rl(60, 2);  // one a second, bursts of 2
    auto t = RateLimiter::Clock::now();
    std::uint64_t suppressed = 0;
    EXPECT_TRUE(rl.allow(t, suppressed));
    EXPECT_TRUE(rl.allow(t, suppressed));
    EXPECT_FALSE(rl.allow(t, suppressed));
    EXPECT_FALSE(rl.allow(t, suppressed));
    EXPECT_TRUE(rl.allow(t + std::chrono::seconds(1), suppressed));
    EXPECT_EQ(suppressed, 2u);
}

}  // namespace
}  // namespace vs::log
