"""`stabfix loop` end to end against a loopback CircleCI whose pipelines are real.

The fake (tests/commands/fake_circleci.py) serves CircleCI's API; a push to its bare repository
(`origin`) runs a pipeline through the repository's post-receive hook: the pushed commit is checked
out and its jobs run for real, each pytest job of its `.circleci/config.yml` as written (xdist
`-n 8`), plus ruff (JSON, the shape of the sample's `ci-logs/ruff.json`) and mypy (the shape of
`ci-logs/mypy.txt`). Step output and JUnit results are served as CircleCI's API does.

The sample repository's red state: B008 lint errors and two mypy errors, proxy tests that get 401
(some patch the auth dependency with unittest.mock, which FastAPI ignores), a provider test whose
first attempt hits a connection error, and two memory-heavy tests that crash their xdist worker
when they run at the same time (the OOM killer, simulated with SIGKILL as in triage's end-to-end
test; the module is written into the test's copy only). The CI branch filter is `litellm_.*`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.fake_circleci import SLUG, TOKEN, FakeCircleCI, GitPipelines
from tests.commands.triage.test_e2e import HEAVY  # the crashing heavy-test module of the triage e2e
from tests.conftest import run_stabfix

FILTER = "\n          filters:\n            branches:\n              only: /litellm_.*/"
UNFIXABLE = '''"""A cache test with a real bug: no stabfix fixer can help."""


def test_eviction_order():
    assert ["b", "a"] == ["a", "b"]
'''


@pytest.fixture
def fake() -> Iterator[FakeCircleCI]:
    with FakeCircleCI(page_size=3) as server:
        yield server


def _prepare(repo: Path, tmp_path: Path, fake: FakeCircleCI, extra: dict[str, str]) -> tuple[GitPipelines, dict[str, str]]:
    (repo / "tests" / "local_testing" / "test_memory_heavy.py").write_text(HEAVY)
    for rel, text in extra.items():
        (repo / rel).write_text(text)
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as fh:  # quick retries in this test
        fh.write("\n[tool.stabfix.flaky]\ndelay = 0\n")
    config = repo / ".circleci" / "config.yml"
    text = config.read_text()
    for job in ("local_testing", "proxy_unit_testing", "build_docs"):
        text = text.replace(f"      - {job}\n", f"      - {job}:{FILTER}\n")
    config.write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "red state"], cwd=repo, check=True)
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "ci").mkdir()

    def reset(checkout: Path, job: str) -> None:  # every pipeline starts with failing first attempts
        for marker in state.glob("*.running"):
            marker.unlink()
        (state / "attempts").unlink(missing_ok=True)

    pipelines = GitPipelines(fake, tmp_path / "ci", env={"STABFIX_HEAVY_DIR": str(state),
                                                        "STABFIX_ATTEMPTS_FILE": str(state / "attempts")},
                             before_job=reset)
    subprocess.run(["git", "remote", "add", "origin", str(pipelines.bare)], cwd=repo, check=True)
    env = {"CIRCLECI_TOKEN": TOKEN, "CIRCLECI_API_URL": fake.url, "PYTHONDONTWRITEBYTECODE": "1"}
    return pipelines, env


def _branch(repo: Path, env: dict[str, str]) -> str:
    check = run_stabfix("ci", "branch", "--check", "fix-ci", "--root", repo, env=env)
    assert check.returncode == 1
    assert check.stdout == "fix-ci: does not run on CircleCI (litellm_.*; .circleci/config.yml branch filters)\n"
    proc = run_stabfix("ci", "branch", "fix-ci", "--root", repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "created and switched to litellm_fix-ci\n"  # the rule came from the config's filters
    return "litellm_fix-ci"


@pytest.mark.slow
def test_loop_turns_the_sample_green(sample_repo: Path, tmp_path: Path, fake: FakeCircleCI) -> None:
    pytest.importorskip("pytest_retry")
    repo = sample_repo
    pipelines, env = _prepare(repo, tmp_path, fake, {})
    branch = _branch(repo, env)
    report = tmp_path / "loop.md"
    proc = run_stabfix("loop", "--project", SLUG, "--branch", branch, "--root", repo, "--interval", "0.2",
                       "--timeout", "10m", "--max-rounds", "4", "--report", report, env=env)
    pipelines.wait()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out + json.dumps(pipelines.runs, indent=1)
    assert TOKEN not in out and TOKEN not in report.read_text()
    # the first pipeline was red in every job; the loop needed one round
    first, *rest = pipelines.runs
    assert {job: code != 0 for job, (code, _) in first["jobs"].items()} == {
        "local_testing": True, "proxy_unit_testing": True, "ruff_lint": True, "mypy_linting": True}
    assert len(rest) == 1 and all(code == 0 for code, _ in rest[0]["jobs"].values()), rest
    assert "stabfix loop: green after 1 round(s) (exit 0)" in proc.stdout
    # one commit per round, listing the fixes by category; pushed, never forced, to the work branch only
    log = subprocess.run(["git", "log", "--format=%s%n%b", "-1"], cwd=repo, capture_output=True, text=True,
                         check=True).stdout
    assert log.startswith("stabfix loop round 1: ")
    for line in (r"- lint-type: noqa \(1 file\), type-ignore \(1 file\)",
                 r"- parallel: workers \(1 file\), xdist-group \(1 file\), dist \(1 file\)",
                 r"- auth: auth \(\d+ files?\), auth-unpatch \(1 file\)", r"- external: flaky \(1 file\)"):
        assert re.search(line, log), log
    heads = subprocess.run(["git", "ls-remote", str(pipelines.bare)], capture_output=True, text=True,
                           check=True).stdout
    assert "refs/heads/main" not in heads and f"refs/heads/{branch}" in heads
    # the tree is clean (only fixers' files were committed) and requirements.txt was not touched
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout == ""
    changed = subprocess.run(["git", "diff", "--name-only", "HEAD~1"], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "requirements.txt" not in changed and ".circleci/config.yml" in changed
    md = report.read_text()
    assert md.startswith(f"# stabfix loop: {SLUG} {branch}\n")
    assert "- result: **green after 1 round(s)** (exit 0)" in md
    assert re.search(r"\| auth \| \d+ \|", md) and "| lint-type | 2 |" in md
    assert re.search(r"Next pipeline \d+ \([\w-]+\): success", md)
    assert re.search(r"Durations: fetch [\d.]+ s, triage [\d.]+ s, fix [\d.]+ s, checks [\d.]+ s, "
                     r"commit\+push [\d.]+ s, watch [\d.]+ s", md)
    print(md)
    print(json.dumps(pipelines.runs, indent=1))


@pytest.mark.slow
def test_loop_stops_and_names_a_failure_without_a_mechanical_fix(sample_repo: Path, tmp_path: Path,
                                                                  fake: FakeCircleCI) -> None:
    pytest.importorskip("pytest_retry")
    repo = sample_repo
    pipelines, env = _prepare(repo, tmp_path, fake, {"tests/local_testing/test_cache_bug.py": UNFIXABLE})
    branch = _branch(repo, env)
    proc = run_stabfix("loop", "--project", SLUG, "--branch", branch, "--root", repo, "--interval", "0.2",
                       "--timeout", "10m", env=env)
    pipelines.wait()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert len(pipelines.runs) == 2  # round 1 fixed the rest; round 2 found nothing mechanical
    assert ("needs a person: unknown: tests/local_testing/test_cache_bug.py::test_eviction_order"
            in proc.stdout), proc.stdout
    assert "stabfix loop: nothing mechanical left; needs a person: unknown: " in proc.stdout
    md = (repo / ".stabfix" / "loop" / "report.md").read_text()
    assert "## Round 2" in md and "Needs a person:" in md and "test_eviction_order" in md
    assert subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout == ""
