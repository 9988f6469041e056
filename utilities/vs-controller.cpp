// vs-controller: the reference controller for vswitchd's controller channel (docs/controller.md).
// It listens for switches (ptcp:/pssl:) or connects to one (tcp:/ssl:), speaks the controller
// protocol (protocol/ofmsg.h) over TCP or mutually authenticated TLS (protocol/ofchannel.h), and
// runs a learning switch or a script (utilities/vs-controller-app.h), printing every event from
// the switch as a JSON line on stdout.
#include <signal.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "protocol/ofchannel.h"
#include "protocol/ofmsg.h"
#include "protocol/oftarget.h"
#include "utilities/cli_getopt.h"
#include "utilities/vsctl_cli.h"
#include "utilities/vs-controller-app.h"

namespace {

namespace asio = boost::asio;
namespace of = vs::protocol::of;
using tcp = asio::ip::tcp;
using vs::utilities::ControllerApp;
using vs::utilities::EventSink;

const char* kUsage = R"(usage: vs-controller [OPTIONS] [TARGET]
The reference controller for vswitchd (docs/controller.md).

TARGET (default ptcp:6653):
  ptcp:[PORT][:IP]      listen for switches on TCP (set-controller BR tcp:...)
  pssl:[PORT][:IP]      listen for switches on TLS (set-controller BR ssl:...)
  tcp:HOST[:PORT]       connect to a switch that listens (set-controller BR ptcp:...)
  ssl:HOST[:PORT]       connect to a switch that listens on TLS (set-controller BR pssl:...)

Options:
  --learning            run an L2 learning switch (the default)
  --idle-timeout SECS   idle timeout of the flows the learning switch installs (default 60)
  --script FILE         send the messages in FILE (a JSON array of protocol messages) to each
                        switch once connected, then a barrier_request
  -p, --private-key FILE, -c, --certificate FILE, -C, --ca-cert FILE
                        this controller's key and certificate and the CA that signed the switch
                        certificates (required for ssl:/pssl:; the switch must present one)
  -v, --verbose         log every message sent and received on stderr
  -h, --help, -V, --version
Every event (connected, packet_in, flow_removed, port_status, error, replies, disconnected) is
printed on stdout as one JSON object per line. SIGTERM or SIGINT stops the controller.
)";

struct Options {
    std::string target = "ptcp:6653";
    std::string script;
    int idle_timeout = 60;
    vs::protocol::TlsFiles tls;
    bool verbose = false;
};

enum OptionId { kLearning, kScript, kIdleTimeout, kPrivateKey, kCertificate, kCaCert, kVerbose, kHelp, kVersion };

constexpr vs::utilities::OptionDef kOptions[] = {
    {"learning", 0, vs::utilities::OptionDef::kNone, kLearning},
    {"script", 0, vs::utilities::OptionDef::kRequired, kScript},
    {"idle-timeout", 0, vs::utilities::OptionDef::kRequired, kIdleTimeout},
    {"private-key", 'p', vs::utilities::OptionDef::kRequired, kPrivateKey},
    {"certificate", 'c', vs::utilities::OptionDef::kRequired, kCertificate},
    {"ca-cert", 'C', vs::utilities::OptionDef::kRequired, kCaCert},
    {"verbose", 'v', vs::utilities::OptionDef::kNone, kVerbose},
    {"help", 'h', vs::utilities::OptionDef::kNone, kHelp},
    {"version", 'V', vs::utilities::OptionDef::kNone, kVersion},
};

int parseIdleTimeout(const std::string& v) {
    int n = -1;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 0 || n > 65535)
        throw std::invalid_argument("invalid --idle-timeout '" + v + "' (expected seconds, 0..65535)");
    return n;
}

