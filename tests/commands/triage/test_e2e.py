"""End to end on the sample repository: a real red CI run -> `triage --apply --write` -> the same CI green.

The copy of the sample repository gets failures of several kinds, the way a real monorepo has them:
two memory-heavy tests that crash their xdist worker when they run at the same time (the OOM killer,
simulated with SIGKILL), a callback test that asserts async state too early on its first attempt,
the sample's provider test that hits a connection error on its first attempt, the proxy tests that
get 401s, a module with a ruff and a mypy error, and schema.prisma copies that differ. Each CI job
is run exactly as `.circleci/config.yml` says (its pytest command line, with the JUnit path moved
into the log folder), plus ruff, mypy and `diff -q` steps; their output becomes `<job>.log`.
An unexplained failure that passes when CircleCI reruns it (a second JUnit report) is flaky.
`stabfix triage --apply --write` then fixes the repository, and every job is run again from the
(now changed) config: all green. The retry plugin the sample pins (pytest-retry) is installed from
requirements-test.txt; retries only pass because the fixers added the marks.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.fake_circleci import config_pytest_jobs  # each job's pytest line of the config

HEAVY = '''"""Memory-heavy tests: two at once exhaust the container (the kernel kills the worker)."""

import os
import signal
import time
from pathlib import Path

DIR = Path(os.environ.get("STABFIX_HEAVY_DIR", "."))


def _heavy(name, other):
    me = DIR / f"{name}.running"
    me.write_text(str(os.getpid()))
    deadline = time.time() + 2.0
    while time.time() < deadline:
        if (DIR / f"{other}.running").exists():
            os.kill(os.getpid(), signal.SIGKILL)  # two heavy tests at once: the OOM killer
        time.sleep(0.02)
    me.unlink()


def test_embedding_cache_warmup():
    _heavy("warmup", "batch")


def test_router_big_batch():
    _heavy("batch", "warmup")
'''

TIMING = '''"""A callback test that asserts async state right after the action (fails when the logger is slow)."""

import asyncio
import os


def test_success_callback_logged():
    path = os.environ["STABFIX_TIMING_FILE"]
    count = int(open(path).read() or 0) if os.path.exists(path) else 0
    with open(path, "w") as fh:
        fh.write(str(count + 1))

    async def main():
        logged = asyncio.Event()

        async def logger():
            await asyncio.sleep(5 if count == 0 else 0.01)  # a cold start on the first attempt
            logged.set()

        task = asyncio.ensure_future(logger())
        await asyncio.wait_for(logged.wait(), timeout=0.5)
        await task

    asyncio.run(main())
'''

RATIO = '''"""A cache test whose outcome depends on what ran before it (passes when rerun alone)."""

import os


def test_cache_hit_ratio():
    path = os.environ["STABFIX_RATIO_FILE"]
    count = int(open(path).read() or 0) if os.path.exists(path) else 0
    with open(path, "w") as fh:
        fh.write(str(count + 1))
    hits = 5 if count == 0 else 9
    assert hits / 10 > 0.5
'''

LINT_DEBT = '''"""Helpers with lint and type debt."""

import json


def spend(value: str) -> int:
    total: int = value
    return total
'''


def _run_job(repo: Path, logs: Path, job: str, argv: list[str], env: dict[str, str]) -> int:
    args = [sys.executable if a == "python" else a for a in argv]
    args = [f"--junitxml={logs / (job + '.junit.xml')}" if a.startswith("--junitxml") else a for a in args
            if not a.startswith("--timeout")]  # pytest-timeout is not installed here
    proc = subprocess.run([*args, "-p", "no:cacheprovider"], cwd=repo, env=env, capture_output=True, text=True,
                          check=False, timeout=300)
    (logs / f"{job}.log").write_text(f"====>> Run tests\n#!/bin/bash -eo pipefail\n{shlex.join(argv)}\n"
                                     f"{proc.stdout}{proc.stderr}Exited with code exit status {proc.returncode}\n")
    return proc.returncode


def _run_step(repo: Path, logs: Path, job: str, argv: list[str]) -> int:
    proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False, timeout=300)
    # ruff's JSON ends without a newline: CircleCI's "Exited with code" line runs into it
    (logs / f"{job}.log").write_text(f"====>> {job}\n#!/bin/bash -eo pipefail\n{shlex.join(argv)}\n"
                                     f"{proc.stdout}{proc.stderr}Exited with code exit status {proc.returncode}\n")
    return proc.returncode


def _ci(repo: Path, logs: Path, env: dict[str, str]) -> dict[str, int]:
    """Run the pipeline: the config's pytest jobs, then ruff, mypy and the schema-copy check."""
    logs.mkdir(parents=True, exist_ok=True)
    for marker in Path(env["STABFIX_HEAVY_DIR"]).glob("*.running"):
        marker.unlink()  # a killed worker leaves its marker behind
    for name in ("STABFIX_ATTEMPTS_FILE", "STABFIX_TIMING_FILE", "STABFIX_RATIO_FILE"):
        Path(env[name]).unlink(missing_ok=True)  # every run starts with a failing first attempt
    codes = {job: _run_job(repo, logs, job, argv, env) for job, argv in config_pytest_jobs(repo).items()}
    bindir = Path(sys.executable).parent
    codes["ruff_lint"] = _run_step(repo, logs, "ruff_lint", [str(bindir / "ruff"), "check", "--isolated",
                                                             "--output-format", "json", "litellm"])
    codes["mypy_linting"] = _run_step(repo, logs, "mypy_linting", [
        str(bindir / "mypy"), "--no-incremental", "--show-column-numbers", "--no-pretty", "--follow-imports=skip",
        "litellm/proxy/lint_debt.py"])
    codes["check_schema_copies"] = _run_step(repo, logs, "check_schema_copies",
                                             ["diff", "-q", "litellm/proxy/schema.prisma", "schema.prisma"])
    return codes


