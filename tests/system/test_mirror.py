"""Port mirroring (docs/mirrors.md): `tcpdump -w` on the mirror output port's peer, inside the
test's namespace, sees exactly the selected frames, as many as the Mirror counters say; configured
with Debian's real `ovs-vsctl` (the create-Mirror command line of every troubleshooting guide)
and with our vsctl (add-mirror / del-mirror / list-mirrors); bad mirrors are refused.

The traffic is scapy-built frames with a marker payload, sent raw from the hosts' namespaces
(pktsock), so that what must and must not be copied is exact. The monitor host has no address
and IPv6 off: it sends nothing, so everything its capture holds came from the mirror.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import time

import pytest
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import rdpcap

from lib import names
from lib.proc import run
from lib.vlan import BROADCAST, eth_frame, send_raw, wait_until

OVS_VSCTL = shutil.which("ovs-vsctl")


def _bridge(d) -> str:
    """A bridge whose local port (a TAP in the root namespace) sends nothing on its own: with
    select_all its IPv6 chatter (MLD) would be mirrored too."""
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    wait_until(lambda: os.path.exists(f"/proc/sys/net/ipv6/conf/{br}/disable_ipv6"), 5)
    with open(f"/proc/sys/net/ipv6/conf/{br}/disable_ipv6", "w") as f:
        f.write("1")
    return br


def _host(d, topo, br, *settings):
    h = topo.add_host(None)
    d.vsctl_ok("add-port", br, h.sw_port, *settings)
    return h


class Pcap:
    """tcpdump -w on a host's eth0, inside its namespace (immediate mode: without it, frames
    still in libpcap's ring block when tcpdump is stopped are counted but never written)."""

    def __init__(self, host, tmp_path, name: str):
        self.path = tmp_path / f"{name}.pcap"
        self.proc = host.popen(["tcpdump", "-i", "eth0", "-Q", "in", "--immediate-mode", "-U", "-n", "-w", str(self.path)],
                               stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb"))
        wait_until(lambda: self.path.exists() and self.path.stat().st_size >= 24, 5)
        time.sleep(0.3)

    def frames(self) -> list[Ether]:
        time.sleep(0.5)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=5)
        return list(rdpcap(str(self.path)))


def _marked(frames, marker: bytes) -> list[Ether]:
    return [f for f in frames if marker in bytes(f)]


def _mirror_stats(d, br: str, name: str) -> dict:
    for rec in d.vsctl_json("list-mirrors", br):
        if rec["name"] == name:
            return rec["statistics"]
    raise AssertionError(f"no mirror {name} on {br}")


def _wait_stats(d, br, name, want: int) -> dict:
    """The counters are fed from the datapath about once a second."""
    wait_until(lambda: _mirror_stats(d, br, name).get("tx_packets", 0) >= want, 5)
    time.sleep(1.2)  # and nothing more arrives
    return _mirror_stats(d, br, name)


def _send(h, dst: str, marker: bytes, n: int, vid=None) -> None:
    assert send_raw("eth0", [eth_frame(h.mac, dst, marker + bytes([i]), vid=vid) for i in range(n)], ns=h.ns) == n


