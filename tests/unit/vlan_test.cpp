// 802.1Q VLAN semantics of NORMAL on a bridge of dummy ports.
#include <gtest/gtest.h>

#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;
using ofproto::PortVlan;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Ports: p1 access 10, p2 access 20, p3 trunk {10,20}, p4 access 10, p5 native-untagged 10 (all
// VLANs), p6 native-tagged 20 trunks {10}.
class VlanTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>();
        of->addBridge("br0");
        add(PortVlan::fromColumns(10, {}, ""));
        add(PortVlan::fromColumns(20, {}, ""));
        add(PortVlan::fromColumns(std::nullopt, {10, 20}, ""));
        add(PortVlan::fromColumns(10, {}, "access"));
        add(PortVlan::fromColumns(10, {}, "native-untagged"));
        add(PortVlan::fromColumns(20, {10}, "native-tagged"));
    }
    void add(const PortVlan& v) {
        auto p = std::make_shared<dp::DummyPort>("p" + std::to_string(ports.size() + 1));
        of->addPort("br0", p->name(), static_cast<std::uint32_t>(ports.size() + 1), p, v);
        ports.push_back(p);
    }
    // Injects into port index `in`; returns, per port, the frames it sent.
    std::vector<std::vector<Bytes>> send(std::size_t in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        std::vector<std::vector<Bytes>> out(ports.size());
        for (std::size_t i = 0; i < ports.size(); ++i)
            for (auto& c : ports[i]->sent()) out[i].push_back(c.bytes);
        return out;
    }
    static Bytes frame(const Bytes& dst, std::uint8_t src, int tci = -1) {
        return eth(dst, mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2)), tci);
    }
    static int tciOf(const Bytes& f) { return (f[12] == 0x81 && f[13] == 0x00) ? (f[14] << 8 | f[15]) : -1; }

    std::unique_ptr<ofproto::Ofproto> of;
    std::vector<std::shared_ptr<dp::DummyPort>> ports;
};

TEST_F(VlanTest, AccessBroadcastStaysInItsVlan) {
    auto out = send(0, frame(kBcast, 1));
    EXPECT_TRUE(out[0].empty());
    EXPECT_TRUE(out[1].empty()) << "VLAN 20 access port must not see VLAN 10";
    ASSERT_EQ(out[3].size(), 1u);
    EXPECT_EQ(out[3][0], frame(kBcast, 1)) << "access to access: untagged";
    ASSERT_EQ(out[2].size(), 1u);
    EXPECT_EQ(tciOf(out[2][0]), 10) << "trunk gets VLAN 10 tagged, PCP 0";
    EXPECT_EQ(out[2][0].size(), frame(kBcast, 1).size() + 4);
    ASSERT_EQ(out[4].size(), 1u);
    EXPECT_EQ(tciOf(out[4][0]), -1) << "native-untagged port sends its native VLAN untagged";
    ASSERT_EQ(out[5].size(), 1u);
    EXPECT_EQ(tciOf(out[5][0]), 10) << "native-tagged port trunks 10 tagged";
}

TEST_F(VlanTest, TaggedFrameOnAccessPortIsDroppedAndCounted) {
    auto before = dp::coverageRead(dp::Coverage::drop_vlan_tagged_on_access);
    auto out = send(0, frame(kBcast, 1, 10));
    for (auto& o : out) EXPECT_TRUE(o.empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_vlan_tagged_on_access), before + 1);
    send(0, frame(kBcast, 1, 10));  // the cached drop still counts
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_vlan_tagged_on_access), before + 2);
}

TEST_F(VlanTest, PriorityTaggedFrameOnAccessPortIsAccepted) {
    auto out = send(0, frame(kBcast, 1, 3 << 13));
    ASSERT_EQ(out[3].size(), 1u);
    EXPECT_EQ(out[3][0], frame(kBcast, 1));
    ASSERT_EQ(out[2].size(), 1u);
    EXPECT_EQ(tciOf(out[2][0]), (3 << 13) | 10) << "priority kept, VID set";
}

TEST_F(VlanTest, TrunkDeliversPerVlanAndPreservesPcp) {
    auto out = send(2, frame(kBcast, 3, (5 << 13) | 20));
    ASSERT_EQ(out[1].size(), 1u);
    EXPECT_EQ(out[1][0], frame(kBcast, 3)) << "popped for the VLAN 20 access port";
    EXPECT_TRUE(out[0].empty());
    EXPECT_TRUE(out[3].empty());
    ASSERT_EQ(out[4].size(), 1u);
    EXPECT_EQ(tciOf(out[4][0]), (5 << 13) | 20) << "PCP preserved on a tagged egress";
    ASSERT_EQ(out[5].size(), 1u);
    EXPECT_EQ(tciOf(out[5][0]), (5 << 13) | 20) << "native VLAN of a native-tagged port leaves tagged";
}

TEST_F(VlanTest, VlanNotInTrunkListIsDropped) {
    auto before = dp::coverageRead(dp::Coverage::drop_vlan_not_trunked);
    auto out = send(2, frame(kBcast, 3, 30));
    for (auto& o : out) EXPECT_TRUE(o.empty());
    out = send(2, frame(kBcast, 3));  // untagged = VLAN 0, not in {10,20}
    for (auto& o : out) EXPECT_TRUE(o.empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_vlan_not_trunked), before + 2);
}

TEST_F(VlanTest, LearningIsPerVlanAcrossTrunk) {
    send(1, frame(kBcast, 2));  // host 2 on p2, VLAN 20
    auto out = send(2, frame(mac(2), 3, 20));
    ASSERT_EQ(out[1].size(), 1u);
    for (std::size_t i : {0u, 3u, 4u, 5u}) EXPECT_TRUE(out[i].empty()) << "unicast to a learned MAC, port " << i;
    out = send(2, frame(mac(2), 3, 10));  // same MAC on VLAN 10 is unknown: flood VLAN 10 only
    EXPECT_TRUE(out[1].empty());
    EXPECT_EQ(out[0].size(), 1u);
}

TEST_F(VlanTest, ChangingPortVlanTakesEffectOnCachedFlows) {
    send(0, frame(kBcast, 1));
    EXPECT_EQ(send(0, frame(kBcast, 1))[3].size(), 1u);
    of->setPortVlan("br0", "p4", PortVlan::fromColumns(20, {}, ""));
    auto out = send(0, frame(kBcast, 1));
    EXPECT_TRUE(out[3].empty()) << "p4 moved to VLAN 20";
}

}  // namespace
