#include "vswitchd/link_monitor.h"

#include <net/if.h>
#include <sys/socket.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <unistd.h>

#include "vswitchd/log.h"

namespace {
constexpr vs::log::Module kLog = vs::log::Module::kNetlink;  // vlog/set module
}

namespace vs::vswitchd {

LinkMonitor::LinkMonitor(boost::asio::io_context& io, Callback cb) : cb_(std::move(cb)) {
    sock_ = nl_socket_alloc();
    if (!sock_) throw std::system_error(ENOMEM, std::generic_category(), "netlink socket");
    nl_socket_disable_seq_check(sock_);
    nl_socket_modify_cb(sock_, NL_CB_VALID, NL_CB_CUSTOM, &LinkMonitor::onMessage, this);
    int err = nl_connect(sock_, NETLINK_ROUTE);
    if (err == 0) err = nl_socket_add_membership(sock_, RTNLGRP_LINK);
    if (err == 0) err = nl_socket_set_nonblocking(sock_);
    if (err < 0) {
        nl_socket_free(sock_);
        throw std::system_error(EIO, std::generic_category(), std::string("netlink link monitor: ") + nl_geterror(err));
    }
    // Room for bursts of notifications (adding a thousand ports sends thousands); an overflow is
    // still survived (resync below).
    int bytes = kRcvBufBytes;
    if (::setsockopt(nl_socket_get_fd(sock_), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        nl_socket_set_buffer_size(sock_, bytes, 0);
    // Asio gets its own descriptor; libnl keeps reading from the original.
    fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io, ::dup(nl_socket_get_fd(sock_)));
    arm();
}

LinkMonitor::~LinkMonitor() {
    fd_.reset();
    if (sock_) nl_socket_free(sock_);
}

void LinkMonitor::arm() {
    fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
        if (ec) return;
        int err = nl_recvmsgs_default(sock_);
        if (err == -NLE_NOMEM) {  // ENOBUFS: the kernel dropped notifications
            static log::RateLimiter rl(10, 5);  // a storm of link changes
            log::warnRl(kLog, rl, "netlink link monitor: notifications lost (receive buffer overflow); resynchronizing");
            LinkEvent ev;
            ev.resync = true;
            cb_(ev);
        } else if (err < 0 && err != -NLE_AGAIN) {
            static log::RateLimiter rl(10, 5);
            log::warnRl(kLog, rl, "netlink link monitor: {}", nl_geterror(err));
        }
        arm();
    });
}

int LinkMonitor::onMessage(nl_msg* msg, void* arg) {
    auto* self = static_cast<LinkMonitor*>(arg);
    LinkEvent ev;
    ev.deleted = nlmsg_hdr(msg)->nlmsg_type == RTM_DELLINK;
    nl_msg_parse(msg, [](nl_object* obj, void* p) {
        auto* e = static_cast<LinkEvent*>(p);
        auto* link = reinterpret_cast<rtnl_link*>(obj);
        if (const char* n = rtnl_link_get_name(link)) e->name = n;
        e->ifindex = rtnl_link_get_ifindex(link);
        unsigned flags = rtnl_link_get_flags(link);
        e->up = flags & IFF_UP;
        e->running = flags & IFF_RUNNING;
    }, &ev);
    if (!ev.name.empty()) self->cb_(ev);
    return NL_OK;
}

}  // namespace vs::vswitchd
