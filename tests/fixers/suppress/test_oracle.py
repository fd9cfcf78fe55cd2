"""Oracle tests of the suppression fixers with the real tools (ruff, mypy, basedpyright).

For each fixer the hard cases (the ``*.py`` files of ``tests/fixtures/<fixer>/<case>/before/``, the
fixture cases of tests/fixers/test_fixture_cases.py) are copied together to a temporary folder; the real tool reports on it; stabfix applies the report; the tool runs again.
Asserted: every file equals its reviewed snapshot (the case's ``after/``, else ``before/``), the tool reports nothing but what
stabfix reported as not suppressible, no directive stabfix wrote is unused, only comments changed
(the token streams without comments are equal), every changed file compiles, and a second run
changes nothing.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import codemods

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BIN = Path(sys.executable).parent
RUFF_SELECT = "E,W,F,B,C4,PL,UP,SIM"


def run(argv: list[str], cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr or proc.stdout
    return proc.stdout


def ruff(root: Path, select: str = RUFF_SELECT) -> str:
    return run([str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", select,
                "--output-format", "json", "."], root)


def mypy(root: Path, fmt: str = "json") -> str:
    argv = [str(BIN / "mypy"), "--strict", "--warn-unused-ignores", "--cache-dir", str(root / ".mypy_cache"),
            "--no-error-summary", "--show-error-codes"]
    argv += ["-O", "json"] if fmt == "json" else ["--show-column-numbers", "--show-error-end"]
    return run([*argv, "."], root)


def pyright(root: Path) -> str:
    return run([str(BIN / "basedpyright"), "--outputjson", "."], root)


TOOLS = {"noqa": ruff, "type-ignore": mypy, "pyright-ignore": pyright}


def diagnostics(fixer: str, text: str, root: Path) -> list[tuple[str, int, str]]:
    """(relative path, line, code) of every diagnostic in a report."""
    out: list[tuple[str, int, str]] = []
    if fixer == "noqa":
        for d in json.loads(text):
            out.append((Path(d["filename"]).relative_to(root).as_posix(), d["location"]["row"], d["code"]))
    elif fixer == "type-ignore":
        for line in text.splitlines():
            d = json.loads(line)
            if d["severity"] != "note":
                out.append((Path(d["file"]).as_posix(), d["line"], d["code"]))
    else:
        for d in json.loads(text)["generalDiagnostics"]:
            if d["severity"] in ("error", "warning"):
                rel = Path(d["file"]).relative_to(root).as_posix()
                out.append((rel, d["range"]["start"]["line"] + 1, d.get("rule", "")))
    return sorted(out)


def code_tokens(data: bytes) -> list[tuple[int, str]]:
    """The token stream without comments."""
    toks = tokenize.tokenize(io.BytesIO(data).readline)
    return [(t.type, t.string) for t in toks if t.type != tokenize.COMMENT]


@dataclass
class Outcome:
    root: Path
    before: dict[str, bytes]
    after: dict[str, bytes]
    report: Any
    remaining: list[tuple[str, int, str]]
    not_suppressible: list[tuple[str, int, str]] = field(default_factory=list)
    written: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (path, line) -> codes added


def _apply(fixer: str, tmp: Path) -> Outcome:
    root = tmp / "repo"
    root.mkdir()
    for case in cases(fixer):
        for p in sorted((case / "before").glob("*.py")):
            assert not (root / p.name).exists(), p
            shutil.copyfile(p, root / p.name)
    before = {p.name: p.read_bytes() for p in root.glob("*.py")}
    report_file = tmp / "report.txt"
    report_file.write_text(TOOLS[fixer](root), encoding="utf-8")
    rep = codemods.apply(fixer, root=root, mode="write", from_report=str(report_file))
    assert rep.exit_code == 0, rep.summary()
    after = {p.name: p.read_bytes() for p in root.glob("*.py")}
    remaining = diagnostics(fixer, TOOLS[fixer](root), root)
    out = Outcome(root, before, after, rep, remaining)
    for n in rep.plan.notices:
        if n.level == "warning" and n.path and n.line:
            out.not_suppressible.append((n.path, n.line, n.message.split(":", 1)[0]))
    for f in rep.plan.files:
        for e in f.edits:
            out.written[(f.path, e.line or 0)] = list(e.data["added"])
    return out


def cases(fixer: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / fixer).iterdir() if p.is_dir())


def expected_file(fixer: str, name: str) -> Path:
    for case in cases(fixer):
        for side in ("after", "before"):
            if (case / side / name).is_file():
                return case / side / name
    raise AssertionError(f"no fixture case holds {name}")


def snapshot_cases() -> list[Any]:
    params = []
    for fixer in TOOLS:
        for case in cases(fixer):
            for p in sorted((case / "before").glob("*.py")):
                params.append(pytest.param(fixer, p.name, id=f"{fixer}/{p.name}"))
    return params


_CACHE: dict[str, Outcome] = {}


def cached(fixer: str, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    if fixer not in _CACHE:
        _CACHE[fixer] = _apply(fixer, tmp_path_factory.mktemp(fixer))
    return _CACHE[fixer]


@pytest.mark.parametrize(("fixer", "name"), snapshot_cases())
def test_output_matches_reviewed_snapshot(fixer: str, name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = cached(fixer, tmp_path_factory)
    expected = expected_file(fixer, name).read_bytes()
    assert out.after[name] == expected


@pytest.mark.parametrize("fixer", list(TOOLS))
def test_tool_reports_only_what_stabfix_called_not_suppressible(
    fixer: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = cached(fixer, tmp_path_factory)
    assert out.remaining == sorted(out.not_suppressible)


@pytest.mark.parametrize("fixer", list(TOOLS))
def test_only_comments_change_and_files_compile(fixer: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = cached(fixer, tmp_path_factory)
    changed = [n for n in out.before if out.before[n] != out.after[n]]
    assert changed
    for name in changed:
        assert code_tokens(out.before[name]) == code_tokens(out.after[name]), name
        compile(out.after[name], name, "exec")


@pytest.mark.parametrize("fixer", list(TOOLS))
def test_second_run_changes_nothing(fixer: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = cached(fixer, tmp_path_factory)
    report = out.root.parent / "report2.txt"
    report.write_text(TOOLS[fixer](out.root), encoding="utf-8")
    rep = codemods.apply(fixer, root=out.root, mode="check", from_report=str(report))
    assert rep.exit_code == 0
    assert rep.plan.changes == []


def _unused_written(out: Outcome, unused: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """The unused codes that stabfix added itself on that line."""
    return [(p, line, c) for p, line, c in unused if c in out.written.get((p, line), [])]


def test_ruff_finds_no_unused_noqa_that_stabfix_wrote(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = cached("noqa", tmp_path_factory)
    unused = []
    for d in json.loads(ruff(out.root, RUFF_SELECT + ",RUF100")):
        if d["code"] == "RUF100":
            rel = Path(d["filename"]).relative_to(out.root).as_posix()
            codes = re.findall(r"`([A-Z]+[0-9]+)`", d["message"]) or ["<blanket>"]
            unused += [(rel, d["location"]["row"], c) for c in codes]
    assert out.written
    assert _unused_written(out, unused) == []


def test_mypy_finds_no_unused_ignore_that_stabfix_wrote(tmp_path_factory: pytest.TempPathFactory) -> None:
    out = cached("type-ignore", tmp_path_factory)
    unused = []
    for line in mypy(out.root).splitlines():
        d = json.loads(line)
        if d["code"] == "unused-ignore":
            m = re.search(r"ignore\[([^\]]*)\]", d["message"])
            codes = [c.strip() for c in m.group(1).split(",")] if m else ["<blanket>"]
            unused += [(d["file"], d["line"], c) for c in codes]
    assert out.written
    assert _unused_written(out, unused) == []


def test_basedpyright_finds_no_unnecessary_rule_that_stabfix_wrote(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    out = cached("pyright-ignore", tmp_path_factory)
    unused = []
    for d in json.loads(pyright(out.root))["generalDiagnostics"]:
        if d.get("rule") == "reportUnnecessaryTypeIgnoreComment":
            m = re.search(r'rule: "([^"]+)"', d["message"])
            rel = Path(d["file"]).relative_to(out.root).as_posix()
            unused.append((rel, d["range"]["start"]["line"] + 1, m.group(1) if m else "<blanket>"))
    assert out.written
    assert _unused_written(out, unused) == []
