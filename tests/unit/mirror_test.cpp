// Port mirroring (ofproto/mirror.h, docs/mirrors.md) on a bridge of dummy ports: which copies a
// packet makes and how they are tagged, the output port's reservation, bonds and tunnels as
// selected ports, the counters, and the megaflow cache: cached equals fresh, and a mirror added,
// changed or removed reaches packets whose megaflow was installed before.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;
using ofproto::MirrorSpec;
using ofproto::PortVlan;
using ofproto::VlanMode;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

PortVlan access(int tag) { return PortVlan::fromColumns(tag, {}, "access"); }
PortVlan trunk(std::vector<int> vlans = {}) { return PortVlan::fromColumns(std::nullopt, vlans, "trunk"); }

// 802.1Q tag of a captured frame (-1: untagged).
int vidOf(const Bytes& f) { return f.size() >= 16 && f[12] == 0x81 && f[13] == 0x00 ? ((f[14] & 0x0f) << 8) | f[15] : -1; }
Bytes untag(Bytes f) {
    if (vidOf(f) >= 0) f.erase(f.begin() + 12, f.begin() + 16);
    return f;
}

class MirrorTest : public ::testing::Test {
protected:
    // p1..p4 (ofports 1..4); VLAN configs given per port (default trunk).
    void build(std::vector<PortVlan> vlans = {}) {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        for (int i = 0; i < 4; ++i) {
            ports[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
            PortVlan v = i < static_cast<int>(vlans.size()) ? vlans[i] : PortVlan{};
            of->addPort("br0", ports[i]->name(), i + 1, ports[i], v);
        }
    }
    void SetUp() override { build(); }
    // Injects `f` on port index `in`, runs the datapath, returns every port's frames.
    std::array<std::vector<Bytes>, 4> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        std::array<std::vector<Bytes>, 4> out;
        for (int i = 0; i < 4; ++i)
            for (const auto& c : ports[i]->sent()) out[i].push_back(c.bytes);
        return out;
    }
    Bytes frame(const Bytes& dst, std::uint8_t src, int tci = -1, std::uint16_t sport = 1) {
        return eth(dst, mac(src), 0x0800, ipv4(17, 0x0a000000u + src, 0x0a0000ffu, udp(sport, 2)), tci);
    }
    ofproto::MirrorStats statsOf(const std::string& name) {
        of->datapath().sweepForTest();  // push the megaflows' counters now
        for (const auto& s : of->mirrorStats("br0"))
            if (s.name == name) return s;
        ADD_FAILURE() << "no mirror " << name;
        return {};
    }
    static MirrorSpec toPort(const std::string& name, const std::string& out) {
        MirrorSpec s;
        s.name = name;
        s.out_port = out;
        return s;
    }

    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 4> ports;
};

TEST_F(MirrorTest, SelectAllCopiesEachPacketOnceAndReservesTheOutputPort) {
    MirrorSpec m = toPort("m0", "p4");
    m.select_all = true;
    of->setMirrors("br0", {m});
    Bytes b = frame(kBcast, 1);
    auto out = send(0, b);  // flooded to p2 and p3; received on p1 and sent on both: one copy
    EXPECT_EQ(out[1].size(), 1u);
    EXPECT_EQ(out[2].size(), 1u);
    ASSERT_EQ(out[3].size(), 1u) << "a packet selected at ingress and at two egress ports is copied once";
    EXPECT_EQ(out[3][0], b) << "the copy is the frame as received (untagged on a trunk for VLAN 0)";
    EXPECT_TRUE(out[0].empty()) << "never back out of the port it came in on";

    auto fromMirrorPort = send(3, frame(kBcast, 4));
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(fromMirrorPort[i].empty()) << "frames received on a mirror output are dropped";
    auto toLearned = send(1, frame(mac(4), 2));  // 02:..:04 was not learned on p4: flooded, p4 gets only the copy
    EXPECT_EQ(toLearned[0].size(), 1u);
    EXPECT_EQ(toLearned[3].size(), 1u);
    auto s = statsOf("m0");
    EXPECT_EQ(s.tx_packets, 2u);
    EXPECT_EQ(s.tx_bytes, b.size() + frame(mac(4), 2).size());
}

