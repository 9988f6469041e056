"""Executable documentation: the shell examples of README.md and docs/*.md, run as tests.

(Debian 12 packages no tool that runs marked shell blocks of Markdown in a sandbox and compares
their output: `cram` wants its own .t format, `python3-markdown-exec` renders MkDocs pages,
`byexample` is not packaged. Hence this small harness.)

Marking. Every fenced block that is a shell example — its language is `sh`, `bash`, `shell` or
`console`, or a line of it starts with `$ ` — says in its info string whether it runs:

    ```sh doctest                       a script: run it, every command must succeed
    ```console doctest                  a transcript: `$ COMMAND` lines, each followed by its
                                        expected output (stdout and stderr as the terminal shows
                                        them); every command must print exactly that
    ```sh no-doctest: REASON            not run, and REASON says why (a second host, QEMU ...)

GitHub renders these as `sh` / `console` blocks (it reads the first word only). An unmarked
shell block, or `no-doctest` without a reason, is an error: examples cannot silently stop being
checked. A hidden setup step, for a transcript that assumes state the text describes ("with
ports p1 and p2 on br0"), is an HTML comment, which GitHub does not show:

    <!-- doctest-setup
    ip link add p1 type dummy
    -->

Transcripts. A command continues on the next line after a trailing `\\`. In expected output,
`...` matches any text within a line and a line that is only `...` matches any number of lines;
trailing blanks are ignored. A command must exit 0, unless its expected output has a line
`TOOL: ...` where TOOL is the command's program name (the tools' error format, as in
`vsctl: no bridge named br9`): then it must exit non-zero. `$ echo $?` prints the status of
the command before it.

Environment (the visible rules; docs/*.md are written for a root shell set up as README.md's
"Use" section says):
- Each file runs in its own Sandbox (lib/sandbox.py): private network, mount and PID
  namespaces, so `br0`, `ns1`, /run/vswitch, /etc/vswitch and /var/log/vswitch are the
  sandbox's own. The blocks of a file run in order, as a reader would run them, in one
  working directory that holds `build` (the build tree under test, $VSWITCH_BUILD) and
  `utilities` (the repository's), as the repository's top directory does.
- Exported variables and the working directory carry over from one block (and one transcript
  command) to the next; other shell variables do not.
- PATH starts with a `sudo` stand-in (the tests already run as root): `sudo -s` / `sudo -i`
  without a command do nothing (the next lines already run in a root shell), `sudo -E CMD` runs
  CMD with the environment, and plain `sudo CMD` runs CMD with VSWITCH_SOCKET removed and PATH
  reset to Debian's `secure_path`, as the real sudo does.
- Every file but README.md starts where README.md's "Use" section leaves a reader: vswitchd
  running on the default paths (/run/vswitch/vswitchd.sock ...), PATH with build/utilities and
  utilities, VSWITCH_SOCKET exported. README.md starts with nothing running.
"""
from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .proc import Result
from .sandbox import Sandbox

SHELL_LANGS = {"sh", "bash", "shell", "console"}
SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SUDO_SHIM = r"""#!/bin/sh
# doctest stand-in for sudo (tests/system/lib/doctest_md.py): the sandbox already runs as root.
keep_env=false
while [ $# -gt 0 ]; do
    case $1 in
        -E|--preserve-env) keep_env=true; shift ;;
        -s|--shell|-i|--login) shift; [ $# -eq 0 ] && exit 0 ;;
        --) shift; break ;;
        -*) echo "sudo (doctest stand-in): unsupported option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "sudo (doctest stand-in): no command" >&2; exit 2; }
if [ "$keep_env" = true ]; then
    exec env PATH="%(secure_path)s" "$@"
fi
exec env -u VSWITCH_SOCKET PATH="%(secure_path)s" "$@"
""" % {"secure_path": SECURE_PATH}


@dataclass
class Block:
    path: Path
    line: int                 # 1-based line of the opening fence (or of the comment)
    lang: str
    marker: str               # "doctest", "no-doctest", "setup", "" (unmarked)
    reason: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.lang in SHELL_LANGS or self.marker == "setup" or any(
            ln.startswith("$ ") for ln in self.text.splitlines())


_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(.*)$")


