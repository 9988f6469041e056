// TunnelGro: received tunnels' inner TCP segments merged into GSO super-frames, and inner
// checksums the sender left partial recognised (datapath/tunnel_gro.h, issue #17 item 1).
#include "datapath/tunnel_gro.h"

#include <gtest/gtest.h>

#include <vector>

#include "datapath/gso.h"
#include "tests/unit/frame_builder.h"

namespace vs::dp {
namespace {

using test::Bytes;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
void set16(std::uint8_t* p, std::uint16_t v) { p[0] = static_cast<std::uint8_t>(v >> 8); p[1] = static_cast<std::uint8_t>(v); }

enum class Csum { kValid, kPartial, kBad };

// One Ethernet/IP/TCP frame (TCP header with a 12-byte timestamp option, as Linux sends).
struct TcpFrame {
    bool v6 = false;
    std::uint32_t seq = 1000;
    std::uint8_t flags = 0x10;  // ACK
    std::uint16_t ip_id = 7;
    std::uint16_t sport = 40000;
    std::size_t payload = 1400;
    std::uint8_t fill = 0;      // payload byte i is (fill + i)
    Csum csum = Csum::kValid;

    std::size_t l3() const { return 14; }
    std::size_t l4() const { return v6 ? 54 : 34; }
    std::size_t hdr() const { return l4() + 32; }

