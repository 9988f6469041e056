// Validation of received virtio-net headers (datapath/vnet_hdr.h), the software segmentation's own
// bounds (datapath/gso.h), and the datapath dropping and counting what fails (issue #21).
#include <gtest/gtest.h>

#include "datapath/coverage.h"
#include "datapath/dummy_port.h"
#include "datapath/gso.h"
#include "datapath/vnet_hdr.h"
#include "ofproto/ofproto.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::dp;
using namespace vs::test;

namespace {

const Bytes kBcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

Bytes tcpHdr(std::uint8_t doff_words = 5) {
    Bytes t(doff_words >= 5 ? doff_words * 4u : 20u, 0);
    t[1] = 80; t[3] = 81;
    t[12] = static_cast<std::uint8_t>(doff_words << 4);
    t[13] = 0x18;
    return t;
}

Bytes payload(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 13);
    return b;
}

// Ethernet (tags: 0, 1 or 2) / IPv4 with `opt_words` of options / TCP / payload.
Bytes tcp4Frame(std::size_t n, int tags = 0, std::uint8_t opt_words = 0, std::uint8_t doff = 5) {
    Bytes l4 = tcpHdr(doff);
    Bytes p = payload(n);
    l4.insert(l4.end(), p.begin(), p.end());
    Bytes ip = ipv4(6, 0x0a000001, 0x0a000002, l4);
    if (opt_words) {
        ip.insert(ip.begin() + 20, opt_words * 4u, 0x01);  // NOP options
        ip[0] = static_cast<std::uint8_t>(0x40 | (5 + opt_words));
    }
    Bytes f = eth(kBcast, mac(1), 0x0800, ip);
    for (int t = 0; t < tags; ++t) f.insert(f.begin() + 12, {0x81, 0x00, 0x00, static_cast<std::uint8_t>(10 + t)});
    return f;
}

Bytes tcp6Frame(std::size_t n, bool ext_header = false) {
    Bytes ip(40, 0);
    ip[0] = 0x60;
    ip[6] = ext_header ? 60 : 6;  // destination options, or TCP
    ip[7] = 64;
    ip[23] = 1; ip[39] = 2;
    if (ext_header) ip.insert(ip.end(), {6, 0, 1, 4, 0, 0, 0, 0});  // next: TCP, 8 bytes, PadN
    Bytes l4 = tcpHdr();
    Bytes p = payload(n);
    l4.insert(l4.end(), p.begin(), p.end());
    ip.insert(ip.end(), l4.begin(), l4.end());
    return eth(kBcast, mac(1), 0x86dd, ip);
}

virtio_net_hdr tso(std::uint8_t type, std::uint16_t l4, std::uint16_t mss) {
    virtio_net_hdr h{};
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gso_type = type;
    h.gso_size = mss;
    h.csum_start = l4;
    h.csum_offset = 16;
    h.hdr_len = static_cast<std::uint16_t>(l4 + 20);
    return h;
}

Coverage check(const Bytes& f, const virtio_net_hdr& h, Packet* out = nullptr) {
    Packet p;
    load(p, f);
    p.vnet = h;
    Coverage c = checkVnetHdr(p);
    if (out) out->copyFrom(p);
    return c;
}

// The frame of issue #21: TCP GSO claimed at offset 192 with data offset 0, gso_size 1.
Bytes issueFrame() {
    Bytes f = tcp4Frame(0, 0, 10, 0);  // IPv4 with 40 bytes of options: TCP at 74
    f.resize(192, 0);                   // "padding" up to where csum_start points
    Bytes th = tcpHdr(0);
    th[12] = 0;  // doff = 0
    f.insert(f.end(), th.begin(), th.end());
    f.resize(212 + 64, 0x5a);
    return f;
}

virtio_net_hdr issueHdr() {
    virtio_net_hdr h{};
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h.gso_size = 1;
    h.csum_start = 192;
    h.csum_offset = 16;
    h.hdr_len = 212;
    return h;
}

