"""The documentation's shell examples, run: every documented command works as written (#22).

README.md and every docs/*.md mark each shell block `doctest` (run, and its shown
output compared) or `no-doctest: REASON`; lib/doctest_md.py explains the marks and the sandbox
the examples run in (private network, mount and PID namespaces: the docs' own names and paths,
nothing shared with the host). Run alone:

    /usr/bin/python3 -m pytest -q tests/system/test_docs.py
"""
from __future__ import annotations

import pytest

from lib import daemon as daemon_mod
from lib.doctest_md import DocRunner, Block, Step, expects_failure, output_matches, parse, problems

REPO = daemon_mod.REPO
# Every page, found rather than listed: a new doc is checked from its first commit (a list had
# left benchmarks.md, datapath.md and reliability.md out). Pages without runnable blocks (the
# benchmarks, design notes) still have each shell block marked, and their run is skipped.
DOCS = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_shell_block_is_marked(doc):
    bad = problems(parse(doc))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_examples_run_as_written(doc, binaries, tmp_path):
    blocks = [b for b in parse(doc) if b.is_shell and b.marker in ("doctest", "setup")]
    if not blocks:
        pytest.skip(f"{doc.name} has no runnable shell examples")
    runner = DocRunner(tmp_path, daemon_mod.BUILD, REPO)
    try:
        runner.start(daemon=doc.name != "README.md")
        for b in blocks:
            failures = runner.run_block(b)
            if failures:
                # Later blocks build on this one: stop at the first block that fails.
                pytest.fail("\n\n".join(failures) + "\n\n" + runner.daemon_log(), pytrace=False)
    finally:
        runner.close()


def test_every_doc_is_covered():
    names = {d.name for d in DOCS}
    for must in ("README.md", "vsctl.md", "vsofctl.md", "qemu.md", "containers.md", "protocol.md",
                 "reliability.md", "benchmarks.md", "datapath.md"):
        assert must in names, f"{must} is not among the docs test_docs.py checks"


def test_harness_rules():
    """The matching rules lib/doctest_md.py documents."""
    assert output_matches(["a ... c"], ["a b b c"])
    assert output_matches(["x", "...", "z"], ["x", "y1", "y2", "z"])
    assert output_matches(["x", "...", "z"], ["x", "z"])
    assert output_matches(["x  "], ["x", ""])
    assert not output_matches(["x"], ["x", "y"])
    assert not output_matches(["a...c"], ["abd"])
    assert expects_failure(Step("vsctl add-br eth0", ["vsctl: Error detected ..."]))
    assert expects_failure(Step("sudo -E vsctl del-port br0 br0", ["vsctl: cannot delete"]))
    assert not expects_failure(Step("vsctl show", ["Bridge br0"]))
    assert problems([Block(REPO / "x.md", 1, "sh", "", "", "ls")])
    assert problems([Block(REPO / "x.md", 1, "sh", "no-doctest", "", "ls")])
    assert problems([Block(REPO / "x.md", 1, "", "", "", "$ ls")])
    assert not problems([Block(REPO / "x.md", 1, "sh", "no-doctest", "needs QEMU", "ls")])
    assert not problems([Block(REPO / "x.md", 1, "", "", "", "{\"json\": 1}")])
