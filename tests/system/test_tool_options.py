"""The tools' options (getopt_long, utilities/cli_getopt.h), as the real binaries take them:
vsappctl and vsofctl take options before or after the command, vsctl only before the first
command (as ovs-vsctl), -T/--timeout is the timeout in all three client tools, and every tool and
vswitchd reject an unknown option or a missing value with a message that names it, exit status 1,
without contacting a daemon."""
import json

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import run

BUILD = daemon_mod.BUILD
VSCTL = str(daemon_mod.VSCTL)
VSAPPCTL = str(daemon_mod.VSAPPCTL)
VSOFCTL = str(BUILD / "utilities" / "vsofctl")
VSWITCHD = str(daemon_mod.VSWITCHD)
CONTROLLER = str(BUILD / "utilities" / "vs-controller")


def test_vsappctl_options_before_or_after_the_command(vswitchd):
    sock = str(vswitchd.socket)
    before = run([VSAPPCTL, "--socket", sock, "--format=json", "coverage/show"])
    after = run([VSAPPCTL, "coverage/show", "--format=json", "--socket", sock, "-T", "5"])
    assert before.rc == 0 and after.rc == 0, (before, after)
    assert set(json.loads(before.out)) == set(json.loads(after.out)) == {"counters"}, (before, after)
    r = run([VSAPPCTL, "-t", sock, "version", "-f", "json"])  # -t: the target socket (ovs-appctl)
    assert r.rc == 0 and "version" in json.loads(r.out), r


def test_vsofctl_options_before_or_after_the_command(vswitchd):
    d, br = vswitchd, names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    sock = str(d.socket)
    a = run([VSOFCTL, "--socket", sock, "--no-stats", "-t", "5", "dump-flows", br])
    b = run([VSOFCTL, "dump-flows", br, "--no-stats", "--socket", sock, "-T", "5"])
    assert a.rc == 0 and b.rc == 0 and a.out == b.out and "actions=NORMAL" in a.out, (a, b)


def test_vsctl_options_only_before_the_first_command(vswitchd):
    sock = str(vswitchd.socket)
    r = run([VSCTL, "--socket", sock, "-T", "5", "--format=json", "list-br"])
    assert r.rc == 0 and json.loads(r.out) == [], r
    r = run([VSCTL, "--socket", sock, "-t", "5", "list-br"])
    assert r.rc == 0, r
    r = run([VSCTL, "--socket", sock, "list-br", "--format=json"])
    assert r.rc == 1 and "option '--format=json' must come before the first command" in r.err, r
    help_text = run([VSCTL, "--help"]).out
    assert "OPTIONS MUST COME BEFORE THE FIRST COMMAND" in help_text, help_text


# tool argv, what stderr must contain. No daemon: the errors come before any connection.
BAD = [
    ("vsctl-unknown", [VSCTL, "--frob", "list-br"], "vsctl: unrecognized option '--frob'"),
    ("vsctl-missing-value", [VSCTL, "--timeout"], "vsctl: option '--timeout' requires an argument"),
    ("vsctl-no-value-allowed", [VSCTL, "--verbose=1", "list-br"], "option '--verbose' doesn't allow an argument"),
    ("vsappctl-unknown-after", [VSAPPCTL, "coverage/show", "--frob"], "vsappctl: unrecognized option '--frob'"),
    ("vsappctl-missing-value", [VSAPPCTL, "version", "-T"], "vsappctl: option '-T' requires an argument"),
    ("vsofctl-unknown", [VSOFCTL, "show", "br0", "-x"], "vsofctl: unrecognized option '-x'"),
    ("vsofctl-ambiguous", [VSOFCTL, "--s", "show", "br0"], "vsofctl: option '--s' is ambiguous"),
    ("vsofctl-bad-timeout", [VSOFCTL, "-T", "soon", "show", "br0"], "invalid timeout 'soon'"),
    ("vswitchd-unknown", [VSWITCHD, "--frob"], "vswitchd: unknown option '--frob'"),
    ("vswitchd-missing-value", [VSWITCHD, "--poll-threads"], "vswitchd: --poll-threads needs a value"),
    ("vswitchd-operand", [VSWITCHD, "stray"], "vswitchd: unexpected argument 'stray'"),
    ("vswitchd-no-value-allowed", [VSWITCHD, "--detach=yes"], "vswitchd: --detach takes no value"),
    ("vswitchd-bad-count", [VSWITCHD, "--poll-thr=99"], "bad --poll-threads '99'"),
    ("controller-unknown", [CONTROLLER, "--frob"], "vs-controller: unrecognized option '--frob'"),
    ("controller-bad-timeout", [CONTROLLER, "--idle-timeout", "x"], "invalid --idle-timeout 'x'"),
]


@pytest.mark.parametrize("argv,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_options_fail_with_a_message_naming_them(binaries, argv, message):
    r = run(argv + [], timeout=10, env={"VSWITCH_SOCKET": "/nonexistent/vst-no-daemon.sock"})
    assert r.rc == 1 and message in r.err, f"expected exit 1 and {message!r}:\n{r}"
    assert "cannot connect" not in r.err, f"an argument error must come before connecting:\n{r}"


@pytest.mark.parametrize("argv", [[VSCTL, "--help"], [VSAPPCTL, "coverage/show", "--help"],
                                  [VSOFCTL, "dump-flows", "br0", "-h"], [VSWITCHD, "--help"],
                                  [CONTROLLER, "--help"]])
def test_help_exits_zero(binaries, argv):
    r = run(argv, timeout=10)
    assert r.rc == 0 and "usage" in r.out.lower(), r
