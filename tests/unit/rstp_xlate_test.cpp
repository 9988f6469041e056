// RSTP in ofproto on a bridge of dummy ports, with an injected clock: port states enforced in
// translation and the datapath cache (a state change leaves no stale megaflow), an edge port
// forwarding at once, a proposal answered by an agreement on the root port, BPDUs to the slow
// path and never relayed, a topology change forgetting the MACs of the other ports.
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Bytes kStp = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};

class RstpXlateTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        for (int i = 0; i < 3; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1),
                                                       dp::MacAddr{{0x02, 0, 0, 0, 0x10, std::uint8_t(i + 1)}});
            of->addPort("br0", ports[i]->name(), i + 1, ports[i]);
            of->setPortRstp("br0", ports[i]->name(), manual());
        }
        ofproto::RstpSettings s;
        s.address = dp::MacAddr{{0x02, 0, 0, 0, 0, 0x50}};
        s.max_age_s = 6;
        s.forward_delay_s = 4;
        of->setRstp("br0", s);
    }
    static ofproto::RstpPortSettings manual() {
        ofproto::RstpPortSettings s;
        s.auto_edge = false;
        return s;
    }
    std::array<std::size_t, 3> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        of->processSlowPath();
        std::array<std::size_t, 3> n{};
        for (int i = 0; i < 3; ++i)
            for (const auto& c : ports[i]->sent()) n[i] += !isBpdu(c.bytes);
        return n;
    }
    static bool isBpdu(const Bytes& b) { return b.size() >= 6 && Bytes(b.begin(), b.begin() + 6) == kStp; }
    Bytes frame(std::uint8_t src) { return eth(kBcast, mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2))); }
    // An RST BPDU from the designated port of bridge 4096.02:00:00:00:00:99, the root.
    Bytes rootBpdu(bool proposal, bool tc = false) {
        ofproto::RstpBpdu b;
        b.role = ofproto::RstpRole::kDesignated;
        b.proposal = proposal;
        b.tc = tc;
        b.root_id = b.bridge_id = (std::uint64_t{4096} << 48) | 0x020000000099ULL;
        b.port_id = 0x8001;
        b.max_age = 6 * 256;
        b.hello_time = 2 * 256;
        b.forward_delay = 4 * 256;
        return ofproto::buildRstpBpdu(dp::MacAddr{{0x02, 0, 0, 0, 0, 0x99}}, b);
    }
    std::pair<std::string, std::string> roleState(const std::string& port) {
        auto st = of->rstpStatus("br0").at(0);
        for (const auto& p : st.rstp.ports)
            if (st.port_names[p.id] == port) return {ofproto::toString(p.role), ofproto::toString(p.state)};
        return {"?", "?"};
    }

    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
};

TEST_F(RstpXlateTest, DiscardingDropsAnEdgePortForwardsAtOnceAndNoStaleMegaflow) {
    EXPECT_EQ(roleState("p1"), (std::pair<std::string, std::string>{"Designated", "Discarding"}));
    auto blocked = dp::coverageRead(dp::Coverage::drop_stp_blocked);
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 0, 0}));
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 0, 0}));  // the cached drop
    EXPECT_GE(dp::coverageRead(dp::Coverage::drop_stp_blocked), blocked + 2);
    auto edge = manual();
    edge.admin_edge = true;
    of->setPortRstp("br0", "p1", edge);
    of->setPortRstp("br0", "p2", edge);
    EXPECT_EQ(roleState("p1").second, "Forwarding");  // no timer ran
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 0})) << "p3 still discards";
    of->setPortRstp("br0", "p3", edge);
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 1})) << "a stale megaflow kept p3 out";
}

TEST_F(RstpXlateTest, AProposalIsAgreedAtOnceAndBpdusAreNeverRelayed) {
    auto rx = dp::coverageRead(dp::Coverage::stp_rx);
    Bytes b = rootBpdu(true);
    EXPECT_EQ(send(2, b), (std::array<std::size_t, 3>{0, 0, 0}));
    EXPECT_EQ(dp::coverageRead(dp::Coverage::stp_rx), rx + 1);
    for (auto& p : ports)
        for (const auto& c : p->sent()) EXPECT_NE(c.bytes, b) << "a received BPDU was relayed";
    EXPECT_EQ(roleState("p3"), (std::pair<std::string, std::string>{"Root", "Forwarding"}));
    bool agreed = false;
    for (const auto& c : ports[2]->sent()) {
        auto parsed = ofproto::parseRstpBpdu(c.bytes);
        ASSERT_TRUE(parsed);
        agreed |= parsed->agreement && parsed->role == ofproto::RstpRole::kRoot;
        EXPECT_EQ(Bytes(c.bytes.begin() + 6, c.bytes.begin() + 12), (Bytes{0x02, 0, 0, 0, 0x10, 3}));
    }
    EXPECT_TRUE(agreed) << "no agreement went back to the root";
    auto st = of->rstpStatus("br0").at(0).rstp;
    EXPECT_EQ(st.root_id >> 48, 4096u);
    EXPECT_EQ(st.root_path_cost, 2000u);
}

TEST_F(RstpXlateTest, TopologyChangeForgetsTheMacsOfTheOtherPorts) {
    send(2, rootBpdu(true));  // p3: root port, forwarding
    // p1, p2: designated, forwarding after the timers (no neighbour agrees)
    for (std::int64_t t = 0; t < 10000; t += 100) {
        now += 100;
        of->runStp();
        if (t % 2000 == 0) send(2, rootBpdu(false));  // the root's hellos keep p3's information
    }
    ASSERT_EQ(roleState("p1").second, "Forwarding");
    send(0, frame(1));
    send(2, frame(3));
    ASSERT_EQ(of->fdb("br0").size(), 2u);
    send(2, rootBpdu(false, true));  // TC from the root on p3
    auto fdb = of->fdb("br0");
    ASSERT_EQ(fdb.size(), 1u) << "p1's MAC goes, p3's (where the TC came from) stays";
    EXPECT_EQ(fdb[0].port_name, "p3");
}

}  // namespace
