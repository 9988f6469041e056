"""OpenFlow-style flow tables on real traffic (vsofctl, docs/vsofctl.md): three namespace hosts on
one bridge, rules that steer, drop, rewrite headers (checksums checked with scapy on the wire),
tag and untag VLANs, expire, count, survive a restart, take effect on cached flows, chain tables
(goto_table, resubmit); atomic flow files; ofproto/trace and dpif/dump-flows.

Hosts h1, h2, h3 are 10.231.50.1-3 on one bridge. Rules name ports by their names (the switch-side
veth ends). Checksums: a frame that a kernel socket sends with offloads on carries only a partial
checksum (the receiver's kernel finishes or skips it), so checksums are compared on frames whose
checksum was complete when they entered the switch (built by scapy), and on frames that left the
switch through a port with tx checksum offload off (the kernel completes the checksum the switch
adjusted).
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from lib import daemon as daemon_mod
from lib.daemon import Vswitchd
from lib.netns import Host
from lib.proc import Result, check, run
from lib.traffic import (PYTHON, Iperf3Server, Sniffer, iperf3_client, marker, ping, send_frames,
                         wait_listening)
from lib.vlan import BROADCAST, eth_frame, host_capture, wait_until

SUBNET = "10.231.50"
VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"
ICMP_ECHO_FRAME = 98   # bytes on the wire without FCS: Ethernet 14 + IPv4 20 + ICMP 8 + 56 data


# -- helpers ---------------------------------------------------------------------------------------
@dataclass
class Net:
    d: Vswitchd
    br: str
    h1: Host
    h2: Host
    h3: Host


@pytest.fixture
def net(lan) -> Net:
    lan_ = lan(n_hosts=3, subnet=SUBNET)
    return Net(lan_.daemon, lan_.bridge, *lan_.hosts)


def ofctl(d: Vswitchd, *args: str, timeout: float = 30) -> Result:
    return run([str(VSOFCTL), "--socket", str(d.socket), *args], timeout=timeout)


def ofctl_ok(d: Vswitchd, *args: str, timeout: float = 30) -> str:
    r = ofctl(d, *args, timeout=timeout)
    assert r.rc == 0, f"vsofctl {' '.join(args)} failed:\n{r}"
    return r.out


def add_flow(d: Vswitchd, br: str, flow: str) -> None:
    ofctl_ok(d, "add-flow", br, flow)


def flows(d: Vswitchd, br: str) -> list[dict]:
    out = ofctl_ok(d, "dump-flows", br, "--format=json")
    try:
        return json.loads(out)["flows"]
    except (ValueError, KeyError) as e:
        raise AssertionError(f"dump-flows --format=json printed no flow list ({e}): {out!r}") from None


def flows_text(d: Vswitchd, br: str) -> list[str]:
    return [line.strip() for line in ofctl_ok(d, "dump-flows", "--no-stats", br).splitlines() if line.strip()]


def find_flow(d: Vswitchd, br: str, priority: int, table: int = 0) -> dict | None:
    rows = [f for f in flows(d, br) if f["priority"] == priority and f["table"] == table]
    assert len(rows) <= 1, f"several rules with priority {priority} in table {table}: {rows}"
    return rows[0] if rows else None


def wait_packets(d: Vswitchd, br: str, priority: int, want: int, timeout: float = 5.0,
                 table: int = 0) -> dict:
    """Polls the rule's counters (fed from the datapath about once a second) until n_packets
    reaches `want` or `timeout` passes; returns the rule's last dump."""
    last = {}

    def reached():
        nonlocal last
        last = find_flow(d, br, priority, table) or {}
        return last.get("n_packets", 0) >= want
    wait_until(reached, timeout, 0.2)
    return last


def static_arp(h: Host, ip: str, mac: str) -> None:
    check(["ip", "-n", h.ns, "neigh", "replace", ip, "lladdr", mac, "dev", h.ifname, "nud", "permanent"])


def neigh_mac(h: Host, ip: str) -> str | None:
    out = run(["ip", "-n", h.ns, "neigh", "show", ip, "dev", h.ifname]).out
    m = re.search(r"lladdr ([0-9a-f:]{17})", out)
    return m.group(1) if m else None


