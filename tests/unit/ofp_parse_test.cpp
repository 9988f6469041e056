// ovs-ofctl flow syntax: parser (ofproto/ofp_parse.h) and printer (ofproto/ofp_print.h).
// Every field and action, prerequisite errors, masks, error offsets/tokens, flow files, and the
// round trip parse(format(x)) == x over random FlowMods and hand-written ovs-ofctl lines.
#include <arpa/inet.h>

#include <random>

#include <gtest/gtest.h>

#include "ofproto/ofp_parse.h"
#include "ofproto/ofp_print.h"

namespace vs::ofproto {
namespace {

using Cmd = FlowMod::Command;

std::optional<std::uint32_t> resolve(std::string_view name) {
    if (name == "uplink") return 10;
    if (name.size() > 1 && name[0] == 'p') {
        int n = 0;
        for (char c : name.substr(1)) {
            if (c < '0' || c > '9') return std::nullopt;
            n = n * 10 + (c - '0');
        }
        if (n >= 1 && n <= 20 && n != 10) return n;
    }
    return std::nullopt;
}

std::string name(std::uint32_t port) {
    if (port == 10) return "uplink";
    return port <= 20 ? "p" + std::to_string(port) : std::to_string(port);
}

const PortResolver kResolver = resolve;
const PortNamer kNamer = name;

FlowMod parse(std::string_view text, Cmd cmd = Cmd::kAdd) {
    auto r = parseFlowMod(text, cmd, kResolver);
    if (auto* e = std::get_if<ParseError>(&r)) {
        ADD_FAILURE() << "'" << text << "': " << e->message;
        return {};
    }
    return std::get<FlowMod>(r);
}

ParseError error(std::string_view text, Cmd cmd = Cmd::kAdd) {
    auto r = parseFlowMod(text, cmd, kResolver);
    if (auto* e = std::get_if<ParseError>(&r)) return *e;
    ADD_FAILURE() << "'" << text << "' parsed: " << formatFlowMod(std::get<FlowMod>(r), kNamer);
    return {};
}

std::string msg(std::string_view text, Cmd cmd = Cmd::kAdd) { return error(text, cmd).message; }

Match match(std::string_view text) {
    auto r = parseMatch(text, kResolver);
    if (auto* e = std::get_if<ParseError>(&r)) {
        ADD_FAILURE() << "'" << text << "': " << e->message;
        return {};
    }
    return std::get<Match>(r);
}

// The canonical text of a match / flow (parse then print).
std::string canon(std::string_view text) { return formatMatch(match(text), kNamer); }
std::string canonFlow(std::string_view text, Cmd cmd = Cmd::kAdd) { return formatFlowMod(parse(text, cmd), kNamer); }

std::uint32_t ip(const char* s) {
    in_addr a{};
    inet_pton(AF_INET, s, &a);
    return a.s_addr;  // network order, as FlowKey
}

// ---- flow_mod fields -------------------------------------------------------------------------

TEST(OfpParseFlowMod, Defaults) {
    FlowMod fm = parse("actions=drop");
    EXPECT_EQ(fm.command, Cmd::kAdd);
    EXPECT_EQ(fm.table, 0);
    EXPECT_EQ(fm.priority, kDefaultPriority);
    EXPECT_EQ(fm.match, Match());
    ASSERT_EQ(fm.actions.size(), 1u);
    EXPECT_EQ(fm.actions[0].type, ActionType::kDrop);
    EXPECT_EQ(parse("", Cmd::kDelete).table, kTableAll);
    EXPECT_EQ(parse("actions=drop", Cmd::kModify).table, kTableAll);
    EXPECT_EQ(parse("", Cmd::kDeleteStrict).command, Cmd::kDeleteStrict);
}

TEST(OfpParseFlowMod, Fields) {
    FlowMod fm = parse("table=3, priority=0x10, cookie=0xab, idle_timeout=10, hard_timeout=20, send_flow_rem, "
                       "ip actions=NORMAL");
    EXPECT_EQ(fm.table, 3);
    EXPECT_EQ(fm.priority, 16);
    EXPECT_EQ(fm.cookie, 0xabu);
    EXPECT_EQ(fm.cookie_mask, 0u);
    EXPECT_EQ(fm.idle_timeout, 10);
    EXPECT_EQ(fm.hard_timeout, 20);
    EXPECT_TRUE(fm.send_flow_rem);
    FlowMod del = parse("cookie=0x10/0xf0,out_port=p2,table=all", Cmd::kDelete);
    EXPECT_EQ(del.cookie, 0x10u);
    EXPECT_EQ(del.cookie_mask, 0xf0u);
    EXPECT_EQ(del.out_port, 2u);
    EXPECT_EQ(del.table, kTableAll);
}

TEST(OfpParseFlowMod, DumpFlowsOutputFeedsBack) {
    FlowMod fm = parse(" cookie=0x0, duration=5.123s, table=0, n_packets=3, n_bytes=180, idle_age=2, "
                       "priority=100,ip,nw_dst=10.0.0.1 actions=output:p2");
    EXPECT_EQ(fm.priority, 100);
    EXPECT_EQ(formatFlowMod(fm, kNamer), "priority=100,ip,nw_dst=10.0.0.1 actions=output:p2");
}

TEST(OfpParseFlowMod, CommandRules) {
    EXPECT_EQ(msg("ip"), "add-flow requires actions=... (actions=drop to drop)");
    EXPECT_EQ(msg("ip", Cmd::kModifyStrict), "mod-flows requires actions=... (actions=drop to drop)");
    EXPECT_EQ(msg("ip,actions=drop", Cmd::kDelete), "del-flows does not take actions");
    EXPECT_EQ(msg("cookie=1/1,actions=drop"), "cookie=1/1: add-flow cannot use a cookie mask");
    EXPECT_EQ(msg("cookie=1", Cmd::kDelete),
              "cookie=1: del-flows selects rules by cookie=VALUE/MASK (a cookie without a mask would set it)");
    EXPECT_EQ(msg("idle_timeout=5", Cmd::kDelete), "'idle_timeout' is not allowed in del-flows (only in add-flow and mod-flows)");
    EXPECT_EQ(msg("send_flow_rem", Cmd::kDeleteStrict), "'send_flow_rem' is not allowed in del-flows (only in add-flow and mod-flows)");
    EXPECT_EQ(msg("out_port=1,actions=drop"), "'out_port' is not allowed in add-flow (only in del-flows and dump-flows)");
    EXPECT_EQ(msg("table=254,actions=drop"), "table=254: out of range (0..253)");
    EXPECT_EQ(msg("table=255,actions=drop"), "table=255: out of range (0..253)");
    EXPECT_EQ(msg("table=all,actions=drop"), "table=all: invalid number 'all'");
    EXPECT_EQ(msg("priority=65536,actions=drop"), "priority=65536: out of range (0..65535)");
    EXPECT_EQ(msg("priority=-1,actions=drop"), "priority=-1: invalid number '-1'");
    EXPECT_EQ(msg("priority=1,priority=2,actions=drop"), "duplicate field 'priority'");
    EXPECT_EQ(msg("priority,actions=drop"), "priority: missing value (priority=VALUE)");
    EXPECT_EQ(msg("idle_timeout=70000,actions=drop"), "idle_timeout=70000: out of range (0..65535)");
    EXPECT_EQ(msg("cookie=1/-1", Cmd::kModify), "cookie=1/-1: invalid number '-1'");
}

TEST(OfpParseFlowMod, DumpFlowsFilter) {
    auto r = parseFlowFilter("table=2,cookie=0x1/0x1,out_port=p4,tcp", kResolver);
    ASSERT_TRUE(std::holds_alternative<FlowMod>(r));
    const FlowMod& fm = std::get<FlowMod>(r);
    EXPECT_EQ(fm.command, Cmd::kDelete);
    EXPECT_EQ(fm.table, 2);
    EXPECT_EQ(fm.cookie_mask, 1u);
    EXPECT_EQ(fm.out_port, 4u);
    EXPECT_EQ(fm.match, match("tcp"));
    EXPECT_EQ(std::get<FlowMod>(parseFlowFilter("", kResolver)).table, kTableAll);
    auto e = parseFlowFilter("ip actions=drop", kResolver);
    EXPECT_EQ(std::get<ParseError>(e).message, "dump-flows does not take actions");
    e = parseFlowFilter("hard_timeout=1", kResolver);
    EXPECT_EQ(std::get<ParseError>(e).message, "'hard_timeout' is not allowed in dump-flows (only in add-flow and mod-flows)");
    EXPECT_EQ(msg("ip actions = drop"), "write actions=A,B,... without spaces around '='");
}

// ---- match fields ----------------------------------------------------------------------------

TEST(OfpParseMatch, L2Fields) {
    Match m = match("in_port=p3,dl_src=02:00:00:00:00:01,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,dl_type=0x88cc");
    EXPECT_EQ(m.key.in_port, 3u);
    EXPECT_EQ(m.mask.in_port, 0xffffffffu);
    EXPECT_EQ(m.key.dl_src[5], 1);
    EXPECT_EQ(m.mask.dl_src[0], 0xff);
    EXPECT_EQ(m.key.dl_dst[0], 1);
    EXPECT_EQ(m.mask.dl_dst[0], 1);
    EXPECT_EQ(m.mask.dl_dst[1], 0);
    EXPECT_EQ(m.key.dl_type, 0x88cc);
    EXPECT_EQ(m.mask.dl_type, 0xffff);
    EXPECT_EQ(match("in_port=LOCAL").key.in_port, kPortLocal);
    EXPECT_EQ(match("in_port=local").key.in_port, kPortLocal);
    EXPECT_EQ(match("in_port=7").key.in_port, 7u);
    EXPECT_EQ(match("eth_src=2:0:0:0:0:a").key.dl_src[5], 0x0a);
    EXPECT_EQ(canon("in_port=7,dl_type=0x88cc"), "in_port=p7,dl_type=0x88cc");
    EXPECT_EQ(canon("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"), "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00");
}

TEST(OfpParseMatch, Vlan) {
    Match m = match("dl_vlan=100");
    EXPECT_EQ(m.key.vlan_tci, 100 | 0x1000);
    EXPECT_EQ(m.mask.vlan_tci, 0x1fff);
    m = match("dl_vlan=0xffff");
    EXPECT_EQ(m.key.vlan_tci, 0);
    EXPECT_EQ(m.mask.vlan_tci, 0xffff);
    m = match("dl_vlan_pcp=5");
    EXPECT_EQ(m.key.vlan_tci, (5 << 13) | 0x1000);
    EXPECT_EQ(m.mask.vlan_tci, 0xf000);
    m = match("dl_vlan=10,dl_vlan_pcp=3");
    EXPECT_EQ(m.key.vlan_tci, (3 << 13) | 0x1000 | 10);
    EXPECT_EQ(m.mask.vlan_tci, 0xffff);
    m = match("vlan_tci=0x1234/0x0fff");
    EXPECT_EQ(m.key.vlan_tci, 0x0234);
    EXPECT_EQ(m.mask.vlan_tci, 0x0fff);
    EXPECT_EQ(canon("dl_vlan=100"), "dl_vlan=100");
    EXPECT_EQ(canon("dl_vlan_pcp=5,dl_vlan=7"), "dl_vlan=7,dl_vlan_pcp=5");
    EXPECT_EQ(canon("dl_vlan=0xffff"), "vlan_tci=0x0000");
    EXPECT_EQ(canon("vlan_tci=0"), "vlan_tci=0x0000");
    EXPECT_EQ(canon("vlan_tci=0x1005/0x1fff"), "dl_vlan=5");
    EXPECT_EQ(canon("vlan_tci=0x1000/0x1000"), "vlan_tci=0x1000/0x1000");
    EXPECT_EQ(msg("dl_vlan=4096,actions=drop"), "dl_vlan=4096: out of range (0..4095, or 0xffff for no 802.1Q tag)");
    EXPECT_EQ(msg("dl_vlan_pcp=8,actions=drop"), "dl_vlan_pcp=8: out of range (0..7)");
    EXPECT_EQ(msg("dl_vlan=0xffff,dl_vlan_pcp=1,actions=drop"), "'dl_vlan_pcp=1' conflicts with 'dl_vlan=0xffff'");
    EXPECT_EQ(msg("dl_vlan=5/0xfff,actions=drop"), "dl_vlan=5/0xfff: this field cannot be masked");
}

TEST(OfpParseMatch, Ipv4Masks) {
    Match m = match("ip,nw_src=10.0.0.7/24,nw_dst=192.168.1.2/255.255.0.255");
    EXPECT_EQ(m.key.dl_type, 0x0800);
    EXPECT_EQ(m.key.nw_src, ip("10.0.0.0"));
    EXPECT_EQ(m.mask.nw_src, ip("255.255.255.0"));
    EXPECT_EQ(m.key.nw_dst, ip("192.168.0.2"));
    EXPECT_EQ(m.mask.nw_dst, ip("255.255.0.255"));
    EXPECT_EQ(canon("ip,nw_src=10.0.0.7/24,nw_dst=192.168.1.2/255.255.0.255"),
              "ip,nw_src=10.0.0.0/24,nw_dst=192.168.0.2/255.255.0.255");
    EXPECT_EQ(canon("ip,nw_src=10.0.0.1/255.255.255.255"), "ip,nw_src=10.0.0.1");
    EXPECT_EQ(canon("ip,nw_src=10.0.0.1/0"), "ip");
    EXPECT_EQ(canon("ip,ip_dst=10.1.0.0/16"), "ip,nw_dst=10.1.0.0/16");
    EXPECT_EQ(msg("ip,nw_src=10.0.0.300,actions=drop"), "nw_src=10.0.0.300: invalid IPv4 address");
    EXPECT_EQ(msg("ip,nw_src=10.0.0.1/33,actions=drop"), "nw_src=10.0.0.1/33: invalid prefix length (0..32)");
    EXPECT_EQ(msg("ip,nw_src=10.0.0.1/255.0.0.256,actions=drop"), "nw_src=10.0.0.1/255.0.0.256: invalid IPv4 netmask");
}

TEST(OfpParseMatch, IpFields) {
    Match m = match("ip,nw_proto=47,nw_tos=184,nw_ecn=1,nw_ttl=64");
    EXPECT_EQ(m.key.nw_proto, 47);
    EXPECT_EQ(m.mask.nw_proto, 0xff);
    EXPECT_EQ(m.key.nw_tos, 185);
    EXPECT_EQ(m.mask.nw_tos, 0xff);
    EXPECT_EQ(m.key.nw_ttl, 64);
    EXPECT_EQ(canon("ip,nw_proto=47,nw_tos=184,nw_ecn=1,nw_ttl=64"), "ip,nw_proto=47,nw_tos=184,nw_ecn=1,nw_ttl=64");
    EXPECT_EQ(canon("ip,ip_dscp=46"), "ip,nw_tos=184");
    EXPECT_EQ(canon("ipv6,ip_ecn=3"), "ipv6,nw_ecn=3");
    EXPECT_EQ(match("ip,ip_dscp=46").mask.nw_tos, 0xfc);
    EXPECT_EQ(msg("ip,nw_tos=5,actions=drop"),
              "nw_tos=5: must be a multiple of 4 (the DSCP bits of the TOS byte; nw_ecn sets the low 2)");
    EXPECT_EQ(msg("ip,ip_dscp=64,actions=drop"), "ip_dscp=64: out of range (0..63)");
    EXPECT_EQ(msg("ip,nw_proto=256,actions=drop"), "nw_proto=256: out of range (0..255)");
    EXPECT_EQ(msg("ip,nw_ttl=1/1,actions=drop"), "nw_ttl=1/1: this field cannot be masked");
}

TEST(OfpParseMatch, Shorthands) {
    struct Case {
        const char* text;
        std::uint16_t dl;
        int proto;  // -1: none
    };
    const Case cases[] = {{"ip", 0x0800, -1},   {"ipv6", 0x86dd, -1}, {"arp", 0x0806, -1},  {"tcp", 0x0800, 6},
                          {"udp", 0x0800, 17},  {"sctp", 0x0800, 132}, {"icmp", 0x0800, 1}, {"icmp6", 0x86dd, 58},
                          {"tcp6", 0x86dd, 6},  {"udp6", 0x86dd, 17}, {"sctp6", 0x86dd, 132}};
    for (const auto& c : cases) {
        Match m = match(c.text);
        EXPECT_EQ(m.key.dl_type, c.dl) << c.text;
        EXPECT_EQ(m.mask.nw_proto, c.proto < 0 ? 0 : 0xff) << c.text;
        if (c.proto >= 0) {
            EXPECT_EQ(m.key.nw_proto, c.proto) << c.text;
        }
        EXPECT_EQ(canon(c.text), c.text);
    }
    EXPECT_EQ(canon("dl_type=0x0800,nw_proto=6"), "tcp");
    EXPECT_EQ(canon("tcp,nw_proto=6,ip"), "tcp");
    EXPECT_EQ(msg("tcp,nw_proto=17,actions=drop"), "'nw_proto=17' conflicts with 'tcp'");
    EXPECT_EQ(msg("ip,arp,actions=drop"), "'arp' conflicts with 'ip'");
    EXPECT_EQ(msg("ip=1,actions=drop"), "'ip' takes no value");
}

TEST(OfpParseMatch, Transport) {
    Match m = match("tcp,tp_src=1024/0xfc00,tp_dst=80");
    EXPECT_EQ(m.key.tp_src, 1024);
    EXPECT_EQ(m.mask.tp_src, 0xfc00);
    EXPECT_EQ(m.key.tp_dst, 80);
    EXPECT_EQ(m.mask.tp_dst, 0xffff);
    EXPECT_EQ(canon("tcp,tp_src=1024/0xfc00,tp_dst=80"), "tcp,tp_src=0x0400/0xfc00,tp_dst=80");
    EXPECT_EQ(canon("udp,udp_dst=53"), "udp,tp_dst=53");
    EXPECT_EQ(canon("tcp6,tcp_src=22"), "tcp6,tp_src=22");
    EXPECT_EQ(canon("sctp,sctp_dst=0x50"), "sctp,tp_dst=80");
    EXPECT_EQ(msg("tcp,tp_dst=70000,actions=drop"), "tp_dst=70000: out of range (0..65535)");
    EXPECT_EQ(msg("tcp,tp_dst=http,actions=drop"), "tp_dst=http: invalid number 'http'");
}

TEST(OfpParseMatch, Icmp) {
    Match m = match("icmp,icmp_type=8,icmp_code=0");
    EXPECT_EQ(m.key.tp_src, 8);
    EXPECT_EQ(m.mask.tp_src, 0xffff);
    EXPECT_EQ(m.mask.tp_dst, 0xffff);
    EXPECT_EQ(canon("icmp,icmp_type=8,icmp_code=0"), "icmp,icmp_type=8,icmp_code=0");
    EXPECT_EQ(canon("icmp6,icmpv6_type=135"), "icmp6,icmpv6_type=135");
    EXPECT_EQ(canon("icmp6,icmp_type=128"), "icmp6,icmpv6_type=128");
    EXPECT_EQ(msg("icmp,icmp_type=256,actions=drop"), "icmp_type=256: out of range (0..255)");
}

TEST(OfpParseMatch, Arp) {
    Match m = match("arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/8,arp_sha=02:00:00:00:00:01,"
                    "arp_tha=00:00:00:00:00:00");
    EXPECT_EQ(m.key.nw_proto, 1);
    EXPECT_EQ(m.key.nw_src, ip("10.0.0.1"));
    EXPECT_EQ(m.mask.nw_dst, ip("255.0.0.0"));
    EXPECT_EQ(m.key.arp_sha[5], 1);
    EXPECT_EQ(m.mask.arp_tha[0], 0xff);
    EXPECT_EQ(canon("arp,arp_op=2,arp_spa=10.0.0.1,arp_sha=02:00:00:00:00:01"),
              "arp,arp_spa=10.0.0.1,arp_op=2,arp_sha=02:00:00:00:00:01");
    EXPECT_EQ(canon("arp,nw_src=10.0.0.1,nw_proto=1"), "arp,arp_spa=10.0.0.1,arp_op=1");
    EXPECT_EQ(msg("arp,arp_op=256,actions=drop"), "arp_op=256: out of range (0..255)");
}

TEST(OfpParseMatch, Ipv6) {
    Match m = match("ipv6,ipv6_src=2001:db8::1/32,ipv6_dst=fe80::1,ipv6_label=0x12345");
    EXPECT_EQ(m.key.ipv6_src[2], 0x0d);
    EXPECT_EQ(m.key.ipv6_src[15], 0);
    EXPECT_EQ(m.mask.ipv6_src[3], 0xff);
    EXPECT_EQ(m.mask.ipv6_src[4], 0);
    EXPECT_EQ(m.key.ipv6_dst[15], 1);
    EXPECT_EQ(m.key.ipv6_label, 0x12345u);
    EXPECT_EQ(m.mask.ipv6_label, 0xfffffu);
    EXPECT_EQ(canon("ipv6,ipv6_src=2001:db8::1/32,ipv6_dst=fe80::1,ipv6_label=0x12345"),
              "ipv6,ipv6_src=2001:db8::/32,ipv6_dst=fe80::1,ipv6_label=0x12345");
    EXPECT_EQ(canon("ipv6,ipv6_src=2001:db8:5::1/ffff:0:ffff::"), "ipv6,ipv6_src=2001:0:5::/ffff:0:ffff::");
    EXPECT_EQ(canon("ipv6,ipv6_src=::1/127"), "ipv6,ipv6_src=::/127");
    EXPECT_EQ(canon("ipv6,ipv6_label=1/0xf"), "ipv6,ipv6_label=0x00001/0x0000f");
    EXPECT_EQ(msg("ipv6,ipv6_src=2001:db8:::1,actions=drop"), "ipv6_src=2001:db8:::1: invalid IPv6 address");
    EXPECT_EQ(msg("ipv6,ipv6_src=::1/129,actions=drop"), "ipv6_src=::1/129: invalid prefix length (0..128)");
    EXPECT_EQ(msg("ipv6,ipv6_label=0x100000,actions=drop"), "ipv6_label=0x100000: out of range (0..1048575)");
}

TEST(OfpParseMatch, TunnelAndMetadata) {
    Match m = match("tun_id=0x5000,metadata=0x10/0xf0");
    EXPECT_EQ(m.key.tun_id, 0x5000u);
    EXPECT_EQ(m.mask.tun_id, UINT64_MAX);
    EXPECT_EQ(m.metadata, 0x10u);
    EXPECT_EQ(m.metadata_mask, 0xf0u);
    EXPECT_EQ(canon("tun_id=0x5000,metadata=0x10/0xf0"), "tun_id=0x5000,metadata=0x10/0xf0");
    EXPECT_EQ(canon("tunnel_id=5/0xff,metadata=18446744073709551615"), "tun_id=0x5/0xff,metadata=0xffffffffffffffff");
    EXPECT_EQ(msg("tun_id=0x10000000000000000,actions=drop"), "tun_id=0x10000000000000000: invalid number '0x10000000000000000'");
}

TEST(OfpParseMatch, MatchOnlyApi) {
    EXPECT_EQ(match(""), Match());
    auto r = parseMatch("priority=5,ip", kResolver);
    ASSERT_TRUE(std::holds_alternative<ParseError>(r));
    EXPECT_EQ(std::get<ParseError>(r).message, "'priority' is not a match field");
    r = parseMatch("ip actions=drop", kResolver);
    EXPECT_EQ(std::get<ParseError>(r).message, "actions are not allowed in a match");
    r = parseMatch("nw_src=1.2.3.4", kResolver);
    EXPECT_EQ(std::get<ParseError>(r).message, "nw_src requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')");
}

TEST(OfpParseMatch, Ports) {
    EXPECT_EQ(msg("in_port=p99,actions=drop"), "in_port=p99: unknown port 'p99'");
    EXPECT_EQ(msg("in_port=0,actions=drop"), "in_port=0: invalid port number '0' (1..65279 or a reserved port)");
    EXPECT_EQ(msg("in_port=65280,actions=drop"), "in_port=65280: invalid port number '65280' (1..65279 or a reserved port)");
    EXPECT_EQ(msg("in_port=NORMAL,actions=drop"), "in_port=NORMAL: in_port must be a port or LOCAL");
    auto r = parseFlowMod("in_port=p1,actions=drop", Cmd::kAdd, PortResolver());
    EXPECT_EQ(std::get<ParseError>(r).message, "in_port=p1: unknown port 'p1'");
    EXPECT_EQ(match("in_port=65279").key.in_port, 65279u);
}

// ---- prerequisites ---------------------------------------------------------------------------

TEST(OfpParsePrereq, EveryField) {
    const std::pair<const char*, const char*> cases[] = {
        {"nw_src=10.0.0.1", "nw_src requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')"},
        {"ipv6,nw_dst=10.0.0.1", "nw_dst requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')"},
        {"arp,ip_src=10.0.0.1", "ip_src requires dl_type=0x0800 (add 'ip')"},
        {"ip,arp_spa=10.0.0.1", "arp_spa requires dl_type=0x0806 (add 'arp')"},
        {"arp_tpa=10.0.0.1", "arp_tpa requires dl_type=0x0806 (add 'arp')"},
        {"arp_sha=02:00:00:00:00:01", "arp_sha requires dl_type=0x0806 (add 'arp')"},
        {"ip,arp_tha=02:00:00:00:00:01", "arp_tha requires dl_type=0x0806 (add 'arp')"},
        {"arp_op=1", "arp_op requires dl_type=0x0806 (add 'arp')"},
        {"nw_proto=6", "nw_proto requires dl_type=0x0800, 0x86dd or 0x0806 (add 'ip', 'ipv6' or 'arp')"},
        {"nw_tos=4", "nw_tos requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6')"},
        {"arp,ip_dscp=4", "ip_dscp requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6')"},
        {"nw_ecn=1", "nw_ecn requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6')"},
        {"nw_ttl=1", "nw_ttl requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6')"},
        {"ip,ipv6_src=::1", "ipv6_src requires dl_type=0x86dd (add 'ipv6')"},
        {"ipv6_dst=::1", "ipv6_dst requires dl_type=0x86dd (add 'ipv6')"},
        {"ipv6_label=1", "ipv6_label requires dl_type=0x86dd (add 'ipv6')"},
        {"tp_dst=80", "tp_dst requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')"},
        {"ip,tp_src=80", "tp_src requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')"},
        {"arp,nw_proto=6,tp_src=80", "tp_src requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp')"},
        {"udp,tcp_dst=80", "tcp_dst requires nw_proto=6 (add 'tcp' or 'tcp6')"},
        {"tcp,udp_src=53", "udp_src requires nw_proto=17 (add 'udp' or 'udp6')"},
        {"tcp,sctp_dst=1", "sctp_dst requires nw_proto=132 (add 'sctp' or 'sctp6')"},
        {"ip,icmp_type=8", "icmp_type requires nw_proto=1 (add 'icmp', or 'icmp6' for ICMPv6)"},
        {"ipv6,nw_proto=1,icmp_code=0", "icmp_code requires nw_proto=1 (add 'icmp', or 'icmp6' for ICMPv6)"},
        {"icmp,icmpv6_type=128", "icmpv6_type requires dl_type=0x86dd and nw_proto=58 (add 'icmp6')"},
        {"icmpv6_code=0", "icmpv6_code requires dl_type=0x86dd and nw_proto=58 (add 'icmp6')"},
    };
    for (const auto& [text, expected] : cases) {
        EXPECT_EQ(msg(std::string(text) + ",actions=drop"), expected) << text;
        auto r = parseMatch(text, kResolver);
        ASSERT_TRUE(std::holds_alternative<ParseError>(r)) << text;
        EXPECT_EQ(std::get<ParseError>(r).message, expected);
    }
}

TEST(OfpParsePrereq, OrderDoesNotMatter) {
    EXPECT_EQ(canon("nw_src=10.0.0.1,ip"), "ip,nw_src=10.0.0.1");
    EXPECT_EQ(canon("tp_dst=80,nw_proto=6,dl_type=0x0800"), "tcp,tp_dst=80");
}

// ---- errors: offsets and tokens --------------------------------------------------------------

TEST(OfpParseErrors, OffsetAndToken) {
    ParseError e = error("priority=10,ip,nw_srcc=10.0.0.1,actions=drop");
    EXPECT_EQ(e.message, "unknown field 'nw_srcc'");
    EXPECT_EQ(e.offset, 15u);
    EXPECT_EQ(e.token, "nw_srcc");
    e = error("ip,nw_src=10.0.0.300 actions=drop");
    EXPECT_EQ(e.message, "nw_src=10.0.0.300: invalid IPv4 address");
    EXPECT_EQ(e.offset, 10u);
    EXPECT_EQ(e.token, "10.0.0.300");
    e = error("ip,nw_dst=10.0.0.1,actions=output:1,outptu:2");
    EXPECT_EQ(e.message, "unknown action 'outptu:2'");
    EXPECT_EQ(e.offset, 36u);
    EXPECT_EQ(e.token, "outptu:2");
    e = error("in_port=1, nw_src=10.0.0.1 actions=drop");
    EXPECT_EQ(e.message, "nw_src requires dl_type=0x0800 or 0x0806 (add 'ip' or 'arp')");
    EXPECT_EQ(e.offset, 11u);
    EXPECT_EQ(e.token, "nw_src=10.0.0.1");
    e = error("ip actions= output:p1 , mod_nw_tos:3");
    EXPECT_EQ(e.message, "mod_nw_tos:3: TOS must be a multiple of 4 (only the DSCP bits are written)");
    EXPECT_EQ(e.offset, 24u);
    EXPECT_EQ(e.token, "mod_nw_tos:3");
    e = error("ip");
    EXPECT_EQ(e.offset, 2u);
    EXPECT_EQ(e.line, 0u);
}

// ---- actions ---------------------------------------------------------------------------------

ActionList actions(std::string_view acts, std::string_view match = "", Cmd cmd = Cmd::kAdd) {
    return parse(std::string(match) + " actions=" + std::string(acts), cmd).actions;
}

std::string canonActions(std::string_view acts, std::string_view match = "") {
    return formatActions(actions(acts, match), kNamer);
}

std::string actionError(std::string_view acts, std::string_view match = "") {
    return msg(std::string(match) + " actions=" + std::string(acts));
}

TEST(OfpParseActions, Output) {
    ActionList a = actions("output:p2,3,uplink,output:IN_PORT,output:LOCAL,output:65534");
    ASSERT_EQ(a.size(), 6u);
    EXPECT_EQ(a[0].type, ActionType::kOutput);
    EXPECT_EQ(a[0].port, 2u);
    EXPECT_EQ(a[1].port, 3u);
    EXPECT_EQ(a[2].port, 10u);
    EXPECT_EQ(a[3].port, kPortInPort);
    EXPECT_EQ(a[4].port, kPortLocal);
    EXPECT_EQ(a[5], a[4]);
    EXPECT_EQ(canonActions("output:p2,3,uplink,output:IN_PORT,output:LOCAL,25"),
              "output:p2,output:p3,output:uplink,output:IN_PORT,output:LOCAL,output:25");
    EXPECT_EQ(canonActions("output:NORMAL,output:flood,output:all,output:controller"), "NORMAL,FLOOD,ALL,CONTROLLER:65535");
    EXPECT_EQ(actionError("output:NONE"), "output:NONE: NONE is not an output port");
    EXPECT_EQ(actionError("output:p99"), "output:p99: unknown port 'p99'");
    EXPECT_EQ(actionError("p99"), "unknown action or port 'p99'");
    EXPECT_EQ(actionError("70000"), "70000: invalid port number '70000' (1..65279 or a reserved port)");
    EXPECT_EQ(actionError("output"), "output: expected output:PORT");
}

TEST(OfpParseActions, ReservedAndController) {
    ActionList a = actions("NORMAL,normal,FLOOD,ALL,IN_PORT,LOCAL,CONTROLLER,controller:128,controller(max_len=64)");
    const ActionType types[] = {ActionType::kNormal, ActionType::kNormal, ActionType::kFlood,
                                ActionType::kAll,    ActionType::kInPort, ActionType::kLocal,
                                ActionType::kController, ActionType::kController, ActionType::kController};
    ASSERT_EQ(a.size(), std::size(types));
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].type, types[i]) << i;
    EXPECT_EQ(a[6].max_len, 0xffff);
    EXPECT_EQ(a[7].max_len, 128);
    EXPECT_EQ(a[8].max_len, 64);
    EXPECT_EQ(canonActions("normal,in_port,local,controller:128"), "NORMAL,IN_PORT,LOCAL,CONTROLLER:128");
    EXPECT_EQ(actionError("controller(reason=no_match)"),
              "controller(reason=no_match): supported option: controller(max_len=N)");
    EXPECT_EQ(actionError("NORMAL:1"), "NORMAL:1: 'NORMAL' takes no argument");
}

