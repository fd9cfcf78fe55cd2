"""`stabfix loop`: what it refuses before anything happens, a dry run, and its report.

The end-to-end rounds against real pipelines are in test_loop_e2e.py (slow); these are fast: the
refusals happen before the token is read or any request is made, and the dry run reads a scripted
pipeline of the fake whose ruff step printed real ruff output for the sample.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from codemods.commands.loop import (
    LoopOptions,
    LoopResult,
    Round,
    command,
    commit_message,
    render_report,
)
from tests.commands.fake_circleci import SLUG, TOKEN, FakeCircleCI, FakeJob

FILTERED = "\n          filters:\n            branches:\n              only: /litellm_.*/"


@pytest.fixture
def fake() -> Iterator[FakeCircleCI]:
    with FakeCircleCI() as server:
        yield server


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(sample_repo: Path, tmp_path: Path) -> Path:
    config = sample_repo / ".circleci" / "config.yml"
    config.write_text(config.read_text().replace("      - local_testing\n", f"      - local_testing:{FILTERED}\n")
                      .replace("      - proxy_unit_testing\n", f"      - proxy_unit_testing:{FILTERED}\n")
                      .replace("      - build_docs\n", f"      - build_docs:{FILTERED}\n"))
    _git(sample_repo, "commit", "-qam", "CI branch filter")
    _git(sample_repo, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    _git(sample_repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    _git(sample_repo, "switch", "-qc", "litellm_fix")
    return sample_repo


def _loop(repo: Path, fake: FakeCircleCI, *args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    env = {"CIRCLECI_API_URL": fake.url, "CIRCLECI_TOKEN": token or ""}
    result = CliRunner().invoke(command, ["--project", SLUG, "--root", str(repo), "--interval", "0", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("dirty", ["--branch", "litellm_fix"], "the work tree has uncommitted changes (litellm/utils.py); commit or stash"),
    ("", ["--branch", "main"], "refusing to push to main: stabfix pushes only to a work branch"),
    ("", ["--branch", "master"], "refusing to push to master"),
    ("", ["--branch", "fix"], "branch 'fix' does not match '/litellm_.*/'"),
    ("", ["--branch", "litellm_other"], "the checked-out branch is 'litellm_fix', not 'litellm_other'"),
    ("", ["--branch", "litellm_fix", "--remote", "upstream"], "no git remote 'upstream'; pass --remote NAME"),
    ("", ["--branch", "litellm_fix", "--project", "BerriAI/litellm"], "expected VCS/ORG/REPO"),
    ("", ["--branch", "litellm_fix", "--timeout", "forever"], "expected a duration"),
    ("token", ["--branch", "litellm_fix"], "CIRCLECI_TOKEN is not set"),
])
def test_refusals_before_any_request(repo: Path, fake: FakeCircleCI, setup: str, args: list[str],
                                     message: str) -> None:
    if setup == "dirty":
        with open(repo / "litellm" / "utils.py", "a") as fh:
            fh.write("# local edit\n")
    code, _, err = _loop(repo, fake, *args, token=None if setup == "token" else TOKEN)
    assert code == 2
    assert err.startswith("error: ") and message.replace("'/litellm_.*/'", "") in err, err
    assert len(err.strip().splitlines()) == 1 and fake.requests == []
    assert _git(repo, "ls-remote", "origin") == ""  # nothing pushed


def test_dry_run_prints_the_fixes_and_changes_nothing(repo: Path, fake: FakeCircleCI) -> None:
    bindir = Path(sys.executable).parent
    ruff = subprocess.run([str(bindir / "ruff"), "check", "--isolated", "--select", "B008", "--output-format", "json",
                           "litellm"], cwd=repo, capture_output=True, text=True, check=False)
    assert ruff.returncode == 1 and '"code": "B008"' in ruff.stdout  # real ruff output, the ci-logs shape
    job = FakeJob("ruff_lint", fake.job_number(), ["running", "failed"],
                  steps=[("Run ruff", "failed", 1, f"#!/bin/bash -eo pipefail\nruff check litellm\n{ruff.stdout}")])
    pipe = fake.add_pipeline("litellm_fix", [job], revision=_git(repo, "rev-parse", "HEAD").strip())
    head = _git(repo, "rev-parse", "HEAD")
    code, out, err = _loop(repo, fake, "--branch", "litellm_fix", "--dry-run")
    assert code == 0, out + err
    assert f"== round 1: pipeline {pipe.number} failed: ruff_lint (#{job.number})" in out
    assert "  lint-type: noqa -> litellm/proxy/proxy_server.py" in out
    assert out.count("# noqa: B008") == 4 and "+++ b/litellm/proxy/proxy_server.py" in out
    assert "stabfix loop: dry run: 1 file(s) would change; nothing written, committed or pushed (exit 0)" in out
    assert _git(repo, "rev-parse", "HEAD") == head and _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "ls-remote", "origin") == ""
    report = (repo / ".stabfix" / "loop" / "report.md").read_text()
    assert "| lint-type | 1 |" in report and "`noqa` → litellm/proxy/proxy_server.py" in report
    assert TOKEN not in out + err + report


def test_a_green_pipeline_needs_no_round(repo: Path, fake: FakeCircleCI) -> None:
    _git(repo, "push", "-q", "origin", "litellm_fix")  # already pushed: the loop does not push again
    fake.add_pipeline("litellm_fix", [FakeJob("lint", fake.job_number(), ["running", "success"])],
                      revision=_git(repo, "rev-parse", "HEAD").strip())
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix")
    assert code == 0 and "stabfix loop: green after 0 round(s) (exit 0)" in out and "push " not in out


def test_a_pipeline_that_never_comes_is_exit_2(repo: Path, fake: FakeCircleCI) -> None:
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix", "--timeout", "0.2s")
    assert code == 2
    assert "push " in out and "watch: timed out after 0s: no pipeline for the commit appeared" in out
    assert _git(repo, "ls-remote", "origin").split()[1] == "refs/heads/litellm_fix"  # pushed, not forced


def test_commit_message_and_report_are_by_category() -> None:
    rnd = Round(2, {"id": "p-1", "number": 7}, "failed: lint (#3)", {"lint-type": 2, "unknown": 1},
                ["unknown: tests/a.py::test_x - assert 1 | 2"],
                [("lint-type", "noqa", ["a.py"]), ("lint-type", "type-ignore", ["a.py", "b.py"])])
    assert commit_message(rnd) == ("stabfix loop round 2: lint-type\n\n- lint-type: noqa (1 file), type-ignore "
                                   "(2 files)\n\nCircleCI pipeline 7 (p-1): failed: lint (#3)\n")
    md = render_report(LoopOptions(SLUG, "litellm_x"), LoopResult(1, "nothing mechanical left", [rnd]))
    assert "## Round 2" in md and "| unknown | 1 |" in md
    assert "- unknown: tests/a.py::test_x - assert 1 \\| 2" in md  # a pipe cannot break the table


def test_requirements_are_never_bumped(repo: Path, fake: FakeCircleCI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `version --include-requirements` proposal is dropped; a fixer that changes requirements.txt
    anyway is undone before the commit, and the round says so."""
    from codemods.commands.triage import core, runner
    from codemods.commands.triage.model import CategoryResult, Command, Finding, Triage
    from codemods.commands.triage.runner import CommandResult

    bump = Command("version", [], [("--set", "0.4.6"), ("--package", "litellm-proxy-extras"),
                                   ("--include-requirements", None)])
    sync = Command("prisma-sync")
    cat = CategoryResult("version-schema", [Finding("pin", "log", "version-schema", "pinned 0.4.5")], [bump, sync])
    monkeypatch.setattr(core, "triage", lambda *a, **k: Triage(categories=[cat]))
    ran: list[list[str]] = []

    def fake_run(commands: list[Command], root: Path, write: bool = False) -> tuple[list[CommandResult], str]:
        ran.extend(c.argv() for c in commands)
        (root / "requirements.txt").write_text("litellm-proxy-extras==0.4.6\n")
        (root / "schema.prisma").write_text((root / "schema.prisma").read_text() + "// synced\n")
        return [CommandResult(sync, ["schema.prisma", "requirements.txt"])], ""

    monkeypatch.setattr(runner, "run_commands", fake_run)
    fake.add_pipeline("litellm_fix", [FakeJob("check", fake.job_number(), ["failed"],
                                              steps=[("Check copies", "failed", 1, "copies differ\n")])],
                      revision=_git(repo, "rev-parse", "HEAD").strip())
    _git(repo, "push", "-q", "origin", "litellm_fix")
    before = (repo / "requirements.txt").read_bytes()
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix", "--timeout", "0.2s")
    assert ran == [["stabfix", "apply", "prisma-sync"]]  # the bump was never proposed to the runner
    assert (repo / "requirements.txt").read_bytes() == before
    assert "requirements.txt: a fixer changed it; restored (stabfix loop never bumps a pin)" in out
    assert _git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["schema.prisma"]
    assert _git(repo, "status", "--porcelain") == ""
    assert code == 2 and "no pipeline for the commit appeared" in out  # the fake runs no pipeline here