TEST_F(MirrorTest, SourceAndDestinationPortsSelectOnlyTheirDirection) {
    MirrorSpec src = toPort("src", "p4");
    src.src_ports = {"p1"};
    of->setMirrors("br0", {src});
    send(1, frame(kBcast, 2));                 // p1 learns nothing yet; 2 is behind p2
    EXPECT_EQ(send(0, frame(mac(2), 1))[3].size(), 1u) << "received on p1: copied";
    EXPECT_EQ(send(1, frame(mac(1), 2))[3].size(), 0u) << "sent on p1 only: not copied";

    MirrorSpec dst = toPort("dst", "p4");
    dst.dst_ports = {"p1"};
    of->setMirrors("br0", {dst});
    auto toP1 = send(1, frame(mac(1), 2));
    ASSERT_EQ(toP1[3].size(), 1u) << "sent on p1: copied";
    EXPECT_EQ(toP1[3][0], toP1[0][0]) << "the copy of a sent packet is the frame as sent";
    EXPECT_EQ(send(0, frame(mac(2), 1))[3].size(), 0u) << "received on p1 only: not copied";
    EXPECT_EQ(statsOf("dst").tx_packets, 1u);
}

// The copy is tagged as the output port sends the packet's VLAN (Open vSwitch's output_normal):
// a trunk output port gets the VLAN of an access port's untagged frames as a tag.
TEST_F(MirrorTest, CopiesAreTaggedAsTheOutputPortSendsTheVlan) {
    build({access(10), trunk({10, 20}), access(20), trunk()});
    MirrorSpec m = toPort("m0", "p4");
    m.select_all = true;
    of->setMirrors("br0", {m});
    Bytes fromAccess = frame(kBcast, 1);
    auto out = send(0, fromAccess);
    ASSERT_EQ(out[1].size(), 1u);
    EXPECT_EQ(vidOf(out[1][0]), 10);
    ASSERT_EQ(out[3].size(), 1u);
    EXPECT_EQ(vidOf(out[3][0]), 10);
    EXPECT_EQ(untag(out[3][0]), fromAccess);
    EXPECT_TRUE(out[2].empty()) << "VLAN 20's access port is not in VLAN 10";

    build({access(10), trunk({10, 20}), access(20), access(30)});  // an access output port: untagged copies
    of->setMirrors("br0", {m});
    auto tagged = send(1, frame(kBcast, 2, 20));
    ASSERT_EQ(tagged[3].size(), 1u);
    EXPECT_EQ(vidOf(tagged[3][0]), -1);
    EXPECT_EQ(tagged[2].size(), 1u);
    EXPECT_EQ(vidOf(tagged[2][0]), -1);
}

TEST_F(MirrorTest, SelectVlanFiltersByTheBridgeVlan) {
    build({access(10), trunk(), access(20), trunk()});
    MirrorSpec m = toPort("m0", "p4");
    m.select_all = true;
    m.vlans = {20};
    of->setMirrors("br0", {m});
    EXPECT_EQ(send(0, frame(kBcast, 1))[3].size(), 0u) << "VLAN 10 is not selected";
    auto v20 = send(1, frame(kBcast, 2, 20));
    EXPECT_EQ(v20[2].size(), 1u);
    ASSERT_EQ(v20[3].size(), 1u);
    EXPECT_EQ(vidOf(v20[3][0]), 20);
    EXPECT_EQ(send(2, frame(kBcast, 3))[3].size(), 1u) << "untagged on VLAN 20's access port: VLAN 20";
    EXPECT_EQ(statsOf("m0").tx_packets, 2u);
}

