#include "vswitchd/log.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace vs::log {
namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

constexpr std::string_view kModuleNames[] = {
#define VS_LOG_NAME(id, name) name,
    VS_LOG_MODULES(VS_LOG_NAME)
#undef VS_LOG_NAME
};
constexpr std::string_view kDestNames[] = {"console", "syslog", "file"};

struct State {
    std::mutex mu;
    FilePtr file;
    std::string path;
    std::string syslog_method;  // "", "libc" or "unix:PATH"
    int syslog_fd = -1;         // the datagram socket for unix:PATH
};

// Levels per module and destination, and which destinations are active: read without the lock.
struct Levels {
    std::atomic<int> level[kModuleCount][kDestCount];
    std::atomic<bool> active[kDestCount];
    Levels() {
        for (auto& m : level)
            for (auto& d : m) d.store(static_cast<int>(Level::kInfo));
        for (auto& a : active) a.store(false);
        active[static_cast<int>(Dest::kConsole)].store(true);
    }
};

Levels& levels() {
    static Levels l;  // function-local: usable from static initialisers
    return l;
}

State& state() {
    static State s;  // intentionally function-local: usable from static initialisers
    return s;
}

bool active(Dest d) { return levels().active[static_cast<int>(d)].load(std::memory_order_relaxed); }
bool passes(Module m, Dest d, Level l) {
    return l != Level::kOff && active(d) &&
           static_cast<int>(l) >= levels().level[static_cast<int>(m)][static_cast<int>(d)].load(std::memory_order_relaxed);
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

int syslogPriority(Level l) {
    switch (l) {
        case Level::kDebug: return LOG_DEBUG;
        case Level::kInfo: return LOG_INFO;
        case Level::kWarn: return LOG_WARNING;
        default: return LOG_ERR;
    }
}

// RFC 3164 section 4.1: "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG", local time, facility daemon.
void sendUnixSyslog(State& s, Level l, std::string_view body) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char head[64];
    std::size_t n = std::strftime(head, sizeof head, "%b %e %H:%M:%S", &tm);
    std::string msg = "<" + std::to_string(LOG_DAEMON | syslogPriority(l)) + ">" + std::string(head, n) +
                      " vswitchd[" + std::to_string(::getpid()) + "]: ";
    msg += body;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = s.syslog_method.substr(5);
    std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof addr.sun_path - 1));
    // Lost if nobody listens (as syslog(3) loses it); never blocks the daemon.
    (void)::sendto(s.syslog_fd, msg.data(), msg.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view raw) {
    const std::string name = lower(raw);
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

std::optional<Module> parseModule(std::string_view raw) {
    const std::string name = lower(raw);
    for (int i = 0; i < kModuleCount; ++i)
        if (kModuleNames[i] == name) return static_cast<Module>(i);
    return std::nullopt;
}
std::string_view moduleName(Module m) { return kModuleNames[static_cast<int>(m)]; }

std::optional<Dest> parseDest(std::string_view raw) {
    const std::string name = lower(raw);
    for (int i = 0; i < kDestCount; ++i)
        if (kDestNames[i] == name) return static_cast<Dest>(i);
    return std::nullopt;
}
std::string_view destName(Dest d) { return kDestNames[static_cast<int>(d)]; }

LevelSpec parseSpec(std::string_view spec) {
    LevelSpec out;
    bool haveModule = false, haveDest = false, haveLevel = false;
    auto twice = [&](const char* what) {
        return std::invalid_argument(std::string("two ") + what + " in '" + std::string(spec) + "'");
    };
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        std::size_t end = spec.find_first_of(":,", pos);
        if (end == std::string_view::npos) end = spec.size();
        std::string_view word = spec.substr(pos, end - pos);
        pos = end + 1;
        if (word.empty()) throw std::invalid_argument("empty word in log level spec '" + std::string(spec) + "'");
        if (lower(word) == "any") continue;
        if (auto d = parseDest(word)) {
            if (haveDest) throw twice("destinations");
            haveDest = true, out.dest = d;
        } else if (auto l = parseLevel(word)) {
            if (haveLevel) throw twice("levels");
            haveLevel = true, out.level = *l;
        } else if (auto m = parseModule(word)) {
            if (haveModule) throw twice("modules");
            haveModule = true, out.module = m;
        } else {
            throw std::invalid_argument("no module, destination or level '" + std::string(word) + "' in '" +
                                        std::string(spec) + "'");
        }
    }
    return out;
}

