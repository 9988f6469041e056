// Bonds (ofproto/bond.h): member selection, hash spread, admissibility, up/down delays, primary,
// rebalancing, LACP gating; then a bond inside a bridge of dummy ports: NORMAL treats it as one
// port, failover re-translates and announces MACs, LACPDUs go to the slow path.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "datapath/dummy_port.h"
#include "ofproto/bond.h"
#include "ofproto/ofproto.h"
#include "ofproto/slow_path.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::ofproto;
using namespace vs::test;

namespace {

dp::FlowKey udpKey(std::uint32_t src_ip, std::uint16_t sport, std::uint8_t src_mac = 1) {
    dp::FlowKey k;
    k.clear();
    k.dl_type = dp::kEthTypeIPv4;
    k.dl_src[0] = 0x02;
    k.dl_src[5] = src_mac;
    k.dl_dst[0] = 0x02;
    k.dl_dst[5] = 0xee;
    k.nw_src = src_ip;
    k.nw_dst = 0x0a000001;
    k.nw_proto = 17;
    k.tp_src = sport;
    k.tp_dst = 53;
    return k;
}

dp::FlowKey bcastKey() {
    dp::FlowKey k = udpKey(1, 1);
    std::memset(k.dl_dst, 0xff, 6);
    return k;
}

class BondTest : public ::testing::Test {
protected:
    void make(BondSettings s, int members = 2) {
        bond = std::make_unique<Bond>("bond0", s, now);
        for (int i = 1; i <= members; ++i)
            bond->addMember(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(100 + i), "m" + std::to_string(i),
                            true, now);
    }
    std::optional<std::uint32_t> out(const dp::FlowKey& k, dp::StatsSinks* sinks = nullptr) {
        dp::FlowKey mask;
        mask.clear();
        return bond->chooseOutput(k, 0, mask, sinks);
    }
    std::int64_t now = 5000000;
    std::unique_ptr<Bond> bond;
};

BondSettings mode(BondMode m) {
    BondSettings s;
    s.mode = m;
    return s;
}

TEST_F(BondTest, ActiveBackupSendsEverythingByTheActiveMember) {
    make(mode(BondMode::kActiveBackup));
    ASSERT_EQ(bond->activeMember(), 1u);
    for (std::uint16_t p = 1; p < 50; ++p) EXPECT_EQ(out(udpKey(p, p)), 101u);
}

TEST_F(BondTest, BalanceTcpSpreadsFlowsAndMasksTheFiveTuple) {
    BondSettings s = mode(BondMode::kBalanceTcp);
    s.lacp = LacpMode::kOff;  // not negotiated: balance-tcp sends nothing
    make(s);
    EXPECT_FALSE(out(udpKey(1, 1))) << "balance-tcp requires LACP";
    // The hash itself: 2000 flows over 256 buckets, then over 2 members as bucket mod 2.
    std::map<int, int> per_bucket;
    for (std::uint16_t p = 0; p < 2000; ++p) ++per_bucket[Bond::tcpBucket(udpKey(0x0a000002, p), nullptr)];
    EXPECT_GT(per_bucket.size(), 240u) << "almost every bucket is used";
    int even = 0;
    for (auto& [b, n] : per_bucket) even += (b % 2 == 0) ? n : 0;
    EXPECT_NEAR(even, 1000, 120);
    dp::FlowKey mask;
    mask.clear();
    int b1 = Bond::tcpBucket(udpKey(0x0a000002, 7, 1), &mask);
    EXPECT_EQ(b1, Bond::tcpBucket(udpKey(0x0a000002, 7, 9), nullptr)) << "MACs are not hashed for IP";
    EXPECT_EQ(mask.nw_src, 0xffffffffu);
    EXPECT_EQ(mask.nw_dst, 0xffffffffu);
    EXPECT_EQ(mask.nw_proto, 0xff);
    EXPECT_EQ(mask.tp_src, 0xffff);
    EXPECT_EQ(mask.tp_dst, 0xffff);
    EXPECT_EQ(mask.dl_src[0], 0) << "source MAC not in the megaflow";
}

TEST_F(BondTest, BalanceSlbHashesSourceMacAndVlan) {
    make(mode(BondMode::kBalanceSlb));
    std::map<std::uint32_t, int> per_member;
    for (int m = 0; m < 1000; ++m) {
        dp::FlowKey k = udpKey(1, 1);
        k.dl_src[4] = static_cast<std::uint8_t>(m >> 8);
        k.dl_src[5] = static_cast<std::uint8_t>(m);
        dp::FlowKey mask;
        mask.clear();
        auto o = bond->chooseOutput(k, 10, mask, nullptr);
        ASSERT_TRUE(o);
        ++per_member[*o];
        EXPECT_EQ(mask.dl_src[0], 0xff);
        EXPECT_EQ(mask.tp_src, 0) << "ports are not hashed in balance-slb";
    }
    EXPECT_NEAR(per_member[101], 500, 80);
    EXPECT_NEAR(per_member[102], 500, 80);
    // Same MAC, different ports: same member.
    EXPECT_EQ(out(udpKey(1, 1, 3)), out(udpKey(9, 9, 3)));
}

TEST_F(BondTest, AdmissibilityFollowsOpenVswitch) {
    make(mode(BondMode::kActiveBackup));
    using V = BondAdmission;
    EXPECT_EQ(bond->admit(1, udpKey(1, 1)).verdict, V::kAccept);
    auto a = bond->admit(2, udpKey(1, 1));
    EXPECT_EQ(a.verdict, V::kDrop);
    EXPECT_EQ(a.reason, dp::Coverage::drop_bond_inactive_member);
    a = bond->admit(2, bcastKey());
    EXPECT_EQ(a.verdict, V::kDrop);
    EXPECT_EQ(a.reason, dp::Coverage::drop_bond_multicast_not_active);

    make(mode(BondMode::kBalanceSlb));
    EXPECT_EQ(bond->admit(1, bcastKey()).verdict, V::kDropIfMoved) << "admitted on the active member, unless reflected";
    EXPECT_EQ(bond->admit(2, bcastKey()).reason, dp::Coverage::drop_bond_multicast_not_active);
    EXPECT_EQ(bond->admit(2, udpKey(1, 1)).verdict, V::kDropIfMoved) << "unicast on any member, unless reflected";
}

TEST_F(BondTest, FailoverMovesActiveAndBucketsAndAsksForAnnouncements) {
    make(mode(BondMode::kBalanceSlb));
    EXPECT_TRUE(bond->takeLearningPacketsDue()) << "the first active member announces too";
    EXPECT_FALSE(bond->takeLearningPacketsDue());
    auto before = dp::coverageRead(dp::Coverage::bond_active_changed);
    EXPECT_TRUE(bond->setCarrier(1, false, now));
    EXPECT_EQ(bond->activeMember(), 2u);
    EXPECT_TRUE(bond->takeLearningPacketsDue());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::bond_active_changed), before + 1);
    for (int m = 0; m < 200; ++m) EXPECT_EQ(out(udpKey(1, 1, static_cast<std::uint8_t>(m))), 102u);
    EXPECT_TRUE(bond->setCarrier(2, false, now));
    EXPECT_FALSE(bond->activeMember());
    EXPECT_FALSE(out(udpKey(1, 1)));
    // Back: the returning member takes its share of buckets again.
    bond->setCarrier(1, true, now);
    bond->setCarrier(2, true, now);
    std::map<std::uint32_t, int> per_member;
    for (int m = 0; m < 200; ++m) ++per_member[*out(udpKey(1, 1, static_cast<std::uint8_t>(m)))];
    EXPECT_GT(per_member[101], 50);
    EXPECT_GT(per_member[102], 50);
}