@pytest.mark.skipif(not OVS_VSCTL, reason="needs Debian's openvswitch-common (ovs-vsctl)")
def test_ovs_vsctl_select_all_mirror_sees_exactly_the_bridge_traffic(vswitchd, topo, tmp_path):
    d = vswitchd
    br = _bridge(d)
    h1, h2, mon = (_host(d, topo, br) for _ in range(3))
    db = f"--db=unix:{d.dir / 'db.sock'}"
    ovs = lambda *a: run([OVS_VSCTL, db, "--timeout=5", *a], timeout=15)  # noqa: E731
    r = ovs("--", f"--id=@p", "get", "Port", mon.sw_port, "--", "--id=@m", "create", "Mirror", "name=m0",
            "select-all=true", "output-port=@p", "--", "add", "Bridge", br, "mirrors", "@m")
    assert r.rc == 0, r
    assert d.vsctl_json("list-mirrors", br)[0]["output_port"] == mon.sw_port

    cap = Pcap(mon, tmp_path, "all")
    _send(h1, BROADCAST, b"ALL-BCAST", 4)          # flooded to h2 (not to the mirror port), copied once each
    _send(h2, h1.mac, b"ALL-UNI", 3)               # h1 learned: unicast h2 -> h1, copied
    _send(h1, h2.mac, b"ALL-BACK", 2)              # and back: its megaflow copies to the mirror
    _send(mon, BROADCAST, b"FROM-MON", 2)          # received on the mirror port: dropped, not copied
    frames = cap.frames()
    assert len(_marked(frames, b"ALL-BCAST")) == 4
    assert len(_marked(frames, b"ALL-UNI")) == 3
    assert len(_marked(frames, b"ALL-BACK")) == 2
    assert not _marked(frames, b"FROM-MON")
    stats = _wait_stats(d, br, "m0", 9)
    assert stats["tx_packets"] == len(frames) == 9, (stats, [f.summary() for f in frames])
    listed = ovs("--columns=name,statistics", "list", "Mirror")
    assert listed.rc == 0 and "tx_packets=9" in listed.out, listed

    assert ovs("clear", "Bridge", br, "mirrors").rc == 0
    assert d.vsctl_json("list-mirrors", br) == []
    assert ovs("list", "Mirror").out.strip() == ""
    cap = Pcap(mon, tmp_path, "none")
    _send(h1, h2.mac, b"AFTER-CLEAR", 3)  # as ALL-BACK: a copy now only a stale megaflow would make
    assert not _marked(cap.frames(), b"AFTER-CLEAR"), "a cleared mirror still copies (stale megaflow)"

    bad = ovs("--", "--id=@p", "get", "Port", mon.sw_port, "--", "--id=@m", "create", "Mirror", "name=m1",
              "select-src-port=@p", "output-port=@p", "--", "add", "Bridge", br, "mirrors", "@m")
    assert bad.rc != 0 and "also a selected port" in bad.err, bad
    assert ovs("list", "Mirror").out.strip() == ""


def test_vsctl_src_and_dst_port_mirrors(vswitchd, topo, tmp_path):
    d = vswitchd
    br = _bridge(d)
    h1, h2, h3, mon = (_host(d, topo, br) for _ in range(4))
    d.vsctl_ok("add-mirror", br, "m1", f"select-src-port={h1.sw_port}", f"output-port={mon.sw_port}")
    _send(h2, BROADCAST, b"LEARN", 1)  # every host learned (h1 too, below)
    _send(h1, BROADCAST, b"LEARN", 1)
    _send(h3, BROADCAST, b"LEARN", 1)
    time.sleep(0.3)
    before = _wait_stats(d, br, "m1", 1)["tx_packets"]
    cap = Pcap(mon, tmp_path, "src")
    _send(h1, h2.mac, b"SRC-FROM-H1", 5)
    _send(h2, h1.mac, b"SRC-TO-H1", 4)
    _send(h2, h3.mac, b"SRC-OTHER", 3)
    frames = cap.frames()
    assert len(_marked(frames, b"SRC-FROM-H1")) == 5
    assert not _marked(frames, b"SRC-TO-H1") and not _marked(frames, b"SRC-OTHER")
    assert _wait_stats(d, br, "m1", before + 5)["tx_packets"] - before == len(frames) == 5

    d.vsctl_ok("del-mirror", br, "m1", "--", "add-mirror", br, "m2", f"select-dst-port={h1.sw_port}",
               f"output-port={mon.sw_port}")
    cap = Pcap(mon, tmp_path, "dst")
    _send(h1, h2.mac, b"DST-FROM-H1", 5)
    _send(h2, h1.mac, b"DST-TO-H1", 4)
    _send(h3, BROADCAST, b"DST-BCAST", 2)  # flooded to h1 too: sent on h1, copied
    frames = cap.frames()
    assert len(_marked(frames, b"DST-TO-H1")) == 4 and len(_marked(frames, b"DST-BCAST")) == 2
    assert not _marked(frames, b"DST-FROM-H1")
    assert _wait_stats(d, br, "m2", 6)["tx_packets"] == len(frames) == 6
    text = d.vsctl_ok("list", "Mirror", "m2")
    assert "tx_packets=6" in text, text