def parse(path: Path) -> list[Block]:
    """Every fenced block and every `<!-- doctest-setup ... -->` comment of a Markdown file."""
    lines = Path(path).read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.strip().startswith("<!-- doctest-setup"):
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "-->":
                body.append(lines[i])
                i += 1
            blocks.append(Block(Path(path), start + 1, "sh", "setup", "", "\n".join(body)))
            i += 1
            continue
        m = _FENCE.match(ln)
        if not m:
            i += 1
            continue
        indent, fence, info = m.groups()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        words = info.split(None, 1)
        lang = words[0] if words else ""
        rest = words[1].strip() if len(words) > 1 else ""
        marker, reason = "", ""
        if rest == "doctest":
            marker = "doctest"
        elif rest.startswith("no-doctest"):
            marker = "no-doctest"
            reason = rest[len("no-doctest"):].lstrip(":").strip()
        elif rest:
            marker = "bad:" + rest
        blocks.append(Block(Path(path), start + 1, lang, marker, reason, "\n".join(body)))
    return blocks


def problems(blocks: list[Block]) -> list[str]:
    """Shell blocks that are unmarked, wrongly marked, or not runnable without a reason."""
    out = []
    for b in blocks:
        if not b.is_shell:
            continue
        if b.marker.startswith("bad:"):
            out.append(f"{b.where}: unknown marker '{b.marker[4:]}' (doctest or no-doctest: REASON)")
        elif b.marker == "":
            out.append(f"{b.where}: shell block without 'doctest' or 'no-doctest: REASON'")
        elif b.marker == "no-doctest" and not b.reason:
            out.append(f"{b.where}: 'no-doctest' needs a reason ('no-doctest: needs QEMU')")
        elif b.marker == "doctest" and b.lang not in SHELL_LANGS:
            out.append(f"{b.where}: 'doctest' on a block whose language is not sh or console")
    return out


# -- transcripts ---------------------------------------------------------------------------------
@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    line: int = 0


def transcript(b: Block) -> list[Step]:
    steps: list[Step] = []
    lines = b.text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            cmd = ln[2:]
            line = b.line + 1 + i
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd + "\n" + lines[i]
            steps.append(Step(cmd, [], line))
        elif steps:
            steps[-1].expected.append(ln)
        elif ln.strip():
            raise ValueError(f"{b.where}: transcript output before the first '$ ' command")
        i += 1
    return steps


def _line_re(expected: str) -> re.Pattern:
    parts = [re.escape(p) for p in expected.rstrip().split("...")]
    return re.compile(".*".join(parts) + r"\Z", re.S)


def output_matches(expected: list[str], actual: list[str]) -> bool:
    exp = [e.rstrip() for e in expected]
    act = [a.rstrip() for a in actual]
    while exp and not exp[-1]:
        exp.pop()
    while act and not act[-1]:
        act.pop()

    def match(i: int, j: int) -> bool:
        if i == len(exp):
            return j == len(act)
        if exp[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(act) + 1))
        return j < len(act) and bool(_line_re(exp[i]).match(act[j])) and match(i + 1, j + 1)

    return match(0, 0)


def expects_failure(step: Step) -> bool:
    """The command's program prints its own error line `PROG: ...` in the expected output."""
    try:
        words = shlex.split(step.command.replace("\\\n", " "), comments=True)
    except ValueError:
        return False
    while words and (words[0] in ("sudo", "-E", "env") or re.match(r"^\w+=", words[0])):
        words.pop(0)
    if not words:
        return False
    prog = os.path.basename(words[0])
    return any(e.startswith(prog + ": ") for e in step.expected)


