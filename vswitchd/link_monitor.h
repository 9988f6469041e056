// Link monitor: rtnetlink RTNLGRP_LINK notifications through libnl (no polling of sysfs),
// delivered on the daemon's io_context. Each event names the netdev, its ifindex and whether it
// is up with carrier; deletions say so. The reconciler uses it to (re)open ports whose netdev
// appears, disappears or is recreated; bonds use carrier changes.
//
// Thread-safety: control thread only (the socket's fd is an Asio descriptor on the io_context).
// Lifecycle: construct (subscribes), events flow while the io_context runs, destroy to stop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

struct nl_sock;
struct nl_msg;

namespace vs::vswitchd {

struct LinkEvent {
    std::string name;
    int ifindex = 0;
    bool deleted = false;  // RTM_DELLINK
    bool up = false;       // IFF_UP
    bool running = false;  // IFF_RUNNING: carrier
    // Notifications were lost (the netlink socket's receive buffer overflowed: many links changed
    // at once): `name` is empty and every link must be treated as possibly changed.
    bool resync = false;
};

class LinkMonitor {
public:
    using Callback = std::function<void(const LinkEvent&)>;
    // Throws std::system_error if the netlink socket cannot be opened.
    LinkMonitor(boost::asio::io_context& io, Callback cb);
    ~LinkMonitor();
    LinkMonitor(const LinkMonitor&) = delete;
    LinkMonitor& operator=(const LinkMonitor&) = delete;

private:
    static constexpr int kRcvBufBytes = 8 << 20;
    void arm();
    static int onMessage(nl_msg* msg, void* self);

    nl_sock* sock_ = nullptr;
    std::unique_ptr<boost::asio::posix::stream_descriptor> fd_;
    Callback cb_;
};

}  // namespace vs::vswitchd