@pytest.mark.slow
def test_triage_apply_write_turns_the_sample_ci_green(sample_repo: Path, tmp_path: Path) -> None:
    pytest.importorskip("pytest_retry")
    repo = sample_repo
    (repo / "tests" / "local_testing" / "test_memory_heavy.py").write_text(HEAVY)
    (repo / "tests" / "local_testing" / "test_callbacks.py").write_text(TIMING)
    (repo / "tests" / "local_testing" / "test_cache_ratio.py").write_text(RATIO)
    (repo / "litellm" / "proxy" / "lint_debt.py").write_text(LINT_DEBT)
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as fh:  # quick retries in this test
        fh.write("\n[tool.stabfix.flaky]\ndelay = 0\n")
    state = tmp_path / "state"
    state.mkdir()
    env = {**os.environ, "STABFIX_HEAVY_DIR": str(state), "STABFIX_ATTEMPTS_FILE": str(state / "attempts"),
           "STABFIX_TIMING_FILE": str(state / "timing"), "STABFIX_RATIO_FILE": str(state / "ratio"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("LITELLM_MASTER_KEY", None)
    env.pop("PYTEST_XDIST_WORKER", None)

    before = _ci(repo, tmp_path / "ci-red", env)
    assert all(code != 0 for code in before.values()), before
    # CircleCI's "rerun failed tests" of the unexplained failure: it passes alone, a second JUnit report
    rerun = subprocess.run([sys.executable, "-m", "pytest", "tests/local_testing/test_cache_ratio.py", "-p",
                            "no:cacheprovider", f"--junitxml={tmp_path / 'ci-red' / 'rerun' / 'local_testing.junit.xml'}"],
                           cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert rerun.returncode == 0, rerun.stdout

    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(tmp_path / "ci-red"), "--root", str(repo),
                           "--out", str(tmp_path / "reports"), "--apply", "--write", "--json"],
                          capture_output=True, text=True, check=False, timeout=600)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, [r for r in data["apply"]["runs"] if r["error"] or r["exit_code"]]
    found = {c["name"]: sorted(f["id"] for f in c["failures"]) for c in data["categories"]}
    assert found["parallel"] == ["tests/local_testing/test_memory_heavy.py::test_embedding_cache_warmup",
                                 "tests/local_testing/test_memory_heavy.py::test_router_big_batch"]
    assert found["timing"] == ["tests/local_testing/test_callbacks.py::test_success_callback_logged"]
    assert found["external"] == ["tests/local_testing/test_provider_calls.py::test_completion_retries_on_connection_error"]
    assert found["auth"] == [
        "tests/proxy_unit_tests/test_key_management.py::test_generate_key_as_admin",
        "tests/proxy_unit_tests/test_key_management.py::test_spend_logs_as_admin",
        "tests/proxy_unit_tests/test_proxy_auth_shapes.py::TestKeyGenerate::test_generate_key_records_user",
        "tests/proxy_unit_tests/test_proxy_auth_shapes.py::test_model_list_over_module_client",
        "tests/proxy_unit_tests/test_proxy_auth_shapes.py::test_spend_logs_over_module_client",
        "tests/proxy_unit_tests/test_proxy_routes.py::TestKeyList::test_list_keys",
        "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[alice]",
        "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[bob]",
        "tests/proxy_unit_tests/test_proxy_routes.py::test_model_list",
        "tests/proxy_unit_tests/test_team_router.py::test_team_list",
        "tests/proxy_unit_tests/test_team_router.py::test_team_whoami",
    ]
    ruff_count = len(json.loads((tmp_path / "reports" / "ruff.json").read_text()))
    assert found["lint-type"] == ["mypy: 1 errors", f"ruff: {ruff_count} diagnostics"] and ruff_count > 1
    assert found["version-schema"] == ["check_schema_copies: schema.prisma copies differ"]
    assert found["flaky"] == ["tests/local_testing/test_cache_ratio.py::test_cache_hit_ratio"]
    assert "unknown" not in found
    runs = data["apply"]["runs"]
    assert [r for r in runs if r["error"] or r["exit_code"]] == []
    assert sorted(r["argv"][2] for r in runs) == ["auth", "auth-unpatch", "dist", "flaky", "noqa", "prisma-sync",
                                                  "type-ignore", "workers", "xdist-group"]
    config = (repo / ".circleci" / "config.yml").read_text()
    assert "--durations=5 -n 4 --dist loadgroup" in config  # workers --to 4, dist --mode loadgroup

    after = _ci(repo, tmp_path / "ci-green", env)
    assert after == {job: 0 for job in before}, {j: (tmp_path / "ci-green" / f"{j}.log").read_text()[-3000:]
                                                  for j, c in after.items() if c}
    # the retries really happened: the first attempts failed again and the flaky marks retried them
    green = (tmp_path / "ci-green" / "local_testing.log").read_text()
    assert "test_completion_retries_on_connection_error" in green and "retried" in green
