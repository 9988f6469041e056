#include "vswitchd/mgmt_server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <set>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kMgmt;  // vlog/set module
}

namespace vs::vswitchd {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using Local = asio::local::stream_protocol;
using boost::system::error_code;
using protocol::ErrorCode;

namespace {

[[noreturn]] void failSetup(const fs::path& path, const std::string& why) {
    throw std::runtime_error("cannot listen on management socket " + path.string() + ": " + why);
}

std::string errnoText() { return std::strerror(errno); }

// mkdir -p with mode 0755 for the directories it creates.
void makeParents(const fs::path& dir) {
    if (dir.empty() || fs::exists(dir)) return;
    makeParents(dir.parent_path());
    if (::mkdir(dir.c_str(), 0755) != 0) {
        if (errno == EEXIST) return;
        throw std::runtime_error("cannot create directory " + dir.string() + ": " + errnoText());
    }
    ::chmod(dir.c_str(), 0755);  // not narrowed by the umask
}


}  // namespace

bool socketAnswers(const fs::path& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    int err = errno;
    ::close(fd);
    if (!ok && err != ECONNREFUSED && err != ENOENT)
        throw std::runtime_error("cannot probe " + path.string() + ": " + std::strerror(err));
    return ok;
}

class Session;

struct MgmtServer::Impl : std::enable_shared_from_this<MgmtServer::Impl> {
    Impl(asio::io_context& io, fs::path p, Dispatcher d, MgmtLimits l)
        : io(io), path(std::move(p)), dispatch(std::move(d)), limits(l), acceptor(io), retryTimer(io) {}
    ~Impl() {
        if (lockFd >= 0) ::close(lockFd);
    }

    void setUp();
    void takeLock();
    void removeStaleSocket();
    void bindRestricted(error_code& ec);
    void startAccept();
    void onAccept(const error_code& ec, Local::socket sock);
    void close();
    std::string handle(const protocol::Request& req);  // the reply line, or "" for notifications

    asio::io_context& io;
    fs::path path;
    Dispatcher dispatch;
    MgmtLimits limits;
    Local::acceptor acceptor;
    asio::steady_timer retryTimer;
    int lockFd = -1;
    ino_t socketIno = 0;
    bool closed = false;
    std::size_t clients = 0;  // counted (not rejected) sessions
    std::uint64_t nextId = 1;
    std::set<std::shared_ptr<Session>> sessions;
};

// One client connection: line framing, bounded output queue, orderly close.
class Session : public std::enable_shared_from_this<Session> {
public:
    Session(std::shared_ptr<MgmtServer::Impl> srv, Local::socket sock, bool counted)
        : srv_(std::move(srv)), sock_(std::move(sock)), linger_(srv_->io), counted_(counted), id_(srv_->nextId++) {}

    void start() { read(); }
    void reject() {
        send(protocol::encodeError("null", ErrorCode::kBusy,
                                   "too many clients (at most " + std::to_string(srv_->limits.maxClients) + ")"));
        beginClose();
    }
    void finish();

private:
    void read();
    void onRead(const error_code& ec, std::size_t n);
    void processLines();
    void handleLine(std::string_view line);
    void tooLarge();
    void send(std::string line);
    void writeNext();
    void beginClose();

    std::shared_ptr<MgmtServer::Impl> srv_;
    Local::socket sock_;
    asio::steady_timer linger_;
    bool counted_;
    std::uint64_t id_;
    std::array<char, 65536> rbuf_{};
    std::string inbuf_;         // received, not yet processed
    std::size_t scanned_ = 0;   // inbuf_[0, scanned_) holds no newline
    std::deque<std::string> outq_;
    std::size_t queued_ = 0;    // bytes in outq_
    std::size_t inflight_ = 0;  // outq_ entries being written
    bool writing_ = false;
    bool closing_ = false;      // no more reading; close once outq_ is flushed
    bool closed_ = false;
    bool eof_ = false;          // the client shut down its side: close after its last line
};

void Session::read() {
    sock_.async_read_some(asio::buffer(rbuf_),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) { self->onRead(ec, n); });
}

void Session::onRead(const error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec == asio::error::eof) {
        // The client shut down its sending side: answer what it sent, then close.
        if (!inbuf_.empty()) inbuf_ += '\n';
        eof_ = true;
        processLines();
        return;
    }
    if (ec) {
        log::debug(kLog, "mgmt client {}: read error: {}", id_, ec.message());
        finish();
        return;
    }
    inbuf_.append(rbuf_.data(), n);
    processLines();
}

