// Blocking JSON-RPC client (protocol/client.h) against sockets made in a temporary directory:
// connect failures, timeouts, id matching, EOF and oversized lines.
#include "protocol/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace vs::protocol {
namespace {

using namespace std::chrono_literals;

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

class ClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/vsclient.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/s.sock";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    // A bound socket; listening unless `listen` is false.
    Fd makeServer(bool listen = true) {
        Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
        EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        if (listen) {
            EXPECT_EQ(::listen(fd.get(), 4), 0);
        }
        return fd;
    }

    // Accepts one client, reads one request line, then writes `reply` (raw bytes).
    std::thread serveOnce(const Fd& server, std::string reply) {
        int sfd = server.get();
        return std::thread([sfd, reply = std::move(reply)] {
            Fd conn(::accept(sfd, nullptr, nullptr));
            std::string line;
            char c;
            while (::read(conn.get(), &c, 1) == 1 && c != '\n') line += c;
            std::size_t off = 0;
            while (off < reply.size()) {
                ssize_t n = ::send(conn.get(), reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
                if (n <= 0) break;
                off += static_cast<std::size_t>(n);
            }
        });
    }

    std::string errorOf(auto&& fn) {
        try {
            fn();
        } catch (const ClientError& e) {
            return e.what();
        }
        return "<no error>";
    }

    std::string dir_;
    std::string path_;
};

TEST_F(ClientTest, MissingSocketFailsAtOnceNamingThePath) {
    // No timeout: it must still return (ENOENT is not worth waiting for).
    std::string msg = errorOf([&] { Client::connect(path_); });
    EXPECT_EQ(msg, "cannot connect to " + path_ + ": No such file or directory (is vswitchd running?)");
}

TEST_F(ClientTest, StaleSocketFileIsConnectionRefused) {
    { Fd bound = makeServer(false); }  // bound, never listening, closed: a stale file
    std::string msg = errorOf([&] { Client::connect(path_); });
    EXPECT_EQ(msg, "cannot connect to " + path_ + ": Connection refused (is vswitchd running?)");
}

TEST_F(ClientTest, TooLongPathIsRejected) {
    std::string msg = errorOf([&] { Client::connect("/tmp/" + std::string(200, 'x')); });
    EXPECT_NE(msg.find("socket path is longer than 107 bytes"), std::string::npos) << msg;
}

TEST_F(ClientTest, SilentServerTimesOut) {
    Fd server = makeServer();  // listens, never accepts nor answers
    Client client = Client::connect(path_, 200ms);
    std::string msg = errorOf([&] { client.call("get", rapidjson::Value()); });
    EXPECT_EQ(msg, "timed out waiting for the reply to 'get' from " + path_);
}

TEST_F(ClientTest, DeadlineAlsoBoundsCalls) {
    Fd server = makeServer();
    Client client = Client::connect(path_);
    client.setDeadline(Client::Clock::now() + 100ms);
    EXPECT_NE(errorOf([&] { client.call("get", rapidjson::Value()); }).find("timed out"), std::string::npos);
}

TEST_F(ClientTest, SkipsOtherIdsAndReturnsItsOwn) {
    Fd server = makeServer();
    std::thread t = serveOnce(server, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":\"other\"}\n\n"
                                      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"version\":\"0.1.0\"}}\n");
    Client client = Client::connect(path_, 5s);
    Response r = client.call("version", rapidjson::Value());
    t.join();
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.id, "1");
    EXPECT_STREQ(r.result["version"].GetString(), "0.1.0");
}

TEST_F(ClientTest, NullIdErrorIsReturnedAsOurs) {
    Fd server = makeServer();
    std::thread t = serveOnce(server, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32006,\"message\":\"busy\"}}\n");
    Client client = Client::connect(path_, 5s);
    Response r = client.call("get", rapidjson::Value());
    t.join();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.code, -32006);
    EXPECT_EQ(r.message, "busy");
}

TEST_F(ClientTest, EofBeforeReply) {
    Fd server = makeServer();
    std::thread t = serveOnce(server, "");
    Client client = Client::connect(path_, 5s);
    std::string msg = errorOf([&] { client.call("get", rapidjson::Value()); });
    t.join();
    EXPECT_EQ(msg, "connection closed by " + path_ + " before the reply to 'get'");
    EXPECT_EQ(errorOf([&] { client.call("get", rapidjson::Value()); }), "the connection to " + path_ + " is closed");
}

TEST_F(ClientTest, MalformedReply) {
    Fd server = makeServer();
    std::thread t = serveOnce(server, "not json\n");
    Client client = Client::connect(path_, 5s);
    std::string msg = errorOf([&] { client.call("get", rapidjson::Value()); });
    t.join();
    EXPECT_TRUE(msg.starts_with("malformed response")) << msg;
}

TEST_F(ClientTest, OversizedLineIsRefused) {
    Fd server = makeServer();
    std::thread t = serveOnce(server, std::string(kMaxLineBytes + 10, 'x'));
    Client client = Client::connect(path_, 10s);
    std::string msg = errorOf([&] { client.call("get", rapidjson::Value()); });
    EXPECT_EQ(msg, "response line from " + path_ + " exceeds " + std::to_string(kMaxLineBytes) + " bytes");
    { Client drop = std::move(client); }  // closes: unblocks the server's send
    t.join();
}

}  // namespace
}  // namespace vs::protocol
