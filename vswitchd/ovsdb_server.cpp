#include "vswitchd/ovsdb_server.h"

#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <set>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "ovsdb/framing.h"
#include "ovsdb/monitor.h"
#include "ovsdb/vswitch_schema.h"
#include "protocol/jsonrpc.h"
#include "protocol/oftarget.h"
#include "vswitchd/log.h"
#include "vswitchd/mgmt_server.h"

namespace vs::vswitchd {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Local = asio::local::stream_protocol;
using Tcp = asio::ip::tcp;
using Stream = asio::generic::stream_protocol::socket;  // a Unix or a TCP connection
using rapidjson::Value;

constexpr log::Module kLog = log::Module::kOvsdb;
constexpr std::uint16_t kOvsdbPort = 6640;  // IANA, RFC 7047 section 6
constexpr std::size_t kMaxQueuedBytes = 64u << 20;
constexpr auto kProbeInterval = std::chrono::seconds(5);
constexpr int kProbesBeforeClose = 3;

}  // namespace

OvsdbRemote parseOvsdbRemote(const std::string& remote) {
    OvsdbRemote r;
    if (remote.rfind("punix:", 0) == 0 && remote.size() > 6) {
        r.path = remote.substr(6);
        return r;
    }
    auto t = protocol::parseTarget(remote, kOvsdbPort, "OVSDB remote");
    if (auto* e = std::get_if<std::string>(&t)) throw std::invalid_argument("--remote " + remote + ": " + *e);
    const auto& target = std::get<protocol::Target>(t);
    if (target.kind != protocol::Target::Kind::kPtcp || target.json)
        throw std::invalid_argument("--remote " + remote + ": expected punix:PATH or ptcp:[PORT][:IP] "
                                    "(pssl: and active remotes are not supported yet)");
    r.tcp = true;
    r.ip = target.host;
    r.port = target.port;
    return r;
}

class OvsdbSession;

struct OvsdbServer::Impl : std::enable_shared_from_this<OvsdbServer::Impl> {
    Impl(asio::io_context& io, OvsdbBackend b)
        : io(io), backend(std::move(b)),
          schema(std::make_shared<const ovsdb::Schema>(ovsdb::parseSchema(ovsdb::vswitchSchemaText()))), db(schema) {}

    void listen(const fs::path& path);
    void listenTcp(const OvsdbRemote& r);
    void acceptTcp(std::size_t i);
    void startSession(Stream s);
    void accept(std::size_t i);
    void close();
    void publish(ovsdb::Database next);  // replaces the rows and notifies every monitor
    void project();
    // The rows follow the config lazily: re-projecting is O(database), and with no monitor open
    // nobody can see the rows until a request arrives, which syncs first (transact, monitor).
    // Eager projection on every management-socket change made 1,000 vsctl add-port calls take
    // 114 s instead of 4.5 (bench/scale.sh).
    void sync() {
        if (backend.config().seq != projectedSeq || statusDirty) project();
    }
    void changed(bool status) {
        if (status) statusDirty = true;
        if (anyMonitor()) sync();
    }
    bool anyMonitor() const;
    // Takes `s` out of the queue of lock `name` (every lock when empty), granting it to the next.
    void releaseLocks(OvsdbSession* s, const std::string& name = "");

    asio::io_context& io;
    OvsdbBackend backend;
    std::shared_ptr<const ovsdb::Schema> schema;
    ovsdb::Database db;
    std::uint64_t projectedSeq = UINT64_MAX;
    bool statusDirty = false;  // interface status changed since the last projection
    std::vector<std::pair<fs::path, std::unique_ptr<Local::acceptor>>> acceptors;
    std::vector<std::unique_ptr<Tcp::acceptor>> tcpAcceptors;
    std::set<std::shared_ptr<OvsdbSession>> sessions;
    std::map<std::string, std::deque<OvsdbSession*>> locks;  // front: the owner, then the waiters
    bool closed = false;
};

