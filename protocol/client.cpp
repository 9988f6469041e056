#include "protocol/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace vs::protocol {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// How long to wait before retrying a connect that found the listen backlog full (EAGAIN).
constexpr std::chrono::milliseconds kBacklogRetry{10};

std::string connectFailure(const std::string& path, int err) {
    std::string msg = "cannot connect to " + path + ": " + std::strerror(err);
    if (err == ENOENT || err == ECONNREFUSED) msg += " (is vswitchd running?)";
    return msg;
}

bool expired(std::optional<Client::Clock::time_point> deadline) {
    return deadline && Client::Clock::now() >= *deadline;
}

}  // namespace

Client::Client(int fd, std::string path, std::chrono::milliseconds timeout)
    : fd_(fd), path_(std::move(path)), timeout_(timeout) {}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      timeout_(other.timeout_),
      deadline_(other.deadline_),
      nextId_(other.nextId_),
      buffer_(std::move(other.buffer_)) {}

Client& Client::operator=(Client&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        timeout_ = other.timeout_;
        deadline_ = other.deadline_;
        nextId_ = other.nextId_;
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

Client::~Client() { close(); }

void Client::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

Client Client::connect(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty()) throw ClientError("cannot connect: empty socket path");
    if (path.size() >= sizeof(addr.sun_path))
        throw ClientError("cannot connect to " + path + ": socket path is longer than " +
                          std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    std::memcpy(addr.sun_path, path.data(), path.size());

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw ClientError("cannot create a socket: " + std::string(std::strerror(errno)));
    Client client(fd, path, timeout);  // owns fd from here on
    std::optional<Clock::time_point> deadline;
    if (timeout.count() > 0) deadline = Clock::now() + timeout;

    for (;;) {
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) return client;
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN) {  // listen backlog full: the daemon is alive but busy
            if (expired(deadline)) throw ClientError("timed out connecting to " + path);
            std::this_thread::sleep_for(kBacklogRetry);
            continue;
        }
        if (err == EINPROGRESS) {
            client.waitFor(POLLOUT, deadline, "connect");
            socklen_t len = sizeof(err);
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
            if (err == 0) return client;
        }
        throw ClientError(connectFailure(path, err));
    }
}

std::optional<Client::Clock::time_point> Client::callDeadline() const {
    std::optional<Clock::time_point> deadline = deadline_;
    if (timeout_.count() > 0) {
        auto own = Clock::now() + timeout_;
        deadline = deadline ? std::min(*deadline, own) : own;
    }
    return deadline;
}

Response Client::call(std::string_view method, const rapidjson::Value& params) {
    if (fd_ < 0) throw ClientError("the connection to " + path_ + " is closed");
    const auto deadline = callDeadline();
    const std::uint64_t id = nextId_++;
    std::string line = encodeRequest(method, params, id);
    if (line.size() > kMaxLineBytes)
        throw ClientError("request '" + std::string(method) + "' is " + std::to_string(line.size()) +
                          " bytes, over the limit of " + std::to_string(kMaxLineBytes));
    line += '\n';
    const std::string want = std::to_string(id);
    try {
        sendAll(line, deadline, method);
        for (;;) {
            std::string reply = readLine(deadline, method);
            Response response;
            if (auto err = decodeResponse(reply, response)) throw ClientError(*err + " from " + path_);
            if (response.id == want || (!response.ok && response.id == "null")) return response;
        }
    } catch (const ClientError&) {
        close();
        throw;
    }
}

void Client::waitFor(short events, std::optional<Clock::time_point> deadline, std::string_view method) {
    for (;;) {
        int waitMs = -1;
        if (deadline) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            if (left.count() <= 0)
                throw ClientError("timed out waiting for the reply to '" + std::string(method) + "' from " + path_);
            waitMs = static_cast<int>(std::min<long long>(left.count(), 60'000));
        }
        pollfd pfd{fd_, events, 0};
        int n = ::poll(&pfd, 1, waitMs);
        if (n > 0) return;  // ready, or HUP/ERR: the next read/send reports it
        if (n < 0 && errno != EINTR) throw ClientError("poll on " + path_ + ": " + std::strerror(errno));
    }
}

void Client::sendAll(std::string_view data, std::optional<Clock::time_point> deadline, std::string_view method) {
    while (!data.empty()) {
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            waitFor(POLLOUT, deadline, method);
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            throw ClientError("connection closed by " + path_ + " while sending '" + std::string(method) + "'");
        throw ClientError("send to " + path_ + ": " + std::strerror(errno));
    }
}

std::string Client::readLine(std::optional<Clock::time_point> deadline, std::string_view method) {
    std::size_t scanned = 0;
    for (;;) {
        auto nl = buffer_.find('\n', scanned);
        if (nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            scanned = 0;
            if (line.size() > kMaxLineBytes) break;
            if (line.empty()) continue;
            return line;
        }
        scanned = buffer_.size();
        if (buffer_.size() > kMaxLineBytes) break;
        waitFor(POLLIN, deadline, method);
        char chunk[kReadChunk];
        ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(n));
        } else if (n == 0 || errno == ECONNRESET) {
            throw ClientError("connection closed by " + path_ + " before the reply to '" + std::string(method) + "'");
        } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            throw ClientError("receive from " + path_ + ": " + std::strerror(errno));
        }
    }
    throw ClientError("response line from " + path_ + " exceeds " + std::to_string(kMaxLineBytes) + " bytes");
}

}  // namespace vs::protocol
