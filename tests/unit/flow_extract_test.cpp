#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "datapath/flow_key.h"
#include "tests/unit/frame_builder.h"

using namespace vs::dp;
using namespace vs::test;

namespace {
struct Parsed {
    bool ok;
    FlowKey key;
    HeaderOffsets ofs;
    Coverage why;
};
Parsed parse(const Bytes& f) {
    Parsed p{};
    p.ok = extractFlow(f.data(), f.size(), 7, p.key, p.ofs, p.why);
    return p;
}
}  // namespace

TEST(FlowExtract, UdpOverIpv4) {
    auto f = eth(mac(2), mac(1), 0x0800, ipv4(17, 0x0a000001, 0x0a000002, udp(1234, 53)));
    auto p = parse(f);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.in_port, 7u);
    EXPECT_EQ(p.key.dl_type, 0x0800);
    EXPECT_EQ(p.key.dlSrc(), (MacAddr{{2, 0, 0, 0, 0, 1}}));
    EXPECT_EQ(p.key.dlDst(), (MacAddr{{2, 0, 0, 0, 0, 2}}));
    EXPECT_EQ(ntohl(p.key.nw_src), 0x0a000001u);
    EXPECT_EQ(ntohl(p.key.nw_dst), 0x0a000002u);
    EXPECT_EQ(p.key.nw_proto, 17);
    EXPECT_EQ(p.key.nw_ttl, 64);
    EXPECT_EQ(p.key.tp_src, 1234);
    EXPECT_EQ(p.key.tp_dst, 53);
    EXPECT_EQ(p.key.vlan_tci, 0);
    EXPECT_EQ(p.ofs.l3, 14);
    EXPECT_EQ(p.ofs.l4, 34);
}

TEST(FlowExtract, VlanTagSetsTciWithPresentBit) {
    auto f = eth(mac(2), mac(1), 0x0800, ipv4(6, 1, 2, Bytes(20, 0)), (5 << 13) | 10);
    auto p = parse(f);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.vlan_tci, (5 << 13) | 10 | kVlanCfi);
    EXPECT_EQ(p.key.vlanVid(), 10);
    EXPECT_EQ(p.key.dl_type, 0x0800);
    EXPECT_EQ(p.key.nw_proto, 6);
}

TEST(FlowExtract, RuntIsDropped) {
    Bytes f(10, 0xff);
    auto p = parse(f);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.why, Coverage::drop_runt);
    EXPECT_FALSE(parse(Bytes(13, 0)).ok);
    EXPECT_TRUE(parse(eth(mac(2), mac(1), 0x88cc)).ok);  // 14 bytes, unknown Ethertype: fine
}

TEST(FlowExtract, TruncatedVlanTag) {
    Bytes f = eth(mac(2), mac(1), 0x8100);
    f.push_back(0);  // only one byte of the TCI
    auto p = parse(f);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.why, Coverage::drop_truncated_vlan);
}

TEST(FlowExtract, TruncatedIpv4Header) {
    auto p = parse(eth(mac(2), mac(1), 0x0800, Bytes{0x45, 0, 0, 20, 0, 0}));
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.why, Coverage::drop_truncated_ip);
}

TEST(FlowExtract, IhlBeyondFrame) {
    Bytes ip = ipv4(17, 1, 2, {});
    ip[0] = 0x4f;  // IHL 15 = 60 bytes, only 20 present
    auto p = parse(eth(mac(2), mac(1), 0x0800, ip));
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.why, Coverage::drop_truncated_ip);
}