TEST(VnetHdr, ValidTsoFramesPassAndHdrLenIsRecomputed) {
    Packet p;
    virtio_net_hdr h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448);
    h.hdr_len = 9999;  // a hint nobody may trust
    EXPECT_EQ(check(tcp4Frame(60000), h, &p), Coverage::kCount);
    EXPECT_EQ(p.vnet.hdr_len, 54);
    EXPECT_EQ(p.vnet.gso_size, 1448);
    EXPECT_EQ(check(tcp4Frame(5000, 1), tso(VIRTIO_NET_HDR_GSO_TCPV4, 38, 1448)), Coverage::kCount);
    EXPECT_EQ(check(tcp4Frame(5000, 2), tso(VIRTIO_NET_HDR_GSO_TCPV4, 42, 1448)), Coverage::kCount);
    EXPECT_EQ(check(tcp4Frame(5000, 0, 3), tso(VIRTIO_NET_HDR_GSO_TCPV4, 46, 1448)), Coverage::kCount);
    EXPECT_EQ(check(tcp6Frame(5000), tso(VIRTIO_NET_HDR_GSO_TCPV6, 54, 1428)), Coverage::kCount);
    EXPECT_EQ(check(tcp6Frame(5000, true), tso(VIRTIO_NET_HDR_GSO_TCPV6, 62, 1428)), Coverage::kCount);
    EXPECT_EQ(check(tcp4Frame(5000), tso(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 34, 1448)),
              Coverage::kCount);
}

TEST(VnetHdr, TheIssueFrameIsRefusedAndSegmentationRefusesItToo) {
    EXPECT_NE(check(issueFrame(), issueHdr()), Coverage::kCount);
    // Even unchecked, software segmentation must not write past its header copy.
    Packet p;
    load(p, issueFrame());
    p.vnet = issueHdr();
    std::vector<WireFrame> out;
    EXPECT_EQ(softwareOffload(p, out), OffloadResult::kMalformed);
    EXPECT_TRUE(out.empty());
    // Same shape with csum_start where the IP header says TCP is: doff 0 is what is wrong.
    Bytes f = tcp4Frame(500, 0, 0, 0);
    f[14 + 20 + 12] = 0;
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 100)), Coverage::drop_vnet_bad_l4);
    load(p, f);
    p.vnet = tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 100);
    EXPECT_EQ(softwareOffload(p, out), OffloadResult::kMalformed);
}

TEST(VnetHdr, ChecksumOffsetsMustLieInsideTheFrameAndAtTheL4Header) {
    Bytes f = tcp4Frame(100);
    virtio_net_hdr h{};
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = 34;
    h.csum_offset = 16;
    EXPECT_EQ(check(f, h), Coverage::kCount);
    h.csum_start = static_cast<std::uint16_t>(f.size() - 1);
    h.csum_offset = 0;
    EXPECT_EQ(check(f, h), Coverage::drop_vnet_bad_csum);  // the 2-byte field would end past the frame
    h.csum_start = 34;
    h.csum_offset = 0xffff;
    EXPECT_EQ(check(f, h), Coverage::drop_vnet_bad_csum);
    h.csum_start = 4;
    h.csum_offset = 0;
    EXPECT_EQ(check(f, h), Coverage::drop_vnet_bad_csum);  // inside the Ethernet header
    virtio_net_hdr g = tso(VIRTIO_NET_HDR_GSO_TCPV4, 38, 1448);  // not where TCP starts
    EXPECT_EQ(check(tcp4Frame(5000), g), Coverage::drop_vnet_bad_csum);
    g = tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448);
    g.csum_offset = 6;
    EXPECT_EQ(check(tcp4Frame(5000), g), Coverage::drop_vnet_bad_csum);
}

TEST(VnetHdr, GsoTypeMustBeWhatTheFrameIs) {
    Bytes f = tcp4Frame(5000);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV6, 34, 1448)), Coverage::drop_vnet_bad_gso);
    EXPECT_EQ(check(tcp6Frame(5000), tso(VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448)), Coverage::drop_vnet_bad_gso);
    EXPECT_EQ(check(f, tso(7, 34, 1448)), Coverage::drop_vnet_bad_gso);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_ECN, 34, 1448)), Coverage::drop_vnet_bad_gso);
    virtio_net_hdr no_csum = tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448);
    no_csum.flags = 0;
    EXPECT_EQ(check(f, no_csum), Coverage::drop_vnet_bad_gso);
    Bytes udp4 = eth(kBcast, mac(1), 0x0800, ipv4(17, 1, 2, udp(1, 2, 5000)));
    EXPECT_EQ(check(udp4, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448)), Coverage::drop_vnet_bad_gso);
    Bytes frag = f;
    frag[14 + 6] = 0x20;  // MF
    EXPECT_EQ(check(frag, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448)), Coverage::drop_vnet_bad_gso);
    Bytes arp = eth(kBcast, mac(1), 0x0806, Bytes(5000, 0));
    EXPECT_EQ(check(arp, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448)), Coverage::drop_vnet_bad_gso);
    Bytes three_tags = tcp4Frame(5000, 3);
    EXPECT_EQ(check(three_tags, tso(VIRTIO_NET_HDR_GSO_TCPV4, 46, 1448)), Coverage::drop_vnet_bad_gso);
    // UDP GSO (UDP_L4) on a UDP frame is fine; with the TCP checksum offset it is not.
    virtio_net_hdr u = tso(5, 34, 1000);
    u.csum_offset = 6;
    EXPECT_EQ(check(udp4, u), Coverage::kCount);
    u.csum_offset = 16;
    EXPECT_EQ(check(udp4, u), Coverage::drop_vnet_bad_csum);
}

