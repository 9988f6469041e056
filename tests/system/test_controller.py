"""The controller channel (docs/controller.md) on real namespaces and real TLS, with certificates
made by vs-pki at test time and the reference controller vs-controller: fail modes, packet_in /
packet_out, reconnection, refusal of bad peers (another CA, expired, self-signed, wrong address,
plaintext, no certificate, malformed and oversized messages) without disturbing forwarding, the
pssl: listener, port_status / flow_removed, the packet_in rate limit, and vsctl's commands.
Every connection goes to 127.0.0.1."""
from __future__ import annotations

import base64
import json
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from lib.controller import Controller, Pki, RawPeer, free_port, vsofctl, wait_until
from lib.traffic import Sniffer, marker, ping, send_frames

NORMAL_SCRIPT = [{"type": "flow_mod", "command": "add", "flow": "priority=10,cookie=0x77,actions=NORMAL"}]


@pytest.fixture
def pki(tmp_path):
    return Pki.create(tmp_path / "pki")


@pytest.fixture
def controllers(tmp_path, request):
    made: list[Controller] = []

    def start(target: str, **kw) -> Controller:
        c = Controller.start(tmp_path, target, **kw)
        made.append(c)
        return c
    yield start
    failed = getattr(request.node, "rep_call", None)
    for c in made:
        c.stop()
        if failed is not None and failed.failed:
            print(c.log())


def connected(d, target: str) -> bool:
    r = d.vsctl("get", "controller", target, "is_connected")
    return r.rc == 0 and r.out.strip() == "true"


def status(d, target: str) -> dict:
    return d.vsctl_json("get", "controller", target, "status")


def wait_connected(d, target: str, ctl: Controller | None = None, timeout: float = 15) -> None:
    assert wait_until(lambda: connected(d, target), timeout), (
        f"controller {target} not connected after {timeout}s; status {status(d, target)}\n"
        f"{ctl.log() if ctl else ''}\n{d.log_tail(8000)}")


def wait_barrier(ctl: Controller, after: int = 0, timeout: float = 10) -> dict:
    e = ctl.wait_event(lambda e: e["event"] == "barrier_reply", timeout, after)
    assert e, f"no barrier_reply from the switch:\n{ctl.log()}"
    return e


def no_ping(h, ip) -> bool:
    return ping(h, ip, count=2, deadline=2).rc != 0


def udp_frame(src_mac, dst_mac, src_ip, dst_ip, payload, dport=9) -> bytes:
    return bytes(Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) / UDP(sport=40000, dport=dport) / payload)


def tls_controller(d, pki, controllers, script=NORMAL_SCRIPT, probe_ms=None, extra_targets=()):
    """A vs-controller on pssl:PORT:127.0.0.1 running `script`; the switch set to reach it."""
    port = free_port()
    ctl = controllers(f"pssl:{port}:127.0.0.1", tls=pki.issue(f"ctl{port}", "controller"), script=script)
    return ctl, f"json:ssl:127.0.0.1:{port}"