class OvsdbSession : public std::enable_shared_from_this<OvsdbSession> {
public:
    OvsdbSession(std::shared_ptr<OvsdbServer::Impl> srv, Stream sock)
        : srv_(std::move(srv)), sock_(std::move(sock)), probe_(srv_->io) {}

    void start() {
        read();
        armProbe();
    }
    bool monitoring() const { return !monitors_.empty(); }
    void close();
    // Stops reading; closes once the queued replies are written (or after 2 s).
    void closeAfterReplies();
    void sendText(std::string text);
    void notify(const char* method, Value params, rapidjson::Document& doc);
    void monitorsChanged(const ovsdb::Database& before, const ovsdb::Database& after);
    bool holds(const std::string& lock) const { return held_.count(lock) != 0; }
    std::set<std::string> held_;

private:
    struct MonitorEntry {
        ovsdb::Monitor monitor;
        rapidjson::Document id;
    };
    void read();
    void armProbe();
    void handleMessage(const std::string& text);
    void reply(const Value& id, Value result, Value error, rapidjson::Document& doc);
    void dispatch(const std::string& method, const Value& params, rapidjson::Document& doc, Value& result);
    Value methodTransact(const Value& params, rapidjson::Document& doc);
    Value methodMonitor(const std::string& method, const Value& params, rapidjson::Document& doc);
    Value methodLock(const std::string& method, const Value& params, rapidjson::Document& doc);
    void flush();

    std::shared_ptr<OvsdbServer::Impl> srv_;
    Stream sock_;
    asio::steady_timer probe_;
    ovsdb::StreamFramer framer_;
    std::array<char, 65536> rbuf_{};
    std::deque<std::string> out_;
    std::size_t queued_ = 0;
    bool writing_ = false, closed_ = false, closing_ = false;
    int silentProbes_ = 0;
    bool heard_ = false;
    std::map<std::string, MonitorEntry> monitors_;  // by the monitor id's JSON text
};

// ---- the server -------------------------------------------------------------------------------

void OvsdbServer::Impl::listen(const fs::path& path) {
    std::error_code fec;
    fs::create_directories(path.parent_path(), fec);
    if (fs::exists(path)) {
        if (socketAnswers(path)) throw std::runtime_error("OVSDB socket " + path.string() + " is in use by another process");
        fs::remove(path, fec);  // stale, from a crashed daemon
    }
    auto acc = std::make_unique<Local::acceptor>(io);
    boost::system::error_code ec;
    acc->open(Local(), ec);
    mode_t old = ::umask(0117);
    if (!ec) acc->bind(Local::endpoint(path.string()), ec);
    ::umask(old);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on OVSDB socket " + path.string() + ": " + ec.message());
    acceptors.emplace_back(path, std::move(acc));
    accept(acceptors.size() - 1);
}

void OvsdbServer::Impl::accept(std::size_t i) {
    acceptors[i].second->async_accept([self = shared_from_this(), i](const boost::system::error_code& ec, Local::socket s) {
        if (self->closed) return;
        if (!ec) {
            self->startSession(Stream(std::move(s)));
        } else if (ec == asio::error::operation_aborted) {
            return;
        }
        self->accept(i);
    });
}

void OvsdbServer::Impl::startSession(Stream s) {
    auto session = std::make_shared<OvsdbSession>(shared_from_this(), std::move(s));
    sessions.insert(session);
    session->start();
}

void OvsdbServer::Impl::listenTcp(const OvsdbRemote& r) {
    auto acc = std::make_unique<Tcp::acceptor>(io);
    boost::system::error_code ec;
    Tcp::endpoint ep(r.ip.empty() ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::make_address(r.ip), r.port);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on OVSDB remote ptcp:" + std::to_string(r.port) + (r.ip.empty() ? "" : ":" + r.ip) + ": " + ec.message());
    tcpAcceptors.push_back(std::move(acc));
    acceptTcp(tcpAcceptors.size() - 1);
}

