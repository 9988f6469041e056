// OpenFlow groups (ofproto/group.h, group_xlate.cpp, ofproto_group.cpp; vswitchd/of13_group.cpp;
// protocol/of13_group.cpp): group_mod validation with the spec's codes, the translation of each
// group type on a bridge of dummy ports (cached equals fresh for select), fast_failover following
// the carrier, counters, the rules a deleted group takes with it, and the OpenFlow 1.3 codec and
// handler.
#include <gtest/gtest.h>

#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofproto.h"
#include "protocol/of13.h"
#include "protocol/of13_detail.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"
#include "vswitchd/of13_handler.h"

using namespace vs;
using namespace vs::test;
using namespace vs::ofproto;

namespace {

Action out(std::uint32_t port) {
    Action a{ActionType::kOutput};
    a.port = port;
    return a;
}
Action grp(std::uint32_t id) {
    Action a{ActionType::kGroup};
    a.value = id;
    return a;
}
Bucket bucket(ActionList actions, std::uint16_t weight = 0, std::uint32_t watch = kWatchPortAny) {
    Bucket b;
    b.actions = std::move(actions);
    b.weight = weight;
    b.watch_port = watch;
    return b;
}
GroupMod mod(GroupMod::Command c, GroupType t, std::uint32_t id, std::vector<Bucket> buckets) {
    return GroupMod{c, t, id, std::move(buckets)};
}
GroupMod add(GroupType t, std::uint32_t id, std::vector<Bucket> buckets) {
    return mod(GroupMod::Command::kAdd, t, id, std::move(buckets));
}

GroupError refusal(GroupTable& t, const GroupMod& gm) {
    try {
        t.apply(gm, 0);
    } catch (const GroupModError& e) {
        return e.code;
    }
    ADD_FAILURE() << "group_mod accepted";
    return GroupError::kEperm;
}

TEST(GroupTable, RefusesWithTheSpecCodes) {
    GroupTable t;
    t.apply(add(GroupType::kAll, 1, {bucket({out(1)})}), 0);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 1, {})), GroupError::kGroupExists);
    EXPECT_EQ(refusal(t, mod(GroupMod::Command::kModify, GroupType::kAll, 2, {})), GroupError::kUnknownGroup);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 0xffffff01, {})), GroupError::kInvalidGroup);
    EXPECT_EQ(refusal(t, add(GroupType::kIndirect, 3, {bucket({out(1)}), bucket({out(2)})})), GroupError::kInvalidGroup);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 3, {bucket({out(1)}, 5)})), GroupError::kInvalidGroup) << "weight outside select";
    EXPECT_EQ(refusal(t, add(GroupType::kSelect, 3, {bucket({out(1)}, 0)})), GroupError::kWeightUnsupported);
    EXPECT_EQ(refusal(t, add(GroupType::kFastFailover, 3, {bucket({out(1)})})), GroupError::kBadWatch);
    EXPECT_EQ(refusal(t, add(static_cast<GroupType>(7), 3, {})), GroupError::kBadType);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 3, std::vector<Bucket>(kMaxBuckets + 1, bucket({out(1)})))),
              GroupError::kOutOfBuckets);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 3, {bucket({grp(99)})})), GroupError::kChainingUnsupported);
    EXPECT_EQ(refusal(t, add(GroupType::kAll, 3, {bucket({grp(3)})})), GroupError::kLoop) << "itself";
    t.apply(add(GroupType::kAll, 2, {bucket({grp(1)})}), 0);
    EXPECT_EQ(refusal(t, mod(GroupMod::Command::kModify, GroupType::kAll, 1, {bucket({grp(2)})})), GroupError::kLoop)
        << "1 -> 2 -> 1";
    EXPECT_EQ(refusal(t, mod(GroupMod::Command::kDelete, GroupType::kAll, 1, {})), GroupError::kChainedGroup);
    EXPECT_EQ(t.size(), 2u) << "nothing refused changed the table";
    EXPECT_TRUE(t.apply(mod(GroupMod::Command::kDelete, GroupType::kAll, 42, {}), 0).empty()) << "missing: no error";
    auto gone = t.apply(mod(GroupMod::Command::kDelete, GroupType::kAll, kGroupAll, {}), 0);
    EXPECT_EQ(gone, (std::vector<std::uint32_t>{1, 2}));
    EXPECT_TRUE(t.empty());
}

