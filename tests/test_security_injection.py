"""No code from a report or a repository's config ever runs or lands in a source file.

Each case was an attack that worked before these checks: a report's code field carrying a newline
and a statement (ruff, mypy, pyright), a second directive or nothing at all; a fixer's false claim
that an edit touches comments only; ``noqa_row`` of zero or below; a migration template from the
repository that reaches for ``os.system``. A fuzzing run closes the file: thousands of generated
report entries, and no written file differs from its original in anything but comments.
"""

from __future__ import annotations

import io
import json
import random
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import codemods
from codemods.core.contract import FileFixer, Outcome
from codemods.core.engine import run_one
from codemods.core.source import SourceFile, read_source
from codemods.errors import StabfixError, ToolError
from tests.conftest import run_stabfix

SOURCE = "import os\nimport sys\n\ncounter = 0\ncounter += 1\n"
PAYLOADS = [
    "F401\nimport evil_payload  # pwned",
    "F401\r\nimport evil_payload",
    "E501  # type: ignore",
    "E501, # noqa",
    "",
    " F401",
    "F401\x00",
    "F401\u2028x = 1",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text(SOURCE, encoding="utf-8")
    return root


def code_tokens(text: str) -> list[tuple[int, str]]:
    """Every token but comments and the layout ones: what Python executes."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skip]


def ruff_entry(path: Path, code: str | None, row: int = 1, noqa_row: int | None = 1) -> dict[str, object]:
    return {"code": code, "filename": str(path), "location": {"row": row, "column": 1},
            "end_location": {"row": row, "column": 3}, "noqa_row": noqa_row, "message": "m"}


def report_file(repo: Path, text: str, name: str = "report.json") -> Path:
    path = repo.parent / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("code", PAYLOADS)
def test_a_ruff_code_that_is_not_a_rule_code_refuses_the_report(repo: Path, code: str) -> None:
    report = report_file(repo, json.dumps([ruff_entry(repo / "a.py", "F401"), ruff_entry(repo / "a.py", code, 2, 2)]))
    proc = run_stabfix("apply", "noqa", "--root", repo, "--from", report)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "entry 1: code" in proc.stderr and "not a ruff code" in proc.stderr
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


@pytest.mark.parametrize("code", ["attr-defined\nimport evil", "misc  # noqa", "", "Misc", "a--b"])
def test_a_mypy_code_outside_its_grammar_refuses_the_report(repo: Path, code: str) -> None:
    line = {"file": str(repo / "a.py"), "line": 1, "column": 0, "message": "m", "hint": None, "code": code,
            "severity": "error"}
    with pytest.raises(ToolError, match=r"line 1: code .* is not a mypy code"):
        codemods.apply("type-ignore", root=repo, mode="write", from_report=str(report_file(repo, json.dumps(line))))
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


@pytest.mark.parametrize("rule", ["reportX\nimport evil", "reportX] # type: ignore[", "", "report-x"])
def test_a_pyright_rule_outside_its_grammar_refuses_the_report(repo: Path, rule: str) -> None:
    doc = {"generalDiagnostics": [{"file": str(repo / "a.py"), "severity": "error", "message": "m", "rule": rule,
                                   "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 2}}}]}
    with pytest.raises(ToolError, match=r"diagnostic 0: code .* is not a pyright code"):
        codemods.apply("pyright-ignore", root=repo, mode="write", from_report=str(report_file(repo, json.dumps(doc))))
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


def test_ruffs_named_diagnostics_are_kept_but_never_become_a_noqa(repo: Path) -> None:
    report = report_file(repo, json.dumps([ruff_entry(repo / "a.py", "invalid-syntax")]))
    rep = codemods.apply("noqa", root=repo, mode="write", from_report=str(report))
    assert rep.exit_code == 0
    assert any("invalid-syntax: no rule code" in n.message for n in rep.plan.notices)
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


@pytest.mark.parametrize("reason", ["x\ny", "see # noqa", "ok  # type: ignore", "noqa: E501", "\x1b[2J", ""])
def test_reason_text_is_one_printable_line_without_directives(repo: Path, reason: str) -> None:
    report = report_file(repo, json.dumps([ruff_entry(repo / "a.py", "F401")]))
    with pytest.raises(StabfixError, match="--reason"):
        codemods.apply("noqa", root=repo, mode="write", from_report=str(report), reason=reason)
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


@dataclass
class _Liar(FileFixer):
    """Claims a comment-only edit on line 1 but adds a statement after it."""

    name = "liar"
    description = "test double"

    def __init__(self) -> None:
        super().__init__(None)

    def fix(self, source: SourceFile) -> Outcome:
        first = source.text.split("\n", 1)[0]
        new_line = first + "  # noqa: F401"
        text = source.text.replace(first, new_line + "\nimport evil_payload", 1)
        return Outcome(text, comment_lines={1: (len(first), new_line)})


def test_a_false_comment_only_claim_fails_the_file_even_when_the_result_parses(repo: Path) -> None:
    result = run_one(_Liar(), read_source(repo / "a.py", "a.py"))
    assert result.status == "failed" and result.change is None
    assert "changes more than trailing comments" in result.reason


@pytest.mark.parametrize("row", [-3, -1, 0])
def test_noqa_rows_of_zero_or_below_are_stale(repo: Path, row: int) -> None:
    report = report_file(repo, json.dumps([ruff_entry(repo / "a.py", "F401", 1, row)]))
    proc = run_stabfix("apply", "noqa", "--root", repo, "--from", report)
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE
    assert proc.returncode == 2 and "stale" in proc.stderr and "stabfix bug" not in proc.stderr
    assert "whitespace" not in proc.stderr


@pytest.mark.parametrize("line", [-1, 0])
def test_mypy_and_pyright_lines_outside_the_file_are_stale(repo: Path, line: int) -> None:
    mypy = {"file": str(repo / "a.py"), "line": line, "column": 0, "message": "m", "hint": None,
            "code": "misc", "severity": "error"}
    with pytest.raises(ToolError, match="stale"):
        codemods.apply("type-ignore", root=repo, mode="write", from_report=str(report_file(repo, json.dumps(mypy))))
    doc = {"generalDiagnostics": [{"file": str(repo / "a.py"), "severity": "error", "message": "m", "rule": "reportX",
                                   "range": {"start": {"line": line - 1, "character": 0},
                                             "end": {"line": 0, "character": 2}}}]}
    with pytest.raises(ToolError, match="stale"):
        codemods.apply("pyright-ignore", root=repo, mode="write",
                       from_report=str(report_file(repo, json.dumps(doc), "p.json")))
    assert (repo / "a.py").read_text(encoding="utf-8") == SOURCE


HOSTILE_TEMPLATE = "{{ cycler.__init__.__globals__.os.system('touch %s') }}{{ sql }}"


def test_a_hostile_migration_template_from_the_repository_config_never_runs(sample_repo: Path) -> None:
    marker = sample_repo.parent / "pwned"
    tpl = sample_repo / "evil-templates"
    tpl.mkdir()
    (tpl / "migration.sql.j2").write_text(HOSTILE_TEMPLATE % marker, encoding="utf-8")
    pyproject = sample_repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.stabfix.migration]\ntemplate-dir = "evil-templates"\n')
    before = sorted(p.relative_to(sample_repo) for p in sample_repo.rglob("*"))
    proc = run_stabfix("apply", "migration", "--name", "x", "--from-log", "ci-logs/migration-check.log",
                       "--root", sample_repo, "--diff")
    assert not marker.exists()
    assert proc.returncode == 2 and "refused: the template reaches outside its data" in proc.stderr
    assert proc.stderr.count("\n") == 1
    proc = run_stabfix("apply", "migration", "--name", "x", "--from-diff", "-", "--template-dir", tpl,
                       "--root", sample_repo, input="-- AlterTable\nSELECT 1;\n")
    assert not marker.exists() and proc.returncode == 2
    assert sorted(p.relative_to(sample_repo) for p in sample_repo.rglob("*")) == before


def test_a_hostile_template_never_runs_through_triage_apply(sample_repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tpl = sample_repo / "evil-templates"
    tpl.mkdir()
    (tpl / "migration.sql.j2").write_text(HOSTILE_TEMPLATE % marker, encoding="utf-8")
    pyproject = sample_repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.stabfix.migration]\ntemplate-dir = "evil-templates"\n')
    proc = run_stabfix("triage", sample_repo / "ci-logs" / "migration-check.log", "--root", sample_repo, "--apply",
                       "--out", tmp_path / "out")
    assert "refused: the template reaches outside its data" in proc.stdout + proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("command", ["sh -c 'touch pwned'", "./ruff check .", "/bin/ruff check .", "python -m ruff"])
def test_the_run_command_from_the_repository_config_runs_only_the_tool(repo: Path, command: str) -> None:
    (repo / "pyproject.toml").write_text(f"[tool.stabfix.noqa]\ncommand = {json.dumps(command)}\n")
    proc = run_stabfix("apply", "noqa", "--root", repo, "--run", cwd=repo)
    assert proc.returncode == 2 and "the ruff command must start with ruff" in proc.stderr
    assert not (repo / "pwned").exists() and (repo / "a.py").read_text(encoding="utf-8") == SOURCE


# -- fuzzing: generated report entries never change anything but comments --------------------------
FUZZ_SOURCE = (
    "import os  # keep\n"
    "x = (1,\n"
    "     2)\n"
    's = """a\n'
    'b"""\n'
    "def f(a: int) -> str:  # type: ignore[misc]\n"
    "    return a  # noqa: E501  # why\n"
    "y = 'tail' \\\n"
    "    'more'\n"
    "\n"
    "    \n"
)
_CODE_ALPHABET = st.sampled_from([*"EFWBCIPLRUSMYa-z09 ,#:[]\n\r\t\\\"'_=()x", "noqa", "type: ignore", "\u2028"])
_VALID = {
    "noqa": ["E501", "F401", "PLR2004", "RUF100", "invalid-syntax", None],
    "type-ignore": ["misc", "attr-defined", "unused-ignore"],
    "pyright-ignore": ["reportX", "reportUnnecessaryTypeIgnoreComment", None],
}
_HOSTILE = st.lists(_CODE_ALPHABET, min_size=1, max_size=12).map("".join)
# mostly lines and columns inside the file, some outside it
ROWS = st.one_of(*[st.integers(min_value=1, max_value=11)] * 6, st.integers(min_value=-3, max_value=14))
COLUMNS = st.one_of(*[st.integers(min_value=0, max_value=8)] * 6, st.integers(min_value=-2, max_value=40))