TEST(OfpParseActions, Drop) {
    EXPECT_EQ(actions("drop"), ActionList{Action{ActionType::kDrop}});
    EXPECT_EQ(actions(""), ActionList{Action{ActionType::kDrop}});
    EXPECT_EQ(canonActions("  "), "drop");
    EXPECT_EQ(actionError("drop,output:1"), "'drop' must be the only action");
    EXPECT_EQ(actionError("output:1,,output:2"), "empty action in list");
    EXPECT_EQ(actionError("output:1 priority=5"),
              "unexpected space in action 'output:1 priority=5' (actions= must be the last field of a flow)");
    EXPECT_EQ(formatActions({}, kNamer), "drop");
}

TEST(OfpParseActions, Vlan) {
    ActionList a = actions("mod_vlan_vid:100,mod_vlan_pcp:3,strip_vlan,pop_vlan,push_vlan:0x8100,push_vlan:0x88a8");
    ASSERT_EQ(a.size(), 6u);
    EXPECT_EQ(a[0].type, ActionType::kSetVlanVid);
    EXPECT_EQ(a[0].value, 100u);
    EXPECT_EQ(a[1].type, ActionType::kSetVlanPcp);
    EXPECT_EQ(a[1].value, 3u);
    EXPECT_EQ(a[2].type, ActionType::kStripVlan);
    EXPECT_EQ(a[3], a[2]);
    EXPECT_EQ(a[4].type, ActionType::kPushVlan);
    EXPECT_EQ(a[4].value, 0x8100u);
    EXPECT_EQ(a[5].value, 0x88a8u);
    EXPECT_EQ(canonActions("set_vlan_vid:5,pop_vlan,push_vlan:0x8100"), "mod_vlan_vid:5,strip_vlan,push_vlan:0x8100");
    EXPECT_EQ(actionError("mod_vlan_vid:4096"), "mod_vlan_vid:4096: out of range (0..4095)");
    EXPECT_EQ(actionError("mod_vlan_pcp:8"), "mod_vlan_pcp:8: out of range (0..7)");
    EXPECT_EQ(actionError("push_vlan:0x0800"), "push_vlan:0x0800: ethertype must be 0x8100 or 0x88a8");
    EXPECT_EQ(actionError("strip_vlan:1"), "strip_vlan:1: 'strip_vlan' takes no argument");
}