TEST_F(BondTest, UpdelayAndDowndelayHoldChanges) {
    BondSettings s = mode(BondMode::kActiveBackup);
    s.updelay_ms = 1000;
    s.downdelay_ms = 500;
    make(s);
    // Both came up with no member enabled: the updelay was skipped.
    ASSERT_EQ(bond->activeMember(), 1u);
    bond->setCarrier(1, false, now);
    EXPECT_EQ(bond->activeMember(), 1u) << "bond_downdelay: still active";
    EXPECT_FALSE(bond->run(now + 499));
    EXPECT_TRUE(bond->run(now + 500));
    EXPECT_EQ(bond->activeMember(), 2u);
    now += 600;
    bond->setCarrier(1, true, now);
    EXPECT_FALSE(bond->status(now).members[0].enabled);
    EXPECT_EQ(bond->status(now).members[0].delay_ms, 1000);
    bond->run(now + 999);
    EXPECT_FALSE(bond->status(now).members[0].enabled);
    EXPECT_TRUE(bond->run(now + 1000));
    EXPECT_TRUE(bond->status(now).members[0].enabled);
    EXPECT_EQ(bond->activeMember(), 2u) << "no preemption without bond-primary";
    // A flap shorter than the delay changes nothing.
    bond->setCarrier(2, false, now + 1100);
    bond->setCarrier(2, true, now + 1200);
    bond->run(now + 2000);
    EXPECT_EQ(bond->activeMember(), 2u);
}

