// IEEE 802.1D-2004 RSTP (ofproto/rstp.h) with an injected clock: the RST BPDU codec, root
// election, the four roles, proposal/agreement taking p2p links to Forwarding well within one
// Hello Time, the Alternate port taking over at once when the root port fails, edge ports, TC
// propagation and flushing, and migration to 802.1D-1998 BPDUs towards an STP bridge (the
// ofproto/stp.h machine, the real legacy peer in this simulation). Every BPDU goes through the
// codecs (built, then parsed by the receiver's parser) to the other end of its link.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "ofproto/rstp.h"
#include "ofproto/stp.h"

namespace vs::ofproto {
namespace {

dp::MacAddr mac(std::uint8_t last) { return dp::MacAddr{{0x02, 0, 0, 0, 0, last}}; }

RstpSettings settings(std::uint16_t priority, std::uint8_t id) {
    RstpSettings s;
    s.priority = priority;
    s.address = mac(id);
    s.max_age_s = 6;
    s.forward_delay_s = 4;
    return s;
}

using End = std::pair<std::string, std::uint32_t>;

// Bridges (RSTP, or 802.1D-1998 STP for the legacy peer) by name, links between ports.
struct Net {
    std::int64_t now = 1000;
    std::map<std::string, std::unique_ptr<Rstp>> br;
    std::map<std::string, std::unique_ptr<Stp>> legacy;
    std::map<End, End> wire;
    std::map<End, bool> up;
    std::map<std::string, std::vector<std::uint32_t>> flushed;  // ports whose MACs went, by bridge
    int rst_seen = 0, config_seen = 0, tcn_seen = 0, tc_flag_seen = 0;

    void bridge(const std::string& n, std::uint16_t prio, std::uint8_t id) {
        br[n] = std::make_unique<Rstp>(settings(prio, id), now);
    }
    void stpBridge(const std::string& n, std::uint16_t prio, std::uint8_t id) {
        StpSettings s;
        s.priority = prio;
        s.system = mac(id);
        s.hello_s = 2;
        s.max_age_s = 6;
        s.forward_delay_s = 4;
        legacy[n] = std::make_unique<Stp>(s, now);
    }
    void addPort(const std::string& n, std::uint32_t p, RstpPortSettings s = {}) {
        if (br.count(n)) br[n]->addPort(p, s, true, now);
        else legacy[n]->addPort(p, StpPortSettings{}, true, now);
    }
    void link(const std::string& a, std::uint32_t pa, const std::string& b, std::uint32_t pb, std::uint32_t cost = 2000) {
        wire[{a, pa}] = {b, pb};
        wire[{b, pb}] = {a, pa};
        up[{a, pa}] = up[{b, pb}] = true;
        RstpPortSettings s;
        s.path_cost = cost;
        addPort(a, pa, s);
        addPort(b, pb, s);
    }
    void cut(const std::string& a, std::uint32_t pa) {
        End other = wire.at({a, pa});
        up[{a, pa}] = up[other] = false;
        for (const End& e : {End{a, pa}, other}) {
            if (br.count(e.first)) br[e.first]->setCarrier(e.second, false, now);
            else legacy[e.first]->setCarrier(e.second, false, now);
        }
    }
    void toPeer(const End& from, const std::vector<std::uint8_t>& frame) {
        auto w = wire.find(from);
        if (w == wire.end() || !up[from]) return;
        const End& to = w->second;
        if (br.count(to.first)) {
            auto b = parseRstpBpdu(frame);
            ASSERT_TRUE(b);
            rst_seen += b->type == RstpBpdu::Type::kRst;
            config_seen += b->type == RstpBpdu::Type::kConfig;
            tcn_seen += b->type == RstpBpdu::Type::kTcn;
            tc_flag_seen += b->tc;
            br[to.first]->receive(to.second, *b, now);
        } else if (auto b = parseStpBpdu(frame)) {  // an 802.1D-1998 bridge ignores RST BPDUs
            legacy[to.first]->receive(to.second, *b, now);
        }
    }
    void deliver() {
        for (int round = 0; round < 16; ++round) {
            bool any = false;
            for (auto& [n, s] : br) {
                for (auto& [port, bpdu] : s->transmit()) {
                    any = true;
                    toPeer({n, port}, buildRstpBpdu(mac(9), bpdu));
                }
                for (auto p : s->takeFdbFlush()) flushed[n].push_back(p);
            }
            for (auto& [n, s] : legacy)
                for (auto& [port, bpdu] : s->transmit()) {
                    any = true;
                    toPeer({n, port}, buildStpBpdu(mac(9), bpdu));
                }
            if (!any) return;
        }
    }
    void runFor(std::int64_t ms) {
        deliver();
        for (std::int64_t t = 0; t < ms; t += 100) {
            now += 100;
            for (auto& [n, s] : br) s->run(now);
            for (auto& [n, s] : legacy) s->run(now);
            deliver();
        }
    }
    RstpRole role(const std::string& n, std::uint32_t p) { return br[n]->role(p); }
    RstpState state(const std::string& n, std::uint32_t p) { return br[n]->state(p); }
};

TEST(RstpCodec, RstBpduRoundTripAndLayout) {
    RstpBpdu b;
    b.tc = b.proposal = b.learning = b.agreement = true;
    b.role = RstpRole::kRoot;
    b.root_id = 0x1000020000000001ULL;
    b.root_path_cost = 2000;
    b.bridge_id = 0x8000020000000002ULL;
    b.port_id = 0x8003;
    b.message_age = 256;
    b.max_age = 20 * 256;
    b.hello_time = 2 * 256;
    b.forward_delay = 15 * 256;
    auto f = buildRstpBpdu(mac(2), b);
    ASSERT_EQ(f.size(), 60u);
    EXPECT_EQ(f[13], 39);    // 802.3 length: 3 LLC + 36 BPDU octets
    EXPECT_EQ(f[19], 2);     // protocol version 2
    EXPECT_EQ(f[20], 0x02);  // RST BPDU
    EXPECT_EQ(f[21], 0x01 | 0x02 | (2 << 2) | 0x10 | 0x40);
    EXPECT_EQ(f[52], 0);  // Version 1 Length
    auto p = parseRstpBpdu(f);
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, b);
}

TEST(RstpCodec, ReadsStpBpdusAndRefusesBadOnes) {
    StpBpdu c;
    c.config = {true, true, 0x1000020000000001ULL, 4, 0x8000020000000002ULL, 0x8001, 0, 6 * 256, 2 * 256, 4 * 256};
    auto p = parseRstpBpdu(buildStpBpdu(mac(2), c));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->type, RstpBpdu::Type::kConfig);
    EXPECT_TRUE(p->tc && p->tc_ack);
    EXPECT_EQ(p->root_id, c.config.root_id);
    StpBpdu tcn;
    tcn.type = StpBpdu::Type::kTcn;
    EXPECT_EQ(parseRstpBpdu(buildStpBpdu(mac(2), tcn))->type, RstpBpdu::Type::kTcn);
    RstpBpdu r;
    r.max_age = 6 * 256;
    auto good = buildRstpBpdu(mac(2), r);
    std::string why;
    auto bad = good;
    bad[19] = 0;  // RST type with version 0
    EXPECT_FALSE(parseRstpBpdu(bad, &why));
    EXPECT_NE(why.find("version"), std::string::npos);
    EXPECT_FALSE(parseRstpBpdu(std::span(good).first(52), &why));
    EXPECT_NE(why.find("36"), std::string::npos);
    bad = good;
    bad[20] = 0x07;
    EXPECT_FALSE(parseRstpBpdu(bad, &why));
    EXPECT_NE(why.find("unknown"), std::string::npos);
}

