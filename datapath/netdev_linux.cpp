#include "datapath/netdev_linux.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace vs::dp::netdev {
namespace {

struct Sock {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ~Sock() { if (fd >= 0) ::close(fd); }
};

// Runs ioctl `op` on `name`. With `fresh`, `ifr` is cleared first (queries); without, the caller's
// fields are sent as they are (settings).
bool request(const std::string& name, unsigned long op, ifreq& ifr, std::error_code& ec, bool fresh = true) {
    if (name.empty() || name.size() >= IFNAMSIZ) { ec = std::make_error_code(std::errc::invalid_argument); return false; }
    if (fresh) std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    Sock s;
    if (s.fd < 0 || ::ioctl(s.fd, op, &ifr) < 0) { ec = std::error_code(errno, std::generic_category()); return false; }
    ec.clear();
    return true;
}

}  // namespace

int ifindex(const std::string& name, std::error_code& ec) {
    ifreq ifr;
    return request(name, SIOCGIFINDEX, ifr, ec) ? ifr.ifr_ifindex : 0;
}

MacAddr mac(const std::string& name, std::error_code& ec) {
    ifreq ifr;
    MacAddr m;
    if (request(name, SIOCGIFHWADDR, ifr, ec)) std::memcpy(m.b.data(), ifr.ifr_hwaddr.sa_data, 6);
    return m;
}

int mtu(const std::string& name, std::error_code& ec) {
    ifreq ifr;
    return request(name, SIOCGIFMTU, ifr, ec) ? ifr.ifr_mtu : 0;
}

bool isRunning(const std::string& name) {
    ifreq ifr;
    std::error_code ec;
    return request(name, SIOCGIFFLAGS, ifr, ec) && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

bool isUp(const std::string& name) {
    ifreq ifr;
    std::error_code ec;
    return request(name, SIOCGIFFLAGS, ifr, ec) && (ifr.ifr_flags & IFF_UP);
}

std::error_code setUp(const std::string& name) {
    ifreq ifr;
    std::error_code ec;
    if (!request(name, SIOCGIFFLAGS, ifr, ec)) return ec;
    if (ifr.ifr_flags & IFF_UP) return {};
    ifr.ifr_flags |= IFF_UP;
    request(name, SIOCSIFFLAGS, ifr, ec, false);
    return ec;
}

std::error_code setDown(const std::string& name) {
    ifreq ifr;
    std::error_code ec;
    if (!request(name, SIOCGIFFLAGS, ifr, ec)) return ec;
    if (!(ifr.ifr_flags & IFF_UP)) return {};
    ifr.ifr_flags &= ~IFF_UP;
    request(name, SIOCSIFFLAGS, ifr, ec, false);
    return ec;
}

}  // namespace vs::dp::netdev
