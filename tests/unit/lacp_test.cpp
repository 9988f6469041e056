// LACP (ofproto/lacp.h, IEEE 802.1AX-2014 section 6.4): LACPDU build/parse and malformed input,
// and the state machines driven back to back with an injected clock (no sleeps).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "ofproto/lacp.h"

using namespace vs;
using namespace vs::ofproto;

namespace {

dp::MacAddr macOf(std::uint8_t last) { return dp::MacAddr{{0x02, 0, 0, 0, 0, last}}; }

Lacpdu samplePdu() {
    Lacpdu p;
    p.actor = {0x1234, macOf(1), 0x0042, 0x8001, 7, kLacpActivity | kLacpAggregation | kLacpSync};
    p.partner = {65534, macOf(2), 3, 65535, 9, kLacpTimeout | kLacpCollecting};
    p.collector_max_delay = 5;
    return p;
}

TEST(LacpduTest, BuildLaysOutTheFieldsOfSection6_4_2_3) {
    auto f = buildLacpdu(macOf(0xaa), samplePdu());
    ASSERT_EQ(f.size(), 124u);
    EXPECT_EQ(std::vector<std::uint8_t>(f.begin(), f.begin() + 6), (std::vector<std::uint8_t>{0x01, 0x80, 0xc2, 0, 0, 2}));
    EXPECT_EQ(f[11], 0xaa) << "source is the member's MAC";
    EXPECT_EQ(f[12], 0x88);
    EXPECT_EQ(f[13], 0x09);
    EXPECT_EQ(f[14], 1) << "subtype LACP";
    EXPECT_EQ(f[15], 1) << "version 1";
    EXPECT_EQ(f[16], 1) << "Actor Information TLV";
    EXPECT_EQ(f[17], 20);
    EXPECT_EQ(f[18], 0x12);
    EXPECT_EQ(f[19], 0x34) << "system priority, big-endian";
    EXPECT_EQ(f[32], kLacpActivity | kLacpAggregation | kLacpSync) << "actor state";
    EXPECT_EQ(f[36], 2) << "Partner Information TLV";
    EXPECT_EQ(f[37], 20);
    EXPECT_EQ(f[56], 3) << "Collector Information TLV";
    EXPECT_EQ(f[57], 16);
    EXPECT_EQ(f[72], 0) << "Terminator";
}

TEST(LacpduTest, ParseRoundTripsAndToleratesPaddingAndNewerVersions) {
    Lacpdu in = samplePdu();
    auto f = buildLacpdu(macOf(0xaa), in);
    auto out = parseLacpdu(f);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->actor, in.actor);
    EXPECT_EQ(out->partner, in.partner);
    EXPECT_EQ(out->collector_max_delay, 5);
    f.resize(f.size() + 4, 0);  // FCS-like trailer
    f[15] = 2;                  // version 2 (802.1AX-2014): the receiver does not check the version
    ASSERT_TRUE(parseLacpdu(f));
}

TEST(LacpduTest, MalformedLacpdusAreRejectedWithAReason) {
    auto good = buildLacpdu(macOf(0xaa), samplePdu());
    struct Case {
        const char* what;
        std::function<void(std::vector<std::uint8_t>&)> spoil;
        const char* reason;
    };
    const Case cases[] = {
        {"truncated", [](auto& f) { f.resize(60); }, "shorter than 110"},
        {"runt", [](auto& f) { f.resize(10); }, "Ethernet header"},
        {"marker subtype", [](auto& f) { f[14] = 2; }, "subtype"},
        {"actor TLV type", [](auto& f) { f[16] = 9; }, "Actor"},
        {"actor TLV length", [](auto& f) { f[17] = 19; }, "Actor"},
        {"partner TLV type", [](auto& f) { f[36] = 3; }, "Partner"},
        {"partner TLV length", [](auto& f) { f[37] = 0; }, "Partner"},
        {"other Ethertype", [](auto& f) { f[13] = 0x08; }, "Slow Protocols"},
        {"VLAN-tagged", [](auto& f) { f[12] = 0x81; f[13] = 0x00; }, "tagged"},
    };
    for (const auto& c : cases) {
        auto f = good;
        c.spoil(f);
        std::string why;
        EXPECT_FALSE(parseLacpdu(f, &why)) << c.what;
        EXPECT_NE(why.find(c.reason), std::string::npos) << c.what << ": " << why;
    }
}

