// Logging for the daemon, in the manner of Open vSwitch's vlog: each message belongs to one of a
// small fixed set of modules (the parts of the daemon, below) and has a level; each module has a
// level per destination (console = stderr, syslog, file), changed at run time by `vsappctl
// vlog/set` (docs/operations.md "Logs"). A rate-limited variant serves messages that a packet or
// a remote peer can trigger, so that a flood cannot fill the disk or slow the switch.
//
//   constexpr vs::log::Module kLog = vs::log::Module::kMgmt;    // once per file
//   vs::log::info(kLog, "bridge {} created with {} ports", name, n);   // "{}": each argument
//   static vs::log::RateLimiter rl(5, 20);                       // 5 messages/min, bursts of 20
//   vs::log::warnRl(kLog, rl, "dropped malformed frame on {}", port);
//
// Line format (console and file): `2024-05-01T12:00:00.123Z|mgmt|warn|message`; syslog gets
// `mgmt|warn|message` with its own header (RFC 3164). Newlines in a message become spaces.
//
// Thread-safety: every function may be called from any thread. Levels and the destinations'
// on/off state are atomics (a disabled message costs a few loads, no formatting); the output is
// written under one mutex. A RateLimiter is internally synchronised (one static per call site).
// Lifecycle: process-wide state; console on, file and syslog off until setLogFile()/setSyslog();
// every level starts at info. reopen() re-opens the file after logrotate moved it.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vs::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kErr = 3, kOff = 4 };

// The modules: where in the daemon a message comes from. datapath/ and ofproto/ log nothing
// themselves (they count events in coverage/show); ofproto's reports (xlate over budget) are
// logged under "ofproto" by the daemon.
#define VS_LOG_MODULES(X)                                                   \
    X(kBond, "bond")             /* bonds and LACP (reconciler_bond, bond driver) */ \
    X(kBridge, "bridge")         /* bridges, ports, interfaces (reconciler) */       \
    X(kConfig, "config")         /* config store, journal, flow persistence */       \
    X(kController, "controller") /* controller connections, fail modes */            \
    X(kDaemon, "daemon")         /* start, stop, signals */                          \
    X(kMetrics, "metrics")       /* the Prometheus endpoint */                       \
    X(kMgmt, "mgmt")             /* the management socket and its clients */         \
    X(kNetlink, "netlink")       /* the link monitor */                              \
    X(kOfproto, "ofproto")       /* the switch layer's reports */                    \
    X(kOvsdb, "ovsdb")           /* the OVSDB server (Open_vSwitch schema) */

enum class Module : int {
#define VS_LOG_ENUM(id, name) id,
    VS_LOG_MODULES(VS_LOG_ENUM)
#undef VS_LOG_ENUM
};
#define VS_LOG_COUNT(id, name) +1
inline constexpr int kModuleCount = 0 VS_LOG_MODULES(VS_LOG_COUNT);
#undef VS_LOG_COUNT

enum class Dest : int { kConsole = 0, kSyslog = 1, kFile = 2 };
inline constexpr int kDestCount = 3;

// "debug" (also "dbg") | "info" | "warn" (also "warning") | "err" (also "error") | "off";
// case-insensitive; nullopt for anything else.
std::optional<Level> parseLevel(std::string_view name);
std::string_view levelName(Level level);
std::optional<Module> parseModule(std::string_view name);  // case-insensitive
std::string_view moduleName(Module m);
std::optional<Dest> parseDest(std::string_view name);      // console | syslog | file
std::string_view destName(Dest d);

// One `vlog/set` spec, Open vSwitch's syntax: words separated by ':' (or ','), in any order,
// each a module name, a destination, a level, or "any"; at most one of each kind. A missing
// module or destination means all of them ("any"); a missing level means debug, as in Open
// vSwitch. Examples: "mgmt:debug", "mgmt:file:debug", "any:syslog:warn", "info".
struct LevelSpec {
    std::optional<Module> module;  // nullopt: every module
    std::optional<Dest> dest;      // nullopt: every destination
    Level level = Level::kDebug;
};
// Throws std::invalid_argument naming the bad word ("no module, destination or level 'x' in
// 'x:debug'") or the repeated kind ("two levels in 'info:debug'").
LevelSpec parseSpec(std::string_view spec);
void apply(const LevelSpec& spec);

void setLevel(Level level);  // every module, every destination (--log-level LEVEL)
Level level(Module m, Dest d);
// True if a message of `m` at `l` would reach at least one active destination.
bool enabled(Module m, Level l);