def test_secure_mode_forwards_nothing_until_the_controller_installs_flows(lan, pki, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    assert ping(h1, h2.ip).rc == 0, "standalone without controller: the default NORMAL rule"
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    d.vsctl_ok("set-fail-mode", net.bridge, "secure")
    assert no_ping(h1, h2.ip), "secure mode without controller must not forward"
    assert "NORMAL" not in vsofctl(d.socket, "dump-flows", net.bridge), "secure mode keeps no default rule"

    ctl, target = tls_controller(d, pki, controllers, script=[])
    d.vsctl_ok("set-controller", net.bridge, target)
    wait_connected(d, target, ctl)
    wait_barrier(ctl)
    assert no_ping(h1, h2.ip), "connected, but the controller has installed nothing yet"

    ctl.stop()
    ctl2 = controllers(ctl.argv[1], tls=pki.issue("ctl2", "controller"), script=NORMAL_SCRIPT)
    wait_barrier(ctl2, timeout=15)
    r = ping(h1, h2.ip)
    assert r.rc == 0, f"the controller's NORMAL rule should let h1 reach h2:\n{r}\n{ctl2.log()}"
    assert "cookie=0x77" in vsofctl(d.socket, "dump-flows", net.bridge)


def test_learning_controller_packet_in_and_packet_out(lan, pki, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    d.vsctl_ok("set-fail-mode", net.bridge, "secure")
    port = free_port()
    ctl = controllers(f"pssl:{port}:127.0.0.1", tls=pki.issue("ctl", "controller"), extra=["--idle-timeout", "30"])
    target = f"json:ssl:127.0.0.1:{port}"
    d.vsctl_ok("set-controller", net.bridge, target)
    wait_connected(d, target, ctl)
    hello = ctl.wait_event(lambda e: e["event"] == "connected")
    assert hello, ctl.log()
    names = {p["name"] for p in hello["ports"]}
    assert {h1.sw_port, h2.sw_port} <= names, f"features_reply lists the ports: {hello}"
    assert len(hello["datapath_id"]) == 16

    r = ping(h1, h2.ip, count=4)
    assert r.rc == 0, f"the learning controller must connect h1 and h2 (packet_in -> flow_mod + packet_out):\n{r}\n{ctl.log()}"
    pins = [e for e in ctl.events() if e["event"] == "packet_in"]
    assert pins, ctl.log()
    ofports = {d.ofport(h1.sw_port), d.ofport(h2.sw_port)}
    assert {p["in_port"] for p in pins} <= ofports | {65534}
    assert all(p["reason"] == "no_match" for p in pins), "the table-miss rule reports no_match"
    first = base64.b64decode(pins[0]["data"])
    assert len(first) == pins[0]["total_len"] and len(first) >= 42
    flows = vsofctl(d.socket, "dump-flows", net.bridge)
    assert f"dl_dst={h2.mac}" in flows and f"dl_dst={h1.mac}" in flows, f"learned flows installed:\n{flows}"


def test_scripted_packet_in_and_packet_out_over_tcp(lan, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    p1, p2 = d.ofport(h1.sw_port), d.ofport(h2.sw_port)
    tag_out, tag_table, tag_in = marker(), marker(), marker()
    direct = udp_frame("02:00:00:00:00:01", h2.mac, "10.231.0.99", h2.ip, tag_out)
    via_table = udp_frame(h1.mac, "02:00:5e:00:00:42", h1.ip, "10.231.0.98", tag_table, dport=10)
    script = NORMAL_SCRIPT + [
        {"type": "flow_mod", "command": "add", "flow": "priority=200,udp,tp_dst=9,actions=CONTROLLER:128"},
        {"type": "packet_out", "in_port": 65533, "actions": f"output:{p2}", "data": base64.b64encode(direct).decode()},
        {"type": "packet_out", "in_port": p1, "actions": "output:TABLE",
         "data": base64.b64encode(via_table).decode()},
    ]
    port = free_port()
    with Sniffer(h2, tag_out, seconds=15, want=1) as s_out, Sniffer(h2, tag_table, seconds=15, want=1) as s_table:
        ctl = controllers(f"ptcp:{port}:127.0.0.1", script=script)
        d.vsctl_ok("set-controller", net.bridge, f"json:tcp:127.0.0.1:{port}")
        wait_barrier(ctl, timeout=15)
        assert s_out.stop()["matched"] == 1, f"packet_out output:{p2} did not reach h2\n{ctl.log()}"
        assert s_table.stop()["matched"] == 1, "packet_out output:TABLE (through NORMAL) did not reach h2"

    frame = udp_frame(h1.mac, h2.mac, h1.ip, h2.ip, tag_in + b"x" * 200)
    n = len(ctl.events())
    send_frames(h1, [frame])
    pin = ctl.wait_event(lambda e: e["event"] == "packet_in", 10, after=n)
    assert pin, f"no packet_in for the UDP frame\n{ctl.log()}"
    data = base64.b64decode(pin["data"])
    assert pin["reason"] == "action" and pin["in_port"] == p1 and pin["match"] == f"in_port={p1}", pin
    assert len(data) == 128 and pin["total_len"] == len(frame), "CONTROLLER:128 sends the first 128 bytes"
    assert tag_in in data


def test_controller_restart_secure_keeps_rules_and_reconnects(lan, pki, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    ctl, target = tls_controller(d, pki, controllers)
    d.vsctl_ok("set-fail-mode", net.bridge, "secure", "--", "set-controller", net.bridge, target, "--",
               "set", "controller", net.bridge, "inactivity_probe=500", "max_backoff=1000")
    wait_connected(d, target, ctl)
    wait_barrier(ctl)
    assert ping(h1, h2.ip).rc == 0

    ctl.kill()
    assert wait_until(lambda: not connected(d, target), 5), "the switch noticed the controller is gone"
    time.sleep(2)  # more than three probe intervals: secure mode must not fail open
    r = ping(h1, h2.ip)
    assert r.rc == 0, f"secure mode keeps the controller's rules while it is away:\n{r}"
    assert "cookie=0x77" in vsofctl(d.socket, "dump-flows", net.bridge)
    assert "fail-open" not in d.log_tail(20000)

    n = len(ctl.events())
    ctl.run()
    wait_connected(d, target, ctl, timeout=10)
    assert ctl.wait_event(lambda e: e["event"] == "connected", 5, after=n), "the switch reconnected by itself"
    assert ping(h1, h2.ip).rc == 0


def test_controller_gone_standalone_falls_back_to_normal_within_three_probes(lan, pki, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    drop_all = [{"type": "flow_mod", "command": "add", "flow": "priority=100,actions=drop"}]
    ctl, target = tls_controller(d, pki, controllers, script=drop_all)
    d.vsctl_ok("set-controller", net.bridge, target, "--", "set", "controller", net.bridge,
               "inactivity_probe=500", "max_backoff=1000")
    wait_connected(d, target, ctl)
    wait_barrier(ctl)
    assert no_ping(h1, h2.ip), "the controller's drop rule is in charge while it is connected"

    ctl.kill()
    t0 = time.monotonic()
    assert wait_until(lambda: ping(h1, h2.ip, count=1, deadline=1).rc == 0, 10, interval=0.2), (
        f"standalone: NORMAL switching expected after three missed probes\n{d.log_tail(8000)}")
    took = time.monotonic() - t0
    assert took < 5, f"fail-open took {took:.1f}s (3 probes of 0.5 s, plus detection)"
    assert "fail-open" in d.log_tail(20000)
    assert "priority=100" in vsofctl(d.socket, "dump-flows", net.bridge), "fail-open keeps the rules"

    ctl.run()
    wait_connected(d, target, ctl, timeout=10)
    assert wait_until(lambda: no_ping(h1, h2.ip), 5), "the reconnected controller's rules are in charge again"


@pytest.mark.parametrize("peer,reason", [
    ("other_ca", "self-signed certificate in certificate chain"),  # its root, sent along, is not ours
    ("expired", "certificate has expired"),
    ("self_signed", "self-signed certificate"),
    ("wrong_ip", "IP address mismatch"),
])
def test_switch_refuses_a_controller_with_a_bad_certificate(lan, pki, controllers, tmp_path, peer, reason):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    good, good_target = tls_controller(d, pki, controllers)
    if peer == "other_ca":
        cert = Pki.create(tmp_path / "other").issue("evil", "controller")
    elif peer == "expired":
        cert = pki.issue("old", "controller", expired=True)
    elif peer == "self_signed":
        cert = pki.self_signed("selfie")
    else:
        cert = pki.issue("elsewhere", "controller", san="IP:127.0.0.2")
    bad_port = free_port()
    bad = controllers(f"pssl:{bad_port}:127.0.0.1", tls=cert, script=NORMAL_SCRIPT)
    bad_target = f"json:ssl:127.0.0.1:{bad_port}"
    d.vsctl_ok("set-fail-mode", net.bridge, "secure", "--", "set-controller", net.bridge, good_target, bad_target)
    wait_connected(d, good_target, good)
    wait_barrier(good)
    assert wait_until(lambda: reason in status(d, bad_target).get("last_error", ""), 10), (
        f"expected '{reason}' in the status of {bad_target}: {status(d, bad_target)}\n{d.log_tail(8000)}")
    assert not connected(d, bad_target)
    assert not bad.wait_event(lambda e: e["event"] == "connected", 0.5), "the bad controller never gets a session"
    assert reason in d.log_tail(40000), "the refusal is logged"
    assert connected(d, good_target), "the good controller is undisturbed"
    assert ping(h1, h2.ip).rc == 0, "forwarding is intact"


def test_pssl_requires_a_client_certificate_and_refuses_bad_peers(lan, pki, controllers, tmp_path):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    port = free_port()
    listen = f"json:pssl:{port}:127.0.0.1"
    d.vsctl_ok("set-fail-mode", net.bridge, "secure", "--", "set-controller", net.bridge, listen)
    assert wait_until(lambda: status(d, listen).get("state") == "LISTENING", 5), status(d, listen)
    good = controllers(f"ssl:127.0.0.1:{port}", tls=pki.issue("ctl", "controller"), script=NORMAL_SCRIPT)
    wait_connected(d, listen, good)
    wait_barrier(good)
    assert ping(h1, h2.ip).rc == 0
    bad_before = d.coverage().get("controller_bad_message", 0)

    plain = RawPeer(port)  # a plaintext client on a TLS port
    plain.send({"type": "hello", "xid": 1, "versions": [1]})
    assert plain.read_line() is None, "plaintext must get nothing but a closed connection"
    plain.close()

    nocert = Pki(tmp_path / "nocert")
    nocert_peer = None
    try:
        import socket
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(str(pki.ca))
        raw = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="127.0.0.1")
        raw.sendall(b'{"type":"hello","xid":1,"versions":[1]}\n')
        try:
            got = raw.recv(4096)
        except (ssl.SSLError, OSError):
            got = b""
        assert b"hello" not in got, "a client without a certificate must not get a session"
        nocert_peer = raw
    finally:
        if nocert_peer:
            nocert_peer.close()
    del nocert

    other = Pki.create(tmp_path / "other").issue("evil", "controller")
    other.ca = pki.ca  # it trusts the switch; the switch must not trust it
    try:
        evil = RawPeer(port, tls=other)
        assert evil.read_line() is None, "a certificate from another CA must be refused"
        evil.close()
    except OSError:
        pass  # TLS 1.2: the handshake itself fails

    peer = RawPeer(port, tls=pki.issue("raw", "controller"))
    peer.handshake()
    peer.send_raw(b"{this is not json\n")
    err = peer.read_until(lambda m: m["type"] == "error")
    assert err and err["code"] == "bad_syntax" and err["xid"] == 0, err
    peer.send({"type": "flow_mod", "xid": 4242, "command": "add", "flow": "ip,nw_srcc=1,actions=drop"})
    err = peer.read_until(lambda m: m["type"] == "error")
    assert err and err["xid"] == 4242 and err["error_type"] == "flow_mod_failed" and "nw_srcc" in err["message"], err
    peer.send({"type": "echo_request", "xid": 5, "data": "alive"})
    echo = peer.read_until(lambda m: m["type"] == "echo_reply")
    assert echo and echo["xid"] == 5, "after malformed messages the session is still up"
    try:
        peer.send_raw(b'{"type":"echo_request","xid":6,"data":"' + b"A" * (2 * 1024 * 1024) + b'"}\n')
    except OSError:
        pass  # the switch may stop reading once it has seen more than the limit
    err = peer.read_until(lambda m: m["type"] == "error")
    assert err and err["code"] == "bad_len", err
    assert peer.read_line() is None, "an oversized message closes the connection"
    peer.close()

    assert d.coverage().get("controller_bad_message", 0) >= bad_before + 3
    log = d.log_tail(60000)
    for why in ("wrong version number", "peer did not return a certificate", "unable to get local issuer certificate"):
        assert f"refused a connection: TLS handshake failed: {why}" in log or \
            f"refused a connection: TLS handshake failed: peer certificate rejected: {why}" in log, why
    assert "bad message from controller" in log and "exceeds the limit" in log
    assert connected(d, listen), "the good controller's session is undisturbed"
    assert ping(h1, h2.ip).rc == 0, "forwarding is intact"


def test_port_status_flow_removed_and_stats(lan, topo, controllers):
    net = lan(2)
    d = net.daemon
    script = NORMAL_SCRIPT + [
        {"type": "flow_mod", "command": "add", "flow": "priority=50,hard_timeout=1,send_flow_rem,cookie=0x99,dl_type=0x88b5,actions=drop"},
        {"type": "multipart_request", "stats": "table"},
        {"type": "multipart_request", "stats": "port"},
    ]
    port = free_port()
    ctl = controllers(f"ptcp:{port}:127.0.0.1", script=script)
    d.vsctl_ok("set-controller", net.bridge, f"json:tcp:127.0.0.1:{port}")
    wait_barrier(ctl, timeout=15)
    ports = ctl.wait_event(lambda e: e["event"] == "multipart_reply" and e["stats"] == "port", 5)
    assert ports and {p["name"] for p in ports["body"]} >= {h.sw_port for h in net.hosts}, ctl.log()
    tables = ctl.wait_event(lambda e: e["event"] == "multipart_reply" and e["stats"] == "table", 5)
    assert tables and tables["body"][0]["active_count"] >= 2

    removed = ctl.wait_event(lambda e: e["event"] == "flow_removed", 6)
    assert removed and removed["reason"] == "hard_timeout" and removed["cookie"] == "0x99", ctl.log()

    n = len(ctl.events())
    h3 = topo.add_host("10.231.0.3")
    d.vsctl_ok("add-port", net.bridge, h3.sw_port)
    added = ctl.wait_event(lambda e: e["event"] == "port_status" and e["reason"] == "add", 5, after=n)
    assert added and added["port"]["name"] == h3.sw_port and added["port"]["port_no"] == d.ofport(h3.sw_port)
    d.vsctl_ok("del-port", net.bridge, h3.sw_port)
    gone = ctl.wait_event(lambda e: e["event"] == "port_status" and e["reason"] == "delete", 5, after=n)
    assert gone and gone["port"]["name"] == h3.sw_port, ctl.log()


def test_packet_in_flood_is_rate_limited_and_forwarding_continues(lan, controllers):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    script = NORMAL_SCRIPT + [{"type": "flow_mod", "command": "add", "flow": "priority=100,udp,tp_dst=9,actions=CONTROLLER"}]
    port = free_port()
    ctl = controllers(f"ptcp:{port}:127.0.0.1", script=script)
    target = f"json:tcp:127.0.0.1:{port}"
    d.vsctl_ok("set-controller", net.bridge, target, "--", "set", "controller", net.bridge,
               "controller_rate_limit=20", "controller_burst_limit=10")
    wait_barrier(ctl, timeout=15)
    counters = ("drop_packet_in_rate_limit", "drop_slow_path_queue_full")
    before = {c: d.coverage().get(c, 0) for c in counters}
    n = len(ctl.events())
    tag = marker()
    frames = [udp_frame(h1.mac, h2.mac, h1.ip, h2.ip, tag + i.to_bytes(4, "big")) for i in range(1500)]
    t0 = time.monotonic()
    send_frames(h1, frames)
    elapsed = time.monotonic() - t0
    assert ping(h1, h2.ip).rc == 0, "forwarding continues during and after the flood"
    time.sleep(1)
    pins = [e for e in ctl.events()[n:] if e["event"] == "packet_in"]
    allowed = 10 + 20 * (elapsed + 2)
    assert 0 < len(pins) <= allowed, f"{len(pins)} packet_in for 1500 frames in {elapsed:.2f}s (limit ~{allowed:.0f})"
    after = d.coverage()
    dropped = {c: after.get(c, 0) - before[c] for c in counters}
    assert dropped["drop_packet_in_rate_limit"] > 0, dropped
    # Every frame is either sent to the controller or counted as dropped (by the rate limit, or by the
    # bounded slow-path queue when the poll thread outruns the control thread); a few may be lost
    # before the switch sees them (the veth/AF_PACKET ring).
    assert len(pins) + sum(dropped.values()) >= 1500 * 0.9, f"drops are counted: {dropped}, {len(pins)} sent"


def test_deeply_nested_controller_line_gets_an_error_and_the_switch_survives(lan):
    """100,000 '[' on one line (RapidJSON recurses; the stack would overflow): a bad_syntax error
    that names the nesting, the session stays up, the switch keeps serving and forwarding."""
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    port = free_port()
    listen = f"json:ptcp:{port}:127.0.0.1"
    d.vsctl_ok("set-controller", net.bridge, listen)
    assert wait_until(lambda: status(d, listen).get("state") == "LISTENING", 5), status(d, listen)
    peer = RawPeer(port, timeout=10)
    try:
        peer.handshake()
        peer.send_raw(b"[" * 100000 + b"\n")
        err = peer.read_until(lambda m: m["type"] == "error")
        assert err and err["code"] == "bad_syntax" and "nesting deeper than 16 levels" in err["message"], err
        peer.send({"type": "echo_request", "xid": 9, "data": "still here"})
        echo = peer.read_until(lambda m: m["type"] == "echo_reply")
        assert echo and echo["xid"] == 9, "the session survives the deep line"
    finally:
        peer.close()
    assert d.running(), "vswitchd died on a deeply nested controller message"
    assert d.vsctl("list-br", timeout=5).rc == 0
    d.vsctl_ok("del-controller", net.bridge)
    assert ping(h1, h2.ip).rc == 0


def test_vsctl_controller_commands_validation_and_persistence(lan, pki, controllers, tmp_path):
    net = lan(2)
    d, br = net.daemon, net.bridge
    r = d.vsctl("set-controller", br, "tcp:10.0.0.1:70000")
    assert r.rc == 1 and "port 70000 is outside 1..65535" in r.err, r
    r = d.vsctl("set-controller", br, "udp:1.2.3.4")
    assert r.rc == 1 and "unknown connection type 'udp'" in r.err, r
    r = d.vsctl("set-fail-mode", br, "open")
    assert r.rc == 1 and "standalone" in r.err and "secure" in r.err, r
    r = d.vsctl("set-ssl", str(tmp_path / "missing-key.pem"), "/etc/hostname", "/etc/hostname")
    assert r.rc == 1 and "cannot read private key" in r.err and "No such file or directory" in r.err, r
    r = d.vsctl("set-controller", "nosuchbr", "tcp:127.0.0.1")
    assert r.rc == 1 and "no bridge named nosuchbr" in r.err, r

    sw = pki.issue("sw")
    d.vsctl_ok(*sw.vsctl_ssl())
    ssl_text = d.vsctl_ok("get-ssl")
    assert f"Private key: {sw.key}" in ssl_text and f"CA Certificate: {sw.ca}" in ssl_text
    ctl, target = tls_controller(d, pki, controllers)
    d.vsctl_ok("set-controller", br, target, "ptcp:0:127.0.0.1".replace(":0:", f":{free_port()}:"))
    d.vsctl_ok("set-fail-mode", br, "secure")
    d.vsctl_ok("set", "controller", target, "inactivity_probe=1500")
    wait_connected(d, target, ctl)
    assert target in d.vsctl_ok("get-controller", br).split()
    assert d.vsctl_ok("get-fail-mode", br).strip() == "secure"
    show = d.vsctl_ok("show")
    assert f'Controller "{target}"' in show and "is_connected: true" in show and "fail_mode: secure" in show, show
    rec = [c for c in d.vsctl_json("list", "controller") if c["target"] == target][0]
    assert rec["inactivity_probe"] == 1500 and rec["is_connected"] is True and rec["status"]["state"] == "ACTIVE"
    r = d.vsctl("set", "controller", target, "inactivity_probe=10")
    assert r.rc == 1 and "expected 0 or an integer in 100..86400000" in r.err, r
    wait_barrier(ctl)
    assert "cookie=0x77" in vsofctl(d.socket, "dump-flows", br)

    d.stop()
    d.start()
    assert d.vsctl_ok("get-fail-mode", br).strip() == "secure", "fail mode survives a restart"
    assert target in d.vsctl_ok("get-controller", br)
    wait_connected(d, target, ctl)
    assert "cookie=0x77" in vsofctl(d.socket, "dump-flows", br), "the controller's rules persist too"
    d.vsctl_ok("del-controller", br, "--", "del-fail-mode", br, "--", "del-ssl")
    assert d.vsctl_ok("get-controller", br).strip() == ""
    assert d.vsctl_ok("get-fail-mode", br).strip() == ""
    assert wait_until(lambda: ping(net.hosts[0], net.hosts[1].ip, count=1, deadline=1).rc == 0, 5), (
        "without controllers, standalone: the default NORMAL rule is back")