TEST(LacpduTest, StateBitsHaveNames) {
    EXPECT_EQ(formatLacpState(0x3f), "activity timeout aggregation synchronized collecting distributing");
    EXPECT_EQ(formatLacpState(kLacpDefaulted | kLacpExpired), "defaulted expired");
    EXPECT_EQ(formatLacpState(0), "");
}

// Two LACP systems joined by two links (member ids 1 and 2 on both sides); PDUs are delivered
// every 100 ms tick unless a link is cut.
class LacpPair : public ::testing::Test {
protected:
    void make(LacpConfig a, LacpConfig b) {
        a.system = macOf(0xa0);
        b.system = macOf(0xb0);
        a_ = std::make_unique<Lacp>(a);
        b_ = std::make_unique<Lacp>(b);
        for (std::uint32_t id : {1u, 2u}) {
            a_->addMember(id, static_cast<std::uint16_t>(id), Lacp::kDefaultPortPriority, true, now);
            b_->addMember(id, static_cast<std::uint16_t>(10 + id), Lacp::kDefaultPortPriority, true, now);
        }
    }
    // Advances the clock by `ms` in 100 ms steps, exchanging LACPDUs.
    void tick(std::int64_t ms) {
        for (std::int64_t t = 0; t < ms; t += 100) {
            now += 100;
            a_->run(now);
            b_->run(now);
            deliver(*a_, *b_, a_sent);
            deliver(*b_, *a_, b_sent);
        }
    }
    void deliver(Lacp& from, Lacp& to, int& count) {
        for (auto& [id, pdu] : from.transmit(now)) {
            ++count;
            if (&from == a_.get()) ++a_sent_on[id];
            if (cut.count(id)) continue;
            to.receive(id, pdu, now);
            if (&to == a_.get()) a_last_rx[id] = now;
        }
    }
    LacpMemberStatus member(const Lacp& l, std::uint32_t id) const {
        for (const auto& m : l.status())
            if (m.id == id) return m;
        return {};
    }

    std::int64_t now = 1000000;
    std::unique_ptr<Lacp> a_, b_;
    int a_sent = 0, b_sent = 0;
    std::map<std::uint32_t, int> a_sent_on;             // by link
    std::map<std::uint32_t, std::int64_t> a_last_rx;    // last LACPDU A received, by link
    std::set<std::uint32_t> cut;  // links whose PDUs are lost
};

LacpConfig active(bool fast = true) {
    LacpConfig c;
    c.active = true;
    c.fast = fast;
    return c;
}

LacpConfig passive() {
    LacpConfig c;
    c.active = false;
    c.fast = true;
    return c;
}

TEST_F(LacpPair, ActivePartnersReachCollectingDistributingAfterTheAggregateWait) {
    make(active(), active());
    tick(1000);
    EXPECT_TRUE(a_->negotiated());
    EXPECT_FALSE(a_->mayEnable(1)) << "still in WAITING (Aggregate_Wait_Time is 2 s)";
    EXPECT_EQ(member(*a_, 1).mux, LacpMuxState::kWaiting);
    tick(2000);
    for (auto* l : {a_.get(), b_.get()})
        for (std::uint32_t id : {1u, 2u}) {
            auto m = member(*l, id);
            EXPECT_EQ(m.rx, LacpRxState::kCurrent);
            EXPECT_EQ(m.mux, LacpMuxState::kCollectingDistributing);
            EXPECT_TRUE(l->mayEnable(id));
            EXPECT_EQ(m.actor.state & 0x3f, 0x3f) << formatLacpState(m.actor.state);
        }
    EXPECT_EQ(member(*a_, 1).partner.system, macOf(0xb0));
    EXPECT_EQ(member(*a_, 2).partner.port, 12);
    EXPECT_EQ(member(*b_, 1).partner.system, macOf(0xa0));
}

