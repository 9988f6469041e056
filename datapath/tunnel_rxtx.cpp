// Per-packet code for tunnels: decapsulation, encapsulation, ICMP for frames over the tunnel MTU.
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#include "datapath/coverage.h"
#include "datapath/flow_key.h"
#include "datapath/tunnel.h"

namespace vs::dp {
namespace {
constexpr std::size_t kUdpTunnelHdr = 8;  // VXLAN's header; Geneve's without options (what we send)
constexpr std::size_t kMaxLoopback = 64;
inline void put16(std::uint8_t* p, std::uint16_t v) { p[0] = static_cast<std::uint8_t>(v >> 8); p[1] = static_cast<std::uint8_t>(v); }
inline std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
}  // namespace

// The header's checks are tunnel_header.h's; a packet no port takes is counted by protocol.
const TunnelDemux::Target* TunnelSocket::demux(const std::uint8_t* h, std::size_t len, const sockaddr_in& from,
                                               const TunnelDemux& demux, TunnelHeader& hdr) noexcept {
    hdr = parseTunnelHeader(proto_, h, len);
    if (!hdr.ok) { coverageAdd(hdr.why); return nullptr; }
    if (hdr.geneve_opts) coverageAdd(Coverage::geneve_options_skipped, hdr.geneve_opts);
    bool key_known = false;
    const TunnelDemux::Target* target = demux.find(from.sin_addr.s_addr, hdr.tun_id, key_known);
    if (target) return target;
    static constexpr Coverage kUnknown[3][2] = {
        {Coverage::drop_vxlan_unknown_vni, Coverage::drop_vxlan_unknown_remote},
        {Coverage::drop_geneve_unknown_vni, Coverage::drop_geneve_unknown_remote},
        {Coverage::drop_gre_unknown_key, Coverage::drop_gre_unknown_remote}};
    coverageAdd(kUnknown[static_cast<int>(proto_)][key_known ? 1 : 0]);
    return nullptr;
}

namespace {
// The segment size of a datagram the kernel coalesced (UDP_GRO control message), or 0.
std::uint32_t groSegmentSize(const msghdr& m) noexcept {
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == 104 /* UDP_GRO */) {
            int v;
            std::memcpy(&v, CMSG_DATA(c), sizeof v);
            return v > 0 ? static_cast<std::uint32_t>(v) : 0;
        }
    }
    return 0;
}
}  // namespace

// Hands the segments of the received datagrams to gro_, from where the last call stopped.
bool TunnelSocket::drain(std::uint64_t& dropped) noexcept {
    RxBuffers& rx = *rx_;
    for (; rx.next < rx.count; ++rx.next, rx.off = 0) {
        const mmsghdr& m = rx.msgs[rx.next];
        if (m.msg_hdr.msg_flags & MSG_TRUNC) { ++dropped; continue; }
        const std::uint8_t* d = rx.data.get() + RxBuffers::kSlot * static_cast<std::size_t>(rx.next);
        std::uint32_t len = m.msg_len, seg = groSegmentSize(m.msg_hdr);
        if (proto_ == TunnelProto::kGre && rx.off == 0) {  // a raw socket's packet starts with its IPv4 header
            std::uint32_t ihl = len ? (d[0] & 0x0fu) * 4 : 0;
            if (ihl < 20 || ihl > len) { coverageAdd(Coverage::drop_gre_short); ++dropped; continue; }
            rx.off = ihl;
        }
        if (!seg) seg = len - rx.off;
        while (rx.off < len) {
            std::uint32_t n = std::min(seg, len - rx.off);
            const std::uint8_t* h = d + rx.off;
            TunnelHeader th;
            const TunnelDemux::Target* t = demux(h, n, rx.from[rx.next], *cached_, th);
            if (!t) {
                ++dropped;
            } else {
                TunnelRx meta{t->port_no, th.tun_id, rx.from[rx.next].sin_addr.s_addr, 0};
                std::uint32_t inner = n - static_cast<std::uint32_t>(th.inner);
                if (!gro_.add(h + th.inner, inner, meta)) return false;
                PortStats::add(t->port->stats().rx_packets, 1);  // the tunnel interface's own counters
                PortStats::add(t->port->stats().rx_bytes, inner);
            }
            rx.off += n;
        }
    }
    return true;
}