def test_select_vlan_and_rspan_output_vlan(vswitchd, topo, tmp_path):
    d = vswitchd
    br = _bridge(d)
    a10 = _host(d, topo, br, "tag=10")
    b10 = _host(d, topo, br, "tag=10")
    a20 = _host(d, topo, br, "tag=20")
    b20 = _host(d, topo, br, "tag=20")
    span = _host(d, topo, br)                  # a trunk: copies keep their VLAN as a tag
    rspan = _host(d, topo, br, "trunks=99")    # carries only the RSPAN VLAN
    d.vsctl_ok("add-mirror", br, "v10", "select-all=true", "select-vlan=10", f"output-port={span.sw_port}")
    d.vsctl_ok("add-mirror", br, "r20", "select-all=true", "select-vlan=20", "output-vlan=99")
    cap_span, cap_rspan = Pcap(span, tmp_path, "span"), Pcap(rspan, tmp_path, "rspan")
    _send(a10, BROADCAST, b"V10", 3)
    _send(a20, BROADCAST, b"V20", 2)
    span_frames, rspan_frames = cap_span.frames(), cap_rspan.frames()
    assert len(span_frames) == 3 and all(f.haslayer(Dot1Q) and f[Dot1Q].vlan == 10 for f in span_frames), \
        [f.summary() for f in span_frames]
    assert len(_marked(span_frames, b"V10")) == 3
    assert len(rspan_frames) == 2 and all(f.haslayer(Dot1Q) and f[Dot1Q].vlan == 99 for f in rspan_frames), \
        [f.summary() for f in rspan_frames]
    assert len(_marked(rspan_frames, b"V20")) == 2
    assert _wait_stats(d, br, "v10", 3)["tx_packets"] == 3
    assert _wait_stats(d, br, "r20", 2)["tx_packets"] == 2


def test_bad_mirrors_are_refused_and_change_nothing(vswitchd, topo):
    d = vswitchd
    br = _bridge(d)
    h1, mon = _host(d, topo, br), _host(d, topo, br)
    before = d.committed_config()
    cases = [
        (["select-src-port=" + mon.sw_port, "output-port=" + mon.sw_port], "also a selected port"),
        (["select-all=true", "output-port=nosuchport"], "not a port of bridge"),
        (["select-all=true", "output-port=" + mon.sw_port, "output-vlan=5"], "exclusive"),
        (["select-all=true", "select-vlan=4096", "output-port=" + mon.sw_port], "4095"),
        (["select-all=true", "output-vlan=0"], "1..4095"),
    ]
    for args, why in cases:
        r = d.vsctl("add-mirror", br, "bad", *args)
        assert r.rc != 0 and why in r.err, (args, r)
    assert d.committed_config() == before
    assert d.vsctl_json("list-mirrors", br) == []


def test_vxlan_port_as_selected_port(tmp_path):
    """A VXLAN port mirrored both ways: frames decapsulated from it and frames sent into it are
    copied as the inner frames, exactly as the containers sent them."""
    from lib.overlay import Overlay
    ov = Overlay()
    try:
        h1, h2 = ov.add_host(), ov.add_host()
        ov.mesh([h1, h2], 42)                          # vx2 on h1, vx1 on h2
        c1, c2 = ov.add_container(h1, "10.231.42.1"), ov.add_container(h2, "10.231.42.2")
        mon = ov.add_container(h1, "10.231.43.1")      # sends nothing: its capture holds only copies
        d, br = h1.daemon, h1.bridge
        d.vsctl_ok("add-mirror", br, "t", "select-src-port=vx2", "select-dst-port=vx2",
                   f"output-port={mon.sw_port}")
        _send(c1, BROADCAST, b"LEARN", 1)
        _send(c2, BROADCAST, b"LEARN", 1)
        before = _wait_stats(d, br, "t", 2)["tx_packets"]
        cap = Pcap(mon, tmp_path, "tunnel")
        from_tun = [eth_frame(c2.mac, c1.mac, b"FROM-TUN" + bytes([i])) for i in range(4)]
        into_tun = [eth_frame(c1.mac, c2.mac, b"INTO-TUN" + bytes([i])) for i in range(3)]
        assert send_raw("eth0", from_tun, ns=c2.ns) == 4
        assert send_raw("eth0", into_tun, ns=c1.ns) == 3
        frames = cap.frames()
        assert sorted(bytes(f) for f in frames) == sorted(from_tun + into_tun), [f.summary() for f in frames]
        assert _wait_stats(d, br, "t", before + 7)["tx_packets"] - before == 7
    finally:
        left = ov.cleanup()
        assert not left, f"could not remove test namespaces: {left}"