TEST_F(LacpPair, PassiveAnswersAnActivePartnerButTwoPassiveEndsStaySilent) {
    make(active(), passive());
    tick(3500);
    EXPECT_TRUE(a_->mayEnable(1) && b_->mayEnable(1) && b_->mayEnable(2));
    EXPECT_FALSE(member(*b_, 1).actor.state & kLacpActivity);

    make(passive(), passive());
    a_sent = b_sent = 0;
    tick(10000);
    EXPECT_EQ(a_sent + b_sent, 0) << "NO_PERIODIC on both sides: no LACPDU at all";
    EXPECT_FALSE(a_->negotiated());
}

TEST_F(LacpPair, TransmitRateFollowsThePartnersTimeoutBit) {
    make(active(/*fast=*/false), active(/*fast=*/true));
    tick(4000);  // settled
    a_sent = b_sent = 0;
    tick(60000);
    // B asked for short timeouts: A sends every second; A asked for long ones: B every 30 s.
    EXPECT_NEAR(a_sent, 2 * 60, 4);
    EXPECT_NEAR(b_sent, 2 * 2, 2);
    EXPECT_EQ(member(*b_, 1).periodic, LacpPeriodic::kSlow);
    EXPECT_EQ(member(*a_, 1).periodic, LacpPeriodic::kFast);
}

TEST_F(LacpPair, AtMostThreeLacpdusPerSecond) {
    make(active(), active());
    tick(4000);
    a_sent_on.clear();
    // Reconfigure A's key five times at once: each change wants a transmission on each link.
    for (int i = 0; i < 5; ++i) {
        LacpConfig c = a_->config();
        c.key = static_cast<std::uint16_t>(100 + i);
        a_->configure(c, now);
        deliver(*a_, *b_, a_sent);
    }
    EXPECT_LE(a_sent_on[1], 3);
    EXPECT_LE(a_sent_on[2], 3);
    EXPECT_GE(a_sent_on[1], 1);
    tick(1000);
    EXPECT_EQ(member(*b_, 1).partner.key, 104) << "the last change still went out once allowed";
}

TEST_F(LacpPair, SilentPartnerExpiresThenDefaults) {
    make(active(), active());
    tick(4000);
    ASSERT_TRUE(a_->mayEnable(1));
    cut = {1};  // B's PDUs on link 1 are lost from now on
    tick(2900);
    EXPECT_EQ(member(*a_, 1).rx, LacpRxState::kCurrent) << "short timeout is 3 s";
    tick(200);
    auto m = member(*a_, 1);
    EXPECT_EQ(m.rx, LacpRxState::kExpired);
    EXPECT_TRUE(m.actor.state & kLacpExpired);
    EXPECT_FALSE(m.partner.state & kLacpSync);
    EXPECT_FALSE(a_->mayEnable(1)) << "an expired partner is not in sync";
    EXPECT_TRUE(a_->mayEnable(2)) << "the other link is unaffected";
    tick(3000);
    m = member(*a_, 1);
    EXPECT_EQ(m.rx, LacpRxState::kDefaulted);
    EXPECT_TRUE(m.actor.state & kLacpDefaulted);
    EXPECT_TRUE(m.partner.system.isZero());
    EXPECT_EQ(m.mux, LacpMuxState::kDetached);
    // Both ends defaulted: each now sends every 30 s (the default partner has long timeouts).
    cut.clear();
    tick(33000);
    EXPECT_TRUE(a_->mayEnable(1)) << "the partner comes back";
}

TEST_F(LacpPair, LongTimeoutExpiresAfterNinetySeconds) {
    make(active(/*fast=*/false), active(/*fast=*/false));
    tick(35000);
    ASSERT_TRUE(a_->mayEnable(1));
    cut = {1, 2};
    std::int64_t last = a_last_rx[1];
    while (member(*a_, 1).rx == LacpRxState::kCurrent && now < last + 200000) tick(100);
    EXPECT_EQ(member(*a_, 1).rx, LacpRxState::kExpired);
    EXPECT_NEAR(static_cast<double>(now - last), 90000.0, 100.0) << "Long_Timeout_Time after the last LACPDU";
}

