#!/usr/bin/env python3
"""Benchmark of ``stabfix apply noqa`` on the litellm 1.80.0 sdist (~47,000 ruff diagnostics).

(a) ``ruff check --isolated --select E,W,F,B,C4,PL,UP,SIM --add-noqa`` against the stabfix
    pipeline ``ruff check ... --output-format json`` + ``stabfix apply noqa --from`` (target: 4x);
(b) ``stabfix apply noqa --from`` alone against merely loading the JSON report and reading the
    files it names in Python (target: 2x).

Every timed command runs as a subprocess on a fresh copy of the tree (copied, synced to disk and
left to settle before the clock starts; trees are deleted only at the end), the variants
alternate, and the median of ``--runs`` (>= 5) is printed with the ratios, the number of
directives written, and how many files each tool left unparsable.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from corpus_noqa_litellm import BIN, PACKAGE, REPO, SELECT, VERSION, fetch_sdist, unpack

RUFF = [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", SELECT]
LOAD_AND_READ = """
import json, sys
from pathlib import Path
with open(sys.argv[1], encoding="utf-8") as fh:
    items = json.load(fh)
for name in {d["filename"] for d in items}:
    Path(name).read_text(encoding="utf-8")
"""


CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(argv: list[str], cwd: Path, stdout: Path | None = None, key: str = "") -> float:
    """Wall time of one command; its CPU time (with its worker processes) goes to ``CPU[key]``."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    if stdout is None:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True)
    else:
        with stdout.open("wb") as fh:
            proc = subprocess.run(argv, cwd=cwd, stdout=fh, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    CPU.setdefault(key, []).append(_children_cpu() - cpu0)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[:500]}")
    return took


def fresh_copy(pristine: Path, tree: Path) -> None:
    """Copy the tree and let the disk settle, so that no timed run pays for the copy's writeback.

    Trees are deleted only at the end: deleting a 1,300-file tree right before a timed run makes
    the kernel's deferred freeing land on that run (file creation measured 3-7x slower).
    """
    shutil.copytree(pristine, tree)
    os.sync()
    time.sleep(1)


def breakdown(tree: Path, report: Path) -> dict[str, float]:
    """In-process CPU seconds of each stage (one process, no pool): where stabfix's time goes."""
    from codemods.core.context import Context
    from codemods.core.source import read_source
    from codemods.core.validate import comment_only_change, validate_python
    from codemods.fixers.suppress.fixer import SuppressOptions
    from codemods.fixers.suppress.noqa import NoqaFixer

    out: dict[str, float] = {}
    c = time.process_time()
    items = json.loads(report.read_bytes())
    for name in {d["filename"] for d in items}:
        Path(name).read_text(encoding="utf-8")
    out["load JSON + read files (baseline)"] = time.process_time() - c
    root = tree.resolve()
    fixer = NoqaFixer(SuppressOptions(from_report=str(report)))
    c = time.process_time()
    fixer.prepare(Context(root, [root]))
    out["fixer: read + group the report"] = time.process_time() - c
    c = time.process_time()
    sources = [read_source(root / rel, rel) for rel in fixer._diags]
    out["engine: read + decode the files"] = time.process_time() - c
    c = time.process_time()
    outcomes = [fixer.fix(src) for src in sources]
    out["fixer: scan + edit the lines"] = time.process_time() - c
    c = time.process_time()
    for src, outcome in zip(sources, outcomes, strict=True):
        if outcome.text is not None:
            assert outcome.comment_lines is not None
            if not comment_only_change(src.text, outcome.text, outcome.comment_lines):
                validate_python(src, outcome.text)
    out["engine: check the comment-only edits"] = time.process_time() - c
    c = time.process_time()
    for src, outcome in zip(sources, outcomes, strict=True):
        if outcome.text is not None:
            validate_python(src, outcome.text)
    out["(a full re-parse instead would cost)"] = time.process_time() - c
    return out