@pytest.mark.skipif(not OVS_VSCTL, reason="needs Debian's openvswitch-common (ovs-vsctl)")
def test_ovs_vsctl_del_port_leaves_the_mirror_without_it(vswitchd, topo):
    """Mirror's port columns are weak references (Open vSwitch's schema): deleting a selected or
    output port takes it out of the mirror, which stays and, without output, does nothing."""
    d = vswitchd
    br = _bridge(d)
    h1, h2, mon = (_host(d, topo, br) for _ in range(3))
    db = f"--db=unix:{d.dir / 'db.sock'}"
    ovs = lambda *a: run([OVS_VSCTL, db, "--timeout=5", *a], timeout=15)  # noqa: E731
    r = ovs("--", "--id=@h1", "get", "Port", h1.sw_port, "--", "--id=@h2", "get", "Port", h2.sw_port,
            "--", "--id=@p", "get", "Port", mon.sw_port, "--", "--id=@m", "create", "Mirror", "name=w",
            "select-src-port=@h1,@h2", "output-port=@p", "--", "add", "Bridge", br, "mirrors", "@m")
    assert r.rc == 0, r
    assert ovs("del-port", br, h1.sw_port).rc == 0
    m = d.vsctl_json("list-mirrors", br)[0]
    assert m["select_src_port"] == [h2.sw_port] and m["output_port"] == mon.sw_port, m
    assert ovs("del-port", br, mon.sw_port).rc == 0
    m = d.vsctl_json("list-mirrors", br)[0]
    assert m["output_port"] is None and m["select_src_port"] == [h2.sw_port], m
    assert ovs("get", "Mirror", "w", "output_port").out.strip() == "[]"


OVS_TCPDUMP = shutil.which("ovs-tcpdump")


@pytest.mark.skipif(not OVS_TCPDUMP, reason="needs Debian's openvswitch-switch (ovs-tcpdump)")
def test_ovs_tcpdump_sees_a_ports_traffic(vswitchd, topo):
    """Debian's ovs-tcpdump, unchanged, through our OVSDB socket: it creates its TAP `mi<PORT>`,
    adds it as a port, mirrors PORT's traffic both ways to it, runs tcpdump on it, and removes
    the port and the mirror when tcpdump exits."""
    import subprocess
    d = vswitchd
    br = _bridge(d)
    h1, h2 = _host(d, topo, br), _host(d, topo, br)
    p = subprocess.Popen([OVS_TCPDUMP, "--db-sock", f"unix:{d.dir / 'db.sock'}", "-i", h1.sw_port, "-n", "-e",
                          "-c", "6", "ether proto 0x88b5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: d.vsctl_json("list-mirrors", br), 10)
        mirror = d.vsctl_json("list-mirrors", br)[0]
        assert mirror["select_src_port"] == [h1.sw_port] and mirror["select_dst_port"] == [h1.sw_port], mirror
        time.sleep(1.0)  # tcpdump starting on the TAP
        _send(h1, h2.mac, b"OTD-OUT", 3)
        _send(h2, h1.mac, b"OTD-IN", 3)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    seen = [line for line in out.splitlines() if "0x88b5" in line]
    assert len(seen) == 6, out
    assert sum(h1.mac in line.split(">")[0] for line in seen) == 3, out
    wait_until(lambda: d.vsctl_json("list-mirrors", br) == [], 10)
    assert f"mi{h1.sw_port}" not in d.list_ports(br)


def test_bond_as_selected_port(vswitchd, topo, tmp_path):
    """An active-backup bond mirrored both ways: what arrives on its active member and what
    leaves by it is copied once, whichever member carries it."""
    from lib.bond import make_lab
    d = vswitchd
    lab = make_lab(d, topo, None, ours=["bond_mode=active-backup"], n_hosts=1)
    with open(f"/proc/sys/net/ipv6/conf/{lab.br}/disable_ipv6", "w") as f:
        f.write("1")  # the local port's MLD would be flooded to the bond, and copied
    mon = _host(d, topo, lab.br)
    d.vsctl_ok("add-mirror", lab.br, "b", f"select-src-port={lab.bond}", f"select-dst-port={lab.bond}",
               f"output-port={mon.sw_port}")
    wait_until(lambda: lab.bond_show()["active_member"] == lab.ours[0], timeout=5)
    h = lab.hosts[0]
    far = "02:5c:00:00:00:07"
    cap = Pcap(mon, tmp_path, "bond")
    from_bond = [eth_frame(far, h.mac, b"FROM-BOND" + bytes([i])) for i in range(3)]
    assert send_raw(lab.theirs[0], from_bond, ns=lab.peer_ns) == 3   # the active member
    into_bond = [eth_frame(h.mac, far, b"INTO-BOND" + bytes([i])) for i in range(2)]
    assert send_raw("eth0", into_bond, ns=h.ns) == 2                 # to the MAC learned on the bond
    frames = cap.frames()
    assert sorted(bytes(f) for f in frames) == sorted(from_bond + into_bond), [f.summary() for f in frames]
    assert _wait_stats(d, lab.br, "b", 5)["tx_packets"] == 5
