"""`stabfix apply workers` / `dist` through the installed CLI: exit codes, JSON, bad input, config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import codemods
from codemods.errors import StabfixError
from tests.conftest import run_stabfix

SAMPLE = Path(codemods.__file__).parent / "commands" / "sample_repo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(SAMPLE, dest)
    return dest


def test_check_then_write_then_clean(repo: Path) -> None:
    config = repo / ".circleci/config.yml"
    before = config.read_bytes()
    check = run_stabfix("apply", "workers", "--to", "4", "--check", "--root", repo)
    assert check.returncode == 1, check.stderr
    assert "-            python -m pytest -vv tests/local_testing" in check.stdout
    assert config.read_bytes() == before

    write = run_stabfix("apply", "workers", "--to", "4", "--root", repo)
    assert write.returncode == 0, write.stderr
    after = config.read_bytes()
    assert after == before.replace(b" -n 8", b" -n 4")
    assert b"conda create -n docs" in after and b'echo -n "building" && head -n 5' in after

    again = run_stabfix("apply", "workers", "--to", "4", "--check", "--root", repo)
    assert again.returncode == 0 and again.stdout == ""


def test_json_report_lists_each_job(repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "2", "--json", "--root", repo)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    (entry,) = report["files"]
    assert entry["path"] == ".circleci/config.yml" and entry["status"] == "changed"
    got = [(e["job"], e["old"], e["new"], e["line"], e["file"]) for e in entry["edits"]]
    assert got == [
        ("local_testing", "8", "2", 26, ".circleci/config.yml"),
        ("proxy_unit_testing", "8", "2", 40, ".circleci/config.yml"),
    ]
    assert entry["edits"][0]["message"] == "job local_testing: -n 8 -> 2"


@pytest.mark.parametrize("value", ["0", "-3"])
def test_to_zero_or_negative_is_exit_2(repo: Path, value: str) -> None:
    out = run_stabfix("apply", "workers", f"--to={value}", "--root", repo)
    assert out.returncode == 2
    assert f"--to must be a positive number of workers, got {value}" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_to_is_exit_2(repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--root", repo)
    assert out.returncode == 2 and "workers needs --to N" in out.stderr


def test_invalid_yaml_names_line_and_column(repo: Path) -> None:
    config = repo / ".circleci/config.yml"
    config.write_text("version: 2.1\njobs:\n  a:\n    steps: [\n      - run: pytest -n 8\n")
    before = config.read_bytes()
    out = run_stabfix("apply", "workers", "--to", "4", "--root", repo)
    assert out.returncode == 2
    assert out.stderr.startswith("error: .circleci/config.yml: invalid YAML at line 5, column 7:"), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert config.read_bytes() == before


def test_no_pytest_invocation_is_nothing_to_do(repo: Path) -> None:
    config = repo / ".circleci/config.yml"
    config.write_text("version: 2.1\njobs:\n  a:\n    steps:\n      - run: conda create -n env && echo -n x\n")
    out = run_stabfix("apply", "workers", "--to", "4", "--root", repo)
    assert out.returncode == 0
    assert "nothing to do: no pytest invocation in .circleci/config.yml" in out.stdout + out.stderr
    out = run_stabfix("apply", "dist", "--check", "--root", repo)
    assert out.returncode == 0 and "nothing to do" in out.stdout + out.stderr


def test_missing_default_file_is_nothing_to_do(tmp_path: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "4", "--root", tmp_path)
    assert out.returncode == 0 and "nothing to do: no CI file found" in out.stdout + out.stderr


def test_unknown_job_is_exit_2(repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "4", "--job", "nope", "--root", repo)
    assert out.returncode == 2
    assert "--job nope: no such job in .circleci/config.yml" in out.stderr


def test_job_flag_is_repeatable_and_comma_separated(repo: Path) -> None:
    out = run_stabfix("apply", "workers", "--to", "4", "--job", "local_testing,build_docs", "--json", "--root", repo)
    assert out.returncode == 0, out.stderr
    assert [e["job"] for e in json.loads(out.stdout)["files"][0]["edits"]] == ["local_testing"]


def test_config_table_names_the_files(repo: Path) -> None:
    (repo / "Makefile").write_text("test:\n\tpoetry run pytest tests -n 8\n")
    with (repo / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.stabfix.workers]\nfiles = ["Makefile"]\nto = 3\n')
    out = run_stabfix("apply", "workers", "--root", repo)
    assert out.returncode == 0, out.stderr
    assert (repo / "Makefile").read_text() == "test:\n\tpoetry run pytest tests -n 3\n"
    assert b" -n 8" in (repo / ".circleci/config.yml").read_bytes()  # not named: untouched


def test_dist_cli_and_pins_warning(repo: Path) -> None:
    req = repo / "requirements.txt"
    req.write_text(req.read_text().replace("pytest==9.1.1", "pytest==9.2.0"))
    out = run_stabfix("apply", "dist", "--mode", "loadgroup", "--job", "local_testing", "--diff", "--root", repo)
    assert out.returncode == 0, out.stderr
    assert "+            python -m pytest -vv tests/local_testing --junitxml=test-results/junit.xml " \
           "--durations=5 -n 8 --dist loadgroup" in out.stdout
    notes = out.stdout + out.stderr
    assert "warning: pytest 9.2.0 (requirements.txt:3) with pytest-xdist 3.8.0" in notes and "#1386" in notes
    bad = run_stabfix("apply", "dist", "--mode", "roundrobin", "--root", repo)
    assert bad.returncode == 2


def test_api_errors_are_stabfix_errors(repo: Path) -> None:
    with pytest.raises(StabfixError, match="positive"):
        codemods.apply("workers", root=repo, to=-1)
    with pytest.raises(StabfixError, match="does not exist"):
        codemods.apply("workers", ["ci/missing.yml"], root=repo, to=4)


def test_list_shows_both_fixers() -> None:
    out = run_stabfix("list")
    assert out.returncode == 0
    names = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert {"workers", "dist"} <= names


def test_value_written_with_escapes_fails_that_file_only(repo: Path) -> None:
    config = repo / ".circleci/config.yml"
    config.write_text('version: 2.1\njobs:\n  a:\n    steps:\n      - run: "pytest tests -n \\x38"\n')
    (repo / "Makefile").write_text("test:\n\tpytest tests -n 8\n")
    before = config.read_bytes()
    out = run_stabfix("apply", "workers", "--to", "4", "--json", "--root", repo, ".circleci/config.yml", "Makefile")
    assert out.returncode == 2
    status = {f["path"]: (f["status"], f["reason"]) for f in json.loads(out.stdout)["files"]}
    assert status[".circleci/config.yml"][0] == "failed" and "cannot edit" in status[".circleci/config.yml"][1]
    assert status["Makefile"][0] == "changed"
    assert config.read_bytes() == before


def test_folder_path_stands_for_its_ci_files(repo: Path) -> None:
    (repo / "Makefile").write_text("test:\n\tpoetry run pytest tests -n 8\n")
    wf = repo / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "t.yml").write_text("on: [push]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest -n 6\n")
    out = run_stabfix("apply", "workers", "--to", "4", "--json", "--root", repo, ".")
    assert out.returncode == 0, out.stderr
    changed = {f["path"] for f in json.loads(out.stdout)["files"] if f["status"] == "changed"}
    assert changed == {".circleci/config.yml", "Makefile", ".github/workflows/t.yml"}


def test_exclude_filters_files_found_in_a_folder(repo: Path) -> None:
    (repo / "Makefile").write_text("test:\n\tpoetry run pytest tests -n 8\n")
    out = run_stabfix("apply", "workers", "--to", "4", "--json", "--exclude", "Makefile", "--root", repo, ".")
    assert out.returncode == 0, out.stderr
    assert {f["path"] for f in json.loads(out.stdout)["files"]} == {".circleci/config.yml"}
    named = run_stabfix("apply", "workers", "--to", "4", "--json", "--exclude", "Makefile", "--root", repo, "Makefile")
    assert [f["status"] for f in json.loads(named.stdout)["files"]] == ["changed"]
