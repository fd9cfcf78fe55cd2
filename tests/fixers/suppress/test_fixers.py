"""Behaviour of the three suppression fixers end to end: API and CLI, stale reports, filters,
``--remove-unused``, ``--reason``, ``--run`` / ``--until-clean`` with the real tools, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods.errors import StabfixError, ToolError, UsageError

BIN = Path(sys.executable).parent


def ruff_json(root: Path, select: str) -> str:
    proc = subprocess.run(
        [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", select, "--output-format", "json", "."],
        cwd=root, capture_output=True, text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def stabfix(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "stabfix"), *args], cwd=cwd, capture_output=True, text=True, input=stdin)


def entry(path: Path, row: int, col: int, code: str = "F401", noqa_row: int | None = None) -> dict[str, object]:
    return {"code": code, "filename": str(path), "location": {"row": row, "column": col},
            "end_location": {"row": row, "column": col + 2}, "noqa_row": noqa_row or row, "message": "m"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("import os\nimport sys\n\nx = 1\n", encoding="utf-8")
    (root / "b.py").write_text("import json\n", encoding="utf-8")
    return root


def write_report(root: Path, items: list[dict[str, object]]) -> Path:
    path = root.parent / "report.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def test_stale_entries_are_skipped_with_a_warning(repo: Path) -> None:
    a = repo / "pkg" / "a.py"
    report = write_report(repo, [
        entry(a, 1, 8),  # good
        entry(a, 40, 1),  # past the end
        entry(a, 4, 30),  # column past the end of `x = 1`
        entry(repo / "gone.py", 1, 1),  # missing file
    ])
    rep = codemods.apply("noqa", root=repo, mode="write", from_report=str(report))
    assert rep.exit_code == 0
    assert a.read_text() == "import os  # noqa: F401\nimport sys\n\nx = 1\n"
    warnings = [n.one_line() for n in rep.plan.notices if n.level == "warning"]
    assert any("gone.py" in w and "stale report" in w for w in warnings)
    assert any("pkg/a.py:40" in w and "past the end of the file" in w for w in warnings)
    assert any("pkg/a.py:4" in w and "column 30 is past the end of line 4" in w for w in warnings)


def test_a_wholly_stale_report_is_an_error_and_nothing_is_written(repo: Path) -> None:
    a = repo / "pkg" / "a.py"
    report = write_report(repo, [entry(a, 40, 1), entry(repo / "gone.py", 1, 1)])
    with pytest.raises(ToolError, match="the ruff report is stale: none of its 2 entries"):
        codemods.apply("noqa", root=repo, mode="write", from_report=str(report))
    proc = stabfix("apply", "noqa", "--root", str(repo), "--from", str(report), cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1
    assert a.read_text() == "import os\nimport sys\n\nx = 1\n"


def test_select_ignore_and_paths(repo: Path) -> None:
    report = write_report(repo, json.loads(ruff_json(repo, "F401,E501")))
    rep = codemods.apply("noqa", ["pkg"], root=repo, mode="diff", from_report=str(report), select=["F4"])
    assert [f.path for f in rep.changed] == ["pkg/a.py"]
    rep = codemods.apply("noqa", root=repo, mode="diff", from_report=str(report), ignore=["F401"])
    assert rep.changed == []


def test_reason_and_cli_stdin_diff_and_check(repo: Path) -> None:
    report = ruff_json(repo, "F401")
    proc = stabfix("apply", "noqa", "--root", str(repo), "--from", "-", "--diff", "--reason", "legacy", cwd=repo,
                   stdin=report)
    assert proc.returncode == 0, proc.stderr
    assert "+import os  # noqa: F401  # legacy" in proc.stdout
    proc = stabfix("apply", "noqa", "--root", str(repo), "--from", "-", "--check", cwd=repo, stdin=report)
    assert proc.returncode == 1
    assert (repo / "b.py").read_text() == "import json\n"


def test_remove_unused_with_ruff(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    f = root / "m.py"
    f.write_text("import os  # noqa: E501, F401  # why\nx = 1  # noqa: F401\n", encoding="utf-8")
    report = write_report(root, json.loads(ruff_json(root, "E501,F401,RUF100")))
    rep = codemods.apply("noqa", root=root, mode="diff", from_report=str(report))
    assert rep.changed == []
    assert sum("pass --remove-unused" in n.message for n in rep.plan.notices) == 2
    codemods.apply("noqa", root=root, mode="write", from_report=str(report), remove_unused=True)
    assert f.read_text() == "import os  # noqa: F401  # why\nx = 1\n"
    assert json.loads(ruff_json(root, "E501,F401,RUF100")) == []


def test_remove_unused_with_mypy_and_run(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    f = root / "m.py"
    f.write_text('x: int = 1  # type: ignore[assignment, misc]  # keep\ny: int = "a"\n', encoding="utf-8")
    rep = codemods.apply(
        "type-ignore", root=root, mode="write", run=True, remove_unused=True,
        command="mypy --strict --warn-unused-ignores --cache-dir .mc m.py",
    )
    assert rep.exit_code == 0, rep.summary()
    assert f.read_text() == 'x: int = 1  # keep\ny: int = "a"  # type: ignore[assignment]\n'


MYPY_SRC = 'def f(x: int) -> int:\n    return x\n\n\ny: str = f(\n    "1",\n)\n'
MYPY_FIXED = (
    'def f(x: int) -> int:\n    return x\n\n\ny: str = f(  # type: ignore[assignment]\n'
    '    "1",  # type: ignore[arg-type]\n)\n'
)


def test_until_clean_converges_and_report_root(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "sub").mkdir(parents=True)
    f = root / "sub" / "m.py"
    f.write_text(MYPY_SRC, encoding="utf-8")
    rep = codemods.apply(
        "type-ignore", root=root, mode="write", run=True, until_clean=3, report_root="sub",
        command="mypy --strict --cache-dir .mc m.py",
    )
    assert rep.exit_code == 0, rep.summary()
    assert rep.rounds == 2  # the second round finds nothing left
    assert f.read_text() == MYPY_FIXED
    assert any("round 2: mypy reported 0 diagnostic(s)" in n.message for n in rep.plan.notices)


@pytest.mark.parametrize("columns", [[], ["--show-column-numbers"], ["--show-column-numbers", "--show-error-end"]])
def test_mypy_text_report_from_a_subfolder(tmp_path: Path, columns: list[str]) -> None:
    root = tmp_path / "r"
    (root / "sub").mkdir(parents=True)
    f = root / "sub" / "m.py"
    f.write_text(MYPY_SRC, encoding="utf-8")
    proc = subprocess.run([str(BIN / "mypy"), "--strict", "--cache-dir", ".mc", *columns, "m.py"],
                          cwd=root / "sub", capture_output=True, text=True)
    report = tmp_path / "mypy.txt"
    report.write_text(proc.stdout, encoding="utf-8")
    rep = codemods.apply("type-ignore", root=root, mode="write", from_report=str(report), report_root="sub")
    assert rep.exit_code == 0, rep.summary()
    assert f.read_text() == MYPY_FIXED


def test_pyright_ignore_with_run(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    f = root / "m.py"
    f.write_text('x: int = "a"  # type: ignore[assignment]\n', encoding="utf-8")
    rep = codemods.apply("pyright-ignore", root=root, mode="write", run=True, command="basedpyright m.py")
    assert rep.exit_code == 0, rep.summary()
    assert f.read_text() == 'x: int = "a"  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]\n'


def test_config_table_sets_the_command(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.stabfix.noqa]\ncommand = "ruff check --isolated --no-cache --select F401 pkg"\nrun = true\n',
        encoding="utf-8",
    )
    rep = codemods.apply("noqa", root=repo, mode="diff")
    assert [f.path for f in rep.changed] == ["pkg/a.py"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({}, UsageError, "give the ruff report with --from FILE"),
        ({"from_report": "x.json", "run": True}, UsageError, "either --from FILE or --run"),
        ({"from_report": "x.json", "until_clean": 3}, UsageError, "--until-clean N needs --run"),
        ({"from_report": "missing.json"}, ToolError, "report missing.json does not exist"),
        ({"from_report": "x.json", "reason": "two\nlines"}, UsageError, "--reason must be one line"),
        ({"run": True, "command": "no-such-ruff check ."}, ToolError, "must start with ruff (no path), not `no-such-ruff`"),
        ({"run": True, "command": "ruff check --select NOPE999 ."}, ToolError, "failed (exit 2)"),
    ],
)
def test_usage_and_tool_errors(repo: Path, options: dict[str, object], error: type[StabfixError], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("-", r"\-")):
        codemods.apply("noqa", root=repo, mode="diff", **options)


def test_cli_bad_reports_exit_2_with_one_line(repo: Path) -> None:
    bad = repo.parent / "bad.json"
    for content, expect in [
        ("", "the report is empty"),
        ('[{"code": "F401", "filename": "', "not valid JSON (the report looks truncated)"),
        ('{"generalDiagnostics": []}', "this is a pyright report, not a ruff report"),
    ]:
        bad.write_text(content, encoding="utf-8")
        proc = stabfix("apply", "noqa", "--root", str(repo), "--from", str(bad), cwd=repo)
        assert proc.returncode == 2
        assert expect in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    bad.write_text("a.py:1: error: no code here\n", encoding="utf-8")
    proc = stabfix("apply", "type-ignore", "--root", str(repo), "--from", str(bad), cwd=repo)
    assert proc.returncode == 2 and "run mypy with error codes shown" in proc.stderr


def test_remove_unused_with_basedpyright(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    f = root / "m.py"
    f.write_text(
        'x: int = 1  # pyright: ignore[reportAssignmentType]  # keep\ny: int = "a"  # noqa: E501\n', encoding="utf-8"
    )
    rep = codemods.apply("pyright-ignore", root=root, mode="write", run=True, remove_unused=True,
                         command="basedpyright m.py")
    assert rep.exit_code == 0, rep.summary()
    assert f.read_text() == (
        'x: int = 1  # keep\ny: int = "a"  # pyright: ignore[reportAssignmentType]  # noqa: E501\n'
    )


def test_report_from_another_checkout_is_mapped_to_the_root(repo: Path) -> None:
    report = write_report(repo, [entry(Path("/home/circleci/project/pkg/a.py"), 1, 8)])
    rep = codemods.apply("noqa", root=repo, mode="write", from_report=str(report))
    assert (repo / "pkg" / "a.py").read_text().startswith("import os  # noqa: F401\n")
    assert any("/home/circleci/project were mapped" in n.message for n in rep.plan.notices)