// Keeps the eventfd in fd()'s epoll set readable exactly while segments wait in rx_.
void TunnelSocket::notePending() noexcept {
    bool pending = rx_->next < rx_->count;
    if (pending == pend_signalled_) return;
    std::uint64_t v = 1;
    if (pending) (void)!::write(pend_fd_, &v, sizeof v);
    else (void)!::read(pend_fd_, &v, sizeof v);
    pend_signalled_ = pending;
}

int TunnelSocket::receive(Packet** pkts, int max) noexcept {
    if (demux_version_.load(std::memory_order_acquire) != seen_version_) {
        std::lock_guard lk(mu_);
        cached_ = demux_;
        seen_version_ = demux_version_.load(std::memory_order_relaxed);
    }
    if (max > kBatchSize) max = kBatchSize;
    std::uint64_t dropped = 0, merged = gro_.merged(), partial = gro_.partial();
    gro_.begin(pkts, max);
    if (drain(dropped)) {  // nothing left over from the last call: read more
        RxBuffers& rx = *rx_;
        for (int i = 0; i < max; ++i) {
            rx.iov[i] = {rx.data.get() + RxBuffers::kSlot * static_cast<std::size_t>(i), RxBuffers::kSlot};
            rx.msgs[i].msg_hdr = {&rx.from[i], sizeof rx.from[i], &rx.iov[i], 1, rx.control[i], sizeof rx.control[i], 0};
        }
        int r = ::recvmmsg(fd_, rx.msgs, static_cast<unsigned>(max), MSG_DONTWAIT, nullptr);
        rx.count = r > 0 ? r : 0;
        rx.next = 0;
        rx.off = 0;
        drain(dropped);
    }
    int n = gro_.finish();
    notePending();
    std::uint64_t bytes = 0;
    for (int i = 0; i < n; ++i) bytes += pkts[i]->size();
    stats().addRx(static_cast<std::uint64_t>(n), bytes, dropped);
    if (gro_.merged() != merged) coverageAdd(Coverage::tunnel_rx_gro_merged, gro_.merged() - merged);
    if (gro_.partial() != partial) coverageAdd(Coverage::tunnel_rx_csum_partial, gro_.partial() - partial);
    return n;
}

int TunnelPort::receive(Packet** pkts, int max) noexcept {
    std::uint64_t v;
    (void)!::read(loop_fd_, &v, sizeof v);
    int n = 0;
    std::lock_guard lk(txMutex());  // send() (any poll thread) fills loopback_
    while (n < max && !loopback_.empty()) {
        Packet& p = *pkts[n];
        p.reset();
        auto& f = loopback_.front();
        std::memcpy(p.data(), f.bytes.data(), f.bytes.size());
        p.setSize(static_cast<std::uint32_t>(f.bytes.size()));
        p.tun_id = f.tun_id;
        p.tun_src = f.tun_src;
        loopback_.pop_front();
        ++n;
    }
    PortStats::add(stats().rx_packets, static_cast<std::uint64_t>(n));
    return n;
}

// True when `w`, an IPv4 frame with DF set, exceeds the tunnel's MTU for inner L3 packets.
bool TunnelPort::tooBig(const WireFrame& w, std::size_t l3_off, int mtu) noexcept {
    if (mtu <= 0 || w.size() <= l3_off + 20) return false;
    if (overhead_ + w.size() <= static_cast<std::size_t>(mtu)) return false;
    // Copied headers always include L3 and L4; a frame without copied headers is all payload.
    const std::uint8_t* ip = w.hdr_len ? w.hdr + l3_off : w.payload + l3_off;
    return (ip[0] >> 4) == 4 && (ip[6] & 0x40);  // IPv4 with DF
}