void apply(const LevelSpec& spec) {
    for (int m = 0; m < kModuleCount; ++m) {
        if (spec.module && static_cast<int>(*spec.module) != m) continue;
        for (int d = 0; d < kDestCount; ++d)
            if (!spec.dest || static_cast<int>(*spec.dest) == d)
                levels().level[m][d].store(static_cast<int>(spec.level), std::memory_order_relaxed);
    }
}

void setLevel(Level l) { apply(LevelSpec{std::nullopt, std::nullopt, l}); }

Level level(Module m, Dest d) {
    return static_cast<Level>(levels().level[static_cast<int>(m)][static_cast<int>(d)].load(std::memory_order_relaxed));
}

bool enabled(Module m, Level l) {
    return passes(m, Dest::kConsole, l) || passes(m, Dest::kFile, l) || passes(m, Dest::kSyslog, l);
}

void setLogFile(const std::string& path) {
    FilePtr f = path.empty() ? FilePtr() : openAppend(path);
    State& s = state();
    std::lock_guard lock(s.mu);
    s.file = std::move(f);
    s.path = path;
    levels().active[static_cast<int>(Dest::kFile)] = static_cast<bool>(s.file);
}

std::string logFile() {
    State& s = state();
    std::lock_guard lock(s.mu);
    return s.path;
}

std::optional<std::string> reopen() {
    State& s = state();
    std::lock_guard lock(s.mu);
    if (s.path.empty()) return "no log file is configured (--log-file)";
    try {
        s.file = openAppend(s.path);
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "%s|daemon|err|%s\n", timestamp().c_str(), e.what());
        return std::string(e.what()) + " (still writing to the old file)";
    }
    return std::nullopt;
}

void setConsole(bool on) { levels().active[static_cast<int>(Dest::kConsole)] = on; }
bool console() { return active(Dest::kConsole); }

void setSyslog(const std::string& method) {
    if (!method.empty() && method != "libc" && (method.rfind("unix:", 0) != 0 || method.size() == 5))
        throw std::invalid_argument("bad syslog method '" + method + "': expected libc or unix:PATH");
    if (method.size() > 5 + sizeof(sockaddr_un::sun_path) - 1)
        throw std::invalid_argument("syslog socket path too long: " + method.substr(5));
    State& s = state();
    std::lock_guard lock(s.mu);
    if (s.syslog_fd >= 0) ::close(s.syslog_fd);
    s.syslog_fd = -1;
    if (s.syslog_method == "libc") ::closelog();
    if (method == "libc") ::openlog("vswitchd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    if (method.rfind("unix:", 0) == 0) {
        s.syslog_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s.syslog_fd < 0) throw std::system_error(errno, std::generic_category(), "syslog socket");
    }
    s.syslog_method = method;
    levels().active[static_cast<int>(Dest::kSyslog)] = !method.empty();
}

std::string syslogMethod() {
    State& s = state();
    std::lock_guard lock(s.mu);
    return s.syslog_method;
}

void write(Module m, Level l, std::string_view message) {
    const bool toConsole = passes(m, Dest::kConsole, l), toFile = passes(m, Dest::kFile, l),
               toSyslog = passes(m, Dest::kSyslog, l);
    if (!toConsole && !toFile && !toSyslog) return;
    std::string body(moduleName(m));
    body += '|';
    body += levelName(l);
    body += '|';
    body += message;
    std::replace(body.begin(), body.end(), '\n', ' ');
    const std::string line = timestamp() + "|" + body;
    State& s = state();
    std::lock_guard lock(s.mu);
    if (toConsole) std::fprintf(stderr, "%s\n", line.c_str());
    if (toFile && s.file) {
        std::fprintf(s.file.get(), "%s\n", line.c_str());
        std::fflush(s.file.get());
    }
    if (toSyslog && s.syslog_method == "libc") ::syslog(syslogPriority(l), "%s", body.c_str());
    else if (toSyslog && s.syslog_fd >= 0) sendUnixSyslog(s, l, body);
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