def broken_files(root: Path) -> int:
    n = 0
    for p in root.rglob("*.py"):
        try:
            compile(p.read_bytes(), str(p), "exec")
        except SyntaxError:
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=0, help="stabfix --jobs (default: stabfix's own)")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "sdists")
    args = ap.parse_args(argv)
    # stabfix as installed from a wheel: pip compiles its bytecode at install time (an editable
    # install under PYTHONDONTWRITEBYTECODE=1 would compile ~10,000 lines on every run instead)
    import codemods

    compileall.compile_dir(Path(codemods.__file__).parent, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="stabfix-bench-"))
    try:
        pristine = unpack(fetch_sdist(PACKAGE, VERSION, args.cache), work / "pristine")
        broken_before = broken_files(pristine)
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        times: dict[str, list[float]] = {k: [] for k in ("add_noqa", "ruff_json", "stabfix", "load_read")}
        directives = 0
        broken = {"ruff --add-noqa": 0, "stabfix": 0}
        for i in range(args.runs):
            tree = work / f"ruff{i}"
            fresh_copy(pristine, tree)
            times["add_noqa"].append(timed([*RUFF, "--add-noqa", "."], tree, key="add_noqa"))
            broken["ruff --add-noqa"] = broken_files(tree) - broken_before

            tree = work / f"stabfix{i}"
            fresh_copy(pristine, tree)
            report = work / f"report{i}.json"
            times["ruff_json"].append(timed([*RUFF, "--output-format", "json", "."], tree, stdout=report, key="ruff_json"))
            if i == 0:  # on the pristine copy, before stabfix writes to it
                stages = breakdown(tree, report)
            out = work / f"stabfix{i}.json"
            times["stabfix"].append(timed(
                [str(BIN / "stabfix"), "apply", "noqa", "--root", str(tree), "--from", str(report), "--json",
                 "--quiet", *jobs], tree, stdout=out, key="stabfix",
            ))
            result = json.loads(out.read_text(encoding="utf-8"))
            directives = sum(len(f["edits"]) for f in result["files"] if f["status"] == "changed")
            broken["stabfix"] = broken_files(tree) - broken_before
            times["load_read"].append(timed([sys.executable, "-c", LOAD_AND_READ, str(report)], tree, key="load_read"))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)
        med = {k: statistics.median(v) for k, v in times.items()}
        pipeline = med["ruff_json"] + med["stabfix"]
        print(f"\nlitellm {VERSION}, ruff --select {SELECT}; median of {args.runs} alternating runs")
        print(f"  ruff --add-noqa:                       {med['add_noqa']:.2f} s")
        print(f"  ruff --output-format json:             {med['ruff_json']:.2f} s "
              f"({med['ruff_json'] / med['add_noqa']:.2f}x add-noqa)")
        print(f"  stabfix apply noqa --from:             {med['stabfix']:.2f} s")
        print(f"  load JSON + read the files (Python):   {med['load_read']:.2f} s")
        print(f"(a) ruff json + stabfix vs ruff --add-noqa: {pipeline / med['add_noqa']:.2f}x (target 4x)")
        print(f"(b) stabfix vs load + read:                 {med['stabfix'] / med['load_read']:.2f}x (target 2x)")
        cpu = {k: statistics.median(v) for k, v in CPU.items()}
        print("CPU time (user+sys, workers included; less sensitive to a busy machine):")
        print("  " + ", ".join(f"{k} {v:.2f}s" for k, v in cpu.items()))
        print(f"(a) by CPU: {(cpu['ruff_json'] + cpu['stabfix']) / cpu['add_noqa']:.2f}x; "
              f"(b) by CPU: {cpu['stabfix'] / cpu['load_read']:.2f}x")
        print("where the time goes (CPU seconds in one process, no pool, run 1):")
        for stage, secs in stages.items():
            print(f"  {stage:40s} {secs:6.2f}")
        print(f"directives written by stabfix: {directives} lines")
        print(f"files left unparsable: ruff --add-noqa {broken['ruff --add-noqa']}, stabfix {broken['stabfix']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
