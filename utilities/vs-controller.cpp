// vs-controller: the reference controller for vswitchd's controller channel (docs/controller.md).
// It listens for switches (ptcp:/pssl:) or connects to one (tcp:/ssl:), speaks the controller
// protocol (protocol/ofmsg.h) over TCP or mutually authenticated TLS (protocol/ofchannel.h), and
// runs a learning switch or a script (utilities/vs-controller-app.h), printing every event from
// the switch as a JSON line on stdout.
#include <signal.h>

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

std::optional<Options> parseOptions(int argc, char** argv) {
    Options o;
    bool have_target = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const std::string& name) {
            if (i + 1 >= argc) throw std::invalid_argument("option " + name + " requires an argument");
            return std::string(argv[++i]);
        };
        if (a == "-h" || a == "--help") { std::cout << kUsage; return std::nullopt; }
        if (a == "-V" || a == "--version") { std::cout << "vs-controller (vswitch) " << VSWITCH_VERSION << "\n"; return std::nullopt; }
        if (a == "--learning") o.script.clear();
        else if (a == "--script") o.script = value(a);
        else if (a == "--idle-timeout") o.idle_timeout = std::stoi(value(a));
        else if (a == "-p" || a == "--private-key") o.tls.private_key = value(a);
        else if (a == "-c" || a == "--certificate") o.tls.certificate = value(a);
        else if (a == "-C" || a == "--ca-cert") o.tls.ca_cert = value(a);
        else if (a == "-v" || a == "--verbose") o.verbose = true;
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option '" + a + "' (see --help)");
        else if (have_target) throw std::invalid_argument("only one TARGET may be given");
        else o.target = a, have_target = true;
    }
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
