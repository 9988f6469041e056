"""The MAC table (FDB): what was learned where, aging, flushing."""
import re
import time

import pytest

from lib import names
from lib.proc import check
from lib.traffic import ping


def _by_mac(entries):
    out = {}
    for e in entries:
        out.setdefault(e["mac"].lower(), []).append(e)
    return out


def test_fdb_show_lists_each_host_on_its_port(lan):
    net = lan(3)
    d = net.daemon
    h1, h2, h3 = net.hosts
    assert ping(h1, h2.ip).rc == 0
    assert ping(h3, h1.ip).rc == 0
    entries = _by_mac(d.fdb(net.bridge))
    for h in net.hosts:
        got = entries.get(h.mac)
        assert got, f"{h.mac} ({h.ns}) missing from fdb/show {net.bridge}: {d.fdb(net.bridge)}"
        assert len(got) == 1, f"{h.mac} listed more than once: {got}"
        e = got[0]
        assert e["port"] == h.sw_port, f"{h.mac} learned on {e['port']}, expected {h.sw_port}"
        assert e["ofport"] == d.ofport(h.sw_port), (e, d.ofport(h.sw_port))
        assert e["vlan"] == 0, e
        assert 0 <= e["age"] < 30, e
    text = d.vsappctl("fdb/show", net.bridge)
    assert text.rc == 0 and all(h.mac in text.out.lower() for h in net.hosts), text


def _long_name() -> str:
    """A 15-character (IFNAMSIZ - 1) link name that lib/names still recognises as this run's."""
    base = names.unique(names.KIND_SWITCH_LINK)          # vsw<pid>x<n>
    name = base.replace("x", "x" + "0" * (15 - len(base)), 1)
    assert len(name) == 15 and names.ours(name), name
    return name


def _natural(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def test_fdb_show_text_aligns_long_port_names_and_sorts_rows(lan):
    """With a 15-character port name the columns of `vsappctl fdb/show` still line up under
    the header (" port  VLAN  MAC                Age", as Open vSwitch prints it, widened to the
    longest name), and the rows are sorted by port, VLAN, then MAC."""
    net = lan(0)
    d, topo = net.daemon, net.topo
    hosts = [topo.add_host(f"10.231.0.{i}") for i in (1, 2, 3)]
    long = _long_name()
    old = hosts[2].sw_port
    check(["ip", "link", "set", "dev", old, "down"])
    check(["ip", "link", "set", "dev", old, "name", long])
    topo._links.append(long)  # removed with the others, whatever happens below
    check(["ip", "link", "set", "dev", long, "up"])
    hosts[2].sw_port = long
    for h in hosts:
        d.vsctl_ok("add-port", net.bridge, h.sw_port)
    assert ping(hosts[2], hosts[0].ip).rc == 0
    assert ping(hosts[1], hosts[0].ip).rc == 0
    r = d.vsappctl("fdb/show", net.bridge)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    header, rows = lines[0], lines[1:]
    assert header == " " * 11 + "port  VLAN  MAC                Age", f"header not widened to 15:\n{r.out}"
    assert len(rows) >= 3 and any(line.split()[0] == long for line in rows), r.out
    for line in rows:
        port, vlan, mac = line.split()[:3]
        assert line.index(port) + len(port) == 15, f"port column not right-aligned at 15:\n{r.out}"
        assert line.index(mac) == header.index("MAC"), f"MAC column does not line up:\n{r.out}"
        assert line[:line.index(mac)].rstrip().endswith(vlan) and \
            line.index(mac) - 2 == header.index("VLAN") + 4, f"VLAN column does not line up:\n{r.out}"
    keys = [(_natural(line.split()[0]), int(line.split()[1]), line.split()[2]) for line in rows]
    assert keys == sorted(keys), f"rows not sorted by port, VLAN, MAC:\n{r.out}"


def test_fdb_show_unknown_bridge_fails(vswitchd):
    r = vswitchd.vsappctl("fdb/show", "nosuchbr")
    assert r.rc != 0 and "nosuchbr" in r.err, r


@pytest.mark.slow
def test_mac_aging_follows_bridge_setting(lan):
    """Bridge A ages entries after 2 s; bridge B (default 300 s) keeps its entries meanwhile."""
    a = lan(2)
    b = lan(2, daemon=a.daemon)
    d = a.daemon
    d.vsctl_ok("set", "bridge", a.bridge, "other_config:mac-aging-time=2")
    for net in (a, b):
        assert ping(net.hosts[0], net.hosts[1].ip, count=2).rc == 0
    last_traffic = time.monotonic()
    for net in (a, b):
        macs = _by_mac(d.fdb(net.bridge))
        assert all(h.mac in macs for h in net.hosts), (net.bridge, d.fdb(net.bridge))

    deadline = last_traffic + 8  # 2 s aging time: gone after ~5 s at the latest, 8 s is generous
    while True:
        left = [h.mac for h in a.hosts if h.mac in _by_mac(d.fdb(a.bridge))]
        if not left:
            break
        assert time.monotonic() < deadline, (
            f"entries {left} still in {a.bridge} {time.monotonic() - last_traffic:.1f}s after the "
            f"last frame with mac-aging-time=2: {d.fdb(a.bridge)}")
        time.sleep(0.25)
    gone_after = time.monotonic() - last_traffic
    kept = _by_mac(d.fdb(b.bridge))
    assert all(h.mac in kept for h in b.hosts), (
        f"{b.bridge} (default aging) lost entries after {gone_after:.1f}s: {d.fdb(b.bridge)}")
    # Aged entries are relearned: traffic still flows.
    assert ping(a.hosts[0], a.hosts[1].ip).rc == 0


def test_fdb_flush_empties_the_table(lan):
    net = lan(2)
    d = net.daemon
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0
    assert len(d.fdb(net.bridge)) >= 2
    r = d.vsappctl("fdb/flush", net.bridge)
    assert r.rc == 0, r
    macs = _by_mac(d.fdb(net.bridge))
    assert not any(h.mac in macs for h in net.hosts), d.fdb(net.bridge)
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0