def test_stopgaps_only_with_the_flag(repo: Path, fake: FakeCircleCI) -> None:
    """A timing failure's fix (a retry mark) is a stopgap: without --stopgaps the loop stops and names
    the test; with it (here a dry run) the mark is proposed."""
    item = {"classname": "tests.local_testing.test_router_heavy", "name": "test_router_fallbacks", "file": None,
            "result": "failure", "message": "Expected 'log_success' to have been called once. Called 0 times.",
            "run_time": 0.5, "source": "pytest"}
    fake.add_pipeline("litellm_fix", [FakeJob("local_testing", fake.job_number(), ["failed"], [item])],
                      revision=_git(repo, "rev-parse", "HEAD").strip())
    _git(repo, "push", "-q", "origin", "litellm_fix")
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix")
    assert code == 1
    assert ("needs a person: timing: tests/local_testing/test_router_heavy.py::test_router_fallbacks - "
            "Expected 'log_success' to have been called once.") in out
    assert "stabfix loop: nothing mechanical left; needs a person: timing: " in out
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix", "--stopgaps", "--dry-run")
    assert code == 0, out
    assert "  timing: flaky -> tests/local_testing/test_router_heavy.py" in out
    assert "+@pytest.mark.flaky(" in out and _git(repo, "status", "--porcelain") == ""


def test_a_canceled_pipeline_has_nothing_to_triage(repo: Path, fake: FakeCircleCI) -> None:
    fake.add_pipeline("litellm_fix", [FakeJob("lint", fake.job_number(), ["canceled"])],
                      revision=_git(repo, "rev-parse", "HEAD").strip())
    _git(repo, "push", "-q", "origin", "litellm_fix")
    code, out, _ = _loop(repo, fake, "--branch", "litellm_fix")
    assert code == 1
    assert "stabfix loop: nothing to triage; needs a person: pipeline " in out
    assert "not green: workflow build_and_test canceled, but no failed job left a log" in out
