// The switch layer's side of the controller channel (ofproto/connmgr.h): the packet_in rate
// limiter and the fail-open state machine with an injected clock, and on a bridge of dummy ports:
// the controller action reaching the slow path as a packet_in with its reason, table, cookie and
// max_len; fail-open NORMAL taking precedence over the rules; packet_out; flow_removed reasons.
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;
using namespace vs::ofproto;

namespace {

TEST(TokenBucket, BurstThenRate) {
    TokenBucket tb(10, 5);  // 10/s, burst 5
    std::int64_t t = 1000;
    int admitted = 0;
    for (int i = 0; i < 20; ++i) admitted += tb.admit(t);
    EXPECT_EQ(admitted, 5) << "a burst of 5 at once, then nothing";
    EXPECT_FALSE(tb.admit(t + 50)) << "half a token after 50 ms";
    EXPECT_TRUE(tb.admit(t + 100)) << "one token after 100 ms";
    admitted = 0;
    for (std::int64_t ms = 200; ms <= 10100; ms += 10) admitted += tb.admit(t + ms);
    EXPECT_NEAR(admitted, 99, 2) << "10/s over ~10 s";
    for (int i = 0; i < 100; ++i) tb.admit(t + 20000);  // an hour of idle refills only up to the burst
    EXPECT_FALSE(tb.admit(t + 20000));
}

TEST(TokenBucket, ReconfigureCapsSavedTokens) {
    TokenBucket tb(100, 100);
    tb.configure(1, 2);
    EXPECT_TRUE(tb.admit(0));
    EXPECT_TRUE(tb.admit(0));
    EXPECT_FALSE(tb.admit(0));
}

TEST(FailOpenMonitor, StandaloneFailsOpenAfterThreeProbesWithoutController) {
    std::int64_t t = 100000;
    FailOpenMonitor m(t);
    m.configure(FailMode::kStandalone, true, 1000);
    EXPECT_FALSE(m.failOpen(t + 2999)) << "not before three probe intervals";
    EXPECT_TRUE(m.failOpen(t + 3000));
    m.connected(t + 4000);
    EXPECT_FALSE(m.failOpen(t + 4000)) << "a connected controller takes over at once";
    m.alive(t + 9000);
    EXPECT_FALSE(m.failOpen(t + 20000)) << "connected: never fail open, however quiet";
    m.disconnected(t + 20000);
    EXPECT_TRUE(m.failOpen(t + 20000)) << "last heard from at 9 s: already more than 3 s ago";
    m.connected(t + 21000);
    m.alive(t + 21500);
    m.disconnected(t + 22000);
    EXPECT_FALSE(m.failOpen(t + 24499));
    EXPECT_TRUE(m.failOpen(t + 24500)) << "3 s after the last message";
}

TEST(FailOpenMonitor, SecureAndControllerlessNeverFailOpen) {
    FailOpenMonitor m(0);
    m.configure(FailMode::kSecure, true, 1000);
    EXPECT_FALSE(m.failOpen(1000000));
    m.configure(FailMode::kStandalone, false, 1000);
    EXPECT_FALSE(m.failOpen(1000000)) << "no controller configured: the flow table rules alone";
    m.configure(FailMode::kStandalone, true, 0);
    EXPECT_EQ(m.triggerMs(), 3 * FailOpenMonitor::kDefaultProbeMs) << "probes off: the default interval";
    EXPECT_TRUE(m.failOpen(1000000));
}

TEST(FailOpenMonitor, TwoControllersOneLeft) {
    FailOpenMonitor m(0);
    m.configure(FailMode::kStandalone, true, 500);
    m.connected(10);
    m.connected(20);
    m.disconnected(30);
    EXPECT_FALSE(m.failOpen(100000)) << "one controller is still connected";
    m.disconnected(100000);
    EXPECT_TRUE(m.failOpen(100000));
}

class ControllerPipeline : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        ports = addDummyBridge<3>(*of);
        of->setSlowPathHandler(SlowPathKind::kController, [this](const SlowPathPacket& p) {
            if (auto pin = of->packetIn(p)) pins.push_back(*pin);
        });
    }
    void flows(std::vector<std::string> lines, FlowMod::Command cmd = FlowMod::Command::kAdd) {
        auto parsed = parseFlowLines(lines, cmd, {});
        ASSERT_TRUE(std::holds_alternative<std::vector<FlowMod>>(parsed)) << std::get<ParseError>(parsed).message;
        of->applyFlowMods("br0", std::get<std::vector<FlowMod>>(parsed));
    }
    std::array<std::vector<Bytes>, 3> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        of->processSlowPath();
        std::array<std::vector<Bytes>, 3> out;
        for (int i = 0; i < 3; ++i)
            for (auto& c : ports[i]->sent()) out[i].push_back(c.bytes);
        return out;
    }
    static Bytes udpFrame(std::uint8_t ttl = 64, std::size_t payload = 4) {
        return eth(mac(2), mac(1), 0x0800, ipv4(17, 0x0a000001, 0x0a000002, udp(1000, 2000, payload), ttl));
    }

    std::int64_t now = 5000000;
    std::unique_ptr<Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
    std::vector<PacketIn> pins;
};