TEST(RstpSettingsTest, RangesRefusedWithTheKeyNamed) {
    EXPECT_FALSE(settings(4096, 1).problem());
    auto s = settings(4096, 1);
    s.max_age_s = 41;
    EXPECT_NE(s.problem()->find("rstp-max-age"), std::string::npos);
    s = settings(4096, 1);
    s.forward_delay_s = 3;
    EXPECT_NE(s.problem()->find("rstp-forward-delay"), std::string::npos);
    s = settings(4096, 1);
    s.transmit_hold_count = 11;
    EXPECT_NE(s.problem()->find("rstp-transmit-hold-count"), std::string::npos);
    s = settings(4096, 1);
    s.force_protocol_version = 1;
    EXPECT_NE(s.problem()->find("rstp-force-protocol-version"), std::string::npos);
    s = settings(4096, 1);
    s.ageing_time_s = 9;
    EXPECT_NE(s.problem()->find("rstp-ageing-time"), std::string::npos);
    s = settings(4096, 1);
    s.max_age_s = 10;  // forward delay 4: 2 * 3 = 6 < 10
    EXPECT_NE(s.problem()->find("17.14"), std::string::npos);
}

// A triangle: A (priority 4096) is the root; B and C reach it directly; the B-C link is closed
// at C (C's bridge id is higher), by an Alternate port. Everything converges by handshakes,
// well inside one Hello Time (2 s) and far from 2 * Forward Delay (8 s).
Net triangle() {
    Net n;
    n.bridge("A", 4096, 1);
    n.bridge("B", 32768, 2);
    n.bridge("C", 32768, 3);
    n.link("A", 1, "B", 1);
    n.link("A", 2, "C", 1);
    n.link("B", 2, "C", 2);
    return n;
}

