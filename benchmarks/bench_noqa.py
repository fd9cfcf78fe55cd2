#!/usr/bin/env python3
"""noqa: ``stabfix apply noqa`` on the litellm 1.80.0 sdist (~47,000 ruff diagnostics, 1,000 files).

Rows (every side a whole process, on a fresh copy of the tree where it writes; copies are made
untimed and synced to disk before the clock starts):

* pipeline: ``ruff check --output-format json`` then ``stabfix apply noqa --from`` (summed) vs
  ``ruff check --add-noqa`` on the same tree and selection (target <= 2.5);
* alone: ``stabfix apply noqa --from`` vs a Python process that loads the same report and reads
  the files it names (target <= 1.3);
* RSS: stabfix's peak RSS (wait4 of the process; pool workers, if any, each count alone and the
  main process is the largest) against the report's size on disk (target <= 2);
* pool: stabfix with its own choice of ``--jobs`` vs ``--jobs 1`` (target <= 1.05: never slower).

Also printed: the directives written and the files each tool left unparsable.

    python benchmarks/bench_noqa.py [--pairs N]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    BIN,
    CACHE,
    ENV,
    STABFIX,
    Cmd,
    Result,
    compare,
    compile_bytecode,
    emit,
    pairs_arg,
    python,
    skipped,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

SELECT = "E,W,F,B,C4,PL,UP,SIM"
RUFF = [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", SELECT]
LOAD_AND_READ = """
import json, sys
from pathlib import Path
with open(sys.argv[1], encoding="utf-8") as fh:
    items = json.load(fh)
for name in {d["filename"] for d in items}:
    Path(name).read_text(encoding="utf-8")
"""


def broken_files(root: Path) -> int:
    n = 0
    for p in root.rglob("*.py"):
        try:
            compile(p.read_bytes(), str(p), "exec")
        except SyntaxError:
            n += 1
    return n


def main() -> int:
    pairs = pairs_arg()
    compile_bytecode()
    try:
        from corpus_noqa_litellm import PACKAGE, VERSION, fetch_sdist, unpack

        tarball = fetch_sdist(PACKAGE, VERSION, CACHE / "sdists")
    except Exception as exc:
        emit([skipped("noqa", f"litellm sdist unavailable ({str(exc).splitlines()[0][:80]})")])
        return 0
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-noqa-") as tmp:
        work = Path(tmp)
        pristine = unpack(tarball, work / "pristine")
        before = broken_files(pristine)
        tree = work / "tree"
        report = work / "report.json"

        def fresh() -> None:  # untimed: a pristine copy, synced, the old one's freeing settled
            if tree.exists():
                shutil.rmtree(tree)
            shutil.copytree(pristine, tree)
            os.sync()
            time.sleep(0.5)

        fresh()
        with report.open("wb") as fh:
            subprocess.run([*RUFF, "--output-format", "json", "."], cwd=tree, stdout=fh, check=False)
        size_mb = report.stat().st_size / 1e6
        stab = [*STABFIX, "apply", "noqa", "--root", str(tree), "--from", str(report), "--json", "--quiet"]
        out = work / "stabfix.json"
        result = json.loads(subprocess.run(stab, capture_output=True, check=False, env=ENV).stdout)
        directives = sum(len(f["edits"]) for f in result["files"] if f["status"] == "changed")
        left = broken_files(tree) - before
        fresh()
        subprocess.run([*RUFF, "--add-noqa", "."], cwd=tree, capture_output=True, check=False)
        ruff_left = broken_files(tree) - before

        # the report names files by absolute path: each side works in ``tree``, a fresh copy
        pipeline = Cmd("ruff json + stabfix", [[*RUFF, "--output-format", "json", "--output-file", str(report), "."],
                                               stab], cwd=tree, stdout=out, ok=(0, 1), prepare=fresh)
        add_noqa = Cmd("ruff --add-noqa", [*RUFF, "--add-noqa", "."], cwd=tree, ok=(0, 1), prepare=fresh)
        alone = Cmd("stabfix noqa", stab, cwd=tree, stdout=out, ok=(0, 1), prepare=fresh)
        load = Cmd("load + read", python("-c", LOAD_AND_READ, str(report)), cwd=tree)
        jobs1 = Cmd("stabfix --jobs 1", [*stab, "--jobs", "1"], cwd=tree, stdout=out, ok=(0, 1), prepare=fresh)
        rows: list[Result] = [
            compare("noqa pipeline", pipeline, add_noqa, pairs=pairs, target=("<=", 2.5),
                    note=f"{directives} directives; files left unparsable: stabfix {left}, ruff --add-noqa {ruff_left}"),
        ]
        fresh()  # the report again, of the pristine tree, for the rest
        subprocess.run([*RUFF, "--output-format", "json", "--output-file", str(report), "."], cwd=tree, check=False)
        rows.append(compare("noqa alone", alone, load, pairs=pairs, target=("<=", 1.3),
                            note=f"report {size_mb:.1f} MB"))
        rss = Result(name="noqa RSS", a="stabfix peak RSS", b="report size", a_rss_mb=rows[-1].a_rss_mb,
                     b_rss_mb=size_mb, a_wall=rows[-1].a_wall, b_wall=0.0, pairs=pairs)
        rss.wall_ratio = rss.cpu_ratio = rss.a_rss_mb / size_mb
        rss.target, rss.passed = "RSS A/size <= 2", rss.wall_ratio <= 2.0
        rss.note = f"{rss.a_rss_mb:.0f} MB peak for a {size_mb:.1f} MB report (ratio in the wall/CPU columns)"
        rows.append(rss)
        rows.append(compare("noqa pool", alone, jobs1, pairs=pairs, target=("<=", 1.05),
                            note="stabfix's own --jobs choice vs --jobs 1"))
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
