#include "vswitchd/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>
#include <system_error>

namespace vs::log {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct State {
    std::mutex mu;
    FilePtr file;
    std::string path;
    bool console = true;
    std::function<void(Level, std::string_view)> sink;
};

std::atomic<int> gLevel{static_cast<int>(Level::kInfo)};

State& state() {
    static State s;  // intentionally function-local: usable from static initialisers
    return s;
}

FilePtr openAppend(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open log file " + path);
    FilePtr f(::fdopen(fd, "a"));
    if (!f) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(), "cannot open log file " + path);
    }
    return f;
}

std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
    if (name == "debug" || name == "dbg") return Level::kDebug;
    if (name == "info") return Level::kInfo;
    if (name == "warn" || name == "warning") return Level::kWarn;
    if (name == "err" || name == "error") return Level::kErr;
    if (name == "off") return Level::kOff;
    return std::nullopt;
}

std::string_view levelName(Level level) {
    switch (level) {
        case Level::kDebug: return "debug";
        case Level::kInfo: return "info";
        case Level::kWarn: return "warn";
        case Level::kErr: return "err";
        case Level::kOff: return "off";
    }
    return "?";
}

void setLevel(Level l) { gLevel.store(static_cast<int>(l), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(gLevel.load(std::memory_order_relaxed)); }

void setLogFile(const std::string& path) {
    FilePtr f = path.empty() ? FilePtr() : openAppend(path);
    State& s = state();
    std::lock_guard lock(s.mu);
    s.file = std::move(f);
    s.path = path;
}

void reopen() {
    State& s = state();
    std::lock_guard lock(s.mu);
    if (s.path.empty()) return;
    try {
        s.file = openAppend(s.path);
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "%s|err|%s\n", timestamp().c_str(), e.what());
    }
}

void setConsole(bool on) {
    State& s = state();
    std::lock_guard lock(s.mu);
    s.console = on;
}

void setSink(std::function<void(Level, std::string_view)> sink) {
    State& s = state();
    std::lock_guard lock(s.mu);
    s.sink = std::move(sink);
}

void write(Level l, std::string_view message) {
    if (!enabled(l)) return;
    std::string line = timestamp();
    line += '|';
    line += levelName(l);
    line += '|';
    line += message;
    std::replace(line.begin(), line.end(), '\n', ' ');
    State& s = state();
    std::lock_guard lock(s.mu);
    if (s.console) std::fprintf(stderr, "%s\n", line.c_str());
    if (s.file) {
        std::fprintf(s.file.get(), "%s\n", line.c_str());
        std::fflush(s.file.get());
    }
    if (s.sink) s.sink(l, line);
}

RateLimiter::RateLimiter(unsigned perMinute, unsigned burst)
    : tokens_(std::max(1u, burst)), perMinute_(perMinute), burst_(std::max(1u, burst)) {}

bool RateLimiter::allow(Clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(mu_);
    if (last_ && now > *last_) {
        double minutes = std::chrono::duration<double, std::ratio<60>>(now - *last_).count();
        tokens_ = std::min(burst_, tokens_ + minutes * perMinute_);
    }
    if (!last_ || now > *last_) last_ = now;
    if (tokens_ < 1.0) {
        ++suppressed_;
        return false;
    }
    tokens_ -= 1.0;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
}

}  // namespace vs::log