    Bytes build() const {
        Bytes f = test::eth(test::mac(2), test::mac(1), v6 ? 0x86dd : 0x0800);
        std::size_t l4len = 32 + payload;
        if (v6) {
            Bytes ip{0x60, 0, 0, 0, 0, 0, 6, 64};
            set16(ip.data() + 4, static_cast<std::uint16_t>(l4len));
            for (int i = 0; i < 32; ++i) ip.push_back(static_cast<std::uint8_t>(i < 16 ? 0xfd : 0xfe));
            ip[23] = 1; ip[39] = 2;
            f.insert(f.end(), ip.begin(), ip.end());
        } else {
            Bytes ip{0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
            set16(ip.data() + 2, static_cast<std::uint16_t>(20 + l4len));
            set16(ip.data() + 4, ip_id);
            set16(ip.data() + 10, static_cast<std::uint16_t>(~csumFold(csumPartial(ip.data(), 20, 0))));
            f.insert(f.end(), ip.begin(), ip.end());
        }
        Bytes th(32, 0);
        set16(th.data(), sport);
        set16(th.data() + 2, 5201);
        th[4] = static_cast<std::uint8_t>(seq >> 24); th[5] = static_cast<std::uint8_t>(seq >> 16);
        th[6] = static_cast<std::uint8_t>(seq >> 8); th[7] = static_cast<std::uint8_t>(seq);
        th[11] = 99;                       // ack
        th[12] = 8 << 4;                   // 32-byte header
        th[13] = flags;
        set16(th.data() + 14, 502);        // window
        th[20] = 1; th[21] = 1; th[22] = 8; th[23] = 10; th[27] = 42; th[31] = 17;  // NOP NOP TS
        f.insert(f.end(), th.begin(), th.end());
        for (std::size_t i = 0; i < payload; ++i) f.push_back(static_cast<std::uint8_t>(fill + i));
        std::uint8_t* ip = f.data() + l3();
        std::uint32_t pseudo = v6 ? csumPartial(ip + 8, 32, 0) : csumPartial(ip + 12, 8, 0);
        pseudo += 6 + static_cast<std::uint32_t>(l4len);
        std::uint16_t c = static_cast<std::uint16_t>(~csumFold(csumPartial(f.data() + l4(), l4len, pseudo)));
        if (csum == Csum::kPartial) c = csumFold(pseudo);
        if (csum == Csum::kBad) c = static_cast<std::uint16_t>(c ^ 0x0101);
        set16(f.data() + l4() + 16, c);
        return f;
    }
};

// `n` consecutive segments of one connection, the last one pushed.
std::vector<Bytes> stream(TcpFrame t, int n, std::size_t mss = 1400) {
    std::vector<Bytes> out;
    for (int i = 0; i < n; ++i) {
        TcpFrame s = t;
        s.seq = t.seq + static_cast<std::uint32_t>(i * mss);
        s.ip_id = static_cast<std::uint16_t>(t.ip_id + i);
        s.payload = mss;
        s.fill = static_cast<std::uint8_t>(t.fill + i * mss);
        s.flags = static_cast<std::uint8_t>(i == n - 1 ? 0x18 : 0x10);
        out.push_back(s.build());
    }
    return out;
}

struct Gro {
    PacketPool pool{kBatchSize};
    std::vector<Packet*> ptrs;
    TunnelGro gro;
    explicit Gro(int max = kBatchSize) {
        for (int i = 0; i < max; ++i) ptrs.push_back(&pool[static_cast<std::size_t>(i)]);
        gro.begin(ptrs.data(), max);
    }
    bool add(const Bytes& f, TunnelRx rx = {3, 42, 0x01020304, 0}) {
        return gro.add(f.data(), static_cast<std::uint32_t>(f.size()), rx);
    }
    Bytes frame(int i) const { return Bytes(ptrs[i]->data(), ptrs[i]->data() + ptrs[i]->size()); }
};

// The TSO super-frame a veth would have handed the switch for the same data: IP length of the
// whole, the TCP checksum field holding the pseudo-header sum (checksum left to offload).
Packet superFrame(TcpFrame t, int n, std::size_t mss) {
    t.payload = mss * static_cast<std::size_t>(n);
    t.flags = 0x18;
    t.csum = Csum::kPartial;
    Packet p;
    test::load(p, t.build());
    p.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p.vnet.gso_type = t.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    p.vnet.gso_size = static_cast<std::uint16_t>(mss);
    p.vnet.hdr_len = static_cast<std::uint16_t>(t.hdr());
    p.vnet.csum_start = static_cast<std::uint16_t>(t.l4());
    p.vnet.csum_offset = 16;
    return p;
}

void expectSameVnet(const virtio_net_hdr& a, const virtio_net_hdr& b) {
    EXPECT_EQ(a.flags, b.flags);
    EXPECT_EQ(a.gso_type, b.gso_type);
    EXPECT_EQ(a.gso_size, b.gso_size);
    EXPECT_EQ(a.hdr_len, b.hdr_len);
    EXPECT_EQ(a.csum_start, b.csum_start);
    EXPECT_EQ(a.csum_offset, b.csum_offset);
}

class TunnelGroFamily : public ::testing::TestWithParam<bool> {};

// Segmenting a TSO frame (what the sending switch does) and merging the segments (what the
// receiving one does) gives back the TSO frame, byte for byte, offload header included.
TEST_P(TunnelGroFamily, MergingSegmentsRebuildsTheSuperFrame) {
    TcpFrame t;
    t.v6 = GetParam();
    Packet tso = superFrame(t, 10, 1400);
    std::vector<WireFrame> wire;
    ASSERT_EQ(softwareOffload(tso, wire), OffloadResult::kOk);
    ASSERT_EQ(wire.size(), 10u);
    Gro g;
    for (const WireFrame& w : wire) {
        Bytes f(w.hdr, w.hdr + w.hdr_len);
        f.insert(f.end(), w.payload, w.payload + w.payload_len);
        EXPECT_EQ(classifyInnerCsum(f.data(), static_cast<std::uint32_t>(f.size())), InnerCsum::kValid);
        ASSERT_TRUE(g.add(f));
    }
    ASSERT_EQ(g.gro.finish(), 1);
    Packet& m = *g.ptrs[0];
    EXPECT_EQ(g.frame(0), Bytes(tso.data(), tso.data() + tso.size()));
    expectSameVnet(m.vnet, tso.vnet);
    EXPECT_EQ(m.in_port, 3u);
    EXPECT_EQ(m.tun_id, 42u);
    EXPECT_EQ(m.tun_src, 0x01020304u);
    EXPECT_EQ(g.gro.merged(), 9u);
}

INSTANTIATE_TEST_SUITE_P(V4V6, TunnelGroFamily, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

// Linux over a virtual underlay leaves inner checksums partial: such segments still merge, and a
// lone frame (a pure ACK, a UDP datagram) is passed on marked NEEDS_CSUM, not changed.
TEST(TunnelGro, PartialChecksumsAreRecognised) {
    TcpFrame t;
    t.csum = Csum::kPartial;
    auto segs = stream(t, 3);
    TcpFrame ack;
    ack.payload = 0;
    ack.seq = 5000;
    ack.csum = Csum::kPartial;
    Bytes ack_f = ack.build();
    Bytes u = test::eth(test::mac(2), test::mac(1), 0x0800,
                        test::ipv4(17, 0x0a000001, 0x0a000002, test::udp(5000, 53, 30)));
    std::uint8_t* ip = u.data() + 14;
    set16(ip + 10, static_cast<std::uint16_t>(~csumFold(csumPartial(ip, 20, 0))));
    std::uint32_t pseudo = csumPartial(ip + 12, 8, 0) + 17 + 38;
    set16(u.data() + 34 + 6, csumFold(pseudo));
    EXPECT_EQ(classifyInnerCsum(u.data(), static_cast<std::uint32_t>(u.size())), InnerCsum::kPartial);

    Gro g;
    for (const auto& f : segs) ASSERT_TRUE(g.add(f));
    ASSERT_TRUE(g.add(ack_f));
    ASSERT_TRUE(g.add(u));
    ASSERT_EQ(g.gro.finish(), 3);
    EXPECT_EQ(g.ptrs[0]->vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    EXPECT_EQ(g.ptrs[0]->size(), t.hdr() + 3 * 1400);
    EXPECT_EQ(g.frame(1), ack_f);
    EXPECT_EQ(g.ptrs[1]->vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    EXPECT_EQ(g.ptrs[1]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    EXPECT_EQ(g.ptrs[1]->vnet.csum_start, 34);
    EXPECT_EQ(g.ptrs[1]->vnet.csum_offset, 16);
    EXPECT_EQ(g.frame(2), u);
    EXPECT_EQ(g.ptrs[2]->vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    EXPECT_EQ(g.ptrs[2]->vnet.csum_offset, 6);
    EXPECT_EQ(g.gro.partial(), 5u);

    // Completing the marked checksum in software gives what the sender meant.
    std::vector<WireFrame> wire;
    ASSERT_EQ(softwareOffload(*g.ptrs[1], wire), OffloadResult::kOk);
    Bytes done(wire[0].hdr, wire[0].hdr + wire[0].hdr_len);
    done.insert(done.end(), wire[0].payload, wire[0].payload + wire[0].payload_len);
    ack.csum = Csum::kValid;
    EXPECT_EQ(done, ack.build());
}

// Linux hands a UDP socket a tunnel's TSO skb whole (a "datagram" with a 2,862-byte inner frame
// over a 1500-byte veth underlay): it goes on as GSO, in segments that fit a 1450-byte inner MTU.
TEST(TunnelGro, AWholeTsoFrameOfTheSenderGoesOnAsGso) {
    TcpFrame t;
    t.payload = 2 * 1398;
    t.flags = 0x18;
    t.csum = Csum::kPartial;
    Bytes f = t.build();
    Gro g;
    ASSERT_TRUE(g.add(f));
    ASSERT_EQ(g.gro.finish(), 1);
    Packet& p = *g.ptrs[0];
    EXPECT_EQ(g.frame(0), f);
    EXPECT_EQ(p.vnet.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    EXPECT_EQ(p.vnet.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    EXPECT_EQ(p.vnet.gso_size, 1450 - 20 - 32);
    std::vector<WireFrame> wire;
    ASSERT_EQ(softwareOffload(p, wire), OffloadResult::kOk);
    ASSERT_EQ(wire.size(), 2u);
    for (const WireFrame& w : wire) {
        Bytes seg(w.hdr, w.hdr + w.hdr_len);
        seg.insert(seg.end(), w.payload, w.payload + w.payload_len);
        EXPECT_EQ(seg.size(), 14u + 1450);
        EXPECT_EQ(classifyInnerCsum(seg.data(), static_cast<std::uint32_t>(seg.size())), InnerCsum::kValid);
    }
    // The same frame with its checksum complete is a jumbo frame someone sent: left alone.
    t.csum = Csum::kValid;
    Gro g2;
    ASSERT_TRUE(g2.add(t.build()));
    ASSERT_EQ(g2.gro.finish(), 1);
    EXPECT_EQ(g2.ptrs[0]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE);
    EXPECT_EQ(g2.ptrs[0]->vnet.flags, 0);
}

// A corrupted segment is never merged (its checksum would not be checked again): it goes on
// alone and unchanged, for the receiver to drop; the segments around it are not merged across it.
TEST(TunnelGro, BadChecksumIsNeitherMergedNorMarked) {
    auto segs = stream(TcpFrame{}, 5);
    TcpFrame bad;
    bad.seq = 1000 + 2 * 1400;
    bad.fill = static_cast<std::uint8_t>(2 * 1400);
    bad.ip_id = 9;
    bad.csum = Csum::kBad;
    segs[2] = bad.build();
    EXPECT_EQ(classifyInnerCsum(segs[2].data(), static_cast<std::uint32_t>(segs[2].size())), InnerCsum::kBad);
    Gro g;
    for (const auto& f : segs) ASSERT_TRUE(g.add(f));
    ASSERT_EQ(g.gro.finish(), 3);
    EXPECT_EQ(g.ptrs[0]->size(), TcpFrame{}.hdr() + 2 * 1400);
    EXPECT_EQ(g.frame(1), segs[2]);
    EXPECT_EQ(g.ptrs[1]->vnet.flags, 0);
    EXPECT_EQ(g.ptrs[2]->size(), TcpFrame{}.hdr() + 2 * 1400);
}

TEST(TunnelGro, OnlyOneConnectionInOrderFromOneTunnelMerges) {
    auto segs = stream(TcpFrame{}, 4);
    Gro g;
    ASSERT_TRUE(g.add(segs[0]));
    ASSERT_TRUE(g.add(segs[1], TunnelRx{3, 43, 0x01020304, 0}));  // another VNI
    ASSERT_TRUE(g.add(segs[3]));                                  // a gap in the sequence
    TcpFrame other;
    other.sport = 40001;
    ASSERT_TRUE(g.add(other.build()));                            // another connection
    EXPECT_EQ(g.gro.finish(), 4);
    EXPECT_EQ(g.gro.merged(), 0u);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(g.ptrs[i]->vnet.gso_type, VIRTIO_NET_HDR_GSO_NONE) << i;
}

// A super-frame holds at most 64 segments and a 64 KiB IP packet; the rest starts the next one.
TEST(TunnelGro, SuperFramesStayWithinIpAndSegmentLimits) {
    auto segs = stream(TcpFrame{}, 50, 1400);  // 70,000 bytes of payload
    Gro g;
    for (const auto& f : segs) ASSERT_TRUE(g.add(f));
    ASSERT_EQ(g.gro.finish(), 2);
    std::size_t payload = 0;
    for (int i = 0; i < 2; ++i) {
        Packet& p = *g.ptrs[i];
        EXPECT_LE(get16(p.data() + 14 + 2), 65535);
        EXPECT_EQ(get16(p.data() + 14 + 2), p.size() - 14);
        payload += p.size() - TcpFrame{}.hdr();
    }
    EXPECT_EQ(payload, 50u * 1400);

    auto small = stream(TcpFrame{}, 70, 100);
    Gro g2;
    for (const auto& f : small) ASSERT_TRUE(g2.add(f));
    ASSERT_EQ(g2.gro.finish(), 2);
    EXPECT_EQ(g2.ptrs[0]->size(), TcpFrame{}.hdr() + TunnelGro::kMaxSegments * 100u);
}

TEST(TunnelGro, RefusesWhenOutOfPacketsAndKeepsWhatItHas) {
    TcpFrame a, b, c;
    b.sport = 2;
    c.sport = 3;
    Gro g(2);
    ASSERT_TRUE(g.add(a.build()));
    ASSERT_TRUE(g.add(b.build()));
    EXPECT_FALSE(g.add(c.build()));
    EXPECT_EQ(g.gro.finish(), 2);
    EXPECT_EQ(g.frame(1), b.build());
}

TEST(TunnelGro, ClassifiesOnlyWhatHasAnL4Checksum) {
    Bytes u = test::eth(test::mac(2), test::mac(1), 0x0800,
                        test::ipv4(17, 0x0a000001, 0x0a000002, test::udp(5000, 53, 30)));
    EXPECT_EQ(classifyInnerCsum(u.data(), static_cast<std::uint32_t>(u.size())), InnerCsum::kNotL4);  // UDP csum 0
    TcpFrame t;
    Bytes f = t.build();
    f[14 + 6] |= 0x20;  // MF: a fragment
    EXPECT_EQ(classifyInnerCsum(f.data(), static_cast<std::uint32_t>(f.size())), InnerCsum::kNotL4);
    Bytes arp = test::eth(test::mac(2), test::mac(1), 0x0806, Bytes(28, 0));
    EXPECT_EQ(classifyInnerCsum(arp.data(), static_cast<std::uint32_t>(arp.size())), InnerCsum::kNotL4);
    Bytes shortf(f.begin(), f.begin() + 40);
    EXPECT_EQ(classifyInnerCsum(shortf.data(), static_cast<std::uint32_t>(shortf.size())), InnerCsum::kNotL4);
}

}  // namespace
}  // namespace vs::dp