TEST(GroupTable, ChainsDeeperThanTheLimitAreRefused) {
    GroupTable t;
    t.apply(add(GroupType::kAll, 1, {bucket({out(1)})}), 0);
    for (std::uint32_t id = 2; id <= kMaxGroupChain + 1; ++id) t.apply(add(GroupType::kIndirect, id, {bucket({grp(id - 1)})}), 0);
    EXPECT_EQ(refusal(t, add(GroupType::kIndirect, kMaxGroupChain + 2, {bucket({grp(kMaxGroupChain + 1)})})), GroupError::kLoop);
}

class GroupXlate : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        ports = addDummyBridge<4>(*of);
    }
    void flow(std::string_view text) {
        auto r = parseFlowMod(text, FlowMod::Command::kAdd, {});
        if (auto* e = std::get_if<ParseError>(&r)) FAIL() << text << ": " << e->message;
        of->applyFlowMods("br0", {std::get<FlowMod>(r)});
    }
    // Frames each port sent for `f` injected on p1.
    std::array<std::size_t, 4> send(const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[0]->inject(f);
        of->datapath().runOnce();
        std::array<std::size_t, 4> n{};
        for (int i = 0; i < 4; ++i) n[i] = ports[i]->sent().size();
        return n;
    }
    static Bytes udpFrame(std::uint16_t sport, std::uint32_t src_ip = 0x0a000001) {
        return eth(mac(9), mac(1), 0x0800, ipv4(17, src_ip, 0x0a000002, udp(sport, 2000)));
    }
    std::int64_t now = 1000000;
    std::unique_ptr<Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 4> ports;
};

TEST_F(GroupXlate, AllCopiesToEveryBucketIndirectToItsOne) {
    of->applyGroupMod("br0", add(GroupType::kAll, 1, {bucket({out(2)}), bucket({out(3)}), bucket({out(1)})}));
    of->applyGroupMod("br0", add(GroupType::kIndirect, 2, {bucket({out(4)})}));
    flow("priority=10,in_port=1,udp,actions=group:1");
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 1, 0})) << "not back out of the in_port";
    flow("priority=10,in_port=1,udp,actions=group:2,output:2");
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 0, 1}));
}

TEST_F(GroupXlate, BucketsRunOnClonesOfThePacket) {
    Action vid{ActionType::kSetVlanVid};
    vid.value = 42;
    of->applyGroupMod("br0", add(GroupType::kAll, 1, {bucket({vid, out(2)}), bucket({out(3)})}));
    flow("priority=10,in_port=1,actions=group:1,output:4");
    send(udpFrame(1));
    ASSERT_EQ(ports[1]->sent().size(), 1u);
    ASSERT_EQ(ports[2]->sent().size(), 1u);
    ASSERT_EQ(ports[3]->sent().size(), 1u);
    EXPECT_EQ(ports[1]->sent()[0].bytes, eth(mac(9), mac(1), 0x0800, ipv4(17, 0x0a000001, 0x0a000002, udp(1, 2000)), 42));
    EXPECT_EQ(ports[2]->sent()[0].bytes, udpFrame(1)) << "the second bucket sees the frame without the first's tag";
    EXPECT_EQ(ports[3]->sent()[0].bytes, udpFrame(1)) << "nor does the action after the group";
}

// Select: each flow goes to one bucket; weights 1:3 share 256 flows about 1:3; and a frame cached
// behind another flow's megaflow goes where a fresh translation sends it (the hashed fields are in
// the mask), so the cache keeps the spread.
TEST_F(GroupXlate, SelectSpreadsByWeightAndCachedEqualsFresh) {
    of->applyGroupMod("br0", add(GroupType::kSelect, 5, {bucket({out(2)}, 1), bucket({out(3)}, 3)}));
    flow("priority=10,in_port=1,actions=group:5");
    std::vector<int> cached;
    std::array<int, 4> per_port{};
    for (std::uint16_t s = 1; s <= 256; ++s) {
        auto n = send(udpFrame(s));
        ASSERT_EQ(n[1] + n[2], 1u) << "exactly one bucket";
        cached.push_back(n[1] ? 2 : 3);
        ++per_port[n[1] ? 1 : 2];
    }
    EXPECT_GT(per_port[1], 256 / 4 - 30);
    EXPECT_LT(per_port[1], 256 / 4 + 30);
    of->datapath().invalidate();
    for (std::uint16_t s = 1; s <= 256; ++s) {
        of->datapath().invalidate();  // every frame translated fresh
        auto n = send(udpFrame(s));
        EXPECT_EQ(n[1] ? 2 : 3, cached[s - 1]) << "sport " << s << ": cached and fresh choices differ";
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(send(udpFrame(77))[cached[76] - 1], 1u) << "one flow stays on its bucket";
}

TEST_F(GroupXlate, FastFailoverFollowsTheCarrierAndCounts) {
    of->applyGroupMod("br0", add(GroupType::kFastFailover, 3, {bucket({out(2)}, 0, 2), bucket({out(3)}, 0, 3)}));
    flow("priority=10,in_port=1,actions=group:3");
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 0, 0}));
    ports[1]->setCarrier(false);
    of->setCarrier("p2", false);  // the link monitor's event: the cached decision goes
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 0, 1, 0}));
    ports[2]->setCarrier(false);
    of->setCarrier("p3", false);
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 0, 0, 0})) << "no live bucket: drop";
    ports[1]->setCarrier(true);
    of->setCarrier("p2", true);
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 0, 0}));
    of->datapath().sweepForTest();  // pushes the megaflows' counters
    auto g = of->groups("br0").at(0);
    EXPECT_EQ(g->stats->packets.load(), 4u);
    EXPECT_EQ(g->bucket_stats[0]->packets.load(), 2u);
    EXPECT_EQ(g->bucket_stats[1]->packets.load(), 1u);
    EXPECT_EQ(g->stats->bytes.load(), 4 * udpFrame(1).size());
}

