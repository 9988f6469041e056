"""Link notifications lost to a netlink receive-buffer overflow are survived.

The daemon hears about links coming and going through an rtnetlink socket (8 MB buffer). While
it is stopped, a burst of link events fills that buffer, and a port's device is deleted and
created again: the kernel drops those notifications (ENOBUFS). When the daemon runs again it must
notice the overflow, recheck every interface it has open, and reopen the port on the new device,
or the port stays bound to a device that no longer exists and forwards nothing.
"""
import os
import signal
import tempfile

from lib.proc import check
from lib.traffic import ping
from lib.vlan import wait_until

EVENTS = 16000   # MTU changes on a veth end: each one an RTM_NEWLINK of 1-3 KB of buffer


def _recreate(h):
    """Deletes the host's veth pair and makes it again with the same names, MAC and address."""
    check(["ip", "link", "del", h.sw_port])
    check(["ip", "link", "add", h.sw_port, "type", "veth", "peer", "name", h.ifname, "netns", h.ns])
    check(["ip", "-n", h.ns, "link", "set", h.ifname, "address", h.mac])
    check(["ip", "-n", h.ns, "addr", "add", f"{h.ip}/24", "dev", h.ifname])
    check(["ip", "link", "set", h.sw_port, "up"])
    check(["ip", "-n", h.ns, "link", "set", h.ifname, "up"])


def _event_burst(link):
    with tempfile.NamedTemporaryFile("w", suffix=".batch", delete=False) as f:
        for i in range(EVENTS):
            f.write(f"link set dev {link} mtu {1400 + i % 2}\n")
        path = f.name
    try:
        check(["ip", "-batch", path], timeout=120)
    finally:
        os.unlink(path)


def test_port_recreated_while_notifications_were_lost_is_reopened(lan):
    net = lan(2)
    d = net.daemon
    h1, h2 = net.hosts
    assert ping(h1, h2.ip).rc == 0
    spare, _ = net.topo.add_link_pair()   # a link of our own to change (no port on it)
    os.kill(d.pid, signal.SIGSTOP)
    try:
        _event_burst(spare)       # fills the daemon's netlink buffer: later events are dropped
        _recreate(h2)             # so the daemon never hears of this one
    finally:
        os.kill(d.pid, signal.SIGCONT)
    assert wait_until(lambda: "notifications lost" in d.log_tail(), timeout=20), \
        f"no overflow reported after {EVENTS} link events:\n{d.log_tail()}"
    assert wait_until(lambda: ping(h1, h2.ip, count=1, deadline=1).rc == 0, timeout=20), \
        f"the port on the re-created {h2.sw_port} does not forward after the resync:\n{d.log_tail()}"
    assert f"netdev {h2.sw_port} was removed or recreated" in d.log_tail()
