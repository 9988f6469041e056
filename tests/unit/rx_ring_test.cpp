// The memory-mapped receive ring (datapath/rx_ring.h) against the real kernel: a TPACKET_V2 ring
// on the loopback device of a private network namespace (made in a forked child, so nothing
// leaves it and the test process keeps its own namespace). Frames of every size come back
// byte-identical and in order: short ones from ring slots, long ones (TP_STATUS_COPY) from the
// socket queue, 802.1Q tags put back from slot metadata; the ring wraps many times.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "datapath/afpacket_port.h"
#include "datapath/coverage.h"
#include "datapath/rx_ring.h"
#include "tests/unit/frame_builder.h"

using namespace vs;
using namespace vs::dp;
using namespace vs::test;

namespace {

[[noreturn]] void fail(const char* what, long a = 0, long b = 0) {
    std::fprintf(stderr, "FAILED: %s (%ld, %ld)\n", what, a, b);
    std::fflush(stderr);
    _exit(1);
}

void loUp() {
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("SIOCSIFFLAGS lo");
    ::close(s);
}

int packetSocket(int ifindex, bool receiver, std::unique_ptr<RxRing>* ring) {
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, 0);
    if (fd < 0) fail("socket");
    int one = 1;
    if (receiver) {
        ::setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one);
        ::setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
        ::setsockopt(fd, SOL_PACKET, 23 /* PACKET_IGNORE_OUTGOING */, &one, sizeof one);
        std::error_code ec;
        *ring = RxRing::create(fd, 64, ec);
        if (!*ring) fail("RxRing::create", ec.value());
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) fail("bind");
    return fd;
}

// Frame `i`: sizes cycle through short, full-MTU, and two longer than a 2 KiB slot; every third
// one carries an 802.1Q tag.
Bytes frame(int i) {
    static const std::size_t kSizes[] = {60, 1514, 4000, 20000, 100};
    std::size_t size = kSizes[i % 5];
    Bytes payload(size - 14 - ((i % 3 == 0) ? 4 : 0));
    for (std::size_t k = 0; k < payload.size(); ++k) payload[k] = static_cast<std::uint8_t>(k * 13 + i);
    payload[0] = static_cast<std::uint8_t>(i);
    return eth(mac(1), mac(2), 0x88b5, payload, (i % 3 == 0) ? (0x2000 | (10 + i % 7)) : -1);
}

void receiveAll(RxRing& ring, int rx_fd, const std::vector<Bytes>& sent) {
    PacketPool pool(32);
    std::vector<Packet*> pkts;
    for (int i = 0; i < 32; ++i) pkts.push_back(&pool[i]);
    std::size_t got = 0;
    for (int tries = 0; got < sent.size() && tries < 200; ++tries) {
        pollfd pfd{rx_fd, POLLIN, 0};
        ::poll(&pfd, 1, 10);
        std::uint64_t dropped = 0;
        int n = ring.receive(pkts.data(), 32, dropped);
        if (dropped) fail("frames dropped on receive", static_cast<long>(dropped));
        for (int k = 0; k < n; ++k, ++got) {
            const Bytes& want = sent[got];
            if (pkts[k]->size() != want.size()) fail("length differs at frame", static_cast<long>(got), pkts[k]->size());
            if (std::memcmp(pkts[k]->data(), want.data(), want.size()) != 0) fail("bytes differ at frame", static_cast<long>(got));
        }
    }
    if (got != sent.size()) fail("frames received", static_cast<long>(got), static_cast<long>(sent.size()));
}

void ringOverLoopback() {
    if (::unshare(CLONE_NEWNET) < 0) fail("unshare(CLONE_NEWNET)");
    loUp();
    int idx = static_cast<int>(if_nametoindex("lo"));
    std::unique_ptr<RxRing> ring;
    int rx = packetSocket(idx, true, &ring);
    int tx = packetSocket(idx, false, nullptr);
    int next = 0;
    for (int round = 0; round < 10; ++round) {  // 10 x 30 frames through 64 slots: wraps 4 times
        std::vector<Bytes> sent;
        for (int k = 0; k < 30; ++k, ++next) {
            sent.push_back(frame(next));
            if (::send(tx, sent.back().data(), sent.back().size(), 0) < 0) fail("send", next, errno);
        }
        receiveAll(*ring, rx, sent);
    }
    std::fprintf(stderr, "ring ok\n");
    _exit(0);
}

