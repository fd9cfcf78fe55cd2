#!/usr/bin/env python3
"""Benchmark for the foundation (issue 2): CLI startup, and the pre-filter on a large tree.

Prints:
  * the median wall time of `stabfix --version` (target: under 0.25 s);
  * `stabfix apply xdist-group --check` over the litellm 1.80.0 sdist (about 1,300 Python files)
    plus a handful of test modules, against libcst merely parsing every one of those files in one
    process (target: stabfix at least 5x faster: only test modules are read and parsed);
  * the peak resident memory of that stabfix run.

    python benchmarks/bench_xdist_group.py [--runs N]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from corpus_xdist_group import LITELLM, fetch_sdist  # noqa: E402

STABFIX = Path(sys.executable).with_name("stabfix")

PARSE_ALL = """
import sys, libcst
from pathlib import Path
for p in sys.argv[1:]:
    try:
        libcst.parse_module(Path(p).read_bytes())
    except Exception:
        pass
"""


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    startup = [timed([str(STABFIX), "--version"]) for _ in range(max(11, args.runs))]
    print(f"stabfix --version: median {statistics.median(startup) * 1000:.0f} ms over {len(startup)} runs "
          f"(target < 250 ms)")

    with tempfile.TemporaryDirectory(prefix="stabfix-bench-") as tmp:
        tree = Path(tmp) / "litellm"
        shutil.copytree(fetch_sdist(LITELLM), tree)
        tests = tree / "tests" / "bench"
        tests.mkdir(parents=True)
        sample = REPO / "src" / "codemods" / "sample_repo" / "tests"
        for i, src in enumerate(sorted(sample.rglob("test_*.py"))):
            shutil.copyfile(src, tests / f"test_{i}_{src.name[5:]}")
        py_files = [str(p) for p in tree.rglob("*.py")]
        n_tests = len(list(tests.glob("test_*.py")))
        print(f"tree: {len(py_files)} Python files, {n_tests} test modules among them")

        cmd = [str(STABFIX), "apply", "xdist-group", ".", "--group", "bench", "--check", "--root", str(tree), "-q"]
        parse = [sys.executable, "-c", PARSE_ALL, *py_files]
        # Peak memory first: RUSAGE_CHILDREN keeps the largest child so far (only small ones yet).
        subprocess.run(cmd, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        ours, base = [], []
        for _ in range(args.runs):  # alternate to share any drift in machine load
            ours.append(timed(cmd, cwd=tree))
            base.append(timed(parse))
        m_ours, m_base = statistics.median(ours), statistics.median(base)
        print(f"stabfix apply xdist-group --check: median {m_ours:.2f} s over {args.runs} runs")
        print(f"libcst parsing every file:           median {m_base:.2f} s over {args.runs} runs")
        print(f"ratio: stabfix is {m_base / m_ours:.1f}x faster (target >= 5x)")
        print(f"peak RSS of the stabfix run: {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
