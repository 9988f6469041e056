"""Man pages and bash completion (issue #18 items 1 and 7): each page in packaging/man renders
without a groff warning and documents every long option its tool's --help prints; each bash
completion in packaging/bash-completion offers exactly the commands its tool's --help lists, and
completes bridge names from a running daemon.
"""
from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import run

ROOT = Path(__file__).resolve().parents[2]
MAN = ROOT / "packaging" / "man"
COMPLETION = ROOT / "packaging" / "bash-completion"
TOOLS = {"vswitchd": daemon_mod.VSWITCHD, "vsctl": daemon_mod.VSCTL, "vsappctl": daemon_mod.VSAPPCTL,
         "vsofctl": daemon_mod.BUILD / "utilities" / "vsofctl"}


def _help(tool: str) -> str:
    r = run([TOOLS[tool], "--help"])
    assert r.rc == 0 and r.out, r
    return r.out


def _render(page: Path) -> str:
    r = run(["groff", "-man", "-Tascii", "-P-cbu", str(page)])
    assert r.rc == 0, r
    return r.out


def _long_options(help_text: str) -> set[str]:
    """The long options of the lines that define options: indented lines starting with '-' or '[--'."""
    opts: set[str] = set()
    for line in help_text.splitlines():
        if re.match(r"^\s+(-|\[--)", line):
            opts.update(re.findall(r"(--[a-z][a-z-]*)", line))
    return opts


def _undocumented(help_text: str, page_text: str) -> set[str]:
    return {o for o in _long_options(help_text) if not re.search(re.escape(o) + r"(?![a-z-])", page_text)}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_man_page_renders_cleanly_and_documents_every_option(binaries, tool):
    page = MAN / f"{tool}.8"
    r = run(["groff", "-man", "-ww", "-z", str(page)])
    assert r.rc == 0 and r.err == "", f"groff warnings for {page.name}:\n{r.err}"
    help_text = _help(tool)
    assert len(_long_options(help_text)) >= 6, _long_options(help_text)
    text = _render(page)
    assert _undocumented(help_text, text) == set(), f"{page.name} lacks options that {tool} --help prints"


def test_the_checks_can_fail(tmp_path):
    broken = tmp_path / "broken.8"
    broken.write_text((MAN / "vsctl.8").read_text() + ".XX undefined macro\n.BI\n")
    r = run(["groff", "-man", "-ww", "-z", str(broken)])
    assert r.err.strip(), "groff -ww reports an undefined macro"
    help_text = "Options:\n  --socket PATH   x\n  -f, --format FMT  y\n  --frobnicate  z\n"
    assert _undocumented(help_text, "--socket and --format") == {"--frobnicate"}
    assert _undocumented(help_text, "--socket and --format-x") == {"--format", "--frobnicate"}


def _complete(tool: str, *words: str, argv0: str | None = None) -> list[str]:
    """Runs the tool's completion function in bash for the command line `tool words...` (the last
    word being completed) and returns COMPREPLY."""
    comp_words = " ".join(shlex.quote(w) for w in [argv0 or tool, *words])
    script = (f"source {shlex.quote(str(COMPLETION / tool))}\n"
              f"COMP_WORDS=({comp_words}); COMP_CWORD={len(words)}; COMPREPLY=()\n"
              f"_{tool}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0 and p.stderr == "", p
    return [w for w in p.stdout.splitlines() if w]


def _help_commands(tool: str) -> set[str]:
    """The command words of --help: two-space-indented lines of the command sections, after any
    [--option] words."""
    text = _help(tool)
    start = {"vsctl": "Bridge commands:", "vsofctl": "Commands:", "vsappctl": "Commands:"}[tool]
    end = {"vsctl": "Values:", "vsofctl": "Options:", "vsappctl": "Options:"}[tool]
    section = text.split(start, 1)[1].split(end, 1)[0]
    words = set()
    for line in section.splitlines():
        m = re.match(r"^  (?:\[--[a-z=,.A-Z-]+\] )*([a-z][a-z/-]*)", line)
        if m and m.group(1) != "other/command":   # vsappctl's placeholder for pass-through
            words.add(m.group(1))
    return words


@pytest.mark.parametrize("tool", ["vsctl", "vsofctl", "vsappctl"])
def test_completion_offers_the_commands_of_help(binaries, tool):
    offered = set(_complete(tool, ""))
    listed = _help_commands(tool)
    assert len(listed) >= 8, listed
    assert offered == listed, f"only in --help: {listed - offered}; only in the completion: {offered - listed}"
    options = {o.rstrip("=") for o in _complete(tool, "--")}
    assert _long_options(_help(tool)) <= options, "every long option of --help is offered"


def test_completion_narrows_and_knows_arguments():
    assert _complete("vsctl", "add-") == ["add-br", "add-port", "add-bond", "add-bond-iface", "add-mirror"]
    assert _complete("vsctl", "--format", "j") == ["json"]
    assert _complete("vsctl", "add-br", "x", "--", "del-p") == ["del-port"], "a new command after --"
    assert _complete("vsctl", "list", "Int") == ["Interface"]
    assert _complete("vsappctl", "vlog/") == ["vlog/list", "vlog/set", "vlog/reopen"]
    assert _complete("vsappctl", "vlog/set", "mg") == ["mgmt"]
    assert _complete("vsofctl", "--strict", "del-") == ["del-flows", "del-meter", "del-meters", "del-groups"]


def test_completion_of_bridge_names_asks_the_daemon(vswitchd):
    br = names.unique(names.KIND_BRIDGE)
    vswitchd.vsctl_ok("add-br", br)
    try:
        vsctl = str(daemon_mod.VSCTL)
        sock = f"--socket={vswitchd.socket}"
        assert _complete("vsctl", sock, "del-br", "", argv0=vsctl) == [br]
        assert _complete("vsctl", sock, "add-port", br[:4], argv0=vsctl) == [br]
        vsofctl = str(daemon_mod.BUILD / "utilities" / "vsofctl")
        assert _complete("vsofctl", "--socket", str(vswitchd.socket), "dump-flows", "", argv0=vsofctl) == [br]
        vsappctl = str(daemon_mod.VSAPPCTL)
        assert _complete("vsappctl", "-t", str(vswitchd.socket), "fdb/show", "", argv0=vsappctl) == [br]
        assert _complete("vsctl", "--socket=/nonexistent.sock", "del-br", "", argv0=vsctl) == [], \
            "no daemon: no names, no error"
    finally:
        vswitchd.vsctl("del-br", br)


def test_completion_of_vlog_set_knows_the_daemons_modules(vswitchd):
    modules = {m["name"] for m in vswitchd.vsappctl_json("vlog/list")["modules"]}
    assert len(modules) >= 8, modules
    words = set(_complete("vsappctl", "vlog/set", ""))
    assert modules | {"any", "console", "syslog", "file", "debug", "info", "warn", "err", "off"} == words, \
        f"only in the daemon: {modules - words}; only in the completion: {words - modules}"
