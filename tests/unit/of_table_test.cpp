// The OpenFlow table classifier against a brute-force reference on random rule sets.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

#include "ofproto/of_table.h"

using namespace vs;
using namespace vs::ofproto;

namespace {

// Random rules over a few fields with overlapping masks and priorities.
std::shared_ptr<Rule> randomRule(std::mt19937& rng) {
    auto r = std::make_shared<Rule>();
    std::uniform_int_distribution<int> coin(0, 2);
    r->priority = static_cast<std::uint16_t>(rng() % 8);  // few priorities: many ties across masks
    auto& k = r->match.key;
    auto& m = r->match.mask;
    if (coin(rng) == 0) { k.in_port = 1 + rng() % 3; m.in_port = ~0u; }
    if (coin(rng) == 0) { k.dl_type = 0x0800; m.dl_type = 0xffff; }
    if (coin(rng) != 0) {
        int plen = static_cast<int>(rng() % 33);
        std::uint32_t mask = plen ? htonl(~0u << (32 - plen)) : 0;
        m.nw_src = mask;
        k.nw_src = (rng() % 4 == 0 ? htonl(0x0a000000u | (rng() & 0xffff)) : htonl(0x0a000000u | (rng() & 0x3))) & mask;
    }
    if (coin(rng) == 0) { k.tp_dst = static_cast<std::uint16_t>(rng() % 4); m.tp_dst = 0xffff; }
    if (coin(rng) == 0) { m.tp_src = 0xff00; k.tp_src = static_cast<std::uint16_t>((rng() % 2) << 8); }
    return r;
}

dp::FlowKey randomFlow(std::mt19937& rng) {
    dp::FlowKey f;
    f.clear();
    f.in_port = 1 + rng() % 3;
    f.dl_type = rng() % 2 ? 0x0800 : 0x86dd;
    f.nw_src = htonl(0x0a000000u | (rng() % 2 ? (rng() & 0x3) : (rng() & 0xffff)));
    f.tp_dst = static_cast<std::uint16_t>(rng() % 5);
    f.tp_src = static_cast<std::uint16_t>(rng() % 1024);
    return f;
}

TEST(OfTable, MatchesBruteForceOnRandomRuleSets) {
    std::mt19937 rng(12345);
    for (int round = 0; round < 20; ++round) {
        OfTable t;
        std::vector<std::shared_ptr<Rule>> live;
        for (int i = 0; i < 200; ++i) {
            auto r = randomRule(rng);
            auto replaced = t.insert(r);
            if (replaced) std::erase(live, replaced);
            live.push_back(r);
        }
        for (int i = 0; i < 30; ++i) {  // remove some
            auto victim = live[rng() % live.size()];
            t.remove(victim.get());
            std::erase(live, victim);
        }
        ASSERT_EQ(t.size(), live.size());
        for (int i = 0; i < 500; ++i) {
            dp::FlowKey f = randomFlow(rng);
            dp::FlowKey wc;
            wc.clear();
            Rule* got = t.lookup(f, 0, wc);
            int best = -1;
            for (auto& r : live)
                if (r->match.matches(f, 0)) best = std::max(best, int(r->priority));
            if (best < 0) {
                EXPECT_EQ(got, nullptr);
                continue;
            }
            ASSERT_NE(got, nullptr);
            EXPECT_EQ(int(got->priority), best);
            EXPECT_TRUE(got->match.matches(f, 0));
            // The megaflow mask is sound: any flow equal to f under wc gets a rule of the same priority.
            dp::FlowKey g = randomFlow(rng), masked;
            for (std::size_t w = 0; w < dp::FlowKey::kWords; ++w)
                g.words()[w] = (f.words()[w] & wc.words()[w]) | (g.words()[w] & ~wc.words()[w]);
            dp::FlowKey wc2;
            wc2.clear();
            Rule* got2 = t.lookup(g, 0, wc2);
            ASSERT_NE(got2, nullptr);
            EXPECT_EQ(got2->priority, got->priority);
            (void)masked;
        }
    }
}

TEST(OfTable, SameMatchAndPriorityReplaces) {
    OfTable t;
    auto a = std::make_shared<Rule>();
    a->priority = 5;
    auto b = std::make_shared<Rule>(*a);
    b->stats = std::make_shared<dp::StatsSink>();
    EXPECT_EQ(t.insert(a), nullptr);
    EXPECT_EQ(t.insert(b), a);
    EXPECT_EQ(t.size(), 1u);
}

TEST(OfTable, SelectStrictAndNonStrict) {
    OfTable t;
    auto wide = std::make_shared<Rule>();
    wide->priority = 1;
    wide->match.key.dl_type = 0x0800;
    wide->match.mask.dl_type = 0xffff;
    auto narrow = std::make_shared<Rule>(*wide);
    narrow->stats = std::make_shared<dp::StatsSink>();
    narrow->priority = 2;
    narrow->match.key.nw_proto = 6;
    narrow->match.mask.nw_proto = 0xff;
    t.insert(wide);
    t.insert(narrow);
    Match ip;
    ip.key.dl_type = 0x0800;
    ip.mask.dl_type = 0xffff;
    EXPECT_EQ(t.select(ip, 0, false).size(), 2u) << "non-strict: every rule at least as specific";
    EXPECT_EQ(t.select(ip, 1, true).size(), 1u) << "strict: same match and priority";
    EXPECT_EQ(t.select(ip, 2, true).size(), 0u);
    EXPECT_EQ(t.select(Match{}, 0, false).size(), 2u) << "empty match covers all";
}

}  // namespace