TEST_F(ControllerPipeline, ControllerActionBecomesPacketInWithReasonCookieAndMaxLen) {
    flows({"cookie=0xabc,priority=100,udp,actions=CONTROLLER:20", "table=1,priority=0,actions=CONTROLLER"});
    Bytes f = udpFrame();
    auto out = send(0, f);
    EXPECT_TRUE(out[1].empty() && out[2].empty()) << "the controller action outputs nowhere";
    ASSERT_EQ(pins.size(), 1u);
    EXPECT_EQ(pins[0].bridge, "br0");
    EXPECT_EQ(pins[0].reason, PacketInReason::kAction);
    EXPECT_EQ(pins[0].cookie, 0xabcu);
    EXPECT_EQ(pins[0].table_id, 0);
    EXPECT_EQ(pins[0].in_ofport, 1u);
    EXPECT_EQ(pins[0].total_len, f.size());
    EXPECT_EQ(pins[0].frame, Bytes(f.begin(), f.begin() + 20)) << "cut to max_len";
    send(0, f);
    EXPECT_EQ(pins.size(), 2u) << "a cached flow still reaches the controller";
}

TEST_F(ControllerPipeline, TableMissRuleReportsNoMatchAndInvalidTtl) {
    flows({"priority=0,actions=CONTROLLER", "priority=100,udp,actions=dec_ttl,output:2"}, FlowMod::Command::kAdd);
    send(0, eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac(1), 0x0806, Bytes(28, 0)));
    ASSERT_EQ(pins.size(), 1u);
    EXPECT_EQ(pins[0].reason, PacketInReason::kNoMatch) << "OpenFlow 1.3 section 7.4.1: table-miss flow entry";
    EXPECT_EQ(pins[0].frame.size(), pins[0].total_len) << "CONTROLLER without max_len sends it all";
    auto before = dp::coverageRead(dp::Coverage::drop_ttl_exceeded);
    auto out = send(0, udpFrame(1, 200));
    EXPECT_TRUE(out[1].empty());
    ASSERT_EQ(pins.size(), 2u);
    EXPECT_EQ(pins[1].reason, PacketInReason::kInvalidTtl);
    EXPECT_EQ(pins[1].frame.size(), 128u) << "invalid_ttl sends the default miss_send_len";
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_ttl_exceeded), before + 1);
}

TEST_F(ControllerPipeline, RewritesBeforeTheControllerActionAreInThePacketIn) {
    flows({"priority=100,udp,actions=mod_dl_src:02:aa:aa:aa:aa:aa,CONTROLLER,output:2"});
    auto out = send(0, udpFrame());
    ASSERT_EQ(pins.size(), 1u);
    EXPECT_EQ(Bytes(pins[0].frame.begin() + 6, pins[0].frame.begin() + 12), (Bytes{2, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa}));
    ASSERT_EQ(out[1].size(), 1u) << "actions after the controller action run too";
}

TEST_F(ControllerPipeline, FailOpenNormalTakesPrecedenceAndInvalidatesCachedFlows) {
    flows({"priority=0,actions=CONTROLLER", "priority=100,udp,actions=drop"}, FlowMod::Command::kAdd);
    Bytes f = udpFrame();
    auto out = send(0, f);
    EXPECT_TRUE(out[1].empty() && out[2].empty()) << "the rule drops it";
    of->setFailOpen("br0", true);
    EXPECT_TRUE(of->failOpen("br0"));
    out = send(0, f);
    EXPECT_EQ(out[1].size() + out[2].size(), 2u) << "fail-open: NORMAL floods the unknown destination";
    of->setFailOpen("br0", false);
    out = send(0, f);
    EXPECT_TRUE(out[1].empty() && out[2].empty()) << "the controller's rules again; nothing cached from fail-open";
    EXPECT_EQ(of->rules("br0", kTableAll, Match{}).size(), 2u) << "fail-open never touches the rules";
}

TEST_F(ControllerPipeline, PacketOutRunsActionsAndTheTables) {
    Bytes f = udpFrame();
    auto parsed = parseFlowMod("actions=output:3", FlowMod::Command::kAdd, {});
    of->packetOut("br0", f, kPortController, std::get<FlowMod>(parsed).actions);
    of->datapath().runOnce();
    ASSERT_EQ(ports[2]->sent().size(), 1u);
    EXPECT_EQ(ports[2]->sent()[0].bytes, f);
    ports[2]->clearSent();
    flows({"priority=100,in_port=1,actions=output:2"});
    Action table{ActionType::kOutput};
    table.port = kPortTable;
    of->packetOut("br0", f, 1, {table});
    of->datapath().runOnce();
    ASSERT_EQ(ports[1]->sent().size(), 1u) << "output:TABLE runs table 0 with in_port 1";
    EXPECT_THROW(of->packetOut("br0", f, 77, {table}), std::invalid_argument) << "unknown in_port";
    EXPECT_THROW(of->packetOut("br0", Bytes{1, 2, 3}, kPortController, {table}), std::invalid_argument) << "runt frame";
}

TEST_F(ControllerPipeline, RemovedRulesCarryBridgeAndReason) {
    flows({"priority=10,send_flow_rem,idle_timeout=2,in_port=1,actions=drop",
           "priority=11,send_flow_rem,hard_timeout=5,in_port=2,actions=drop",
           "priority=12,send_flow_rem,in_port=3,actions=drop", "priority=13,in_port=3,udp,actions=drop"});
    flows({"priority=12,in_port=3"}, FlowMod::Command::kDeleteStrict);
    now += 2500;
    of->runPeriodic();
    now += 3000;
    of->runPeriodic();
    auto gone = of->takeRemoved();
    ASSERT_EQ(gone.size(), 3u);
    EXPECT_EQ(gone[0].reason, RemovedReason::kDelete);
    EXPECT_EQ(gone[0].rule->priority, 12);
    EXPECT_EQ(gone[1].reason, RemovedReason::kIdleTimeout);
    EXPECT_EQ(gone[2].reason, RemovedReason::kHardTimeout);
    for (const auto& r : gone) EXPECT_EQ(r.bridge, "br0");
    EXPECT_TRUE(of->takeRemoved().empty());
}

}  // namespace