TEST_F(LacpPair, CarrierLossDetachesAndStopsTransmission) {
    make(active(), active());
    tick(4000);
    a_->setPortEnabled(1, false, now);
    EXPECT_FALSE(a_->mayEnable(1));
    auto m = member(*a_, 1);
    EXPECT_EQ(m.rx, LacpRxState::kPortDisabled);
    EXPECT_EQ(m.mux, LacpMuxState::kDetached);
    int before = a_sent;
    cut = {1};
    tick(2000);
    EXPECT_NEAR(a_sent - before, 2, 1) << "only member 2 transmits";
    cut.clear();
    a_->setPortEnabled(1, true, now);
    tick(3500);
    EXPECT_TRUE(a_->mayEnable(1));
}

TEST_F(LacpPair, FallbackEnablesMembersOnlyWithoutAPartner) {
    LacpConfig fb = active();
    fb.fallback_ab = true;
    make(fb, active());
    cut = {1, 2};
    tick(8000);
    EXPECT_FALSE(a_->negotiated());
    EXPECT_TRUE(a_->mayEnable(1) && a_->mayEnable(2)) << "no partner: fallback";
    EXPECT_FALSE(b_->mayEnable(1)) << "without fallback nothing is enabled";
    cut.clear();
    while (!a_->negotiated() && now < 2000000) tick(100);  // defaulted ends talk every 30 s
    ASSERT_TRUE(a_->negotiated());
    EXPECT_FALSE(a_->mayEnable(1)) << "a partner appeared: LACP decides again (WAITING)";
    tick(3000);
    EXPECT_TRUE(a_->mayEnable(1));
}

TEST(LacpSelection, OnlyMembersFacingTheLeadPartnerAreSelected) {
    std::int64_t now = 0;
    LacpConfig c = active();
    c.system = macOf(0xa0);
    Lacp l(c);
    l.addMember(1, 1, Lacp::kDefaultPortPriority, true, now);
    l.addMember(2, 2, Lacp::kDefaultPortPriority, true, now);
    auto pdu = [&](dp::MacAddr sys, std::uint16_t port, std::uint16_t prio) {
        Lacpdu p;
        p.actor = {prio, sys, 5, 1, port, kLacpActivity | kLacpTimeout | kLacpAggregation | kLacpSync};
        p.partner = {c.system_priority, c.system, c.key, Lacp::kDefaultPortPriority, 0, kLacpAggregation};
        return p;
    };
    for (int i = 0; i < 40; ++i) {
        now += 100;
        auto p1 = pdu(macOf(0xb0), 1, 10);
        p1.partner.port = 1;
        auto p2 = pdu(macOf(0xc0), 1, 20);  // a different system on link 2
        p2.partner.port = 2;
        l.receive(1, p1, now);
        l.receive(2, p2, now);
        l.run(now);
    }
    auto st = l.status();
    EXPECT_TRUE(st[0].selected) << "link 1 faces the lead (better system priority)";
    EXPECT_FALSE(st[1].selected) << "link 2 faces another system: not in this aggregation";
    EXPECT_TRUE(l.mayEnable(1));
    EXPECT_FALSE(l.mayEnable(2));
}

TEST(LacpSelection, PartnerThatDoesNotKnowUsIsNotInSync) {
    std::int64_t now = 0;
    LacpConfig c = active();
    c.system = macOf(0xa0);
    Lacp l(c);
    l.addMember(1, 1, Lacp::kDefaultPortPriority, true, now);
    Lacpdu p;
    p.actor = {100, macOf(0xb0), 5, 1, 1, kLacpActivity | kLacpTimeout | kLacpAggregation | kLacpSync};
    p.partner = {1, macOf(0xee), 99, 1, 1, kLacpAggregation};  // someone else, not us
    for (int i = 0; i < 40; ++i) {
        now += 100;
        l.receive(1, p, now);
        l.run(now);
    }
    auto m = l.status()[0];
    EXPECT_EQ(m.mux, LacpMuxState::kAttached) << "selected, but the partner is not synchronized with us";
    EXPECT_FALSE(m.partner.state & kLacpSync);
    EXPECT_FALSE(l.mayEnable(1));
}

}  // namespace
