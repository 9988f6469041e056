// vswitchd: the switch daemon. See docs/operations.md and `vswitchd --help`.
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "vswitchd/daemon.h"
#include "vswitchd/service_notify.h"
#include "vswitchd/log.h"
#include "vswitchd/metrics_server.h"
#include "vswitchd/ovsdb_server.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kDaemon;  // vlog/set module
}

namespace {

using namespace vs::vswitchd;

struct Args {
    DaemonOptions opts;
    std::string pidfile;
    std::string log_file;
    std::vector<std::string> log_specs;  // --log-level, in order (vs::log::parseSpec)
    std::string syslog;                  // --syslog / --syslog-method: "libc" or "unix:PATH"
    bool detach = false;
};

const char* kUsage =
    "usage: vswitchd [OPTIONS]\n"
    "  --config FILE      persisted configuration (default /etc/vswitch/conf.json)\n"
    "  --socket PATH      management socket (default /run/vswitch/vswitchd.sock), mode 0660\n"
    "  --socket-group GROUP  the socket's group (name or number): its members may use the tools\n"
    "                     without root (default: root's group)\n"
    "  --pidfile FILE     write the daemon's pid here\n"
    "  --log-file FILE    append log lines here (reopened on SIGHUP and vlog/reopen)\n"
    "  --log-level SPEC   debug|info|warn|err|off for every module and destination (default\n"
    "                     info), or a vlog/set spec MODULE[:DEST]:LEVEL (DEST console|syslog|\n"
    "                     file); may be repeated, applied in order (docs/operations.md)\n"
    "  --syslog           also log to syslog (syslog(3): /dev/log, the journal's too)\n"
    "  --syslog-method METHOD  libc (syslog(3), the default) or unix:PATH (datagrams to the\n"
    "                     AF_UNIX socket PATH); implies --syslog\n"
    "  --poll-threads N   datapath poll threads, 1..16 (default 2, 1 on a 1-CPU host)\n"
    "  --busy-poll-us US  keep polling US microseconds after the last frame, 0..1000 (default 50)\n"
    "  --rx-ring-mb MB    memory for busy ports' receive rings, 0..4096 (default 32: 64 ports;\n"
    "                     0: every port uses recvmmsg)\n"
    "  --rx-ring-min-pps PPS  receive rate (frames/s) that earns a port a ring, 1..10000000\n"
    "                     (default 20000)\n"
    "  --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR: a\n"
    "                     numeric IPv4 address or [IPv6]; default 127.0.0.1; off by default;\n"
    "                     see docs/metrics.md)\n"
    "  --remote punix:PATH | ptcp:[PORT][:IP]  serve OVSDB (RFC 7047: Open vSwitch's ovs-vsctl,\n"
    "                     ovsdb-client) on a Unix socket or TCP (port 6640, all addresses by\n"
    "                     default); repeatable; default db.sock beside the management socket\n"
    "                     (docs/ovsdb.md)\n"
    "  --detach           run in the background once ready\n"
    "  -h, --help, --version\n"
    "Options may be given as --name VALUE or --name=VALUE, and abbreviated (--log-l).\n";

unsigned parseCount(const std::string& flag, const std::string& v, unsigned lo, unsigned hi) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi)
        throw std::invalid_argument("bad " + flag + " '" + v + "': expected a number from " + std::to_string(lo) +
                                    " to " + std::to_string(hi));
    return n;
}

// A group name or number, checked to exist (a typo must not leave the socket unusable).
gid_t groupId(const std::string& name) {
    if (name.empty()) throw std::invalid_argument("--socket-group needs a group name or number");
    std::vector<char> buf(16384);
    group g{};
    group* found = nullptr;
    bool numeric = name.find_first_not_of("0123456789") == std::string::npos;
    int rc = numeric ? ::getgrgid_r(static_cast<gid_t>(std::stoul(name)), &g, buf.data(), buf.size(), &found)
                     : ::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found);
    if (rc != 0) throw std::invalid_argument("--socket-group " + name + ": " + std::strerror(rc));
    if (!found) throw std::invalid_argument("--socket-group: no such group '" + name + "'");
    return found->gr_gid;
}

