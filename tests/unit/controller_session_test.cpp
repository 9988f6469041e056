// A switch-side controller session (vswitchd/controller_session.h) over real loopback TCP, the test
// playing the controller: hello and version negotiation, echo, features, flow_mod, barrier,
// errors that quote the offending xid while the session stays up, the oversized-message limit,
// and the inactivity probe; in binary OpenFlow 1.3, frames split or joined across reads, a
// header declaring under 8 bytes, and the probe as an OpenFlow echo_request.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "datapath/dummy_port.h"
#include "protocol/ofmsg.h"
#include "vswitchd/controller_session.h"

namespace vs::vswitchd {
namespace {

namespace asio = boost::asio;
namespace of = protocol::of;
using tcp = asio::ip::tcp;

class SessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        of_ = std::make_unique<ofproto::Ofproto>();
        of_->addBridge("br0");
        of_->addPort("br0", "p1", 1, std::make_shared<dp::DummyPort>("p1"));
        handler_ = std::make_unique<OfRequestHandler>(*of_);
        handler13_ = std::make_unique<Of13Handler>(*of_);
        io_thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        if (fd_ >= 0) ::close(fd_);
        asio::post(io_, [this] {
            if (session_) session_->detach("test over");
            session_.reset();
            acceptor_.reset();
        });
        work_.reset();
        io_thread_.join();
    }

    // Starts a session with `probe_ms` on the switch side and connects the test's socket to it.
    void connect(std::int64_t probe_ms = 0, bool openflow13 = false) {
        // Everything the io thread uses is captured by value: connect() may return (and its
        // frame be gone) while that thread is still inside this handler (ASan:
        // stack-use-after-return on probe_ms and on the promise, when captured by reference).
        auto port = std::make_shared<std::promise<std::uint16_t>>();
        auto ready = port->get_future();
        asio::post(io_, [this, probe_ms, port, openflow13] {
            acceptor_ = std::make_unique<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
            port->set_value(acceptor_->local_endpoint().port());
            acceptor_->async_accept([this, probe_ms, openflow13](const boost::system::error_code& ec, tcp::socket s) {
                ASSERT_FALSE(ec);
                OfSession::Events ev;
                ev.down = [this](const std::string& reason, bool) { down_reason_ = reason; };
                protocol::ChannelLimits limits;
                if (openflow13) limits.framing = protocol::Framing::kOpenFlow;
                session_ = std::make_shared<OfSession>(io_, protocol::LineChannel::plain(std::move(s), limits), *handler_,
                                                       OfSession::Settings{"br0", "ptcp:test", probe_ms, 1000, 100}, ev,
                                                       openflow13 ? handler13_.get() : nullptr);
                session_->start();
            });
        });
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(ready.get());
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        timeval tv{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    void sendLine(const std::string& line) {
        std::string l = line + "\n";
        ASSERT_EQ(::send(fd_, l.data(), l.size(), MSG_NOSIGNAL), static_cast<ssize_t>(l.size()));
    }
    void sendMsg(const of::Message& m) { sendLine(of::encode(m)); }
    // The next line from the switch; "" on EOF or timeout.
    std::string readLine() {
        while (true) {
            auto nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            char chunk[65536];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) return "";
            buf_.append(chunk, static_cast<std::size_t>(n));
        }
    }
    of::Message readMsg() {
        std::string line = readLine();
        auto d = of::decode(line);
        if (!std::holds_alternative<of::Message>(d)) {
            ADD_FAILURE() << "not a message: '" << line << "'";
            return {};
        }
        return std::get<of::Message>(d);
    }
    void handshake() {
        of::Message hello = readMsg();
        ASSERT_TRUE(std::holds_alternative<of::Hello>(hello.body)) << "the switch says hello first";
        sendMsg({1, of::Hello{}});
    }

    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
    std::thread io_thread_;
    std::unique_ptr<ofproto::Ofproto> of_;
    std::unique_ptr<OfRequestHandler> handler_;
    std::unique_ptr<Of13Handler> handler13_;
    std::unique_ptr<tcp::acceptor> acceptor_;
    std::shared_ptr<OfSession> session_;
    std::string down_reason_;
    int fd_ = -1;
    std::string buf_;

    // Binary OpenFlow 1.3 (connect(probe_ms, true)): raw bytes out, whole frames back.
    void sendBytes(const std::string& b) {
        ASSERT_EQ(::send(fd_, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
    }
    // The next frame from the switch; "" on EOF or timeout.
    std::string readFrame() {
        while (true) {
            if (buf_.size() >= 8) {
                std::size_t len = protocol::of13::frameLength(buf_);
                if (buf_.size() >= len) {
                    std::string f = buf_.substr(0, len);
                    buf_.erase(0, len);
                    return f;
                }
            }
            char chunk[65536];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) return "";
            buf_.append(chunk, static_cast<std::size_t>(n));
        }
    }
};

std::string of13Bytes(std::uint32_t xid, protocol::of13::Body body) {
    return protocol::of13::encode(protocol::of13::Message{xid, std::move(body)});
}

TEST_F(SessionTest, HelloEchoFeaturesFlowModBarrier) {
    connect();
    handshake();
    sendMsg({7, of::EchoRequest{"ping"}});
    of::Message m = readMsg();
    EXPECT_EQ(m, (of::Message{7, of::EchoReply{"ping"}}));
    sendMsg({8, of::FeaturesRequest{}});
    m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::FeaturesReply>(m.body));
    EXPECT_EQ(m.xid, 8u);
    const auto& f = std::get<of::FeaturesReply>(m.body);
    ASSERT_EQ(f.ports.size(), 1u);
    EXPECT_EQ(f.ports[0].name, "p1");
    EXPECT_EQ(f.datapath_id.size(), 16u);
    sendMsg({9, of::FlowMod{of::FlowModCommand::kAdd, "priority=77,cookie=0x5,in_port=1,actions=drop"}});
    sendMsg({10, of::BarrierRequest{}});
    m = readMsg();
    EXPECT_EQ(m, (of::Message{10, of::BarrierReply{}})) << "a successful flow_mod has no reply; the barrier follows it";
    bool found = false;
    for (const auto& r : of_->rules("br0", ofproto::kTableAll, ofproto::Match{})) found |= r->priority == 77 && r->cookie == 5;
    EXPECT_TRUE(found) << "the controller's rule is in the table";
    sendMsg({11, of::MultipartRequest{of::StatsType::kFlow, "cookie=0x5/0xffffffffffffffff", std::nullopt}});
    m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::MultipartReply>(m.body));
    ASSERT_EQ(std::get<of::MultipartReply>(m.body).flows.size(), 1u);
    EXPECT_EQ(std::get<of::MultipartReply>(m.body).flows[0].match, "in_port=1");
}

