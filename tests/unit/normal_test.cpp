// xlate NORMAL and the datapath cache on a bridge of dummy ports, driven synchronously.
#include <gtest/gtest.h>

#include <thread>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

class NormalTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        for (int i = 0; i < 3; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
            of->addPort("br0", ports[i]->name(), i + 1, ports[i]);
        }
    }
    // Sends `f` into port index `in`, runs the datapath, returns how many frames each port sent.
    std::array<std::size_t, 3> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        std::array<std::size_t, 3> n{};
        for (int i = 0; i < 3; ++i) n[i] = ports[i]->sent().size();
        return n;
    }
    Bytes frame(std::uint8_t dst, std::uint8_t src, int vlan = -1) {
        return eth(dst == 0xff ? kBcast : mac(dst), mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2)), vlan);
    }

    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
};

TEST_F(NormalTest, BroadcastFloodsToAllButIngress) {
    EXPECT_EQ(send(0, frame(0xff, 1)), (std::array<std::size_t, 3>{0, 1, 1}));
    auto out = ports[1]->sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].bytes, frame(0xff, 1)) << "frame leaves unchanged";
}

TEST_F(NormalTest, UnknownUnicastFloodsThenLearnedGoesToOnePort) {
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 1}));
    EXPECT_EQ(send(1, frame(1, 2)), (std::array<std::size_t, 3>{1, 0, 0})) << "host 1 was learned on p1";
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 0})) << "host 2 now learned on p2";
    auto fdb = of->fdb("br0");
    ASSERT_EQ(fdb.size(), 2u);
    EXPECT_EQ(fdb[0].port_name, "p1");
    EXPECT_EQ(fdb[1].port_name, "p2");
}

TEST_F(NormalTest, RepeatedFlowHitsCacheWithoutUpcall) {
    send(0, frame(2, 1));
    send(1, frame(1, 2));
    send(0, frame(2, 1));
    auto before = of->datapath().stats();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 0}));
    auto after = of->datapath().stats();
    EXPECT_EQ(after.missed, before.missed);
    EXPECT_EQ(after.hit, before.hit + 5);
    EXPECT_GE(after.flows, 1u);
}

TEST_F(NormalTest, DestinationBehindIngressIsFiltered) {
    send(0, frame(0xff, 1));
    send(0, frame(0xff, 3));  // host 3 also behind p1
    EXPECT_EQ(send(0, frame(3, 1)), (std::array<std::size_t, 3>{0, 0, 0}));
}

TEST_F(NormalTest, MacMoveLeavesNoStaleCachedDecision) {
    send(1, frame(0xff, 2));                                        // host 2 on p2
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 0}));
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 0}));  // cached now
    send(2, frame(0xff, 2));                                        // host 2 moves to p3
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 0, 1}));
}

TEST_F(NormalTest, AgingForgetsHostAndFloodsAgain) {
    of->setBridgeSettings("br0", {10, 8192});
    send(1, frame(0xff, 2));
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 0}));
    now += 11000;
    of->runPeriodic();
    EXPECT_TRUE(of->fdb("br0").empty()) << "the entry aged out";
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 1, 1})) << "unknown again: flooded";
}

TEST_F(NormalTest, RemovedPortGetsNothingAndNewPortIsFlooded) {
    send(1, frame(0xff, 2));
    send(0, frame(2, 1));
    of->removePort("br0", "p2");
    EXPECT_EQ(send(0, frame(2, 1)), (std::array<std::size_t, 3>{0, 0, 1})) << "p2's MACs forgotten";
    auto p4 = std::make_shared<dp::DummyPort>("p4");
    of->addPort("br0", "p4", 4, p4);
    send(0, frame(0xff, 1));
    EXPECT_EQ(p4->sent().size(), 1u);
}

TEST_F(NormalTest, LearningIsPerVlan) {
    send(1, frame(0xff, 2, 10));  // host 2 on p2, VLAN 10
    EXPECT_EQ(send(0, frame(2, 1, 10)), (std::array<std::size_t, 3>{0, 1, 0}));
    EXPECT_EQ(send(0, frame(2, 1, 20)), (std::array<std::size_t, 3>{0, 1, 1})) << "unknown on VLAN 20";
}

TEST_F(NormalTest, MalformedFrameCountedGoodFrameDelivered) {
    auto runts = dp::coverageRead(dp::Coverage::drop_runt);
    ports[0]->inject(Bytes(9, 0x11));
    EXPECT_EQ(send(0, frame(0xff, 1)), (std::array<std::size_t, 3>{0, 1, 1}));
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_runt), runts + 1);
    EXPECT_EQ(ports[0]->stats().rx_dropped.load(), 1u);
}

TEST_F(NormalTest, FlowLimitBoundsMegaflowsButNotForwarding) {
    send(0, frame(0xff, 1));  // host 1 learned: no more learning below
    of->datapath().setFlowLimit(2);
    of->datapath().invalidate();
    auto hits = dp::coverageRead(dp::Coverage::flow_limit_hit);
    for (std::uint8_t dst = 20; dst < 26; ++dst)  // unknown destinations: one megaflow each
        EXPECT_EQ(send(0, frame(dst, 1)), (std::array<std::size_t, 3>{0, 1, 1})) << "forwarded even when not cached";
    EXPECT_LE(of->datapath().stats().flows, 2u);
    EXPECT_GT(dp::coverageRead(dp::Coverage::flow_limit_hit), hits);
}

TEST_F(NormalTest, DummyPortsWorkWithThePollThread) {
    of->start();
    ports[0]->inject(frame(0xff, 1));
    for (int i = 0; i < 200 && ports[2]->sent().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ports[2]->sent().size(), 1u);
    EXPECT_EQ(ports[1]->sent().size(), 1u);
}

// Two poll threads: ports are split between them (by port number), each direction of a
// conversation is received by its own thread, and both transmit to ports the other one owns.
TEST(PollThreads, TwoThreadsForwardBothWaysConcurrently) {
    dp::DatapathConfig cfg;
    cfg.poll_threads = 2;
    ofproto::Ofproto of(cfg);
    of.addBridge("br0");
    std::array<std::shared_ptr<dp::DummyPort>, 2> p;
    for (int i = 0; i < 2; ++i) {
        p[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
        of.addPort("br0", p[i]->name(), i + 1, p[i]);
    }
    of.start();
    auto f = [](std::uint8_t dst, std::uint8_t src, std::uint16_t sport) {
        return eth(mac(dst), mac(src), 0x0800, ipv4(17, 1, 2, udp(sport, 2)));
    };
    p[0]->inject(f(2, 1, 1));  // learn both hosts first
    p[1]->inject(f(1, 2, 1));
    constexpr int kFrames = 2000;
    std::thread a([&] { for (int i = 0; i < kFrames; ++i) p[0]->inject(f(2, 1, static_cast<std::uint16_t>(i))); });
    std::thread b([&] { for (int i = 0; i < kFrames; ++i) p[1]->inject(f(1, 2, static_cast<std::uint16_t>(i))); });
    a.join();
    b.join();
    auto done = [&] { return p[0]->sent().size() >= kFrames + 1 && p[1]->sent().size() >= kFrames + 1; };
    for (int i = 0; i < 400 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(p[1]->sent().size(), kFrames + 1u) << "p1 -> p2: the first frame was flooded, the rest forwarded";
    EXPECT_EQ(p[0]->sent().size(), kFrames + 1u);
    EXPECT_EQ(of.datapath().stats().lost, 0u);
}

}  // namespace
