// Control code for tunnels: sockets and the demux table. See tunnel.h.
#include "datapath/tunnel.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace vs::dp {
namespace {

constexpr int kUdpGro = 104;  // UDP_GRO, <linux/udp.h>
std::error_code lastError() { return std::error_code(errno, std::generic_category()); }

std::string ipText(std::uint32_t ip) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip, b, sizeof b);
    return b;
}

}  // namespace

const TunnelDemux::Target* TunnelDemux::find(std::uint32_t remote, std::uint64_t key, bool& key_known) const {
    key_known = false;
    for (auto k : {std::pair{remote, key}, std::pair{0u, key}, std::pair{remote, kAnyKey}, std::pair{0u, kAnyKey}}) {
        auto it = ports.find(k);
        if (it != ports.end()) return &it->second;
    }
    for (const auto& [k, target] : ports)
        if (k.second == key) key_known = true;
    return nullptr;
}

namespace {
int openGreReceiver(std::uint32_t local_ip, std::error_code& ec) {
    int fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE);
    if (fd < 0) { ec = lastError(); return -1; }
    int big = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = local_ip;  // a raw socket bound to an address receives only what is sent to it
    if (local_ip && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        ec = lastError();
        ::close(fd);
        return -1;
    }
    return fd;
}
}  // namespace

std::unique_ptr<TunnelSocket> TunnelSocket::create(TunnelProto proto, std::uint32_t local_ip, std::uint16_t dst_port,
                                                   std::error_code& ec) {
    if (proto == TunnelProto::kGre) {
        int fd = openGreReceiver(local_ip, ec);
        if (fd < 0) return nullptr;
        std::unique_ptr<TunnelSocket> s(new TunnelSocket("gre_sock:" + ipText(local_ip), proto, fd));
        if (!s->setupPoll(ec)) return nullptr;
        ec.clear();
        return s;
    }
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { ec = lastError(); return nullptr; }
    int one = 1;  // a wildcard socket and one per local_ip may share dst_port (most specific wins)
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int big = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(dst_port);
    sa.sin_addr.s_addr = local_ip;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        ec = lastError();
        ::close(fd);
        return nullptr;
    }
    // Let the kernel hand us a train of equal-sized datagrams of one sender as one buffer when it
    // has them so (GRO on the underlay NIC, or a UDP_SEGMENT send that never got split, e.g. a
    // peer vswitch over a veth): one copy and one syscall for up to 64 of them. Linux >= 5.0;
    // without it every datagram comes alone, which receive() handles the same way.
    ::setsockopt(fd, SOL_UDP, kUdpGro, &one, sizeof one);
    std::unique_ptr<TunnelSocket> s(new TunnelSocket(std::string(tunnelProtoName(proto)) + "_sock:" + ipText(local_ip) +
                                                     ":" + std::to_string(dst_port), proto, fd));
    if (!s->setupPoll(ec)) return nullptr;
    ec.clear();
    return s;
}

TunnelSocket::TunnelSocket(std::string name, TunnelProto proto, int fd)
    : Port(std::move(name)), proto_(proto), fd_(fd), rx_(std::make_unique<RxBuffers>()) {}

bool TunnelSocket::setupPoll(std::error_code& ec) {
    ep_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    pend_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep_fd_ < 0 || pend_fd_ < 0) { ec = lastError(); return false; }
    for (int f : {fd_, pend_fd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = f;
        if (::epoll_ctl(ep_fd_, EPOLL_CTL_ADD, f, &ev) < 0) { ec = lastError(); return false; }
    }
    return true;
}

TunnelSocket::~TunnelSocket() {
    for (int f : {ep_fd_, pend_fd_, fd_})
        if (f >= 0) ::close(f);
}

void TunnelSocket::setDemux(std::shared_ptr<const TunnelDemux> d) {
    std::lock_guard lk(mu_);
    demux_ = std::move(d);
    demux_version_.fetch_add(1, std::memory_order_release);
}

