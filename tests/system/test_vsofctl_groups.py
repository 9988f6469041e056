"""vsofctl's group commands (docs/vsofctl.md "Groups"): add-group, add-groups, mod-group,
del-groups, dump-groups and dump-group-stats over the management socket, checked against Debian's
`ovs-ofctl -O OpenFlow13` on the same bridge (the groups each tool makes, the other sees, with the
same text once port numbers are names), traffic through a group vsofctl made counted the same by
both tools, the refusals named by their OpenFlow codes, and the groups surviving a restart."""
from __future__ import annotations

import re
import subprocess

from lib.controller import VSOFCTL, wait_until
from test_groups import capture, frames, group_stats, with_listener
from lib.traffic import marker, send_frames
from test_openflow13 import ofctl


def vs(d, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([str(VSOFCTL), "--socket", str(d.socket), *args], capture_output=True, text=True, timeout=30)
    if ok:
        assert r.returncode == 0, f"vsofctl {' '.join(args)} failed: {r.stderr}"
    return r


def bodies(out: str) -> list[str]:
    """The group lines of a dump-groups / dump-group-stats output, without the header."""
    return [line.strip() for line in out.splitlines() if line.startswith(" group_id=")]


def test_vsofctl_groups_agree_with_ovs_ofctl_and_carry_traffic(lan):
    net, target, (p1, p2, p3) = with_listener(lan)
    d, (h1, h2, h3) = net.daemon, net.hosts
    n1, n2, n3 = (h.sw_port for h in net.hosts)
    vs(d, "add-group", net.bridge, f"group_id=1,type=all,bucket=output:{n2},bucket=output:{n3}")
    vs(d, "add-group", net.bridge, f"group_id=2,type=select,bucket=output:{n2},bucket=weight:3,output:{n3}")
    vs(d, "add-group", net.bridge, f"group_id=3,type=ff,bucket=watch_port:{n2},output:{n2},"
                                   f"bucket=watch_port:{n3},output:{n3}")
    ofctl(target, "add-group", f"group_id=4,type=indirect,bucket=output:{p3}")
    # ovs-ofctl prints numbers where vsofctl prints names; otherwise the same lines.
    theirs = bodies(ofctl(target, "dump-groups").stdout)
    ours = bodies(vs(d, "dump-groups", net.bridge).stdout)
    by_number = [re.sub(r"(output|watch_port):(\w+)", lambda m: f"{m.group(1)}:{ {n1: p1, n2: p2, n3: p3}.get(m.group(2), m.group(2))}", l)
                 for l in ours]
    assert by_number == theirs, f"vsofctl: {ours}\novs-ofctl: {theirs}"
    assert theirs[1] == f"group_id=2,type=select,bucket=actions=output:{p2},bucket=weight:3,actions=output:{p3}"
    assert bodies(vs(d, "dump-groups", net.bridge, "3").stdout) == [ours[2]]

    vs(d, "add-flow", net.bridge, f"priority=100,in_port={n1},actions=group:1")
    tag = marker()
    assert capture([h2, h3], tag, lambda: send_frames(h1, frames(h1.mac, tag, range(6000, 6004)))) == [4, 4]
    assert wait_until(lambda: group_stats(target).get(1, {}).get("packets") == 4, 5), group_stats(target)
    stats = bodies(vs(d, "dump-group-stats", net.bridge, "group_id=1").stdout)
    assert len(stats) == 1, stats
    m = re.fullmatch(r"group_id=1,duration=[\d.]+s,ref_count=1,packet_count=4,byte_count=(\d+),"
                     r"bucket0:packet_count=4,byte_count=\1,bucket1:packet_count=4,byte_count=\1", stats[0])
    assert m and int(m.group(1)) == group_stats(target)[1]["bytes"], stats

    # mod-group changes the buckets (both tools see it); del-groups takes the group's rules too.
    vs(d, "mod-group", net.bridge, f"group_id=1,type=all,bucket=output:{n3}")
    assert f"group_id=1,type=all,bucket=actions=output:{p3}" in ofctl(target, "dump-groups").stdout
    vs(d, "del-groups", net.bridge, "group_id=1")
    assert "group:1" not in ofctl(target, "dump-flows").stdout
    assert "group_id=1," not in vs(d, "dump-groups", net.bridge).stdout
    vs(d, "del-groups", net.bridge)
    assert bodies(ofctl(target, "dump-groups").stdout) == []


def test_vsofctl_group_errors_files_and_restart(lan, tmp_path):
    net = lan(2)
    d, br = net.daemon, net.bridge
    n1, n2 = (h.sw_port for h in net.hosts)
    vs(d, "add-group", br, f"group_id=5,type=all,bucket=output:{n1}")
    cases = [
        (("add-group", br, f"group_id=5,type=all,bucket=output:{n2}"), "vsofctl: OFPGMFC_GROUP_EXISTS: "),
        (("mod-group", br, f"group_id=9,type=all,bucket=output:{n2}"), "vsofctl: OFPGMFC_UNKNOWN_GROUP: "),
        (("add-group", br, "group_id=6,type=indirect,bucket=output:1,bucket=output:2"), "vsofctl: OFPGMFC_INVALID_GROUP: "),
        (("add-group", br, "group_id=6,type=all,bucket=group:77"), "vsofctl: OFPGMFC_CHAINING_UNSUPPORTED: "),
        (("add-group", br, "group_id=6,type=all,bucket=output:nosuch"), "vsofctl: output:nosuch: unknown port 'nosuch'"),
        (("add-group", br, "group_id=6,typo=all"), "vsofctl: unknown group field 'typo=all'"),
        (("dump-group-stats", br, "group_id=42"), "vsofctl: OFPGMFC_UNKNOWN_GROUP: "),
        (("dump-groups", "nosuchbr"), "vsofctl: no bridge named nosuchbr"),
    ]
    for args, want in cases:
        r = vs(d, *args, ok=False)
        assert r.returncode == 1 and r.stderr.startswith(want), (args, r.stderr)
    # add-groups: comments and blank lines skipped; a bad line is named and adds nothing.
    f = tmp_path / "groups.txt"
    f.write_text(f"# groups\ngroup_id=10,type=all,bucket=output:{n2}\n\ngroup_id=11,type=select,bucket=outpt:1\n")
    r = vs(d, "add-groups", br, str(f), ok=False)
    assert r.returncode == 1 and r.stderr.startswith("vsofctl: line 4: unknown action 'outpt:1'"), r.stderr
    assert "group_id=10" not in vs(d, "dump-groups", br).stdout
    f.write_text(f"group_id=10,type=all,bucket=output:{n2}\ngroup_id=11,type=select,bucket=output:{n1},bucket=output:{n2}\n")
    vs(d, "add-groups", br, str(f))
    before = bodies(vs(d, "dump-groups", br).stdout)
    assert [g.split(",")[0] for g in before] == ["group_id=5", "group_id=10", "group_id=11"], before
    d.stop()
    d.start()
    assert bodies(vs(d, "dump-groups", br).stdout) == before