// Handles one complete line per turn of the io_context and posts the rest, so that a client that
// pipelines many (or costly) requests cannot hold the loop: other clients' requests interleave
// with its own. Reading resumes only once its buffered lines are done (backpressure: inbuf_ stays
// within one read plus one partial line).
void Session::processLines() {
    if (closing_ || closed_) return;
    const std::size_t maxLine = srv_->limits.maxLineBytes;
    std::size_t nl = inbuf_.find('\n', scanned_);
    if (nl == std::string::npos) {
        scanned_ = inbuf_.size();
        if (inbuf_.size() > maxLine) return tooLarge();
        if (eof_) return beginClose();
        return read();
    }
    if (nl > maxLine) return tooLarge();
    handleLine(std::string_view(inbuf_).substr(0, nl));
    if (closing_ || closed_) return;
    inbuf_.erase(0, nl + 1);
    scanned_ = 0;
    asio::post(srv_->io, [self = shared_from_this()] { self->processLines(); });
}

void Session::handleLine(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank line
    protocol::Request req;
    if (auto e = protocol::decodeRequest(line, req)) {
        static log::RateLimiter rl(60, 20);  // a client can send any number of them
        log::debugRl(kLog, rl, "mgmt client {}: bad request: {}", id_, e->message);
        send(protocol::encodeError(e->id, e->code, e->message));
        return;
    }
    log::debug(kLog, "mgmt client {}: {} (id {})", id_, req.method, req.id);
    auto srv = srv_;  // the dispatcher may close the server
    std::string reply = srv->handle(req);
    if (!reply.empty()) send(std::move(reply));
}

void Session::tooLarge() {
    static log::RateLimiter rl(10, 5);  // any client can trigger it
    log::warnRl(kLog, rl, "mgmt client {}: line exceeds {} bytes; closing the connection", id_, srv_->limits.maxLineBytes);
    send(protocol::encodeError("null", ErrorCode::kTooLarge,
                               "line exceeds " + std::to_string(srv_->limits.maxLineBytes) +
                                   " bytes; closing the connection"));
    beginClose();
}

void Session::send(std::string line) {
    if (closed_) return;
    queued_ += line.size() + 1;
    if (queued_ > srv_->limits.maxQueuedBytes) {
        static log::RateLimiter rl(10, 5);  // any client can trigger it
        log::warnRl(kLog, rl, "mgmt client {}: more than {} bytes of replies unread; closing the connection", id_,
                    srv_->limits.maxQueuedBytes);
        return finish();
    }
    line += '\n';
    outq_.push_back(std::move(line));
    if (!writing_) writeNext();
}

void Session::writeNext() {
    constexpr std::size_t kMaxBuffers = 64;
    std::vector<asio::const_buffer> bufs;
    for (std::size_t i = 0; i < outq_.size() && i < kMaxBuffers; ++i) bufs.push_back(asio::buffer(outq_[i]));
    inflight_ = bufs.size();
    writing_ = true;
    asio::async_write(sock_, bufs, [self = shared_from_this()](const error_code& ec, std::size_t) {
        self->writing_ = false;
        if (self->closed_) return;
        if (ec) {
            log::debug(kLog, "mgmt client {}: write error: {}", self->id_, ec.message());
            return self->finish();
        }
        for (; self->inflight_ > 0; --self->inflight_) {
            self->queued_ -= self->outq_.front().size();
            self->outq_.pop_front();
        }
        if (!self->outq_.empty()) return self->writeNext();
        if (self->closing_) self->finish();
    });
}

void Session::beginClose() {
    if (closing_ || closed_) return;
    closing_ = true;
    if (!writing_ && outq_.empty()) return finish();
    linger_.expires_after(srv_->limits.closeLinger);
    linger_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) self->finish();
    });
}

void Session::finish() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    linger_.cancel();
    sock_.shutdown(Local::socket::shutdown_both, ignored);
    sock_.close(ignored);
    if (counted_) --srv_->clients;
    log::debug(kLog, "mgmt client {}: disconnected", id_);
    srv_->sessions.erase(shared_from_this());
}

void MgmtServer::Impl::setUp() {
    if (path.native().size() >= sizeof(sockaddr_un::sun_path))
        failSetup(path, "path longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    try {
        makeParents(path.parent_path());
    } catch (const std::exception& e) {
        failSetup(path, e.what());
    }
    takeLock();
    removeStaleSocket();
    error_code ec;
    acceptor.open(Local(), ec);
    if (!ec) bindRestricted(ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) failSetup(path, ec.message());
    if (limits.group && ::chown(path.c_str(), static_cast<uid_t>(-1), *limits.group) != 0) failSetup(path, "chown: " + errnoText());
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) socketIno = st.st_ino;
    log::info(kLog, "management socket listening on {}", path.string());
}

// bind() creates the socket file with mode 0777 & ~umask: under the usual umask 022 it would be
// world-connectable until a chmod. So bind under umask 0117 (the file is born 0660, root:root;
// the group is added afterwards, which only opens it to the one group asked for). The umask is
// per process, but this runs on the control thread before any other thread creates files.
void MgmtServer::Impl::bindRestricted(error_code& ec) {
    mode_t old = ::umask(0117);
    acceptor.bind(Local::endpoint(path.string()), ec);
    ::umask(old);
}

