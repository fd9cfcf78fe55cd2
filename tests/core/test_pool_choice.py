"""Without --jobs, the engine runs a sample of the files here and pools the rest only when the
measured costs say a pool finishes sooner (never slower than --jobs 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import codemods
from codemods.core import engine
from tests.core.test_interrupts import _repo, recorded_pool_sizes


def test_cheap_files_stay_in_one_process_unless_jobs_is_given(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 200)
    sizes = recorded_pool_sizes(monkeypatch)
    auto = codemods.make_plan("noqa", root=root, from_report=str(report))
    assert sizes == []  # a comment per line: the pool would cost more than it saves
    given = codemods.make_plan("noqa", root=root, from_report=str(report), jobs=4)
    assert sizes == [4]
    assert [(f.path, f.status) for f in auto.files] == [(f.path, f.status) for f in given.files]
    assert [c.new for c in auto.changes] == [c.new for c in given.changes] and len(auto.changes) == 200


def test_costly_files_are_pooled_from_the_sample_on(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 120)
    sizes = recorded_pool_sizes(monkeypatch)
    monkeypatch.setattr(engine, "_pool_pays", lambda *a: True)
    plan = codemods.make_plan("noqa", root=root, from_report=str(report))
    assert sizes == [4] and len(plan.changes) == 120  # the sample here, the rest in the pool
    serial = codemods.make_plan("noqa", root=root, from_report=str(report), jobs=1)
    assert [(f.path, f.status) for f in plan.files] == [(f.path, f.status) for f in serial.files]
    assert [c.new for c in plan.changes] == [c.new for c in serial.changes]


def test_a_cost_seen_later_still_gets_the_pool(tmp_path: Path, monkeypatch: Any) -> None:
    """The sample said no; the files after it cost more: a later check (on all files run here)
    pools the rest, and the plan is the same as one process's."""
    root = tmp_path / "repo"
    report = _repo(root, 160)
    sizes = recorded_pool_sizes(monkeypatch)
    seen: list[int] = []

    def pays(fixer: Any, sampled: int, left: int, costs: Any, jobs: int, files: int, threads: float = 0.0) -> bool:
        if files not in seen:  # one check asks per byte and per file
            seen.append(files)
        return len(seen) == 3

    monkeypatch.setattr(engine, "_pool_pays", pays)
    plan = codemods.make_plan("noqa", root=root, from_report=str(report))
    sample = max(engine.SAMPLE_FILES, int(160 * engine.SAMPLE_SHARE))
    assert seen == [160 - sample - k * engine.RECHECK_FILES for k in range(3)] and sizes == [4]
    serial = codemods.make_plan("noqa", root=root, from_report=str(report), jobs=1)
    assert [(f.path, f.status) for f in plan.files] == [(f.path, f.status) for f in serial.files]
    assert [c.new for c in plan.changes] == [c.new for c in serial.changes] and len(plan.changes) == 160


def test_the_model() -> None:
    mb = 1 << 20
    fixer: Any = object()
    # libcst-like: 2 us per byte to fix, results small: a pool of 4 pays on 20 MB
    assert engine._pool_pays(fixer, mb, 20 * mb, (2.0, 0.01, 0.0), 4, 1000)
    # like noqa: 50 ns per byte, results the size of the files: one process
    assert not engine._pool_pays(fixer, mb, 13 * mb, (0.05, 0.004, 0.0), 2, 1000)
    # too few files, or nothing measured
    assert not engine._pool_pays(fixer, mb, 20 * mb, (2.0, 0.01, 0.0), 4, 10)
    assert not engine._pool_pays(fixer, 0, 20 * mb, (0.0, 0.0, 0.0), 4, 1000)


def test_the_writer_threads_share_the_cpus(monkeypatch: Any) -> None:
    """A write's threads take CPU time too: on 2 CPUs, a pool that would pay without them does not
    once they need as much as the fixing itself."""
    mb = 1 << 20
    fixer: Any = object()
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 2)
    assert engine._pool_pays(fixer, mb, 13 * mb, (0.2, 0.004, 0.0), 2, 1000)
    assert not engine._pool_pays(fixer, mb, 13 * mb, (0.2, 0.004, 0.0), 2, 1000, 0.3)
