"""Benchmark ``stabfix triage`` on a log with one very long line (the regex backtracking guard).

Each run is a whole fresh process (``python -m codemods.commands.triage.cli LOG --json --quiet``), so the
time includes interpreter start-up, measured by the shared harness against reading the same log. The log holds a short header and one ``FAILED ...`` summary
line padded to the given size with text that used to make the triage regexes backtrack
quadratically. Prints the median of the runs for each keyword scan (grep, pure Python), line kind
and size, and whether the test id was still found. Target: a 1 MB line in well under a second.

    python benchmarks/bench_triage_longline.py [--sizes 65536,1048576] [--pairs 5]
        [--kinds token,spaces,exception] [--modes grep,python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _harness import ENV, Cmd, compare, compile_bytecode, emit, python

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


def found(log: Path, env: dict[str, str]) -> bool:
    argv = [*TRIAGE, str(log), "--json", "--quiet", "--root", str(log.parent), "--out", str(log.parent / "o")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    ids = [f["id"] for c in json.loads(proc.stdout)["categories"] for f in c["failures"]] if proc.stdout else []
    return NODEID in ids


TRIAGE = [sys.executable, "-m", "codemods.commands.triage.cli"]
READ = "import sys\nfor _ in open(sys.argv[1], encoding='utf-8', errors='replace'):\n    pass\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1048576", help="line sizes in characters, comma-separated")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--kinds", default="exception", help=f"line contents, comma-separated: {', '.join(KINDS)}")
    parser.add_argument("--modes", default="grep,python", help="keyword scan: grep (default) and/or python")
    args = parser.parse_args()
    compile_bytecode()
    rows = []
    for mode in args.modes.split(","):
        env = {**(ENV or os.environ), "STABFIX_TRIAGE_NO_GREP": "1" if mode == "python" else ""}
        for kind in args.kinds.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                with tempfile.TemporaryDirectory() as tmp:
                    log = Path(tmp) / "job.log"
                    make_log(log, size, kind)
                    ok = found(log, env)
                    cmd = Cmd(f"triage ({mode})", [*TRIAGE, str(log), "--json", "--quiet", "--root", tmp, "--out",
                                                   str(Path(tmp) / "o")], env=env, ok=(0, 1))
                    row = compare(f"triage long line {mode}", cmd, Cmd("read lines", python("-c", READ, str(log))),
                                  pairs=max(3, args.pairs // 2), limit=1.0,
                                  note=f"one {size:,}-char {kind!r} line; test id {'found' if ok else 'NOT FOUND'}")
                    row.passed = bool(row.passed) and ok
                    rows.append(row)
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
