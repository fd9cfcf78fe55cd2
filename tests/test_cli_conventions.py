"""A user's first hour (issue 15): the command line behaves as ruff and black do.

PATHS relative to the current folder, a root found like ruff's project root, unknown fixers with a
close match, honest dry-run summaries, repo-wide fixers that refuse inputs they would ignore,
every config key used or refused, imports where isort puts them, one clear line per error,
PEP 440 versions, and ``-h``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import codemods
from codemods import api
from codemods.commands.demo import copy_sample
from codemods.core import registry
from codemods.core.plan import FileChange, FileResult, Plan
from codemods.errors import StabfixError, UsageError
from tests.conftest import REPO_ROOT, STABFIX, run_stabfix

RUFF = STABFIX.with_name("ruff")


# -- 1. PATHS relative to the current folder; the root ------------------------------------------------

def test_paths_are_relative_to_the_current_folder(sample_repo: Path) -> None:
    out = run_stabfix("apply", "xdist-group", "local_testing", "--group", "heavy", "--diff",
                      cwd=sample_repo / "tests")
    assert out.returncode == 0, out.stderr
    assert "+++ b/tests/local_testing/test_router_heavy.py" in out.stdout


def test_a_missing_path_is_named_once(sample_repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "4", "nope.yml", cwd=sample_repo)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: nope.yml does not exist"


def test_outside_git_the_root_is_the_nearest_pyproject(tmp_path: Path) -> None:
    repo = copy_sample(tmp_path / "repo", git=False)
    out = run_stabfix("apply", "workers", "--to", "4", "--diff", cwd=repo / "tests" / "local_testing",
                      env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "+++ b/.circleci/config.yml" in out.stdout  # not "nothing to do" in the subfolder
    assert api.find_root(repo / "tests" / "local_testing") == repo.resolve()


# -- 2. unknown fixer ---------------------------------------------------------------------------------

def test_unknown_fixer_suggests_the_close_one() -> None:
    out = run_stabfix("apply", "xdist_group")
    assert out.returncode == 2
    line = out.stderr.strip()
    assert line.startswith("error: unknown fixer 'xdist_group'; did you mean 'xdist-group'?"), line
    assert "No such command" not in line and all(name in line for name in registry.names())


def test_the_shared_check_for_fixer_names() -> None:
    registry.check_names(["workers", "dist"])
    with pytest.raises(UsageError, match="unknown fixer 'nosuch'"):
        registry.check_names(["workers", "nosuch"])
    with pytest.raises(UsageError, match="did you mean 'workers'"):
        registry.load("worker")


# -- 3. dry-run summaries ------------------------------------------------------------------------------

def test_dry_run_summary_says_would() -> None:
    files = [FileResult("m/migration.sql", "changed", "new migration", [],
                        FileChange("m/migration.sql", None, b"x", "new migration")),
             FileResult("a.py", "changed", "edited", [], FileChange("a.py", b"a", b"b", "edited"))]
    plan = Plan(fixer="migration", root=Path("/r"), files=files)
    dry = api.Report(plan=plan, mode="diff").summary()
    assert "would create m/migration.sql" in dry and "would change a.py" in dry
    assert "created " not in dry
    done = api.Report(plan=plan, mode="write", applied=True).summary()
    assert "created m/migration.sql" in done and "fixed a.py" in done


# -- 4. repo-wide fixers refuse what they would ignore; list --json matches the flags ----------------

@pytest.mark.parametrize(("args", "named"), [
    (["version", "tests"], "PATHS"),
    (["version", "--include", "x"], "--include"),
    (["prisma-sync", "--exclude", "x"], "--exclude"),
    (["migration", "--name", "x", "-j", "2"], "--jobs"),
    (["workers", "--to", "4", "--jobs", "2"], "--jobs"),
    (["dist", "--jobs", "2"], "--jobs"),
])
def test_repo_fixers_refuse_inputs_they_ignore(sample_repo: Path, args: list[str], named: str) -> None:
    out = run_stabfix("apply", *args, "--diff", cwd=sample_repo)
    assert out.returncode == 2, out.stdout + out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert named in line and "does not use" in line, line


def test_workers_still_takes_ci_files_and_globs(sample_repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "4", ".circleci/config.yml", "--exclude", "Makefile", "--diff",
                      cwd=sample_repo)
    assert out.returncode == 0, out.stderr
    assert "+++ b/.circleci/config.yml" in out.stdout


def test_list_json_flags_are_real_flags() -> None:
    fixers = json.loads(run_stabfix("list", "--json").stdout)
    for fixer in fixers:
        if fixer["name"] not in ("workers", "dist", "version"):
            continue
        help_text = run_stabfix("apply", fixer["name"], "--help").stdout
        for opt in fixer["options"]:
            if opt["flag"] is not None:
                assert opt["flag"] in help_text, (fixer["name"], opt)
        files = [o for o in fixer["options"] if o["key"] == "files"]
        if fixer["name"] in ("workers", "dist"):
            assert files and files[0]["flag"] is None  # a config key, not a flag
    version = next(f for f in fixers if f["name"] == "version")
    assert next(o for o in version["options"] if o["flag"] == "--set")["key"] is None  # not a config key


# -- 5. every [tool.stabfix] key is used or refused ----------------------------------------------------

def _ignored_repo(tmp_path: Path, table: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("tests/test_generated.py\n")
    (repo / "tests" / "test_kept.py").write_text("def test_a():\n    pass\n")
    (repo / "tests" / "test_generated.py").write_text("def test_b():\n    pass\n")
    (repo / "pyproject.toml").write_text(f"[tool.stabfix]\n{table}\n")
    return repo


def test_gitignore_false_is_honoured(tmp_path: Path) -> None:
    repo = _ignored_repo(tmp_path, "gitignore = false")
    out = run_stabfix("apply", "xdist-group", "--group", "g", "--diff", cwd=repo)
    assert out.returncode == 0, out.stderr
    assert "+++ b/tests/test_generated.py" in out.stdout and "+++ b/tests/test_kept.py" in out.stdout
    (repo / "pyproject.toml").write_text("[tool.stabfix]\ngitignore = true\n")
    out = run_stabfix("apply", "xdist-group", "--group", "g", "--diff", cwd=repo)
    assert "test_generated.py" not in out.stdout and "+++ b/tests/test_kept.py" in out.stdout


@pytest.mark.parametrize(("table", "words"), [
    ("gitignor = false", "unknown key `gitignor`"),
    ("[tool.stabfix.prisma]\nsorce = 'x'", "unknown key `sorce`"),
    ("include = [1]", "list of glob strings"),
])
def test_unknown_or_bad_keys_are_refused(tmp_path: Path, table: str, words: str) -> None:
    repo = _ignored_repo(tmp_path, table)
    out = run_stabfix("apply", "xdist-group", "--group", "g", "--diff", cwd=repo)
    assert out.returncode == 2 and words in out.stderr, out.stderr


# -- 6. the README's calls work as written --------------------------------------------------------------

def test_readme_dist_mode_call_works(sample_repo: Path) -> None:
    report = codemods.apply("dist", root=sample_repo, options={"mode": "loadscope"}, job=["local_testing"])
    assert report.options["dist_mode"] == "loadscope"
    assert "--dist loadscope" in report.diff


def test_readme_headline_json_run_writes_nothing() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    head = readme.split("## Quick start")[0]
    for line in head.splitlines():
        if line.startswith("$ stabfix") and "--json" in line:
            assert "--diff" in line or "--check" in line or "writes" in line, line


# -- 7. added imports land where isort puts them -------------------------------------------------------

HEADERS = {
    "stdlib_and_first_party": "import os\n\nimport litellm\nfrom litellm import Router\n",
    "three_sections": "import json\nimport os\n\nimport httpx\nfrom respx import MockRouter\n\n"
                      "import litellm\n",
    "first_party_only": '"""Doc."""\nimport litellm\n',
    "future_stdlib_third": "from __future__ import annotations\n\nimport os\n\nimport yaml\n",
    "from_pytest": "import os\n\nfrom pytest import fixture\n\nimport litellm\n",
    "syspath": "import os\nimport sys\n\nsys.path.insert(0, os.path.abspath('../..'))\nimport litellm\n",
}


@pytest.mark.parametrize("header", sorted(HEADERS))
@pytest.mark.parametrize("fixer", ["xdist-group", "flaky"])
def test_added_import_pytest_is_isort_sorted(tmp_path: Path, header: str, fixer: str) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "litellm").mkdir()
    (repo / "litellm" / "__init__.py").write_text("")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    test = repo / "tests" / "test_x.py"
    test.write_text(HEADERS[header] + "\n\ndef test_x():\n    assert litellm\n")
    before = subprocess.run([RUFF, "check", "--select", "I", "--isolated", "tests"], cwd=repo,
                            capture_output=True, text=True, check=False)
    assert before.returncode == 0, before.stdout  # the input is isort-clean
    args = ["--group", "g"] if fixer == "xdist-group" else \
        ["--only", "tests/test_x.py::test_x", "--plugin", "pytest-retry"]
    out = run_stabfix("apply", fixer, "tests", *args, cwd=repo)
    assert out.returncode == 0, out.stderr
    text = test.read_text()
    assert "import pytest\n" in text
    after = subprocess.run([RUFF, "check", "--select", "I", "--isolated", "tests"], cwd=repo,
                           capture_output=True, text=True, check=False)
    assert after.returncode == 0 and "I001" not in after.stdout, after.stdout + text


# -- 8. messages -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fixer", ["noqa", "type-ignore", "pyright-ignore"])
def test_truncated_json_report_says_so(tmp_path: Path, fixer: str) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "r.json").write_text('{"x":')
    out = run_stabfix("apply", fixer, "--from", "r.json", "--diff", cwd=tmp_path)
    assert out.returncode == 2
    assert "truncated" in out.stderr and "pyright report" not in out.stderr, out.stderr


@pytest.mark.parametrize(("source", "line"), [("def f(:\n    pass\n", 1), ("x = (\n", 1), ("import os\nx = 1 +\n", 2)])
def test_syntax_error_line_is_pythons(tmp_path: Path, source: str, line: int) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "tests" / "test_bad.py").write_text(source)
    out = run_stabfix("apply", "xdist-group", "--group", "g", "--diff", cwd=tmp_path)
    assert out.returncode == 2
    assert f"error: tests/test_bad.py: line {line}: syntax error" in out.stderr, out.stderr


def test_workers_hints_force_when_values_are_below_the_target(sample_repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "16", "--diff", cwd=sample_repo)
    assert out.returncode == 0 and out.stdout == ""
    assert "-n 8" in out.stderr and "--force" in out.stderr, out.stderr


def test_symlink_loop_is_one_clear_line(sample_repo: Path) -> None:
    os.symlink("loop_b.py", sample_repo / "tests" / "loop_a.py")
    os.symlink("loop_a.py", sample_repo / "tests" / "loop_b.py")
    out = run_stabfix("apply", "xdist-group", "--group", "g", "--diff", cwd=sample_repo)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: tests/loop_a.py: is a symlink loop; remove it or --exclude it"
    named = run_stabfix("apply", "xdist-group", "tests/loop_a.py", "--group", "g", "--diff", cwd=sample_repo)
    assert named.returncode == 2 and "internal error" not in named.stderr and "symlink loop" in named.stderr
    excluded = run_stabfix("apply", "xdist-group", "--group", "g", "--exclude", "loop_*", "--diff", cwd=sample_repo)
    assert excluded.returncode == 0, excluded.stderr


def test_huge_version_is_one_clear_line(sample_repo: Path) -> None:
    out = run_stabfix("apply", "version", "--set", "1" + "0" * 5000, "--diff", cwd=sample_repo)
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "internal error" not in line and "too large" in line and len(line) < 200, line


# -- 9. versions are PEP 440, normalised -------------------------------------------------------------------

@pytest.mark.parametrize(("given", "written"), [(" 1.2.3 ", "1.2.3"), ("v1", "1"), ("1.0-RC1", "1.0rc1")])
def test_version_set_is_normalised(sample_repo: Path, given: str, written: str) -> None:
    out = run_stabfix("apply", "version", "--set", given, cwd=sample_repo)
    assert out.returncode == 0, out.stderr
    text = (sample_repo / "litellm-proxy-extras" / "pyproject.toml").read_text()
    assert f'version = "{written}"' in text


def test_invalid_version_is_refused(sample_repo: Path) -> None:
    out = run_stabfix("apply", "version", "--set", "1.2.x", cwd=sample_repo)
    assert out.returncode == 2 and "not a PEP 440 version" in out.stderr


# -- 10. -h -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["-h"], ["list", "-h"], ["apply", "-h"], ["apply", "workers", "-h"],
                                  ["demo", "-h"]])
def test_dash_h_is_help(argv: list[str]) -> None:
    out = run_stabfix(*argv)
    assert out.returncode == 0, out.stderr
    assert "Usage: stabfix" in out.stdout and "-h, --help" in out.stdout


def test_api_keeps_root_relative_paths(sample_repo: Path) -> None:
    report = codemods.apply("xdist-group", ["tests/local_testing"], root=sample_repo, group="g")
    assert report.changed
    with pytest.raises(StabfixError, match="does not exist"):
        codemods.apply("xdist-group", ["local_testing"], root=sample_repo, group="g")
