#include "datapath/tap_port.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "datapath/coverage.h"
#include "datapath/netdev_linux.h"

namespace vs::dp {

// --- control ---

std::unique_ptr<TapPort> TapPort::create(const std::string& name, std::error_code& ec) {
    if (name.empty() || name.size() >= IFNAMSIZ) { ec = std::make_error_code(std::errc::invalid_argument); return nullptr; }
    // A device of that name that is not ours (a veth, another daemon's TAP) must not be taken over.
    std::error_code probe;
    if (netdev::ifindex(name, probe) > 0) { ec = std::make_error_code(std::errc::file_exists); return nullptr; }
    int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) { ec = std::error_code(errno, std::generic_category()); return nullptr; }
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    int hdr = sizeof(virtio_net_hdr);
    unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0 || ::ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
        ::ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
        ec = std::error_code(errno, std::generic_category());
        ::close(fd);
        return nullptr;
    }
    ec = netdev::setUp(name);
    if (ec) { ::close(fd); return nullptr; }
    return std::unique_ptr<TapPort>(new TapPort(name, fd));
}

TapPort::~TapPort() {
    if (fd_ >= 0) ::close(fd_);
}


// --- per packet ---

int TapPort::receive(Packet** pkts, int max) noexcept {
    int n = 0;
    std::uint64_t bytes = 0, dropped = 0;
    while (n < max) {
        Packet& p = *pkts[n];
        p.reset();
        iovec iov[2] = {{&p.vnet, sizeof(virtio_net_hdr)}, {p.data(), p.tailroom()}};
        ssize_t r = ::readv(fd_, iov, 2);
        if (r < 0) break;  // EAGAIN: nothing more
        if (static_cast<std::size_t>(r) < sizeof(virtio_net_hdr)) { ++dropped; coverageAdd(Coverage::drop_runt); continue; }
        p.setSize(static_cast<std::uint32_t>(r - sizeof(virtio_net_hdr)));
        bytes += p.size();
        ++n;
    }
    stats().addRx(static_cast<std::uint64_t>(n), bytes, dropped);
    return n;
}

int TapPort::send(Packet* const* pkts, int n) noexcept {
    int sent = 0;
    std::uint64_t bytes = 0, dropped = 0;
    for (int i = 0; i < n; ++i) {
        Packet& p = *pkts[i];
        iovec iov[2] = {{&p.vnet, sizeof(virtio_net_hdr)}, {p.data(), p.size()}};
        if (::writev(fd_, iov, 2) < 0) {
            if (txQueueFull(errno)) {  // the rest would fail the same way
                coverageAdd(Coverage::drop_tx_busy, static_cast<std::uint64_t>(n - i));
                dropped += static_cast<std::uint64_t>(n - i);
                break;
            }
            coverageAdd(Coverage::drop_tx_error);
            ++dropped;
            continue;
        }
        ++sent;
        bytes += p.size();
    }
    PortStats::add(stats().tx_packets, static_cast<std::uint64_t>(sent));
    PortStats::add(stats().tx_bytes, bytes);
    PortStats::add(stats().tx_dropped, dropped);
    return sent;
}

}  // namespace vs::dp