TEST(OfpParseActions, SetFieldVlanNeedsTag) {
    EXPECT_EQ(actionError("set_field:5->vlan_vid"),
              "set_field:5->vlan_vid: needs a VLAN tag (match dl_vlan=N, or push_vlan:0x8100 first)");
    EXPECT_EQ(actionError("strip_vlan,set_field:1->vlan_pcp", "dl_vlan=5"),
              "set_field:1->vlan_pcp: needs a VLAN tag (match dl_vlan=N, or push_vlan:0x8100 first)");
    ActionList a = actions("push_vlan:0x8100,set_field:4196->vlan_vid,set_field:2->vlan_pcp");
    EXPECT_EQ(a[1].type, ActionType::kSetField);
    EXPECT_EQ(a[1].field, Field::kVlanVid);
    EXPECT_EQ(a[1].value, 100u);
    EXPECT_EQ(a[2].field, Field::kVlanPcp);
    EXPECT_EQ(canonActions("set_field:7->vlan_vid", "dl_vlan=5"), "set_field:7->vlan_vid");
}

TEST(OfpParseActions, L2L3L4Mods) {
    ActionList a = actions("mod_dl_src:02:00:00:00:00:01,mod_dl_dst:02:00:00:00:00:02,mod_nw_src:10.0.0.1,"
                           "mod_nw_dst:10.0.0.2,mod_nw_tos:184,mod_nw_ttl:9,dec_ttl,mod_tp_src:1000,mod_tp_dst:80",
                           "tcp");
    ASSERT_EQ(a.size(), 9u);
    EXPECT_EQ(a[0].field, Field::kEthSrc);
    EXPECT_EQ(a[0].mac[5], 1);
    EXPECT_EQ(a[0].value, 0u);
    EXPECT_EQ(a[1].field, Field::kEthDst);
    EXPECT_EQ(a[2].field, Field::kIpv4Src);
    EXPECT_EQ(a[2].value, 0x0a000001u);  // host order
    EXPECT_EQ(a[3].field, Field::kIpv4Dst);
    EXPECT_EQ(a[4].field, Field::kIpTos);
    EXPECT_EQ(a[4].value, 184u);
    EXPECT_EQ(a[5].field, Field::kIpTtl);
    EXPECT_EQ(a[6].type, ActionType::kDecTtl);
    EXPECT_EQ(a[7].field, Field::kTpSrc);
    EXPECT_EQ(a[8].field, Field::kTpDst);
    EXPECT_EQ(a[8].value, 80u);
    EXPECT_EQ(formatActions(a, kNamer),
              "mod_dl_src:02:00:00:00:00:01,mod_dl_dst:02:00:00:00:00:02,mod_nw_src:10.0.0.1,mod_nw_dst:10.0.0.2,"
              "mod_nw_tos:184,mod_nw_ttl:9,dec_ttl,mod_tp_src:1000,mod_tp_dst:80");
    EXPECT_EQ(actionError("mod_dl_src:02:00:00:00:00"), "mod_dl_src:02:00:00:00:00: invalid Ethernet address");
    EXPECT_EQ(actionError("mod_nw_src:1.2.3.4.5", "ip"), "mod_nw_src:1.2.3.4.5: invalid IPv4 address");
    EXPECT_EQ(actionError("mod_tp_dst:65536", "udp"), "mod_tp_dst:65536: out of range (0..65535)");
    EXPECT_EQ(canonActions("dec_ttl"), "dec_ttl");
}