# -- running -------------------------------------------------------------------------------------
class DocRunner:
    """Runs the blocks of one file in one Sandbox; see the module docstring for the rules."""

    def __init__(self, workdir: Path, build: Path, repo: Path):
        self.workdir = Path(workdir)
        self.build = Path(build)
        self.repo = Path(repo)
        self.state = self.workdir / ".doctest"
        self.sandbox = Sandbox(self.workdir)

    def start(self, daemon: bool) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.workdir / "build").symlink_to(self.build)
        (self.workdir / "utilities").symlink_to(self.repo / "utilities")
        shim_dir = self.state / "bin"
        shim_dir.mkdir()
        (shim_dir / "sudo").write_text(SUDO_SHIM)
        (shim_dir / "sudo").chmod(0o755)
        env = {"PATH": f"{shim_dir}:{SECURE_PATH}", "HOME": "/root", "LANG": "C.UTF-8",
               "TERM": "dumb"}
        self._save_env(env)
        (self.state / "cwd").write_text(str(self.workdir))
        (self.state / "rc").write_text("0")
        self.sandbox.start()
        if daemon:
            r = self.run_script(self.daemon_prelude(), "prelude")
            if r.rc != 0:
                raise RuntimeError(f"starting vswitchd as README.md does failed:\n{r}\n"
                                   f"{self.daemon_log()}")

    def daemon_prelude(self) -> str:
        return ("mkdir -p /etc/vswitch /run/vswitch /var/log/vswitch\n"
                "export PATH=$PWD/build/utilities:$PWD/utilities:$PATH\n"
                "export VSWITCH_SOCKET=/run/vswitch/vswitchd.sock\n"
                "build/vswitchd/vswitchd --config /etc/vswitch/conf.json "
                "--socket /run/vswitch/vswitchd.sock --pidfile /run/vswitch/vswitchd.pid "
                "--log-file /var/log/vswitch/vswitchd.log --detach\n")

    def _save_env(self, env: dict[str, str]) -> None:
        (self.state / "env").write_text(
            "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))

    def _wrap(self, body: str, errexit: bool) -> str:
        st = shlex.quote(str(self.state))
        return (f"source {st}/env\ncd \"$(cat {st}/cwd)\"\n"
                f"__vs_save() {{ __vs_rc=$?; export -p > {st}/env.new && mv {st}/env.new {st}/env;"
                f" pwd > {st}/cwd; echo $__vs_rc > {st}/rc; }}\n"
                f"trap __vs_save EXIT\n"
                + ("set -eo pipefail\n" if errexit else
                   f"exec 2>&1\n(exit $(cat {st}/rc))\n")
                + body + "\n")

    def run_script(self, body: str, what: str, timeout: float = 60) -> Result:
        return self.sandbox.run(self._wrap(body, errexit=True), env=self._host_env(),
                                timeout=timeout)

    def run_command(self, command: str, timeout: float = 30) -> Result:
        """One transcript command: stdout and stderr interleaved, as a terminal shows them."""
        return self.sandbox.run(self._wrap(command, errexit=False), env=self._host_env(),
                                timeout=timeout)

    def _host_env(self) -> dict[str, str]:
        # The sandbox's environment comes from the state file; nsenter needs only a PATH.
        return {"PATH": SECURE_PATH}

    def daemon_log(self) -> str:
        log = self.sandbox.read("/var/log/vswitch/vswitchd.log", 6000)
        return f"--- /var/log/vswitch/vswitchd.log (sandbox) ---\n{log}" if log else ""

    def run_block(self, b: Block) -> list[str]:
        """Runs one block; returns the failures (empty: it passed)."""
        if b.marker == "setup" or (b.marker == "doctest" and b.lang != "console"):
            r = self.run_script(b.text, b.where)
            if r.rc != 0:
                return [f"{b.where}: block exited {r.rc}\n{b.text}\n{r}"]
            return []
        if b.marker != "doctest":
            return []
        failures = []
        for step in transcript(b):
            r = self.run_command(step.command)
            got = r.out.splitlines()
            want_fail = expects_failure(step)
            if r.rc == 124:
                failures.append(f"{b.path.name}:{step.line}: `{step.command}` timed out\n{r.err}")
                break
            if want_fail and r.rc == 0:
                failures.append(f"{b.path.name}:{step.line}: `{step.command}` exited 0, the "
                                f"doc shows it failing")
            elif not want_fail and r.rc != 0:
                failures.append(f"{b.path.name}:{step.line}: `{step.command}` exited {r.rc}")
            if not output_matches(step.expected, got):
                failures.append(f"{b.path.name}:{step.line}: `{step.command}` printed\n"
                                + "\n".join("  | " + g for g in got)
                                + "\nthe doc shows\n"
                                + "\n".join("  | " + e for e in step.expected))
        return failures

    def close(self) -> None:
        self.sandbox.close()