def dp_ports(d: Vswitchd) -> dict[str, int]:
    """Port name -> datapath port number (what dpif/dump-flows prints in in_port() and outputs)."""
    out = {}
    for b in d.vsappctl_json("dpif/show")["bridges"]:
        for p in b["ports"]:
            out[p["name"]] = p["dp_port"]
    return out


def ping_pattern() -> str:
    """A random 8-byte pattern for `ping -p`: the echo data repeats it, so sniffers can find it."""
    return marker()[-16:].decode()


def checksum_report(raw: bytes) -> dict:
    """Received vs recomputed (scapy) IPv4 header and TCP/UDP checksums of one captured frame."""
    seen = Ether(raw)
    fixed = Ether(raw)
    rep = {"ip_got": seen[IP].chksum}
    fixed[IP].chksum = None
    l4 = next((layer for layer in (UDP, TCP) if layer in seen), None)
    if l4 is not None:
        rep["l4_got"] = seen[l4].chksum
        fixed[l4].chksum = None
    fixed = Ether(bytes(fixed))
    rep["ip_want"] = fixed[IP].chksum
    if l4 is not None:
        rep["l4_want"] = fixed[l4].chksum
    return rep


# -- steering and dropping -------------------------------------------------------------------------
def test_in_port_rule_steers_to_one_port(net):
    """in_port=h1 -> output:h3: everything h1 sends reaches h3 only, whatever its destination; h2
    sees none of it, so h1 can no longer reach h2, while h1 <-> h3 still works."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    assert ping(h1, h2.ip).rc == 0, "no connectivity h1 -> h2 before any rule"
    add_flow(d, br, f"priority=100,in_port={h1.sw_port},actions=output:{h3.sw_port}")

    tag = marker()
    with Sniffer(h2, tag, seconds=5) as s2, Sniffer(h3, tag, seconds=5) as s3:
        sent = send_frames(h1, [eth_frame(h1.mac, h2.mac, tag + b"-unicast-to-h2"),
                                eth_frame(h1.mac, BROADCAST, tag + b"-broadcast")])
        assert sent["sent"] == 2, sent
        got2, got3 = s2.stop(), s3.stop()
    assert got3["matched"] == 2, f"h3 should get both frames from h1 (unicast to h2 and broadcast): {got3}"
    assert got2["matched"] == 0, f"h2 got frames from h1 despite in_port=h1 -> output:h3: {got2}"

    assert ping(h1, h3.ip).rc == 0, "h1 -> h3 broken by a rule that sends h1's traffic to h3"
    run(["ip", "-n", h1.ns, "neigh", "flush", "dev", h1.ifname])
    r = ping(h1, h2.ip, count=2, deadline=3)
    assert r.rc != 0, f"h1 still reaches h2 although all of h1's frames go to h3 only:\n{r}"


def test_drop_rule_drops_ip_but_not_arp(net):
    """ip,nw_dst=h2 actions=drop: pings to h2 fail, ARP to and from h2 still resolves, h3 is
    still reachable."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    assert ping(h1, h2.ip).rc == 0, "no connectivity h1 -> h2 before any rule"
    add_flow(d, br, f"priority=100,ip,nw_dst={h2.ip},actions=drop")
    for h in (h1, h2):
        run(["ip", "-n", h.ns, "neigh", "flush", "dev", h.ifname])

    r = ping(h1, h2.ip, count=3, deadline=3)
    assert r.rc != 0, f"ping h1 -> h2 got through a drop rule:\n{r}"
    assert neigh_mac(h1, h2.ip) == h2.mac, \
        f"ARP h1 -> h2 did not resolve under an ip-only drop rule: {run(['ip', '-n', h1.ns, 'neigh']).out}"
    assert neigh_mac(h2, h1.ip) == h1.mac, "h2 never saw h1's ARP request"
    assert ping(h1, h3.ip).rc == 0, "ping h1 -> h3 failed: the drop rule is too broad"