TEST(OfpParseActions, ModPrerequisites) {
    EXPECT_EQ(actionError("mod_nw_src:10.0.0.1"), "mod_nw_src requires dl_type=0x0800 (add 'ip') in the match");
    EXPECT_EQ(actionError("mod_nw_dst:10.0.0.1", "ipv6"), "mod_nw_dst requires dl_type=0x0800 (add 'ip') in the match");
    EXPECT_EQ(actionError("mod_nw_tos:4", "arp"),
              "mod_nw_tos requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6') in the match");
    EXPECT_EQ(actionError("mod_nw_ttl:4"), "mod_nw_ttl requires dl_type=0x0800 or 0x86dd (add 'ip' or 'ipv6') in the match");
    EXPECT_EQ(actionError("mod_tp_src:1", "ip"),
              "mod_tp_src requires nw_proto=6, 17 or 132 (add 'tcp', 'udp' or 'sctp') in the match");
    EXPECT_EQ(actionError("set_field:1->udp_dst", "tcp"),
              "set_field:..->udp_dst requires nw_proto=17 (add 'udp' or 'udp6') in the match");
    EXPECT_EQ(actionError("set_field:10.0.0.1->ip_dst", "arp"),
              "set_field:..->ip_dst requires dl_type=0x0800 (add 'ip') in the match");
    EXPECT_EQ(canonActions("mod_nw_tos:8", "ipv6"), "mod_nw_tos:8");
}