TEST(Rstp, RootElectionRolesAndFastConvergence) {
    Net n = triangle();
    n.runFor(500);
    EXPECT_TRUE(n.br["A"]->isRoot());
    EXPECT_FALSE(n.br["B"]->isRoot());
    EXPECT_EQ(n.br["B"]->status(n.now).root_id, n.br["A"]->status(n.now).bridge_id);
    EXPECT_EQ(n.role("A", 1), RstpRole::kDesignated);
    EXPECT_EQ(n.role("A", 2), RstpRole::kDesignated);
    EXPECT_EQ(n.role("B", 1), RstpRole::kRoot);
    EXPECT_EQ(n.role("C", 1), RstpRole::kRoot);
    EXPECT_EQ(n.role("B", 2), RstpRole::kDesignated);
    EXPECT_EQ(n.role("C", 2), RstpRole::kAlternate);
    for (auto [b, p] : {End{"A", 1}, {"A", 2}, {"B", 1}, {"B", 2}, {"C", 1}})
        EXPECT_EQ(n.state(b, p), RstpState::kForwarding) << b << p;
    EXPECT_EQ(n.state("C", 2), RstpState::kDiscarding);
    EXPECT_EQ(n.br["C"]->status(n.now).root_path_cost, 2000u);
    EXPECT_GT(n.rst_seen, 0);
    EXPECT_EQ(n.config_seen, 0);
    n.runFor(10000);  // stable: nothing moves afterwards
    EXPECT_EQ(n.role("C", 2), RstpRole::kAlternate);
    EXPECT_EQ(n.state("B", 2), RstpState::kForwarding);
}

TEST(Rstp, WithoutAgreementADesignatedPortWaitsForTheTimers) {
    Net n;  // B's port 1 talks to nobody (a port with auto-edge off and no neighbour)
    n.bridge("B", 32768, 2);
    RstpPortSettings s;
    s.auto_edge = false;
    n.addPort("B", 1, s);
    n.runFor(1000);
    EXPECT_EQ(n.state("B", 1), RstpState::kDiscarding);
    EXPECT_EQ(n.role("B", 1), RstpRole::kDesignated);
    n.runFor(10000);
    EXPECT_EQ(n.state("B", 1), RstpState::kForwarding);
}

TEST(Rstp, AlternateTakesOverAtOnceWhenTheRootPortFails) {
    Net n = triangle();
    n.runFor(3000);
    ASSERT_EQ(n.role("C", 2), RstpRole::kAlternate);
    n.cut("A", 2);  // C's root port
    n.deliver();
    EXPECT_EQ(n.role("C", 2), RstpRole::kRoot);
    EXPECT_EQ(n.state("C", 2), RstpState::kForwarding);  // no timer ran
    EXPECT_EQ(n.br["C"]->status(n.now).root_path_cost, 4000u);
    EXPECT_EQ(n.state("B", 2), RstpState::kForwarding);
    EXPECT_FALSE(n.br["C"]->isRoot());
}

TEST(Rstp, BackupPortOnALoopedSegment) {
    Net n;
    n.bridge("A", 4096, 1);
    n.bridge("B", 32768, 2);
    n.link("A", 1, "B", 1);
    n.link("B", 2, "B", 3);  // two ports of B on one LAN
    n.runFor(2000);
    EXPECT_EQ(n.role("B", 1), RstpRole::kRoot);
    EXPECT_EQ(n.role("B", 2), RstpRole::kDesignated);
    EXPECT_EQ(n.role("B", 3), RstpRole::kBackup);
    EXPECT_EQ(n.state("B", 3), RstpState::kDiscarding);
}

TEST(Rstp, EdgePorts) {
    Net n;
    n.bridge("A", 4096, 1);
    RstpPortSettings edge;
    edge.admin_edge = true;
    n.addPort("A", 1, edge);
    n.addPort("A", 2);  // auto-edge: an edge once no BPDU came for the edge delay (3 s on p2p)
    n.deliver();
    EXPECT_EQ(n.state("A", 1), RstpState::kForwarding);  // at once
    EXPECT_EQ(n.state("A", 2), RstpState::kDiscarding);
    n.runFor(3500);
    EXPECT_EQ(n.state("A", 2), RstpState::kForwarding);
    EXPECT_TRUE(n.br["A"]->status(n.now).ports[1].oper_edge);
    // A BPDU makes it a bridge port again.
    n.bridge("B", 32768, 2);
    n.wire[{"A", 2}] = {"B", 1};
    n.wire[{"B", 1}] = {"A", 2};
    n.up[{"A", 2}] = n.up[{"B", 1}] = true;
    n.addPort("B", 1);
    n.runFor(200);
    EXPECT_FALSE(n.br["A"]->status(n.now).ports[1].oper_edge);
    EXPECT_EQ(n.role("B", 1), RstpRole::kRoot);
    EXPECT_EQ(n.state("B", 1), RstpState::kForwarding);
}

