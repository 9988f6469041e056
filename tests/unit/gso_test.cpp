// Software TCP segmentation and checksum completion (datapath/gso.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "datapath/gso.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::dp;
using namespace vs::test;

namespace {

Bytes tcpHeader(std::uint32_t seq, std::uint8_t flags) {
    Bytes t(20, 0);
    t[0] = 0x30; t[1] = 0x39; t[2] = 0x00; t[3] = 0x50;
    t[4] = seq >> 24; t[5] = seq >> 16; t[6] = seq >> 8; t[7] = seq;
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff;
    return t;
}

// A TCP/IPv4 frame with `payload` bytes, checksum left partial as Linux does for CHECKSUM_PARTIAL.
Packet partialTcp(std::size_t payload, std::uint16_t mss) {
    Bytes l4 = tcpHeader(1000, 0x18 | 0x01 | 0x80);  // PSH ACK FIN CWR
    for (std::size_t i = 0; i < payload; ++i) l4.push_back(static_cast<std::uint8_t>(i * 7));
    Bytes f = eth(mac(2), mac(1), 0x0800, ipv4(6, 0x0a000001, 0x0a000002, l4));
    std::uint8_t* ip = f.data() + 14;
    std::uint16_t ipc = static_cast<std::uint16_t>(~csumFold(csumPartial(ip, 20, 0)));
    ip[10] = ipc >> 8; ip[11] = ipc & 0xff;
    std::uint16_t pseudo = csumFold(csumPartial(ip + 12, 8, 0) + 6 + static_cast<std::uint32_t>(l4.size()));
    f[14 + 20 + 16] = pseudo >> 8; f[14 + 20 + 17] = pseudo & 0xff;
    Packet p;
    load(p, f);
    p.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p.vnet.csum_start = 34;
    p.vnet.csum_offset = 16;
    if (mss) {
        p.vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        p.vnet.gso_size = mss;
        p.vnet.hdr_len = 54;
    }
    return p;
}

Bytes flatten(const WireFrame& w) {
    Bytes b(w.hdr, w.hdr + w.hdr_len);
    b.insert(b.end(), w.payload, w.payload + w.payload_len);
    return b;
}

bool tcpValid(const Bytes& f) {
    const std::uint8_t* ip = f.data() + 14;
    if (csumFold(csumPartial(ip, 20, 0)) != 0xffff) return false;
    std::size_t len = ((ip[2] << 8) | ip[3]) - 20;
    if (14 + 20 + len != f.size()) return false;
    std::uint32_t s = csumPartial(ip + 12, 8, 0) + 6 + static_cast<std::uint32_t>(len);
    return csumFold(csumPartial(ip + 20, len, s)) == 0xffff;
}

TEST(Gso, SegmentsTcpSuperFrame) {
    Packet p = partialTcp(2500, 1000);
    std::vector<WireFrame> out;
    ASSERT_EQ(softwareOffload(p, out), OffloadResult::kOk);
    ASSERT_EQ(out.size(), 3u);
    std::uint32_t expect_seq = 1000;
    for (std::size_t i = 0; i < out.size(); ++i) {
        Bytes f = flatten(out[i]);
        EXPECT_TRUE(tcpValid(f)) << "segment " << i;
        EXPECT_EQ(f.size(), 54u + (i < 2 ? 1000u : 500u));
        std::uint32_t seq = (f[38] << 24) | (f[39] << 16) | (f[40] << 8) | f[41];
        EXPECT_EQ(seq, expect_seq);
        expect_seq += i < 2 ? 1000 : 500;
        std::uint8_t flags = f[47];
        EXPECT_EQ(bool(flags & 0x01), i == 2) << "FIN only on the last";
        EXPECT_EQ(bool(flags & 0x08), i == 2) << "PSH only on the last";
        EXPECT_EQ(bool(flags & 0x80), i == 0) << "CWR only on the first";
        EXPECT_EQ((f[18] << 8 | f[19]), 1 + static_cast<int>(i)) << "IP ID increments";
    }
    EXPECT_EQ(out[1].payload, p.data() + 54 + 1000) << "payload is not copied";
}

TEST(Gso, CompletesPartialChecksum) {
    Packet p = partialTcp(300, 0);
    std::vector<WireFrame> out;
    ASSERT_EQ(softwareOffload(p, out), OffloadResult::kOk);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(tcpValid(flatten(out[0])));
    EXPECT_EQ(p.data()[50], partialTcp(300, 0).data()[50]) << "the original frame is not modified";
}

TEST(Gso, PlainFramePassesThroughUncopied) {
    Packet p = partialTcp(10, 0);
    p.vnet.flags = 0;
    std::vector<WireFrame> out;
    ASSERT_EQ(softwareOffload(p, out), OffloadResult::kOk);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].hdr_len, 0);
    EXPECT_EQ(out[0].payload, p.data());
}

TEST(Gso, BadOffsetsAndUnsupportedTypes) {
    Packet p = partialTcp(100, 50);
    p.vnet.csum_start = 4000;
    std::vector<WireFrame> out;
    EXPECT_EQ(softwareOffload(p, out), OffloadResult::kMalformed);
    Packet u = partialTcp(100, 50);
    u.vnet.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    EXPECT_EQ(softwareOffload(u, out), OffloadResult::kUnsupported);
    EXPECT_TRUE(out.empty());
}

// The word-at-a-time checksum equals RFC 1071's definition (16-bit big-endian words, an odd last
// byte padded with zero) for every length and alignment, and chains across calls.
TEST(Gso, ChecksumMatchesRfc1071ByteWise) {
    auto reference = [](const std::uint8_t* p, std::size_t n, std::uint32_t sum) {
        std::uint64_t s = sum;
        for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
        if (n & 1) s += static_cast<std::uint32_t>(p[n - 1] << 8);
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        return static_cast<std::uint16_t>(s);
    };
    std::vector<std::uint8_t> buf(3000);
    std::uint32_t x = 12345;
    for (auto& b : buf) b = static_cast<std::uint8_t>((x = x * 1103515245 + 12345) >> 16);
    for (std::size_t off = 0; off < 8; ++off)
        for (std::size_t n : {0, 1, 2, 3, 15, 16, 17, 31, 33, 64, 1399, 1448, 2000}) {
            std::uint16_t want = reference(buf.data() + off, n, 0xfffe);
            EXPECT_EQ(dp::csumFold(dp::csumPartial(buf.data() + off, n, 0xfffe)), want) << off << " " << n;
        }
    std::vector<std::uint8_t> ones(4096, 0xff);
    EXPECT_EQ(dp::csumFold(dp::csumPartial(ones.data(), ones.size(), 0xffffffff)), 0xffff);
    std::size_t half = 1000;  // chaining at an even split equals one pass
    EXPECT_EQ(dp::csumFold(dp::csumPartial(buf.data() + half, 1000, dp::csumPartial(buf.data(), half, 0))),
              reference(buf.data(), 2000, 0));
}

}  // namespace
