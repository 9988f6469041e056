// The binary OpenFlow 1.3 codec (protocol/of13.h) and its mapping to ofproto
// (vswitchd/of13_convert.h): byte layouts from the OpenFlow 1.3.5 spec, round trips, and the
// error type/code for every kind of malformed input.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstdio>

#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"
#include "protocol/of13.h"
#include "vswitchd/of13_convert.h"

namespace {

namespace of13 = vs::protocol::of13;
namespace code = of13::code;
using vs::vswitchd::of13conv::Refusal;

std::string hex(std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}
std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    return out;
}

of13::DecodeError decodeError(const std::string& bytes) {
    auto r = of13::decode(bytes);
    EXPECT_TRUE(std::holds_alternative<of13::DecodeError>(r)) << hex(bytes);
    return std::holds_alternative<of13::DecodeError>(r) ? std::get<of13::DecodeError>(r) : of13::DecodeError{};
}

of13::Message decodeOk(const std::string& bytes) {
    auto r = of13::decode(bytes);
    if (auto* e = std::get_if<of13::DecodeError>(&r)) ADD_FAILURE() << e->message << " in " << hex(bytes);
    return std::holds_alternative<of13::Message>(r) ? std::get<of13::Message>(r) : of13::Message{};
}

// The flow_mod for "priority=100,in_port=1,ip,nw_dst=10.0.0.0/8,actions=output:2", laid out by
// hand from OpenFlow 1.3.5 section 7.3.4.1 (ofp_flow_mod), 7.2.3 (ofp_match, OXM) and 7.2.5.
const std::string kFlowModHex =
    "040e0068" "00000002"                      // header: v4, FLOW_MOD, len 104, xid 2
    "0000000000000000" "0000000000000000"      // cookie, cookie_mask
    "00" "00" "0000" "0000" "0064"             // table 0, ADD, idle 0, hard 0, priority 100
    "ffffffff" "ffffffff" "ffffffff" "0000" "0000"  // buffer, out_port, out_group, flags, pad
    "0001" "001e"                              // match OXM, length 30
    "80000004" "00000001"                      // in_port=1
    "80000a02" "0800"                          // eth_type=0x0800
    "80001908" "0a000000" "ff000000"           // ipv4_dst=10.0.0.0/255.0.0.0
    "0000"                                     // pad to 8
    "0004" "0018" "00000000"                   // APPLY_ACTIONS, len 24
    "0000" "0010" "00000002" "0000" "000000000000";  // OUTPUT port 2, max_len 0

TEST(Of13Codec, DecodesAFlowModAsOvsOfctlSendsIt) {
    auto msg = decodeOk(unhex(kFlowModHex));
    EXPECT_EQ(msg.xid, 2u);
    const auto& fm = std::get<of13::FlowMod>(msg.body);
    EXPECT_EQ(fm.priority, 100);
    EXPECT_EQ(fm.command, of13::kAdd);
    ASSERT_EQ(fm.match.fields.size(), 3u);
    EXPECT_EQ(fm.match.fields[2].field, of13::OxmField::kIpv4Dst);
    EXPECT_TRUE(fm.match.fields[2].has_mask);
    EXPECT_EQ(fm.match.fields[2].umask(), 0xff000000u);
    ASSERT_EQ(fm.instructions.size(), 1u);
    ASSERT_EQ(fm.instructions[0].actions.size(), 1u);
    EXPECT_EQ(fm.instructions[0].actions[0].port, 2u);
    EXPECT_EQ(hex(of13::encode(msg)), kFlowModHex) << "encoding is byte-exact";
}

TEST(Of13Codec, FlowModMapsToTheSameRuleAsTheTextSyntax) {
    auto fm = std::get<of13::FlowMod>(decodeOk(unhex(kFlowModHex)).body);
    auto match = vs::vswitchd::of13conv::toMatch(fm.match);
    auto text = vs::ofproto::parseFlowMod("priority=100,in_port=1,ip,nw_dst=10.0.0.0/8,actions=output:2",
                                          vs::ofproto::FlowMod::Command::kAdd, {});
    const auto& want = std::get<vs::ofproto::FlowMod>(text);
    EXPECT_TRUE(match == want.match) << vs::ofproto::formatMatch(match, {});
    EXPECT_EQ(vs::vswitchd::of13conv::toActions(fm.instructions), want.actions);
    // And back: the match and instructions a flow stats reply carries.
    auto back = vs::vswitchd::of13conv::fromMatch(want.match);
    EXPECT_EQ(back, fm.match);
    EXPECT_EQ(vs::vswitchd::of13conv::fromActions(want.actions, 0), fm.instructions);
}

