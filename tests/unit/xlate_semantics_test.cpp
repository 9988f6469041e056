// Flow semantics that must hold for every frame, cached or not (issue #14): rewrites whose effect
// depends on the frame's own value (a VLAN tag present or not, a field already equal to the value
// set) must make the megaflow match that value; a frame that an ACL drops must not teach the FDB;
// no rule set can make one translation unbounded; an exception in the slow path drops one packet.
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/datapath.h"
#include "datapath/dummy_port.h"
#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "ofproto/ofproto.h"
#include "tests/unit/dummy_bridge.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::test;
using namespace vs::ofproto;

namespace {

class XlateSemantics : public ::testing::Test {
protected:
    void SetUp() override {
        of = std::make_unique<Ofproto>(dp::DatapathConfig{}, [this] { return now; });
        ports = addDummyBridge<3>(*of);
    }
    // Adds flows in ovs-ofctl syntax (p1..p3 are ofports 1..3).
    void flows(std::initializer_list<std::string_view> lines) {
        std::vector<FlowMod> mods;
        for (auto text : lines) {
            auto r = parseFlowMod(text, FlowMod::Command::kAdd, [](std::string_view n) -> std::optional<std::uint32_t> {
                if (n.size() == 2 && n[0] == 'p') return static_cast<std::uint32_t>(n[1] - '0');
                return std::nullopt;
            });
            if (auto* e = std::get_if<ParseError>(&r)) FAIL() << text << ": " << e->message;
            mods.push_back(std::get<FlowMod>(r));
        }
        of->applyFlowMods("br0", mods);
    }
    std::array<std::vector<Bytes>, 3> send(int in, const Bytes& f) {
        for (auto& p : ports) p->clearSent();
        ports[in]->inject(f);
        of->datapath().runOnce();
        std::array<std::vector<Bytes>, 3> out;
        for (int i = 0; i < 3; ++i)
            for (auto& c : ports[i]->sent()) out[i].push_back(c.bytes);
        return out;
    }
    static Bytes udpFrame(std::uint8_t src_mac, std::uint32_t src_ip = 0x0a000001, int vlan = -1) {
        return eth(mac(2), mac(src_mac), 0x0800, ipv4(17, src_ip, 0x0a000002, udp(1000, 2000)), vlan);
    }
    std::optional<std::string> fdbPortOf(std::uint8_t mac_last) {
        for (const auto& row : of->fdb("br0"))
            if (row.mac.b == std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, mac_last})
                return row.port_name;
        return std::nullopt;
    }

    std::int64_t now = 5000000;
    std::unique_ptr<Ofproto> of;
    std::array<std::shared_ptr<dp::DummyPort>, 3> ports;
};

// OpenFlow 1.3 / Open vSwitch: mod_vlan_vid rewrites the VID of a tagged frame and pushes a tag on
// an untagged one. Whether a pop comes first depends on the frame's tag, so the megaflow must
// match it: an untagged frame's cached flow must not apply to a tagged one (the double tag).
TEST_F(XlateSemantics, ModVlanVidRewritesATagAndTheCacheKnowsTheDifference) {
    flows({"priority=100,in_port=p1,actions=mod_vlan_vid:42,output:p2"});
    auto o = send(0, udpFrame(1));
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0], udpFrame(1, 0x0a000001, 42));
    o = send(0, udpFrame(1, 0x0a000001, 7));
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0], udpFrame(1, 0x0a000001, 42)) << "one tag, VID 42 (not 42 over 7)";
    // The other order too: tagged first, then untagged.
    flows({"priority=100,in_port=p1,actions=mod_vlan_vid:43,output:p2"});
    o = send(0, udpFrame(1, 0x0a000001, 7));
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0], udpFrame(1, 0x0a000001, 43));
    o = send(0, udpFrame(1));
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0], udpFrame(1, 0x0a000001, 43)) << "a tag is pushed on the untagged frame";
}

// A set_field to the value the first frame already has emits no datapath action; the next frame,
// with another value, must still be rewritten.
TEST_F(XlateSemantics, SetFieldAppliesWhateverTheFirstFrameHeld) {
    flows({"priority=100,in_port=p1,ip,actions=mod_nw_src:10.0.0.1,output:p2"});
    auto o = send(0, udpFrame(1, 0x0a000001));
    ASSERT_EQ(o[1].size(), 1u);
    o = send(0, udpFrame(1, 0x0a000005));
    ASSERT_EQ(o[1].size(), 1u);
    const Bytes& f = o[1][0];
    EXPECT_EQ(Bytes(f.begin() + 26, f.begin() + 30), (Bytes{10, 0, 0, 1})) << "nw_src rewritten";
    flows({"priority=200,in_port=p1,actions=mod_dl_src:02:00:00:00:00:01,output:p2"});
    send(0, udpFrame(1));
    o = send(0, udpFrame(9));
    ASSERT_EQ(o[1].size(), 1u);
    EXPECT_EQ(o[1][0][11], 1) << "dl_src rewritten";
}