// RSPAN: copies go, tagged with output_vlan, to every port carrying it (the ingress one too:
// that is how a copy of traffic from the uplink reaches the remote analyzer); frames already on
// output_vlan are not mirrored again.
TEST_F(MirrorTest, OutputVlanFloodsCopiesOnTheRspanVlan) {
    build({access(10), trunk({10, 99}), access(10), trunk({99})});
    MirrorSpec m;
    m.name = "rspan";
    m.src_ports = {"p1"};
    m.out_vlan = 99;
    of->setMirrors("br0", {m});
    Bytes f = frame(kBcast, 1);
    auto out = send(0, f);
    ASSERT_EQ(out[1].size(), 2u) << "p2: the frame on VLAN 10 and the copy on VLAN 99";
    EXPECT_EQ(vidOf(out[1][0]) + vidOf(out[1][1]), 10 + 99);
    ASSERT_EQ(out[3].size(), 1u);
    EXPECT_EQ(vidOf(out[3][0]), 99);
    EXPECT_EQ(untag(out[3][0]), f);
    EXPECT_EQ(out[2].size(), 1u) << "p3 (VLAN 10) gets the frame, not the copy";
    EXPECT_EQ(vidOf(out[2][0]), -1);

    m.src_ports = {"p2"};
    of->setMirrors("br0", {m});
    auto onRspan = send(1, frame(kBcast, 2, 99));
    EXPECT_EQ(onRspan[3].size(), 1u) << "flooded on VLAN 99 once, not copied again";
}

TEST_F(MirrorTest, BondsAndTunnelsAsSelectedPorts) {
    of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
    of->addBridge("br0");
    auto host = std::make_shared<dp::DummyPort>("h1");
    auto tun = std::make_shared<dp::DummyPort>("vx1");
    dp::TunnelMode tm;
    tm.tunnel = true;
    tun->setTunnelMode(tm);
    auto mon = std::make_shared<dp::DummyPort>("mon");
    of->addPort("br0", "h1", 1, host);
    of->addPort("br0", "vx1", 2, tun);
    of->addPort("br0", "mon", 3, mon);
    of->addBond("br0", "bond0", {}, ofproto::BondSettings{});
    std::array<std::shared_ptr<dp::DummyPort>, 2> m;
    for (int i = 0; i < 2; ++i) {
        m[i] = std::make_shared<dp::DummyPort>("m" + std::to_string(i + 1));
        of->addBondMember("br0", "bond0", m[i]->name(), static_cast<std::uint32_t>(10 + i), m[i]);
    }
    MirrorSpec s = toPort("m0", "mon");
    s.src_ports = {"bond0", "vx1"};
    of->setMirrors("br0", {s});
    auto run = [&] { of->datapath().runOnce(); };
    m[0]->inject(frame(kBcast, 7));
    run();
    EXPECT_EQ(mon->sent().size(), 1u) << "received on the bond's active member: copied";
    mon->clearSent();
    m[1]->inject(frame(kBcast, 8));  // on the backup member: copied, then dropped by the bond, as
    run();                           // Open vSwitch mirrors before it forwards
    EXPECT_EQ(mon->sent().size(), 1u);
    EXPECT_EQ(host->sent().size(), 1u) << "only the active member's broadcast was forwarded";
    mon->clearSent();
    tun->injectTunneled(frame(kBcast, 9), 0x0a000002, 5);
    run();
    ASSERT_EQ(mon->sent().size(), 1u) << "decapsulated from the tunnel: copied";
    EXPECT_EQ(mon->sent()[0].bytes, frame(kBcast, 9));
}

// A megaflow removed because its bridge learned a MAC (a partial invalidation) hands its traffic
// to its counters first: found by test_mirror.py, where copies were on the wire but missing from
// tx_packets (OpenFlow rule counters lost the same traffic).
TEST_F(MirrorTest, CountersSurviveAPartialInvalidation) {
    MirrorSpec m = toPort("m0", "p4");
    m.src_ports = {"p1"};
    of->setMirrors("br0", {m});
    send(0, frame(kBcast, 1));  // learns 1: the decision is used once, not cached
    send(0, frame(kBcast, 1));  // cached: counted in the megaflow only
    send(1, frame(kBcast, 2));  // learns 2: the bridge's megaflows go
    send(2, frame(kBcast, 3));  // the next batch removes them
    EXPECT_EQ(statsOf("m0").tx_packets, 2u);
}