// Opens `path` for appending (created 0640 if missing). Throws std::system_error on failure.
// An empty path closes the log file.
void setLogFile(const std::string& path);
std::string logFile();  // "" when there is none
// Re-opens the current log file (after rotation). Returns the problem (no file configured, or
// the open failed: the old file stays in use), or nullopt.
std::optional<std::string> reopen();
void setConsole(bool on);  // write to stderr (default: on)
bool console();
// Syslog output: "libc" (syslog(3): /dev/log, facility daemon, ident "vswitchd") or
// "unix:PATH" (RFC 3164 datagrams sent to the AF_UNIX socket PATH, as Open vSwitch's
// --syslog-method=unix:PATH); "" turns syslog output off. Throws std::invalid_argument for any
// other method.
void setSyslog(const std::string& method);
std::string syslogMethod();  // "" when off

// Writes one already-formatted message of module `m` at `l` to each destination whose level
// lets it through.
void write(Module m, Level l, std::string_view message);

namespace detail {
inline void formatTo(std::ostringstream& os, std::string_view fmt) { os << fmt; }
template <class T, class... Rest>
void formatTo(std::ostringstream& os, std::string_view fmt, const T& first, const Rest&... rest) {
    auto pos = fmt.find("{}");
    if (pos == std::string_view::npos) {  // more arguments than placeholders: append them
        os << fmt << ' ' << first;
        if constexpr (sizeof...(rest) > 0) formatTo(os, "", rest...);
        return;
    }
    os << fmt.substr(0, pos) << first;
    formatTo(os, fmt.substr(pos + 2), rest...);
}
}  // namespace detail

// Replaces each "{}" in `fmt`, left to right, by the next argument (streamed with operator<<).
template <class... Args>
std::string format(std::string_view fmt, const Args&... args) {
    std::ostringstream os;
    detail::formatTo(os, fmt, args...);
    return os.str();
}

template <class... Args>
void log(Module m, Level l, std::string_view fmt, const Args&... args) {
    if (!enabled(m, l)) return;
    write(m, l, format(fmt, args...));
}
template <class... Args> void debug(Module m, std::string_view f, const Args&... a) { log(m, Level::kDebug, f, a...); }
template <class... Args> void info(Module m, std::string_view f, const Args&... a) { log(m, Level::kInfo, f, a...); }
template <class... Args> void warn(Module m, std::string_view f, const Args&... a) { log(m, Level::kWarn, f, a...); }
template <class... Args> void err(Module m, std::string_view f, const Args&... a) { log(m, Level::kErr, f, a...); }

// Token bucket: `perMinute` messages per minute on average, at most `burst` at once (as Open
// vSwitch's VLOG_RATE_LIMIT_INIT). Counts what it suppressed; the next allowed message reports it.
class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;
    RateLimiter(unsigned perMinute, unsigned burst);
    // True if a message may be logged at `now`; `suppressed` receives the number of messages
    // suppressed since the last allowed one (and is reset).
    bool allow(Clock::time_point now, std::uint64_t& suppressed);

private:
    std::mutex mu_;
    double tokens_;
    double perMinute_;
    double burst_;
    std::optional<Clock::time_point> last_;
    std::uint64_t suppressed_ = 0;
};

template <class... Args>
void logRl(Module m, RateLimiter& rl, Level l, std::string_view fmt, const Args&... args) {
    if (!enabled(m, l)) return;
    std::uint64_t suppressed = 0;
    if (!rl.allow(RateLimiter::Clock::now(), suppressed)) return;
    std::string msg = format(fmt, args...);
    if (suppressed) msg += format(" ({} similar messages suppressed)", suppressed);
    write(m, l, msg);
}
template <class... Args> void debugRl(Module m, RateLimiter& r, std::string_view f, const Args&... a) { logRl(m, r, Level::kDebug, f, a...); }
template <class... Args> void infoRl(Module m, RateLimiter& r, std::string_view f, const Args&... a) { logRl(m, r, Level::kInfo, f, a...); }
template <class... Args> void warnRl(Module m, RateLimiter& r, std::string_view f, const Args&... a) { logRl(m, r, Level::kWarn, f, a...); }
template <class... Args> void errRl(Module m, RateLimiter& r, std::string_view f, const Args&... a) { logRl(m, r, Level::kErr, f, a...); }

}  // namespace vs::log