TEST(OfpParseActions, SetField) {
    const std::pair<const char*, const char*> cases[] = {
        {"set_field:02:00:00:00:00:09->eth_src", "mod_dl_src:02:00:00:00:00:09"},
        {"set_field:02:00:00:00:00:09->eth_dst", "mod_dl_dst:02:00:00:00:00:09"},
        {"set_field:10.1.2.3->ip_src", "mod_nw_src:10.1.2.3"},
        {"set_field:10.1.2.3->nw_dst", "mod_nw_dst:10.1.2.3"},
        {"set_field:46->ip_dscp", "mod_nw_tos:184"},
        {"set_field:8->nw_tos", "mod_nw_tos:8"},
        {"set_field:3->nw_ttl", "mod_nw_ttl:3"},
        {"set_field:80->tcp_dst", "mod_tp_dst:80"},
        {"set_field:81->tp_src", "mod_tp_src:81"},
        {"set_field:0x1234->tun_id", "set_tunnel:0x1234"},
        {"set_field:5->metadata", "set_field:0x5->metadata"},
        {"set_tunnel:5000", "set_tunnel:0x1388"},
        {"set_tunnel64:0x100000000", "set_tunnel:0x100000000"},
    };
    for (const auto& [in, out] : cases) EXPECT_EQ(canonActions(in, "tcp"), out) << in;
    ActionList a = actions("set_field:0x1234->tun_id,set_field:5->metadata");
    EXPECT_EQ(a[0].field, Field::kTunId);
    EXPECT_EQ(a[0].value, 0x1234u);
    EXPECT_EQ(a[1].field, Field::kMetadata);
    EXPECT_EQ(actionError("set_field:1->ipv6_label", "ipv6"), "set_field:1->ipv6_label: unknown or unsupported field 'ipv6_label'");
    EXPECT_EQ(actionError("set_field:1/1->metadata"), "set_field:1/1->metadata: a masked set_field is not supported");
    EXPECT_EQ(actionError("set_field:1"), "set_field:1: expected set_field:VALUE->FIELD");
    EXPECT_EQ(actionError("set_field:1->nw_tos", "ip"), "set_field:1->nw_tos: TOS must be a multiple of 4 (only the DSCP bits are written)");
}

