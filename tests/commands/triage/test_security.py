"""`stabfix triage` against hostile logs: long lines, terminal control sequences, forged tool codes.

* A megabyte-long ``FAILED`` line is still read, and read in linear time (the regexes used to
  backtrack quadratically: minutes per line; ``benchmarks/bench_triage_longline.py`` times it).
* No control sequence of a log (``ESC c``, DCS / OSC strings, 8-bit CSI, other C0 / C1 controls)
  reaches the terminal through the summary, the JSON or the ``--apply`` lines.
* A code extracted from a log is always of its tool's shape: ``triage --apply --write`` over a log
  whose ruff / mypy / pyright output carries newlines and directives in its codes changes nothing
  in the repository but comments, and still applies the well-formed diagnostics.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from codemods.commands.triage import triage
from codemods.commands.triage.logs import MAX_LINE, printable
from codemods.commands.triage.rules import classify
from codemods.commands.triage.scan import scan_log
from codemods.fixers.suppress.reports import CODE_GRAMMAR

MB = 1 << 20
# what a terminal may act on: C0 but tab and newline, DEL, C1
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
HOSTILE = ("\x1bc", "\x1bP1$qm\x1b\\", "\x9b2J", "\x1b]0;pwned\x07", "\x90q#0;2\x9c", "\x1b[31m", "\x07",
           "\x08\x08", "\x1b(0", "\x9d8;;http://x\x9c", "\x1b7", "\x7f", "\x1b_apc\x1b\\")


@pytest.fixture(params=["grep", "python"])
def scan_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both keyword scans: grep (the default) and the pure-Python one."""
    if request.param == "python":
        monkeypatch.setenv("STABFIX_TRIAGE_NO_GREP", "1")
    else:
        monkeypatch.delenv("STABFIX_TRIAGE_NO_GREP", raising=False)
    return str(request.param)


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", errors="surrogateescape", check=False, timeout=300)


