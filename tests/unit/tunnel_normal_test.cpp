// NORMAL over flow-based tunnel ports (remote_ip=flow / key=flow): MACs learned with their remote
// VTEP and VNI, unicasts that set the tunnel destination, floods replicated to the known VTEPs,
// split horizon, and megaflows that match tun_src only where it matters. Dummy ports pose as
// tunnels (DummyPort::setTunnelMode) and record the tunnel metadata frames leave with.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
std::uint32_t ip(std::uint8_t last) { return htonl(0xc0000200u | last); }  // 192.0.2.<last>
const std::uint32_t kA = ip(2), kB = ip(3), kC = ip(4), kD = ip(5);

// Port indexes in the fixture.
enum { kP1, kP2, kVxf, kVx, kVxk, kPorts };

class TunnelNormalTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        const std::pair<const char*, dp::TunnelMode> spec[kPorts] = {
            {"p1", {}}, {"p2", {}},
            {"vxf", {true, true, false}},   // remote_ip=flow key=42
            {"vx", {true, false, false}},   // remote_ip=192.0.2.5 key=42
            {"vxk", {true, true, true}},    // remote_ip=flow key=flow
        };
        for (int i = 0; i < kPorts; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>(spec[i].first);
            ports[i]->setTunnelMode(spec[i].second);
            dp_no[i] = of->addPort("br0", spec[i].first, i + 1, ports[i]);
        }
    }
    // Sends `f` into port `in` (from remote VTEP `vtep` with VNI `vni` for tunnels), runs the
    // datapath, returns the frames each port sent.
    std::array<std::vector<dp::CapturedFrame>, kPorts> send(int in, const Bytes& f, std::uint32_t vtep = 0,
                                                             std::uint64_t vni = 0) {
        for (auto& p : ports) p->clearSent();
        ports[in]->injectTunneled(f, vtep, vni);
        of->datapath().runOnce();
        std::array<std::vector<dp::CapturedFrame>, kPorts> out;
        for (int i = 0; i < kPorts; ++i) out[i] = ports[i]->sent();
        return out;
    }
    std::array<std::size_t, kPorts> counts(int in, const Bytes& f, std::uint32_t vtep = 0, std::uint64_t vni = 0) {
        auto s = send(in, f, vtep, vni);
        std::array<std::size_t, kPorts> n{};
        for (int i = 0; i < kPorts; ++i) n[i] = s[i].size();
        return n;
    }
    static Bytes frame(std::uint8_t dst, std::uint8_t src, int vlan = -1) {
        return eth(dst == 0xff ? kBcast : mac(dst), mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2)), vlan);
    }
    // The tunnel destinations (tun_dst, tun_id) of the frames a port sent, sorted.
    static std::vector<std::pair<std::uint32_t, std::uint64_t>> dests(const std::vector<dp::CapturedFrame>& fs) {
        std::vector<std::pair<std::uint32_t, std::uint64_t>> d;
        for (const auto& f : fs) d.emplace_back(f.tun_dst, f.tun_id);
        std::sort(d.begin(), d.end());
        return d;
    }
    void addFlow(const std::string& text) {
        auto r = ofproto::parseFlowMod(text, ofproto::FlowMod::Command::kAdd,
                                       [](std::string_view) { return std::optional<std::uint32_t>(); });
        ASSERT_TRUE(std::holds_alternative<ofproto::FlowMod>(r)) << text;
        of->applyFlowMods("br0", {std::get<ofproto::FlowMod>(r)});
    }
    std::optional<ofproto::FdbRow> fdbRow(std::uint8_t last) {
        for (const auto& r : of->fdb("br0"))
            if (r.mac.b[5] == last) return r;
        return std::nullopt;
    }

    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, kPorts> ports;
    std::array<std::uint32_t, kPorts> dp_no{};
};

using D = std::vector<std::pair<std::uint32_t, std::uint64_t>>;

TEST_F(TunnelNormalTest, LearnsRemoteVtepAndUnicastsToIt) {
    // A broadcast from host 10 behind VTEP A: flooded to local ports only (split horizon).
    EXPECT_EQ(counts(kVxf, frame(0xff, 10), kA, 42), (std::array<std::size_t, kPorts>{1, 1, 0, 0, 0}));
    auto row = fdbRow(10);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->port_name, "vxf");
    EXPECT_EQ(row->vtep, kA);
    EXPECT_FALSE(row->vni) << "the port's key is fixed";
    for (int i = 0; i < 2; ++i) {  // the second time from the cache
        auto s = send(kP1, frame(10, 1));
        EXPECT_EQ(dests(s[kVxf]), (D{{kA, 0}})) << "unicast leaves with the VTEP learned";
        EXPECT_TRUE(s[kP2].empty() && s[kVx].empty() && s[kVxk].empty());
    }
    EXPECT_FALSE(fdbRow(1)->vtep) << "a local port's entry has no VTEP";
}