// The spoofing case: p3's host is learned on p3; an ACL drops frames from p1 that claim
// its MAC. Those frames never reach NORMAL, so they must not move the FDB entry, not at the upcall
// and not when the datapath reports the cached drop flow as used.
TEST_F(XlateSemantics, AFrameAnAclDropsTeachesTheFdbNothing) {
    send(2, udpFrame(3));
    ASSERT_EQ(fdbPortOf(3), "p3");
    flows({"priority=200,in_port=p1,dl_src=02:00:00:00:00:03,actions=drop"});
    for (int i = 0; i < 5; ++i) send(0, udpFrame(3));
    of->datapath().sweepForTest();
    EXPECT_EQ(fdbPortOf(3), "p3") << "the spoofed source moved to p1";
    // While a frame that does reach NORMAL keeps its entry fresh through the same report.
    send(0, udpFrame(1));
    now += 200 * 1000;
    for (int i = 0; i < 3; ++i) send(0, udpFrame(1));
    of->datapath().sweepForTest();
    now += 200 * 1000;
    of->runPeriodic();
    EXPECT_EQ(fdbPortOf(1), "p1") << "a cached NORMAL flow in use keeps its MAC learned";
}

// 20 tables in which every rule resubmits twice to the next: 2^20 lookups without a budget.
// Open vSwitch stops a translation after 4,096 resubmits and drops the packet; so do we.
TEST_F(XlateSemantics, ResubmitFanOutIsBoundedAndCounted) {
    std::vector<std::string> lines;
    for (int t = 0; t < 20; ++t)
        lines.push_back("table=" + std::to_string(t) + ",priority=1,actions=resubmit(," + std::to_string(t + 1) +
                        "),resubmit(," + std::to_string(t + 1) + ")");
    lines.push_back("table=20,priority=1,actions=output:p2");
    for (const auto& l : lines) flows({l});
    auto before = dp::coverageRead(dp::Coverage::drop_xlate_resubmit_limit);
    auto o = send(0, udpFrame(1));
    EXPECT_TRUE(o[1].empty()) << "a translation over budget is dropped whole";
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_xlate_resubmit_limit), before + 1);
}

// A wide but legal pipeline is not cut: 8 levels of two resubmits (510 resubmits) end in 256
// outputs of the frame, as Open vSwitch would emit them.
TEST_F(XlateSemantics, AWideLegalPipelineRunsWhole) {
    for (int t = 0; t < 8; ++t)
        flows({"table=" + std::to_string(t) + ",priority=1,actions=resubmit(," + std::to_string(t + 1) + "),resubmit(," +
               std::to_string(t + 1) + ")"});
    flows({"table=8,priority=1,actions=output:p2"});
    auto o = send(0, udpFrame(1));
    EXPECT_EQ(o[1].size(), 256u);
}

// An exception out of the slow path (a bug, or bad_alloc) must cost one packet, counted, and
// leave the poll thread running.
class ThrowingHandler : public dp::UpcallHandler {
public:
    bool upcall(const dp::FlowKey& key, const dp::Packet&, dp::FlowKey&, dp::ActionList& actions,
                dp::StatsSinks&, bool&) override {
        if (key.dl_src[5] == 0x66) throw std::out_of_range("bug in the slow path");
        actions.push_back(dp::Action::output(2));
        return true;
    }
    void flowsUsed(std::span<const std::pair<dp::FlowKey, dp::FlowKey>>) override {}
};

TEST(PollThreadSafety, AnExceptionInAnUpcallDropsOnePacket) {
    ThrowingHandler h;
    dp::Datapath d(h);
    auto p1 = std::make_shared<dp::DummyPort>("p1"), p2 = std::make_shared<dp::DummyPort>("p2");
    d.addPort(p1);
    d.addPort(p2);
    auto before = dp::coverageRead(dp::Coverage::drop_upcall_exception);
    p1->inject(eth(mac(2), mac(0x66), 0x0800, ipv4(17, 1, 2, udp(1, 2))));
    p1->inject(eth(mac(2), mac(0x01), 0x0800, ipv4(17, 1, 2, udp(1, 2))));
    d.runOnce();
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_upcall_exception), before + 1);
    EXPECT_EQ(p2->sent().size(), 1u) << "the packet after the failing one is forwarded";
}

}  // namespace