// Options anywhere (getopt_long, cli_getopt.h); at most one TARGET.
std::optional<Options> parseOptions(int argc, char** argv) {
    Options o;
    vs::utilities::ParsedArgs parsed;
    try {
        parsed = vs::utilities::parseCommandLine(std::vector<std::string>(argv + 1, argv + argc), kOptions);
    } catch (const vs::utilities::CliError& e) {
        throw std::invalid_argument(e.what());
    }
    for (const auto& opt : parsed.options) {
        const std::string v = opt.value.value_or("");
        switch (opt.id) {
        case kHelp: std::cout << kUsage; return std::nullopt;
        case kVersion: std::cout << "vs-controller (vswitch) " << VSWITCH_VERSION << "\n"; return std::nullopt;
        case kLearning: o.script.clear(); break;
        case kScript: o.script = v; break;
        case kIdleTimeout: o.idle_timeout = parseIdleTimeout(v); break;
        case kPrivateKey: o.tls.private_key = v; break;
        case kCertificate: o.tls.certificate = v; break;
        case kCaCert: o.tls.ca_cert = v; break;
        case kVerbose: o.verbose = true; break;
        }
    }
    if (parsed.words.size() > 1) throw std::invalid_argument("only one TARGET may be given");
    if (!parsed.words.empty()) o.target = parsed.words[0];
    return o;
}

// One switch connection: hello, then the app.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(std::shared_ptr<vs::protocol::LineChannel> ch, ControllerApp& app, EventSink& events, bool verbose,
               std::function<void()> closed)
        : ch_(std::move(ch)), app_(app), events_(events), verbose_(verbose), closed_(std::move(closed)) {}

    void start() {
        auto self = shared_from_this();
        ch_->start([self] { self->send(of::Hello{}); },
                   [self](std::string_view line) { self->onLine(line); },
                   [self](std::size_t n) { std::cerr << "vs-controller: " << self->peer_ << ": message of " << n << " bytes is too large\n"; },
                   [self](const std::string& reason) { self->onClose(reason); });
        peer_ = ch_->peer();
    }

    // At exit: closes the channel now (its callbacks, which hold this connection, are dropped with
    // it), quietly: no event, no reconnect.
    void close(const std::string& reason) {
        exiting_ = true;
        ch_->close(reason);
    }

private:
    void send(of::Body body) {
        std::string line = of::encode(of::Message{next_xid_++, std::move(body)});
        if (verbose_) std::cerr << "vs-controller: " << peer_ << " < " << line << "\n";
        ch_->send(std::move(line));
    }

    void onLine(std::string_view line) {
        if (verbose_) std::cerr << "vs-controller: " << peer_ << " > " << line << "\n";
        auto decoded = of::decode(line);
        if (auto* e = std::get_if<of::DecodeError>(&decoded)) {
            events_.note("bad_message", peer_, e->message);
            return;
        }
        const auto& msg = std::get<of::Message>(decoded);
        auto sendFn = [this](of::Body b) { send(std::move(b)); };
        if (!up_) {
            if (!std::holds_alternative<of::Hello>(msg.body)) return ch_->close("the switch did not start with hello");
            up_ = true;
            return app_.connected(peer_, sendFn);
        }
        if (const auto* echo = std::get_if<of::EchoRequest>(&msg.body)) {
            std::string line2 = of::encode(of::Message{msg.xid, of::EchoReply{echo->data}});
            if (verbose_) std::cerr << "vs-controller: " << peer_ << " < " << line2 << "\n";
            return ch_->send(std::move(line2));
        }
        app_.message(peer_, msg, sendFn);
    }

    void onClose(const std::string& reason) {
        if (exiting_) return;
        events_.note(up_ ? "disconnected" : "refused", peer_, reason);
        if (up_) app_.disconnected(peer_);
        up_ = false;
        if (closed_) closed_();
    }

    std::shared_ptr<vs::protocol::LineChannel> ch_;
    ControllerApp& app_;
    EventSink& events_;
    bool verbose_;
    std::function<void()> closed_;
    std::string peer_;
    std::uint32_t next_xid_ = 1;
    bool up_ = false;
    bool exiting_ = false;
};