TEST_F(TunnelNormalTest, MegaflowsMatchTunnelSourceOnlyForFlowBasedPorts) {
    for (int i = 0; i < 2; ++i) {
        send(kVxf, frame(1, 10), kA, 42);
        send(kP1, frame(10, 1));
        send(kVxk, frame(1, 30), kB, 100);
        send(kVx, frame(1, 20), kD, 42);
    }
    auto flows = of->datapath().dumpFlows();
    std::map<std::uint32_t, int> seen;
    for (const auto& f : flows) {
        std::uint32_t in = f.key.in_port;
        ++seen[in];
        if (in == dp_no[kVxf]) {
            EXPECT_EQ(f.mask.tun_src, ~0u);
            EXPECT_EQ(f.mask.tun_id, 0u) << "key=42 is fixed: tun_id is constant on the port";
        } else if (in == dp_no[kVxk]) {
            EXPECT_EQ(f.mask.tun_src, ~0u);
            EXPECT_EQ(f.mask.tun_id, ~0ull);
        } else {
            EXPECT_EQ(f.mask.tun_src, 0u) << "port " << in << ": ordinary and fixed tunnels do not match it";
            EXPECT_EQ(f.mask.tun_id, 0u);
        }
    }
    for (int p : {kVxf, kP1, kVxk, kVx}) EXPECT_EQ(seen[dp_no[p]], 1) << "one megaflow from port index " << p;
}

TEST_F(TunnelNormalTest, MacMovingToAnotherVtepIsFollowed) {
    send(kP1, frame(0xff, 1));
    for (int i = 0; i < 2; ++i) send(kVxf, frame(1, 10), kA, 42);  // cached: host 10 behind A
    for (int i = 0; i < 2; ++i) EXPECT_EQ(dests(send(kP1, frame(10, 1))[kVxf]), (D{{kA, 0}}));
    // Host 10 moves behind VTEP B (a migrated VM): its next frame comes from B.
    EXPECT_EQ(counts(kVxf, frame(1, 10), kB, 42), (std::array<std::size_t, kPorts>{1, 0, 0, 0, 0}));
    EXPECT_EQ(fdbRow(10)->vtep, kB);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(dests(send(kP1, frame(10, 1))[kVxf]), (D{{kB, 0}})) << "no stale flow";
}

TEST_F(TunnelNormalTest, FloodReplicatesToEveryKnownVtepAndTheStaticList) {
    send(kVxf, frame(1, 10), kA, 42);
    send(kVxf, frame(1, 11), kB, 42);
    send(kVxf, frame(1, 12), kA, 42);  // a second host behind A: still one copy to A
    for (int i = 0; i < 2; ++i) {
        auto s = send(kP1, frame(0xff, 1));
        EXPECT_EQ(dests(s[kVxf]), (D{{kA, 0}, {kB, 0}}));
        EXPECT_EQ(s[kVx].size(), 1u);
        EXPECT_EQ(s[kP2].size(), 1u);
        EXPECT_TRUE(s[kVxk].empty()) << "no VTEP known on vxk: no copy";
        EXPECT_EQ(s[kVxf][0].bytes, frame(0xff, 1)) << "the frame itself is unchanged";
    }
    of->setFloodVteps("br0", "vxf", {kC, kA});
    EXPECT_EQ(dests(send(kP1, frame(0xff, 1))[kVxf]), (D{{kA, 0}, {kB, 0}, {kC, 0}}));
    EXPECT_EQ(dests(send(kP1, frame(99, 1))[kVxf]), (D{{kA, 0}, {kB, 0}, {kC, 0}})) << "unknown unicast too";
    now += 400 * 1000;  // every learned entry ages out: the static list remains
    of->runPeriodic();
    EXPECT_EQ(dests(send(kP1, frame(0xff, 1))[kVxf]), (D{{kA, 0}, {kC, 0}}));
}