namespace {

// The clone pool (64 copies per poll thread) runs out in the middle of a batch: 32 frames whose
// actions each need 4 copies (a rewrite after each output). Each flush of the pool sends what is
// queued; every port must still get every frame exactly as the actions left it at its output.
TEST_F(XlateSemantics, CopiesStayCorrectWhenTheClonePoolRunsOutMidBatch) {
    flows({"priority=100,in_port=p1,udp,actions=output:p2,mod_dl_dst:02:00:00:00:00:0a,output:p3,"
           "mod_dl_dst:02:00:00:00:00:0b,output:p2,mod_nw_tos:8,output:p3,mod_tp_dst:9,output:p2"});
    for (auto& p : ports) p->clearSent();
    for (int i = 0; i < 32; ++i) ports[0]->inject(udpFrame(1, 0x0a000001 + static_cast<std::uint32_t>(i)));
    of->datapath().runOnce();
    auto p2 = ports[1]->sent(), p3 = ports[2]->sent();
    ASSERT_EQ(p2.size(), 96u);
    ASSERT_EQ(p3.size(), 64u);
    // Per source address (frame i), the three copies on p2 and the two on p3, in any order.
    for (int i = 0; i < 32; ++i) {
        std::uint8_t last = static_cast<std::uint8_t>(1 + i);
        int original = 0, dst_b = 0, tp9 = 0, dst_a = 0, tos8 = 0;
        for (const auto& c : p2) {
            if (c.bytes[14 + 15] != last) continue;
            if (c.bytes[5] == 2) ++original;
            else if (c.bytes[5] == 0x0b && c.bytes[14 + 1] == 0) ++dst_b;
            else if (c.bytes[14 + 1] == 8 && c.bytes[14 + 20 + 3] == 9) ++tp9;
        }
        for (const auto& c : p3) {
            if (c.bytes[14 + 15] != last) continue;
            if (c.bytes[5] == 0x0a) ++dst_a;
            else if (c.bytes[5] == 0x0b && c.bytes[14 + 1] == 8 && c.bytes[14 + 20 + 3] == 208) ++tos8;
        }
        EXPECT_EQ(original + dst_b + tp9 + dst_a + tos8, 5) << "frame " << i;
        EXPECT_EQ(original * dst_b * tp9 * dst_a * tos8, 1) << "frame " << i << ": a copy changed after its output";
    }
}

// One packet whose actions would need more than 64 copies stops there, counted.
TEST_F(XlateSemantics, OnePacketCannotCopyItselfWithoutEnd) {
    std::string acts;
    for (int i = 0; i < 100; ++i) acts += "output:p2,mod_nw_tos:" + std::to_string((i % 60 + 1) * 4) + ",";
    flows({"priority=100,in_port=p1,udp,actions=" + acts + "output:p3"});
    auto before = dp::coverageRead(dp::Coverage::drop_clone_exhausted);
    auto o = send(0, udpFrame(1));
    EXPECT_EQ(o[1].size(), 65u) << "the original and 64 copies";
    EXPECT_TRUE(o[2].empty());
    EXPECT_EQ(dp::coverageRead(dp::Coverage::drop_clone_exhausted), before + 1);
}

}  // namespace

namespace {

// A MAC learned on one bridge, or a flow_mod on it, invalidates that bridge's megaflows only: the
// other bridge's packets keep hitting the cache (issue #14: one move flushed every bridge's cache).
TEST(BridgeInvalidation, AChangeOnOneBridgeLeavesTheOthersCacheWarm) {
    std::int64_t now = 5000000;
    Ofproto of(dp::DatapathConfig{}, [&] { return now; });
    std::array<std::shared_ptr<dp::DummyPort>, 4> p;
    for (int i = 0; i < 4; ++i) p[i] = std::make_shared<dp::DummyPort>("p" + std::to_string(i + 1));
    of.addBridge("brA");
    of.addBridge("brB");
    of.addPort("brA", "p1", 1, p[0]);
    of.addPort("brA", "p2", 2, p[1]);
    of.addPort("brB", "p3", 1, p[2]);
    of.addPort("brB", "p4", 2, p[3]);
    auto frame = [](std::uint8_t src, std::uint8_t dst) { return eth(mac(dst), mac(src), 0x0800, ipv4(17, 1, 2, udp(1, 2))); };
    auto once = [&](int port, const Bytes& f) {
        p[port]->inject(f);
        of.datapath().runOnce();
    };
    // Both bridges learn both hosts, then B's conversation is cached.
    for (int round = 0; round < 2; ++round) {
        once(0, frame(1, 2)); once(1, frame(2, 1));
        once(2, frame(3, 4)); once(3, frame(4, 3));
    }
    once(2, frame(3, 4));
    auto s0 = of.datapath().stats();
    once(2, frame(3, 4));
    auto s1 = of.datapath().stats();
    ASSERT_EQ(s1.hit, s0.hit + 1) << "B's flow is cached";
    // A new MAC on bridge A.
    once(0, frame(9, 2));
    auto s2 = of.datapath().stats();
    once(2, frame(3, 4));
    auto s3 = of.datapath().stats();
    EXPECT_EQ(s3.hit, s2.hit + 1) << "a MAC learned on brA flushed brB's megaflow";
    EXPECT_EQ(s3.missed, s2.missed);
    // A flow_mod on bridge A: the same.
    FlowMod fm;
    fm.priority = 10;
    fm.actions = {Action{ActionType::kNormal}};
    of.applyFlowMods("brA", {fm});
    once(2, frame(3, 4));
    auto s4 = of.datapath().stats();
    EXPECT_EQ(s4.hit, s3.hit + 1) << "a flow_mod on brA flushed brB's megaflow";
    // While bridge A's own megaflow is gone (its decision may have changed).
    once(0, frame(1, 2));
    EXPECT_EQ(of.datapath().stats().missed, s4.missed + 1) << "brA's megaflow survived its own flow_mod";
}

}  // namespace