// ofproto/trace shows the copies (received and sent) in its datapath actions.
TEST_F(MirrorTest, TraceShowsTheCopies) {
    send(1, frame(kBcast, 2));  // 02:..:02 is behind p2: the traced unicast goes there only
    dp::FlowKey f{};
    f.in_port = 1;
    std::memcpy(f.dl_dst, mac(2).data(), 6);
    auto describe = [](const ofproto::Rule&) { return std::string("rule"); };
    auto actions = [&] { return of->trace("br0", f, describe).back(); };
    std::string without = actions();
    std::string p4 = std::to_string(of->ports("br0").at(3).dp_port);
    EXPECT_EQ(without.find(p4), std::string::npos) << without;
    MirrorSpec m = toPort("m0", "p4");
    m.src_ports = {"p1"};
    of->setMirrors("br0", {m});
    EXPECT_NE(actions().find(p4), std::string::npos) << actions();
    m.src_ports.clear();
    m.dst_ports = {"p2"};
    of->setMirrors("br0", {m});
    EXPECT_NE(actions().find(p4), std::string::npos) << actions();
    f.in_port = 4;
    EXPECT_NE(actions().find("drop"), std::string::npos) << actions();
}

TEST_F(MirrorTest, BadMirrorsAreRefusedAndChangeNothing) {
    MirrorSpec good = toPort("m0", "p4");
    good.select_all = true;
    of->setMirrors("br0", {good});
    MirrorSpec selfie = toPort("m1", "p4");
    selfie.src_ports = {"p4"};
    EXPECT_THROW(of->setMirrors("br0", {good, selfie}), std::invalid_argument);
    MirrorSpec both = toPort("m1", "p3");
    both.out_vlan = 5;
    EXPECT_THROW(of->setMirrors("br0", {both}), std::invalid_argument);
    MirrorSpec vlan = toPort("m1", "p3");
    vlan.vlans = {4096};
    EXPECT_THROW(of->setMirrors("br0", {vlan}), std::invalid_argument);
    EXPECT_THROW(of->setMirrors("br0", {good, good}), std::invalid_argument);
    EXPECT_EQ(send(0, frame(kBcast, 1))[3].size(), 1u) << "the first mirror still works";
}

// A megaflow installed before a mirror existed must not keep skipping it, nor keep copying after
// the mirror is gone or changed.
TEST_F(MirrorTest, MirrorChangesReachCachedMegaflows) {
    send(1, frame(kBcast, 2));
    Bytes f = frame(mac(2), 1);
    EXPECT_EQ(send(0, f)[3].size(), 0u);  // learns 1: not cached
    EXPECT_EQ(send(0, f)[3].size(), 0u);  // cached
    auto hitsBefore = of->datapath().stats().hit;
    EXPECT_EQ(send(0, f)[3].size(), 0u);
    ASSERT_GT(of->datapath().stats().hit, hitsBefore) << "the frame's megaflow is cached";
    MirrorSpec m = toPort("m0", "p4");
    m.src_ports = {"p1"};
    of->setMirrors("br0", {m});
    EXPECT_EQ(send(0, f)[3].size(), 1u) << "added: copied";
    EXPECT_EQ(send(0, f)[3].size(), 1u);
    m.src_ports = {"p3"};
    of->setMirrors("br0", {m});
    EXPECT_EQ(send(0, f)[3].size(), 0u) << "changed: no longer selected";
    m.src_ports = {"p1"};
    of->setMirrors("br0", {m});
    EXPECT_EQ(send(0, f)[3].size(), 1u);
    of->setMirrors("br0", {});
    EXPECT_EQ(send(0, f)[3].size(), 0u) << "removed: not copied";
    EXPECT_EQ(send(0, f)[1].size(), 1u);
}

