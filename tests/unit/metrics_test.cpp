// Prometheus metrics (vswitchd/metrics.h, vswitchd/metrics_server.h): the text exposition format
// (escaping, one HELP/TYPE per family, samples grouped by family, values), the --metrics address
// syntax, and the HTTP endpoint over real loopback TCP (200/404/405/400/431, keep-alive, limits,
// slow clients closed by the timeouts while others are served).
#include "vswitchd/metrics.h"
#include "vswitchd/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace vs::vswitchd {
namespace {

namespace asio = boost::asio;
using metrics::Exposition;
using metrics::Type;

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) out.push_back(l);
    return out;
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
    EXPECT_EQ(metrics::escapeLabelValue(R"(a"b\c)" "\n" "d"), R"(a\"b\\c\nd)");
    EXPECT_EQ(metrics::escapeLabelValue("br0"), "br0");
    EXPECT_EQ(metrics::escapeHelp("x\\y \"q\"\nz"), "x\\\\y \"q\"\\nz");  // quotes stay in HELP
    Exposition e;
    e.family("m", Type::kGauge, "help with \\ and\nnewline").add({{"port", "we\"ird\\name\n"}}, 1);
    EXPECT_EQ(e.text(),
              "# HELP m help with \\\\ and\\nnewline\n"
              "# TYPE m gauge\n"
              "m{port=\"we\\\"ird\\\\name\\n\"} 1\n");
}

TEST(MetricsText, OneFamilyPerNameSamplesGrouped) {
    Exposition e;
    auto& a = e.family("ovs_a_total", Type::kCounter, "A.");
    auto& b = e.family("ovs_b", Type::kGauge, "B.");
    a.add({{"bridge", "br0"}}, std::uint64_t{1});
    b.add({{"bridge", "br0"}}, 2);
    // Re-declared (as a loop over bridges does): the same family, samples stay together.
    e.family("ovs_a_total", Type::kCounter, "A.").add({{"bridge", "br1"}}, std::uint64_t{3});
    e.family("ovs_b", Type::kGauge, "B.").add({{"bridge", "br1"}}, 4);
    e.family("ovs_empty", Type::kGauge, "No samples: left out.");
    EXPECT_EQ(e.text(),
              "# HELP ovs_a_total A.\n# TYPE ovs_a_total counter\n"
              "ovs_a_total{bridge=\"br0\"} 1\novs_a_total{bridge=\"br1\"} 3\n"
              "# HELP ovs_b B.\n# TYPE ovs_b gauge\n"
              "ovs_b{bridge=\"br0\"} 2\novs_b{bridge=\"br1\"} 4\n");
    EXPECT_THROW(e.family("ovs_b", Type::kCounter, "B."), std::invalid_argument);
    EXPECT_THROW(e.family("ovs_b", Type::kGauge, "other help"), std::invalid_argument);
}

TEST(MetricsText, NamesAreChecked) {
    Exposition e;
    EXPECT_THROW(e.family("1abc", Type::kGauge, "x"), std::invalid_argument);
    EXPECT_THROW(e.family("a-b", Type::kGauge, "x"), std::invalid_argument);
    EXPECT_NO_THROW(e.family("ns:sub_total", Type::kCounter, "x"));
    auto& f = e.family("ok", Type::kGauge, "x");
    EXPECT_THROW(f.add({{"bad-label", "v"}}, 1), std::invalid_argument);
    EXPECT_THROW(f.add({{"__reserved", "v"}}, 1), std::invalid_argument);
    EXPECT_THROW(f.add({{"a:b", "v"}}, 1), std::invalid_argument);  // no colon in label names
    EXPECT_TRUE(metrics::validLabelName("interface"));
}