TEST(OfpParseActions, ResubmitAndGoto) {
    ActionList a = actions("resubmit:p2,resubmit(,3),resubmit(p1),resubmit(IN_PORT,4),resubmit:LOCAL,goto_table:5", "",
                           Cmd::kAdd);
    ASSERT_EQ(a.size(), 6u);
    EXPECT_EQ(a[0].type, ActionType::kResubmit);
    EXPECT_EQ(a[0].port, 2u);
    EXPECT_EQ(a[0].table, kTableAll);
    EXPECT_EQ(a[1].port, kPortInPort);
    EXPECT_EQ(a[1].table, 3);
    EXPECT_EQ(a[2].port, 1u);
    EXPECT_EQ(a[2].table, kTableAll);
    EXPECT_EQ(a[3].port, kPortInPort);
    EXPECT_EQ(a[3].table, 4);
    EXPECT_EQ(a[4].port, kPortLocal);
    EXPECT_EQ(a[5].type, ActionType::kGotoTable);
    EXPECT_EQ(a[5].table, 5);
    EXPECT_EQ(formatActions(a, kNamer),
              "resubmit:p2,resubmit(,3),resubmit:p1,resubmit(,4),resubmit:LOCAL,goto_table:5");
    EXPECT_EQ(actionError("resubmit(,)"), "resubmit(,): at least one of PORT and TABLE must be given");
    EXPECT_EQ(actionError("resubmit(1,2,3)"), "resubmit(1,2,3): expected resubmit([PORT],[TABLE])");
    EXPECT_EQ(actionError("resubmit:NORMAL"), "resubmit:NORMAL: resubmit port must be a port, IN_PORT or LOCAL");
    EXPECT_EQ(actionError("resubmit(,254)"), "resubmit(,254): out of range (0..253)");
    EXPECT_EQ(actionError("resubmit(1,2"), "missing ')' in actions");
    EXPECT_EQ(actionError("goto_table:2,output:1"), "'goto_table:2' must be the last action (goto_table is an instruction)");
    EXPECT_EQ(msg("table=3,actions=goto_table:3"), "goto_table:3: must go to a later table than table 3");
    EXPECT_EQ(actionError("goto_table:254"), "goto_table:254: out of range (0..253)");
    EXPECT_EQ(parse("actions=goto_table:1", Cmd::kModify).actions[0].table, 1);  // table=all: no order check
}

// ---- flow files ------------------------------------------------------------------------------

TEST(OfpParseFile, SkipsCommentsAndBlankLines) {
    auto r = parseFlowFile("# flows\n\n  priority=1 actions=drop\n\t# indented comment\nip actions=NORMAL\r\n",
                           Cmd::kAdd, kResolver);
    ASSERT_TRUE(std::holds_alternative<std::vector<FlowMod>>(r));
    const auto& flows = std::get<std::vector<FlowMod>>(r);
    ASSERT_EQ(flows.size(), 2u);
    EXPECT_EQ(flows[0].priority, 1);
    EXPECT_EQ(flows[1].actions[0].type, ActionType::kNormal);
    auto empty = parseFlowFile("", Cmd::kAdd, kResolver);
    EXPECT_TRUE(std::get<std::vector<FlowMod>>(empty).empty());
}

TEST(OfpParseFile, BadLineFailsEverything) {
    auto r = parseFlowFile("ip actions=drop\n# c\nip,nw_srcc=1 actions=drop\nip actions=drop\n", Cmd::kAdd, kResolver);
    ASSERT_TRUE(std::holds_alternative<ParseError>(r));
    const ParseError& e = std::get<ParseError>(r);
    EXPECT_EQ(e.message, "line 3: unknown field 'nw_srcc'");
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.offset, 3u);
    EXPECT_EQ(e.token, "nw_srcc");
    const std::vector<std::string> lines = {"# header", "", "tcp actions=output:p1", "tcp,tp_dst=x actions=drop"};
    auto l = parseFlowLines(lines, Cmd::kAdd, kResolver);
    EXPECT_EQ(std::get<ParseError>(l).message, "line 4: tp_dst=x: invalid number 'x'");
    EXPECT_EQ(std::get<ParseError>(l).line, 4u);
}