void OvsdbServer::Impl::acceptTcp(std::size_t i) {
    tcpAcceptors[i]->async_accept([self = shared_from_this(), i](const boost::system::error_code& ec, Tcp::socket s) {
        if (self->closed) return;
        if (!ec) {
            boost::system::error_code nec;
            s.set_option(Tcp::no_delay(true), nec);
            self->startSession(Stream(std::move(s)));
        } else if (ec == asio::error::operation_aborted) {
            return;
        }
        self->acceptTcp(i);
    });
}

void OvsdbServer::Impl::close() {
    if (closed) return;
    closed = true;
    for (auto& [path, acc] : acceptors) {
        boost::system::error_code ec;
        acc->close(ec);
        std::error_code fec;
        fs::remove(path, fec);
    }
    for (auto& acc : tcpAcceptors) {
        boost::system::error_code ec;
        acc->close(ec);
    }
    auto all = sessions;
    for (const auto& s : all) s->close();
    sessions.clear();
}

void OvsdbServer::Impl::publish(ovsdb::Database next) {
    ovsdb::Database before = std::move(db);
    db = std::move(next);
    for (const auto& s : sessions) s->monitorsChanged(before, db);
}

bool OvsdbServer::Impl::anyMonitor() const {
    for (const auto& s : sessions)
        if (s->monitoring()) return true;
    return false;
}

void OvsdbServer::Impl::project() {
    statusDirty = false;
    ovsdb::Database next = db;
    projectConfig(backend.config(), backend.status, next);
    projectedSeq = backend.config().seq;
    if (!(next == db)) publish(std::move(next));
}

void OvsdbServer::Impl::releaseLocks(OvsdbSession* s, const std::string& name) {
    for (auto it = locks.begin(); it != locks.end();) {
        auto& q = it->second;
        if (!name.empty() && it->first != name) {
            ++it;
            continue;
        }
        bool wasOwner = !q.empty() && q.front() == s;
        std::erase(q, s);
        if (wasOwner && !q.empty()) {
            OvsdbSession* next = q.front();
            next->held_.insert(it->first);
            rapidjson::Document doc;
            Value p(rapidjson::kArrayType);
            p.PushBack(Value(it->first.c_str(), doc.GetAllocator()), doc.GetAllocator());
            next->notify("locked", std::move(p), doc);
        }
        it = q.empty() ? locks.erase(it) : std::next(it);
    }
}

OvsdbServer::OvsdbServer(asio::io_context& io, const std::vector<OvsdbRemote>& remotes, OvsdbBackend backend)
    : impl_(std::make_shared<Impl>(io, std::move(backend))) {
    if (const std::string& saved = impl_->backend.config().ovsdb; !saved.empty()) {
        rapidjson::Document doc;
        doc.Parse(saved.c_str(), saved.size());
        try {
            ovsdb::rowsFromJson(doc, impl_->db);
        } catch (const ovsdb::Error& e) {  // the config still holds everything we act on
            log::warn(kLog, "OVSDB rows saved in the config do not load ({}): starting from the config alone", e.details);
            impl_->db = ovsdb::Database(impl_->schema);
        }
    }
    impl_->project();
    for (const auto& r : remotes) {
        if (r.tcp) impl_->listenTcp(r);
        else impl_->listen(r.path);
    }
}

std::vector<std::uint16_t> OvsdbServer::tcpPorts() const {
    std::vector<std::uint16_t> out;
    for (const auto& acc : impl_->tcpAcceptors) {
        boost::system::error_code ec;
        out.push_back(acc->local_endpoint(ec).port());
    }
    return out;
}

OvsdbServer::~OvsdbServer() { impl_->close(); }

void OvsdbServer::configChanged() { impl_->changed(false); }

void OvsdbServer::statusChanged() { impl_->changed(true); }

