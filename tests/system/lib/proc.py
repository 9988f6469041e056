"""Running commands with timeouts; results as (rc, stdout, stderr)."""
from __future__ import annotations

import os
import subprocess
from typing import NamedTuple, Sequence


class Result(NamedTuple):
    rc: int
    out: str
    err: str

    def __str__(self) -> str:  # for assertion messages
        return f"rc={self.rc}\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}"


def run(argv: Sequence[str], timeout: float = 30, env: dict | None = None,
        input: str | None = None) -> Result:
    """Runs argv to completion; never raises on a non-zero exit. A command still running after
    `timeout` seconds is killed and reported as rc=124 (like timeout(1))."""
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                           errors="replace", timeout=timeout, env=full_env, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return Result(124, out, err + f"\n[killed after {timeout}s timeout]")
    return Result(p.returncode, p.stdout, p.stderr)


def check(argv: Sequence[str], timeout: float = 30) -> str:
    """Runs argv and raises with its output if it fails; returns stdout."""
    r = run(argv, timeout=timeout)
    if r.rc != 0:
        raise RuntimeError(f"command failed: {' '.join(map(str, argv))}\n{r}")
    return r.out
