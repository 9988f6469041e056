// Of13Handler (vswitchd/of13_handler.h) on a bridge of dummy ports: flow_mod commands and flags,
// flow/aggregate/port statistics, get/set_config, barrier, and refusals with the spec's codes.
#include <gtest/gtest.h>

#include "ofproto/ofproto.h"
#include "protocol/of13.h"
#include "tests/unit/dummy_bridge.h"
#include "vswitchd/of13_handler.h"

namespace {

namespace of13 = vs::protocol::of13;
namespace code = of13::code;
using vs::vswitchd::Of13Handler;

std::pair<int, int> err(int type, int c) { return {type, c}; }

class Of13HandlerTest : public ::testing::Test {
protected:
    Of13HandlerTest() : ports_(vs::test::addDummyBridge<3>(of_)) { of_.replaceFlows("br0", {}); }  // no NORMAL rule

    // Sends `body` as xid 9; returns the decoded replies (errors decoded by hand: the codec only
    // decodes what a switch receives).
    std::vector<std::string> send(of13::Body body) {
        of13::Message m{9, std::move(body)};
        std::string raw = of13::encode(m);
        auto r = handler_.handle("br0", m, raw, state_);
        return r.frames;
    }
    static std::pair<int, int> errorOf(const std::string& frame) {
        EXPECT_EQ(static_cast<unsigned char>(frame[1]), of13::kError);
        return {(static_cast<unsigned char>(frame[8]) << 8) | static_cast<unsigned char>(frame[9]),
                (static_cast<unsigned char>(frame[10]) << 8) | static_cast<unsigned char>(frame[11])};
    }
    static of13::FlowMod add(std::uint16_t priority, std::uint32_t in_port, std::uint32_t out, std::uint16_t flags = 0) {
        of13::FlowMod fm;
        fm.priority = priority;
        fm.flags = flags;
        if (in_port) fm.match.fields.push_back(of13::makeOxm(of13::OxmField::kInPort, in_port));
        of13::Instruction apply{of13::InstructionType::kApplyActions};
        of13::Action a;
        a.port = out;
        apply.actions.push_back(a);
        fm.instructions.push_back(apply);
        return fm;
    }

    vs::ofproto::Ofproto of_;
    std::array<std::shared_ptr<vs::dp::DummyPort>, 3> ports_;
    Of13Handler handler_{of_};
    Of13Handler::State state_;
};

TEST_F(Of13HandlerTest, FlowModCommandsAndFilters) {
    EXPECT_TRUE(send(add(10, 1, 2)).empty()) << "an accepted flow_mod has no reply";
    auto fm = add(10, 2, 1);
    fm.cookie = 0x55;
    EXPECT_TRUE(send(fm).empty());
    EXPECT_EQ(of_.rules("br0", 0, {}).size(), 2u);
    // delete with a cookie mask: only the 0x55 rule.
    of13::FlowMod del;
    del.command = of13::kDeleteCmd;
    del.table_id = of13::kTableAll;
    del.cookie = 0x55;
    del.cookie_mask = 0xff;
    EXPECT_TRUE(send(del).empty());
    auto left = of_.rules("br0", 0, {});
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0]->match.key.in_port, 1u);
    // delete with out_port 3 removes nothing; out_port 2 removes it.
    of13::FlowMod by_port = del;
    by_port.cookie_mask = 0;
    by_port.out_port = 3;
    send(by_port);
    EXPECT_EQ(of_.rules("br0", 0, {}).size(), 1u);
    by_port.out_port = 2;
    send(by_port);
    EXPECT_TRUE(of_.rules("br0", 0, {}).empty());
}

TEST_F(Of13HandlerTest, CheckOverlapAndResetCounts) {
    send(add(10, 1, 2));
    auto overlapping = add(10, 0, 3, of13::kCheckOverlap);  // matches everything, same priority
    auto frames = send(overlapping);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(errorOf(frames[0]), err(of13::kFlowModFailed, code::kFmOverlap));
    EXPECT_TRUE(send(add(11, 0, 3, of13::kCheckOverlap)).empty()) << "another priority does not overlap";
    auto rule = of_.rules("br0", 0, {}).back();
    rule->stats->packets.store(7);
    auto mod = add(10, 1, 3);
    mod.command = of13::kModifyStrict;
    send(mod);
    EXPECT_EQ(rule->stats->packets.load(), 7u) << "modify keeps the counters";
    mod.flags = of13::kResetCounts;
    send(mod);
    EXPECT_EQ(rule->stats->packets.load(), 0u) << "RESET_COUNTS zeroes them";
}

TEST_F(Of13HandlerTest, RefusalsCarryTheSpecsCodes) {
    auto bad_table = add(10, 1, 2);
    bad_table.table_id = 254;
    EXPECT_EQ(errorOf(send(bad_table).at(0)), err(of13::kFlowModFailed, code::kFmBadTableId));
    auto back = add(10, 1, 2);
    back.table_id = 3;
    back.instructions.push_back(of13::Instruction{of13::InstructionType::kGotoTable, 1});
    EXPECT_EQ(errorOf(send(back).at(0)), err(of13::kBadInstruction, code::kInstBadTableId));
    auto buffered = add(10, 1, 2);
    buffered.buffer_id = 5;
    EXPECT_EQ(errorOf(send(buffered).at(0)), err(of13::kBadRequest, code::kBufferUnknown));
    auto to_zero = add(10, 1, 0);
    EXPECT_EQ(errorOf(send(to_zero).at(0)), err(of13::kBadAction, code::kActBadOutPort));
    of13::MultipartRequest ps;
    ps.type = of13::kMpPortStats;
    ps.port_no = 9;
    EXPECT_EQ(errorOf(send(ps).at(0)), err(of13::kBadRequest, code::kBadPort));
    EXPECT_EQ(errorOf(send(of13::Experimenter{0x2320, 1}).at(0)),
              err(of13::kBadRequest, code::kBadExperimenter));
    EXPECT_TRUE(of_.rules("br0", of13::kTableAll, {}).empty()) << "nothing refused was applied";
}