// ---- a session ------------------------------------------------------------------------------

void OvsdbSession::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    probe_.cancel();
    sock_.close(ec);
    srv_->releaseLocks(this);
    auto self = shared_from_this();
    asio::post(srv_->io, [self] { self->srv_->sessions.erase(self); });
}

void OvsdbSession::closeAfterReplies() {
    closing_ = true;
    if (out_.empty()) return close();
    probe_.expires_after(std::chrono::seconds(2));
    probe_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->close();
    });
}

void OvsdbSession::read() {
    sock_.async_read_some(asio::buffer(rbuf_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (self->closed_) return;
        if (ec) return self->close();
        self->heard_ = true;
        self->framer_.feed(std::string_view(self->rbuf_.data(), n));
        while (auto msg = self->framer_.next()) {
            self->handleMessage(*msg);
            if (self->closed_) return;
        }
        if (!self->framer_.error().empty()) {
            rapidjson::Document doc;
            auto& a = doc.GetAllocator();
            self->reply(Value(), Value(), ovsdb::Error("syntax error", self->framer_.error()).toJson(a), doc);
            static log::RateLimiter rl(5, 20);  // a client can repeat it
            log::warnRl(kLog, rl, "OVSDB client closed: {}", self->framer_.error());
            return self->closeAfterReplies();
        }
        self->read();
    });
}

void OvsdbSession::armProbe() {
    probe_.expires_after(kProbeInterval);
    probe_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec || self->closed_ || self->closing_) return;
        if (self->heard_) {
            self->heard_ = false;
            self->silentProbes_ = 0;
        } else if (++self->silentProbes_ >= kProbesBeforeClose) {
            static log::RateLimiter rl(5, 20);
            log::infoRl(kLog, rl, "OVSDB client silent for {} s: closed", kProbesBeforeClose * kProbeInterval.count());
            return self->close();
        } else {
            self->sendText(R"({"id":"echo","method":"echo","params":[]})");
        }
        self->armProbe();
    });
}

void OvsdbSession::sendText(std::string text) {
    if (closed_) return;
    queued_ += text.size();
    if (queued_ > kMaxQueuedBytes) {
        static log::RateLimiter rl(5, 20);
        log::warnRl(kLog, rl, "OVSDB client closed: more than {} bytes of replies unread", kMaxQueuedBytes);
        return close();
    }
    out_.push_back(std::move(text));
    flush();
}

void OvsdbSession::flush() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    asio::async_write(sock_, asio::buffer(out_.front()), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->writing_ = false;
        if (self->closed_) return;
        if (ec) return self->close();
        self->queued_ -= self->out_.front().size();
        self->out_.pop_front();
        if (self->closing_ && self->out_.empty()) return self->close();
        self->flush();
    });
}

void OvsdbSession::notify(const char* method, Value params, rapidjson::Document& doc) {
    auto& a = doc.GetAllocator();
    Value msg(rapidjson::kObjectType);
    msg.AddMember("id", Value(), a);
    msg.AddMember("method", Value(method, a), a);
    msg.AddMember("params", params, a);
    sendText(protocol::toJson(msg));
}

void OvsdbSession::reply(const Value& id, Value result, Value error, rapidjson::Document& doc) {
    auto& a = doc.GetAllocator();
    Value msg(rapidjson::kObjectType);
    msg.AddMember("id", Value(id, a), a);
    msg.AddMember("result", result, a);
    msg.AddMember("error", error, a);
    sendText(protocol::toJson(msg));
}

void OvsdbSession::monitorsChanged(const ovsdb::Database& before, const ovsdb::Database& after) {
    for (auto& [key, m] : monitors_) {
        rapidjson::Document doc;
        auto& a = doc.GetAllocator();
        Value updates = ovsdb::changeUpdate(m.monitor, before, after, a);
        if (updates.ObjectEmpty()) continue;
        Value params(rapidjson::kArrayType);
        params.PushBack(Value(m.id, a), a);
        if (m.monitor.version == 3) params.PushBack("00000000-0000-0000-0000-000000000000", a);
        params.PushBack(updates, a);
        notify(m.monitor.version == 1 ? "update" : m.monitor.version == 2 ? "update2" : "update3", std::move(params), doc);
    }
}

