"""The one benchmark harness: whole processes, A and B alternating, medians of per-pair ratios.

Every figure is a whole process (interpreter start-up and imports included), measured by a small
launcher process (``python -I -S``) that spawns the command, waits for it with ``os.wait4`` and
reports its wall time, its CPU time (user + sys, with the processes it waited for: a pool's
workers) and its peak RSS. The launcher, not this (possibly large) Python process, is the parent:
Linux carries the RSS of the process that forks into the child's ``ru_maxrss`` (the reason the old
triage benchmark printed 37 MB for every case), and the launcher is ~8 MB, below any Python
command measured here.

A benchmark is a :class:`Pair` of sides A and B run alternately (A B, then B A, ...) for
``pairs`` rounds after one untimed warm-up round; the reported ratio is the median of the per-pair
ratios A/B, robust to a machine whose load changes during the run. ``make bench`` runs every
``benchmarks/bench_*.py`` through ``benchmarks/run_all.py``, which collects each script's rows (one
JSON line each in ``$STABFIX_BENCH_ROWS``) and prints one table; run alone, a script prints its own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = REPO / ".cache"
#: ``STABFIX_BENCH_SRC=<other checkout>/src`` times that tree's stabfix instead (before/after figures)
OTHER_SRC = os.environ.get("STABFIX_BENCH_SRC", "")
SRC = Path(OTHER_SRC) if OTHER_SRC else REPO / "src"
ENV = {**os.environ, "PYTHONPATH": OTHER_SRC} if OTHER_SRC else None
STABFIX = [sys.executable, "-m", "codemods"] if OTHER_SRC else [str(BIN / "stabfix")]

# The launcher: spawn argv[2:], wait4 it, write "wall cpu maxrss_kb status" to fd argv[1].
_LAUNCHER = r"""
import os, sys, time
fd = int(sys.argv[1]); os.set_inheritable(fd, False)
t0 = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
os.write(fd, b"%r %r %d %d" % (wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kb: int
    rc: int


@dataclass
class Cmd:
    """One side of a comparison: a command (or several run one after the other, summed: a pipeline
    of whole processes), where to run it, and untimed work before each run (a fresh copy)."""

    label: str
    argv: list[str] | list[list[str]]
    cwd: Path | None = None
    env: dict[str, str] | None = None
    stdout: Path | None = None  # stdout of the last command goes here (else discarded)
    ok: tuple[int, ...] = (0,)
    prepare: Callable[[], None] | None = None

    def steps(self) -> list[list[str]]:
        return [list(a) for a in self.argv] if self.argv and isinstance(self.argv[0], list) \
            else [list(self.argv)]  # type: ignore[arg-type]


def measure(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            stdout: Path | None = None, ok: tuple[int, ...] = (0,)) -> Sample:
    """Run ``argv`` once as a whole process; its wall, CPU and peak RSS as its launcher saw them."""
    r, w = os.pipe()
    err = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally clause with the pipe)
    try:
        with open(stdout, "wb") if stdout else open(os.devnull, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _LAUNCHER, str(w), *argv], cwd=cwd,
                                    env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(w,))
            os.close(w)
            w = -1
            with os.fdopen(r, "rb") as fh:
                r = -1
                data = fh.read().split()
            proc.wait()
        if proc.returncode != 0 or len(data) != 4:
            err.seek(0)
            raise SystemExit(f"launcher failed for {argv[0]}: {err.read().decode(errors='replace')[-800:]}")
        sample = Sample(float(data[0]), float(data[1]), int(data[2]), int(data[3]))
        if sample.rc not in ok:
            err.seek(0)
            raise SystemExit(f"{' '.join(map(str, argv[:5]))} exited {sample.rc}: "
                             f"{err.read().decode(errors='replace')[-800:]}")
        return sample
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
        err.close()


def run(cmd: Cmd) -> Sample:
    """One timed run of a side (its ``prepare`` untimed); a pipeline's figures are summed (RSS: max)."""
    if cmd.prepare is not None:
        cmd.prepare()
    steps = cmd.steps()
    samples = [measure(a, cwd=cmd.cwd, env=cmd.env or ENV, stdout=cmd.stdout if i == len(steps) - 1 else None,
                       ok=cmd.ok) for i, a in enumerate(steps)]
    return Sample(sum(s.wall for s in samples), sum(s.cpu for s in samples), max(s.rss_kb for s in samples),
                  samples[-1].rc)