// Sends `count` frames from `tx` and reads them back through `port` (waiting on whatever fd() is
// at the time), checking each against what was sent. With count 0: one receive() call.
void roundTrip(AfPacketPort& port, int tx, int& next, int count) {
    std::vector<Bytes> sent;
    for (int k = 0; k < count; ++k, ++next) {
        sent.push_back(frame(next));
        if (::send(tx, sent.back().data(), sent.back().size(), 0) < 0) fail("send", next, errno);
    }
    PacketPool pool(32);
    std::vector<Packet*> pkts;
    for (int i = 0; i < 32; ++i) pkts.push_back(&pool[i]);
    std::size_t got = 0;
    for (int tries = 0; tries == 0 || (got < sent.size() && tries < 400); ++tries) {
        // Like the poll thread: receive() only when the port's current fd() is readable.
        pollfd pfd{port.fd(), POLLIN, 0};
        if (count && ::poll(&pfd, 1, 5) <= 0) continue;
        int n = port.receive(pkts.data(), 32);
        for (int k = 0; k < n; ++k, ++got) {
            if (got >= sent.size()) fail("port: a frame nobody sent", static_cast<long>(got));
            if (pkts[k]->size() != sent[got].size()) fail("port: length differs at frame", static_cast<long>(got));
            if (std::memcmp(pkts[k]->data(), sent[got].data(), sent[got].size()) != 0)
                fail("port: bytes differ at frame", static_cast<long>(got));
        }
    }
    if (got != sent.size()) fail("port: frames received", static_cast<long>(got), static_cast<long>(sent.size()));
}

// An AfPacketPort moves to a ring under load and back after kRingIdleMs without traffic; frames
// sent around both moves arrive intact and in order.
void portPromotedAndDemoted() {
    if (::unshare(CLONE_NEWNET) < 0) fail("unshare(CLONE_NEWNET)");
    loUp();
    // Promotion on frame counts, not on this machine's speed (a sanitizer build is 10x slower):
    // 4,096 frames within 41 s earn the ring.
    AfPacketPort::setRingPromotePps(100);
    std::error_code ec;
    auto port = AfPacketPort::open("lo", ec);
    if (!port) fail("AfPacketPort::open lo", ec.value());
    int tx = packetSocket(static_cast<int>(if_nametoindex("lo")), false, nullptr);
    const int first_fd = port->fd();
    std::uint64_t promoted = coverageRead(Coverage::rx_ring_promoted);
    int next = 0;
    for (int round = 0; round < 400 && coverageRead(Coverage::rx_ring_promoted) == promoted; ++round)
        roundTrip(*port, tx, next, 50);
    if (coverageRead(Coverage::rx_ring_promoted) != promoted + 1) fail("no promotion under load");
    if (AfPacketPort::ringBytesInUse() != AfPacketPort::kRingFrames * RxRing::kFrameSize)
        fail("ring bytes in use", static_cast<long>(AfPacketPort::ringBytesInUse()));
    roundTrip(*port, tx, next, 100);  // drains the first socket, then reads the ring
    if (port->fd() == first_fd) fail("fd() did not move to the ring socket");

    std::int64_t t = 1'000'000;
    port->housekeep(t);  // busy reference point
    bool wants_poll = false;
    for (int s = 1; s <= 31 && !wants_poll; ++s) wants_poll = port->housekeep(t + s * 1000);
    if (!wants_poll) fail("no demotion after 31 idle seconds");
    roundTrip(*port, tx, next, 0);  // the poll the port asked for
    if (port->fd() != first_fd) fail("fd() did not move back", port->fd(), first_fd);
    if (AfPacketPort::ringBytesInUse() != 0) fail("ring bytes not given back");
    roundTrip(*port, tx, next, 100);  // recvmmsg again
    std::fprintf(stderr, "moves ok\n");
    _exit(0);
}

TEST(AfPacketPortRing, BusyPortGetsARingAndGivesItBackWhenIdle) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and packet sockets)";
    EXPECT_EXIT(portPromotedAndDemoted(), ::testing::ExitedWithCode(0), "moves ok");
}

TEST(RxRing, FramesOfEverySizeArriveIntactAndInOrder) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (a network namespace and packet sockets)";
    EXPECT_EXIT(ringOverLoopback(), ::testing::ExitedWithCode(0), "ring ok");
}

TEST(RxRing, RefusesASlotCountThatIsNotAPowerOfTwo) {
    std::error_code ec;
    EXPECT_EQ(RxRing::create(-1, 48, ec), nullptr);
    EXPECT_EQ(ec, std::errc::invalid_argument);
}

TEST(RestoreVlanTag, InsertsTheTagAfterTheSourceMacAndShiftsOffloadOffsets) {
    Bytes f = eth(mac(1), mac(2), 0x0800, Bytes(46, 0xab));
    Packet p;
    load(p, f);
    p.vnet.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    p.vnet.csum_start = 34;
    p.vnet.hdr_len = 54;
    restoreVlanTag(p, 0x8100, 0x6005);
    Bytes want = eth(mac(1), mac(2), 0x0800, Bytes(46, 0xab), 0x6005);
    ASSERT_EQ(p.size(), want.size());
    EXPECT_EQ(Bytes(p.data(), p.data() + p.size()), want);
    EXPECT_EQ(p.vnet.csum_start, 38);
    EXPECT_EQ(p.vnet.hdr_len, 58);
}

}  // namespace
