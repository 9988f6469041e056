// ovs-ofctl's group syntax (ofproto/ofp_group_text.h): a select bucket without weight: has weight
// 1, as in ovs-ofctl(8) ("weight ... defaults to 1"); formatting leaves out a select bucket's
// weight 1 as Open vSwitch's dump-groups does, and reads back to the same mod.
#include "ofproto/ofp_group_text.h"

#include <gtest/gtest.h>

namespace vs::ofproto {
namespace {

GroupMod parsed(std::string_view text, GroupMod::Command cmd = GroupMod::Command::kAdd) {
    auto r = parseGroupMod(text, cmd, {});
    if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << e->message;
    return std::holds_alternative<GroupMod>(r) ? std::get<GroupMod>(r) : GroupMod{};
}

TEST(GroupText, SelectBucketsWeighOneByDefault) {
    GroupMod g = parsed("group_id=7,type=select,bucket=output:1,bucket=weight:3,output:2");
    ASSERT_EQ(g.buckets.size(), 2u);
    EXPECT_EQ(g.buckets[0].weight, 1);
    EXPECT_EQ(g.buckets[1].weight, 3);
    EXPECT_EQ(formatGroup(g, {}), "group_id=7,type=select,bucket=actions=output:1,bucket=weight:3,actions=output:2");
    EXPECT_EQ(parsed(formatGroup(g, {})), g);
}

TEST(GroupText, OtherTypesHaveNoWeight) {
    GroupMod g = parsed("group_id=1,type=all,bucket=output:1");
    ASSERT_EQ(g.buckets.size(), 1u);
    EXPECT_EQ(g.buckets[0].weight, 0);
    EXPECT_EQ(formatGroup(g, {}), "group_id=1,type=all,bucket=actions=output:1");
    // A select bucket of weight 0 (never chosen) says so.
    g = parsed("group_id=2,type=select,bucket=weight:0,output:1,bucket=output:2");
    EXPECT_EQ(formatGroup(g, {}), "group_id=2,type=select,bucket=weight:0,actions=output:1,bucket=actions=output:2");
    EXPECT_EQ(parsed(formatGroup(g, {})), g);
}

TEST(GroupText, DeleteTakesAnIdOrAll) {
    EXPECT_EQ(parsed("group_id=5", GroupMod::Command::kDelete).group_id, 5u);
    EXPECT_EQ(parsed("group_id=all", GroupMod::Command::kDelete).group_id, kGroupAll);
    EXPECT_EQ(parsed("", GroupMod::Command::kDelete).group_id, kGroupAll);
}

}  // namespace
}  // namespace vs::ofproto