// ---- printing and round trips ----------------------------------------------------------------

TEST(OfpPrint, FlowMods) {
    EXPECT_EQ(canonFlow("table=1,priority=100,ip,nw_dst=10.1.0.0/16,actions=mod_dl_src:02:00:00:00:00:01,output:p2"),
              "table=1, priority=100,ip,nw_dst=10.1.0.0/16 actions=mod_dl_src:02:00:00:00:00:01,output:p2");
    EXPECT_EQ(canonFlow("actions=drop"), "actions=drop");
    EXPECT_EQ(canonFlow("priority=32768,actions=NORMAL"), "actions=NORMAL");
    EXPECT_EQ(canonFlow("priority=0,actions=NORMAL"), "priority=0 actions=NORMAL");
    EXPECT_EQ(canonFlow("send_flow_rem,cookie=0x5,hard_timeout=9,idle_timeout=3,tcp,actions=drop"),
              "cookie=0x5, idle_timeout=3, hard_timeout=9, send_flow_rem tcp actions=drop");
    EXPECT_EQ(canonFlow("", Cmd::kDelete), "");
    EXPECT_EQ(canonFlow("table=0", Cmd::kDelete), "table=0");
    EXPECT_EQ(canonFlow("out_port=p3,cookie=1/3,tcp", Cmd::kDeleteStrict), "cookie=0x1/0x3, out_port=p3, tcp");
    EXPECT_EQ(canonFlow("cookie=7,actions=drop", Cmd::kModify), "cookie=0x7, actions=drop");
}

TEST(OfpPrint, Ports) {
    EXPECT_EQ(formatPort(kPortLocal, kNamer), "LOCAL");
    EXPECT_EQ(formatPort(3, kNamer), "p3");
    EXPECT_EQ(formatPort(300, kNamer), "300");
    EXPECT_EQ(formatPort(3, PortNamer()), "3");
    EXPECT_EQ(formatPort(4, [](std::uint32_t) { return std::string("42"); }), "4");
    EXPECT_EQ(formatPort(4, [](std::uint32_t) { return std::string("local"); }), "4");
    EXPECT_EQ(formatPort(4, [](std::uint32_t) { return std::string("a,b"); }), "4");
}

// Hand-written ovs-ofctl lines: parse -> print -> parse gives the same FlowMod, and printing
// is stable.
TEST(OfpPrintRoundTrip, HandWritten) {
    const char* lines[] = {
        "priority=0 actions=NORMAL",
        "table=0,priority=100,in_port=1,dl_type=0x0800,nw_dst=10.0.0.1,actions=output:2",
        "priority=200,tcp,nw_src=10.0.0.0/24,tp_dst=80,actions=mod_dl_dst:00:11:22:33:44:55,output:p3",
        "arp,arp_tpa=192.168.0.1,arp_op=1 actions=LOCAL",
        "in_port=p1,dl_vlan=100,actions=strip_vlan,output:p2",
        "in_port=p2,dl_vlan=0xffff actions=mod_vlan_vid:100,output:p1",
        "dl_vlan_pcp=7,actions=FLOOD",
        "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop",
        "ipv6,ipv6_dst=2001:db8::/64,actions=controller:128",
        "icmp6,icmpv6_type=135,actions=CONTROLLER",
        "tun_id=0x5000,actions=resubmit(,1)",
        "table=1,metadata=0x1/0x1,actions=set_field:0x2->metadata,goto_table:2",
        "udp,tp_src=0x0400/0xfc00,actions=dec_ttl,mod_nw_ttl:5,output:uplink",
        "ip,nw_tos=184,nw_ecn=2,actions=mod_nw_tos:0,IN_PORT",
        "hard_timeout=60,idle_timeout=10,send_flow_rem,cookie=0xfeed,ip actions=ALL",
        "sctp6,tp_dst=9,actions=set_tunnel:7,output:LOCAL",
        "dl_type=0x88cc,actions=push_vlan:0x88a8,set_field:5->vlan_vid,output:p4",
        "ip,nw_src=10.0.0.1/255.0.255.0,actions=mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8,output:IN_PORT",
    };
    for (const char* line : lines) {
        FlowMod a = parse(line);
        const std::string text = formatFlowMod(a, kNamer);
        FlowMod b = parse(text);
        EXPECT_EQ(a, b) << line << " -> " << text;
        EXPECT_EQ(formatFlowMod(b, kNamer), text);
    }
}

// ---- random round trip -----------------------------------------------------------------------

// Generates FlowMods in the parser's canonical form (normalised masks, prerequisites met,
// members unused by an action at their defaults).
class FlowModGenerator {
public:
    explicit FlowModGenerator(std::uint32_t seed) : rng_(seed) {}

