// Management server (vswitchd/mgmt_server.h) over real Unix sockets in a temp dir: framing, error
// replies, notifications, per-connection limits, stale-socket handling, cleanup.
#include "vswitchd/mgmt_server.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace vs::vswitchd {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

int connectUnix(const fs::path& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// A blocking test client with timeouts.
class Client {
public:
    explicit Client(const fs::path& path) : fd_(connectUnix(path)) {}
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return fd_ >= 0; }
    bool send(std::string_view s) {
        while (!s.empty()) {
            ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }
    // The next line (without '\n'); nullopt on EOF, error or timeout (then `eof_` says which).
    std::optional<std::string> readLine(int timeoutMs = 5000) {
        for (;;) {
            auto nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, timeoutMs) <= 0) {
                eof_ = false;
                return std::nullopt;
            }
            char tmp[65536];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) {  // 0: orderly close; <0: ECONNRESET after the server closed with unread data
                eof_ = true;
                return std::nullopt;
            }
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
    }
    // True if the server closes the connection (within the timeout) without sending another line.
    bool closedByServer(int timeoutMs = 5000) { return !readLine(timeoutMs) && eof_; }
    std::string request(const std::string& line) {
        EXPECT_TRUE(send(line + "\n"));
        return readLine().value_or("<no reply>");
    }

private:
    int fd_;
    std::string buf_;
    bool eof_ = false;
};

std::string req(int id, const std::string& method, const std::string& params = "") {
    std::string s = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + "\"";
    if (!params.empty()) s += ",\"params\":" + params;
    return s + "}";
}

class MgmtServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vs-mgmt-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        sock_ = dir_ / "run" / "vswitchd.sock";
        methods_.add("echo", [](const protocol::Request& r, rapidjson::Document& result) {
            result.CopyFrom(r.params, result.GetAllocator());
        });
        methods_.add("fail", [](const protocol::Request&, rapidjson::Document&) {
            auto data = std::make_shared<rapidjson::Document>(rapidjson::kObjectType);
            data->AddMember("field", "bridge", data->GetAllocator());
            throw RpcError(protocol::ErrorCode::kInvalidValue, "bad bridge", data);
        });
        methods_.add("boom", [](const protocol::Request&, rapidjson::Document&) {
            throw std::runtime_error("kaboom");
        });
        methods_.add("big", [](const protocol::Request& r, rapidjson::Document& result) {
            std::string s(r.params["size"].GetUint(), 'x');
            result.SetString(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), result.GetAllocator());
        });
        methods_.add("note", [this](const protocol::Request&, rapidjson::Document&) { ++notes_; });
    }
    void TearDown() override {
        stop();
        fs::remove_all(dir_);
    }

    // Runs `f` on the io thread and waits for it.
    template <class F>
    auto onIo(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io_, [&task] { task(); });
        return fut.get();
    }
    void start(MgmtLimits limits = {}) {
        server_ = std::make_unique<MgmtServer>(io_, sock_, methods_, limits);
        work_.emplace(asio::make_work_guard(io_));
        thread_ = std::thread([this] { io_.run(); });
    }
    void stop() {
        if (!thread_.joinable()) return;
        onIo([this] { server_.reset(); });
        work_.reset();
        io_.stop();
        thread_.join();
    }
    rapidjson::Document parse(const std::string& line) {
        rapidjson::Document d;
        d.Parse(line.c_str());
        EXPECT_FALSE(d.HasParseError()) << line;
        return d;
    }
    int errorCode(const std::string& line) {
        auto d = parse(line);
        if (!d.IsObject() || !d.HasMember("error")) return 0;
        return d["error"]["code"].GetInt();
    }

    fs::path dir_, sock_;
    MethodTable methods_;
    std::atomic<int> notes_{0};
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::unique_ptr<MgmtServer> server_;
    std::thread thread_;
};

TEST_F(MgmtServerTest, GoodRequest) {
    start();
    Client c(sock_);
    ASSERT_TRUE(c.connected());
    EXPECT_EQ(c.request(req(1, "echo", R"({"a":[1,"x"]})")), R"({"jsonrpc":"2.0","id":1,"result":{"a":[1,"x"]}})");
    EXPECT_EQ(c.request(R"({"jsonrpc":"2.0","id":"s1","method":"echo","params":[]})"),
              R"({"jsonrpc":"2.0","id":"s1","result":[]})");
}

TEST_F(MgmtServerTest, GarbageThenGoodRequestOnSameConnection) {
    start();
    Client c(sock_);
    std::string reply = c.request("this is not json");
    EXPECT_EQ(errorCode(reply), -32700) << reply;
    EXPECT_TRUE(parse(reply)["id"].IsNull());
    reply = c.request(R"({"jsonrpc":"1.0","id":4,"method":"echo"})");
    EXPECT_EQ(errorCode(reply), -32600) << reply;
    EXPECT_EQ(parse(reply)["id"].GetInt(), 4);
    reply = c.request(R"({"jsonrpc":"2.0","id":5,"method":"echo","params":"x"})");
    EXPECT_EQ(errorCode(reply), -32600) << reply;
    EXPECT_EQ(c.request(req(6, "echo", "{}")), R"({"jsonrpc":"2.0","id":6,"result":{}})");
}

