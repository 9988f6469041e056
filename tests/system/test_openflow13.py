"""Binary OpenFlow 1.3 on the controller channel (docs/controller.md "OpenFlow 1.3"), driven by a
peer nobody here wrote: Debian's `ovs-ofctl -O OpenFlow13` against the bridge's passive listener
(`ptcp:PORT:127.0.0.1`; ovs-ofctl connects with `tcp:127.0.0.1:PORT`). Its output is parsed and
checked: features, ports, rules and their counters, port and table statistics, packet-out, and
the errors it prints for what the switch refuses. Traffic flows between two namespaces only
through the rules ovs-ofctl installed (fail mode secure). Every connection goes to 127.0.0.1."""
from __future__ import annotations

import re
import socket
import struct
import subprocess

from lib.controller import free_port, vsofctl, wait_until
from lib.traffic import Sniffer, marker, ping
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether


def ofctl(target: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(["ovs-ofctl", "-O", "OpenFlow13", "--timeout=10", args[0], target, *args[1:]],
                       capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, f"ovs-ofctl {' '.join(args)} failed: {r.stderr}"
    return r


def listen(d, bridge: str) -> str:
    """Makes the bridge secure with an OpenFlow listener on 127.0.0.1; returns ovs-ofctl's target."""
    port = free_port()
    d.vsctl_ok("set-fail-mode", bridge, "secure", "--", "set-controller", bridge, f"ptcp:{port}:127.0.0.1")
    st = lambda: d.vsctl_json("get", "controller", f"ptcp:{port}:127.0.0.1", "status")
    assert wait_until(lambda: st().get("state") == "LISTENING", 5), st()
    return f"tcp:127.0.0.1:{port}"


def ofports(show: str) -> dict[str, int]:
    """Port name -> number from `ovs-ofctl show` (" 1(name): addr:...")."""
    return {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s*(\d+)\(([^)]+)\): addr:", show, re.M)}


def flows(target: str) -> list[dict]:
    """dump-flows as dicts: the key=value fields before actions=, plus 'match' and 'actions'."""
    out = []
    for line in ofctl(target, "dump-flows").stdout.splitlines():
        line = line.strip()
        if not line or line.startswith("OFPST_FLOW") or "actions=" not in line:
            continue
        head, actions = line.split("actions=", 1)
        row = {"actions": actions}
        fields = [f.strip() for f in head.replace(", ", ",").split(",") if f.strip()]
        match = []
        for f in fields:
            k, sep, v = f.partition("=")
            if k in ("cookie", "duration", "table", "n_packets", "n_bytes", "idle_timeout", "hard_timeout",
                     "send_flow_rem", "reset_counts", "priority") and sep:
                row[k] = v
            else:
                match.append(f)
        row["match"] = ",".join(match)
        out.append(row)
    return out


def test_ovs_ofctl_drives_the_switch_over_openflow13(lan):
    net = lan(2)
    d, br, (h1, h2) = net.daemon, net.bridge, net.hosts
    target = listen(d, br)

    show = ofctl(target, "show").stdout
    assert "OFPT_FEATURES_REPLY (OF1.3)" in show, show
    local_mac = d.vsctl_ok("get", "interface", br, "mac_in_use").strip().strip('"').replace(":", "")
    assert re.search(r"dpid:0000" + local_mac, show), f"datapath id is the local port's MAC {local_mac}: {show}"
    ports = ofports(show)
    assert h1.sw_port in ports and h2.sw_port in ports and "LOCAL" in show, show
    p1, p2 = ports[h1.sw_port], ports[h2.sw_port]

    assert ping(h1, h2.ip, count=1, deadline=2).rc != 0, "secure mode without rules forwards nothing"
    h1.exec(["ip", "neigh", "flush", "all"])  # the failed ARP would fail the next ping at once
    ofctl(target, "add-flow", f"priority=100,in_port={p1},actions=output:{p2}")
    ofctl(target, "add-flow", f"cookie=0x5,priority=100,in_port={p2},actions=output:{p1}")
    assert ping(h1, h2.ip).rc == 0, (
        f"forwarding through the rules ovs-ofctl installed:\n{vsofctl(d.socket, 'dump-flows', br)}")

    def counted() -> bool:
        rows = [f for f in flows(target) if f.get("priority") == "100"]
        return len(rows) == 2 and all(int(f["n_packets"]) >= 3 for f in rows)
    assert wait_until(counted, 5), flows(target)
    rows = {f["match"]: f for f in flows(target)}
    assert rows[f"in_port={p1}"]["actions"] == f"output:{p2}", rows
    assert rows[f"in_port={p2}"]["cookie"] == "0x5", rows
    assert int(rows[f"in_port={p1}"]["n_bytes"]) >= 3 * 98

    stats = ofctl(target, "dump-ports", str(p2)).stdout
    m = re.search(r"rx pkts=(\d+)", stats)
    assert m and int(m.group(1)) >= 3, stats
    desc = ofctl(target, "dump-ports-desc").stdout
    assert h1.sw_port in desc and h2.sw_port in desc and "OFPST_PORT_DESC reply (OF1.3)" in desc, desc
    tables = ofctl(target, "dump-tables").stdout
    m = re.search(r"table 0:\s+active=(\d+), lookup=(\d+), matched=(\d+)", tables)
    assert m and int(m.group(1)) == 2 and int(m.group(3)) >= 1, tables

    # del-flows with a match (non-strict delete) leaves the other rule; traffic stops.
    ofctl(target, "del-flows", f"in_port={p1}")
    left = flows(target)
    assert [f["match"] for f in left] == [f"in_port={p2}"], left
    assert ping(h1, h2.ip, count=1, deadline=2).rc != 0

    # packet-out from the controller: output to h2's port, seen on h2.
    tag = marker()
    frame = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / IP(src="10.231.0.99", dst="10.231.0.2") / UDP(dport=9) / tag
    with Sniffer(h2, tag, seconds=10, want=1) as sn:
        ofctl(target, "packet-out", f"in_port=CONTROLLER,packet={bytes(frame).hex()},actions=output:{p2}")
        assert sn.stop()["matched"] == 1, "the packet-out frame reached h2"

    ofctl(target, "del-flows")
    assert flows(target) == []


def test_refusals_carry_the_specs_error_and_the_connection_carries_on(lan):
    net = lan(2)
    d, br = net.daemon, net.bridge
    target = listen(d, br)
    r = ofctl(target, "add-flow", "priority=5,actions=group:7", check=False)
    assert r.returncode != 0 and "OFPBAC_BAD_OUT_GROUP" in r.stderr, r.stderr
    r = ofctl(target, "add-flow", "table=254,actions=drop", check=False)
    assert r.returncode != 0 and "OFPFMFC_BAD_TABLE_ID" in r.stderr, r.stderr
    r = ofctl(target, "add-flow", "priority=5,mpls,mpls_label=5,actions=drop", check=False)
    assert r.returncode != 0 and "OFPBMC_BAD_FIELD" in r.stderr, r.stderr

    # A raw peer: a hello naming only OpenFlow 1.0 gets HELLO_FAILED; a good session survives
    # a malformed flow_mod (BAD_MATCH/BAD_PREREQ, the first 64 bytes quoted) and answers echo.
    host, port = target.split(":")[1], int(target.split(":")[2])
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(struct.pack("!BBHI", 1, 0, 8, 1))
        hdr = recv_msg(s)
        assert hdr[1] == 0, "the switch's hello comes first"
        err = recv_msg(s)
        assert err[1] == 1 and struct.unpack("!HH", err[8:12]) == (0, 0), err.hex()  # HELLO_FAILED/INCOMPATIBLE
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(bytes.fromhex("04000010000000010001000800000010"))
        assert recv_msg(s)[1] == 0
        match = bytes.fromhex("0001000a" "80001a020050" "000000000000")  # tcp_src without its prerequisites
        body = struct.pack("!QQBBHHHIIIHH", 0, 0, 0, 0, 0, 0, 100, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0) + match
        fm = struct.pack("!BBHI", 4, 14, 8 + len(body), 77) + body
        s.sendall(fm)
        err = recv_msg(s)
        assert err[1] == 1 and struct.unpack("!I", err[4:8])[0] == 77, err.hex()
        assert struct.unpack("!HH", err[8:12]) == (4, 9), err.hex()  # BAD_MATCH/BAD_PREREQ
        assert err[12:] == fm[:64], "the error quotes the offending message's first 64 bytes"
        s.sendall(struct.pack("!BBHI", 4, 2, 12, 78) + b"ping")
        echo = recv_msg(s)
        assert echo[1] == 3 and echo[8:] == b"ping", echo.hex()
    assert d.running()


def recv_msg(s: socket.socket) -> bytes:
    buf = b""
    while len(buf) < 8:
        chunk = s.recv(8 - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    length = struct.unpack("!H", buf[2:4])[0]
    while len(buf) < length:
        chunk = s.recv(length - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


OSKEN_APP = '''
"""A learning switch for os-ken (written for tests/system/test_openflow13.py): a table-miss rule
to the controller, then per packet_in a rule for the learned destination and a packet_out."""
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class LearningSwitch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.macs = {}

    @staticmethod
    def apply(p, ofp, actions):
        return [p.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def features(self, ev):
        dp = ev.msg.datapath
        ofp, p = dp.ofproto, dp.ofproto_parser
        miss = [p.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)]
        dp.send_msg(p.OFPFlowMod(dp, priority=0, match=p.OFPMatch(), instructions=self.apply(p, ofp, miss)))
        print("EVENT features %016x" % dp.id, flush=True)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        ofp, p = dp.ofproto, dp.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        self.macs[eth.src] = in_port
        out = self.macs.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [p.OFPActionOutput(out)]
        if out != ofp.OFPP_FLOOD:
            match = p.OFPMatch(in_port=in_port, eth_dst=eth.dst)
            dp.send_msg(p.OFPFlowMod(dp, priority=1, match=match, instructions=self.apply(p, ofp, actions)))
        dp.send_msg(p.OFPPacketOut(dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port, actions=actions,
                                   data=msg.data))
        print("EVENT packet_in reason=%d table=%d in_port=%d %s->%s out=%d"
              % (msg.reason, msg.table_id, in_port, eth.src, eth.dst, out), flush=True)
'''


def test_os_ken_learning_switch_over_tls(lan, tmp_path):
    from lib.controller import Pki, vsofctl
    net = lan(2)
    d, br, (h1, h2) = net.daemon, net.bridge, net.hosts
    pki = Pki.create(tmp_path / "pki")
    ctl_cert = pki.issue("osken", "controller")
    d.vsctl_ok(*pki.issue("sw").vsctl_ssl())
    app = tmp_path / "learning_switch.py"
    app.write_text(OSKEN_APP)
    port = free_port()
    log = open(tmp_path / "osken.log", "w+")
    proc = subprocess.Popen(["osken-manager", "--ofp-listen-host", "127.0.0.1", "--ofp-ssl-listen-port", str(port),
                             "--ofp-tcp-listen-port", str(free_port()), "--ctl-privkey", str(ctl_cert.key),
                             "--ctl-cert", str(ctl_cert.cert), "--ca-certs", str(ctl_cert.ca), str(app)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    text = lambda: (tmp_path / "osken.log").read_text()
    try:
        target = f"ssl:127.0.0.1:{port}"
        listen_port = free_port()  # a second controller at once: ovs-ofctl on a passive target
        d.vsctl_ok("set-fail-mode", br, "secure", "--", "set-controller", br, target, f"ptcp:{listen_port}:127.0.0.1")
        assert wait_until(lambda: "EVENT features" in text(), 20), f"os-ken saw no switch\n{text()}\n{d.log_tail(4000)}"
        assert ping(h1, h2.ip, count=3, deadline=10).rc == 0, f"ping through os-ken's rules\n{text()}"
        events = [l for l in text().splitlines() if l.startswith("EVENT packet_in")]
        assert any("reason=0 table=0" in e for e in events), f"table-miss packet_in (OFPR_NO_MATCH)\n{text()}"
        rules = vsofctl(d.socket, "dump-flows", br)
        learned = [l for l in rules.splitlines() if "priority=1," in l and "dl_dst=" in l]
        assert len(learned) >= 2, f"os-ken installed a rule per direction:\n{rules}"
        other = f"tcp:127.0.0.1:{listen_port}"
        seen = flows(other)  # ovs-ofctl as a second controller, while os-ken stays connected
        p1 = ofports(ofctl(other, "show").stdout)[h1.sw_port]
        assert any(f["match"] == f"in_port={p1},dl_dst={h2.mac}" and f.get("priority") == "1" for f in seen), seen
        assert any(f.get("priority") == "0" and f["actions"].startswith("CONTROLLER") for f in seen), seen
        # Once learned, the rules carry the traffic: no packet_in for a new ping.
        n = len(events)
        assert ping(h1, h2.ip, count=3).rc == 0
        later = [l for l in text().splitlines() if l.startswith("EVENT packet_in")][n:]
        assert not [e for e in later if f"{h1.mac}->{h2.mac}" in e], f"h1->h2 frames reached os-ken: {later}"
        assert "Traceback" not in text(), text()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def of_session(host: str, port: int) -> socket.socket:
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(bytes.fromhex("04000010000000010001000800000010"))
    assert recv_msg(s)[1] == 0, "hello"
    return s


def test_roles_a_new_master_makes_the_old_one_a_slave(lan):
    """Two sessions of one bridge (raw sockets): the later master with a newer generation_id
    demotes the first, whose flow_mod then gets BAD_REQUEST/IS_SLAVE; a stale generation_id gets
    ROLE_REQUEST_FAILED/STALE; the master's flow_mod is applied."""
    net = lan(2)
    d, br = net.daemon, net.bridge
    target = listen(d, br)
    host, port = target.split(":")[1], int(target.split(":")[2])
    role = lambda s, r, gen, xid: (s.sendall(struct.pack("!BBHIIIQ", 4, 24, 24, xid, r, 0, gen)), recv_msg(s))[1]
    with of_session(host, port) as a, of_session(host, port) as b:
        rep = role(a, 2, 10, 1)
        assert rep[1] == 25 and struct.unpack("!IIQ", rep[8:24]) == (2, 0, 10), rep.hex()
        rep = role(b, 2, 11, 2)
        assert rep[1] == 25 and struct.unpack("!I", rep[8:12])[0] == 2, rep.hex()
        rep = role(a, 0, 0, 3)  # NOCHANGE: tells the current role
        assert struct.unpack("!I", rep[8:12])[0] == 3, "a is a slave now"
        rep = role(a, 2, 9, 4)
        assert rep[1] == 1 and struct.unpack("!HH", rep[8:12]) == (11, 0), rep.hex()  # STALE
        match = bytes.fromhex("00010004" "00000000")
        body = struct.pack("!QQBBHHHIIIHH", 0, 0, 0, 0, 0, 0, 7, 0xffffffff, 0xffffffff, 0xffffffff, 0, 0) + match
        fm = lambda xid: struct.pack("!BBHI", 4, 14, 8 + len(body), xid) + body
        a.sendall(fm(5))
        err = recv_msg(a)
        assert err[1] == 1 and struct.unpack("!HH", err[8:12]) == (1, 10), err.hex()  # IS_SLAVE
        b.sendall(fm(6) + struct.pack("!BBHI", 4, 20, 8, 7))
        assert recv_msg(b)[1] == 21, "the master's flow_mod is accepted (barrier reply, no error)"
    assert "priority=7" in vsofctl(d.socket, "dump-flows", br)
