"""Benchmark: `stabfix apply workers --to 4 --check` on LiteLLM's real CircleCI config.

Baseline (named by issue 5): ruamel.yaml merely loading the same file (``YAML().load``, the
round-trip loader, which is what a tool that edits with ruamel.yaml would start with). Prints the
median of N runs of each, in process, and the ratio (target: within 2x). Also times the CLI
(``stabfix apply workers --to 4 --check``, process start and imports included) for reference.

    python benchmarks/bench_workers.py [--runs 7] [--config PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CONFIG = HERE.parent.parent / "shared" / "real-world" / "litellm-circleci-config.yml"


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = parser.parse_args()
    if not args.config.is_file():
        if args.config == DEFAULT_CONFIG:  # ../shared is beside the main checkout only, not in a clone
            print(f"skipped: {DEFAULT_CONFIG} is absent (LiteLLM's real CircleCI config); "
                  "pass --config PATH to time another file")
            return 0
        print(f"config not found: {args.config}", file=sys.stderr)
        return 2

    from ruamel.yaml import YAML

    import codemods

    text = args.config.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".circleci").mkdir()
        shutil.copyfile(args.config, root / ".circleci" / "config.yml")

        def check() -> None:
            report = codemods.apply("workers", root=root, mode="check", to=4)
            assert report.exit_code == 1 and len(report.plan.changes) == 1

        def load() -> None:
            YAML().load(text)

        check()  # warm-up: imports, first-call caches
        load()
        # interleaved, so that a busy machine slows both sides alike
        checks: list[float] = []
        loads: list[float] = []
        for _ in range(args.runs):
            checks.append(median_time(check, 1))
            loads.append(median_time(load, 1))
        t_check, t_load = statistics.median(checks), statistics.median(loads)
        per_run = statistics.median(c / ld for c, ld in zip(checks, loads, strict=True))
        stabfix = Path(sys.executable).with_name("stabfix")
        t_cli = None
        if stabfix.exists():
            t_cli = median_time(lambda: subprocess.run(
                [str(stabfix), "apply", "workers", "--to", "4", "--check", "--quiet", "--root", str(root)],
                capture_output=True, check=False), max(3, args.runs // 2))

    lines = text.count("\n") + 1
    print(f"config: {args.config.name} ({lines} lines, {len(text.encode())} bytes), median of {args.runs} runs")
    print(f"ruamel.yaml YAML().load (baseline):  {t_load * 1000:8.1f} ms")
    print(f"workers --to 4 --check (in process): {t_check * 1000:8.1f} ms")
    print(f"ratio check / load:                  {t_check / t_load:8.2f}x  (target <= 2.00x)")
    print(f"median of per-run ratios:            {per_run:8.2f}x")
    if t_cli is not None:
        print(f"CLI `stabfix apply workers --check`: {t_cli * 1000:8.1f} ms (process start and imports included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
