#!/usr/bin/env python3
"""xdist-group: ``stabfix apply xdist-group --check`` vs a process that parses just the files it edits.

Tree: the litellm 1.80.0 sdist (about 1,300 Python files; downloaded once into .cache/sdists) plus
the sample repository's test modules copied under ``tests/bench``. A is stabfix, as a user runs it
on the whole tree (walk, pre-filter, parse, edit, diff). B is the least any tool doing this edit
must do: a process that imports libcst and parses exactly the files stabfix changes (found by one
untimed ``--json`` run). Target: A/B <= 1.5.

    python benchmarks/bench_xdist_group.py [--pairs N]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import (
    ENV,
    REPO,
    STABFIX,
    Cmd,
    compare,
    compile_bytecode,
    emit,
    pairs_arg,
    python,
    skipped,
)

sys.path.insert(0, str(REPO / "scripts"))

PARSE = """
import sys, libcst
from pathlib import Path
for p in sys.argv[1:]:
    libcst.parse_module(Path(p).read_bytes())
"""


def main() -> int:
    pairs = pairs_arg()
    compile_bytecode()
    try:
        from corpus_xdist_group import LITELLM, fetch_sdist

        sdist = fetch_sdist(LITELLM)
    except Exception as exc:  # no network and no cache: skip with the reason
        emit([skipped("xdist-group", f"litellm sdist unavailable ({str(exc).splitlines()[0][:80]})")])
        return 0
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-") as tmp:
        tree = Path(tmp) / "litellm"
        shutil.copytree(sdist, tree)
        tests = tree / "tests" / "bench"
        tests.mkdir(parents=True)
        sample = REPO / "src" / "codemods" / "commands" / "sample_repo" / "tests"
        for i, src in enumerate(sorted(sample.rglob("test_*.py"))):
            shutil.copyfile(src, tests / f"test_{i}_{src.name[5:]}")
        cmd = [*STABFIX, "apply", "xdist-group", ".", "--group", "bench", "--check", "--root", str(tree)]
        out = subprocess.run([*cmd, "--json"], cwd=tree, capture_output=True, text=True, check=False, env=ENV)
        report = json.loads(out.stdout)
        changed = [f["path"] for f in report["files"] if f["status"] == "changed"]
        n_py = sum(1 for _ in tree.rglob("*.py"))
        emit([compare(
            "xdist-group", Cmd("stabfix xdist-group", [*cmd, "-q"], cwd=tree, ok=(1,)),
            Cmd(f"parse {len(changed)} files", python("-c", PARSE, *changed), cwd=tree),
            pairs=pairs, target=("<=", 1.5),
            note=f"tree of {n_py} .py files; stabfix changes {len(changed)}; B imports libcst and parses those",
        )])
    return 0


if __name__ == "__main__":
    sys.exit(main())