class Controller {
public:
    Controller(asio::io_context& io, const Options& o, const vs::protocol::Target& t, ControllerApp& app, EventSink& ev)
        : io_(io), opts_(o), target_(t), app_(app), events_(ev), acceptor_(io), timer_(io) {
        if (t.tls()) tls_ = vs::protocol::makeTlsContext(o.tls, !t.active());
    }

    void run() {
        if (target_.active()) return connect();
        auto addr = target_.host.empty() ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::make_address(target_.host);
        tcp::endpoint ep(addr, target_.port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
        std::cerr << "vs-controller: listening on " << target_.canonical() << "\n";
        accept();
    }

    // At exit: close every open connection, so that no channel <-> connection reference cycle
    // outlives the io_context (LeakSanitizer reports one per connection otherwise).
    void stop() {
        boost::system::error_code ec;
        acceptor_.close(ec);
        timer_.cancel();
        for (auto& weak : conns_)
            if (auto c = weak.lock()) c->close("vs-controller exiting");
        conns_.clear();
    }

private:
    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) open(std::move(sock), {});
            accept();
        });
    }

    void connect() {
        vs::protocol::asyncConnect(io_, target_.host, target_.port, std::chrono::seconds(5),
                                   [this](std::optional<tcp::socket> sock, const std::string& error) {
                                       if (!sock) {
                                           events_.note("refused", target_.canonical(), error);
                                           return retry();
                                       }
                                       open(std::move(*sock), [this] { retry(); });
                                   });
    }

    void retry() {
        timer_.expires_after(std::chrono::seconds(1));
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) connect();
        });
    }

    void open(tcp::socket sock, std::function<void()> closed) {
        std::shared_ptr<vs::protocol::LineChannel> ch;
        if (tls_) ch = vs::protocol::LineChannel::tls(std::move(sock), tls_, !target_.active(), target_.active() ? target_.host : "");
        else ch = vs::protocol::LineChannel::plain(std::move(sock));
        auto conn = std::make_shared<Connection>(std::move(ch), app_, events_, opts_.verbose, std::move(closed));
        conn->start();
        std::erase_if(conns_, [](const std::weak_ptr<Connection>& w) { return w.expired(); });
        conns_.push_back(conn);
    }

    asio::io_context& io_;
    const Options& opts_;
    vs::protocol::Target target_;
    ControllerApp& app_;
    EventSink& events_;
    tcp::acceptor acceptor_;
    asio::steady_timer timer_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::vector<std::weak_ptr<Connection>> conns_;
};

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    try {
        auto opts = parseOptions(argc, argv);
        if (!opts) return 0;
        auto parsed = vs::protocol::parseTarget(opts->target);
        if (auto* e = std::get_if<std::string>(&parsed)) throw std::invalid_argument(*e);
        EventSink events(std::cout);
        std::unique_ptr<ControllerApp> app;
        if (!opts->script.empty()) {
            std::ifstream f(opts->script);
            if (!f) throw std::invalid_argument("cannot read script " + opts->script);
            std::stringstream text;
            text << f.rdbuf();
            try {
                app = std::make_unique<vs::utilities::ScriptApp>(events, vs::utilities::ScriptApp::load(text.str()));
            } catch (const std::runtime_error& e) {
                throw std::invalid_argument("script " + opts->script + ": " + e.what());
            }
        } else {
            app = std::make_unique<vs::utilities::LearningSwitch>(events, opts->idle_timeout);
        }
        asio::io_context io;
        Controller controller(io, *opts, std::get<vs::protocol::Target>(parsed), *app, events);
        controller.run();
        asio::signal_set signals(io, SIGTERM, SIGINT);
        signals.async_wait([&io, &controller](const boost::system::error_code&, int) {
            controller.stop();
            io.stop();
        });
        io.run();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "vs-controller: " << e.what() << "\n";
        return 1;
    }
}