@dataclass
class Result:
    """One row of the table."""

    name: str
    a: str
    b: str
    a_wall: float = 0.0
    b_wall: float = 0.0
    wall_ratio: float = 0.0
    cpu_ratio: float = 0.0
    a_rss_mb: float = 0.0
    b_rss_mb: float = 0.0
    target: str = ""
    limit: float | None = None
    passed: bool | None = None
    pairs: int = 0
    note: str = ""
    skipped: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def compile_bytecode() -> None:
    """Compile stabfix's bytecode, as ``pip install`` does for a user (``PYTHONDONTWRITEBYTECODE``
    would otherwise make every timed process compile the package again)."""
    import compileall

    compileall.compile_dir(SRC / "codemods", quiet=2)


def compare(name: str, a: Cmd, b: Cmd, *, pairs: int = 5, warmup: int = 1,
            target: tuple[str, float] | None = None, limit: float | None = None, note: str = "") -> Result:
    """Run A and B alternately: ``warmup`` untimed rounds, then ``pairs`` rounds (A B, B A, A B...).

    ``target`` is ``("<=", x)`` or ``(">=", x)`` on the median of the per-pair wall ratios A/B;
    ``limit`` a bound in seconds on A's median wall time instead.
    """
    for _ in range(warmup):
        run(a)
        run(b)
    got: list[tuple[Sample, Sample]] = []
    for i in range(pairs):
        if i % 2 == 0:
            sa = run(a)
            sb = run(b)
        else:
            sb = run(b)
            sa = run(a)
        got.append((sa, sb))
    wall_r = statistics.median(x.wall / y.wall for x, y in got)
    cpu_r = statistics.median(x.cpu / y.cpu if y.cpu else float("inf") for x, y in got)
    res = Result(
        name=name, a=a.label, b=b.label,
        a_wall=statistics.median(x.wall for x, _ in got), b_wall=statistics.median(y.wall for _, y in got),
        wall_ratio=wall_r, cpu_ratio=cpu_r,
        a_rss_mb=max(x.rss_kb for x, _ in got) / 1024, b_rss_mb=max(y.rss_kb for _, y in got) / 1024,
        pairs=pairs, note=note,
    )
    if target is not None:
        op, value = target
        res.target = f"A/B {op} {value:g}"
        res.passed = wall_r <= value if op == "<=" else wall_r >= value
    if limit is not None:
        res.target = f"A < {_secs(limit)}"
        res.passed = res.a_wall < limit
    return res


def skipped(name: str, reason: str) -> Result:
    return Result(name=name, a="", b="", skipped=reason)


def load() -> str:
    return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def emit(results: list[Result]) -> None:
    """Hand the rows to ``run_all.py`` (``$STABFIX_BENCH_ROWS``), or print them as a table."""
    sink = os.environ.get("STABFIX_BENCH_ROWS")
    if sink:
        with open(sink, "a", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps(asdict(r)) + "\n")
    else:
        print(table(results))
        print(load())


def _secs(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def table(results: list[Result]) -> str:
    head = ["benchmark", "A", "B", "wall", "CPU", "RSS A/B MB", "target", ""]
    rows = []
    for r in results:
        if r.skipped:
            rows.append([r.name, f"skipped: {r.skipped}", "", "", "", "", "", "skip"])
            continue
        rows.append([
            r.name, f"{r.a} {_secs(r.a_wall)}", f"{r.b} {_secs(r.b_wall)}",
            f"{r.wall_ratio:.2f}x", f"{r.cpu_ratio:.2f}x", f"{r.a_rss_mb:.0f}/{r.b_rss_mb:.0f}",
            r.target, "" if r.passed is None else ("pass" if r.passed else "FAIL"),
        ])
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        if row[-1] == "skip":
            lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
        else:
            lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    notes = [f"  {r.name}: {r.note}" for r in results if r.note and not r.skipped]
    if notes:
        lines += ["notes:", *notes]
    return "\n".join(lines)


def python(*args: str) -> list[str]:
    """A Python command line of this interpreter (the one stabfix is installed in)."""
    return [sys.executable, *args]


def pairs_arg(argv: list[str] | None = None, default: int = 5) -> int:
    """``--pairs N`` (default 5; at least 3), shared by every script."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=int(os.environ.get("STABFIX_BENCH_PAIRS", default)))
    return max(3, ap.parse_args(argv).pairs)