# -- 1. long lines -----------------------------------------------------------------------------------
@pytest.mark.parametrize("pad", ["a", " ", "aException - 1 ", "x requires y==1 "])
def test_a_megabyte_failed_line_still_yields_its_test_id(tmp_path: Path, scan_mode: str, pad: str) -> None:
    nodeid = "tests/x.py::test_t"
    line = f"FAILED {nodeid} - openai.RateLimitError: Error code: 429 - " + pad * (MB // len(pad))
    log = tmp_path / "job.log"
    log.write_text(f"python -m pytest tests -n 4\n{line}\n=== 1 failed in 1.0s ===\n", encoding="utf-8")
    result = triage([log], root=tmp_path, out=tmp_path / "o")
    external = result.category("external")
    assert external is not None and [f.id for f in external.findings] == [nodeid]
    assert external.findings[0].message.startswith("openai.RateLimitError: Error code: 429")
    assert result.lines == 3


def test_the_rules_read_the_head_of_each_line_of_a_long_message() -> None:
    assert classify("x" * (10 * MB) + "\nTimeoutError") == [(50, "timing")]
    assert classify("aException - " * 50_000 + "401") == []  # past MAX_LINE: not read
    assert classify("OpenAIException - " + "x" * (MAX_LINE - 100) + " 401") == [(80, "external"), (70, "auth")]


def test_a_long_one_line_ruff_report_is_still_decoded_whole(tmp_path: Path) -> None:
    entries = [{"cell": None, "code": "E501", "filename": "a.py", "location": {"row": i, "column": 1},
                "end_location": {"row": i, "column": 2}, "noqa_row": i, "message": "m" * 2000} for i in range(1, 9)]
    log = tmp_path / "lint.log"
    log.write_text(json.dumps(entries) + "\n", encoding="utf-8")
    assert len(json.dumps(entries)) > 4 * MAX_LINE
    assert [d["noqa_row"] for d in scan_log(log).ruff] == list(range(1, 9))


# -- 2. terminal control sequences -----------------------------------------------------------------------
@pytest.mark.parametrize("seq", [*HOSTILE, "\r", "\x00", "\x85", "\x1b[?1049h", "\x1bP+q\x07"])
def test_printable_strips_every_control_sequence(seq: str) -> None:
    assert printable(f"a{seq}b\tc\nd") == "ab\tc\nd"


@pytest.mark.parametrize("tail", ["\x1b", "\x1b[", "\x1b[12;", "\x1bPno terminator", "\x1b]0;no terminator", "\x9d"])
def test_printable_strips_an_unterminated_sequence_to_the_end(tail: str) -> None:
    assert printable("ab" + tail) == "ab"


def test_printable_keeps_text() -> None:
    text = "tests/x.py::test_a[é-中-😀] - assert 'x' == \"y\" [100%] ~`{}|\\"
    assert printable(text) == text


def _hostile_inputs(tmp_path: Path) -> tuple[Path, Path]:
    junk = "".join(HOSTILE)
    log = tmp_path / "proxy_unit_testing.log"
    log.write_text(
        f"====>> Run {junk}tests\n"
        "python -m pytest tests -n 4\n"
        f"FAILED tests/x.py::test_a{junk} - Timeout {junk} boom\n"
        f"FAILED tests/y.py::test_b - httpx.ConnectError: {junk}\n"
        f"\x1b[1m\x1b[31mFAILED\x1b[0m tests/z.py::test_c - {junk}Authentication Error\n", encoding="utf-8")
    # XML 1.0 allows the C1 controls (not ESC): 8-bit CSI and DCS in a JUnit message
    junit = tmp_path / "proxy_unit_testing.junit.xml"
    c1 = "\x9b2J\x90q#0;2\x9c\x85\x9d0;pwned\x9c"
    junit.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="s" tests="1">'
                     f'<testcase classname="tests.w" name="test_d" file="tests/w.py">'
                     f'<failure message="Timeout {c1}">{c1}</failure></testcase></testsuite></testsuites>\n',
                     encoding="utf-8")
    return log, junit


def test_no_control_sequence_reaches_the_terminal(tmp_path: Path) -> None:
    log, junit = _hostile_inputs(tmp_path)
    text = _cli(log, "--junit", junit, "--root", tmp_path, "--out", tmp_path / "o")
    assert text.returncode == 0, text.stderr
    assert "tests/x.py::test_a" in text.stdout and "tests/w.py::test_d" in text.stdout
    as_json = _cli(log, "--junit", junit, "--root", tmp_path, "--out", tmp_path / "o", "--json")
    applied = _cli(log, "--junit", junit, "--root", tmp_path, "--out", tmp_path / "o", "--apply")
    for proc in (text, as_json, applied):
        assert not CONTROL.search(proc.stdout + proc.stderr), (proc.stdout + proc.stderr)[:2000]
    strings: list[str] = []

    def walk(x: object) -> None:
        if isinstance(x, str):
            strings.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads(as_json.stdout))
    assert "tests/w.py::test_d" in strings
    assert not [s for s in strings if CONTROL.search(s)]  # not even as JSON escapes


# -- 4. codes from tool output -----------------------------------------------------------------------------
SOURCE = "import os\nimport sys\n\ncounter = 0\ncounter += 1\n"
BAD_RUFF = ["F401\nimport evil_payload  # pwned", "E501  # type: ignore", "F401\u2028x = 1", "", "f401", "F401 "]
BAD_MYPY = ["misc]\nimport evil_payload  #", "misc  # type: ignore", "", "Misc", "attr_defined"]
BAD_PYRIGHT = ["reportX\nimport evil_payload", "reportX] # type: ignore[", "", "report-x", "reportÉ"]