TEST_F(MgmtServerTest, MethodErrors) {
    start();
    Client c(sock_);
    EXPECT_EQ(c.request(req(1, "nope")),
              R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"unknown method 'nope'"}})");
    EXPECT_EQ(c.request(req(2, "fail")),
              R"({"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"bad bridge","data":{"field":"bridge"}}})");
    EXPECT_EQ(c.request(req(3, "boom")),
              R"({"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"kaboom"}})");
    EXPECT_EQ(c.request(req(4, "echo", "[]")), R"({"jsonrpc":"2.0","id":4,"result":[]})") << "still open";
}

TEST_F(MgmtServerTest, NotificationsGetNoReply) {
    start();
    Client c(sock_);
    ASSERT_TRUE(c.send(R"({"jsonrpc":"2.0","method":"note"})" "\n"
                       R"({"jsonrpc":"2.0","method":"nope"})" "\n"
                       R"({"jsonrpc":"2.0","method":"boom"})" "\n"));
    EXPECT_EQ(c.request(req(9, "echo", "[9]")), R"({"jsonrpc":"2.0","id":9,"result":[9]})")
        << "the first reply is the request's: notifications were not answered";
    EXPECT_EQ(notes_.load(), 1) << "the notification was dispatched";
}

TEST_F(MgmtServerTest, PipelinedSplitAndCrlfLines) {
    start();
    Client c(sock_);
    ASSERT_TRUE(c.send(req(1, "echo", "[1]") + "\n\n" + req(2, "echo", "[2]") + "\r\n"));
    std::string third = req(3, "echo", "[3]") + "\n";
    ASSERT_TRUE(c.send(third.substr(0, 5)));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(c.send(third.substr(5)));
    EXPECT_EQ(c.readLine(), R"({"jsonrpc":"2.0","id":1,"result":[1]})");
    EXPECT_EQ(c.readLine(), R"({"jsonrpc":"2.0","id":2,"result":[2]})");
    EXPECT_EQ(c.readLine(), R"({"jsonrpc":"2.0","id":3,"result":[3]})");
}

TEST_F(MgmtServerTest, RequestBeforeShutdownIsStillAnswered) {
    start();
    Client c(sock_);
    ASSERT_TRUE(c.send(req(1, "echo", "[1]")));  // no newline: EOF ends the line
    c.shutdownWrite();
    EXPECT_EQ(c.readLine(), R"({"jsonrpc":"2.0","id":1,"result":[1]})");
    EXPECT_TRUE(c.closedByServer());
}

TEST_F(MgmtServerTest, OversizeLineClosesOnlyThatConnection) {
    MgmtLimits limits;
    limits.maxLineBytes = 1024;
    start(limits);
    Client other(sock_);
    ASSERT_EQ(errorCode(other.request(req(1, "echo", "[]"))), 0);
    Client partial(sock_);  // an over-long line still without its newline
    ASSERT_TRUE(partial.send(std::string(2000, 'x')));
    std::optional<std::string> reply = partial.readLine();
    ASSERT_TRUE(reply);
    EXPECT_EQ(errorCode(*reply), -32005) << *reply;
    EXPECT_TRUE(partial.closedByServer());
    Client whole(sock_);  // a complete over-long line after a good one
    ASSERT_TRUE(whole.send(req(2, "echo", "[]") + "\n" + "[" + std::string(1100, '1') + "]\n"));
    EXPECT_EQ(whole.readLine(), R"({"jsonrpc":"2.0","id":2,"result":[]})");
    reply = whole.readLine();
    ASSERT_TRUE(reply);
    EXPECT_EQ(errorCode(*reply), -32005);
    EXPECT_TRUE(whole.closedByServer());
    EXPECT_EQ(other.request(req(3, "echo", "[3]")), R"({"jsonrpc":"2.0","id":3,"result":[3]})");
    Client exact(sock_);  // exactly at the limit is fine
    std::string padded = req(4, "echo", "[\"" + std::string(1024 - req(4, "echo", "[\"\"]").size(), 'a') + "\"]");
    ASSERT_EQ(padded.size(), 1024u);
    EXPECT_EQ(errorCode(exact.request(padded)), 0);
}

TEST_F(MgmtServerTest, DefaultLineLimitIsFourMiB) {
    start();
    Client big(sock_);
    std::thread writer([&big] { big.send(std::string(protocol::kMaxLineBytes + 1, ' ') + "\n"); });
    std::optional<std::string> reply = big.readLine();
    writer.join();
    ASSERT_TRUE(reply);
    EXPECT_EQ(errorCode(*reply), -32005);
    EXPECT_TRUE(big.closedByServer());
    Client c(sock_);
    EXPECT_EQ(errorCode(c.request(req(1, "echo", "[]"))), 0);
}