TEST_F(Of13HandlerTest, ConfigStatsAndBarrier) {
    send(of13::SetConfig{{0, 256}});
    auto cfg = send(of13::GetConfigRequest{});
    ASSERT_EQ(cfg.size(), 1u);
    EXPECT_EQ(static_cast<unsigned char>(cfg[0][1]), of13::kGetConfigReply);
    EXPECT_EQ((static_cast<unsigned char>(cfg[0][10]) << 8) | static_cast<unsigned char>(cfg[0][11]), 256);
    send(add(10, 1, 2));
    send(add(20, 2, 1));
    of_.rules("br0", 0, {})[0]->stats->bytes.store(1000);
    of13::MultipartRequest agg;
    agg.type = of13::kMpAggregate;
    auto rep = send(agg);
    ASSERT_EQ(rep.size(), 1u);
    ASSERT_EQ(rep[0].size(), 16u + 24u);
    EXPECT_EQ(static_cast<unsigned char>(rep[0][16 + 8 + 6]), 1000 >> 8);
    EXPECT_EQ(static_cast<unsigned char>(rep[0][16 + 16 + 3]), 2) << "flow_count";
    of13::MultipartRequest fs;
    fs.type = of13::kMpFlow;
    fs.flow.out_port = 1;  // only the rule that outputs to port 1
    rep = send(fs);
    ASSERT_EQ(rep.size(), 1u);
    EXPECT_EQ(rep[0].size(), 16u + 48u + 16u + 24u) << "one flow stats entry: match in_port, apply output";
    auto barrier = send(of13::BarrierRequest{});
    ASSERT_EQ(barrier.size(), 1u);
    EXPECT_EQ(static_cast<unsigned char>(barrier[0][1]), of13::kBarrierReply);
    EXPECT_EQ(static_cast<unsigned char>(barrier[0][7]), 9) << "the request's xid";
}

}  // namespace

namespace {

TEST_F(Of13HandlerTest, RolesGenerationIdsAndSlaveRefusals) {
    Of13Handler::State a, b;
    handler_.attach("br0", &a);
    handler_.attach("br0", &b);
    auto role = [&](Of13Handler::State& st, std::uint32_t r, std::uint64_t gen) {
        of13::RoleRequest q;
        q.role = r;
        q.generation_id = gen;
        of13::Message m{9, q};
        return handler_.handle("br0", m, of13::encode(m), st).frames.at(0);
    };
    auto reply = role(a, of13::kRoleMaster, 5);
    EXPECT_EQ(static_cast<unsigned char>(reply[1]), of13::kRoleReply);
    EXPECT_EQ(static_cast<unsigned char>(reply[11]), of13::kRoleMaster);
    EXPECT_EQ(static_cast<unsigned char>(reply[23]), 5) << "the generation_id";
    role(b, of13::kRoleMaster, 6);
    EXPECT_EQ(b.role, of13::kRoleMaster);
    EXPECT_EQ(a.role, of13::kRoleSlave) << "a new master makes the old one a slave";
    EXPECT_EQ(errorOf(role(a, of13::kRoleMaster, 4)), err(of13::kRoleRequestFailed, code::kRoleStale));
    EXPECT_EQ(a.role, of13::kRoleSlave);
    of13::Message fm{9, add(10, 1, 2)};
    auto refused = handler_.handle("br0", fm, of13::encode(fm), a).frames;
    EXPECT_EQ(errorOf(refused.at(0)), err(of13::kBadRequest, code::kIsSlave));
    EXPECT_TRUE(of_.rules("br0", 0, {}).empty());
    EXPECT_TRUE(handler_.handle("br0", fm, of13::encode(fm), b).frames.empty()) << "the master may";
    // Async filters: a slave gets no packet_in by default; set_async changes that.
    EXPECT_FALSE(a.wantsPacketIn(of13::kAction));
    EXPECT_TRUE(a.wantsPortStatus(of13::kPortAdd));
    EXPECT_TRUE(b.wantsPacketIn(of13::kNoMatch));
    of13::SetAsync set;
    set.packet_in_mask = {0, 1u << of13::kAction};
    of13::Message sm{9, set};
    handler_.handle("br0", sm, of13::encode(sm), a);
    EXPECT_TRUE(a.wantsPacketIn(of13::kAction));
    EXPECT_FALSE(a.wantsPacketIn(of13::kNoMatch));
    of13::Message gm{9, of13::GetAsyncRequest{}};
    auto got = handler_.handle("br0", gm, of13::encode(gm), a).frames.at(0);
    EXPECT_EQ(got.size(), 32u);
    EXPECT_EQ(static_cast<unsigned char>(got[15]), 1u << of13::kAction) << "packet_in_mask[1]";
    handler_.detach("br0", &a);
    handler_.detach("br0", &b);
}

}  // namespace