TEST_F(GroupXlate, ChainedGroupsAndDeletingAGroupDeletesItsRules) {
    of->applyGroupMod("br0", add(GroupType::kIndirect, 2, {bucket({out(4)})}));
    of->applyGroupMod("br0", add(GroupType::kAll, 1, {bucket({grp(2)}), bucket({out(2)})}));
    flow("priority=10,in_port=1,actions=group:1");
    flow("priority=5,in_port=1,actions=output:3");
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 0, 1}));
    EXPECT_EQ(of->groupRefCounts("br0")[1], 1u);
    auto r = parseFlowMod("in_port=1,actions=group:9", FlowMod::Command::kAdd, {});
    EXPECT_THROW(of->applyFlowMods("br0", {std::get<FlowMod>(r)}), UnknownGroupError);
    EXPECT_EQ(of->applyGroupMod("br0", mod(GroupMod::Command::kDelete, GroupType::kAll, 1, {})), 1u);
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 0, 1, 0})) << "the group's rule went with it";
    auto removed = of->takeRemoved();
    EXPECT_TRUE(removed.empty()) << "no send_flow_rem, no report";
}

TEST(Of13GroupCodec, GroupModRoundTripsAndMalformedOnesAreRefused) {
    namespace of13 = protocol::of13;
    of13::GroupMod g;
    g.command = of13::kGcModify;
    g.type = of13::kGroupFastFailover;
    g.group_id = 77;
    of13::Action a;
    a.port = 3;
    a.max_len = 0;
    g.buckets.push_back({0, 3, of13::kGroupAny, {a}});
    g.buckets.push_back({0, of13::kPortAny, 5, {}});
    std::string wire = of13::encode(of13::Message{4, g});
    EXPECT_EQ(wire.size(), 16u + 32u + 16u);
    auto back = of13::decode(wire);
    ASSERT_TRUE(std::holds_alternative<of13::Message>(back));
    EXPECT_EQ(std::get<of13::Message>(back), (of13::Message{4, g}));

    auto refused = [](std::string w) {
        auto r = of13::decode(w);
        EXPECT_TRUE(std::holds_alternative<of13::DecodeError>(r));
        auto e = std::get_if<of13::DecodeError>(&r);
        return e ? std::pair<int, int>{e->type, e->code} : std::pair<int, int>{-1, -1};
    };
    std::string bad_len = wire;
    bad_len[17] = 8;  // the first bucket claims 8 bytes (under ofp_bucket's 16)
    EXPECT_EQ(refused(bad_len), (std::pair<int, int>{of13::kGroupModFailed, of13::code::kGmBadBucket}));
    std::string past = wire;
    past[16] = 0x10;  // 4096 bytes: past the message
    EXPECT_EQ(refused(past), (std::pair<int, int>{of13::kGroupModFailed, of13::code::kGmBadBucket}));
    std::string cmd = wire;
    cmd[9] = 9;
    EXPECT_EQ(refused(cmd), (std::pair<int, int>{of13::kGroupModFailed, of13::code::kGmBadCommand}));
    std::string shortmsg = wire.substr(0, 12);
    shortmsg[3] = 12;
    EXPECT_EQ(refused(shortmsg), (std::pair<int, int>{of13::kBadRequest, of13::code::kBadLen}));

    of13::MultipartRequest req;
    req.type = of13::kMpGroup;
    req.group_id = 77;
    auto mp = of13::decode(of13::encode(of13::Message{5, req}));
    ASSERT_TRUE(std::holds_alternative<of13::Message>(mp));
    EXPECT_EQ(std::get<of13::MultipartRequest>(std::get<of13::Message>(mp).body).group_id, 77u);
}

