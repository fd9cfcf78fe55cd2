#!/usr/bin/env python3
"""``make bench``: run every ``benchmarks/bench_*.py`` and print one table.

Each script runs as its own process with ``$STABFIX_BENCH_ROWS`` naming a file it appends its rows
to (see ``_harness.py``); its own output goes to ``.cache/bench/<script>.log``. A script that needs
what this clone lacks (``../shared``, a download that fails) adds a "skipped" row saying why. Exit
status: 1 when a script crashed, else 0 (``--strict``: also 1 when a target is missed).

    python benchmarks/run_all.py [--pairs N] [--only NAME,...] [--strict]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _harness import CACHE, Result, compile_bytecode, load, table  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--only", default="", help="comma-separated script names (e.g. triage,noqa)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    only = {x.strip().removeprefix("bench_").removesuffix(".py") for x in args.only.split(",") if x.strip()}
    scripts = [p for p in sorted(HERE.glob("bench_*.py"))
               if not only or p.stem.removeprefix("bench_") in only]
    logs = CACHE / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    results: list[Result] = []
    crashed = False
    loads = [load()]
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-rows-") as tmp:
        for script in scripts:
            rows = Path(tmp) / f"{script.stem}.jsonl"
            log = logs / f"{script.stem}.log"
            start = time.perf_counter()
            print(f"running {script.name} ...", end="", file=sys.stderr, flush=True)
            with log.open("wb") as fh:
                proc = subprocess.run([sys.executable, str(script), "--pairs", str(args.pairs)], stdout=fh,
                                      stderr=subprocess.STDOUT, env={**os.environ, "STABFIX_BENCH_ROWS": str(rows)},
                                      check=False)
            print(f" {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            if rows.exists():
                results += [Result(**json.loads(line)) for line in rows.read_text(encoding="utf-8").splitlines()]
            if proc.returncode != 0:
                crashed = True
                tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["?"]
                results.append(Result(name=script.stem.removeprefix("bench_"), a="", b="",
                                      skipped=f"ERROR (exit {proc.returncode}, see {log}): {tail[0][:120]}"))
            loads.append(load())
    print(table(results))
    print(f"{len(results)} rows, {sum(r.passed is False for r in results)} missed; {loads[0]} at the start, "
          f"{loads[-1]} at the end")
    missed = any(r.passed is False for r in results)
    return 1 if crashed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