TEST(MetricsText, Values) {
    EXPECT_EQ(metrics::formatValue(0), "0");
    EXPECT_EQ(metrics::formatValue(-3), "-3");
    EXPECT_EQ(metrics::formatValue(1.5), "1.5");
    EXPECT_EQ(metrics::formatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(metrics::formatValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(metrics::formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(std::stod(metrics::formatValue(1.7e300)), 1.7e300);
    Exposition e;
    e.family("c_total", Type::kCounter, "x").add({}, std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(lines(e.text()).back(), "c_total 18446744073709551615");  // exact, not 1.8e19
}

TEST(MetricsAddress, Parse) {
    auto ep = parseMetricsAddress("9475");
    EXPECT_EQ(ep.address().to_string(), "127.0.0.1");
    EXPECT_EQ(ep.port(), 9475);
    EXPECT_EQ(parseMetricsAddress("0.0.0.0:80").address().to_string(), "0.0.0.0");
    EXPECT_EQ(parseMetricsAddress("localhost:1").address().to_string(), "127.0.0.1");
    ep = parseMetricsAddress("[::1]:9475");
    EXPECT_TRUE(ep.address().is_v6());
    EXPECT_EQ(ep.port(), 9475);
    for (const char* bad : {"", ":9475", "0", "65536", "1.2.3.4", "1.2.3.4:", "1.2.3.4:x", "300.1.1.1:80",
                            "example.com:80", "::1:80", "[::1]", "[::1]80", "1.2.3.4:80x"}) {
        try {
            parseMetricsAddress(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
        }
    }
}

// ---- the HTTP endpoint -------------------------------------------------------------------------

int connectTcp(unsigned short port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
};

class HttpClient {
public:
    explicit HttpClient(unsigned short port) : fd_(connectTcp(port)) {}
    ~HttpClient() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return fd_ >= 0; }
    bool send(std::string_view s) {
        while (!s.empty()) {
            ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            s.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
    // Reads until `done(buf)` or EOF/timeout; returns false on timeout.
    template <class Done>
    bool readUntil(Done done, int timeoutMs) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        while (!done(buf_)) {
            int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now()).count());
            pollfd p{fd_, POLLIN, 0};
            if (left <= 0 || ::poll(&p, 1, left) <= 0) return false;
            char tmp[65536];
            ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) {
                eof_ = true;
                return true;
            }
            buf_.append(tmp, static_cast<std::size_t>(n));
        }
        return true;
    }
    // One response (Content-Length framed).
    std::optional<Reply> response(int timeoutMs = 5000) {
        std::size_t end = 0, length = 0;
        auto complete = [&](const std::string& b) {
            auto h = b.find("\r\n\r\n");
            if (h == std::string::npos) return false;
            std::smatch m;
            std::string head = b.substr(0, h);
            static const std::regex cl("[Cc]ontent-[Ll]ength: *([0-9]+)");
            length = std::regex_search(head, m, cl) ? std::stoul(m[1]) : 0;
            end = h + 4;
            return b.size() >= end + length;
        };
        if (!readUntil(complete, timeoutMs) || !complete(buf_)) return std::nullopt;
        Reply r;
        std::istringstream head(buf_.substr(0, end - 4));
        std::string line;
        std::getline(head, line);
        if (line.size() < 12) return std::nullopt;
        r.status = std::stoi(line.substr(9, 3));
        while (std::getline(head, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            auto c = line.find(':');
            if (c == std::string::npos) continue;
            std::string k = line.substr(0, c);
            for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            r.headers[k] = line.substr(line.find_first_not_of(' ', c + 1));
        }
        r.body = buf_.substr(end, length);
        buf_.erase(0, end + length);
        return r;
    }
    // True if the server closes the connection within the timeout.
    bool closedByServer(int timeoutMs = 5000) {
        buf_.clear();
        eof_ = false;
        readUntil([](const std::string&) { return false; }, timeoutMs);
        return eof_;
    }

private:
    int fd_;
    std::string buf_;
    bool eof_ = false;
};

class MetricsServerTest : public ::testing::Test {
protected:
    void TearDown() override { stop(); }
    MetricsServer::Render render() {
        return [this] {
            ++renders_;
            Exposition e;
            e.family("test_up", Type::kGauge, "Up.").add({}, 1);
            return e.text();
        };
    }
    void startOnFreePort(MetricsLimits limits = {}) {
        asio::ip::tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
        server_ = std::make_unique<MetricsServer>(io_, any, render(), limits);
        port_ = server_->localEndpoint().port();
        work_.emplace(asio::make_work_guard(io_));
        thread_ = std::thread([this] { io_.run(); });
    }
    template <class F>
    auto onIo(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto fut = task.get_future();
        asio::post(io_, [&task] { task(); });
        return fut.get();
    }
    void stop() {
        if (!thread_.joinable()) return;
        onIo([this] { server_.reset(); });
        work_.reset();
        io_.stop();
        thread_.join();
    }
    std::optional<Reply> get(HttpClient& c, const std::string& request) {
        EXPECT_TRUE(c.send(request));
        return c.response();
    }

    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::unique_ptr<MetricsServer> server_;
    std::thread thread_;
    unsigned short port_ = 0;
    std::atomic<int> renders_{0};
};

TEST_F(MetricsServerTest, GetMetricsKeepAlive) {
    startOnFreePort();
    HttpClient c(port_);
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 3; ++i) {  // one connection, several scrapes
        auto r = get(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        EXPECT_EQ(r->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
        EXPECT_EQ(r->body, "# HELP test_up Up.\n# TYPE test_up gauge\ntest_up 1\n");
    }
    auto r = get(c, "GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\n\r\n");  // query string ignored
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(renders_, 4);
    r = get(c, "GET /metrics HTTP/1.0\r\n\r\n");  // HTTP/1.0: closed after the reply
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(c.closedByServer());
}

TEST_F(MetricsServerTest, NotFoundAndMethodNotAllowed) {
    startOnFreePort();
    HttpClient c(port_);
    auto r = get(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    r = get(c, "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    r = get(c, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->headers["allow"], "GET");
    r = get(c, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    r = get(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");  // still served on that connection
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // A request with a body: answered, the body is not read, the connection closed.
    r = get(c, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->headers["connection"], "close");
    EXPECT_TRUE(c.closedByServer());
    EXPECT_EQ(renders_, 1);
}

TEST_F(MetricsServerTest, GarbageGets400AndClose) {
    startOnFreePort();
    HttpClient c(port_);
    auto r = get(c, "\x16\x03\x01 this is not http\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(c.closedByServer());
}

TEST_F(MetricsServerTest, HeadersAreBounded) {
    MetricsLimits l;
    l.maxHeaderBytes = 1024;
    startOnFreePort(l);
    HttpClient c(port_);
    std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n";
    c.send(req);
    auto r = c.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(c.closedByServer());
    // Endless headers without the blank line: refused at the limit, not buffered forever.
    HttpClient d(port_);
    d.send("GET /metrics HTTP/1.1\r\n");
    for (int i = 0; i < 100; ++i) d.send("X-More: " + std::string(100, 'b') + "\r\n");
    r = d.response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
}

TEST_F(MetricsServerTest, SlowClientsTimeOutOthersServed) {
    MetricsLimits l;
    l.readTimeout = std::chrono::milliseconds(300);
    startOnFreePort(l);
    HttpClient silent(port_), partial(port_);
    ASSERT_TRUE(silent.connected());
    partial.send("GET /metr");  // a request never finished
    HttpClient ok(port_);
    auto r = get(ok, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");  // served meanwhile
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(silent.closedByServer(3000));
    EXPECT_TRUE(partial.closedByServer(3000));
}

TEST_F(MetricsServerTest, ConnectionsAreBoundedOldestIdleMakesRoom) {
    MetricsLimits l;
    l.maxClients = 2;
    startOnFreePort(l);
    HttpClient a(port_), b(port_);
    ASSERT_TRUE(get(a, "GET /metrics HTTP/1.1\r\n\r\n"));  // both accepted, now idle (keep-alive)
    ASSERT_TRUE(get(b, "GET /metrics HTTP/1.1\r\n\r\n"));
    HttpClient c(port_);  // the third: the oldest idle connection (a) is closed for it
    auto r = get(c, "GET /metrics HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(a.closedByServer());
    EXPECT_EQ(onIo([this] { return server_->clientCount(); }), 2u);
    r = get(b, "GET /metrics HTTP/1.1\r\n\r\n");  // b kept its slot
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(MetricsServerTest, RenderFailureIs500) {
    asio::ip::tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
    server_ = std::make_unique<MetricsServer>(io_, any, [] () -> std::string { throw std::runtime_error("nope"); });
    port_ = server_->localEndpoint().port();
    work_.emplace(asio::make_work_guard(io_));
    thread_ = std::thread([this] { io_.run(); });
    HttpClient c(port_);
    auto r = get(c, "GET /metrics HTTP/1.1\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
}

TEST_F(MetricsServerTest, BindFailureNamesTheAddress) {
    asio::ip::tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
    MetricsServer first(io_, any, [] { return std::string(); });
    auto taken = first.localEndpoint();
    try {
        MetricsServer second(io_, taken, [] { return std::string(); });
        ADD_FAILURE() << "bound a port in use";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(taken.port())), std::string::npos) << e.what();
    }
    try {
        MetricsServer other(io_, parseMetricsAddress("192.0.2.1:9475"), [] { return std::string(); });
        ADD_FAILURE() << "bound an address this host does not have";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("192.0.2.1:9475"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace vs::vswitchd