enum OptionId {
    kHelp = 0x100, kVersion, kDetach, kConfig, kSocket, kSocketGroup, kPidfile, kLogFile, kLogLevel, kSyslog, kSyslogMethod, kPollThreads,
    kBusyPollUs, kRxRingMb, kRxRingMinPps, kMetrics, kRemote,
};

constexpr option kOptions[] = {
    {"help", no_argument, nullptr, kHelp},
    {"version", no_argument, nullptr, kVersion},
    {"detach", no_argument, nullptr, kDetach},
    {"config", required_argument, nullptr, kConfig},
    {"socket", required_argument, nullptr, kSocket},
    {"socket-group", required_argument, nullptr, kSocketGroup},
    {"pidfile", required_argument, nullptr, kPidfile},
    {"log-file", required_argument, nullptr, kLogFile},
    {"log-level", required_argument, nullptr, kLogLevel},
    {"syslog", no_argument, nullptr, kSyslog},
    {"syslog-method", required_argument, nullptr, kSyslogMethod},
    {"poll-threads", required_argument, nullptr, kPollThreads},
    {"busy-poll-us", required_argument, nullptr, kBusyPollUs},
    {"rx-ring-mb", required_argument, nullptr, kRxRingMb},
    {"rx-ring-min-pps", required_argument, nullptr, kRxRingMinPps},
    {"metrics", required_argument, nullptr, kMetrics},
    {"remote", required_argument, nullptr, kRemote},
    {nullptr, 0, nullptr, 0},
};

std::string optionName(int id) {
    for (const option& o : kOptions)
        if (o.name && o.val == id) return std::string("--") + o.name;
    return "?";
}

// Options by getopt_long (options only, no operands; long names may be abbreviated). Returns
// nullopt after printing --help or --version.
std::optional<Args> parseArgs(int argc, char** argv) {
    Args a;
    optind = 0;
    opterr = 0;  // the messages below name the option and say what is wrong
    for (;;) {
        int c = ::getopt_long(argc, argv, "-:h", kOptions, nullptr);
        if (c == -1) break;
        const std::string v = optarg ? optarg : "";
        switch (c) {
        case 1: throw std::invalid_argument("unexpected argument '" + v + "' (vswitchd takes options only; see --help)");
        case ':': throw std::invalid_argument(optionName(optopt) + " needs a value");
        case '?':
            if (optopt >= kHelp) throw std::invalid_argument(optionName(optopt) + " takes no value");
            if (optopt) throw std::invalid_argument(std::string("unknown option '-") + static_cast<char>(optopt) + "' (see --help)");
            throw std::invalid_argument("unknown option '" + std::string(argv[optind - 1]).substr(0, std::string(argv[optind - 1]).find('=')) +
                                        "' (see --help; an abbreviation must be unambiguous)");
        case 'h': case kHelp: std::cout << kUsage; return std::nullopt;
        case kVersion: std::cout << "vswitchd " << VSWITCH_VERSION << "\n"; return std::nullopt;
        case kDetach: a.detach = true; break;
        case kConfig: a.opts.config = v; break;
        case kSocket: a.opts.socket = v; break;
        case kSocketGroup: a.opts.socket_group = groupId(v); break;
        case kPidfile: a.pidfile = v; break;
        case kLogFile: a.log_file = v; break;
        case kLogLevel: a.log_specs.push_back(v); break;
        case kSyslog: if (a.syslog.empty()) a.syslog = "libc"; break;
        case kSyslogMethod: a.syslog = v; break;
        case kPollThreads: a.opts.poll_threads = parseCount("--poll-threads", v, 1, 16); break;
        case kBusyPollUs: a.opts.busy_poll_us = parseCount("--busy-poll-us", v, 0, 1000); break;
        case kRxRingMb: a.opts.rx_ring_mb = parseCount("--rx-ring-mb", v, 0, 4096); break;
        case kRxRingMinPps: a.opts.rx_ring_min_pps = parseCount("--rx-ring-min-pps", v, 1, 10000000); break;
        case kMetrics: parseMetricsAddress(v); a.opts.metrics = v; break;  // checked now, bound at start
        case kRemote: parseOvsdbRemote(v); a.opts.remotes.push_back(v); break;
        default: throw std::invalid_argument("internal error: option " + std::to_string(c) + " not handled");
        }
    }
    for (const auto& spec : a.log_specs) {
        try {
            vs::log::parseSpec(spec);
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(std::string("bad --log-level: ") + e.what());
        }
    }
    return a;
}

