// Rapid spanning tree configuration (vswitchd/rstp_config.h): checks across keys, the settings
// handed to ofproto (Open vSwitch's defaults and rounding), path cost by speed, status columns.
#include <gtest/gtest.h>

#include "vswitchd/rstp_config.h"
#include "vswitchd/stp_config.h"

using namespace vs::vswitchd;

namespace {

Config withRstp(StringMap other_config) {
    Config c;
    BridgeConfig& b = c.bridges["br0"];
    b.other_config = std::move(other_config);
    b.rstp_enable = true;
    return c;
}

TEST(RstpConfig, MaxAgeAgainstForwardDelayAndDuplicatePortNumbers) {
    EXPECT_FALSE(stpProblem(withRstp({})));
    EXPECT_FALSE(stpProblem(withRstp({{"rstp-max-age", "6"}, {"rstp-forward-delay", "4"}})));
    auto p = stpProblem(withRstp({{"rstp-forward-delay", "4"}}));  // max age 20 > 2 * (4 - 1)
    ASSERT_TRUE(p);
    EXPECT_NE(p->find("rstp-max-age 20 is over 2 * (rstp-forward-delay - 1) = 6"), std::string::npos) << *p;
    EXPECT_NE(p->find("nothing changed"), std::string::npos);
    Config c = withRstp({});
    c.bridges["br0"].ports["p1"].other_config["rstp-port-num"] = "7";
    c.bridges["br0"].ports["p2"].other_config["rstp-port-num"] = "7";
    p = stpProblem(c);
    ASSERT_TRUE(p);
    EXPECT_NE(p->find("rstp-port-num=7"), std::string::npos) << *p;
    c.bridges["br0"].rstp_enable = false;  // not checked while RSTP is off
    EXPECT_FALSE(stpProblem(c));
}

TEST(RstpConfig, SettingsForOfproto) {
    Config off = withRstp({});
    off.bridges["br0"].rstp_enable = false;
    EXPECT_FALSE(rstpSettingsOf(off.bridges["br0"]));
    auto s = rstpSettingsOf(withRstp({{"rstp-priority", "5000"}, {"rstp-address", "02:00:00:00:00:07"},
                                       {"rstp-transmit-hold-count", "3"}, {"rstp-force-protocol-version", "0"}})
                                .bridges["br0"]);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->priority, 4096);  // rounded down to a multiple of 4096, as Open vSwitch
    EXPECT_EQ(s->bridgeId(), 0x1000020000000007ULL);
    EXPECT_EQ(s->transmit_hold_count, 3);
    EXPECT_EQ(s->force_protocol_version, 0);
    EXPECT_EQ(s->max_age_s, 20);
    EXPECT_EQ(s->forward_delay_s, 15);
    PortConfig pc;
    pc.other_config = {{"rstp-port-priority", "100"}, {"rstp-path-cost", "7"}, {"rstp-port-admin-edge", "true"},
                       {"rstp-port-auto-edge", "false"}, {"rstp-admin-p2p-mac", "0"}, {"rstp-port-num", "12"}};
    auto ps = rstpPortSettingsOf(pc);
    EXPECT_EQ(ps.priority, 96);  // multiples of 16
    EXPECT_EQ(ps.path_cost, 7u);
    EXPECT_TRUE(ps.admin_edge);
    EXPECT_FALSE(ps.auto_edge);
    EXPECT_EQ(ps.admin_p2p, vs::ofproto::RstpP2p::kForceFalse);
    EXPECT_EQ(ps.port_num, 12);
    auto dflt = rstpPortSettingsOf(PortConfig{});
    EXPECT_TRUE(dflt.enable && dflt.auto_edge && !dflt.admin_edge && dflt.admin_port_state);
    EXPECT_EQ(dflt.admin_p2p, vs::ofproto::RstpP2p::kForceTrue);  // Open vSwitch's default
    EXPECT_EQ(dflt.path_cost, 200000u);                          // speed unknown
}

TEST(RstpConfig, PathCostForSpeedIs802_1D2004Table17_3) {
    EXPECT_EQ(rstpPathCostForSpeed(10000), 2000u);
    EXPECT_EQ(rstpPathCostForSpeed(1000), 20000u);
    EXPECT_EQ(rstpPathCostForSpeed(100), 200000u);
    EXPECT_EQ(rstpPathCostForSpeed(0), 200000u);
}

TEST(RstpConfig, StatusColumnsInOpenVSwitchForm) {
    vs::ofproto::RstpBridgeStatus b;
    b.bridge = "br0";
    b.rstp.bridge_id = 0x8000020000000002ULL;
    b.rstp.root_id = 0x1000020000000001ULL;
    b.rstp.root_path_cost = 2000;
    b.rstp.root_port_id = 0x8001;
    b.rstp.designated_id = 0x1000020000000001ULL;
    b.rstp.designated_port_id = 0x8002;
    auto& p = b.rstp.ports.emplace_back();
    p.id = 4;
    p.port_id = 0x8001;
    p.role = vs::ofproto::RstpRole::kRoot;
    p.state = vs::ofproto::RstpState::kForwarding;
    p.tx = 3;
    b.port_names[4] = "eth1";
    auto bs = rstpBridgeStatus(b);
    EXPECT_EQ(bs["rstp_bridge_id"], "8.000.020000000002");
    EXPECT_EQ(bs["rstp_root_id"], "1.000.020000000001");
    EXPECT_EQ(bs["rstp_root_path_cost"], "2000");
    EXPECT_EQ(bs["rstp_designated_port_id"], "8002");
    auto ps = rstpPortStatus(b);
    EXPECT_EQ(ps["eth1"]["rstp_port_role"], "Root");
    EXPECT_EQ(ps["eth1"]["rstp_port_state"], "Forwarding");
    EXPECT_EQ(ps["eth1"]["rstp_port_id"], "8001");
    EXPECT_EQ(rstpPortStatistics(b)["eth1"]["rstp_tx_count"], 3);
}

}  // namespace
