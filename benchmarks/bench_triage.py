#!/usr/bin/env python3
"""triage: ``stabfix triage`` of a 100 MB CircleCI log vs a process that only reads its lines.

The log is generated once into ``.cache/bench_triage`` by the tests' fixture generator (a pytest -vv
-n 8 session with failures inside). A is ``python -m codemods.commands.triage.cli LOG --json``
(the default keyword scan); B is ``for line in open(LOG)`` (UTF-8 text mode) in a fresh Python.
Both are whole processes. Target: A/B <= 2. Memory stays flat: the peak RSS of triage on the 100 MB
log against the 10 MB log (target: at most 1.1x), and the pure-Python reader (used for gzip logs
or without grep) against the same baseline, for reference.

    python benchmarks/bench_triage.py [--pairs N] [--mb 100]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

from _harness import CACHE, ENV, Cmd, Result, compare, compile_bytecode, emit, pairs_arg, python

ROOT = Path(__file__).resolve().parents[1]
LOGS = CACHE / "bench_triage"
READ = "import sys\nn = 0\nwith open(sys.argv[1], encoding='utf-8', errors='replace') as fh:\n" \
       "    for _ in fh:\n        n += 1\n"


def ensure_log(mb: int) -> Path:
    path = LOGS / f"local_testing-{mb}mb.log"
    if not path.exists():
        spec = importlib.util.spec_from_file_location("make_logs", ROOT / "tests" / "fixtures" / "triage" / "make_logs.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_logs"] = module
        spec.loader.exec_module(module)
        LOGS.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        module.big_log(tmp, mb)
        tmp.rename(path)
    return path


def triage(log: Path, out: Path, *, python_scan: bool = False) -> Cmd:
    env = {**(ENV or __import__("os").environ), "STABFIX_TRIAGE_NO_GREP": "1" if python_scan else ""}
    return Cmd("triage (python scan)" if python_scan else "stabfix triage",
               python("-m", "codemods.commands.triage.cli", str(log), "--json", "--quiet", "--root", str(out),
                      "--out", str(out / "reports")), env=env, ok=(0, 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--mb", type=int, default=100)
    args = ap.parse_args()
    pairs = pairs_arg(["--pairs", str(args.pairs)])
    compile_bytecode()
    big, small = ensure_log(args.mb), ensure_log(max(1, args.mb // 10))
    rows: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-") as tmp:
        out = Path(tmp)
        size = big.stat().st_size / 1e6
        rows.append(compare("triage", triage(big, out), Cmd("read lines", python("-c", READ, str(big))),
                            pairs=pairs, target=("<=", 2.0), note=f"{big.name}, {size:.0f} MB"))
        # memory: the same command on a log 10x smaller; the wall ratio here is of no interest
        mem = compare("triage memory", triage(big, out), triage(small, out), pairs=3, warmup=0)
        mem.a, mem.b = f"triage {size:.0f} MB", f"triage {small.stat().st_size / 1e6:.0f} MB"
        ratio = mem.a_rss_mb / mem.b_rss_mb
        mem.target, mem.passed = "RSS A/B <= 1.1", ratio <= 1.1
        mem.note = f"peak RSS {mem.a_rss_mb:.1f} MB vs {mem.b_rss_mb:.1f} MB ({ratio:.2f}x for 10x the log)"
        rows.append(mem)
        rows.append(compare("triage python scan", triage(big, out, python_scan=True),
                            Cmd("read lines", python("-c", READ, str(big))), pairs=3,
                            note="the fallback for gzip logs or without grep; reference only"))
    emit(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