// Builds ICMP type 3 code 4 (RFC 792, next-hop MTU per RFC 1191) back to the sender, as if from the
// destination, and queues it to be received from this port.
void TunnelPort::fragNeeded(const Packet& p, int mtu, std::uint32_t dst, std::uint64_t key) noexcept {
    const std::uint8_t* d = p.data();
    std::size_t l2 = (get16(d + 12) == kEthTypeVlan) ? 18 : 14;
    const std::uint8_t* ip = d + l2;
    std::size_t ihl = (ip[0] & 0x0f) * 4u;
    if (loopback_.size() >= kMaxLoopback || p.size() < l2 + ihl + 8) return;
    std::vector<std::uint8_t> f(l2 + 20 + 8 + ihl + 8);
    std::memcpy(f.data(), d + 6, 6);      // to the sender's MAC
    std::memcpy(f.data() + 6, d, 6);      // from the destination's
    std::memcpy(f.data() + 12, d + 12, l2 - 12);
    std::uint8_t* oip = f.data() + l2;
    oip[0] = 0x45;
    put16(oip + 2, static_cast<std::uint16_t>(20 + 8 + ihl + 8));
    oip[8] = 64;
    oip[9] = 1;
    std::memcpy(oip + 12, ip + 16, 4);
    std::memcpy(oip + 16, ip + 12, 4);
    put16(oip + 10, static_cast<std::uint16_t>(~csumFold(csumPartial(oip, 20, 0))));
    std::uint8_t* icmp = oip + 20;
    icmp[0] = 3;
    icmp[1] = 4;
    put16(icmp + 6, static_cast<std::uint16_t>(mtu - overhead_ - l2));  // largest inner IP packet
    std::memcpy(icmp + 8, ip, ihl + 8);
    put16(icmp + 2, static_cast<std::uint16_t>(~csumFold(csumPartial(icmp, 8 + ihl + 8, 0))));
    loopback_.push_back({std::move(f), dst, key});
    std::uint64_t one = 1;
    (void)!::write(loop_fd_, &one, sizeof one);
    coverageAdd(Coverage::tunnel_icmp_frag_needed);
}

int TunnelPort::send(Packet* const* pkts, int n) noexcept {
    std::uint64_t dropped = 0;
    int sent = 0;
    const bool udp = cfg_.proto != TunnelProto::kGre;
    for (int i = 0; i < n; ++i) {
        const Packet& p = *pkts[i];
        std::uint32_t dst = cfg_.remote_flow ? p.tun_dst : cfg_.remote_ip;
        std::uint64_t key = cfg_.key_flow ? p.tun_id : cfg_.key;
        if (!dst) { coverageAdd(Coverage::drop_tunnel_no_destination); ++dropped; continue; }
        std::size_t before = frames_.size();
        if (softwareOffload(p, frames_) != OffloadResult::kOk) {
            frames_.resize(before);
            coverageAdd(Coverage::drop_tunnel_offload);
            ++dropped;
            continue;
        }
        std::size_t l2 = (p.size() >= 14 && get16(p.data() + 12) == kEthTypeVlan) ? 18 : 14;
        bool ipv4 = p.size() >= l2 && get16(p.data() + l2 - 2) == kEthTypeIPv4;
        int mtu = ipv4 ? pathMtu(dst) : 0;
        if (mtu && tooBig(frames_[before], l2, mtu)) {
            frames_.resize(before);
            fragNeeded(p, mtu, dst, key);
            ++dropped;
            continue;
        }
        std::size_t sock = udp ? (p.hash ^ (p.hash >> 32)) % gso_ports_.size() : 0;
        if (udp && frames_.size() - before > 1 && buildGso(before, key)) {
            std::size_t segments = frames_.size() - before;
            frames_.resize(before);
            flush();  // earlier frames first: no reordering within a flow
            sendGso(dst, sock, segments);
            ++sent;
            continue;
        }
        for (std::size_t k = before; k < frames_.size(); ++k) queue(k, dst, key, sock);
        ++sent;
        if (frames_.size() >= 64) flush();
    }
    flush();
    PortStats::add(stats().tx_dropped, dropped);
    return sent;
}