void MgmtServer::Impl::takeLock() {
    std::string lockPath = path.string() + ".lock";
    lockFd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockFd < 0) failSetup(path, "cannot open " + lockPath + ": " + errnoText());
    if (::flock(lockFd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) failSetup(path, "another vswitchd holds " + lockPath);
        failSetup(path, "cannot lock " + lockPath + ": " + errnoText());
    }
}

void MgmtServer::Impl::removeStaleSocket() {
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        failSetup(path, errnoText());
    }
    if (!S_ISSOCK(st.st_mode)) failSetup(path, "the path exists and is not a socket; refusing to remove it");
    bool live = false;
    try {
        live = socketAnswers(path);
    } catch (const std::exception& e) {
        failSetup(path, e.what());
    }
    if (live) failSetup(path, "another daemon is already listening on it");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) failSetup(path, "cannot remove stale socket: " + errnoText());
    log::info(kLog, "removed stale management socket {}", path.string());
}

void MgmtServer::Impl::startAccept() {
    acceptor.async_accept([self = shared_from_this()](const error_code& ec, Local::socket sock) {
        self->onAccept(ec, std::move(sock));
    });
}

void MgmtServer::Impl::onAccept(const error_code& ec, Local::socket sock) {
    if (closed) return;
    if (ec) {
        // E.g. EMFILE: retry shortly instead of spinning.
        static log::RateLimiter rl(10, 5);  // e.g. EMFILE: it repeats at every accept
        log::warnRl(kLog, rl, "management socket {}: accept failed: {}", path.string(), ec.message());
        retryTimer.expires_after(std::chrono::milliseconds(100));
        retryTimer.async_wait([self = shared_from_this()](const error_code& e) {
            if (!e && !self->closed) self->startAccept();
        });
        return;
    }
    bool counted = clients < limits.maxClients;
    auto session = std::make_shared<Session>(shared_from_this(), std::move(sock), counted);
    sessions.insert(session);
    if (counted) {
        ++clients;
        session->start();
    } else {
        static log::RateLimiter rl(10, 5);  // a flood of clients
        log::warnRl(kLog, rl, "management socket {}: rejecting a client: {} clients connected", path.string(), clients);
        session->reject();
    }
    startAccept();
}

std::string MgmtServer::Impl::handle(const protocol::Request& req) {
    rapidjson::Document result;
    std::string reply;
    try {
        dispatch(req, result);
        if (req.id.empty()) return {};
        reply = protocol::encodeResult(req.id, result);
        if (reply.size() > protocol::kMaxLineBytes)
            reply = protocol::encodeError(req.id, ErrorCode::kInternalError,
                                          "response of " + std::to_string(reply.size()) +
                                              " bytes exceeds the line limit");
    } catch (const RpcError& e) {
        if (req.id.empty()) return {};
        reply = protocol::encodeError(req.id, e.code, e.what(), e.data.get());
    } catch (const std::exception& e) {
        static log::RateLimiter rl(10, 5);  // any client can repeat the request
        log::errRl(kLog, rl, "management method {} failed: {}", req.method, e.what());
        if (req.id.empty()) return {};
        reply = protocol::encodeError(req.id, ErrorCode::kInternalError, e.what());
    }
    return reply;
}

void MgmtServer::Impl::close() {
    if (closed) return;
    closed = true;
    error_code ignored;
    retryTimer.cancel();
    acceptor.close(ignored);
    auto all = std::move(sessions);
    sessions.clear();
    for (const auto& s : all) s->finish();
    struct stat st{};
    if (socketIno != 0 && ::lstat(path.c_str(), &st) == 0 && st.st_ino == socketIno) ::unlink(path.c_str());
    if (lockFd >= 0) {
        ::close(lockFd);
        lockFd = -1;
    }
    log::info(kLog, "management socket {} closed", path.string());
}

MgmtServer::MgmtServer(asio::io_context& io, fs::path socketPath, Dispatcher dispatcher, MgmtLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(socketPath), std::move(dispatcher), limits)) {
    impl_->setUp();
    impl_->startAccept();
}

MgmtServer::~MgmtServer() { close(); }

void MgmtServer::close() { impl_->close(); }

std::size_t MgmtServer::clientCount() const { return impl_->clients; }

const fs::path& MgmtServer::socketPath() const { return impl_->path; }

void MethodTable::add(std::string method, Dispatcher handler) { methods_[std::move(method)] = std::move(handler); }

void MethodTable::operator()(const protocol::Request& request, rapidjson::Document& result) const {
    auto it = methods_.find(request.method);
    if (it == methods_.end())
        throw RpcError(ErrorCode::kMethodNotFound, "unknown method '" + request.method + "'");
    it->second(request, result);
}

}  // namespace vs::vswitchd