TEST_F(SessionTest, BadMessagesGetErrorsQuotingThemAndTheSessionStaysUp) {
    connect();
    handshake();
    sendLine("this is not json");
    of::Message m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::Error>(m.body));
    EXPECT_EQ(m.xid, 0u);
    EXPECT_EQ(std::get<of::Error>(m.body).code, "bad_syntax");
    EXPECT_EQ(std::get<of::Error>(m.body).data, "this is not json");
    sendLine(R"({"type":"teleport","xid":42})");
    m = readMsg();
    EXPECT_EQ(m.xid, 42u);
    EXPECT_EQ(std::get<of::Error>(m.body).code, "bad_type");
    sendMsg({43, of::FlowMod{of::FlowModCommand::kAdd, "ip,nw_srcc=1,actions=drop"}});
    m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::Error>(m.body));
    EXPECT_EQ(m.xid, 43u);
    const auto& e = std::get<of::Error>(m.body);
    EXPECT_EQ(e.type, "flow_mod_failed");
    EXPECT_EQ(e.code, "bad_flow");
    EXPECT_NE(e.message.find("nw_srcc"), std::string::npos) << e.message;
    sendMsg({44, of::FlowMod{of::FlowModCommand::kAdd, "table=254,actions=drop"}});
    EXPECT_EQ(std::get<of::Error>(readMsg().body).code, "bad_flow");
    sendMsg({45, of::PacketOut{77, "output:1", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0}}});
    m = readMsg();
    EXPECT_EQ(m.xid, 45u);
    EXPECT_EQ(std::get<of::Error>(m.body).code, "bad_port");
    sendMsg({46, of::PacketIn{}});
    EXPECT_EQ(std::get<of::Error>(readMsg().body).code, "bad_type") << "a switch does not take packet_in";
    sendMsg({47, of::EchoRequest{"still here"}});
    EXPECT_EQ(readMsg(), (of::Message{47, of::EchoReply{"still here"}}));
}