namespace {
// RFC 1071 sum of a frame in two pieces, whatever their lengths' parity.
std::uint32_t frameSum(const WireFrame& w) noexcept {
    if (!(w.hdr_len & 1)) return csumPartial(w.payload, w.payload_len, csumPartial(w.hdr, w.hdr_len, 0));
    std::uint8_t buf[sizeof w.hdr + 1];
    std::memcpy(buf, w.hdr, w.hdr_len);
    buf[w.hdr_len] = w.payload_len ? w.payload[0] : 0;
    std::uint32_t sum = csumPartial(buf, w.hdr_len + (w.payload_len ? 1u : 0u), 0);
    return w.payload_len ? csumPartial(w.payload + 1, w.payload_len - 1, sum) : sum;
}
}  // namespace

// Queues frames_[k] for the next flush(): its outer headers (UDP + VXLAN/Geneve with the flow's
// source port, or GRE) and destination.
void TunnelPort::queue(std::size_t k, std::uint32_t dst, std::uint64_t key, std::size_t sock) noexcept {
    Pending& pd = pending_.emplace_back();
    const WireFrame& w = frames_[k];
    pd.to = {};
    pd.to.sin_family = AF_INET;
    pd.to.sin_addr.s_addr = dst;
    if (cfg_.proto == TunnelProto::kGre) {
        pd.hdr_len = static_cast<std::uint8_t>(buildTunnelHeader(cfg_.proto, pd.hdr, key, cfg_.key_present, cfg_.csum));
        pd.sock = -1;
        if (cfg_.csum) greFinishCsum(pd.hdr, pd.hdr_len, frameSum(w));
        return;
    }
    std::size_t t = buildTunnelHeader(cfg_.proto, pd.hdr + 8, key, false, false);
    if (cfg_.csum) {  // through the flow's UDP socket: the kernel adds UDP and its checksum
        std::memmove(pd.hdr, pd.hdr + 8, t);
        pd.hdr_len = static_cast<std::uint8_t>(t);
        pd.sock = static_cast<std::int8_t>(sock);
        pd.to.sin_port = htons(cfg_.dst_port);
        return;
    }
    put16(pd.hdr, gso_ports_[sock]);
    put16(pd.hdr + 2, cfg_.dst_port);
    put16(pd.hdr + 4, static_cast<std::uint16_t>(8 + t + w.size()));
    put16(pd.hdr + 6, 0);  // no UDP checksum (RFC 7348 section 5, RFC 8926 section 3.3)
    pd.hdr_len = static_cast<std::uint8_t>(8 + t);
    pd.sock = -1;
}

// Copies frames_[first..] (equal-sized TCP segments, the last possibly shorter), each behind its
// VXLAN/Geneve header, into gso_buf_. False if the sizes do not allow one UDP GSO train.
bool TunnelPort::buildGso(std::size_t first, std::uint64_t key) noexcept {
    gso_segment_ = static_cast<std::uint16_t>(kUdpTunnelHdr + frames_[first].size());
    gso_buf_.clear();
    std::uint8_t th[kMaxTunnelHeader];
    buildTunnelHeader(cfg_.proto, th, key, false, false);
    for (std::size_t k = first; k < frames_.size(); ++k) {
        const WireFrame& w = frames_[k];
        if (k + 1 < frames_.size() && kUdpTunnelHdr + w.size() != gso_segment_) return false;
        gso_buf_.insert(gso_buf_.end(), th, th + kUdpTunnelHdr);
        gso_buf_.insert(gso_buf_.end(), w.hdr, w.hdr + w.hdr_len);
        gso_buf_.insert(gso_buf_.end(), w.payload, w.payload + w.payload_len);
    }
    return true;
}

