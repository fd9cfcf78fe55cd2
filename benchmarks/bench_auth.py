#!/usr/bin/env python
"""Benchmark: ``stabfix apply auth --check`` vs ``python -m libcst.tool codemod`` (same transform).

Corpus: the test modules of scripts/corpus_tests.py (site-packages, litellm 1.80.0, FastAPI,
pytest, pydantic, Starlette, httpx sdists; >= 1,000 modules), plus 40 copies of the sample
repository's proxy test modules so that both tools really transform files. Both commands run as a
user would run them (fresh processes, all cores, no writes: stabfix ``--check``, libcst ``-u``);
each is timed 5 times and the median is reported with the ratio. The comparison codemod is
``benchmarks/libcst_auth_codemod.py``.

    python benchmarks/bench_auth.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from corpus_tests import build_corpus  # noqa: E402

STABFIX = Path(sys.executable).with_name("stabfix")
SAMPLE_TESTS = REPO / "src" / "codemods" / "sample_repo" / "tests" / "proxy_unit_tests"


def timed(cmd: list[str], cwd: Path, ok: tuple[int, ...]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {proc.stderr[-600:]}")
    return elapsed, proc.stdout + proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stabfix-bench-auth-"))
    try:
        root = work / "corpus"
        modules = build_corpus(root)
        for i in range(40):
            dest = root / "litellm_proxy_copies" / f"copy{i:02d}"
            dest.mkdir(parents=True)
            for f in SAMPLE_TESTS.glob("test_*.py"):
                shutil.copyfile(f, dest / f.name)
        n = len(modules) + 40 * len(list(SAMPLE_TESTS.glob("test_*.py")))
        print(f"corpus: {n} test modules ({len(modules)} real + sample proxy test copies)")

        stabfix_cmd = [str(STABFIX), "apply", "auth", ".", "--root", str(root), "--check", "--quiet"]
        libcst_cmd = [sys.executable, "-m", "libcst.tool", "codemod", "-x",
                      "benchmarks.libcst_auth_codemod.AuthWrapCommand", "--no-format", "-u", "3",
                      "--hide-progress", "--include-generated", "."]
        # what each one finds (one untimed run each)
        _, out = timed([*stabfix_cmd[:-1], "--json"], REPO, (0, 1))
        import json

        report = json.loads(out[: out.rindex("}") + 1])
        t = report["totals"]
        print(f"stabfix auth: {t['changed']} file(s) to change, {t['edits']} edit(s), "
              f"{t['skipped']} skipped, {t['failed']} failed (syntax errors in the corpus)")
        _, out = timed(libcst_cmd, root, (0, 1))
        changed = out.count("\n+++ ") + out.startswith("+++ ")
        print(f"libcst codemod: {changed} file(s) with a diff (it also rewrites the mock.patch tests that "
              "stabfix leaves to auth-unpatch, and has no fixture/conftest coverage check)")

        s_times, l_times = [], []
        for _ in range(args.runs):
            s_times.append(timed(stabfix_cmd, REPO, (0, 1))[0])
            l_times.append(timed(libcst_cmd, root, (0, 1))[0])
        s_med, l_med = statistics.median(s_times), statistics.median(l_times)
        print(f"stabfix apply auth --check : median {s_med:.2f}s  runs {', '.join(f'{x:.2f}' for x in s_times)}")
        print(f"libcst.tool codemod (-u)   : median {l_med:.2f}s  runs {', '.join(f'{x:.2f}' for x in l_times)}")
        print(f"ratio (libcst / stabfix): {l_med / s_med:.1f}x  (target >= 3x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
