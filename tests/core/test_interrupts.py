"""Interrupts and worker counts: Ctrl-C / SIGTERM during a pooled, staged run stop everything at once
(one line, exit 130, no temporary file, every file old or new), and ``jobs`` is capped."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import codemods
from codemods.core import engine, writer

STABFIX = Path(sys.executable).with_name("stabfix")
ONE_LINE = re.compile(r"interrupted: nothing written|interrupted after writing (\d+) files?")


def _repo(root: Path, n: int, jobs: int | None = None) -> Path:
    """``n`` small Python files with two unused imports each, and a ruff-style report naming them."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    if jobs is not None:
        (root / "pyproject.toml").write_text(f"[tool.stabfix]\njobs = {jobs}\n")
    entries = []
    body = "".join(f"x{j} = {j}\n" for j in range(30))
    for i in range(n):
        path = root / f"pkg{i % 10}" / f"m{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text("import os\nimport sys\n" + body)
        entries += [{"code": "F401", "filename": str(path), "location": {"row": row, "column": 8},
                     "end_location": {"row": row, "column": 10}, "noqa_row": row, "message": "m"}
                    for row in (1, 2)]
    report = root.parent / "report.json"
    report.write_text(json.dumps(entries))
    return report


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".stabfix-tmp-" in p.name]


def test_signals_stop_the_run_clean_and_fast(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 1200)
    old = {p: p.read_bytes() for p in root.rglob("*.py")}
    plan = codemods.make_plan("noqa", root=root, from_report=str(report))
    new = {root / c.path: c.new for c in plan.changes}
    assert set(new) == set(old)
    # (signal, delay in seconds, to the whole process group as a terminal's Ctrl-C does)
    trials = [(signal.SIGINT, d, True) for d in (0.2, 0.5, 1.0, 0.3, 0.7, 1.3, 0.4, 0.9)]
    trials += [(signal.SIGTERM, 0.5, False), (signal.SIGTERM, 1.0, True)]
    seen: list[tuple[str, float, int, float, str]] = []
    for sig, delay, group in trials:
        for path, data in old.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
        proc = subprocess.Popen(
            [str(STABFIX), "apply", "noqa", "--from", str(report), "--root", str(root), "--jobs", "2", "-q"],
            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        time.sleep(delay)
        sent = time.monotonic()
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"{sig.name} after {delay}s: still running 15 s later")
        took = time.monotonic() - sent
        seen.append((sig.name, delay, proc.returncode, round(took, 2), err.strip()))
        written = sum(path.read_bytes() == new[path] for path in old)
        assert all(path.read_bytes() in (old[path], new[path]) for path in old)
        assert _temps(root) == [], seen[-1]
        assert "Traceback" not in err and "Aborted" not in err, seen[-1]
        if proc.returncode == 0:  # it had finished
            assert err == "" and written == len(old), seen[-1]
            continue
        assert proc.returncode == 130, seen[-1]
        match = ONE_LINE.fullmatch(err.strip())
        assert match and err.count("\n") == 1, seen[-1]
        assert written == int(match.group(1) or 0), seen[-1]
        assert took < 5, seen[-1]
        assert not [p for p in root.parent.iterdir() if p.name.startswith("core")]
    print("\n".join(map(str, seen)))
    assert sum(code == 130 for _, _, code, _, _ in seen) >= len(trials) // 2  # most were mid-run


@pytest.mark.parametrize(("sig", "argv", "line"), [
    (signal.SIGINT, ["apply", "noqa"], "interrupted: nothing written"),
    (signal.SIGTERM, ["triage"], "interrupted"),
])
def test_a_signal_while_the_command_starts_is_one_line(sig: signal.Signals, argv: list[str], line: str) -> None:
    """A Ctrl-C that lands while the CLI is still importing (on a loaded machine that is hundreds of
    milliseconds): the console script's first handler answers it, no import traceback, exit 130.
    The child stops itself at the moment it would import click, so the timing is exact."""
    child = (
        "import os, signal, sys, time\n"
        "import codemods._entry as entry\n"
        f"sys.argv = ['stabfix', *{argv!r}]\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click':\n"
        f"            os.kill(os.getpid(), {int(sig)})\n"
        "            time.sleep(5)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Stop())\n"
        "entry.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr, done.stdout) == (130, line + "\n", "")


def test_an_interrupt_while_renaming_reports_what_was_written(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 100)
    old = {p: p.read_bytes() for p in root.rglob("*.py")}
    put, calls, main = writer.Writer._put, [], threading.main_thread().ident
    assert main is not None

    def put_then_interrupt(path: Path, change: Any, tmp: Path | None) -> None:
        if len(calls) >= 30:
            time.sleep(0.02)  # a slow disk: the threads are still renaming when the signal lands
        put(path, change, tmp)
        calls.append(path)
        if len(calls) == 30:  # Ctrl-C while the writer's threads are renaming
            signal.pthread_kill(main, signal.SIGINT)

    monkeypatch.setattr(writer.Writer, "_put", staticmethod(put_then_interrupt))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(writer.Interrupted) as info:
            codemods.apply("noqa", root=root, mode="write", from_report=str(report), jobs=2)
    finally:
        signal.signal(signal.SIGINT, previous)
    changed = [p for p, data in old.items() if p.read_bytes() != data]
    assert 30 <= info.value.written == len(changed) < len(old)
    assert _temps(root) == []
    assert not engine._POOLS  # the workers were stopped


def recorded_pool_sizes(monkeypatch: Any) -> list[int]:
    """The worker counts the engine asks process pools for (on a machine of 4 CPUs); each pool
    then really runs one worker."""
    sizes: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    class Recording(real):  # type: ignore[misc, valid-type]
        def __init__(self, max_workers: int, **kwargs: Any) -> None:
            sizes.append(max_workers)
            super().__init__(max_workers=1, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Recording)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    return sizes


def test_workers_are_capped_by_cpus_and_files(tmp_path: Path, monkeypatch: Any) -> None:
    """``[tool.stabfix] jobs = 300`` over 60 files started 300 worker processes."""
    root = tmp_path / "repo"
    report = _repo(root, 60, jobs=300)
    sizes = recorded_pool_sizes(monkeypatch)
    codemods.apply("noqa", root=root, from_report=str(report))
    codemods.apply("noqa", root=root, from_report=str(report), jobs=64)
    monkeypatch.setattr(os, "cpu_count", lambda: 1000)
    codemods.apply("noqa", root=root, from_report=str(report))
    assert sizes == [4, 4, 60]  # the CPUs, the CPUs (--jobs too), the files
    assert engine.default_jobs() == 1000 and engine.default_jobs(300) == 300
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert engine.default_jobs(8) == 1