void writePidfile(const std::string& path) {
    if (path.empty()) return;
    std::ofstream f(path, std::ios::trunc);
    f << ::getpid() << "\n";
    if (!f) throw std::runtime_error("cannot write pidfile " + path);
}

// Runs the daemon. `ready_fd` (>= 0 when detached) gets one byte once the daemon serves requests,
// or the error text if it could not start.
int runDaemon(const Args& a, int ready_fd) {
    boost::asio::io_context io;
    std::optional<Daemon> daemon;
    try {
        daemon.emplace(io, a.opts);
        daemon->start();
        writePidfile(a.pidfile);
    } catch (const std::exception& e) {
        std::string msg = std::string("vswitchd: ") + e.what() + "\n";
        vs::log::err(kLog, "{}", e.what());
        if (ready_fd >= 0) (void)!::write(ready_fd, msg.data(), msg.size());
        else std::cerr << msg;
        return 1;
    }
    service::notifyReady("serving " + a.opts.socket.string());  // after the pidfile: MAINPID is known
    if (ready_fd >= 0) {
        (void)!::write(ready_fd, "", 1);
        ::close(ready_fd);
        int devnull = ::open("/dev/null", O_RDWR);
        if (devnull >= 0) { ::dup2(devnull, 0); ::dup2(devnull, 1); ::dup2(devnull, 2); ::close(devnull); }
        vs::log::setConsole(false);
    }
    boost::asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> onSignal = [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
            service::notifyReloading();
            if (!vs::log::logFile().empty())  // the file after logrotate moved it
                if (auto problem = vs::log::reopen()) vs::log::err(kLog, "SIGHUP: {}", *problem);
            service::notifyReady("serving " + a.opts.socket.string());
            signals.async_wait(onSignal);
            return;
        }
        service::notifyStopping();
        vs::log::info(kLog, "signal {}: shutting down", sig);
        daemon->shutdown();
        io.stop();
    };
    signals.async_wait(onSignal);
    io.run();
    daemon.reset();
    if (!a.pidfile.empty()) ::unlink(a.pidfile.c_str());
    vs::log::info(kLog, "vswitchd exited");
    return 0;
}

// Forks; the parent waits until the child is ready (exit 0) or failed (prints why, exit 1).
int detachAndRun(const Args& a) {
    int fds[2];
    if (::pipe(fds) < 0) { std::perror("vswitchd: pipe"); return 1; }
    pid_t pid = ::fork();
    if (pid < 0) { std::perror("vswitchd: fork"); return 1; }
    if (pid == 0) {
        ::close(fds[0]);
        ::setsid();
        return runDaemon(a, fds[1]);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) {
        msg.append(buf, static_cast<std::size_t>(n));
        if (msg.size() == 1 && msg[0] == '\0') return 0;
    }
    if (msg.empty()) { std::cerr << "vswitchd: daemon exited during start-up\n"; return 1; }
    std::cerr << msg;
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<Args> a;
    try {
        a = parseArgs(argc, argv);
        if (!a) return 0;
        ::signal(SIGPIPE, SIG_IGN);
        for (const auto& spec : a->log_specs) vs::log::apply(vs::log::parseSpec(spec));
        if (!a->log_file.empty()) vs::log::setLogFile(a->log_file);
        if (!a->syslog.empty()) vs::log::setSyslog(a->syslog);
    } catch (const std::exception& e) {
        std::cerr << "vswitchd: " << e.what() << "\n";
        return 1;
    }
    return a->detach ? detachAndRun(*a) : runDaemon(*a, -1);
}