void OvsdbSession::handleMessage(const std::string& text) {
    rapidjson::Document doc;
    auto& a = doc.GetAllocator();
    rapidjson::Document msg;
    if (auto deep = protocol::checkJsonDepth(text)) {
        return reply(Value(), Value(), ovsdb::Error("syntax error", *deep).toJson(a), doc);
    }
    msg.Parse(text.data(), text.size());
    if (msg.HasParseError() || !msg.IsObject())
        return reply(Value(), Value(), ovsdb::Error("syntax error", "the message is not a JSON object").toJson(a), doc);
    Value nullId;
    const Value& id = msg.HasMember("id") ? msg["id"] : nullId;
    if (!msg.HasMember("method")) return;  // a reply (to our echo): heard_ is enough
    if (!msg["method"].IsString() || !msg.HasMember("params") || !msg["params"].IsArray())
        return reply(id, Value(), ovsdb::Error("syntax error", "a request needs a string \"method\" and an array \"params\"").toJson(a), doc);
    std::string method = msg["method"].GetString();
    Value result;
    try {
        dispatch(method, msg["params"], doc, result);
    } catch (const ovsdb::Error& e) {
        if (!id.IsNull()) reply(id, Value(), e.toJson(a), doc);
        return;
    } catch (const std::exception& e) {  // a bug: answer, log, and keep serving
        static log::RateLimiter rl(5, 20);
        log::errRl(kLog, rl, "OVSDB {} failed: {}", method, e.what());
        if (!id.IsNull()) reply(id, Value(), ovsdb::Error("internal error", e.what()).toJson(a), doc);
        return;
    }
    if (!id.IsNull()) reply(id, std::move(result), Value(), doc);
}

void OvsdbSession::dispatch(const std::string& method, const Value& params, rapidjson::Document& doc, Value& result) {
    auto& a = doc.GetAllocator();
    auto needDb = [&] {
        if (params.Empty() || !params[0].IsString()) throw ovsdb::Error("syntax error", method + ": the first parameter must be a database name");
        if (std::string(params[0].GetString()) != srv_->schema->name)
            throw ovsdb::Error("unknown database", std::string("no database named ") + params[0].GetString());
    };
    if (method == "echo") {
        result.CopyFrom(params, a);
    } else if (method == "list_dbs") {
        result.SetArray();
        result.PushBack(Value(srv_->schema->name.c_str(), a), a);
    } else if (method == "get_schema") {
        needDb();
        result.CopyFrom(*srv_->schema->json, a);
    } else if (method == "transact") {
        needDb();
        result = methodTransact(params, doc);
    } else if (method == "monitor" || method == "monitor_cond" || method == "monitor_cond_since") {
        needDb();
        result = methodMonitor(method, params, doc);
    } else if (method == "monitor_cancel") {
        if (params.Size() != 1 || !monitors_.erase(protocol::toJson(params[0])))
            throw ovsdb::Error("unknown monitor", "no monitor with this id");
        result.SetObject();
    } else if (method == "lock" || method == "steal" || method == "unlock") {
        result = methodLock(method, params, doc);
    } else if (method == "set_db_change_aware") {
        result.SetObject();
    } else {
        throw ovsdb::Error("unknown method", "unknown method \"" + method + "\"");
    }
}