    FlowMod next() {
        FlowMod fm;
        fm.command = static_cast<Cmd>(pick(5));
        const bool add = fm.command == Cmd::kAdd;
        const bool del = fm.command == Cmd::kDelete || fm.command == Cmd::kDeleteStrict;
        fm.table = add || coin() ? static_cast<std::uint8_t>(pick(kMaxTable + 1)) : kTableAll;
        fm.priority = coin() ? kDefaultPriority : static_cast<std::uint16_t>(pick(65536));
        if (coin()) {
            fm.cookie = u64();
            if (!add && (del || coin())) fm.cookie_mask = u64() | 1;
        }
        if (!del) {
            if (coin()) fm.idle_timeout = static_cast<std::uint16_t>(pick(65536));
            if (coin()) fm.hard_timeout = static_cast<std::uint16_t>(pick(65536));
            fm.send_flow_rem = coin();
        } else if (coin()) {
            fm.out_port = port();
        }
        fm.match = match();
        if (!del) fm.actions = actionList(fm.match, fm.table);
        return fm;
    }

private:
    std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
    bool coin() { return pick(2) == 0; }
    std::uint64_t u64() { return std::uniform_int_distribution<std::uint64_t>()(rng_); }
    std::uint8_t byte() { return static_cast<std::uint8_t>(pick(256)); }
    std::uint32_t port() {
        switch (pick(4)) {
            case 0: return static_cast<std::uint32_t>(1 + pick(20));
            case 1: return kPortLocal;
            default: return static_cast<std::uint32_t>(1 + pick(kPortMax - 1));
        }
    }
    // value & mask over n bytes: full, random, or (1 in 4) absent.
    void bytes(std::uint8_t* key, std::uint8_t* mask, std::size_t n) {
        const auto mode = pick(4);
        for (std::size_t i = 0; i < n; ++i) {
            key[i] = byte();
            mask[i] = mode == 0 ? 0 : mode == 1 ? byte() : 0xff;
        }
    }
    void l3(Match& m, std::uint16_t dl) {
        auto& k = m.key;
        auto& mk = m.mask;
        if (dl == 0x0800 || dl == 0x0806) {
            bytes(reinterpret_cast<std::uint8_t*>(&k.nw_src), reinterpret_cast<std::uint8_t*>(&mk.nw_src), 4);
            bytes(reinterpret_cast<std::uint8_t*>(&k.nw_dst), reinterpret_cast<std::uint8_t*>(&mk.nw_dst), 4);
        }
        if (dl == 0x0806) {
            bytes(k.arp_sha, mk.arp_sha, 6);
            bytes(k.arp_tha, mk.arp_tha, 6);
        }
        if (dl == 0x86dd) {
            bytes(k.ipv6_src, mk.ipv6_src, 16);
            bytes(k.ipv6_dst, mk.ipv6_dst, 16);
            if (coin()) k.ipv6_label = static_cast<std::uint32_t>(pick(0x100000)), mk.ipv6_label = coin() ? 0xfffff : static_cast<std::uint32_t>(pick(0x100000));
        }
        if (dl != 0x0806) {
            const std::uint8_t tosMasks[] = {0, 0xfc, 0x03, 0xff};
            mk.nw_tos = tosMasks[pick(4)];
            k.nw_tos = byte();
            if (coin()) k.nw_ttl = byte(), mk.nw_ttl = 0xff;
        }
    }
    void l4(Match& m, std::uint16_t dl, std::uint8_t proto) {
        auto& k = m.key;
        auto& mk = m.mask;
        const bool icmp = (dl == 0x0800 && proto == 1) || (dl == 0x86dd && proto == 58);
        if (icmp) {
            if (coin()) k.tp_src = byte(), mk.tp_src = 0xffff;
            if (coin()) k.tp_dst = byte(), mk.tp_dst = 0xffff;
        } else if (proto == 6 || proto == 17 || proto == 132) {
            k.tp_src = static_cast<std::uint16_t>(pick(65536));
            mk.tp_src = coin() ? 0xffff : static_cast<std::uint16_t>(pick(65536));
            k.tp_dst = static_cast<std::uint16_t>(pick(65536));
            mk.tp_dst = coin() ? 0 : 0xffff;
        }
    }
    void vlan(Match& m) {
        auto& k = m.key.vlan_tci;
        auto& mk = m.mask.vlan_tci;
        switch (pick(6)) {
            case 0: k = static_cast<std::uint16_t>(pick(4096) | 0x1000), mk = 0x1fff; break;
            case 1: k = static_cast<std::uint16_t>((pick(8) << 13) | 0x1000), mk = 0xf000; break;
            case 2: k = static_cast<std::uint16_t>(pick(65536) | 0x1000), mk = 0xffff; break;
            case 3: k = 0, mk = 0xffff; break;
            case 4: k = static_cast<std::uint16_t>(pick(65536)), mk = static_cast<std::uint16_t>(pick(65536)); break;
            default: break;
        }
    }
    Match match() {
        Match m;
        if (coin()) m.key.in_port = port(), m.mask.in_port = 0xffffffff;
        vlan(m);
        bytes(m.key.dl_src, m.mask.dl_src, 6);
        bytes(m.key.dl_dst, m.mask.dl_dst, 6);
        if (coin()) m.key.tun_id = u64(), m.mask.tun_id = coin() ? UINT64_MAX : u64();
        if (coin()) m.metadata = u64(), m.metadata_mask = coin() ? UINT64_MAX : u64();
        const std::uint16_t types[] = {0, 0x0800, 0x86dd, 0x0806, 0x88cc};
        const std::uint16_t dl = types[pick(5)];
        if (dl) m.key.dl_type = dl, m.mask.dl_type = 0xffff;
        if (dl == 0x0800 || dl == 0x86dd || dl == 0x0806) {
            const std::uint8_t protos[] = {1, 6, 17, 132, 58, 47};
            if (coin()) m.key.nw_proto = dl == 0x0806 ? byte() : protos[pick(6)], m.mask.nw_proto = 0xff;
            l3(m, dl);
            if (m.mask.nw_proto && dl != 0x0806) l4(m, dl, m.key.nw_proto);
        }
        dp::applyMask(m.key, m.mask, m.key);
        m.metadata &= m.metadata_mask;
        return m;
    }
    Action setField(Field f, std::uint64_t v) {
        Action a{ActionType::kSetField};
        a.field = f;
        a.value = v;
        return a;
    }
    Action randomAction(const Match& m, bool& tagged) {
        const auto dl = m.mask.dl_type ? m.key.dl_type : 0;
        const auto proto = m.mask.nw_proto ? m.key.nw_proto : 0;
        const bool ipAny = dl == 0x0800 || dl == 0x86dd;
        Action a;
        switch (pick(18)) {
            case 0: a.type = ActionType::kOutput, a.port = coin() ? port() : (coin() ? kPortInPort : kPortLocal); break;
            case 1: a.type = static_cast<ActionType>(1 + pick(5)); break;  // NORMAL..LOCAL
            case 2: a.type = ActionType::kController, a.max_len = static_cast<std::uint16_t>(pick(65536)); break;
            case 3: a.type = ActionType::kSetVlanVid, a.value = pick(4096), tagged = true; break;
            case 4: a.type = ActionType::kSetVlanPcp, a.value = pick(8), tagged = true; break;
            case 5: a.type = ActionType::kStripVlan, tagged = false; break;
            case 6: a.type = ActionType::kPushVlan, a.value = coin() ? 0x8100 : 0x88a8, tagged = true; break;
            case 7: {
                a = setField(coin() ? Field::kEthSrc : Field::kEthDst, 0);
                for (auto& b : a.mac) b = byte();
                break;
            }
            case 8: if (!tagged) return randomAction(m, tagged);
                    a = coin() ? setField(Field::kVlanVid, pick(4096)) : setField(Field::kVlanPcp, pick(8)); break;
            case 9: if (dl != 0x0800) return randomAction(m, tagged);
                    a = setField(coin() ? Field::kIpv4Src : Field::kIpv4Dst, u64() & 0xffffffff); break;
            case 10: if (!ipAny) return randomAction(m, tagged);
                     a = coin() ? setField(Field::kIpTos, pick(64) << 2) : setField(Field::kIpTtl, byte()); break;
            case 11: if (!ipAny || !(proto == 6 || proto == 17 || proto == 132)) return randomAction(m, tagged);
                     a = setField(coin() ? Field::kTpSrc : Field::kTpDst, pick(65536)); break;
            case 12: a = setField(coin() ? Field::kTunId : Field::kMetadata, u64()); break;
            case 13: a.type = ActionType::kDecTtl; break;
            case 14: case 15: {
                a.type = ActionType::kResubmit;
                const std::uint32_t ports[] = {kPortInPort, kPortLocal, static_cast<std::uint32_t>(1 + pick(kPortMax - 1))};
                a.port = ports[pick(3)];
                if (coin()) a.table = static_cast<std::uint8_t>(pick(kMaxTable + 1));
                break;
            }
            default: a.type = ActionType::kOutput, a.port = static_cast<std::uint32_t>(1 + pick(20)); break;
        }
        return a;
    }
    ActionList actionList(const Match& m, std::uint8_t table) {
        if (pick(8) == 0) return {Action{ActionType::kDrop}};
        bool tagged = (m.mask.vlan_tci & 0x1000) && (m.key.vlan_tci & 0x1000);
        ActionList out;
        for (std::uint64_t n = pick(6); n > 0; --n) out.push_back(randomAction(m, tagged));
        if (table < kMaxTable && coin()) {
            Action g{ActionType::kGotoTable};
            g.table = static_cast<std::uint8_t>(table + 1 + pick(kMaxTable - table));
            out.push_back(g);
        }
        if (out.empty()) out.push_back(Action{ActionType::kNormal});
        return out;
    }

    std::mt19937 rng_;
};

TEST(OfpPrintRoundTrip, RandomFlowMods) {
    FlowModGenerator gen(20240611);
    for (int i = 0; i < 5000; ++i) {
        const FlowMod fm = gen.next();
        const std::string text = formatFlowMod(fm, kNamer);
        auto r = parseFlowMod(text, fm.command, kResolver);
        if (auto* e = std::get_if<ParseError>(&r)) {
            ADD_FAILURE() << "#" << i << " '" << text << "': " << e->message;
            break;
        }
        const FlowMod& back = std::get<FlowMod>(r);
        if (!(back == fm)) {
            ADD_FAILURE() << "#" << i << " '" << text << "' reads back as '" << formatFlowMod(back, kNamer) << "'";
            break;
        }
        auto m = parseMatch(formatMatch(fm.match, kNamer), kResolver);
        ASSERT_TRUE(std::holds_alternative<Match>(m)) << text;
        EXPECT_EQ(std::get<Match>(m), fm.match) << text;
    }
}

}  // namespace
}  // namespace vs::ofproto