TEST(Of13Codec, HelloVersionBitmapRoundTrips) {
    // ovs-ofctl -O OpenFlow13: hello with a bitmap naming only version 4.
    auto msg = decodeOk(unhex("04000010000000010001000800000010"));
    EXPECT_EQ(std::get<of13::Hello>(msg.body).bitmap, 0x10u);
    EXPECT_EQ(hex(of13::encode(msg)), "04000010000000010001000800000010");
    // An OpenFlow 1.0 hello (no bitmap) decodes with its header version.
    auto old = decodeOk(unhex("0100000800000007"));
    EXPECT_EQ(std::get<of13::Hello>(old.body).version, 1);
    EXPECT_EQ(std::get<of13::Hello>(old.body).bitmap, 0u);
}

TEST(Of13Codec, HeaderProblemsGetBadRequestErrors) {
    auto e = decodeError(unhex("0405000900000003") + "x");  // FEATURES_REQUEST with a body
    EXPECT_EQ(e.type, of13::kBadRequest);
    EXPECT_EQ(e.code, code::kBadLen);
    EXPECT_EQ(e.xid, 3u);
    e = decodeError(unhex("0114000800000004"));  // barrier in version 1
    EXPECT_EQ(e.code, code::kBadVersion);
    e = decodeError(unhex("0414000c00000004"));  // declared 12, carries 8
    EXPECT_EQ(e.code, code::kBadLen);
    e = decodeError(unhex("041f000800000005"));  // type 31 does not exist
    EXPECT_EQ(e.code, code::kBadType);
    e = decodeError(unhex("0406002000000005") + std::string(24, '\0'));  // features_reply: a switch never receives it
    EXPECT_EQ(e.code, code::kBadType);
}

std::string flowModWith(const std::string& match_hex, const std::string& instr_hex = "") {
    std::string body = unhex("0000000000000000" "0000000000000000" "0000" "0000" "0000" "8000"
                             "ffffffff" "ffffffff" "ffffffff" "0000" "0000") + unhex(match_hex) + unhex(instr_hex);
    std::string out = unhex("040e0000" "00000009") + body;
    out[2] = static_cast<char>(out.size() >> 8);
    out[3] = static_cast<char>(out.size() & 0xff);
    return out;
}

// An OXM match of `oxms` (hex), with its length and padding.
std::string matchOf(std::initializer_list<std::string> oxms) {
    std::string body;
    for (const auto& o : oxms) body += o;
    std::size_t len = 4 + body.size() / 2;
    char h[5];
    std::snprintf(h, sizeof h, "%04zx", len);
    return "0001" + std::string(h) + body + std::string((8 - len % 8) % 8 * 2, '0');
}

TEST(Of13Codec, MatchProblemsGetTheSpecsBadMatchCodes) {
    auto e = decodeError(flowModWith(matchOf({"80001a020050"})));  // tcp_src=80 without ip_proto=6
    EXPECT_EQ(e.type, of13::kBadMatch);
    EXPECT_EQ(e.code, code::kMatchBadPrereq);
    e = decodeError(flowModWith(matchOf({"80000a020800", "8000280106"})));  // icmpv4_code without ip_proto=1
    EXPECT_EQ(e.code, code::kMatchBadPrereq);
    e = decodeError(flowModWith(matchOf({"8000000400000001", "8000000400000002"})));  // in_port twice
    EXPECT_EQ(e.code, code::kMatchDupField);
    e = decodeError(flowModWith(matchOf({"80000003000001"})));  // in_port of 3 bytes
    EXPECT_EQ(e.code, code::kMatchBadLen);
    e = decodeError(flowModWith(matchOf({"8000010800000001ffffffff"})));  // in_port with a mask
    EXPECT_EQ(e.code, code::kMatchBadMask);
    e = decodeError(flowModWith(matchOf({"80000a020800", "800017080a000001ff000000"})));  // value bits outside the mask
    EXPECT_EQ(e.code, code::kMatchBadWildcards);
    e = decodeError(flowModWith(matchOf({"000100020000"})));  // class 0x0001 (NXM)
    EXPECT_EQ(e.code, code::kMatchBadField);
    e = decodeError(flowModWith("0002000c" "80000004" "00000001" "00000000"));  // match type 2
    EXPECT_EQ(e.code, code::kMatchBadType);
    e = decodeError(flowModWith("00010009" "80000004" "00000001" "000000000000"));  // length cuts the TLV
    EXPECT_EQ(e.type, of13::kBadMatch);
    EXPECT_EQ(e.code, code::kMatchBadLen);
    e = decodeError(flowModWith(matchOf({"80000c022000"})));  // vlan_vid 0x2000
    EXPECT_EQ(e.code, code::kMatchBadValue);
}