def _entries(tool: str) -> st.SearchStrategy[list[tuple[str | None, int, int, int, int | None]]]:
    # mostly codes of the tool's grammar (so that most reports get as far as a write), some hostile
    codes = st.one_of(*[st.sampled_from(_VALID[tool])] * 9, _HOSTILE)
    entry = st.tuples(codes, ROWS, ROWS, COLUMNS, st.one_of(st.none(), ROWS))
    return st.lists(entry, min_size=1, max_size=6)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), tool=st.sampled_from(["noqa", "type-ignore", "pyright-ignore"]),
       reason=st.sampled_from([None, "legacy"]))
def test_fuzzed_reports_change_nothing_but_comments(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, tool: str, reason: str | None,
) -> None:
    entries = data.draw(_entries(tool))
    root = tmp_path_factory.mktemp("fuzz")
    event(_apply_fuzzed(root, tool, entries, reason))


def _apply_fuzzed(root: Path, tool: str, entries: list[tuple[str | None, int, int, int, int | None]],
                  reason: str | None) -> str:
    """Apply one generated report to a fresh copy of FUZZ_SOURCE; assert that only comments changed."""
    target = root / "m.py"
    target.write_text(FUZZ_SOURCE, encoding="utf-8")
    path = str(target)
    if tool == "noqa":
        doc: object = [{"code": c, "filename": path, "location": {"row": r, "column": col},
                        "end_location": {"row": e, "column": col + 1}, "noqa_row": nr, "message": "m"}
                       for c, r, e, col, nr in entries]
        text = json.dumps(doc)
    elif tool == "type-ignore":
        text = "\n".join(json.dumps({"file": path, "line": r, "column": col, "end_line": e, "end_column": col + 1,
                                     "message": "m", "hint": None, "code": c, "severity": "error"})
                         for c, r, e, col, _ in entries)
    else:
        text = json.dumps({"generalDiagnostics": [
            {"file": path, "severity": "error", "message": "m", "rule": c,
             "range": {"start": {"line": r - 1, "character": col}, "end": {"line": e - 1, "character": col + 1}}}
            for c, r, e, col, _ in entries]})
    report = root / "report.json"
    report.write_text(text, encoding="utf-8")
    outcome = "unchanged"
    try:
        codemods.apply(tool, root=root, mode="write", from_report=str(report), reason=reason)
    except StabfixError:
        outcome = "refused"
    after = target.read_text(encoding="utf-8")
    assert code_tokens(after) == code_tokens(FUZZ_SOURCE)
    assert after.count("\n") == FUZZ_SOURCE.count("\n")
    return "written" if after != FUZZ_SOURCE else outcome