TEST(VnetHdr, SegmentSizeAndSegmentCountAreBounded) {
    Bytes f = tcp4Frame(60000);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1)), Coverage::drop_vnet_gso_size);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, kMinTcpGsoSize - 1)), Coverage::drop_vnet_gso_size);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 0)), Coverage::drop_vnet_gso_size);
    // 60000 / 234 = 257 segments: one over; 60000 / 235 = 256: at the cap.
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 234)), Coverage::drop_vnet_gso_segs);
    EXPECT_EQ(check(f, tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 235)), Coverage::kCount);
    // The smallest segment size is fine on a frame that stays within the cap.
    EXPECT_EQ(check(tcp4Frame(kMinTcpGsoSize * 10), tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, kMinTcpGsoSize)),
              Coverage::kCount);
    // And software segmentation keeps the same bounds on its own.
    Packet p;
    load(p, f);
    p.vnet = tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 234);
    std::vector<WireFrame> out;
    EXPECT_EQ(softwareOffload(p, out), OffloadResult::kMalformed);
    p.vnet.gso_size = 235;
    EXPECT_EQ(softwareOffload(p, out), OffloadResult::kOk);
    EXPECT_EQ(out.size(), kMaxGsoSegments);
}

TEST(VnetHdr, AFrameThatFitsOneSegmentIsNotGso) {
    Packet p;
    EXPECT_EQ(check(tcp4Frame(1000), tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448), &p), Coverage::kCount);
    EXPECT_EQ(p.vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    EXPECT_EQ(p.vnet.gso_size, 0);
    EXPECT_EQ(p.vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM) << "the checksum is still left to complete";
}

TEST(VnetHdr, HarmlessFieldsAreNormalised) {
    Packet p;
    virtio_net_hdr h{};
    h.flags = 0xf0 | VIRTIO_NET_HDR_F_DATA_VALID;
    h.hdr_len = 60000;
    h.csum_start = 7777;
    h.gso_size = 5;
    EXPECT_EQ(check(tcp4Frame(100), h, &p), Coverage::kCount);
    EXPECT_EQ(p.vnet.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    EXPECT_EQ(p.vnet.hdr_len, tcp4Frame(100).size());
    EXPECT_EQ(p.vnet.csum_start, 0);
    EXPECT_EQ(p.vnet.gso_size, 0);
}

// Through the datapath: a bridge of dummy ports floods what it receives; a frame whose header
// fails the check is dropped and counted, the valid one still goes out with its offload intact.
TEST(VnetHdr, TheDatapathDropsAndCountsBadHeadersAndForwardsGoodOnes) {
    std::int64_t now = 0;
    ofproto::Ofproto of(DatapathConfig{}, [&] { return now; });
    of.addBridge("br0");
    auto in = std::make_shared<DummyPort>("p1"), outp = std::make_shared<DummyPort>("p2");
    of.addPort("br0", "p1", 1, in);
    of.addPort("br0", "p2", 2, outp);
    std::uint64_t segs0 = coverageRead(Coverage::drop_vnet_gso_size);
    std::uint64_t l4_0 = coverageRead(Coverage::drop_vnet_bad_l4) + coverageRead(Coverage::drop_vnet_bad_csum);
    std::uint64_t rx_dropped0 = in->stats().rx_dropped.load();
    in->injectWithVnet(tcp4Frame(60000), tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1));
    in->injectWithVnet(issueFrame(), issueHdr());
    in->injectWithVnet(tcp4Frame(60000), tso(VIRTIO_NET_HDR_GSO_TCPV4, 34, 1448));
    of.datapath().runOnce();
    auto sent = outp->sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].bytes, tcp4Frame(60000));
    EXPECT_EQ(sent[0].vnet.gso_size, 1448);
    EXPECT_EQ(sent[0].vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    EXPECT_EQ(coverageRead(Coverage::drop_vnet_gso_size), segs0 + 1);
    EXPECT_EQ(coverageRead(Coverage::drop_vnet_bad_l4) + coverageRead(Coverage::drop_vnet_bad_csum), l4_0 + 1);
    EXPECT_EQ(in->stats().rx_dropped.load(), rx_dropped0 + 2);
}

}  // namespace