namespace {

// OpenFlow 1.3 section 5.10: write_actions fill the action set, clear_actions empty it, and the set
// runs once the pipeline ends, in the spec's order (set-fields before the output), after every
// apply-action. The Open vSwitch oracle (test_ovs_oracle.py, "action-set") compares the same rules
// frame for frame.
TEST_F(XlateSemantics, TheActionSetRunsWhenThePipelineEnds) {
    flows({"table=0,priority=10,udp,actions=output:p2,write_actions(output:p3,mod_tp_dst:7),goto_table:1",
           "table=1,priority=10,udp,actions=write_actions(mod_tp_dst:9)"});
    auto o = send(0, udpFrame(1));
    ASSERT_EQ(o[1].size(), 1u) << "the apply-action output runs at once";
    EXPECT_EQ(o[1][0], udpFrame(1));
    ASSERT_EQ(o[2].size(), 1u) << "the action set's output runs at the end";
    EXPECT_EQ(o[2][0], eth(mac(2), mac(1), 0x0800, ipv4(17, 0x0a000001, 0x0a000002, udp(1000, 9))))
        << "both set-fields run in the order written, before the output";

    flows({"table=1,priority=10,udp,actions=clear_actions"});
    o = send(0, udpFrame(1));
    EXPECT_EQ(o[1].size(), 1u);
    EXPECT_TRUE(o[2].empty()) << "clear_actions emptied the set";

    flows({"table=1,priority=10,udp,actions=write_actions(mod_tp_dst:9)"});
    flows({"table=0,priority=10,udp,actions=write_actions(mod_tp_dst:7),goto_table:1"});
    o = send(0, udpFrame(1));
    EXPECT_TRUE(o[1].empty() && o[2].empty()) << "a set without an output does nothing";
}

// OpenFlow 1.3 section 7.3.7: a packet_out carries actions, not instructions (as Open vSwitch).
TEST_F(XlateSemantics, PacketOutRefusesInstructions) {
    auto r = parseFlowMod("actions=write_actions(output:2)", FlowMod::Command::kAdd, {});
    ASSERT_TRUE(std::holds_alternative<FlowMod>(r));
    try {
        of->packetOut("br0", udpFrame(1), 1, std::get<FlowMod>(r).actions);
        ADD_FAILURE() << "packet_out ran write_actions";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("not instructions"), std::string::npos) << e.what();
    }
    for (auto& p : ports) EXPECT_TRUE(p->sent().empty());
}

TEST(ActionSetParse, InstructionsInOpenFlowOrderAndOnlySetActionsInside) {
    auto parse = [](std::string_view text) { return parseFlowMod(text, FlowMod::Command::kAdd, {}); };
    auto ok = parse("udp,actions=output:1,clear_actions,write_actions(set_field:5->tp_dst,output:2),goto_table:3");
    ASSERT_TRUE(std::holds_alternative<FlowMod>(ok)) << std::get<ParseError>(ok).message;
    EXPECT_EQ(formatActions(std::get<FlowMod>(ok).actions, {}),
              "output:1,clear_actions,write_actions(mod_tp_dst:5,output:2),goto_table:3");
    for (auto [text, why] : {std::pair{"actions=write_actions(output:2),output:1", "must come before"},
                             {"actions=write_actions(output:2),clear_actions", "must come once"},
                             {"actions=write_actions(resubmit(,2))", "not allowed in write_actions"},
                             {"actions=write_actions(controller)", "not allowed in write_actions"},
                             {"actions=write_actions:2", "expected write_actions(ACTIONS)"}}) {
        auto r = parse(text);
        ASSERT_TRUE(std::holds_alternative<ParseError>(r)) << text;
        EXPECT_NE(std::get<ParseError>(r).message.find(why), std::string::npos) << std::get<ParseError>(r).message;
    }
}

}  // namespace