std::unique_ptr<TunnelPort> TunnelPort::create(const std::string& name, const TunnelConfig& cfg, std::error_code& ec) {
    int raw = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       cfg.proto == TunnelProto::kGre ? IPPROTO_GRE : IPPROTO_UDP);
    if (raw < 0) { ec = lastError(); return nullptr; }
    // Transmit only: a filter that accepts nothing keeps the kernel from queueing us every UDP (GRE) packet.
    sock_filter reject{BPF_RET | BPF_K, 0, 0, 0};
    sock_fprog prog{1, &reject};
    ::setsockopt(raw, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
    int sndbuf = 4 << 20;
    if (::setsockopt(raw, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
        ::setsockopt(raw, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (cfg.tos) ::setsockopt(raw, IPPROTO_IP, IP_TOS, &cfg.tos, sizeof cfg.tos);
    if (cfg.ttl) ::setsockopt(raw, IPPROTO_IP, IP_TTL, &cfg.ttl, sizeof cfg.ttl);
    if (cfg.local_ip) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = cfg.local_ip;
        if (::bind(raw, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
            ec = lastError();
            ::close(raw);
            return nullptr;
        }
    }
    int loop = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop < 0) { ec = lastError(); ::close(raw); return nullptr; }
    std::unique_ptr<TunnelPort> port(new TunnelPort(name, cfg, raw, loop));
    if (cfg.proto != TunnelProto::kGre && !port->openGsoSockets(ec)) return nullptr;
    ec.clear();
    return port;
}

bool TunnelPort::openGsoSockets(std::error_code& ec) {
    for (std::size_t i = 0; i < kGsoSockets; ++i) {
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) { ec = lastError(); return false; }
        gso_fds_.push_back(fd);
        int sndbuf = 4 << 20, rcvbuf = 4096;
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // transmit only
        if (cfg_.tos) ::setsockopt(fd, IPPROTO_IP, IP_TOS, &cfg_.tos, sizeof cfg_.tos);
        if (cfg_.ttl) ::setsockopt(fd, IPPROTO_IP, IP_TTL, &cfg_.ttl, sizeof cfg_.ttl);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = cfg_.local_ip;
        socklen_t len = sizeof sa;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
            ec = lastError();
            return false;
        }
        gso_ports_.push_back(ntohs(sa.sin_port));
    }
    gso_buf_.reserve(128 * 1024);
    return true;
}

TunnelPort::TunnelPort(std::string name, const TunnelConfig& cfg, int raw_fd, int loop_fd)
    : Port(std::move(name)), cfg_(cfg), raw_fd_(raw_fd), loop_fd_(loop_fd),
      overhead_(tunnelOverhead(cfg.proto, cfg.key_present, cfg.csum)) {
    frames_.reserve(128);
    pending_.reserve(128);
}

TunnelPort::~TunnelPort() {
    if (raw_fd_ >= 0) ::close(raw_fd_);
    if (loop_fd_ >= 0) ::close(loop_fd_);
    for (int fd : gso_fds_) ::close(fd);
}

// Path MTU towards `remote` as the kernel knows it (IP_MTU of a connected UDP socket), rechecked
// every few seconds; 0 if unknown.
int TunnelPort::pathMtu(std::uint32_t remote) noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    std::int64_t now = ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
    if (mtus_.size() >= 4096 && !mtus_.count(remote)) mtus_.clear();  // many VTEPs: start over
    PathMtu& c = mtus_[remote];
    if (c.mtu && now - c.checked_ms < 5000) return c.mtu;
    c.checked_ms = now;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return c.mtu;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(cfg_.proto == TunnelProto::kGre ? 9 : cfg_.dst_port);  // GRE: any port, for the route
    sa.sin_addr.s_addr = remote;
    int mtu = 0;
    socklen_t len = sizeof mtu;
    if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        ::getsockopt(s, IPPROTO_IP, IP_MTU, &mtu, &len) == 0)
        c.mtu = mtu;
    ::close(s);
    return c.mtu;
}

}  // namespace vs::dp
