"""Prometheus metrics (vswitchd --metrics, docs/metrics.md; #18 item 5).

A daemon serving http://127.0.0.1:<free port>/metrics, a bridge with two namespaces, traffic;
the scraped values must be what vsofctl dump-ports, vsappctl dpif/show, coverage/show, fdb/show,
bond/show, lacp/show and `get` report. `promtool check metrics` (Debian's prometheus package)
must accept the text, a real Prometheus server must see the target up, a bad --metrics address
must stop the start with an error that names it, and hostile HTTP clients must not keep the
daemon from answering vsctl. Everything listens on loopback only; traffic stays in the test's
namespaces.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from lib import daemon as daemon_mod
from lib.controller import free_port, wait_until
from lib.mgmt import RawClient
from lib.proc import check, run
from lib.traffic import ping

VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")

# No proxy for loopback, whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(port: int, path: str = "/metrics", method: str = "GET", data: bytes | None = None,
         timeout: float = 5) -> tuple[int, dict, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def scrape(port: int) -> str:
    status, headers, body = http(port)
    assert status == 200, f"GET /metrics: {status}\n{body}"
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return body


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def _unescape(v: str) -> str:
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


class Metrics:
    """The parsed exposition text: families (name -> type) and samples."""

    def __init__(self, text: str):
        self.text = text
        self.types: dict[str, str] = {}
        self.helps: dict[str, str] = {}
        self.samples: dict[str, list[tuple[dict, float]]] = {}
        current = None
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, help_ = line[7:].split(" ", 1)
                assert name not in self.helps, f"second HELP for {name}"
                self.helps[name] = help_
                current = name
            elif line.startswith("# TYPE "):
                name, typ = line[7:].split(" ")
                assert name not in self.types, f"second TYPE for {name}"
                assert name == current, f"TYPE {name} not right after its HELP"
                self.types[name] = typ
            else:
                m = _SAMPLE.match(line)
                assert m, f"not a sample line: {line!r}"
                name, labels, value = m.groups()
                assert name == current, f"sample of {name} outside its family ({current})"
                self.samples.setdefault(name, []).append(
                    ({k: _unescape(v) for k, v in _LABEL.findall(labels or "")}, float(value)))

    def get(self, name: str, **labels) -> float | None:
        found = [v for ls, v in self.samples.get(name, []) if all(ls.get(k) == str(w) for k, w in labels.items())]
        assert len(found) <= 1, f"{name}{labels}: {len(found)} samples"
        return found[0] if found else None

    def value(self, name: str, **labels) -> float:
        v = self.get(name, **labels)
        assert v is not None, f"no sample {name}{labels} in\n{self.text}"
        return v


def dump_ports(d, bridge: str) -> dict[str, dict[str, int]]:
    """vsofctl dump-ports BRIDGE: port name -> rx/tx packets, bytes, drop."""
    out = check([str(VSOFCTL), "--socket", str(d.socket), "dump-ports", bridge])
    ports: dict[str, dict[str, int]] = {}
    name = None
    for line in out.splitlines():
        m = re.match(r"\s*port\s+(\S+): rx pkts=(\d+), bytes=(\d+), drop=(\d+)", line)
        if m:
            name = bridge if m.group(1) == "LOCAL" else m.group(1)
            ports[name] = {"rx_packets": int(m.group(2)), "rx_bytes": int(m.group(3)),
                           "rx_dropped": int(m.group(4))}
            continue
        m = re.match(r"\s*tx pkts=(\d+), bytes=(\d+), drop=(\d+)", line)
        if m and name:
            ports[name].update(tx_packets=int(m.group(1)), tx_bytes=int(m.group(2)),
                               tx_dropped=int(m.group(3)))
    assert ports, f"no ports in dump-ports output:\n{out}"
    return ports


def stable(read_tools, port: int, tries: int = 8):
    """Scrapes between two identical readings of the tools (counters do move: a stray frame, an
    expiring megaflow), so that the scrape saw the same state they did."""
    for _ in range(tries):
        before = read_tools()
        text = scrape(port)
        after = read_tools()
        if before == after:
            return Metrics(text), after
        time.sleep(0.3)
    pytest.fail("the counters never held still for one scrape")


@pytest.fixture
def mdaemon(daemon_factory):
    """A daemon with --metrics 127.0.0.1:<free port>; .metrics_port says which."""
    d = daemon_factory(start=False)
    d.metrics_port = free_port()
    d.extra_args = ["--metrics", f"127.0.0.1:{d.metrics_port}"]
    d.start()
    return d


def seq(d) -> int:
    with RawClient(d.socket, timeout=10) as c:
        return c.request("get", id=1)["result"]["seq"]


def test_scrape_matches_the_tools(mdaemon, lan):
    d = mdaemon
    net = lan(daemon=d)
    h1, h2 = net.hosts
    r = ping(h1, h2.ip, count=5)
    assert r.rc == 0, f"ping through {net.bridge} failed:\n{r}"

    def tools():
        return {"ports": dump_ports(d, net.bridge), "dpif": d.vsappctl_json("dpif/show"),
                "coverage": d.coverage(), "fdb": len(d.fdb(net.bridge)), "seq": seq(d)}
    m, t = stable(tools, d.metrics_port)

    for name, counters in t["ports"].items():
        port = name  # one interface per port here; the local port is named after the bridge
        for k, v in counters.items():
            got = m.value(f"ovs_interface_{k}_total", bridge=net.bridge, port=port, interface=name)
            assert got == v, f"{name} {k}: metrics {got}, dump-ports {v}"
    for h in (h1, h2):
        assert t["ports"][h.sw_port]["rx_packets"] >= 5 and t["ports"][h.sw_port]["tx_packets"] >= 5
        labels = dict(bridge=net.bridge, port=h.sw_port, interface=h.sw_port)
        assert m.value("ovs_interface_of_port", **labels) == d.ofport(h.sw_port)
        assert m.value("ovs_interface_link_state", **labels) == 1
        assert m.value("ovs_interface_error", **labels) == 0
        mtu = int(open(f"/sys/class/net/{h.sw_port}/mtu").read())
        assert m.value("ovs_interface_mtu", **labels) == mtu
    assert m.value("ovs_interface_of_port", bridge=net.bridge, port=net.bridge, interface=net.bridge) == 65534

    lookups = t["dpif"]["lookups"]
    assert m.value("ovs_dp_lookups_hit_total") == lookups["hit"]
    assert m.value("ovs_dp_lookups_missed_total") == lookups["missed"]
    assert m.value("ovs_dp_lookups_lost_total") == lookups["lost"]
    assert m.value("ovs_dp_flows") == t["dpif"]["flows"]
    assert lookups["hit"] + lookups["missed"] > 0
    assert {ls["event"]: v for ls, v in m.samples["ovs_coverage_total"]} == t["coverage"]
    assert m.value("ovs_fdb_entries", bridge=net.bridge) == t["fdb"] >= 2
    assert m.value("ovs_vswitchd_config_seq") == t["seq"] > 0
    assert m.value("ovs_openflow_table_rules", bridge=net.bridge, table=0) == 1  # NORMAL

    assert m.value("ovs_process_resident_memory_bytes") > 1 << 20
    assert m.value("ovs_process_threads") >= 2
    assert m.value("ovs_process_open_fds") > 3
    up = m.value("ovs_vswitchd_uptime_seconds")
    assert 0 <= up < 300
    assert abs(m.value("ovs_process_start_time_seconds") + up - time.time()) < 5
    info = m.samples["ovs_info"]
    assert len(info) == 1 and info[0][0]["version"] and info[0][1] == 1

    # Conventions: counters end in _total, every family has HELP and TYPE.
    for name, typ in m.types.items():
        assert (typ == "counter") == name.endswith("_total"), name
    assert set(m.types) == set(m.helps) == set(m.samples)


def test_bonds_lacp_and_controllers(mdaemon, lan, topo):
    d = mdaemon
    net = lan(daemon=d)
    a, b = topo.add_host(None), topo.add_host(None)  # bond members; no LACP partner behind them
    bond = "bond0"
    d.vsctl_ok("add-bond", net.bridge, bond, a.sw_port, b.sw_port, "lacp=active")
    ctl_port = free_port()  # nothing listens there: the controller stays disconnected
    d.vsctl_ok("set-controller", net.bridge, f"tcp:127.0.0.1:{ctl_port}")

    def tools():
        return {"bond": d.vsappctl_json("bond/show", bond)["bonds"][0],
                "lacp": d.vsappctl_json("lacp/show", bond)["bonds"][0],
                "get": _status(d)}
    m, t = stable(tools, d.metrics_port)
    bl = dict(bridge=net.bridge, bond=bond)
    for s in ("off", "negotiated", "configured"):
        assert m.value("ovs_bond_lacp_status", status=s, **bl) == (1 if t["bond"]["lacp_status"] == s else 0)
    assert t["bond"]["lacp_status"] == "configured"
    for mem in t["bond"]["members"]:
        ml = dict(member=mem["name"], **bl)
        assert m.value("ovs_bond_member_enabled", **ml) == mem["enabled"]
        assert m.value("ovs_bond_member_active", **ml) == mem["active"]
        assert m.value("ovs_bond_member_carrier", **ml) == mem["carrier"]
        assert m.value("ovs_bond_member_may_enable", **ml) == mem["may_enable"]
    assert len(t["lacp"]["members"]) == 2
    for mem in t["lacp"]["members"]:
        ml = dict(member=mem["name"], **bl)
        rx = {ls["state"]: v for ls, v in m.samples["ovs_lacp_member_rx_state"] if ls["member"] == mem["name"]}
        assert rx[mem["rx_state"]] == 1 and sum(rx.values()) == 1, rx
        mux = {ls["state"]: v for ls, v in m.samples["ovs_lacp_member_mux_state"] if ls["member"] == mem["name"]}
        assert mux[mem["mux_state"]] == 1 and sum(mux.values()) == 1, mux
        assert m.value("ovs_lacp_member_selected", **ml) == mem["selected"]
        assert m.value("ovs_lacp_member_tx_pdus_total", **ml) == mem["tx_pdus"]
        assert m.value("ovs_lacp_member_rx_pdus_total", **ml) == mem["rx_pdus"]
        assert m.value("ovs_lacp_member_actor_state", **ml) == mem["actor"]["state"]
        assert m.value("ovs_lacp_member_partner_state", **ml) == mem["partner"]["state"]
    # Members are interfaces of the bond port.
    assert m.value("ovs_interface_of_port", bridge=net.bridge, port=bond, interface=a.sw_port) == d.ofport(a.sw_port)

    target = f"tcp:127.0.0.1:{ctl_port}"
    st = t["get"][net.bridge][target]
    assert m.value("ovs_controller_connected", bridge=net.bridge, target=target) == st["is_connected"] == 0
    state = [ls["state"] for ls, v in m.samples["ovs_controller_state"] if ls["target"] == target]
    assert state == [st["status"].get("state", "UNKNOWN")]
    assert m.get("ovs_bridge_fail_open", bridge=net.bridge) in (0, 1)

    if PROMTOOL:  # every family at once: interfaces, bonds, LACP, controllers
        _promtool(m.text)


def _status(d) -> dict:
    with RawClient(d.socket, timeout=10) as c:
        return c.request("get", id=1)["result"]["status"]["controllers"]


def _promtool(text: str) -> None:
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
        f"promtool check metrics: rc {r.returncode}\n{r.stdout}{r.stderr}\n--- text ---\n{text}"


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (Debian package prometheus; scripts/setup.sh)")
def test_promtool_accepts_the_text(mdaemon, lan):
    d = mdaemon
    net = lan(daemon=d)
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0
    _promtool(scrape(d.metrics_port))


def test_http_status_codes(mdaemon):
    p = mdaemon.metrics_port
    assert http(p, "/")[0] == 404
    assert http(p, "/metrics/x")[0] == 404
    status, headers, _ = http(p, "/metrics", method="POST", data=b"x=1")
    assert status == 405 and headers.get("Allow") == "GET"
    assert http(p, "/metrics", method="HEAD")[0] == 405
    assert http(p, "/metrics?x=1")[0] == 200


def test_off_by_default(vswitchd):
    cmd = open(f"/proc/{vswitchd.pid}/cmdline", "rb").read()
    assert b"--metrics" not in cmd
    # No listening TCP socket belongs to the daemon.
    inodes = set()
    for fd in os.listdir(f"/proc/{vswitchd.pid}/fd"):
        try:
            link = os.readlink(f"/proc/{vswitchd.pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            f = line.split()
            assert not (f[3] == "0A" and f[9] in inodes), f"vswitchd listens on TCP without --metrics: {line}"


@pytest.mark.parametrize("detach", [False, True], ids=["foreground", "detach"])
def test_bad_address_refused(daemon_factory, detach):
    d = daemon_factory(start=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        cases = [
            ("nonsense", "bad --metrics address 'nonsense'"),
            ("127.0.0.1:0", "bad --metrics address '127.0.0.1:0'"),
            ("example.invalid:9475", "bad --metrics address 'example.invalid:9475'"),
            ("192.0.2.1:9475", "cannot serve metrics on 192.0.2.1:9475"),  # not this host's address
            (f"127.0.0.1:{taken}", f"cannot serve metrics on 127.0.0.1:{taken}"),  # in use
        ]
        for addr, want in cases:
            d.extra_args = ["--metrics", addr]
            r = run(d.argv(detach=detach), timeout=20)
            assert r.rc == 1, f"--metrics {addr}: rc {r.rc}\n{r}"
            assert any(ln.startswith("vswitchd: ") and want in ln for ln in r.err.splitlines()), \
                f"--metrics {addr}: want 'vswitchd: ...{want}...' in\n{r.err}"
            assert not d.socket.exists(), "the management socket was set up before the metrics failed"


def test_hostile_clients_do_not_block_the_daemon(mdaemon):
    d = mdaemon
    p = d.metrics_port
    held = []
    try:
        def conn():
            s = socket.create_connection(("127.0.0.1", p), timeout=5)
            held.append(s)
            return s
        conn()                                       # connects, says nothing
        conn().sendall(b"GET /metrics HTTP/1.1\r\n")   # a request never finished
        g = conn()
        g.sendall(os.urandom(65536))                 # garbage: 400 (or reset), then closed
        for _ in range(40):                          # more connections than the server keeps
            conn()
        t0 = time.monotonic()
        r = d.vsctl("show")
        took = time.monotonic() - t0
        assert r.rc == 0, f"vsctl show with hostile metrics clients:\n{r}"
        assert took < 3, f"vsctl show took {took:.1f}s with hostile metrics clients"
        # A scrape still gets through: the idle connections make room for it.
        assert "ovs_process_threads" in scrape(p)
        g.settimeout(5)
        try:
            data = g.recv(4096)
            assert data == b"" or data.startswith(b"HTTP/1.1 400"), data[:100]
        except ConnectionResetError:
            pass
        # A whole request sent one byte at a time, slowly, is still served (within the timeout).
        s = conn()
        for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n":
            s.sendall(bytes([ch]))
            time.sleep(0.02)
        s.settimeout(5)
        assert s.recv(64).startswith(b"HTTP/1.1 200")
        assert d.running()
    finally:
        for s in held:
            s.close()
    assert d.vsctl("show").rc == 0


@pytest.mark.slow
@pytest.mark.skipif(not PROMETHEUS, reason="prometheus not installed (Debian package prometheus)")
def test_prometheus_server_scrapes_the_target(mdaemon, tmp_path):
    d = mdaemon
    web = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: vswitchd\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{d.metrics_port}']\n")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{web}"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp_path, start_new_session=True, preexec_fn=daemon_mod._die_with_parent)
    try:
        def api(path):
            try:
                with _OPENER.open(f"http://127.0.0.1:{web}{path}", timeout=2) as r:
                    return json.load(r)
            except OSError:
                return None

        def target_up():
            t = api("/api/v1/targets")
            act = (t or {}).get("data", {}).get("activeTargets", [])
            return bool(act) and act[0]["health"] == "up"
        assert wait_until(target_up, timeout=40, interval=0.5), \
            f"Prometheus never saw the target up: {api('/api/v1/targets')}\n{(tmp_path / 'prometheus.log').read_text()[-3000:]}"
        q = api("/api/v1/query?query=ovs_vswitchd_config_seq")
        assert q and q["status"] == "success" and q["data"]["result"], q
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
