"""Benchmark `stabfix triage` on a generated 100 MB CircleCI log against reading it line by line in Python.

Prints, median of >= 5 alternating runs: the baseline (``for line in open(log)``, text mode, UTF-8),
triage of the same log (grep-backed keyword scan, the default), the ratio (target: within 3x), and
the pure-Python fallback once (no grep, or gzip logs). Peak memory (max RSS of a fresh process) for
triage of a 10 MB and of the 100 MB log shows that memory stays flat as the log grows.

    python benchmarks/bench_triage.py [--mb 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench_triage"


def _make_logs():  # the fixture generator of the tests
    spec = importlib.util.spec_from_file_location("make_logs", ROOT / "tests" / "fixtures" / "triage" / "make_logs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_logs"] = module
    spec.loader.exec_module(module)
    return module


def ensure_log(mb: int) -> Path:
    path = CACHE / f"local_testing-{mb}mb.log"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        _make_logs().big_log(tmp, mb)
        tmp.rename(path)
    return path


def baseline(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for _ in fh:
            n += 1
    return n


def run_triage(path: Path) -> int:
    from codemods.commands.triage import triage

    result = triage([path], root=CACHE, out=CACHE / "reports")
    return result.failures


PROBE = """
import resource, sys, json
from codemods.commands.triage import triage
r = triage([sys.argv[1]], root=sys.argv[2], out=sys.argv[2] + "/reports")
print(json.dumps({"failures": r.failures, "lines": r.lines,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

IDLE = """
import resource, json
import codemods.commands.triage.core, codemods.commands.triage.render, junitparser, rich.table
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def peak(path: Path | None, *, python_reader: bool = False) -> dict[str, float]:
    code, args = (PROBE, [str(path), str(CACHE)]) if path else (IDLE, [])
    env = {**os.environ, **({"STABFIX_TRIAGE_NO_GREP": "1"} if python_reader else {})}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         env=env).stdout
    data: dict[str, float] = json.loads(out)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    big, small = ensure_log(args.mb), ensure_log(max(1, args.mb // 10))
    size = big.stat().st_size / 1e6
    lines = baseline(big)
    print(f"log: {big.name}, {size:.1f} MB, {lines:,} lines")
    base_times, triage_times = [], []
    for _ in range(args.runs):  # alternate, so that cache and load effects hit both alike
        t = time.perf_counter()
        baseline(big)
        base_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        failures = run_triage(big)
        triage_times.append(time.perf_counter() - t)
    b, tr = statistics.median(base_times), statistics.median(triage_times)
    print(f"baseline (for line in open(log)): median {b:.3f} s of {args.runs}")
    print(f"stabfix triage (grep scan):       median {tr:.3f} s of {args.runs}  ({failures} failures found)")
    print(f"ratio triage / baseline:          {tr / b:.2f}x  (target <= 3x)")
    os.environ["STABFIX_TRIAGE_NO_GREP"] = "1"
    t = time.perf_counter()
    run_triage(big)
    print(f"pure-Python fallback (1 run):     {time.perf_counter() - t:.3f} s  "
          f"({(time.perf_counter() - t) / b:.1f}x; used for gzip logs or without grep)")
    del os.environ["STABFIX_TRIAGE_NO_GREP"]
    idle, p_small, p_big = peak(None), peak(small), peak(big)
    print(f"peak RSS: imports only {idle['maxrss_mb']:.1f} MB; triage of {small.stat().st_size / 1e6:.0f} MB log "
          f"{p_small['maxrss_mb']:.1f} MB; of {size:.0f} MB log {p_big['maxrss_mb']:.1f} MB "
          f"(growth for 10x the log: {p_big['maxrss_mb'] - p_small['maxrss_mb']:+.1f} MB)")
    py_small, py_big = peak(small, python_reader=True), peak(big, python_reader=True)
    print(f"peak RSS, pure-Python reader: {py_small['maxrss_mb']:.1f} MB / {py_big['maxrss_mb']:.1f} MB "
          f"(growth {py_big['maxrss_mb'] - py_small['maxrss_mb']:+.1f} MB)")


if __name__ == "__main__":
    main()