def test_thousands_of_random_report_entries_change_nothing_but_comments(tmp_path: Path) -> None:
    """A seeded script fuzzer beside hypothesis: realistic reports with some hostile entries, so that
    most runs get as far as writing (hypothesis favours the edge cases, which are mostly refused)."""
    rng = random.Random(20261130)
    alphabet = "EFWBCIPLRUSMYaz09 ,#:[]\n\r\t\\\"'_=()x"
    outcomes: dict[str, int] = {}
    entries_seen = 0
    for i in range(1000):
        tool = ("noqa", "type-ignore", "pyright-ignore")[i % 3]
        entries = []
        for _ in range(rng.randint(1, 8)):
            hostile = rng.random() < 0.03
            code = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) if hostile else rng.choice(
                [c for c in _VALID[tool] if c is not None])
            line = rng.randint(1, 11) if rng.random() < 0.9 else rng.randint(-3, 14)
            col = rng.randint(0, 8) if rng.random() < 0.9 else rng.randint(-2, 40)
            noqa_row = line if rng.random() < 0.8 else rng.randint(-3, 14)
            entries.append((code, line, line + rng.randint(0, 2), col, noqa_row))
        entries_seen += len(entries)
        root = tmp_path / str(i)
        root.mkdir()
        outcome = _apply_fuzzed(root, tool, entries, rng.choice([None, "legacy"]))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert entries_seen > 4000
    assert outcomes.get("written", 0) > 500 and outcomes.get("refused", 0) > 100, outcomes