TEST(Of13Codec, InstructionAndActionProblemsGetTheirCodes) {
    const std::string any = "00010004" "00000000";
    auto e = decodeError(flowModWith(any, "0009" "0008" "00000000"));  // instruction type 9
    EXPECT_EQ(e.type, of13::kBadInstruction);
    EXPECT_EQ(e.code, code::kInstUnknown);
    e = decodeError(flowModWith(any, "0001" "0010" "01000000" "0000000000000000"));  // goto_table of 16 bytes
    EXPECT_EQ(e.code, code::kInstBadLen);
    e = decodeError(flowModWith(any, "0004" "0018" "00000000" "0000" "0008" "00000002" "ffff0000" "00000000"));  // output of 8 bytes
    EXPECT_EQ(e.type, of13::kBadAction);
    EXPECT_EQ(e.code, code::kActBadLen);
    e = decodeError(flowModWith(any, "0004" "0010" "00000000" "0063" "0008" "00000000"));  // action type 99
    EXPECT_EQ(e.code, code::kActBadType);
    e = decodeError(flowModWith(any, "0004" "0010" "00000000" "ffff" "0008" "00002320"));  // experimenter action
    EXPECT_EQ(e.code, code::kActBadExperimenter);
    e = decodeError(flowModWith(any, "0004" "0018" "00000000" "0000" "0018" "00000002" "ffff000000000000"));  // action runs past
    EXPECT_EQ(e.code, code::kActBadLen);
    // flow_mod command 7 and unknown flags.
    std::string bad_cmd = flowModWith(any);
    bad_cmd[8 + 17] = 7;
    EXPECT_EQ(decodeError(bad_cmd).code, code::kFmBadCommand);
    std::string bad_flags = flowModWith(any);
    bad_flags[8 + 36] = 0x01;  // 0x0100
    EXPECT_EQ(decodeError(bad_flags).code, code::kFmBadFlags);
}

TEST(Of13Codec, ErrorsQuoteTheFirst64BytesAndTheXid) {
    std::string big = unhex(kFlowModHex);
    auto err = of13::makeError(of13::kBadInstruction, code::kInstUnknown, big);
    EXPECT_EQ(err.xid, 2u);
    std::string bytes = of13::encode(err);
    EXPECT_EQ(bytes.size(), 12u + 64u);
    EXPECT_EQ(bytes.substr(12), big.substr(0, 64));
    EXPECT_EQ(hex(bytes.substr(0, 12)), "0401004c00000002" "00030000");
}

TEST(Of13Codec, PacketOutAndMultipartRequestsDecode) {
    // packet_out: NO_BUFFER, in_port CONTROLLER, output:TABLE, 14 bytes of frame.
    std::string po = unhex("040d0036" "0000000a" "ffffffff" "fffffffd" "0010" "000000000000"
                           "0000" "0010" "fffffff9" "ffff" "000000000000") + std::string(14, 'f');
    auto msg = decodeOk(po);
    const auto& p = std::get<of13::PacketOut>(msg.body);
    EXPECT_EQ(p.in_port, of13::kPortController);
    ASSERT_EQ(p.actions.size(), 1u);
    EXPECT_EQ(p.actions[0].port, of13::kPortTable);
    EXPECT_EQ(p.data.size(), 14u);
    EXPECT_EQ(of13::encode(msg), po);
    std::string short_actions = po;
    short_actions[17] = 0x40;  // actions_len 64 > what follows
    EXPECT_EQ(decodeError(short_actions).code, code::kBadLen);
    // Flow stats request for every table, as ovs-ofctl dump-flows sends it.
    std::string fs = unhex("04120038" "00000003" "0001" "0000" "00000000" "ff000000" "ffffffff" "ffffffff" "00000000"
                           "0000000000000000" "0000000000000000" "0001" "0004" "00000000");
    auto req = std::get<of13::MultipartRequest>(decodeOk(fs).body);
    EXPECT_EQ(req.type, of13::kMpFlow);
    EXPECT_EQ(req.flow.table_id, of13::kTableAll);
    EXPECT_EQ(decodeError(unhex("04120010" "00000003" "0063" "0000" "00000000")).code, code::kBadMultipart);
}

