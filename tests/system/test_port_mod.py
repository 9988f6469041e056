"""OpenFlow 1.3 port_mod (docs/controller.md "Port config"), driven by Debian's `ovs-ofctl -O
OpenFlow13 mod-port` over the bridge's passive listener and by `vsofctl mod-port`: no-receive,
no-forward, no-flood (OpenFlow 1.0's bit, which ovs-ofctl does not send over 1.3: set with
vsofctl) and down/up change what frames between namespaces do at once (the cached megaflows
follow), show in dump-ports-desc, reach another controller as port_status (`ovs-ofctl monitor`),
and `down` sets the interface's netdev down."""
from __future__ import annotations

import re
import subprocess
import time

from lib.controller import VSOFCTL, wait_until
from lib.traffic import marker, send_frames
from test_groups import capture, frames, with_listener
from test_openflow13 import ofctl


def desc_config(target: str, name: str) -> str:
    """The `config:` line of port `name` in dump-ports-desc."""
    lines = ofctl(target, "dump-ports-desc").stdout.splitlines()
    for i, line in enumerate(lines):
        if f"({name}): addr:" in line:
            for nxt in lines[i + 1:]:
                if nxt.strip().startswith("config:"):
                    return nxt.split(":", 1)[1].strip()
    raise AssertionError(f"no port {name} in dump-ports-desc")


def flood_counts(net) -> list[int]:
    """Frames (to a MAC nobody has: NORMAL floods) from h1 that h2 and h3 receive."""
    h1, h2, h3 = net.hosts
    tag = marker()
    return capture([h2, h3], tag, lambda: send_frames(h1, frames(h1.mac, tag, range(7000, 7003))))


def test_mod_port_flags_change_forwarding_and_show(lan):
    net, target, (p1, p2, p3) = with_listener(lan)
    n1, n2, n3 = (h.sw_port for h in net.hosts)
    ofctl(target, "add-flow", "priority=0,actions=NORMAL")
    assert flood_counts(net) == [3, 3]

    vs = lambda *a: subprocess.run([str(VSOFCTL), "--socket", str(net.daemon.socket), *a], capture_output=True,
                                   text=True, timeout=30)
    assert vs("mod-port", net.bridge, n2, "no-flood").returncode == 0
    # ovs-ofctl decodes only OpenFlow 1.1+'s bits, so NO_FLOOD shows in vsofctl's show.
    assert re.search(rf"\({n2}\): addr:\S+\n\s+config:\s+NO_FLOOD\n", vs("show", net.bridge).stdout)
    assert flood_counts(net) == [0, 3], "NORMAL leaves a no-flood port out"
    assert vs("mod-port", net.bridge, n2, "flood").returncode == 0
    assert desc_config(target, n2) == "0"
    assert flood_counts(net) == [3, 3]

    ofctl(target, "mod-port", n3, "no-forward")
    assert desc_config(target, n3) == "NO_FWD"
    assert flood_counts(net) == [3, 0], "nothing goes out a no-forward port"
    ofctl(target, "mod-port", n3, "forward")

    ofctl(target, "mod-port", n1, "no-receive")
    assert flood_counts(net) == [0, 0], "nothing received on a no-receive port is switched"
    ofctl(target, "mod-port", n1, "receive")
    ofctl(target, "mod-port", n1, "no-packet-in")
    assert desc_config(target, n1) == "NO_PACKET_IN"
    ofctl(target, "mod-port", n1, "packet-in")
    assert flood_counts(net) == [3, 3]

    # OFPP_FLOOD leaves a no-flood port out; OFPP_ALL does not (port numbers from ovs-ofctl).
    ofctl(target, "del-flows")
    ofctl(target, "add-flow", f"in_port={p1},actions=FLOOD")
    vs("mod-port", net.bridge, str(p3), "no-flood")
    assert flood_counts(net) == [3, 0]
    ofctl(target, "mod-flows", f"in_port={p1},actions=ALL")
    assert flood_counts(net) == [3, 3]
    r = vs("mod-port", net.bridge, n3, "sideways")
    assert r.returncode == 1 and r.stderr.startswith("vsofctl: unknown mod-port action 'sideways'"), r.stderr
    r = vs("mod-port", net.bridge, "nosuch", "down")
    assert r.returncode == 1 and "has no port nosuch" in r.stderr, r.stderr


def admin_up(dev: str) -> bool:
    out = subprocess.run(["ip", "-o", "link", "show", dev], capture_output=True, text=True).stdout
    return re.search(r"<[^>]*\bUP\b[^>]*>", out) is not None


def test_mod_port_down_and_port_status(lan, tmp_path):
    net, target, (p1, p2, p3) = with_listener(lan)
    n2 = net.hosts[1].sw_port
    ofctl(target, "add-flow", "priority=0,actions=NORMAL")
    monitor = subprocess.Popen(["ovs-ofctl", "-O", "OpenFlow13", f"--unixctl={tmp_path}/monitor.ctl", "monitor", target],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1)  # the monitor's session is up
        ofctl(target, "mod-port", n2, "down")
        assert wait_until(lambda: not admin_up(n2), 5), "the netdev is down"
        assert "PORT_DOWN" in desc_config(target, n2)
        assert flood_counts(net)[0] == 0, "a down port carries nothing"
        ofctl(target, "mod-port", n2, "up")
        assert wait_until(lambda: admin_up(n2), 5), "the netdev is up again"
        assert wait_until(lambda: flood_counts(net) == [3, 3], 10), "up again"
        assert "PORT_DOWN" not in desc_config(target, n2)
        time.sleep(1)  # port_status rides the controller manager's port check
    finally:
        monitor.terminate()
        out = monitor.communicate(timeout=10)[0]
    mods = [l for l in out.splitlines() if "OFPT_PORT_STATUS" in l and "MOD" in l]
    assert mods, out
    assert f"({n2}):" in out and "PORT_DOWN" in out, out
