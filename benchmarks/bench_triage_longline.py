"""Benchmark ``stabfix triage`` on a log with one very long line (the regex backtracking guard).

Each run is a whole fresh process (``python -m codemods.commands.triage.cli LOG --json --quiet``), so the
time includes interpreter start-up. The log holds a short header and one ``FAILED ...`` summary
line padded to the given size with text that used to make the triage regexes backtrack
quadratically. Prints the median of the runs for each keyword scan (grep, pure Python), line kind
and size, and whether the test id was still found. Target: a 1 MB line in well under a second.

    python benchmarks/bench_triage_longline.py [--sizes 65536,1048576] [--runs 5]
        [--kinds token,spaces,exception] [--modes grep,python] [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

NODEID = "tests/x.py::test_long"
KINDS: dict[str, Callable[[int], str]] = {
    # one long token (a repr, a base64 blob): every start position used to re-scan the token
    "token": lambda n: "AssertionError: assert '" + "a" * n,
    # a long run of blanks inside the test id / message
    "spaces": lambda n: "x" + " " * n + "y",
    # many "Exception - " pieces: each used to re-scan the rest of the line
    "exception": lambda n: "aException - 1 " * (n // 15 + 1),
}


def long_line(size: int, kind: str = "token") -> str:
    """A ``FAILED`` summary line of ``size`` characters whose message is of the given kind."""
    head = f"FAILED {NODEID} - "
    return (head + KINDS[kind](size))[:size]


def make_log(path: Path, size: int, kind: str = "token") -> None:
    path.write_text("#!/bin/bash -eo pipefail\npython -m pytest tests -n 2\n"
                    "=========================== short test summary info ============================\n"
                    + long_line(size, kind) + "\n" + "=========== 1 failed in 1.00s ===========\n", encoding="utf-8")


def run_once(log: Path, timeout: float, env: dict[str, str]) -> tuple[float, bool | None]:
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(log), "--json", "--quiet",
                               "--root", str(log.parent), "--out", str(log.parent / "o")],
                              capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, None
    elapsed = time.perf_counter() - start
    ids = [f["id"] for c in json.loads(proc.stdout)["categories"] for f in c["failures"]] if proc.stdout else []
    return elapsed, NODEID in ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="65536,1048576", help="line sizes in characters, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"line contents, comma-separated: {', '.join(KINDS)}")
    parser.add_argument("--modes", default="grep,python", help="keyword scan: grep (default) and/or python")
    parser.add_argument("--timeout", type=float, default=60.0, help="per run; a run over it counts as failed")
    args = parser.parse_args()
    for mode in args.modes.split(","):
        env = {**os.environ, "STABFIX_TRIAGE_NO_GREP": "1" if mode == "python" else ""}
        for kind in args.kinds.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                with tempfile.TemporaryDirectory() as tmp:
                    log = Path(tmp) / "job.log"
                    make_log(log, size, kind)
                    times: list[float] = []
                    found: list[bool | None] = []
                    for _ in range(args.runs):
                        t, ok = run_once(log, args.timeout, env)
                        times.append(t)
                        found.append(ok)
                        if ok is None:  # timed out: more runs would only waste time
                            break
                status = "TIMEOUT" if None in found else ("found" if all(found) else "NOT FOUND")
                print(f"{mode:6} {kind:9} {size:>9,} chars: median {statistics.median(times):7.3f}s "
                      f"over {len(times)} run(s), test id {status}", flush=True)


if __name__ == "__main__":
    main()
