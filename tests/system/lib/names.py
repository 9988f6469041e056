"""Unique names for the kernel objects that tests create, and removal of leftovers.

Every name is `vs<kind><pid>x<n>`: `kind` is one letter, `pid` the pytest process, `n` a counter.
At most 2 + 1 + 7 + 1 + 3 = 14 characters, so it fits IFNAMSIZ (15) for links. The pid lets a
later run recognise objects left behind by a run that died (its pid is gone) and remove them,
without touching objects of a run that is still going.
"""
from __future__ import annotations

import itertools
import os
import re

from .proc import run

PID = os.getpid()
_counter = itertools.count(1)
_NAME_RE = re.compile(r"^vs([a-z])(\d+)x(\d+)$")

KIND_NETNS = "t"
KIND_SWITCH_LINK = "w"   # switch-side veth end, stays in the root namespace
KIND_BRIDGE = "b"
KIND_MISSING = "n"       # a name that must NOT exist (nonexistent netdev)
KIND_OTHER = "o"


def unique(kind: str) -> str:
    name = f"vs{kind}{PID}x{next(_counter)}"
    assert len(name) <= 15, name
    return name


def ours(name: str, pid: int | None = None) -> bool:
    m = _NAME_RE.match(name)
    return bool(m) and (pid is None or int(m.group(2)) == pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_netns() -> list[str]:
    r = run(["ip", "netns", "list"])
    return [line.split()[0] for line in r.out.splitlines() if line.strip()]


def list_links() -> list[str]:
    r = run(["ip", "-o", "link", "show"])
    names = []
    for line in r.out.splitlines():
        parts = line.split(":", 2)
        if len(parts) >= 2:
            names.append(parts[1].strip().split("@")[0])
    return names


def remove_leftovers(only_pid: int | None = None) -> list[str]:
    """Deletes links and namespaces named by this scheme whose creating process is gone (or, with
    `only_pid`, those of that pid). Returns what it removed."""
    removed = []
    for link in list_links():
        m = _NAME_RE.match(link)
        if not m:
            continue
        pid = int(m.group(2))
        if (only_pid is not None and pid == only_pid) or (only_pid is None and not _alive(pid)):
            run(["ip", "link", "del", link])
            removed.append(link)
    for ns in list_netns():
        m = _NAME_RE.match(ns)
        if not m:
            continue
        pid = int(m.group(2))
        if (only_pid is not None and pid == only_pid) or (only_pid is None and not _alive(pid)):
            run(["ip", "netns", "del", ns])
            removed.append("netns " + ns)
    return removed