TEST(Rstp, TopologyChangePropagatesAndFlushesTheOtherPorts) {
    Net n = triangle();
    RstpPortSettings host;
    host.admin_edge = true;
    n.addPort("C", 9, host);
    n.addPort("B", 9, host);
    n.bridge("D", 32768, 4);
    n.link("A", 3, "D", 1);
    n.runFor(5000);
    n.flushed.clear();
    n.tc_flag_seen = 0;
    n.cut("A", 2);  // C's alternate becomes root port and forwards: a topology change
    n.runFor(100);
    EXPECT_GT(n.tc_flag_seen, 0);
    auto has = [&](const std::string& b, std::uint32_t p) {
        auto& v = n.flushed[b];
        return std::find(v.begin(), v.end(), p) != v.end();
    };
    EXPECT_TRUE(has("B", 1));  // B heard the TC on port 2: its other non-edge ports flush
    EXPECT_FALSE(has("B", 2));
    EXPECT_FALSE(has("B", 9));  // edge ports keep their entries (17.31: hosts do not move)
    EXPECT_TRUE(has("A", 3));   // and A, from B's root port: A's port towards D
    EXPECT_FALSE(has("A", 1));
    EXPECT_FALSE(has("C", 9));
    EXPECT_GT(n.br["B"]->status(n.now).topology_changes, 0u);
}

TEST(Rstp, MigratesToStpTowardsALegacyBridge) {
    Net n;
    n.stpBridge("L", 4096, 1);  // 802.1D-1998, the root
    n.bridge("R", 32768, 2);
    n.link("L", 1, "R", 1);
    n.runFor(1000);
    EXPECT_TRUE(n.br["R"]->isRoot());  // RST BPDUs mean nothing to L, and L's first one was early
    n.runFor(6000);                    // Migrate Time, then L's next Configuration BPDU
    auto st = n.br["R"]->status(n.now);
    EXPECT_FALSE(st.ports[0].send_rstp);
    EXPECT_EQ(st.root_id, n.legacy["L"]->status(n.now).bridge_id);
    EXPECT_EQ(n.role("R", 1), RstpRole::kRoot);
    EXPECT_GT(n.config_seen, 0);
    // Towards STP the root port goes through Learning: Forward Delay each, no handshake.
    n.runFor(9000);
    EXPECT_EQ(n.state("R", 1), RstpState::kForwarding);
    // L's TCN handling works against R: a change behind R reaches L as a TCN.
    RstpPortSettings host;
    host.auto_edge = false;
    n.addPort("R", 5, host);
    n.runFor(10000);
    EXPECT_EQ(n.state("R", 5), RstpState::kForwarding);
    EXPECT_TRUE(n.legacy["L"]->status(n.now).topology_change || n.legacy["L"]->status(n.now).topology_changes > 0);
}

TEST(Rstp, McheckTriesRstpAgainThenFallsBackWhileTheLegacyBridgeStays) {
    Net n;
    n.stpBridge("L", 4096, 1);
    n.bridge("R", 32768, 2);
    n.link("L", 1, "R", 1);
    n.runFor(8000);
    ASSERT_FALSE(n.br["R"]->status(n.now).ports[0].send_rstp);
    RstpPortSettings s;
    s.mcheck = true;
    n.br["R"]->setPortSettings(1, s, n.now);
    EXPECT_TRUE(n.br["R"]->status(n.now).ports[0].send_rstp);  // 17.24 CHECKING_RSTP
    n.runFor(2000);
    EXPECT_TRUE(n.br["R"]->status(n.now).ports[0].send_rstp);  // Migrate Time not over
    n.runFor(4000);  // then L's next Configuration BPDU
    EXPECT_FALSE(n.br["R"]->status(n.now).ports[0].send_rstp);
    EXPECT_EQ(n.role("R", 1), RstpRole::kRoot);
}

TEST(Rstp, ForceProtocolVersionZeroSpeaksStpOnly) {
    Net n;
    n.bridge("A", 32768, 1);
    auto s = settings(4096, 2);
    s.force_protocol_version = 0;
    n.br["B"] = std::make_unique<Rstp>(s, n.now);
    n.link("A", 1, "B", 1);
    n.runFor(8000);
    EXPECT_EQ(n.role("A", 1), RstpRole::kRoot);
    EXPECT_FALSE(n.br["B"]->status(n.now).ports[0].send_rstp);
    EXPECT_FALSE(n.br["A"]->status(n.now).ports[0].send_rstp);  // A heard B's Configuration BPDUs
    EXPECT_GT(n.config_seen, 0);
}

}  // namespace
}  // namespace vs::ofproto
