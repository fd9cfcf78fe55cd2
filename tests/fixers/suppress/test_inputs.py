"""Reading reports (ruff JSON, mypy JSON and text, pyright JSON) and scanning files for placement."""

from __future__ import annotations

import json

import pytest

from codemods.errors import ToolError
from codemods.fixers.suppress.placement import choose_line, scan
from codemods.fixers.suppress.reports import load_report, sniff

RUFF = json.dumps([
    {"code": "F401", "filename": "/r/a.py", "location": {"row": 1, "column": 8},
     "end_location": {"row": 1, "column": 10}, "noqa_row": 1, "message": "`os` imported but unused"},
    {"code": "RUF100", "filename": "/r/a.py", "location": {"row": 2, "column": 5},
     "end_location": {"row": 2, "column": 20}, "noqa_row": 2,
     "message": "Unused `noqa` directive (unused: `E501`, `F401`)"},
    {"code": None, "filename": "/r/b.py", "location": {"row": 3, "column": 1},
     "end_location": {"row": 3, "column": 2}, "noqa_row": None, "message": "SyntaxError: bad"},
])
MYPY_JSON = "\n".join([
    json.dumps({"file": "a.py", "line": 3, "column": 11, "end_line": 4, "end_column": 2,
                "message": "Incompatible", "hint": None, "code": "return-value", "severity": "error"}),
    json.dumps({"file": "a.py", "line": 3, "column": 11, "end_line": 3, "end_column": 12,
                "message": "See docs", "hint": None, "code": None, "severity": "note"}),
    json.dumps({"file": "a.py", "line": 8, "column": -1, "end_line": 8, "end_column": -1,
                "message": 'Unused "type: ignore[attr-defined, misc]" comment', "hint": None,
                "code": "unused-ignore", "severity": "error"}),
])
PYRIGHT = json.dumps({"version": "1.40.2", "generalDiagnostics": [
    {"file": "/r/a.py", "severity": "error", "message": "m", "rule": "reportArgumentType",
     "range": {"start": {"line": 8, "character": 4}, "end": {"line": 9, "character": 1}}},
    {"file": "/r/a.py", "severity": "information", "message": "i", "rule": "reportX",
     "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 1}}},
    {"file": "/r/a.py", "severity": "warning", "message": 'Unnecessary "# pyright: ignore" rule: "reportA"',
     "rule": "reportUnnecessaryTypeIgnoreComment",
     "range": {"start": {"line": 2, "character": 4}, "end": {"line": 2, "character": 9}}},
], "summary": {}})


def test_ruff_report() -> None:
    d = load_report(RUFF, "ruff", "r.json")
    assert [(x.path, x.line, x.column, x.code, x.noqa_row, x.unused) for x in d] == [
        ("/r/a.py", 1, 7, "F401", 1, None),
        ("/r/a.py", 2, 4, "RUF100", 2, ["E501", "F401"]),
        ("/r/b.py", 3, 0, None, None, None),
    ]


def test_mypy_json_report_skips_notes_and_reads_unused_codes() -> None:
    d = load_report(MYPY_JSON, "mypy", "m.json")
    assert [(x.line, x.column, x.end_line, x.code, x.unused) for x in d] == [
        (3, 11, 4, "return-value", None),
        (8, None, 8, "unused-ignore", ["attr-defined", "misc"]),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.py:3: error: Bad thing  [arg-type]", ("a.py", 3, None, None, "arg-type")),
        ("a.py:3:12: error: Bad thing  [arg-type]", ("a.py", 3, 11, None, "arg-type")),
        ("a.py:5:10:6:16: error: Not all converted  [str-format]", ("a.py", 5, 9, 6, "str-format")),
        (r"C:\work\a.py:7:1: error: Windows path: x  [misc]", (r"C:\work\a.py", 7, 0, None, "misc")),
        ('pkg/a.py:8: error: Unused "type: ignore" comment  [unused-ignore]', ("pkg/a.py", 8, None, None, "unused-ignore")),
    ],
)
def test_mypy_text_report(text: str, expected: tuple[object, ...]) -> None:
    (d,) = load_report(text + "\na.py:3: note: a note\nFound 1 error in 1 file\n", "mypy", "m.txt")
    assert (d.path, d.line, d.column, d.end_line, d.code) == expected


