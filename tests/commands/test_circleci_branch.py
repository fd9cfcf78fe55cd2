"""The CI branch rule: `[tool.stabfix.ci] branch_pattern`, else `.circleci/config.yml` branch filters;
`stabfix ci branch NAME` creates a branch CircleCI runs (`litellm_` added when missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from codemods.commands.circleci import group
from codemods.commands.circleci.branch import branch_rule, check_branch, matching_name
from codemods.errors import StabfixError

FILTERED = """version: 2.1
jobs:
  lint: {docker: [{image: cimg/python:3.11}], steps: [checkout]}
  test: {docker: [{image: cimg/python:3.11}], steps: [checkout]}
filters: &only_work
  branches:
    only: /litellm_.*/
workflows:
  build_and_test:
    jobs:
      - lint:
          filters: *only_work
      - test:
          filters:
            branches:
              only:
                - /litellm_.*/
                - release
"""


def _repo(tmp_path: Path, config: str | None = FILTERED, pyproject: str = "") -> Path:
    root = tmp_path / "repo"
    (root / ".circleci").mkdir(parents=True)
    if config is not None:
        (root / ".circleci" / "config.yml").write_text(config)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n' + pyproject)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "init"], cwd=root, check=True)
    return root


def test_rule_from_the_config_filters(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    rule = branch_rule(root)
    assert rule.source == ".circleci/config.yml branch filters"
    assert rule.pattern == "(?:litellm_.*)|(?:release)"
    assert [rule.matches(b) for b in ("litellm_fix", "release", "fix", "xlitellm_a", "release2")] == [
        True, True, False, False, False]  # the whole name must match, as CircleCI's filters do
    assert check_branch(root, "litellm_fix") == rule
    with pytest.raises(StabfixError, match=r"branch 'fix' does not match .*CircleCI would not run it"):
        check_branch(root, "fix")
    for protected in ("main", "master"):
        with pytest.raises(StabfixError, match=f"refusing to push to {protected}"):
            check_branch(root, protected)
    for bad in ("a..b", "-x", "x y", "x.lock", ""):
        with pytest.raises(StabfixError, match="not a branch name"):
            check_branch(root, bad)


def test_a_job_without_filter_means_every_branch_runs(tmp_path: Path) -> None:
    config = FILTERED.replace("      - lint:\n          filters: *only_work\n", "      - lint\n")
    rule = branch_rule(_repo(tmp_path, config))
    assert rule.pattern is None and rule.matches("anything")
    assert branch_rule(_repo(tmp_path / "none", None)).pattern is None


def test_pyproject_wins_and_is_validated(tmp_path: Path) -> None:
    root = _repo(tmp_path, pyproject='[tool.stabfix.ci]\nbranch_pattern = "ci/.*"\n')
    rule = branch_rule(root)
    assert (rule.pattern, rule.source) == ("ci/.*", "[tool.stabfix.ci] branch_pattern")
    assert matching_name(root, "fix") == "ci/fix"
    bad = _repo(tmp_path / "bad", pyproject='[tool.stabfix.ci]\nbranch_pattern = "litellm_(.*"\n')
    with pytest.raises(StabfixError, match="is not a regular expression"):
        branch_rule(bad)
    unknown = _repo(tmp_path / "unknown", pyproject='[tool.stabfix.ci]\npattern = "x"\n')
    with pytest.raises(StabfixError, match="unknown key `pattern`"):
        branch_rule(unknown)
    # the fixers accept the table too (it is a shared table, not a fixer)
    from codemods import api

    report = api.apply("workers", root=root, mode="diff", to=2)
    assert report.exit_code == 0


def test_ci_branch_creates_a_matching_branch(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    runner = CliRunner()
    result = runner.invoke(group, ["branch", "fix-auth", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output == "created and switched to litellm_fix-auth\n"
    head = subprocess.run(["git", "branch", "--show-current"], cwd=root, capture_output=True, text=True, check=True)
    assert head.stdout.strip() == "litellm_fix-auth"
    # already prefixed: kept; a clash is one line, exit 2
    result = runner.invoke(group, ["branch", "litellm_fix-auth", "--root", str(root)])
    assert result.exit_code == 2 and "cannot create branch litellm_fix-auth: fatal: a branch named" in result.stderr
    result = runner.invoke(group, ["branch", "--check", "fix", "--root", str(root)])
    assert result.exit_code == 1 and result.output.startswith("fix: does not run on CircleCI ((?:litellm_.*)|")
    result = runner.invoke(group, ["branch", "--check", "release", "--root", str(root)])
    assert result.exit_code == 0
    # no filter at all: the LiteLLM prefix is still added
    assert matching_name(_repo(tmp_path / "plain", None), "fix") == "litellm_fix"
