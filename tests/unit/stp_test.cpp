// IEEE 802.1D-1998 STP (ofproto/stp.h) with an injected clock: BPDU codec, root election, port
// roles and states, Forward Delay transitions, re-convergence after a link fails, and topology
// change notification. Bridges are wired by a small simulated LAN: every BPDU goes through the
// codec (built and parsed) to the other end of its link.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "ofproto/stp.h"

namespace vs::ofproto {
namespace {

dp::MacAddr mac(std::uint8_t last) { return dp::MacAddr{{0x02, 0, 0, 0, 0, last}}; }

StpSettings fast(std::uint16_t priority, std::uint8_t id) {
    StpSettings s;
    s.priority = priority;
    s.system = mac(id);
    s.hello_s = 1;
    s.max_age_s = 6;
    s.forward_delay_s = 4;
    return s;
}

// Bridges by name, links between (bridge, port) pairs; BPDUs cross a link within one step.
struct Net {
    std::int64_t now = 1000;
    std::map<std::string, std::unique_ptr<Stp>> br;
    std::map<std::pair<std::string, std::uint32_t>, std::pair<std::string, std::uint32_t>> wire;
    std::map<std::pair<std::string, std::uint32_t>, bool> up;
    std::uint64_t delivered = 0;

    void bridge(const std::string& n, std::uint16_t prio, std::uint8_t id) {
        br[n] = std::make_unique<Stp>(fast(prio, id), now);
    }
    void link(const std::string& a, std::uint32_t pa, const std::string& b, std::uint32_t pb, std::uint32_t cost = 19) {
        wire[{a, pa}] = {b, pb};
        wire[{b, pb}] = {a, pa};
        up[{a, pa}] = up[{b, pb}] = true;
        StpPortSettings s;
        s.path_cost = cost;
        br[a]->addPort(pa, s, true, now);
        br[b]->addPort(pb, s, true, now);
    }
    void cut(const std::string& a, std::uint32_t pa) {
        auto [b, pb] = wire.at({a, pa});
        up[{a, pa}] = up[{b, pb}] = false;
        br[a]->setCarrier(pa, false, now);
        br[b]->setCarrier(pb, false, now);
    }
    void deliver() {
        for (int round = 0; round < 8; ++round) {  // replies to replies within one step
            bool any = false;
            for (auto& [n, s] : br)
                for (auto& [port, bpdu] : s->transmit()) {
                    auto w = wire.find({n, port});
                    if (w == wire.end() || !up[{n, port}]) continue;
                    auto frame = buildStpBpdu(mac(1), bpdu);
                    auto parsed = parseStpBpdu(frame);
                    ASSERT_TRUE(parsed);
                    ASSERT_EQ(*parsed, bpdu);
                    br[w->second.first]->receive(w->second.second, *parsed, now);
                    ++delivered;
                    any = true;
                }
            if (!any) return;
        }
    }
    void runFor(std::int64_t ms) {
        for (std::int64_t t = 0; t < ms; t += 100) {
            now += 100;
            for (auto& [n, s] : br) s->run(now);
            deliver();
        }
    }
    StpState state(const std::string& n, std::uint32_t p) { return br[n]->state(p); }
    StpRole role(const std::string& n, std::uint32_t p) {
        for (const auto& ps : br[n]->status(now).ports)
            if (ps.id == p) return ps.role;
        return StpRole::kDisabled;
    }
};

TEST(StpCodec, ConfigAndTcnRoundTrip) {
    StpBpdu b;
    b.config = {true, true, 0x1000020000000001ULL, 38, 0x8000020000000002ULL, 0x8003, 256, 6 * 256, 256, 4 * 256};
    auto f = buildStpBpdu(mac(2), b);
    ASSERT_EQ(f.size(), 60u);
    EXPECT_EQ(f[12], 0);
    EXPECT_EQ(f[13], 38);  // 802.3 length: 3 LLC + 35 BPDU octets
    EXPECT_EQ(f[14], 0x42);
    EXPECT_EQ(f[21], 0x81);  // TC ack | TC
    auto p = parseStpBpdu(f);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, b);
    StpBpdu tcn;
    tcn.type = StpBpdu::Type::kTcn;
    auto t = buildStpBpdu(mac(2), tcn);
    EXPECT_EQ(t[13], 7);
    EXPECT_EQ(t[20], 0x80);
    auto pt = parseStpBpdu(t);
    ASSERT_TRUE(pt);
    EXPECT_EQ(pt->type, StpBpdu::Type::kTcn);
}

TEST(StpCodec, RefusesWhatIsNotAnStpBpdu) {
    StpBpdu b;
    b.config.max_age = 6 * 256;
    auto good = buildStpBpdu(mac(2), b);
    std::string why;
    auto bad = good;
    bad[14] = 0xaa;
    EXPECT_FALSE(parseStpBpdu(bad, &why));
    EXPECT_NE(why.find("LLC"), std::string::npos);
    bad = good;
    bad[20] = 0x02;  // RST BPDU
    EXPECT_FALSE(parseStpBpdu(bad, &why));
    EXPECT_NE(why.find("RST"), std::string::npos);
    bad = good;
    bad[44] = 6;  // Message Age 6 s = Max Age
    EXPECT_FALSE(parseStpBpdu(bad, &why));
    EXPECT_NE(why.find("Message Age"), std::string::npos);
    EXPECT_FALSE(parseStpBpdu(std::span(good).first(40), &why));
    bad = good;
    bad[12] = 0x08;  // an Ethertype, not a length
    EXPECT_FALSE(parseStpBpdu(bad, &why));
}

TEST(StpSettingsTest, TimerRangesOf8021D) {
    EXPECT_FALSE(fast(32768, 1).problem());
    StpSettings s = fast(32768, 1);
    s.hello_s = 0;
    EXPECT_NE(s.problem()->find("stp-hello-time"), std::string::npos);
    s = fast(32768, 1);
    s.max_age_s = 41;
    EXPECT_NE(s.problem()->find("stp-max-age"), std::string::npos);
    s = fast(32768, 1);
    s.forward_delay_s = 31;
    EXPECT_NE(s.problem()->find("stp-forward-delay"), std::string::npos);
    s = fast(32768, 1);
    s.max_age_s = 8;  // 2 * (4 - 1) = 6 < 8
    EXPECT_NE(s.problem()->find("2 * (stp-forward-delay - 1)"), std::string::npos);
    s = fast(32768, 1);
    s.hello_s = 3;  // 2 * (3 + 1) = 8 > 6
    EXPECT_NE(s.problem()->find("2 * (stp-hello-time + 1)"), std::string::npos);
}

TEST(Stp, LonePortGoesThroughListeningAndLearningToForwarding) {
    Net n;
    n.bridge("a", 32768, 1);
    StpPortSettings s;
    n.br["a"]->addPort(1, s, true, n.now);
    EXPECT_EQ(n.state("a", 1), StpState::kListening);  // designated at once, Forward Delay each step
    EXPECT_FALSE(n.br["a"]->learns(1));
    n.runFor(4000);
    EXPECT_EQ(n.state("a", 1), StpState::kLearning);
    EXPECT_TRUE(n.br["a"]->learns(1));
    EXPECT_FALSE(n.br["a"]->forwards(1));
    n.runFor(4000);
    EXPECT_EQ(n.state("a", 1), StpState::kForwarding);
    EXPECT_TRUE(n.br["a"]->forwards(1));
    EXPECT_TRUE(n.br["a"]->isRoot());
}

// a (priority 4096) is the root; b < c by MAC; the b-c link is blocked at c, the port furthest
// from the root on that segment (802.1D-1998 8.6.9).
Net triangle() {
    Net n;
    n.bridge("a", 4096, 1);
    n.bridge("b", 32768, 2);
    n.bridge("c", 32768, 3);
    n.link("a", 1, "b", 1);
    n.link("a", 2, "c", 1);
    n.link("b", 2, "c", 2);
    n.runFor(12000);
    return n;
}

TEST(Stp, TriangleElectsTheRootAndBlocksExactlyOnePort) {
    Net n = triangle();
    EXPECT_TRUE(n.br["a"]->isRoot());
    EXPECT_FALSE(n.br["b"]->isRoot());
    auto sb = n.br["b"]->status(n.now);
    EXPECT_EQ(sb.designated_root, n.br["a"]->status(n.now).bridge_id);
    EXPECT_EQ(sb.root_path_cost, 19u);
    EXPECT_EQ(sb.root_port, 1u);
    EXPECT_EQ(n.role("a", 1), StpRole::kDesignated);
    EXPECT_EQ(n.role("a", 2), StpRole::kDesignated);
    EXPECT_EQ(n.role("b", 1), StpRole::kRoot);
    EXPECT_EQ(n.role("c", 1), StpRole::kRoot);
    EXPECT_EQ(n.role("b", 2), StpRole::kDesignated);
    EXPECT_EQ(n.role("c", 2), StpRole::kAlternate);
    int blocked = 0;
    for (auto& [name, s] : n.br)
        for (const auto& p : s->status(n.now).ports) blocked += p.state == StpState::kBlocking;
    EXPECT_EQ(blocked, 1);
    EXPECT_EQ(n.state("c", 2), StpState::kBlocking);
    EXPECT_EQ(n.state("b", 2), StpState::kForwarding);
    EXPECT_FALSE(n.br["c"]->forwards(2));
    EXPECT_FALSE(n.br["c"]->learns(2));
}

TEST(Stp, PathCostDecidesTheRootPort) {
    Net n;
    n.bridge("a", 4096, 1);
    n.bridge("b", 32768, 2);
    n.bridge("c", 32768, 3);
    n.link("a", 1, "b", 1, 100);  // expensive direct link: b reaches a through c
    n.link("a", 2, "c", 1);
    n.link("b", 2, "c", 2);
    n.runFor(12000);
    EXPECT_EQ(n.br["b"]->status(n.now).root_port, 2u);
    EXPECT_EQ(n.br["b"]->status(n.now).root_path_cost, 38u);
    EXPECT_EQ(n.role("b", 1), StpRole::kAlternate);
    EXPECT_EQ(n.state("b", 1), StpState::kBlocking);
}

TEST(Stp, ReconvergesAfterTheRootPortsLinkFails) {
    Net n = triangle();
    n.cut("a", 2);  // c's root port goes down: c must open its blocked port towards b
    n.br["c"]->takeFdbFlush();
    n.runFor(100);
    EXPECT_EQ(n.state("c", 1), StpState::kDisabled);
    EXPECT_EQ(n.br["c"]->status(n.now).root_port, 2u);  // b's BPDUs still name a as the root
    EXPECT_EQ(n.state("c", 2), StpState::kListening);
    n.runFor(8200);
    EXPECT_EQ(n.state("c", 2), StpState::kForwarding);
    EXPECT_EQ(n.br["c"]->status(n.now).root_path_cost, 38u);
    EXPECT_TRUE(n.br["c"]->takeFdbFlush());  // the topology change reached c
}

TEST(Stp, ReconvergesThroughMaxAgeWhenTheDesignatedBridgeLosesTheRoot) {
    Net n = triangle();
    n.cut("a", 1);  // b loses its root port; its port to c must become c's root port's peer
    n.runFor(100);
    // b claims to be the root; c, holding better information for that segment, ignores the claim
    // until it ages out (Max Age), then becomes designated there and b follows.
    EXPECT_TRUE(n.br["b"]->isRoot());
    n.runFor(6000 + 8000 + 1000);
    EXPECT_FALSE(n.br["b"]->isRoot());
    EXPECT_EQ(n.br["b"]->status(n.now).root_port, 2u);
    EXPECT_EQ(n.role("c", 2), StpRole::kDesignated);
    EXPECT_EQ(n.state("c", 2), StpState::kForwarding);
    EXPECT_EQ(n.state("b", 2), StpState::kForwarding);
}

TEST(Stp, TopologyChangeReachesTheRootAndEveryBridgeFlushes) {
    Net n = triangle();
    n.runFor(12000);  // the start-up topology changes are over
    for (auto& [name, s] : n.br) {
        s->takeFdbFlush();
        EXPECT_FALSE(s->status(n.now).topology_change) << name;
    }
    StpPortSettings s;
    n.br["c"]->addPort(9, s, true, n.now);  // a new edge port: forwarding after 2 Forward Delays
    n.runFor(8200);
    EXPECT_EQ(n.state("c", 9), StpState::kForwarding);
    n.runFor(1300);
    // c sent a TCN to a (its root port); a set TC in its Configuration BPDUs; all flush.
    EXPECT_TRUE(n.br["a"]->status(n.now).topology_change);
    EXPECT_TRUE(n.br["b"]->status(n.now).topology_change);
    for (auto& [name, st] : n.br) EXPECT_TRUE(st->takeFdbFlush()) << name;
    n.runFor(6000 + 4000 + 500);  // Max Age + Forward Delay
    EXPECT_FALSE(n.br["a"]->status(n.now).topology_change);
    EXPECT_FALSE(n.br["b"]->status(n.now).topology_change);
}

TEST(Stp, PortWithStpDisabledForwardsAtOnceAndSendsNothing) {
    Net n;
    n.bridge("a", 32768, 1);
    StpPortSettings s;
    s.enable = false;
    n.br["a"]->addPort(1, s, true, n.now);
    EXPECT_TRUE(n.br["a"]->forwards(1));
    n.runFor(3000);
    EXPECT_TRUE(n.br["a"]->transmit().empty());
    EXPECT_EQ(n.br["a"]->status(n.now).ports[0].tx, 0u);
}

TEST(Stp, LowerPriorityBridgeTakesOverAsRoot) {
    Net n = triangle();
    StpSettings s = fast(0, 3);  // c becomes the best bridge
    n.br["c"]->configure(s, n.now);
    n.runFor(20000);
    EXPECT_TRUE(n.br["c"]->isRoot());
    EXPECT_FALSE(n.br["a"]->isRoot());
    int blocked = 0;
    for (auto& [name, st] : n.br)
        for (const auto& p : st->status(n.now).ports) blocked += p.state == StpState::kBlocking;
    EXPECT_EQ(blocked, 1);
    EXPECT_EQ(n.state("b", 1), StpState::kBlocking);  // b's port to a: the worst on that segment
}

TEST(Stp, HoldTimeDelaysTheAcknowledgementOfATcn) {
    std::int64_t now = 1000;
    Stp a(fast(32768, 1), now);
    StpPortSettings s;
    a.addPort(1, s, true, now);
    a.transmit();
    now += 1000;
    a.run(now);  // Hello Time: a Configuration BPDU, and the Hold Timer starts
    ASSERT_EQ(a.transmit().size(), 1u);
    StpBpdu tcn;
    tcn.type = StpBpdu::Type::kTcn;
    now += 100;
    a.run(now);
    a.receive(1, tcn, now);
    EXPECT_TRUE(a.transmit().empty());  // 802.1D-1998 8.6.1.3.1: held back
    now += 900;
    a.run(now);
    auto out = a.transmit();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].second.config.tc_ack);
    EXPECT_TRUE(out[0].second.config.tc);
}

}  // namespace
}  // namespace vs::ofproto