def test_pyright_report() -> None:
    d = load_report(PYRIGHT, "pyright", "p.json")
    assert [(x.line, x.column, x.end_line, x.code, x.unused) for x in d] == [
        (9, 4, 10, "reportArgumentType", None),
        (3, 4, 3, "reportUnnecessaryTypeIgnoreComment", ["reportA"]),
    ]


@pytest.mark.parametrize(
    ("data", "tool", "message"),
    [
        ("", "ruff", "the report is empty"),
        ("   \n", "pyright", "the report is empty"),
        (RUFF[: len(RUFF) // 2], "ruff", "not valid JSON (the report looks truncated)"),
        (PYRIGHT[:-40], "pyright", "not valid JSON"),
        (MYPY_JSON[:-30], "mypy", "line 3 is not valid JSON"),
        (RUFF, "mypy", "this is a ruff report, not a mypy report; use `stabfix apply noqa`"),
        (PYRIGHT, "ruff", "this is a pyright report, not a ruff report; use `stabfix apply pyright-ignore`"),
        (MYPY_JSON, "pyright", "this is a mypy report, not a pyright report; use `stabfix apply type-ignore`"),
        ("a.py:3: error: Bad thing\n", "mypy", "mypy output without an error code"),
        ("hello world\n", "ruff", "not a ruff report (unrecognised format)"),
        ('[{"foo": 1}]', "ruff", "entry 0 is not a ruff diagnostic"),
        ('{"generalDiagnostics": [{"file": "x"}]}', "pyright", "diagnostic 0 has no file/range"),
        (b'[{"filename": "a\xff.py", "location": {"row": 1}, "noqa_row": 1}]', "ruff", "not UTF-8 text"),
        ('[{"filename": "a.py", "location": {"row": "1"}, "noqa_row": 1}]', "ruff",
         "entry 0 is not a ruff diagnostic (needs filename, location, noqa_row): Expected `int`, got `str`"),
        ("{}", "ruff", "not a ruff report"),
    ],
)
def test_bad_reports_are_one_clear_line(data: str | bytes, tool: str, message: str) -> None:
    with pytest.raises(ToolError) as info:
        load_report(data, tool, "report.json")
    line = info.value.one_line()
    assert message in line
    assert "report.json" in line
    assert "\n" not in line


def test_sniff() -> None:
    assert sniff(RUFF) == "ruff"
    assert sniff(MYPY_JSON) == "mypy"
    assert sniff(PYRIGHT) == "pyright"
    assert sniff("Success: no issues found in 3 source files\n") == "mypy"
    assert sniff("nonsense") is None


SOURCE = '''x = 1  # comment
s = """a # not a comment
b"""  # real
t = "it's # no" + 'x'
u = 1 + \\
    2
v = "abc \\
def"
w = f"{x!r} # no"  # yes
z = (
    1,
)
'''


def test_scan_finds_comments_strings_and_continuations() -> None:
    lm = scan(SOURCE)
    assert not lm.tokenized
    assert lm.count == 12
    assert [lm.comment_col(n) for n in range(1, 13)] == [7, None, 6, None, None, None, None, None, 19, None, None, None]
    assert lm.in_string == {2, 7}
    assert lm.blocker(2) == "the line ends inside a string literal"
    assert lm.blocker(5) == "the line ends with a backslash continuation"
    assert lm.blocker(7) == "the line ends inside a string literal"
    assert "whitespace-only" in (scan("x = 1\n    \n").blocker(2) or "")
    assert lm.blocker(3) is None


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_scan_agrees_with_tokenize_on_every_line_ending(newline: str) -> None:
    from codemods.fixers.suppress.placement import LineMap, _slow

    text = SOURCE.replace("\n", newline)
    fast = scan(text)
    slow = LineMap.of(text)
    _slow(text, slow)
    assert fast.in_string == slow.in_string
    assert [fast.comment_col(n) for n in range(1, 13)] == [slow.comment_col(n) for n in range(1, 13)]
    assert fast.content(3) == 'b"""  # real'


def test_unbalanced_fstring_falls_back_to_tokenize() -> None:
    # a 3.12 nested-quote f-string: the regex cannot judge it, tokenize does (or fails on <3.12)
    assert scan('x = f"{d["k"]}"  # c\n').tokenized
    assert not scan('if "{" in y:  # c\n    pass\n').tokenized
    assert not scan("x = f\"{json.dumps({'a': {'b': 1}})}\"  # c\n").tokenized


def test_choose_line_falls_back_to_end_line() -> None:
    lm = scan('a = f(\n    """x\ny"""\n)\n')
    assert choose_line(lm, 2, 3).line == 3
    assert choose_line(lm, 2, None).line is None
    assert choose_line(lm, 2, None).reason == "cannot be suppressed by a comment: the line ends inside a string literal"
    assert choose_line(lm, 1, 3).line == 1


def test_fast_scan_agrees_with_tokenize_on_installed_packages() -> None:
    """Real code nobody here wrote: every line's comment column and string state, both ways."""
    import random
    import sysconfig
    from pathlib import Path

    from codemods.fixers.suppress.placement import LineMap, _slow

    site = Path(sysconfig.get_paths()["purelib"])
    files = sorted(p for pkg in ("libcst", "ruamel", "pydantic", "jinja2", "click") for p in (site / pkg).rglob("*.py"))
    random.Random(3).shuffle(files)
    checked = 0
    for p in files[:250]:
        text = p.read_text(encoding="utf-8")
        ref = LineMap.of(text)
        _slow(text, ref)
        fast = scan(text)
        assert fast.in_string == ref.in_string, p
        assert [fast.comment_col(n) for n in range(1, fast.count + 1)] == [
            ref.comment_col(n) for n in range(1, fast.count + 1)
        ], p
        checked += 1
    assert checked >= 100


PY312_CHECK = r'''
import sys
sys.path.insert(0, sys.argv[1])
from codemods.fixers.suppress.placement import scan
src = 'd = {"k": 1}\nx = f"{d["k"]} # not a comment"  # real\ny = f"""{d["k"]}\n{d[\'k\']}"""  # end\n'
compile(src, "x", "exec")
lm = scan(src)
assert lm.tokenized
assert [lm.comment_col(n) for n in range(1, 5)] == [None, 33, None, 13], lm
assert lm.in_string == {3}, lm.in_string
print("ok")
'''


def test_python312_nested_quote_fstrings() -> None:
    """On Python >= 3.12 (when one is installed) nested same-quote f-strings go through tokenize."""
    import shutil
    import subprocess
    from pathlib import Path

    candidates = [shutil.which(f"python3.{m}") for m in (12, 13, 14)]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.1[2-9]*/bin/python"))]
    exe = None
    for cand in filter(None, candidates):
        probe = subprocess.run([cand, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                               capture_output=True, text=True)
        if probe.stdout.strip() == "True":
            exe = cand
            break
    if exe is None:
        pytest.skip("no Python >= 3.12 installed")
    src = Path(__file__).resolve().parents[3] / "src"
    proc = subprocess.run([exe, "-c", PY312_CHECK, str(src)], capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr


@pytest.mark.parametrize(
    ("message", "drop"),
    [
        ("Unused `noqa` directive (unused: `E501`, `F401`)", ["E501", "F401"]),
        ("Unused blanket `noqa` directive", []),
        ("Unused `noqa` directive (non-enabled: `T201`)", None),
        ("Unused `noqa` directive (unused: `E501`; non-enabled: `T201`; unknown: `WPS1`)", ["E501"]),
        ("Unused `noqa` directive (duplicated: `F401`)", ["F401"]),
    ],
)
def test_ruf100_drops_only_unused_and_duplicated_codes(message: str, drop: list[str] | None) -> None:
    from codemods.fixers.suppress.reports import _ruf100

    assert _ruf100(message) == drop
