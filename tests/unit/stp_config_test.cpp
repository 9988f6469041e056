// Spanning tree configuration (vswitchd/stp_config.h): checks across keys, the settings handed
// to ofproto, and the path cost for a link speed.
#include <gtest/gtest.h>

#include "vswitchd/stp_config.h"

using namespace vs::vswitchd;

namespace {

Config withBridge(StringMap other_config, bool stp = true, bool rstp = false) {
    Config c;
    BridgeConfig& b = c.bridges["br0"];
    b.other_config = std::move(other_config);
    b.stp_enable = stp;
    b.rstp_enable = rstp;
    return c;
}

TEST(StpConfig, TimersAreCheckedAgainstEachOtherWithDefaultsForUnsetKeys) {
    EXPECT_FALSE(stpProblem(withBridge({})));
    EXPECT_FALSE(stpProblem(withBridge({{"stp-hello-time", "1"}, {"stp-max-age", "6"}, {"stp-forward-delay", "4"}})));
    auto p = stpProblem(withBridge({{"stp-forward-delay", "4"}}));  // max age 20 > 2 * (4 - 1)
    ASSERT_TRUE(p);
    EXPECT_NE(p->find("stp-max-age 20 is over 2 * (stp-forward-delay - 1) = 6"), std::string::npos) << *p;
    p = stpProblem(withBridge({{"stp-max-age", "6"}, {"stp-hello-time", "3"}}));
    ASSERT_TRUE(p);
    EXPECT_NE(p->find("2 * (stp-hello-time + 1) = 8"), std::string::npos) << *p;
}

TEST(StpConfig, RstpIsExclusiveWithStp) {
    EXPECT_NE(stpProblem(withBridge({}, true, true))->find("mutually exclusive"), std::string::npos);
    EXPECT_FALSE(stpProblem(withBridge({}, false, true)));  // RSTP alone (rstp_config_test.cpp)
}

TEST(StpConfig, TwoPortsWithOnePortNumberAreRefused) {
    Config c = withBridge({});
    c.bridges["br0"].ports["p1"].other_config["stp-port-num"] = "3";
    c.bridges["br0"].ports["p2"].other_config["stp-port-num"] = "3";
    auto p = stpProblem(c);
    ASSERT_TRUE(p);
    EXPECT_NE(p->find("stp-port-num=3"), std::string::npos) << *p;
}

TEST(StpConfig, SettingsForOfproto) {
    EXPECT_FALSE(stpSettingsOf(withBridge({}, false).bridges["br0"]));
    auto s = stpSettingsOf(withBridge({{"stp-priority", "4096"}, {"stp-system-id", "02:00:00:00:00:07"}}).bridges["br0"]);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->priority, 4096);
    EXPECT_EQ(s->bridgeId(), 0x1000020000000007ULL);
    EXPECT_EQ(s->hello_s, 2);  // Open vSwitch's defaults
    EXPECT_EQ(s->max_age_s, 20);
    EXPECT_EQ(s->forward_delay_s, 15);
    PortConfig pc;
    pc.interfaces["vs-no-such-dev"].type = "system";
    pc.other_config = {{"stp-enable", "false"}, {"stp-port-priority", "64"}};
    auto ps = stpPortSettingsOf(pc);
    EXPECT_FALSE(ps.enable);
    EXPECT_EQ(ps.priority, 64);
    EXPECT_EQ(ps.path_cost, 19u) << "unknown speed";
    pc.other_config["stp-path-cost"] = "7";
    EXPECT_EQ(stpPortSettingsOf(pc).path_cost, 7u);
}

TEST(StpConfig, PathCostForLinkSpeed) {
    EXPECT_EQ(stpPathCostForSpeed(100000), 2u);
    EXPECT_EQ(stpPathCostForSpeed(10000), 2u);
    EXPECT_EQ(stpPathCostForSpeed(1000), 4u);
    EXPECT_EQ(stpPathCostForSpeed(100), 19u);
    EXPECT_EQ(stpPathCostForSpeed(10), 100u);
    EXPECT_EQ(stpPathCostForSpeed(0), 19u);
}

}  // namespace