TEST_F(SessionTest, OversizedMessageIsRefusedAndTheConnectionClosed) {
    connect();
    handshake();
    std::string big(of::kMaxMessageBytes + 10, 'x');
    ::send(fd_, big.data(), big.size(), MSG_NOSIGNAL);
    of::Message m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::Error>(m.body));
    EXPECT_EQ(std::get<of::Error>(m.body).code, "bad_len");
    EXPECT_EQ(readLine(), "") << "closed after the error";
}

TEST_F(SessionTest, NoCommonVersionIsHelloFailed) {
    connect();
    readMsg();
    sendMsg({3, of::Hello{{7, 9}}});
    of::Message m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::Error>(m.body));
    EXPECT_EQ(std::get<of::Error>(m.body).type, "hello_failed");
    EXPECT_EQ(m.xid, 3u);
    EXPECT_EQ(readLine(), "");
}

TEST_F(SessionTest, InactivityProbeThenDisconnect) {
    connect(300);
    handshake();
    auto t0 = std::chrono::steady_clock::now();
    of::Message m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::EchoRequest>(m.body)) << "probe after 300 ms of silence";
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
    sendMsg({m.xid, of::EchoReply{}});
    m = readMsg();
    ASSERT_TRUE(std::holds_alternative<of::EchoRequest>(m.body)) << "answered: probed again later";
    EXPECT_EQ(readLine(), "") << "unanswered: the switch hangs up";
    std::promise<std::string> reason;
    asio::post(io_, [&] { reason.set_value(down_reason_); });
    EXPECT_NE(reason.get_future().get().find("inactivity probe"), std::string::npos);
}

TEST_F(SessionTest, OpenFlow13FramesSplitOrJoinedAcrossReads) {
    namespace of13 = protocol::of13;
    connect(0, true);
    std::string hello = readFrame();
    ASSERT_EQ(hello.size(), 16u);
    EXPECT_EQ(static_cast<unsigned char>(hello[1]), of13::kHello);
    std::string mine = of13Bytes(1, of13::Hello{});
    sendBytes(mine.substr(0, 3));  // a header cut in two writes
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sendBytes(mine.substr(3));
    // Two requests in one write, then one byte by byte: answered in order.
    sendBytes(of13Bytes(2, of13::EchoRequest{"a"}) + of13Bytes(3, of13::BarrierRequest{}));
    for (char c : of13Bytes(4, of13::EchoRequest{"bc"})) sendBytes(std::string(1, c));
    std::string r = readFrame();
    EXPECT_EQ(static_cast<unsigned char>(r[1]), of13::kEchoReply);
    EXPECT_EQ(r.substr(8), "a");
    r = readFrame();
    EXPECT_EQ(static_cast<unsigned char>(r[1]), of13::kBarrierReply);
    r = readFrame();
    EXPECT_EQ(static_cast<unsigned char>(r[1]), of13::kEchoReply);
    EXPECT_EQ(r.substr(8), "bc");
    // A header declaring 4 bytes: BAD_REQUEST/BAD_LEN, then the switch closes (no resync).
    sendBytes(std::string("\x04\x02\x00\x04\x00\x00\x00\x09", 8));
    r = readFrame();
    ASSERT_GE(r.size(), 12u);
    EXPECT_EQ(static_cast<unsigned char>(r[1]), of13::kError);
    EXPECT_EQ(static_cast<unsigned char>(r[9]), of13::kBadRequest);
    EXPECT_EQ(static_cast<unsigned char>(r[11]), of13::code::kBadLen);
    EXPECT_EQ(readFrame(), "") << "the connection closes";
}

TEST_F(SessionTest, OpenFlow13InactivityProbeIsAnEchoRequest) {
    namespace of13 = protocol::of13;
    connect(200, true);
    readFrame();
    sendBytes(of13Bytes(1, of13::Hello{}));
    std::string probe = readFrame();
    ASSERT_EQ(probe.size(), 8u);
    EXPECT_EQ(static_cast<unsigned char>(probe[1]), of13::kEchoRequest);
}

}  // namespace
}  // namespace vs::vswitchd