TEST(Of13GroupHandler, GroupModsAndStatsThroughTheHandler) {
    namespace of13 = protocol::of13;
    Ofproto of;
    auto ports = addDummyBridge<3>(of);
    vswitchd::Of13Handler h(of);
    vswitchd::Of13Handler::State st;
    auto send = [&](of13::Body b) {
        of13::Message m{9, std::move(b)};
        return h.handle("br0", m, of13::encode(m), st).frames;
    };
    auto errorOf = [](const std::string& f) {
        return std::pair<int, int>{(static_cast<unsigned char>(f[8]) << 8) | static_cast<unsigned char>(f[9]),
                                   (static_cast<unsigned char>(f[10]) << 8) | static_cast<unsigned char>(f[11])};
    };
    of13::GroupMod g;
    g.group_id = 1;
    of13::Action a;
    a.port = 2;
    g.buckets.push_back({0, of13::kPortAny, of13::kGroupAny, {a}});
    EXPECT_TRUE(send(g).empty());
    auto again = send(g);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(errorOf(again[0]), (std::pair<int, int>{of13::kGroupModFailed, 0})) << "OFPGMFC_GROUP_EXISTS";
    g.type = 9;
    g.group_id = 2;
    EXPECT_EQ(errorOf(send(g).at(0)), (std::pair<int, int>{of13::kGroupModFailed, 10})) << "OFPGMFC_BAD_TYPE";

    of13::FlowMod fm;
    of13::Instruction apply{of13::InstructionType::kApplyActions};
    of13::Action ga;
    ga.type = of13::ActionType::kGroup;
    ga.arg = 5;
    apply.actions.push_back(ga);
    fm.instructions.push_back(apply);
    EXPECT_EQ(errorOf(send(fm).at(0)), (std::pair<int, int>{of13::kBadAction, of13::code::kActBadOutGroup}));
    fm.instructions[0].actions[0].arg = 1;
    EXPECT_TRUE(send(fm).empty());

    of13::MultipartRequest req;
    req.type = of13::kMpGroupDesc;
    auto desc = send(req);
    ASSERT_EQ(desc.size(), 1u);
    EXPECT_EQ(desc[0].size(), 16u + 8u + 16u + 16u) << "one group_desc with one bucket of one output";
    req.type = of13::kMpGroup;
    req.group_id = of13::kGroupAllId;
    auto stats = send(req);
    ASSERT_EQ(stats.size(), 1u);
    ASSERT_EQ(stats[0].size(), 16u + 40u + 16u);
    EXPECT_EQ(static_cast<unsigned char>(stats[0][16 + 11]), 1u) << "ref_count: one rule uses group 1";
    req.group_id = 3;
    EXPECT_EQ(errorOf(send(req).at(0)), (std::pair<int, int>{of13::kGroupModFailed, 8})) << "OFPGMFC_UNKNOWN_GROUP";

    of13::GroupMod del;
    del.command = of13::kGcDelete;
    del.group_id = of13::kGroupAllId;
    EXPECT_TRUE(send(del).empty());
    EXPECT_TRUE(of.rules("br0", kTableAll, {}).size() == 1u) << "the group's rule went, NORMAL stayed";
}

}  // namespace

namespace {

// Chained all groups multiply: 100 buckets each chaining to a group of 100 buckets is 10,000
// bucket runs, over the 4,096-lookup budget: the translation is one drop, not a CPU sink.
TEST_F(GroupXlate, FanOutOfChainedGroupsIsBounded) {
    of->applyGroupMod("br0", add(GroupType::kAll, 2, std::vector<Bucket>(100, bucket({}))));
    of->applyGroupMod("br0", add(GroupType::kAll, 1, std::vector<Bucket>(100, bucket({grp(2)}))));
    flow("priority=10,in_port=1,actions=output:2,group:1");
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 0, 0, 0})) << "the whole translation drops";
    of->applyGroupMod("br0", mod(GroupMod::Command::kModify, GroupType::kAll, 1, std::vector<Bucket>(10, bucket({grp(2)}))));
    EXPECT_EQ(send(udpFrame(1)), (std::array<std::size_t, 4>{0, 1, 0, 0})) << "1,000 runs fit";
}

}  // namespace