TEST_F(TunnelNormalTest, SplitHorizonAndNeverBackToTheSendingVtep) {
    send(kVxf, frame(1, 11), kB, 42);
    send(kVx, frame(1, 20), kD, 42);
    // Split horizon (default): from a tunnel to local ports only; unicast VTEP to VTEP filtered.
    EXPECT_EQ(counts(kVxf, frame(0xff, 10), kA, 42), (std::array<std::size_t, kPorts>{1, 1, 0, 0, 0}));
    EXPECT_EQ(counts(kVxf, frame(11, 10), kA, 42), (std::array<std::size_t, kPorts>{0, 0, 0, 0, 0}));

    of->setBridgeSettings("br0", {300, 8192, false});  // a hub: relays between VTEPs
    auto s = send(kVxf, frame(0xff, 10), kA, 42);
    EXPECT_EQ(dests(s[kVxf]), (D{{kB, 0}})) << "to the other VTEP of the port, not back to A";
    EXPECT_EQ(s[kVx].size(), 1u);
    EXPECT_EQ(dests(send(kVxf, frame(11, 10), kA, 42)[kVxf]), (D{{kB, 0}})) << "unicast A -> B relayed";
    EXPECT_TRUE(send(kVxf, frame(10, 12), kA, 42)[kVxf].empty()) << "host 10 is behind A itself: filtered";
    s = send(kVx, frame(0xff, 20), kD, 42);
    EXPECT_EQ(dests(s[kVxf]), (D{{kA, 0}, {kB, 0}}));
    EXPECT_TRUE(s[kVx].empty());
}

TEST_F(TunnelNormalTest, KeyFlowLearnsTheVniAndFloodsEachVniOnlyItsVlan) {
    send(kVxk, frame(1, 30, 10), kA, 100);  // VLAN 10 arrives in VNI 100 from A
    send(kVxk, frame(1, 31, 20), kB, 200);  // VLAN 20 in VNI 200 from B
    auto row = fdbRow(30);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->vtep, kA);
    EXPECT_EQ(row->vni, 100u);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(dests(send(kP1, frame(30, 1, 10))[kVxk]), (D{{kA, 100}}));
    EXPECT_EQ(dests(send(kP1, frame(0xff, 1, 20))[kVxk]), (D{{kB, 200}})) << "VLAN 20 only where VNI 200 is";
    // The same MAC from another VNI is a move.
    send(kVxk, frame(1, 30, 10), kA, 101);
    EXPECT_EQ(fdbRow(30)->vni, 101u);
    EXPECT_EQ(dests(send(kP1, frame(30, 1, 10))[kVxk]), (D{{kA, 101}}));
}

// OpenFlow's FLOOD and ALL through a flow-based port: a rule that chose no destination
// (set_field:IP->tun_dst) gets what NORMAL's flooding gives, one copy per known remote VTEP and
// per address of flood_remotes, instead of one copy dropped for want of a destination; a rule
// that chose one sends there only.
TEST_F(TunnelNormalTest, OpenFlowFloodAndAllReplicateToKnownVteps) {
    send(kVxf, frame(1, 10), kA, 42);
    send(kVxf, frame(1, 11), kB, 42);
    of->setFloodVteps("br0", "vxf", {kC});
    for (const char* action : {"FLOOD", "ALL"}) {
        addFlow(std::string("priority=100,in_port=1,actions=") + action);
        for (int i = 0; i < 2; ++i) {  // the slow path, then the cached megaflow
            auto s = send(kP1, frame(0xff, 1));
            EXPECT_EQ(dests(s[kVxf]), (D{{kA, 0}, {kB, 0}, {kC, 0}})) << action << " round " << i;
            EXPECT_EQ(s[kVx].size(), 1u) << action;
            EXPECT_EQ(s[kP2].size(), 1u) << action;
            EXPECT_TRUE(s[kVxk].empty()) << action << ": no VTEP known on vxk";
            EXPECT_TRUE(s[kP1].empty()) << action << ": not back out of the input port";
        }
    }
    addFlow("priority=200,in_port=1,actions=set_field:192.0.2.5->tun_dst,FLOOD");
    EXPECT_EQ(dests(send(kP1, frame(0xff, 1))[kVxf]), (D{{kD, 0}})) << "the rule's destination only";
    // A VTEP learned later is flooded to at once (the megaflows are invalidated by the learning).
    addFlow("priority=300,in_port=1,actions=FLOOD");
    send(kVxf, frame(1, 12), kD, 42);
    EXPECT_EQ(dests(send(kP1, frame(0xff, 1))[kVxf]), (D{{kA, 0}, {kB, 0}, {kC, 0}, {kD, 0}}));
}

}  // namespace