TEST(FlowExtract, BadIpVersionAndLength) {
    Bytes ip = ipv4(17, 1, 2, udp(1, 2));
    ip[0] = 0x55;
    EXPECT_EQ(parse(eth(mac(2), mac(1), 0x0800, ip)).why, Coverage::drop_bad_ip);
    Bytes ip2 = ipv4(17, 1, 2, udp(1, 2));
    ip2[2] = 0; ip2[3] = 10;  // total length shorter than the header
    EXPECT_EQ(parse(eth(mac(2), mac(1), 0x0800, ip2)).why, Coverage::drop_bad_ip);
    Bytes ip3 = ipv4(17, 1, 2, udp(1, 2));
    ip3[2] = 0x05; ip3[3] = 0xdc;  // claims 1500 bytes
    EXPECT_EQ(parse(eth(mac(2), mac(1), 0x0800, ip3)).why, Coverage::drop_truncated_ip);
}

TEST(FlowExtract, TruncatedTcpHeader) {
    auto p = parse(eth(mac(2), mac(1), 0x0800, ipv4(6, 1, 2, Bytes(10, 0))));
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.why, Coverage::drop_truncated_l4);
}

TEST(FlowExtract, EthernetPaddingAfterIpIsFine) {
    Bytes f = eth(mac(2), mac(1), 0x0800, ipv4(17, 1, 2, udp(5, 6, 0)));
    f.resize(60, 0);
    auto p = parse(f);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.tp_dst, 6);
}

TEST(FlowExtract, LaterFragmentHasNoPorts) {
    Bytes ip = ipv4(17, 1, 2, Bytes(4, 0));  // 4 bytes: too short for UDP, but a later fragment
    ip[6] = 0x00; ip[7] = 0x10;              // offset 16*8
    auto p = parse(eth(mac(2), mac(1), 0x0800, ip));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.nw_frag, kFragAny | kFragLater);
    EXPECT_EQ(p.key.tp_src, 0);
}

TEST(FlowExtract, Arp) {
    Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
    auto p = parse(eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac(1), 0x0806, arp));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.nw_proto, 1);
    EXPECT_EQ(ntohl(p.key.nw_src), 0x0a000001u);
    EXPECT_EQ(ntohl(p.key.nw_dst), 0x0a000002u);
    EXPECT_EQ(p.key.arp_sha[5], 1);
    arp.resize(20);
    auto t = parse(eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac(1), 0x0806, arp));
    EXPECT_FALSE(t.ok);
    EXPECT_EQ(t.why, Coverage::drop_truncated_arp);
}

TEST(FlowExtract, Ipv6WithHopByHopThenUdp) {
    Bytes ip6 = {0x60, 0, 0, 0, 0, 24, 0 /* hop-by-hop */, 64};
    ip6.resize(40, 0);
    ip6[23] = 1;   // src ::1
    ip6[39] = 2;   // dst ::2
    Bytes hbh = {17, 0, 0, 0, 0, 0, 0, 0};  // next header UDP, length 8
    ip6.insert(ip6.end(), hbh.begin(), hbh.end());
    Bytes u = udp(546, 547, 8);
    ip6.insert(ip6.end(), u.begin(), u.end());
    auto p = parse(eth(mac(2), mac(1), 0x86dd, ip6));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.key.nw_proto, 17);
    EXPECT_EQ(p.key.tp_src, 546);
    EXPECT_EQ(p.key.ipv6_src[15], 1);
    ip6.resize(45);  // cut inside the hop-by-hop header
    EXPECT_EQ(parse(eth(mac(2), mac(1), 0x86dd, ip6)).why, Coverage::drop_truncated_ip);
}

TEST(FlowExtract, MaskedHashMatchesHashOfMaskedKey) {
    auto p = parse(eth(mac(2), mac(1), 0x0800, ipv4(17, 1, 2, udp(1, 2))));
    FlowKey mask;
    mask.clear();
    mask.in_port = ~0u;
    std::memset(mask.dl_dst, 0xff, 6);
    FlowKey masked;
    applyMask(p.key, mask, masked);
    EXPECT_EQ(hashMasked(p.key, mask), hashKey(masked));
    EXPECT_EQ(masked.nw_src, 0u);
    EXPECT_EQ(masked.in_port, 7u);
}