TEST_F(BondTest, PrimaryTakesOverWhenEnabled) {
    BondSettings s = mode(BondMode::kActiveBackup);
    s.primary = "m2";
    make(s);
    EXPECT_EQ(bond->activeMember(), 2u);
    bond->setCarrier(2, false, now);
    EXPECT_EQ(bond->activeMember(), 1u);
    bond->setCarrier(2, true, now);
    EXPECT_EQ(bond->activeMember(), 2u);
}

TEST_F(BondTest, RebalanceMovesLoadToTheIdleMember) {
    BondSettings s = mode(BondMode::kBalanceSlb);
    s.rebalance_ms = 10000;
    make(s);
    // Load 8 buckets of member 1 (by routing frames through them), none of member 2.
    std::set<std::shared_ptr<dp::StatsSink>> loaded;  // distinct buckets of member 1
    for (int m = 0; m < 250 && loaded.size() < 8; ++m) {
        dp::StatsSinks sk;
        dp::FlowKey k = udpKey(1, 1, static_cast<std::uint8_t>(m));
        dp::FlowKey mask;
        mask.clear();
        if (bond->chooseOutput(k, 0, mask, &sk) == 101u) loaded.insert(sk.at(0));
    }
    ASSERT_EQ(loaded.size(), 8u);
    for (auto& sk : loaded) sk->add(1000, 10'000'000, now);
    auto before = dp::coverageRead(dp::Coverage::bond_rebalanced);
    EXPECT_TRUE(bond->run(now + 10000));
    EXPECT_EQ(dp::coverageRead(dp::Coverage::bond_rebalanced), before + 1);
    auto st = bond->status(now + 10000);
    EXPECT_GT(st.members[1].load_bytes, 0u) << "member 2 took some of the load";
    EXPECT_NEAR(static_cast<double>(st.members[0].load_bytes), static_cast<double>(st.members[1].load_bytes),
                12'000'000.0);
    EXPECT_EQ(st.hashes.size(), 8u);
}

TEST_F(BondTest, LacpGatesMembersAndFallbackMakesItActiveBackup) {
    BondSettings s = mode(BondMode::kBalanceTcp);
    s.lacp = LacpMode::kActive;
    make(s);
    EXPECT_FALSE(bond->activeMember()) << "LACP without a partner enables nothing";
    EXPECT_FALSE(out(udpKey(1, 1)));
    EXPECT_EQ(bond->admit(1, udpKey(1, 1)).reason, dp::Coverage::drop_bond_lacp_not_negotiated);
    EXPECT_EQ(bond->lacpTransmit(now).size(), 2u) << "an active actor speaks first";
    s.lacp_fallback_ab = true;
    EXPECT_TRUE(bond->configure(s, now));
    EXPECT_EQ(bond->effectiveMode(), BondMode::kActiveBackup);
    EXPECT_EQ(out(udpKey(1, 1)), 101u);
    EXPECT_EQ(bond->admit(2, udpKey(1, 1)).reason, dp::Coverage::drop_bond_inactive_member);
}