# -- header rewrites -------------------------------------------------------------------------------
def test_udp_rewrite_reaches_h3_with_correct_checksums(net):
    """mod_nw_dst + mod_tp_dst + mod_dl_dst turn UDP that h1 sends to an absent address into a
    datagram for h3's address and port. A socket on h3 receives it, and the frames as captured on
    h3 carry IPv4 and UDP checksums equal to scapy's recomputation: for a frame with a complete
    checksum (built by scapy) and for one that h1's kernel sent with checksum offload, completed
    by the kernel on the way out of the switch (h3's switch-side veth has tx checksum off)."""
    d, br, h1, h3 = net.d, net.br, net.h1, net.h3
    ghost_ip, ghost_mac = f"{SUBNET}.99", "02:00:00:00:50:99"
    static_arp(h1, ghost_ip, ghost_mac)
    check(["ethtool", "-K", h3.sw_port, "tx", "off"])
    add_flow(d, br, f"priority=200,udp,in_port={h1.sw_port},nw_dst={ghost_ip},tp_dst=9999,"
                    f"actions=mod_nw_dst:{h3.ip},mod_tp_dst:7777,mod_dl_dst:{h3.mac},output:{h3.sw_port}")

    tag = marker()
    payloads = {"crafted": tag + b"-crafted", "socket": tag + b"-socket"}
    listener = h3.popen([PYTHON, "-c", f"""
import json, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{h3.ip}", 7777))
s.settimeout(6)
got = []
try:
    while len(got) < 2:
        data, addr = s.recvfrom(2048)
        got.append([data.hex(), addr[0], addr[1]])
except socket.timeout:
    pass
print(json.dumps(got))
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_listening(h3, 7777, "u"), "UDP listener on h3 did not start"

    with Sniffer(h3, tag, seconds=8, want=2) as sniff:
        crafted = (Ether(src=h1.mac, dst=ghost_mac) / IP(src=h1.ip, dst=ghost_ip, ttl=64, id=4242)
                   / UDP(sport=5555, dport=9999) / Raw(payloads["crafted"]))
        assert send_frames(h1, [bytes(crafted)])["sent"] == 1
        r = h1.exec([PYTHON, "-c",
                     "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                     f"s.bind(('{h1.ip}', 5556)); s.sendto(bytes.fromhex('{payloads['socket'].hex()}'), "
                     f"('{ghost_ip}', 9999))"])
        assert r.rc == 0, f"UDP send from h1 failed:\n{r}"
        got = sniff.finish()
    out, err = listener.communicate(timeout=20)
    received = {bytes.fromhex(p): (ip, port) for p, ip, port in json.loads(out or "[]")}
    assert received == {payloads["crafted"]: (h1.ip, 5555), payloads["socket"]: (h1.ip, 5556)}, \
        f"h3's socket on {h3.ip}:7777 should get both rewritten datagrams from h1; got {received} {err}"

    frames = [bytes.fromhex(x) for x in got["samples"]]
    assert len(frames) == 2, f"expected 2 rewritten frames captured on h3, got {got}"
    for raw in frames:
        p = Ether(raw)
        which = "crafted" if payloads["crafted"] in raw else "socket"
        assert (p.dst.lower(), p[IP].dst, p[UDP].dport) == (h3.mac, h3.ip, 7777), \
            f"{which} frame not rewritten to h3: {p.summary()}"
        assert (p.src.lower(), p[IP].src) == (h1.mac, h1.ip), f"{which}: source changed: {p.summary()}"
        c = checksum_report(raw)
        assert c["ip_got"] == c["ip_want"], f"{which} frame: IPv4 header checksum wrong after rewrite: {c}"
        assert c["l4_got"] == c["l4_want"], f"{which} frame: UDP checksum wrong after rewrite: {c}"


def test_tcp_with_offloads_through_tos_rewrite(net):
    """mod_nw_tos on TCP from h1 to h2 with the veths' default offloads (TSO, checksum offload):
    iperf3 still carries data, every captured segment carries the new DSCP and a valid IPv4
    header checksum, and the rule counted the segments."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    add_flow(d, br, f"priority=200,tcp,in_port={h1.sw_port},nw_dst={h2.ip},"
                    f"actions=mod_nw_tos:32,output:{h2.sw_port}")
    assert ping(h1, h2.ip).rc == 0

    needle = bytes(int(x) for x in h1.ip.split(".")) + bytes(int(x) for x in h2.ip.split("."))
    with Iperf3Server(h2, 5201):
        with Sniffer(h2, needle, seconds=10, want=20) as sniff:
            res = iperf3_client(h1, h2.ip, 5201, seconds=3)
            got = sniff.finish()
    assert res["error"] is None and res["bytes"] > 0, \
        f"TCP h1 -> h2 through mod_nw_tos failed with offloads on: {res['error']}\n{res['raw'][-1500:]}"
    assert res["bps"] > 100e6, f"TCP through mod_nw_tos crawls: {res['bps'] / 1e6:.1f} Mbit/s"
    assert got["samples"], f"no TCP segment from h1 captured on h2: {got}"
    for raw in (bytes.fromhex(x) for x in got["samples"]):
        p = Ether(raw)
        assert TCP in p, p.summary()
        assert p[IP].tos & 0xFC == 32, f"TOS not rewritten to 32: {p[IP].tos} in {p.summary()}"
        c = checksum_report(raw)
        assert c["ip_got"] == c["ip_want"], f"IPv4 header checksum wrong after mod_nw_tos: {c}"
    rule = wait_packets(d, br, 200, 10)
    assert rule.get("n_packets", 0) >= 10, f"mod_nw_tos rule did not count the TCP traffic: {rule}"


# -- VLAN tags -------------------------------------------------------------------------------------
def test_vlan_tag_and_strip_real_traffic(net):
    """mod_vlan_vid:10 on everything from h1 to h3: h1's pings arrive at h3 tagged VID 10.
    dl_vlan=10 from h3 -> strip_vlan -> h1: a tagged echo request from h3 reaches h1 untagged, and
    h1's kernel answers it (the answer reaches h3 tagged, by the first rule)."""
    d, br, h1, h3 = net.d, net.br, net.h1, net.h3
    add_flow(d, br, f"priority=100,in_port={h1.sw_port},actions=mod_vlan_vid:10,output:{h3.sw_port}")
    add_flow(d, br, f"priority=100,in_port={h3.sw_port},dl_vlan=10,actions=strip_vlan,output:{h1.sw_port}")
    static_arp(h1, h3.ip, h3.mac)

    pattern = ping_pattern()
    with host_capture(h3, bytes.fromhex(pattern), seconds=6, want=3) as cap:
        # Unanswered: h3 has no VLAN 10 device.
        h1.exec(["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-w", "2", "-p", pattern, h3.ip])
        frames = [f for f in cap.frames if not f.outgoing]
    assert len(frames) == 3, f"expected h1's 3 echo requests at h3, got {frames}"
    assert all(f.vid == 10 for f in frames), f"echo requests from h1 not tagged VID 10 at h3: {frames}"

    tag = marker()
    req = (Ether(src=h3.mac, dst=h1.mac) / Dot1Q(vlan=10) / IP(src=h3.ip, dst=h1.ip)
           / ICMP(type=8, id=0x4242, seq=1) / Raw(tag))
    with host_capture(h1, tag, seconds=5) as c1, host_capture(h3, tag, seconds=5) as c3:
        assert send_frames(h3, [bytes(req)])["sent"] == 1
        at_h1 = [f for f in c1.stop() if not f.outgoing]
        at_h3 = [f for f in c3.stop() if not f.outgoing]
    assert len(at_h1) == 1 and at_h1[0].vid is None, \
        f"tagged request from h3 should reach h1 once, untagged (strip_vlan): {at_h1}"
    replies = [f for f in at_h3 if ICMP in Ether(f.raw) and Ether(f.raw)[ICMP].type == 0]
    assert len(replies) == 1 and replies[0].vid == 10, \
        f"h1's echo reply should reach h3 tagged VID 10: {at_h3}"


# -- timeouts and counters -------------------------------------------------------------------------
def test_hard_timeout_removes_rule(net):
    """hard_timeout=2: the rule drops pings while it exists and is gone within ~4 s, after which
    pings pass again."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    assert ping(h1, h2.ip).rc == 0
    t0 = time.monotonic()
    add_flow(d, br, f"priority=100,hard_timeout=2,icmp,nw_dst={h2.ip},actions=drop")
    rule = find_flow(d, br, 100)
    assert rule and rule["hard_timeout"] == 2, f"rule with hard_timeout=2 not listed: {flows(d, br)}"
    r = ping(h1, h2.ip, count=1, deadline=1)
    assert r.rc != 0, f"ping passed while the hard_timeout drop rule existed:\n{r}"

    assert wait_until(lambda: find_flow(d, br, 100) is None, 6, 0.2), \
        f"hard_timeout=2 rule still there {time.monotonic() - t0:.1f} s after it was added"
    gone = time.monotonic() - t0
    assert 1.5 <= gone <= 4.0, f"hard_timeout=2 rule removed after {gone:.1f} s (expected ~2 s, at most 4)"
    assert ping(h1, h2.ip).rc == 0, "pings still dropped after the drop rule expired"


def test_idle_timeout_kept_by_traffic_then_expires(net):
    """idle_timeout=2: the rule stays while pings use it every 0.2 s for 6 s (3x the timeout, with
    traffic on cached datapath flows) and disappears within a few seconds once they stop."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    assert ping(h1, h2.ip).rc == 0
    add_flow(d, br, f"priority=100,idle_timeout=2,icmp,nw_dst={h2.ip},actions=NORMAL")
    p = h1.popen(["ping", "-n", "-q", "-i", "0.2", "-w", "6", h2.ip],
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    missing_at = None
    t0 = time.monotonic()
    while p.poll() is None:
        if find_flow(d, br, 100) is None and missing_at is None:
            missing_at = time.monotonic() - t0
        time.sleep(0.25)
    out, _ = p.communicate()
    stopped = time.monotonic()
    assert missing_at is None, \
        f"idle_timeout=2 rule vanished {missing_at:.1f} s into a steady ping that used it\n{out}"
    rule = find_flow(d, br, 100)
    assert rule is not None, "idle_timeout rule gone right after traffic stopped"
    rule = wait_packets(d, br, 100, 25)
    assert rule.get("n_packets", 0) >= 25, f"rule did not count the pings: {rule}"

    assert wait_until(lambda: find_flow(d, br, 100) is None, 6, 0.2), \
        "idle_timeout=2 rule still present 6 s after traffic stopped"
    assert time.monotonic() - stopped <= 5.0, \
        f"idle_timeout=2 rule took {time.monotonic() - stopped:.1f} s to expire after traffic stopped"


def test_rule_counters_count_pings(net):
    """n_packets and n_bytes of a rule grow by exactly the echo requests that it forwarded."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    add_flow(d, br, f"priority=100,icmp,in_port={h1.sw_port},nw_dst={h2.ip},actions=output:{h2.sw_port}")
    assert find_flow(d, br, 100)["n_packets"] == 0
    total = 0
    for n in (5, 3):
        assert ping(h1, h2.ip, count=n).rc == 0, "pings through the output rule failed"
        total += n
        rule = wait_packets(d, br, 100, total)
        time.sleep(1.2)   # one more counter update: nothing must be counted twice
        rule = find_flow(d, br, 100)
        assert (rule["n_packets"], rule["n_bytes"]) == (total, total * ICMP_ECHO_FRAME), \
            f"after {total} echo requests: {rule}"


# -- persistence -----------------------------------------------------------------------------------
def test_rules_survive_restart(net):
    """After SIGTERM and a restart with the same files, dump-flows lists the same rules (counters
    and durations restart from zero), and the drop rule still drops."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    rules = [
        f"priority=100,ip,nw_dst={h2.ip},actions=drop",
        f"priority=90,cookie=0x2a,tcp,in_port={h1.sw_port},tp_dst=8080,actions=mod_nw_tos:16,output:{h3.sw_port}",
        f"priority=80,idle_timeout=600,hard_timeout=900,udp,nw_src={SUBNET}.0/24,actions=NORMAL",
        "priority=70,arp,actions=goto_table:1",
        "table=1,priority=5,arp,actions=NORMAL",
        f"table=1,priority=4,dl_vlan=7,actions=strip_vlan,output:{h2.sw_port}",
    ]
    for f in rules:
        add_flow(d, br, f)
    assert ping(h1, h3.ip).rc == 0
    assert ping(h1, h2.ip, count=2, deadline=2).rc != 0
    wait_packets(d, br, 100, 2)
    before_text = flows_text(d, br)
    before = flows(d, br)
    assert len(before) == len(rules) + 1, before   # + the NORMAL rule
    assert find_flow(d, br, 100)["n_packets"] >= 2, before

    rc = d.stop()
    assert rc == 0, f"vswitchd exited with {rc} on SIGTERM"
    d.start()
    after = flows(d, br)
    assert sorted(flows_text(d, br)) == sorted(before_text), "rules changed across the restart"

    def stable(rows):
        return sorted(json.dumps({k: v for k, v in r.items() if k not in ("duration", "n_packets", "n_bytes")},
                                 sort_keys=True) for r in rows)
    assert stable(after) == stable(before)
    assert all(r["n_packets"] == 0 for r in after if r["priority"] == 100), \
        f"counters not reset by the restart: {after}"

    assert ping(h1, h3.ip).rc == 0, "no forwarding after the restart"
    r = ping(h1, h2.ip, count=2, deadline=2)
    assert r.rc != 0, f"the persisted drop rule no longer drops after the restart:\n{r}"


# -- changes reach cached flows --------------------------------------------------------------------
def _ping_log(p: subprocess.Popen) -> list[float]:
    """Wall-clock times (ping -D) of the replies of a finished ping."""
    out, _ = p.communicate(timeout=10)
    return [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", out, re.M)]


def test_rule_change_applies_to_cached_flow(net):
    """A steady ping (cached in the datapath) stops within a second of adding a drop rule and
    resumes within a second of deleting it."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    assert ping(h1, h2.ip).rc == 0
    p = h1.popen(["ping", "-n", "-D", "-i", "0.05", "-w", "20", h2.ip],
                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ports = dp_ports(d)
        cached = wait_until(lambda: [f for f in d.vsappctl_json("dpif/dump-flows")["flows"]
                                     if f"in_port({ports[h1.sw_port]})" in f["match"] and f["packets"] >= 5], 5)
        assert cached, f"the ping never became a cached datapath flow: {d.vsappctl_json('dpif/dump-flows')}"
        add_flow(d, br, f"priority=100,icmp,nw_dst={h2.ip},actions=drop")
        t_add = time.time()
        time.sleep(2.5)
        t_del0 = time.time()   # the deletion may take effect before vsofctl returns
        ofctl_ok(d, "--strict", "del-flows", br, f"priority=100,icmp,nw_dst={h2.ip}")
        t_del = time.time()
        time.sleep(2.0)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    replies = _ping_log(p)
    assert any(t < t_add for t in replies), f"no replies before the drop rule: {replies[:5]}"
    late = [round(t - t_add, 3) for t in replies if t_add + 1.0 < t < t_del0]
    assert not late, f"replies still arrived this long (s) after the drop rule was added: {late}"
    resumed = [round(t - t_del, 3) for t in replies if t > t_del0]
    assert resumed and resumed[0] <= 1.0, \
        f"ping did not resume within 1 s of deleting the drop rule (first reply after {resumed[:1]} s)"


# -- multiple tables -------------------------------------------------------------------------------
def test_goto_table_and_resubmit(net):
    """Table 0 sends IP from h1 to table 1 (goto_table), which drops traffic to h2 and hands the
    rest to NORMAL; echo requests from h1 to h3 are resubmitted to table 2 (output:h3) and table 3
    (output:h2): h3 answers and h2 gets a copy of each request."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    assert ping(h1, h2.ip).rc == 0 and ping(h1, h3.ip).rc == 0
    for f in [f"priority=100,icmp,in_port={h1.sw_port},nw_dst={h3.ip},actions=resubmit(,2),resubmit(,3)",
              f"priority=50,ip,in_port={h1.sw_port},actions=goto_table:1",
              f"table=1,priority=50,ip,nw_dst={h2.ip},actions=drop",
              "table=1,priority=10,ip,actions=NORMAL",
              f"table=2,priority=10,ip,actions=output:{h3.sw_port}",
              f"table=3,priority=10,ip,actions=output:{h2.sw_port}"]:
        add_flow(d, br, f)

    r = ping(h1, h2.ip, count=2, deadline=2)
    assert r.rc != 0, f"h1 -> h2 passed although table 1 drops it:\n{r}"
    drop = wait_packets(d, br, 50, 2, table=1)
    assert drop.get("n_packets", 0) >= 2, f"table 1's drop rule never matched: {flows(d, br)}"

    pattern = ping_pattern()
    with Sniffer(h2, bytes.fromhex(pattern), seconds=6, want=3) as s2:
        r = h1.exec(["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-w", "4", "-p", pattern, h3.ip])
        got2 = s2.finish()
    assert r.rc == 0, f"h1 -> h3 through resubmit(,2) failed:\n{r}"
    assert got2["matched"] == 3, f"h2 should get a copy of each echo request (resubmit(,3)): {got2}"

    # UDP from h1 to h3 goes table 0 -> goto_table:1 -> NORMAL: h3 only.
    tag = marker()
    udp = Ether(src=h1.mac, dst=h3.mac) / IP(src=h1.ip, dst=h3.ip) / UDP(sport=4000, dport=4001) / Raw(tag)
    with Sniffer(h2, tag, seconds=4) as s2, Sniffer(h3, tag, seconds=4) as s3:
        send_frames(h1, [bytes(udp)])
        u2, u3 = s2.stop(), s3.stop()
    assert (u3["matched"], u2["matched"]) == (1, 0), \
        f"UDP h1 -> h3 via table 1's NORMAL: h3 got {u3['matched']}, h2 got {u2['matched']}"
    normal1 = wait_packets(d, br, 10, 1, table=1)
    assert normal1.get("n_packets", 0) >= 1, f"table 1's NORMAL rule did not count: {flows(d, br)}"


# -- flow files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad_line,line_no,token", [
    (f"priority=12,ip,nw_dts={SUBNET}.9,actions=drop", 5, "nw_dts"),
    ("priority=12,ip,actions=output:vsnosuchport", 5, "vsnosuchport"),
    (f"priority=12,ip,nw_dst={SUBNET}.300,actions=drop", 5, f"{SUBNET}.300"),
])
def test_flow_file_with_bad_line_installs_nothing(net, bad_line, line_no, token):
    """add-flows of a file whose 5th line is bad: exit 1, the message names line 5 and the bad
    token, and no rule of the file was installed (the good drop rule before it has no effect)."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    before = flows_text(d, br)
    path = d.dir / "flows.txt"
    path.write_text("\n".join([
        "# rules for h2 and h3",
        f"priority=10,ip,nw_dst={h2.ip},actions=drop",
        "",
        f"priority=11,ip,nw_dst={h3.ip},actions=drop",
        bad_line,
        "priority=13,arp,actions=NORMAL",
    ]) + "\n")
    r = ofctl(d, "add-flows", br, str(path))
    assert r.rc == 1, f"add-flows of a file with a bad line should exit 1:\n{r}"
    assert f"line {line_no}" in r.err, f"error does not name line {line_no}:\n{r}"
    assert token in r.err, f"error does not name the bad token {token!r}:\n{r}"
    assert flows_text(d, br) == before, "add-flows installed rules from a file it refused"
    assert ping(h1, h2.ip).rc == 0, "a rule from the refused file drops traffic"


# -- introspection ---------------------------------------------------------------------------------
def test_trace_names_rule_and_actions(net):
    """ofproto/trace of an ICMP packet from h1 to h2 starts with the flow it traces
    ("Flow: ...", ports by name, as ovs-appctl prints it), names the matching rule (priority,
    match, actions) and the datapath actions (TOS set, output to h2 by name, not its datapath
    port number); a packet to h3 ends at the NORMAL rule."""
    d, br, h1, h2, h3 = net.d, net.br, net.h1, net.h2, net.h3
    add_flow(d, br, f"priority=123,icmp,in_port={h1.sw_port},nw_dst={h2.ip},"
                    f"actions=mod_nw_tos:16,output:{h2.sw_port}")
    base = f"in_port={h1.sw_port},dl_src={h1.mac},dl_dst={h2.mac},icmp,nw_src={h1.ip}"
    r = d.vsappctl("ofproto/trace", br, f"{base},nw_dst={h2.ip}", timeout=10)
    if r.rc != 0:
        alive = d.vsctl("list-br", timeout=3).rc == 0
        pytest.fail(f"ofproto/trace failed ({'daemon still answers' if alive else 'daemon no longer answers vsctl'}):"
                    f"\n{r}", pytrace=False)
    assert "priority=123" in r.out and "mod_nw_tos:16" in r.out and f"output:{h2.sw_port}" in r.out, \
        f"trace does not name the rule and its actions:\n{r.out}"
    lines = r.out.splitlines()
    assert lines[0].startswith("Flow: ") and f"in_port={h1.sw_port}" in lines[0] \
        and f"nw_dst={h2.ip}" in lines[0], f"the trace must start with 'Flow: ' and the flow, ports by name:\n{r.out}"
    dp_line = [line for line in lines if line.startswith("Datapath actions:")]
    acts = dp_line[0].removeprefix("Datapath actions: ") if dp_line else ""
    assert "set(ipv4_tos=16)" in acts and re.search(rf"(^|,){h2.sw_port}(,|$)", acts) \
        and not re.search(r"(^|,)\d+(,|$)", acts), \
        f"datapath actions should set the TOS and output to {h2.sw_port}, by name:\n{r.out}"

    r = d.vsappctl("ofproto/trace", br, f"{base},nw_dst={h3.ip}", timeout=10)
    assert r.rc == 0, f"ofproto/trace failed:\n{r}"
    assert "priority=0" in r.out and "NORMAL" in r.out, f"trace to h3 should end at NORMAL:\n{r.out}"
    assert d.vsctl("list-br").rc == 0, "daemon stopped answering after ofproto/trace"


def test_dpif_dump_flows_shows_megaflow(net):
    """After pings from h1 to h2 through a rewrite rule, dpif/dump-flows lists a megaflow for them:
    h1's datapath port, IPv4 to h2, ICMP, with the TOS rewrite and the output to h2's port, and
    packet counts."""
    d, br, h1, h2 = net.d, net.br, net.h1, net.h2
    add_flow(d, br, f"priority=123,icmp,in_port={h1.sw_port},nw_dst={h2.ip},"
                    f"actions=mod_nw_tos:16,output:{h2.sw_port}")
    ports = dp_ports(d)
    p = h1.popen(["ping", "-n", "-q", "-i", "0.2", "-w", "4", h2.ip], stdout=subprocess.DEVNULL)

    def ours():
        return [f for f in d.vsappctl_json("dpif/dump-flows")["flows"]
                if f"in_port({ports[h1.sw_port]})" in f["match"] and f"dst={h2.ip}" in f["match"]
                and "proto=1" in f["match"] and f["packets"] >= 3]
    found = wait_until(ours, 5, 0.2)
    p.wait(timeout=10)
    assert found, f"no megaflow for h1 -> h2 ICMP:\n{d.vsappctl('dpif/dump-flows').out}"
    f = found[0]
    assert "set(ipv4_tos=16)" in f["actions"] and re.search(rf"(^|,){ports[h2.sw_port]}$", f["actions"]), \
        f"megaflow actions should rewrite the TOS and output to {ports[h2.sw_port]}: {f}"
    text = d.vsappctl("dpif/dump-flows").out
    assert any(line.startswith(f["match"] + ", packets:") for line in text.splitlines()), \
        f"text dump does not show the megaflow {f['match']}:\n{text}"
