"""xdist-group (fixture cases: tests/fixers/test_fixture_cases.py): node-id selection, warnings, and a real xdist run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods.errors import UsageError


def test_group_required(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_a():\n    pass\n")
    with pytest.raises(UsageError, match="--group"):
        codemods.apply("xdist-group", ["test_x.py"], root=tmp_path)


def test_only_selects_files_and_reports_unknown_ids(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (tmp_path / "tests" / "test_b.py").write_text("def test_b():\n    pass\n")
    report = codemods.apply("xdist-group", ["tests"], root=tmp_path, group="g",
                            only=["tests/test_a.py::test_a", "tests/test_zzz.py::test_z"])
    assert [f.path for f in report.changed] == ["tests/test_a.py"]
    assert any("test_zzz.py" in n.message for n in report.plan.notices)


def test_non_test_modules_are_not_touched(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("def test_like():\n    pass\n")
    (tmp_path / "tests" / "conftest.py").write_text("import pytest\n")
    report = codemods.apply("xdist-group", ["tests"], root=tmp_path, group="g")
    assert report.plan.files == []


def test_warns_without_loadgroup_and_on_bad_pins(sample_repo: Path) -> None:
    (sample_repo / "requirements.txt").write_text("pytest==9.2.0\npytest-xdist==3.8.0\n")
    report = codemods.apply("xdist-group", ["tests/local_testing"], root=sample_repo, group="heavy")
    messages = " ".join(n.message for n in report.plan.notices)
    assert "--dist loadgroup" in messages and ".circleci/config.yml:26" in messages
    assert ".circleci/config.yml:40" not in messages  # that job runs tests/proxy_unit_tests only
    assert "pytest-xdist #1386" in messages


def test_no_loadgroup_warning_when_ci_passes_it(sample_repo: Path) -> None:
    config = sample_repo / ".circleci" / "config.yml"
    config.write_text(config.read_text().replace("-n 8", "-n 8 --dist loadgroup"))
    report = codemods.apply("xdist-group", ["tests/local_testing"], root=sample_repo, group="heavy")
    assert not any("loadgroup" in n.message for n in report.plan.notices)


def test_grouped_tests_run_on_one_worker(sample_repo: Path, tmp_path: Path) -> None:
    """End to end: after the fixer, pytest -n 2 --dist loadgroup runs the group on one worker."""
    # Enough ungrouped tests to keep both workers busy, so grouping is what keeps the group together.
    filler = "".join(f"def test_filler_{i}():\n    import time; time.sleep(0.02)\n\n\n" for i in range(30))
    (sample_repo / "tests" / "local_testing" / "test_filler.py").write_text(filler)
    report = codemods.apply("xdist-group", ["tests/local_testing/test_router_heavy.py"], root=sample_repo,
                            group="router_heavy", mode="write")
    assert report.exit_code == 0 and len(report.changed) == 1
    log = tmp_path / "workers.log"
    env = {**os.environ, "STABFIX_WORKER_LOG": str(log)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist", "-n", "2", "--dist", "loadgroup", "-q",
         "tests/local_testing/test_router_heavy.py", "tests/local_testing/test_filler.py"],
        cwd=sample_repo, env=env, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line.split() for line in log.read_text().splitlines()]
    assert len(lines) == 5  # 2 plain tests + 3 parametrized
    workers = {worker for _, worker in lines}
    assert len(workers) == 1 and workers.pop().startswith("gw")
    # the node ids carry the group suffix that xdist uses to schedule them together
    assert "@router_heavy" in subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "tests/local_testing/test_router_heavy.py"],
        cwd=sample_repo, env=env, capture_output=True, text=True, check=False,
    ).stdout