TEST(SlowPathQueueTest, CopiesWakesOnceAndIsBounded) {
    SlowPathQueue q;
    int wakes = 0;
    q.setWake([&] { ++wakes; });
    dp::Packet pkt;
    std::memcpy(pkt.data(), "abcdef", 6);
    pkt.setSize(6);
    pkt.in_port = 7;
    const auto ud = slowPathUserdata(SlowPathKind::kLacp, 3);
    EXPECT_EQ(slowPathKind(ud), SlowPathKind::kLacp);
    EXPECT_EQ(slowPathArg(ud), 3u);
    auto full = dp::coverageRead(dp::Coverage::drop_slow_path_queue_full);
    for (std::size_t i = 0; i < SlowPathQueue::kMaxQueued + 5; ++i) q.push(pkt, ud);
    EXPECT_EQ(wakes, 1) << "woken when the queue turned non-empty, not per frame";
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_slow_path_queue_full), full + 5);
    std::memcpy(pkt.data(), "zzzzzz", 6);  // the poll thread reuses its buffer
    auto got = q.take();
    ASSERT_EQ(got.size(), SlowPathQueue::kMaxQueued);
    EXPECT_EQ(got[0].frame, (Bytes{'a', 'b', 'c', 'd', 'e', 'f'}));
    EXPECT_EQ(got[0].in_port, 7u);
    EXPECT_EQ(got[0].userdata, ud);
    q.push(pkt, ud);
    EXPECT_EQ(wakes, 2);
}

// ---- a bond inside a bridge: NORMAL, failover, LACPDUs ------------------------------------------
class BondBridgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<ofproto::Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        of->addBridge("br0");
        host = std::make_shared<dp::DummyPort>("h1");
        of->addPort("br0", "h1", 1, host);
    }
    void addBond(BondSettings s) {
        of->addBond("br0", "bond0", {}, s);
        for (int i = 0; i < 2; ++i) {
            m[i] = std::make_shared<dp::DummyPort>("m" + std::to_string(i + 1), dp::MacAddr{{0x02, 0xb0, 0, 0, 0, std::uint8_t(i + 1)}});
            of->addBondMember("br0", "bond0", m[i]->name(), static_cast<std::uint32_t>(10 + i), m[i]);
        }
    }
    void run() { of->datapath().runOnce(); }
    std::array<std::size_t, 3> sent() const { return {host->sent().size(), m[0]->sent().size(), m[1]->sent().size()}; }
    void clear() {
        host->clearSent();
        for (auto& p : m) p->clearSent();
    }
    Bytes frame(const Bytes& dst, std::uint8_t src, std::uint16_t sport = 1) {
        return eth(dst, mac(src), 0x0800, ipv4(17, 0x0a000000u + src, 0x0a0000ffu, udp(sport, 2)));
    }
    const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    std::int64_t now = 1000000;
    std::unique_ptr<ofproto::Ofproto> of;
    std::shared_ptr<dp::DummyPort> host;
    std::array<std::shared_ptr<dp::DummyPort>, 2> m;
};

TEST_F(BondBridgeTest, BondIsOnePortForLearningAndFlooding) {
    addBond(mode(BondMode::kActiveBackup));
    host->inject(frame(kBcast, 1));
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{0, 1, 0})) << "a broadcast leaves by the active member only";
    clear();
    m[0]->inject(frame(mac(1), 7));  // host 7 behind the bond answers host 1
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{1, 0, 0}));
    auto fdb = of->fdb("br0");
    ASSERT_EQ(fdb.size(), 2u);
    EXPECT_EQ(fdb[1].port_name, "bond0") << "learned on the bond, not on a member";
    EXPECT_EQ(fdb[1].ofport, 10u);
    clear();
    host->inject(frame(mac(7), 1));
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{0, 1, 0}));
    // A frame on the backup member is dropped (and would never go back out of the bond).
    clear();
    auto drops = dp::coverageRead(dp::Coverage::drop_bond_inactive_member);
    m[1]->inject(frame(mac(1), 8));
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{0, 0, 0}));
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_bond_inactive_member), drops + 1);
    EXPECT_EQ(of->fdb("br0").size(), 2u) << "nothing learned from a dropped frame";
}