// Cached equals fresh: with mirrors of every kind on ports of every VLAN mode, each frame sends
// the same bytes to every port whether it hits a megaflow installed by an earlier, different
// frame or is translated afresh; under NORMAL and under OpenFlow rules that read no VLAN field
// (so the mirrors' own reads of the tag must reach the megaflow).
class MirrorCacheTest : public MirrorTest {
protected:
    void SetUp() override {
        build({access(10), trunk({10, 20, 99}), PortVlan::fromColumns(20, {10, 20}, "native-untagged"), trunk({99})});
        MirrorSpec a = toPort("a", "p4");
        a.src_ports = {"p1", "p2"};
        a.dst_ports = {"p3"};
        a.vlans = {10};
        MirrorSpec r;
        r.name = "r";
        r.dst_ports = {"p2"};
        r.vlans = {20};
        r.out_vlan = 99;
        of->setMirrors("br0", {a, r});
    }
    void flows(std::initializer_list<std::string_view> lines) {
        std::vector<ofproto::FlowMod> mods;
        for (auto text : lines) {
            auto res = ofproto::parseFlowMod(text, ofproto::FlowMod::Command::kAdd, [](std::string_view n) -> std::optional<std::uint32_t> {
                if (n.size() == 2 && n[0] == 'p') return static_cast<std::uint32_t>(n[1] - '0');
                return std::nullopt;
            });
            if (auto* e = std::get_if<ofproto::ParseError>(&res)) FAIL() << text << ": " << e->message;
            mods.push_back(std::get<ofproto::FlowMod>(res));
        }
        of->replaceFlows("br0", mods);
    }
    void check() {
        std::vector<std::pair<int, Bytes>> frames;
        for (std::uint8_t src = 1; src <= 3; ++src)
            for (int in = 0; in < 3; ++in)
                for (int tci : {-1, 10, 20, 0x2000 | 20})
                    for (const Bytes& dst : {kBcast, mac(1), mac(2), mac(3)})
                        frames.push_back({in, frame(dst, static_cast<std::uint8_t>(src + 10 * in), tci, 1)});
        for (int pass = 0; pass < 2; ++pass)
            for (const auto& [in, f] : frames) send(in, f);  // learn every MAC, then install the megaflows
        // The same frames from another UDP source port: new flow keys, which only a megaflow
        // installed by the frames above can answer (nothing here reads L4).
        for (auto& [in, f] : frames) f[f.size() - 11] = 7;  // udp sport 1 -> 7 (4-byte payload, 8-byte header)
        auto hitsBefore = of->datapath().stats().hit;
        std::vector<std::array<std::vector<Bytes>, 4>> cached;
        for (const auto& [in, f] : frames) cached.push_back(send(in, f));
        EXPECT_EQ(of->datapath().stats().hit - hitsBefore, frames.size()) << "every frame hit an earlier frame's megaflow";
        std::size_t copies = 0;
        for (std::size_t i = 0; i < frames.size(); ++i) {
            of->datapath().invalidate();
            auto fresh = send(frames[i].first, frames[i].second);
            EXPECT_EQ(cached[i], fresh) << "frame " << i << " from p" << frames[i].first + 1;
            copies += fresh[3].size();
        }
        EXPECT_GT(copies, 0u) << "some frames were mirrored";
    }
};

TEST_F(MirrorCacheTest, CachedEqualsFreshUnderNormal) { check(); }

TEST_F(MirrorCacheTest, CachedEqualsFreshUnderRulesThatReadNoVlan) {
    flows({"in_port=p1,actions=output:p2,output:p3", "in_port=p2,actions=output:p3,output:p1",
           "in_port=p3,actions=output:p2"});
    check();
}

}  // namespace
