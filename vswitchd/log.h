// Logging for the daemon: leveled messages with UTC timestamps to stderr and/or a log file, plus a
// rate-limited variant for messages that a packet (or any remote peer) can trigger, so that a flood
// cannot fill the disk or slow the datapath.
//
//   vs::log::info("bridge {} created with {} ports", name, n);   // "{}" is replaced by each argument
//   static vs::log::RateLimiter rl(5, 20);                       // 5 messages/min, bursts of 20
//   vs::log::warnRl(rl, "dropped malformed frame on {}", port);
//
// Line format: `2024-05-01T12:00:00.123Z|warn|message` (one line; newlines in the message are
// replaced by spaces).
//
// Thread-safety: every function may be called from any thread. The level is an atomic; the output
// (file, console, sink) is written under one mutex. A RateLimiter is internally synchronised, so one
// static limiter per call site may be shared by all poll threads.
// Lifecycle: process-wide state, console output to stderr on by default, no file until
// setLogFile(). reopen() re-opens the file after logrotate moved it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace vs::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kErr = 3, kOff = 4 };

// "debug" | "info" | "warn" | "err" | "off" (also "warning", "error"); nullopt for anything else.
std::optional<Level> parseLevel(std::string_view name);
std::string_view levelName(Level level);

void setLevel(Level level);  // messages below `level` are dropped before formatting
Level level();
inline bool enabled(Level l) { return l >= level() && l != Level::kOff; }

// Opens `path` for appending (created 0640 if missing). Throws std::system_error on failure.
// An empty path closes the log file.
void setLogFile(const std::string& path);
void reopen();              // re-open the current log file (after rotation); errors go to stderr
void setConsole(bool on);   // write to stderr too (default: on)
// Test hook: every formatted line (without newline) is also passed to `sink`; nullptr removes it.
void setSink(std::function<void(Level, std::string_view line)> sink);

// Writes one already-formatted message at `l` (no level check beyond enabled()).
void write(Level l, std::string_view message);

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
void log(Level l, std::string_view fmt, const Args&... args) {
    if (!enabled(l)) return;
    write(l, format(fmt, args...));
}
template <class... Args> void debug(std::string_view f, const Args&... a) { log(Level::kDebug, f, a...); }
template <class... Args> void info(std::string_view f, const Args&... a) { log(Level::kInfo, f, a...); }
template <class... Args> void warn(std::string_view f, const Args&... a) { log(Level::kWarn, f, a...); }
template <class... Args> void err(std::string_view f, const Args&... a) { log(Level::kErr, f, a...); }

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
void logRl(RateLimiter& rl, Level l, std::string_view fmt, const Args&... args) {
    if (!enabled(l)) return;
    std::uint64_t suppressed = 0;
    if (!rl.allow(RateLimiter::Clock::now(), suppressed)) return;
    std::string msg = format(fmt, args...);
    if (suppressed) msg += format(" ({} similar messages suppressed)", suppressed);
    write(l, msg);
}
template <class... Args> void debugRl(RateLimiter& r, std::string_view f, const Args&... a) { logRl(r, Level::kDebug, f, a...); }
template <class... Args> void infoRl(RateLimiter& r, std::string_view f, const Args&... a) { logRl(r, Level::kInfo, f, a...); }
template <class... Args> void warnRl(RateLimiter& r, std::string_view f, const Args&... a) { logRl(r, Level::kWarn, f, a...); }
template <class... Args> void errRl(RateLimiter& r, std::string_view f, const Args&... a) { logRl(r, Level::kErr, f, a...); }

}  // namespace vs::log