TEST(Of13Codec, RoleAndAsyncMessages) {
    auto msg = decodeOk(unhex("04180018" "00000004" "00000002" "00000000" "0000000000000007"));
    const auto& q = std::get<of13::RoleRequest>(msg.body);
    EXPECT_EQ(q.role, of13::kRoleMaster);
    EXPECT_EQ(q.generation_id, 7u);
    auto e = decodeError(unhex("04180018" "00000004" "00000009" "00000000" "0000000000000007"));
    EXPECT_EQ(e.type, of13::kRoleRequestFailed);
    EXPECT_EQ(e.code, code::kRoleBadRole);
    EXPECT_EQ(decodeError(unhex("041c0010" "00000005" "0000000000000000")).code, code::kBadLen) << "set_async of 16 bytes";
    auto set = decodeOk(unhex("041c0020" "00000005" "00000003" "00000000" "00000007" "00000007" "0000000f" "00000000"));
    EXPECT_EQ(std::get<of13::SetAsync>(set.body).packet_in_mask[0], 3u);
}

TEST(Of13Codec, MultipartRepliesSplitBelow64KiB) {
    of13::MultipartReply rep;
    rep.type = of13::kMpPortDesc;
    rep.port_descs.resize(2000);  // 128,000 bytes of ports
    auto frames = of13::encodeMultipart(7, rep);
    ASSERT_EQ(frames.size(), 2u);
    std::size_t ports = 0;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(of13::frameLength(frames[i]), frames[i].size());
        EXPECT_EQ(static_cast<unsigned char>(frames[i][11]), i + 1 < frames.size() ? 1 : 0) << "REPLY_MORE on all but the last";
        ports += (frames[i].size() - 16) / 64;
    }
    EXPECT_EQ(ports, 2000u);
}

TEST(Of13Convert, PortsAndUnsupportedFieldsAndActions) {
    using namespace vs::vswitchd::of13conv;
    EXPECT_EQ(toOfport(of13::kPortLocal, 0, 0), vs::ofproto::kPortLocal);
    EXPECT_EQ(fromOfport(vs::ofproto::kPortLocal), of13::kPortLocal);
    EXPECT_EQ(fromOfport(5), 5u);
    EXPECT_THROW(toOfport(0xff00, 0, 0), Refusal);
    of13::Match m;
    m.fields.push_back(of13::makeOxm(of13::OxmField::kMplsLabel, 5));
    try {
        toMatch(m);
        ADD_FAILURE() << "mpls_label accepted";
    } catch (const Refusal& r) {
        EXPECT_EQ(r.type, of13::kBadMatch);
        EXPECT_EQ(r.code, code::kMatchBadField);
    }
    of13::Action group;  // groups exist now (ofproto/group.h): an id above OFPG_MAX is still refused
    group.type = of13::ActionType::kGroup;
    group.arg = 0xffffff01;
    try {
        toActions(of13::Actions{group}, false);
        ADD_FAILURE() << "group above OFPG_MAX accepted";
    } catch (const Refusal& r) {
        EXPECT_EQ(r.code, code::kActBadOutGroup);
    }
    of13::Action table;
    table.type = of13::ActionType::kOutput;
    table.port = of13::kPortTable;
    EXPECT_THROW(toActions(of13::Actions{table}, false), Refusal) << "output:TABLE only in packet_out";
    EXPECT_EQ(toActions(of13::Actions{table}, true).at(0).port, vs::ofproto::kPortTable);
}

TEST(Of13Convert, InstructionsMapToTheActionSetAndBack) {
    auto text = vs::ofproto::parseFlowMod(
        "table=0,vlan_tci=0x1000/0x1000,actions=pop_vlan,clear_actions,write_actions(output:3),goto_table:2",
        vs::ofproto::FlowMod::Command::kAdd, {});
    const auto& fm = std::get<vs::ofproto::FlowMod>(text);
    auto ins = vs::vswitchd::of13conv::fromActions(fm.actions, 0);
    ASSERT_EQ(ins.size(), 4u);
    EXPECT_EQ(ins[0].type, of13::InstructionType::kApplyActions);
    EXPECT_EQ(ins[1].type, of13::InstructionType::kClearActions);
    EXPECT_EQ(ins[2].type, of13::InstructionType::kWriteActions);
    EXPECT_EQ(ins[3].type, of13::InstructionType::kGotoTable);
    EXPECT_EQ(vs::vswitchd::of13conv::toActions(ins), fm.actions);
    auto match = vs::vswitchd::of13conv::fromMatch(fm.match);
    ASSERT_EQ(match.fields.size(), 1u);
    EXPECT_EQ(match.fields[0].field, of13::OxmField::kVlanVid);
    EXPECT_TRUE(match.fields[0].has_mask);
    EXPECT_TRUE(vs::vswitchd::of13conv::toMatch(match) == fm.match);
}

}  // namespace