TEST_F(BondBridgeTest, FailoverRetranslatesCachedFlowsAndAnnouncesMacs) {
    addBond(mode(BondMode::kActiveBackup));
    m[0]->inject(frame(mac(1), 7));
    host->inject(frame(mac(7), 1));
    run();
    host->inject(frame(mac(7), 1));
    run();  // cached now
    clear();
    of->setCarrier("m1", false);
    // Announcement: one RARP from host 1's MAC (learned on h1) out of the new active member.
    auto rarp = m[1]->sent();
    ASSERT_EQ(rarp.size(), 1u);
    EXPECT_EQ(Bytes(rarp[0].bytes.begin(), rarp[0].bytes.begin() + 6), kBcast);
    EXPECT_EQ(Bytes(rarp[0].bytes.begin() + 6, rarp[0].bytes.begin() + 12), mac(1));
    EXPECT_EQ(rarp[0].bytes[12], 0x80);
    EXPECT_EQ(rarp[0].bytes[13], 0x35);
    clear();
    host->inject(frame(mac(7), 1));
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{0, 0, 1})) << "the cached flow did not survive the failover";
    auto st = of->bondStatus("bond0");
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].active, "m2");
    EXPECT_EQ(st[0].bridge, "br0");
}

TEST_F(BondBridgeTest, BalanceTcpMegaflowsMatchTheHashedFields) {
    BondSettings s = mode(BondMode::kBalanceTcp);
    s.lacp = LacpMode::kActive;
    s.lacp_fallback_ab = false;
    addBond(s);
    // A partner on both links, in sync with us: build its LACPDUs from what we send.
    for (int round = 0; round < 40; ++round) {
        now += 100;
        of->runBonds();
        for (int i = 0; i < 2; ++i) {
            for (const auto& f : m[i]->sent()) {
                auto ours = parseLacpdu(f.bytes);
                if (!ours) continue;
                Lacpdu p;
                p.actor = {1, dp::MacAddr{{0x02, 0xcc, 0, 0, 0, 1}}, 9, 1, static_cast<std::uint16_t>(i + 1),
                           kLacpActivity | kLacpTimeout | kLacpAggregation | kLacpSync | kLacpCollecting | kLacpDistributing};
                p.partner = ours->actor;
                m[i]->inject(buildLacpdu(dp::MacAddr{{0x02, 0xcc, 0, 0, 1, std::uint8_t(i)}}, p));
            }
            m[i]->clearSent();
        }
        run();
        of->processSlowPath();
    }
    auto st = of->bondStatus("bond0")[0];
    ASSERT_EQ(st.lacp_status, "negotiated");
    ASSERT_TRUE(st.members[0].enabled && st.members[1].enabled);
    // Learn host 7 behind the bond, then send 64 flows to it: both members carry some, each
    // megaflow masks the UDP ports.
    m[0]->inject(frame(mac(1), 7));
    host->inject(frame(mac(7), 1));
    run();  // both MACs learned: the flows below are cached (no MAC table change under them)
    clear();
    for (std::uint16_t p = 1; p <= 64; ++p) host->inject(frame(mac(7), 1, p));
    run();
    auto n = sent();
    EXPECT_EQ(n[0], 0u);
    EXPECT_EQ(n[1] + n[2], 64u) << "each frame leaves by exactly one member";
    EXPECT_GT(n[1], 10u);
    EXPECT_GT(n[2], 10u);
    bool masked = false;
    for (const auto& f : of->datapath().dumpFlows())
        if (f.key.in_port && f.mask.tp_src == 0xffff && f.mask.nw_src == 0xffffffffu) masked = true;
    EXPECT_TRUE(masked) << "balance-tcp megaflows must match the hashed L3/L4 fields";
}

