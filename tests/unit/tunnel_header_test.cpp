// Tunnel headers (datapath/tunnel_header.h): what RFC 7348, RFC 8926 and RFC 2784/2890 accept and
// refuse, and that what we build parses back.
#include "datapath/tunnel_header.h"

#include <gtest/gtest.h>

#include <vector>

#include "datapath/gso.h"

namespace vs::dp {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes withFrame(Bytes hdr) {
    Bytes f(60, 0xab);  // an inner Ethernet frame
    hdr.insert(hdr.end(), f.begin(), f.end());
    return hdr;
}

TunnelHeader parse(TunnelProto p, const Bytes& b) { return parseTunnelHeader(p, b.data(), b.size()); }

TEST(TunnelHeader, BuiltHeadersParseBack) {
    for (TunnelProto p : {TunnelProto::kVxlan, TunnelProto::kGeneve, TunnelProto::kGre}) {
        for (bool csum : {false, true}) {
            std::uint8_t h[kMaxTunnelHeader];
            std::uint64_t id = p == TunnelProto::kGre ? 0xfedcba98u : 0x123456u;
            std::size_t n = buildTunnelHeader(p, h, id, true, csum);
            Bytes b = withFrame(Bytes(h, h + n));
            if (p == TunnelProto::kGre && csum) greFinishCsum(b.data(), n, csumPartial(b.data() + n, b.size() - n, 0));
            TunnelHeader t = parse(p, b);
            ASSERT_TRUE(t.ok) << tunnelProtoName(p) << " csum " << csum;
            EXPECT_EQ(t.inner, n);
            EXPECT_EQ(t.tun_id, id);
        }
    }
}

TEST(TunnelHeader, GreKeyAbsentMeansKeyZero) {
    std::uint8_t h[kMaxTunnelHeader];
    std::size_t n = buildTunnelHeader(TunnelProto::kGre, h, 77, false, false);
    EXPECT_EQ(n, 4u);
    TunnelHeader t = parse(TunnelProto::kGre, withFrame(Bytes(h, h + n)));
    ASSERT_TRUE(t.ok);
    EXPECT_FALSE(t.key_present);
    EXPECT_EQ(t.tun_id, 0u);
}

TEST(TunnelHeader, GreRefusals) {
    EXPECT_EQ(parse(TunnelProto::kGre, withFrame({0x00, 0x01, 0x65, 0x58})).why, Coverage::drop_gre_version);
    EXPECT_EQ(parse(TunnelProto::kGre, withFrame({0x40, 0x00, 0x65, 0x58})).why, Coverage::drop_gre_version);
    EXPECT_EQ(parse(TunnelProto::kGre, withFrame({0x00, 0x00, 0x08, 0x00})).why, Coverage::drop_gre_proto);
    EXPECT_EQ(parse(TunnelProto::kGre, Bytes{0x20, 0x00, 0x65, 0x58, 0, 0}).why, Coverage::drop_gre_short);
    // C bit with a checksum that does not verify.
    EXPECT_EQ(parse(TunnelProto::kGre, withFrame({0x80, 0x00, 0x65, 0x58, 0x12, 0x34, 0, 0})).why,
              Coverage::drop_gre_bad_csum);
    // S bit: the sequence number is skipped.
    TunnelHeader t = parse(TunnelProto::kGre, withFrame({0x10, 0x00, 0x65, 0x58, 0, 0, 0, 9}));
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.inner, 8u);
}

TEST(TunnelHeader, GeneveOptionsAreSkippedUnlessCritical) {
    // Opt Len 2 (8 bytes): one option, class 0x0102, type 0x03, length 1 word, 4 bytes of data.
    Bytes opt = {0x02, 0x00, 0x65, 0x58, 0, 0, 5, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4};
    TunnelHeader t = parse(TunnelProto::kGeneve, withFrame(opt));
    ASSERT_TRUE(t.ok);
    EXPECT_EQ(t.inner, 16u);
    EXPECT_EQ(t.tun_id, 5u);
    EXPECT_EQ(t.geneve_opts, 1u);
    Bytes critical = opt;
    critical[10] = 0x83;  // type's high bit: critical
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame(critical)).why, Coverage::drop_geneve_critical);
    Bytes cflag = opt;
    cflag[1] = 0x40;
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame(cflag)).why, Coverage::drop_geneve_critical);
    Bytes overrun = opt;
    overrun[11] = 0x02;  // claims 8 bytes of data in 8 bytes of options
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame(overrun)).why, Coverage::drop_geneve_bad_options);
}

TEST(TunnelHeader, GeneveRefusals) {
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame({0x40, 0, 0x65, 0x58, 0, 0, 1, 0})).why, Coverage::drop_geneve_version);
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame({0x00, 0x80, 0x65, 0x58, 0, 0, 1, 0})).why, Coverage::drop_geneve_oam);
    EXPECT_EQ(parse(TunnelProto::kGeneve, withFrame({0x00, 0, 0x08, 0x00, 0, 0, 1, 0})).why, Coverage::drop_geneve_proto);
    // Opt Len beyond the datagram.
    EXPECT_EQ(parse(TunnelProto::kGeneve, Bytes{0x3f, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3}).why,
              Coverage::drop_geneve_short);
}

TEST(TunnelHeader, VxlanNeedsTheIFlag) {
    EXPECT_EQ(parse(TunnelProto::kVxlan, withFrame({0, 0, 0, 0, 0, 0, 1, 0})).why, Coverage::drop_vxlan_no_iflag);
    EXPECT_EQ(parse(TunnelProto::kVxlan, Bytes{0x08, 0, 0, 0, 0, 0, 1, 0}).why, Coverage::drop_vxlan_short);
}

TEST(TunnelHeader, Overheads) {
    EXPECT_EQ(tunnelOverhead(TunnelProto::kVxlan, false, false), 36u);
    EXPECT_EQ(tunnelOverhead(TunnelProto::kGeneve, false, false), 36u);
    EXPECT_EQ(tunnelOverhead(TunnelProto::kGre, false, false), 24u);
    EXPECT_EQ(tunnelOverhead(TunnelProto::kGre, true, true), 32u);
}

}  // namespace
}  // namespace vs::dp