// Sends gso_buf_ as UDP GSO sends (UDP_SEGMENT) of at most kUdpGsoMaxSegs segments each: the
// kernel cuts each every gso_segment_ bytes and adds UDP/IP headers. A send the kernel refuses for
// another reason than a full queue (a segment over the path MTU, say) falls back to one datagram
// per segment; a full queue (txQueueFull) drops the rest of the frame, counted.
void TunnelPort::sendGso(std::uint32_t dst, std::size_t sock, std::size_t segments) noexcept {
    constexpr std::size_t kUdpGsoMaxSegs = 64;  // UDP_MAX_SEGMENTS of every kernel since 4.18
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(cfg_.dst_port);
    to.sin_addr.s_addr = dst;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint16_t))] = {};
    iovec iov{};
    msghdr mh{&to, sizeof to, &iov, 1, control, sizeof control, 0};
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    std::memcpy(CMSG_DATA(c), &gso_segment_, sizeof gso_segment_);
    // One send carries at most 64 segments and one UDP datagram's worth of bytes (65,507 over
    // IPv4): a 64 KiB TSO frame makes 45 segments of ~1,460 bytes with their VXLAN headers, just
    // over it, and a send that asks for more fails with EMSGSIZE.
    constexpr std::size_t kMaxUdpPayload = 65535 - 20 - 8;
    const std::size_t total = gso_buf_.size(),
                      chunk = std::min(kUdpGsoMaxSegs, kMaxUdpPayload / gso_segment_) * gso_segment_;
    std::size_t failed = 0, busy = 0, sent_bytes = 0;  // sent_bytes: inner frames, without VXLAN headers
    auto inner = [&](std::size_t len) { return len - (len + gso_segment_ - 1) / gso_segment_ * kUdpTunnelHdr; };
    for (std::size_t base = 0; base < total && !busy; base += chunk) {
        iov = {gso_buf_.data() + base, std::min(chunk, total - base)};
        if (::sendmsg(gso_fds_[sock], &mh, MSG_DONTWAIT) >= 0) {
            sent_bytes += inner(iov.iov_len);
            continue;
        }
        coverageAdd(Coverage::tunnel_tx_gso_fallback);
        for (std::size_t off = base; off < base + iov.iov_len; off += gso_segment_) {
            std::size_t len = std::min<std::size_t>(gso_segment_, total - off);
            if (::sendto(gso_fds_[sock], gso_buf_.data() + off, len, MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&to), sizeof to) >= 0) {
                sent_bytes += len - kUdpTunnelHdr;
                continue;
            }
            if (txQueueFull(errno)) {
                busy = (total - off + gso_segment_ - 1) / gso_segment_;
                break;
            }
            coverageAdd(Coverage::drop_tx_error);
            ++failed;
        }
    }
    if (busy) coverageAdd(Coverage::drop_tx_busy, busy);
    PortStats::add(stats().tx_packets, segments - failed - busy);
    PortStats::add(stats().tx_bytes, sent_bytes);
    PortStats::add(stats().tx_dropped, failed + busy);
}

void TunnelPort::flush() noexcept {
    std::size_t n = frames_.size();
    if (n == 0) return;
    msgs_.resize(n);
    iovs_.resize(n);
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        iovs_[i][0] = {pending_[i].hdr, pending_[i].hdr_len};
        iovs_[i][1] = {frames_[i].hdr, frames_[i].hdr_len};
        iovs_[i][2] = {const_cast<std::uint8_t*>(frames_[i].payload), frames_[i].payload_len};
        msgs_[i].msg_hdr = {&pending_[i].to, sizeof(sockaddr_in), iovs_[i].data(), 3, nullptr, 0, 0};
        bytes += frames_[i].size();
    }
    std::size_t done = 0, failed = 0;
    while (done < n) {
        // One sendmmsg per run of frames that leave through the same socket.
        std::size_t run = done + 1;
        while (run < n && pending_[run].sock == pending_[done].sock) ++run;
        int fd = pending_[done].sock < 0 ? raw_fd_ : gso_fds_[static_cast<std::size_t>(pending_[done].sock)];
        int r = ::sendmmsg(fd, msgs_.data() + done, static_cast<unsigned>(run - done), MSG_DONTWAIT);
        if (r > 0) { done += static_cast<std::size_t>(r); continue; }
        if (errno == EINTR) continue;
        if (txQueueFull(errno)) {  // the rest would fail the same way
            coverageAdd(Coverage::drop_tx_busy, n - done);
            failed += n - done;
            break;
        }
        coverageAdd(Coverage::drop_tx_error);
        ++failed;
        ++done;
    }
    PortStats::add(stats().tx_packets, n - failed);
    PortStats::add(stats().tx_bytes, bytes);
    PortStats::add(stats().tx_dropped, failed);
    frames_.clear();
    pending_.clear();
}

}  // namespace vs::dp