Value OvsdbSession::methodTransact(const Value& params, rapidjson::Document& doc) {
    auto& a = doc.GetAllocator();
    srv_->sync();
    ovsdb::TxnContext ctx{[this](const std::string& l) { return holds(l); }};
    ovsdb::Database next(srv_->schema);
    ovsdb::TxnOutcome out = ovsdb::transact(srv_->db, params, 1, ctx, &next);
    auto fail = [&](const ovsdb::Error& e) {
        out.result.PushBack(e.toJson(out.result.GetAllocator()), out.result.GetAllocator());
        out.ok = false;
    };
    if (out.ok && out.changed) {
        try {
            // The new config, and the rows as they will be (UUIDs, unmodelled columns, cur_cfg
            // caught up: the commit applies the config before it returns) saved with it.
            Config cfg = configFromDb(next, srv_->backend.config());
            projectConfig(cfg, srv_->backend.status, next);
            auto& ovs = next.tables["Open_vSwitch"];
            if (!ovs.empty()) ovs.begin()->second["cur_cfg"] = ovs.begin()->second["next_cfg"];
            cfg.ovsdb = ovsdb::rowsToText(next);
            if (!(cfg == srv_->backend.config()))
                if (auto problem = srv_->backend.commit(cfg)) throw ovsdb::Error("constraint violation", *problem);
        } catch (const ovsdb::Error& e) {
            fail(e);
        }
    }
    if (out.ok && out.changed) {
        projectConfig(srv_->backend.config(), srv_->backend.status, next);  // the status after applying
        srv_->projectedSeq = srv_->backend.config().seq;
        srv_->publish(std::move(next));
    }
    Value r;
    r.CopyFrom(out.result, a);
    return r;
}

Value OvsdbSession::methodMonitor(const std::string& method, const Value& params, rapidjson::Document& doc) {
    auto& a = doc.GetAllocator();
    if (params.Size() < 3) throw ovsdb::Error("syntax error", method + " needs [db, monitor-id, monitor-requests]");
    int version = method == "monitor" ? 1 : method == "monitor_cond" ? 2 : 3;
    std::string key = protocol::toJson(params[1]);
    if (monitors_.count(key)) throw ovsdb::Error("duplicate monitor ID", "monitor id " + key + " is in use");
    srv_->sync();
    ovsdb::Monitor m = ovsdb::parseMonitorRequests(*srv_->schema, params[2], version);
    Value initial = ovsdb::initialUpdate(m, srv_->db, a);
    MonitorEntry& e = monitors_[key];
    e.monitor = std::move(m);
    e.id.CopyFrom(params[1], e.id.GetAllocator());
    if (version < 3) return initial;
    Value r(rapidjson::kArrayType);  // [found, last-txn-id, updates]: this server keeps no history
    r.PushBack(false, a);
    r.PushBack("00000000-0000-0000-0000-000000000000", a);
    r.PushBack(initial, a);
    return r;
}

Value OvsdbSession::methodLock(const std::string& method, const Value& params, rapidjson::Document& doc) {
    auto& a = doc.GetAllocator();
    if (params.Size() != 1 || !params[0].IsString()) throw ovsdb::Error("syntax error", method + " needs [lock-id]");
    std::string name = params[0].GetString();
    auto& q = srv_->locks[name];
    Value r(rapidjson::kObjectType);
    if (method == "unlock") {
        held_.erase(name);
        srv_->releaseLocks(this, name);
        return r;
    }
    if (method == "steal") {
        if (!q.empty() && q.front() != this) {
            OvsdbSession* victim = q.front();
            victim->held_.erase(name);
            rapidjson::Document nd;
            Value p(rapidjson::kArrayType);
            p.PushBack(Value(name.c_str(), nd.GetAllocator()), nd.GetAllocator());
            victim->notify("stolen", std::move(p), nd);
        }
        std::erase(q, this);
        q.push_front(this);
    } else if (std::find(q.begin(), q.end(), this) == q.end()) {
        q.push_back(this);
    }
    bool locked = q.front() == this;
    if (locked) held_.insert(name);
    r.AddMember("locked", locked, a);
    return r;
}

}  // namespace vs::vswitchd
