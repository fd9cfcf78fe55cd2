"""flaky fixer: plugin detection, option errors (fixture cases: tests/fixers/test_fixture_cases.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import codemods
from codemods.errors import StabfixError
from codemods.fixers.flaky import detect_plugin


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    return tmp_path


def test_detect_pyproject_retry(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pytest-retry>=1.6"]\n'})
    plugin, evidence = detect_plugin(root)
    assert plugin == "pytest-retry"
    assert evidence == ["pytest-retry (pyproject.toml:3)"]


def test_both_plugins_is_an_error_naming_them(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"requirements.txt": "pytest-retry==1.7.0\npytest-rerunfailures==15.0\n"})
    with pytest.raises(StabfixError, match=r"both retry plugins.*requirements\.txt:1.*requirements\.txt:2.*--plugin"):
        codemods.apply("flaky", ["tests"], root=root, only=["tests/test_a.py::test_a"])
    # --plugin settles it
    report = codemods.apply("flaky", ["tests"], root=root, only=["tests/test_a.py::test_a"],
                            plugin="pytest-rerunfailures")
    assert "@pytest.mark.flaky(reruns=3, reruns_delay=5)" in report.diff


def test_no_plugin_is_an_error(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"requirements.txt": "pytest==9.1.1\n"})
    with pytest.raises(StabfixError, match="no retry plugin found"):
        codemods.apply("flaky", ["tests"], root=root, only=["tests/test_a.py::test_a"])


def test_selection_required_and_bad_values(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"requirements.txt": "pytest-retry\n"})
    with pytest.raises(StabfixError, match="--only NODE_ID"):
        codemods.apply("flaky", ["tests"], root=root)
    with pytest.raises(StabfixError, match="--retries must be at least 1"):
        codemods.apply("flaky", ["tests"], root=root, only=["tests/test_a.py::test_a"], retries=0)


def test_unknown_node_ids_are_reported(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"requirements.txt": "pytest-retry\n"})
    report = codemods.apply("flaky", ["tests"], root=root,
                            only=["tests/test_a.py::test_missing", "tests/test_gone.py::test_x"])
    messages = [n.message for n in report.plan.notices]
    assert any("no test named test_missing" in m for m in messages), messages
    assert any("tests/test_gone.py::test_x: no such test file" in m for m in messages), messages
    assert report.plan.changes == []