TEST_F(MgmtServerTest, SixtyFifthClientIsTurnedAway) {
    start();
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 64; ++i) {
        clients.push_back(std::make_unique<Client>(sock_));
        ASSERT_EQ(errorCode(clients.back()->request(req(i, "echo", "[]"))), 0) << i;
    }
    EXPECT_EQ(onIo([this] { return server_->clientCount(); }), 64u);
    Client extra(sock_);
    std::optional<std::string> reply = extra.readLine();
    ASSERT_TRUE(reply);
    EXPECT_EQ(errorCode(*reply), -32006) << *reply;
    EXPECT_TRUE(extra.closedByServer());
    EXPECT_EQ(errorCode(clients[10]->request(req(99, "echo", "[]"))), 0) << "the others are unaffected";
    clients.pop_back();
    for (int tries = 0; tries < 500 && onIo([this] { return server_->clientCount(); }) != 63u; ++tries)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    Client again(sock_);
    EXPECT_EQ(errorCode(again.request(req(100, "echo", "[]"))), 0) << "a freed slot is reusable";
}

TEST_F(MgmtServerTest, ClientThatDoesNotReadIsClosed) {
    MgmtLimits limits;
    limits.maxQueuedBytes = 256 * 1024;
    start(limits);
    Client other(sock_);
    Client lazy(sock_);
    std::string burst;
    for (int i = 0; i < 400; ++i) burst += req(i, "big", R"({"size":65536})") + "\n";
    lazy.send(burst);  // 400 x 64 KiB of replies, none read yet
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int replies = 0;
    while (lazy.readLine()) ++replies;
    EXPECT_LT(replies, 400);
    EXPECT_TRUE(lazy.closedByServer(100));
    EXPECT_EQ(other.request(req(1, "echo", "[1]")), R"({"jsonrpc":"2.0","id":1,"result":[1]})");
}

// The socket is born 0660 even under umask 0 (bind runs under umask 0117: no window in which it is
// world-connectable), and the optional group is applied to it.
TEST_F(MgmtServerTest, SocketIsBorn0660AndTakesTheGroup) {
    MgmtLimits limits;
    limits.group = 65534;  // nogroup
    mode_t old = ::umask(0);
    start(limits);
    EXPECT_EQ(::umask(old), 0u) << "the server restores the process umask";
    struct stat st{};
    ASSERT_EQ(::stat(sock_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    EXPECT_EQ(st.st_gid, 65534u);
    Client c(sock_);
    EXPECT_EQ(errorCode(c.request(req(1, "echo", "[]"))), 0);
}

TEST_F(MgmtServerTest, SocketModeParentDirectoryAndCleanup) {
    start();
    struct stat st{};
    ASSERT_EQ(::stat(sock_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0660u);
    ASSERT_EQ(::stat(sock_.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    EXPECT_EQ(onIo([this] { return server_->socketPath(); }), sock_);
    Client c(sock_);
    ASSERT_EQ(errorCode(c.request(req(1, "echo", "[]"))), 0);
    onIo([this] { server_->close(); server_->close(); });
    EXPECT_FALSE(fs::exists(sock_));
    EXPECT_TRUE(c.closedByServer()) << "close() disconnects clients";
    EXPECT_EQ(connectUnix(sock_), -1);
}

TEST_F(MgmtServerTest, StaleSocketIsReplaced) {
    fs::create_directories(sock_.parent_path());
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the file stays, nobody listens: what a crashed daemon leaves
    ASSERT_TRUE(fs::exists(sock_));
    start();
    Client c(sock_);
    EXPECT_EQ(errorCode(c.request(req(1, "echo", "[]"))), 0);
}

TEST_F(MgmtServerTest, LiveServerIsNotDisplaced) {
    start();
    try {
        MgmtServer second(io_, sock_, methods_);
        ADD_FAILURE() << "a second server took over a live socket";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(sock_.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("another vswitchd"), std::string::npos) << e.what();
    }
    Client c(sock_);
    EXPECT_EQ(errorCode(c.request(req(1, "echo", "[]"))), 0) << "the first server still works";
}

TEST_F(MgmtServerTest, ForeignListenerIsNotDisplaced) {
    fs::create_directories(sock_.parent_path());
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 4), 0);  // a live daemon that does not use our lock file
    try {
        MgmtServer server(io_, sock_, methods_);
        ADD_FAILURE() << "took over a socket someone listens on";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("already listening"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(sock_));
    ::close(fd);
}

TEST_F(MgmtServerTest, NonSocketPathIsNotRemoved) {
    fs::create_directories(sock_.parent_path());
    { std::ofstream(sock_) << "precious"; }
    EXPECT_THROW((MgmtServer{io_, sock_, methods_}), std::runtime_error);
    std::ifstream in(sock_);
    std::string content;
    in >> content;
    EXPECT_EQ(content, "precious");
}

}  // namespace
}  // namespace vs::vswitchd