TEST_F(BondBridgeTest, LacpdusGoToTheSlowPathNeverToOtherPorts) {
    BondSettings s = mode(BondMode::kActiveBackup);
    s.lacp = LacpMode::kActive;
    s.lacp_fallback_ab = true;
    addBond(s);
    auto ours = parseLacpdu(m[0]->sent().at(0).bytes);
    ASSERT_TRUE(ours) << "an active actor sends at once";
    EXPECT_EQ(ours->actor.port, 10) << "LACP port number = ofport";
    EXPECT_EQ(ours->actor.system, m[0]->mac()) << "no local port: the first member's MAC";
    clear();
    Lacpdu p;
    p.actor = {7, dp::MacAddr{{0x02, 0xdd, 0, 0, 0, 1}}, 3, 1, 1, kLacpActivity | kLacpAggregation};
    auto good = buildLacpdu(dp::MacAddr{{0x02, 0xdd, 0, 0, 1, 1}}, p);
    auto bad = good;
    bad[17] = 19;  // actor TLV length
    auto malformed = dp::coverageRead(dp::Coverage::drop_lacp_malformed);
    m[0]->inject(good);
    m[0]->inject(bad);
    run();
    EXPECT_EQ(host->sent().size(), 0u) << "LACPDUs are never forwarded";
    of->processSlowPath();
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_lacp_malformed), malformed + 1);
    auto st = of->bondStatus("bond0")[0];
    EXPECT_EQ(st.lacp_members[0].partner.system, p.actor.system);
    EXPECT_EQ(st.lacp_members[0].rx, LacpRxState::kCurrent);
    // On a port without LACP the same frame is not relayed either (IEEE 802.1Q 8.6.3).
    auto other = std::make_shared<dp::DummyPort>("h2");
    of->addPort("br0", "h2", 2, other);
    auto slow = dp::coverageRead(dp::Coverage::drop_slow_protocols);
    other->inject(good);
    run();
    EXPECT_EQ(host->sent().size(), 0u);
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_slow_protocols), slow + 1);
}

TEST_F(BondBridgeTest, MembersComeAndGoAndThePortStays) {
    addBond(mode(BondMode::kActiveBackup));
    m[0]->inject(frame(mac(1), 7));
    run();
    of->removeBondMember("br0", "bond0", "m1");
    EXPECT_EQ(of->bondStatus("bond0")[0].members.size(), 1u);
    EXPECT_EQ(of->fdb("br0").size(), 1u) << "MACs learned on the bond stay";
    EXPECT_EQ(of->portNumber("br0", "m2"), 11u);
    EXPECT_FALSE(of->portNumber("br0", "m1"));
    clear();
    host->inject(frame(mac(7), 1));
    run();
    EXPECT_EQ(sent(), (std::array<std::size_t, 3>{0, 0, 1}));
    of->removePort("br0", "bond0");
    EXPECT_TRUE(of->bondStatus(std::nullopt).empty());
    EXPECT_THROW(of->bondStatus("bond0"), std::invalid_argument);
    auto fdb = of->fdb("br0");
    ASSERT_EQ(fdb.size(), 1u) << "the MACs learned on the bond went with it";
    EXPECT_EQ(fdb[0].port_name, "h1");
}

}  // namespace

namespace {

// Open vSwitch's damping of a MAC bouncing back over a bond: host 1's gratuitous ARP, learned on
// its plain port, is flooded out of the bond; the switch beyond floods it back in through the
// bond. For 5 s that reflection may not move host 1's entry to the bond; afterwards a real move
// through the bond is learned again.
TEST_F(BondBridgeTest, GratuitousArpFromAPlainPortLocksTheEntryAgainstTheBond) {
    addBond(mode(BondMode::kActiveBackup));
    Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1};
    Bytes grat = eth(kBcast, mac(1), 0x0806, arp);  // request for its own address (spa == tpa)
    host->inject(grat);
    run();
    ASSERT_EQ(of->fdb("br0")[0].port_name, "h1");
    m[0]->inject(grat);  // the reflection, on the active member
    run();
    auto fdb = of->fdb("br0");
    ASSERT_EQ(fdb.size(), 1u);
    EXPECT_EQ(fdb[0].port_name, "h1") << "the reflected announcement moved the MAC to the bond";
    now += ofproto::MacTable::kGratArpLockMs + 1;
    m[0]->inject(grat);  // hits the megaflow cached during the lock
    run();
    of->datapath().sweepForTest();  // the used-flow report learns it now
    EXPECT_EQ(of->fdb("br0")[0].port_name, "bond0") << "after the lock a move through the bond is learned";
}

}  // namespace