def _code_tokens(text: str) -> list[tuple[int, str]]:
    """Every token but comments and layout: what Python executes."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skip]


def _hostile_lint_log(path: Path, target: Path) -> str:
    """ruff JSON (ruff's pretty-printed shape), mypy -O json lines and a pyright JSON block, each with
    one well-formed diagnostic and many whose code is a payload."""
    def ruff(code: str, row: int) -> dict[str, object]:
        return {"cell": None, "code": code, "end_location": {"column": 3, "row": row}, "filename": str(target),
                "location": {"column": 1, "row": row}, "message": "m", "noqa_row": row}

    def span(line: int) -> dict[str, object]:
        return {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 3}}

    ruff_doc = [ruff("F401", 1), *(ruff(c, 2) for c in BAD_RUFF)]
    mypy = [{"file": str(target), "line": 4, "column": 0, "message": "m", "hint": None, "code": "attr-defined",
             "severity": "error"}]
    mypy += [{**mypy[0], "line": 5, "code": c} for c in BAD_MYPY]
    pyright = [{"file": str(target), "severity": "error", "message": "m", "rule": "reportAttributeAccessIssue",
                "range": span(4)}]
    pyright += [{**pyright[0], "rule": r, "range": span(1)} for r in BAD_PYRIGHT]
    text = (
        "====>> ruff\n" + json.dumps(ruff_doc, indent=2) + "\n"
        f"{target.name}:1:1: F401\nimport evil_payload\n"  # ruff's text output, split by its newline
        "====>> mypy\n" + "".join(json.dumps(d) + "\n" for d in mypy)
        + "====>> pyright\n{\n  \"generalDiagnostics\": " + json.dumps(pyright) + ",\n  \"summary\": {}\n}\n"
    )
    path.write_text(text, encoding="utf-8")
    return text


def test_extracted_codes_have_their_tools_shape(tmp_path: Path) -> None:
    log = tmp_path / "lint.log"
    _hostile_lint_log(log, tmp_path / "a.py")
    with log.open("a", encoding="utf-8") as fh:
        fh.write("a.py:6: error: boom  [misc # type: ignore]\n"
                 "a.py:7: error: boom  [attr-defined]\n"
                 "  a.py:3:1 - error: m (reportFooÉ)\n"
                 "  a.py:3:1 - error: m (reportGood)\n")
    facts = scan_log(log)
    assert [d["code"] for d in facts.ruff] == ["F401"]
    assert [d["code"] for d in facts.mypy_json] == ["attr-defined"]
    assert [d.get("rule") for d in facts.pyright] == ["reportAttributeAccessIssue", None, "reportGood"]
    assert facts.mypy_text == ["a.py:7: error: boom  [attr-defined]"]
    assert facts.bad_codes == len(BAD_RUFF) + len(BAD_MYPY) + len(BAD_PYRIGHT) + 1
    codes = [("ruff", d["code"]) for d in facts.ruff] + [("mypy", d["code"]) for d in facts.mypy_json]
    codes += [("pyright", d["rule"]) for d in facts.pyright if "rule" in d]
    assert all(CODE_GRAMMAR[tool].fullmatch(code) for tool, code in codes)


def test_triage_apply_write_changes_nothing_but_comments(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    target = repo / "a.py"
    target.write_text(SOURCE, encoding="utf-8")
    log = tmp_path / "lint.log"
    _hostile_lint_log(log, target)
    proc = _cli(log, "--root", repo, "--out", tmp_path / "o", "--apply", "--write", "--json")
    after = target.read_text(encoding="utf-8")
    assert "evil_payload" not in after and after.count("type: ignore") == 1
    assert _code_tokens(after) == _code_tokens(SOURCE)  # only comments differ
    # the forged entries are left out, so the well-formed ones are still applied
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["apply"]["runs"]
    assert {r["argv"][2]: r["error"] for r in runs} == {"noqa": None, "type-ignore": None, "pyright-ignore": None}
    assert after.splitlines()[0].startswith("import os  # noqa: F401")
    assert "# type: ignore[attr-defined]" in after.splitlines()[3]
    assert "reportAttributeAccessIssue" in after.splitlines()[4]
