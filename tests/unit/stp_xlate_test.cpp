// STP in ofproto on a bridge of dummy ports, with an injected clock: port states enforced in
// translation and in the datapath cache (a state change must not leave a stale megaflow), BPDUs
// to the slow path and never relayed, our BPDUs on the wire, a topology change flushing the FDB.
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/dummy_port.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

class StpXlateTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        for (int i = 0; i < 3; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1),
                                                       dp::MacAddr{{0x02, 0, 0, 0, 0x10, std::uint8_t(i + 1)}});
            of->addPort("br0", ports[i]->name(), i + 1, ports[i]);
        }
        ofproto::StpSettings s;
        s.priority = 32768;
        s.system = dp::MacAddr{{0x02, 0, 0, 0, 0, 0x50}};
        s.hello_s = 1;
        s.max_age_s = 6;
        s.forward_delay_s = 4;
        of->setStp("br0", s);
    }
    // Sends `f` into port index `in`; returns how many data frames (not BPDUs) each port sent.
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
    bool isBpdu(const Bytes& b) const { return b.size() >= 6 && Bytes(b.begin(), b.begin() + 6) == kStp; }
    void advance(std::int64_t ms) {
        for (std::int64_t t = 0; t < ms; t += 100) {
            now += 100;
            of->runStp();
        }
    }
    Bytes frame(std::uint8_t src) { return eth(kBcast, mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2))); }
    // A Configuration BPDU from bridge 4096.02:00:00:00:00:99 (better than ours), root path cost `cost`.
    Bytes bpdu(std::uint32_t cost, std::uint16_t port_id) {
        ofproto::StpBpdu b;
        b.config.root_id = (std::uint64_t{4096} << 48) | 0x020000000099ULL;
        b.config.bridge_id = b.config.root_id + (cost ? 1 : 0);
        b.config.root_path_cost = cost;
        b.config.port_id = port_id;
        b.config.max_age = 6 * 256;
        b.config.hello_time = 256;
        b.config.forward_delay = 4 * 256;
        return ofproto::buildStpBpdu(dp::MacAddr{{0x02, 0, 0, 0, 0, 0x99}}, b);
    }
    std::string state(const std::string& port) {
        auto st = of->stpStatus("br0").at(0);
        for (const auto& p : st.stp.ports)
            if (st.port_names[p.id] == port) return ofproto::toString(p.state);
        return "?";
    }

    const Bytes kStp = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
};

TEST_F(StpXlateTest, ListeningDropsLearningLearnsForwardingForwardsAndNoStaleMegaflow) {
    EXPECT_EQ(state("p1"), "listening");
    auto blocked = dp::coverageRead(dp::Coverage::drop_stp_blocked);
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 0, 0}));
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 0, 0}));  // the cached drop
    EXPECT_GE(dp::coverageRead(dp::Coverage::drop_stp_blocked), blocked + 2);
    EXPECT_TRUE(of->fdb("br0").empty()) << "Listening does not learn";
    advance(4000);
    EXPECT_EQ(state("p1"), "learning");
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 0, 0})) << "the cached drop went with the state";
    ASSERT_EQ(of->fdb("br0").size(), 1u) << "Learning learns";
    advance(4000);
    EXPECT_EQ(state("p1"), "forwarding");
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 1}));
}

TEST_F(StpXlateTest, BpdusGoToTheSlowPathAreNeverRelayedAndOursGoOut) {
    advance(8000);
    auto rx = dp::coverageRead(dp::Coverage::stp_rx);
    Bytes b = bpdu(0, 0x8001);
    EXPECT_EQ(send(1, b), (std::array<std::size_t, 3>{0, 0, 0}));
    EXPECT_EQ(dp::coverageRead(dp::Coverage::stp_rx), rx + 1);
    for (auto& p : ports)
        for (const auto& c : p->sent()) EXPECT_NE(c.bytes, b) << "a received BPDU was relayed";
    auto st = of->stpStatus("br0").at(0).stp;
    EXPECT_EQ(st.designated_root >> 48, 4096u);
    advance(1000);  // a port's Hold Timer may delay its relay up to 1 s
    // p2 is now the root port: our Configuration BPDUs go out of the designated ports p1 and p3
    // only, from the port's own MAC, relaying the root's information. Out of p2 go only TCNs
    // (our start-up topology change, not yet acknowledged by the new root).
    for (const auto& c : ports[1]->sent()) {
        auto parsed = ofproto::parseStpBpdu(c.bytes);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->type, ofproto::StpBpdu::Type::kTcn);
    }
    for (int i : {0, 2}) {
        bool seen = false;
        for (const auto& c : ports[i]->sent()) {
            if (!isBpdu(c.bytes)) continue;
            auto parsed = ofproto::parseStpBpdu(c.bytes);
            ASSERT_TRUE(parsed);
            EXPECT_EQ(parsed->config.root_id >> 48, 4096u);
            EXPECT_EQ(parsed->config.root_path_cost, 19u);
            EXPECT_EQ(Bytes(c.bytes.begin() + 6, c.bytes.begin() + 12), (Bytes{0x02, 0, 0, 0, 0x10, std::uint8_t(i + 1)}));
            seen = true;
        }
        EXPECT_TRUE(seen) << "no BPDU on p" << i + 1;
    }
}

TEST_F(StpXlateTest, AlternatePortStopsForwardingAtOnceAndTheCacheFollows) {
    advance(8000);
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 1}));  // cached: floods to p2, p3
    send(1, bpdu(0, 0x8001));   // the root itself on p2
    send(2, bpdu(19, 0x8002));  // another bridge one hop from it on p3: p3 is an alternate port
    EXPECT_EQ(state("p2"), "forwarding");  // the root port: it was forwarding already
    EXPECT_EQ(state("p3"), "blocking");
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 0})) << "stale megaflow flooded to p3";
    EXPECT_EQ(send(2, frame(3)), (std::array<std::size_t, 3>{0, 0, 0})) << "nothing in from a blocked port";
}

TEST_F(StpXlateTest, TopologyChangeFlushesTheMacTable) {
    advance(8000 + 11000);  // forwarding, and the start-up topology change is over
    send(0, frame(1));
    ASSERT_EQ(of->fdb("br0").size(), 1u);
    of->stpTcn("br0");
    EXPECT_TRUE(of->fdb("br0").empty());
}

TEST_F(StpXlateTest, StpOffForwardsAtOnceAndBpdusAreNotIntercepted) {
    of->setStp("br0", std::nullopt);
    EXPECT_EQ(send(0, frame(1)), (std::array<std::size_t, 3>{0, 1, 1}));
    EXPECT_THROW(of->stpStatus("br0"), std::invalid_argument);
    ofproto::StpSettings bad;
    bad.max_age_s = 50;
    EXPECT_THROW(of->setStp("br0", bad), std::invalid_argument);
}

}  // namespace
