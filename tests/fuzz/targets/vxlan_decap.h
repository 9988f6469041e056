// Fuzz entry point: VXLAN decapsulation (RFC 7348 section 5), through the public receive path of a
// real dp::TunnelSocket: the input is sent as one UDP datagram to a socket bound on 127.0.0.1 and
// read back with TunnelSocket::receive(), which validates the VXLAN header and demultiplexes by
// (remote VTEP, VNI). The inner frame, when accepted, then goes through extractFlow. No test seam
// is needed in the datapath.
//
// Demux table: (127.0.0.1, VNI 5000) -> port 11, (any, VNI 42) -> port 12, (127.0.0.2, VNI 7)
// -> port 13 (so VNI 7 from 127.0.0.1 is "unknown remote"), (any remote, any VNI) is absent.
//
// Invariants: an accepted datagram is exactly an 8-byte header with the I flag (reserved bits are
// ignored, RFC 7348 section 5), the inner frame is the rest of the datagram byte for byte, tun_id is the VNI,
// tun_src the sender, in_port the demuxed port, and its counters moved; a refused datagram bumps
// exactly one drop_vxlan_* counter.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "datapath/coverage.h"
#include "datapath/dummy_port.h"
#include "datapath/flow_key.h"
#include "datapath/tunnel.h"
#include "tests/fuzz/targets/common.h"

namespace vs::fuzz {

struct VxlanHarness {
    std::unique_ptr<dp::TunnelSocket> sock;
    int tx = -1;
    sockaddr_in to{};
    std::shared_ptr<dp::DummyPort> p11, p12, p13;
    dp::PacketPool pool{dp::kBatchSize};

    VxlanHarness() {
        std::error_code ec;
        sock = dp::TunnelSocket::create(dp::TunnelProto::kVxlan, htonl(INADDR_LOOPBACK), 0, ec);  // port 0: any free port
        if (!sock) throw std::runtime_error("vxlan fuzz: cannot bind a UDP socket on 127.0.0.1: " + ec.message());
        socklen_t len = sizeof to;
        ::getsockname(sock->socketFd(), reinterpret_cast<sockaddr*>(&to), &len);
        tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(tx, reinterpret_cast<sockaddr*>(&from), sizeof from);
        p11 = std::make_shared<dp::DummyPort>("vx11");
        p12 = std::make_shared<dp::DummyPort>("vx12");
        p13 = std::make_shared<dp::DummyPort>("vx13");
        auto d = std::make_shared<dp::TunnelDemux>();
        d->add(htonl(INADDR_LOOPBACK), 5000, 11, p11);
        d->add(0, 42, 12, p12);
        d->add(htonl(0x7f000002), 7, 13, p13);
        sock->setDemux(d);
    }
    ~VxlanHarness() {
        if (tx >= 0) ::close(tx);
    }
    static VxlanHarness& get() {
        static VxlanHarness h;
        return h;
    }
};

inline std::uint64_t vxlanDropTotal() {
    using dp::Coverage;
    std::uint64_t n = 0;
    for (Coverage c : {Coverage::drop_vxlan_short, Coverage::drop_vxlan_no_iflag,
                       Coverage::drop_vxlan_unknown_vni, Coverage::drop_vxlan_unknown_remote})
        n += dp::coverageRead(c);
    return n;
}

inline int vxlanDecap(const std::uint8_t* data, std::size_t size) {
    constexpr const char* kName = "vxlan_decap";
    if (size > 65000) return 0;  // bigger than one UDP datagram over IPv4
    VxlanHarness& h = VxlanHarness::get();
    std::uint64_t drops_before = vxlanDropTotal();
    std::uint64_t rx_before[3] = {h.p11->stats().rx_packets.load(), h.p12->stats().rx_packets.load(),
                                  h.p13->stats().rx_packets.load()};
    if (::sendto(h.tx, data, size, 0, reinterpret_cast<const sockaddr*>(&h.to), sizeof h.to) != ssize_t(size))
        fuzzFail(kName, "sendto on loopback failed");
    pollfd pfd{h.sock->fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 2000) != 1) fuzzFail(kName, "datagram never arrived on loopback");

    dp::Packet* pkts[dp::kBatchSize];
    for (int i = 0; i < dp::kBatchSize; ++i) pkts[i] = &h.pool[static_cast<std::size_t>(i)];
    int n = h.sock->receive(pkts, dp::kBatchSize);
    std::uint64_t drops = vxlanDropTotal() - drops_before;

    const bool header_ok = size >= 8 + 14 && (data[0] & 0x08);
    const std::uint32_t vni = size >= 8 ? std::uint32_t(data[4] << 16 | data[5] << 8 | data[6]) : 0;
    const std::uint32_t want_port = !header_ok ? 0 : vni == 5000 ? 11 : vni == 42 ? 12 : 0;
    if (n < 0 || n > 1) fuzzFail(kName, "receive() returned " + std::to_string(n) + " for one datagram");
    if (n == 0) {
        if (want_port) fuzzFail(kName, "a valid datagram for VNI " + std::to_string(vni) + " was dropped");
        if (drops != 1) fuzzFail(kName, "a dropped datagram bumped " + std::to_string(drops) + " drop counters");
        return 0;
    }
    if (!want_port) fuzzFail(kName, "accepted a datagram that RFC 7348 or the demux table refuses");
    if (drops != 0) fuzzFail(kName, "an accepted datagram also counted a drop");
    const dp::Packet& p = *pkts[0];
    if (p.size() != size - 8 || std::memcmp(p.data(), data + 8, size - 8) != 0)
        fuzzFail(kName, "inner frame differs from the datagram after its header");
    if (p.in_port != want_port || p.tun_id != vni || p.tun_src != htonl(INADDR_LOOPBACK))
        fuzzFail(kName, "wrong metadata (in_port, tun_id or tun_src)");
    std::uint64_t rx_after[3] = {h.p11->stats().rx_packets.load(), h.p12->stats().rx_packets.load(),
                                 h.p13->stats().rx_packets.load()};
    if (rx_after[want_port - 11] != rx_before[want_port - 11] + 1)
        fuzzFail(kName, "the tunnel port's rx_packets did not count the packet");
    dp::FlowKey key;
    dp::HeaderOffsets ofs;
    dp::Coverage why{};
    (void)dp::extractFlow(p.data(), p.size(), p.in_port, key, ofs, why);
    return 0;
}

}  // namespace vs::fuzz
