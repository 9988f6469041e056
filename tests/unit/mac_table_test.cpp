#include <gtest/gtest.h>

#include "ofproto/mac_table.h"

using vs::ofproto::LearnResult;
using vs::ofproto::MacAddr;
using vs::ofproto::MacTable;

namespace {
MacAddr m(std::uint32_t n) { return MacAddr{{0x02, 0, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n), 1}}; }
}  // namespace

TEST(MacTable, LearnLookupMoveRefresh) {
    MacTable t(300, 100);
    EXPECT_EQ(t.learn(m(1), 0, 1, 0), LearnResult::kNew);
    EXPECT_EQ(t.lookup(m(1), 0, 10).value(), 1u);
    EXPECT_FALSE(t.lookup(m(1), 5, 10).has_value()) << "learning is per VLAN";
    EXPECT_EQ(t.learn(m(1), 0, 1, 1000), LearnResult::kRefreshed);
    EXPECT_EQ(t.learn(m(1), 0, 2, 2000), LearnResult::kMoved);
    EXPECT_EQ(t.lookup(m(1), 0, 2000).value(), 2u);
    EXPECT_EQ(t.size(), 1u);
}

TEST(MacTable, MulticastSourceNotLearned) {
    MacTable t;
    MacAddr mc{{0x01, 0, 0x5e, 0, 0, 1}};
    EXPECT_EQ(t.learn(mc, 0, 1, 0), LearnResult::kUnchanged);
    EXPECT_EQ(t.size(), 0u);
}

TEST(MacTable, AgingWithInjectedClock) {
    MacTable t(10, 100);
    t.learn(m(1), 0, 1, 0);
    t.learn(m(2), 0, 1, 5000);
    EXPECT_EQ(t.expire(9999), 0u);
    EXPECT_TRUE(t.lookup(m(1), 0, 9999));
    EXPECT_FALSE(t.lookup(m(1), 0, 10000)) << "an entry idle for the aging time is not used";
    EXPECT_EQ(t.expire(10000), 1u);
    EXPECT_EQ(t.size(), 1u);
    t.learn(m(2), 0, 1, 14000);  // refreshed: survives past its first deadline
    EXPECT_EQ(t.expire(20000), 0u);
    EXPECT_EQ(t.expire(24000), 1u);
    EXPECT_EQ(t.size(), 0u);
}

TEST(MacTable, FairEvictionHitsPortWithMostEntries) {
    MacTable t(300, 6);
    t.learn(m(100), 0, 1, 0);  // port 1: 1 entry (oldest overall)
    t.learn(m(200), 0, 2, 1);  // port 2: 1 entry
    for (std::uint32_t i = 0; i < 4; ++i) t.learn(m(i), 0, 3, 10 + i);  // port 3: 4 entries
    ASSERT_EQ(t.size(), 6u);
    t.learn(m(300), 0, 2, 100);  // full: port 3 loses its oldest, m(0)
    EXPECT_EQ(t.size(), 6u);
    EXPECT_FALSE(t.lookup(m(0), 0, 100));
    EXPECT_TRUE(t.lookup(m(100), 0, 100)) << "the oldest entry overall belongs to a small port and stays";
    EXPECT_TRUE(t.lookup(m(1), 0, 100));
    EXPECT_EQ(t.evictions(), 1u);
}

TEST(MacTable, FloodFromOnePortKeepsOthersEntries) {
    MacTable t(300, 100);
    for (std::uint32_t p = 1; p <= 4; ++p) t.learn(m(0x100000 + p), 0, p, 0);
    for (std::uint32_t i = 0; i < 10000; ++i) t.learn(m(i), 0, 9, 1 + i);
    EXPECT_EQ(t.size(), 100u);
    for (std::uint32_t p = 1; p <= 4; ++p) EXPECT_EQ(t.lookup(m(0x100000 + p), 0, 20000).value_or(0), p);
}

TEST(MacTable, LoweringLimitEvictsAndFlushPort) {
    MacTable t(300, 100);
    for (std::uint32_t i = 0; i < 10; ++i) t.learn(m(i), 0, i % 2 + 1, i);
    t.setMaxEntries(4);
    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.flushPort(1) + t.flushPort(2), 4u);
    EXPECT_EQ(t.size(), 0u);
}

TEST(MacTable, EntriesSortedByPortVlanMac) {
    MacTable t;
    t.learn(m(2), 3, 2, 0);
    t.learn(m(1), 0, 2, 0);
    t.learn(m(9), 0, 1, 0);
    auto e = t.entries();
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].port, 1u);
    EXPECT_EQ(e[1].vlan, 0);
    EXPECT_EQ(e[2].vlan, 3);
}

// Behind a flow-based tunnel port (remote_ip=flow / key=flow) an entry also names its remote
// VTEP and VNI (RFC 7348 section 4.1); another VTEP behind the same port is a move.
TEST(MacTable, RemoteVtepIsPartOfTheEntryAndAMoveWhenItChanges) {
    using vs::ofproto::TunnelDest;
    MacTable t(300, 100);
    TunnelDest a{0x0102000a, 0}, b{0x0202000a, 0};
    EXPECT_EQ(t.learn(m(1), 0, 3, 0, a), LearnResult::kNew);
    EXPECT_EQ(t.lookupEntry(m(1), 0, 10)->remote, a);
    EXPECT_EQ(t.learn(m(1), 0, 3, 1000, a), LearnResult::kRefreshed);
    EXPECT_EQ(t.learn(m(1), 0, 3, 2000, b), LearnResult::kMoved) << "same port, another VTEP";
    EXPECT_EQ(t.lookupEntry(m(1), 0, 2000)->remote, b);
    EXPECT_EQ(t.learn(m(1), 0, 3, 3000, TunnelDest{b.vtep, 7}), LearnResult::kMoved) << "another VNI";
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.entries().at(0).remote, (TunnelDest{b.vtep, 7}));
    EXPECT_EQ(t.learn(m(2), 0, 1, 0), LearnResult::kNew);
    EXPECT_EQ(t.lookupEntry(m(2), 0, 0)->remote, TunnelDest{}) << "ordinary ports: no remote";
}

TEST(MacTable, RemotesAreDistinctUnexpiredAndOptionallyPerVlan) {
    using vs::ofproto::TunnelDest;
    MacTable t(10, 100);
    TunnelDest a{1, 0}, b{2, 0}, c{3, 0};
    t.learn(m(1), 0, 3, 0, a);
    t.learn(m(2), 0, 3, 5000, a);
    t.learn(m(3), 10, 3, 5000, b);
    t.learn(m(4), 0, 3, 0, c);       // expires at 10000
    t.learn(m(5), 0, 1, 5000);       // another port
    EXPECT_EQ(t.remotes(3, 6000), (std::vector<TunnelDest>{a, b, c}));
    EXPECT_EQ(t.remotes(3, 10000), (std::vector<TunnelDest>{a, b})) << "c's only entry is idle too long";
    EXPECT_EQ(t.remotes(3, 6000, std::uint16_t{10}), (std::vector<TunnelDest>{b}));
    EXPECT_TRUE(t.remotes(9, 0).empty());
}
