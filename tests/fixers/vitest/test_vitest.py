"""The vitest fixer beyond the fixture cases: bad input (one line, exit 2, nothing written), the
output check, the JSON report, Vitest's names, the reports' shapes, and triage's command for
Vitest timeouts run on the sample repository. The fixture reports in tests/fixtures/vitest were
written by Vitest 4.1.12; tests/fixers/vitest/test_oracle.py runs Vitest itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codemods import api
from codemods.commands.demo import copy_sample
from codemods.commands.triage import triage
from codemods.fixers.vitest import splice
from codemods.fixers.vitest.reports import read_report
from codemods.fixers.vitest.syntax import parse
from codemods.fixers.vitest.tests import collect, select
from tests.conftest import run_stabfix

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vitest"
SAMPLE_TEST = "ui/litellm-dashboard/src/components/KeyForm.test.ts"

KEYFORM = '''import userEvent from "@testing-library/user-event";

describe("KeyForm", () => {
  it("types", async () => {
    const user = userEvent.setup();
    await user.type(input, "x");
  });
});
'''


def _repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


# -- bad input: one line, exit 2, nothing written ------------------------------------------------

@pytest.mark.parametrize(("report", "message"), [
    ("not json at all {", "not a Vitest report (expected the JSON of --reporter=json"),
    ('{"testResults": [', "not a Vitest JSON report (invalid JSON"),
    ('{"numTotalTests": 1}', "not a Vitest JSON report (no testResults list)"),
    ('{"testResults": [{"name": 1, "assertionResults": []}]}', "testResults[0] has no name and assertionResults"),
    ('{"testResults": [{"name": "a.test.ts", "assertionResults": [{"title": "t", "failureMessages": [1]}]}]}',
     "needs a title, ancestorTitles and failureMessages of strings"),
    ("<testsuites><testsuite", "not a JUnit XML report"),
])
def test_malformed_reports_are_one_line_errors(tmp_path: Path, report: str, message: str) -> None:
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM, "r.json": report})
    before = _snapshot(repo)
    proc = run_stabfix("apply", "vitest", "--from-report", "r.json", "--root", repo, cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: r.json: ") and message in lines[0], proc.stderr
    assert _snapshot(repo) == before


@pytest.mark.parametrize(("args", "message"), [
    (["--only", "web/src/KeyForm.test.ts"], 'expected Vitest\'s full name "file > suite > test"'),
    (["--only", "web/src/Missing.test.ts > KeyForm > types"], "no test file web/src/Missing.test.ts under"),
    (["--only", "web/src/KeyForm.test.ts > types"], "defines no test named 'types'"),
    (["--only", "KeyForm.test.ts > KeyForm > types"], "matches several test files (a/KeyForm.test.ts, "),
    (["--timeout", "5000"], "--timeout needs the tests to raise"),
    (["--no-setup-delay"], "nothing to do: --no-setup-delay without"),
    (["--only", "web/src/KeyForm.test.ts > KeyForm > types", "--timeout", "0"], "--timeout must be between 1"),
    (["--only", "web/src/KeyForm.test.ts > KeyForm > types", "--timeout", str(2**31)], "setTimeout's limit"),
])
def test_bad_selection_is_a_one_line_error(tmp_path: Path, args: list[str], message: str) -> None:
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM, "a/KeyForm.test.ts": KEYFORM})
    before = _snapshot(repo)
    proc = run_stabfix("apply", "vitest", *args, "--root", repo, cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
    assert _snapshot(repo) == before


def test_an_output_that_does_not_parse_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-parse is the last gate: a splice that breaks the syntax fails the file."""
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM})
    monkeypatch.setattr(splice, "append_item",
                        lambda data, container, item, newline: splice.Splice(container.start_byte, container.start_byte, b"(("))
    report = api.apply("vitest", ["web"], root=repo, mode="write")
    assert report.exit_code == 2
    [result] = report.plan.files
    assert result.status == "failed" and "stabfix bug: the vitest output does not parse" in result.reason
    assert (repo / "web/src/KeyForm.test.ts").read_text(encoding="utf-8") == KEYFORM


def test_bom_and_non_ascii_are_kept(tmp_path: Path) -> None:
    text = KEYFORM.replace('"types"', '"tapes « ü » 🎉"')
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": b"\xef\xbb\xbf" + text.encode("utf-8")})
    report = api.apply("vitest", [], root=repo, mode="write", only=["web/src/KeyForm.test.ts > KeyForm > tapes « ü » 🎉"])
    assert report.exit_code == 0
    data = (repo / "web/src/KeyForm.test.ts").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == text.replace("setup()", "setup({ delay: null })").replace("  });\n});", "  }, 15000);\n});")


def test_json_report_names_each_edit(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM})
    proc = run_stabfix("apply", "vitest", "--diff", "--json", "--only", "web/src/KeyForm.test.ts > KeyForm > types",
                       "--timeout", "20000", "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["options"]["timeout"] == 20000 and doc["options"]["only"] == ["web/src/KeyForm.test.ts > KeyForm > types"]
    [entry] = doc["files"]
    assert entry["path"] == "web/src/KeyForm.test.ts" and entry["status"] == "changed"
    kinds = {e["kind"]: e for e in entry["edits"]}
    assert kinds["setup-delay"]["line"] == 5
    assert kinds["timeout"] == {"kind": "timeout", "line": 4, "message": "KeyForm > types: timeout 20000 ms added",
                                "test": "KeyForm > types", "timeout": 20000, "selected_by": "--only"}


def test_report_timeouts_never_lower_and_hooks_are_named(tmp_path: Path) -> None:
    report = {"testResults": [{"name": "/ci/web/src/KeyForm.test.ts", "assertionResults": [
        {"ancestorTitles": ["KeyForm"], "title": "types", "status": "failed", "duration": 20012.5,
         "failureMessages": ["Error: Test timed out in 20000ms.\nIf this is a long-running test, ..."]},
        {"ancestorTitles": ["KeyForm"], "title": "hooks", "status": "failed", "duration": 10.0,
         "failureMessages": ["Error: Hook timed out in 10000ms."]},
    ]}]}
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM, "r.json": json.dumps(report)})
    proc = run_stabfix("apply", "vitest", "--from-report", "r.json", "--no-setup-delay", "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "KeyForm > types: timed out at 20000 ms (r.json); --timeout 15000 would not raise it" in out
    assert "/ci/web/src/KeyForm.test.ts > KeyForm > hooks: a hook timed out (from r.json)" in out
    assert (repo / "web/src/KeyForm.test.ts").read_text(encoding="utf-8") == KEYFORM


def test_vitest_4_json_report_is_recognised_by_its_lost_message() -> None:
    """Vitest 4.1.12's JSON report keeps the timeout error's placeholder, not its message."""
    path = FIXTURES / "from_report_json" / "before" / "web" / "vitest.json"
    result = read_report(path, "vitest.json")
    assert "Test timed out" not in path.read_text(encoding="utf-8")
    assert sorted(t.full_name for t in result.timed_out) == [
        "KeyList > as admin > opens the key", "KeyList > loads every page", "KeyList > sorts keys"]
    assert result.failed == 4  # the assertion failure is not a timeout
    assert all(t.timeout is None and t.exceeded is not None and t.exceeded >= 100 for t in result.timed_out)
    junit = read_report(FIXTURES / "from_report_junit" / "before" / "web" / "junit.xml", "junit.xml")
    assert sorted((t.full_name, t.timeout) for t in junit.timed_out) == [
        ("KeyList > as admin > opens the key", 200), ("KeyList > loads every page", 100), ("KeyList > sorts keys", 200)]


# -- Vitest's names --------------------------------------------------------------------------------

NAMES = b'''const base = test.extend({});
describe("outer", () => {
  describe.each([["a", 1]])("with %s and %i", (s, n) => {
    it.each`x | y`("row $x", () => {});
    it.skipIf(process.env.CI)("skipped on CI", () => {});
    it.concurrent.only("concurrent", () => {});
  });
  test(`dynamic ${name}`, () => {});
  base("extended", () => {});
  describe(KeyForm, () => { it("by class", () => {}); });
  it("a > b", () => {});
  it.todo("later");
});
'''


@pytest.mark.parametrize(("full", "line"), [
    ("outer > with a and 1 > row 7", 4),
    ("outer > with a and 1 > skipped on CI", 5),
    ("outer > with a and 1 > concurrent", 6),
    ("outer > dynamic anything", 8),
    ("outer > extended", 9),
    ("outer > KeyForm > by class", 10),
    ("outer > a > b", 11),
    ("outer > later", 12),
])
def test_full_names_as_vitest_gives_them(full: str, line: int) -> None:
    tests = collect(parse(NAMES, "x.test.ts").root_node, want_setups=False).tests
    assert [t.line for t in select(tests, full)] == [line]


def test_a_precise_name_wins_over_a_pattern() -> None:
    src = b'for (const n of names) it(n, () => {});\nit("exact", () => {});\n'
    tests = collect(parse(src, "x.test.ts").root_node, want_setups=False).tests
    assert [t.line for t in select(tests, "exact")] == [2]
    assert [t.line for t in select(tests, "other")] == [1]


# -- triage sends Vitest timeouts to the fixer ------------------------------------------------------

def test_triage_sends_vitest_timeouts_to_the_fixer(tmp_path: Path) -> None:
    repo = copy_sample(tmp_path / "repo")
    result = triage([repo / "ci-logs" / "vitest.log"], root=repo, out=tmp_path / "out")
    timing = result.category("timing")
    assert timing is not None
    [command] = [c for c in timing.commands if c.fixer == "vitest"]
    assert command.argv() == ["stabfix", "apply", "vitest", "--timeout", "15000", "--only",
                              "src/components/KeyForm.test.ts > KeyForm > submits the alias and a long description"]
    assert command.available and "timed out at 5000 ms" in command.note
    # the command, run from the repository's root, finds the dashboard's test by Vitest's name
    proc = run_stabfix(*command.argv()[1:], "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (repo / SAMPLE_TEST).read_text(encoding="utf-8")
    assert "  }, 15000);\n" in text and text.count("userEvent.setup({ delay: null })") == 2
    assert run_stabfix(*command.argv()[1:], "--check", "--root", repo, cwd=repo).returncode == 0


def test_triage_reads_vitest_junit_names(tmp_path: Path) -> None:
    junit = FIXTURES / "from_report_junit" / "before" / "web" / "junit.xml"
    result = triage([junit], root=tmp_path, out=tmp_path / "out")
    timing = result.category("timing")
    assert timing is not None
    ids = sorted(f.id for f in timing.findings)
    assert ids == ["src/KeyList.test.ts > KeyList > as admin > opens the key",
                   "src/KeyList.test.ts > KeyList > loads every page", "src/KeyList.test.ts > KeyList > sorts keys"]
    [command] = timing.commands
    assert command.fixer == "vitest" and ("--timeout", "15000") in command.options
    assert not any(c.fixer == "flaky" for c in result.commands)  # no pytest command for Vitest tests


def test_demo_shows_the_vitest_fix() -> None:
    proc = run_stabfix("demo", "--fixer", "vitest")
    assert proc.returncode == 0, proc.stderr
    assert "$ stabfix apply vitest ui/litellm-dashboard --from-report ci-logs/vitest.json --timeout 15000 --diff" in proc.stdout
    assert "+    const user = userEvent.setup({ delay: null });" in proc.stdout
    assert "+  }, 15000);" in proc.stdout


def test_a_timeout_in_the_config_is_a_default(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", {"web/src/KeyForm.test.ts": KEYFORM,
                                     "pyproject.toml": "[tool.stabfix.vitest]\ntimeout = 20000\n"})
    proc = run_stabfix("apply", "vitest", "web", "--root", repo, cwd=repo)  # no selection: delay only
    assert proc.returncode == 0, proc.stderr
    assert "20000" not in (repo / "web/src/KeyForm.test.ts").read_text(encoding="utf-8")
    proc = run_stabfix("apply", "vitest", "--only", "web/src/KeyForm.test.ts > KeyForm > types", "--root", repo, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "  }, 20000);\n" in (repo / "web/src/KeyForm.test.ts").read_text(encoding="utf-8")


def test_names_from_a_report_are_bounded(tmp_path: Path) -> None:
    """Report names are matched against the file's patterns: an oversized one is ignored, quickly."""
    src = "describe(a, () => { describe(b, () => { describe(c, () => { it(`${d} x ${e}`, () => {}); }); }); });\n"
    long_title = "y > " * 20000
    report = {"testResults": [{"name": "web/src/K.test.ts", "assertionResults": [
        {"ancestorTitles": ["p", "q", "r"], "title": long_title, "status": "failed",
         "failureMessages": ["Error: Test timed out in 5000ms."]}]}]}
    repo = _repo(tmp_path / "repo", {"web/src/K.test.ts": src, "r.json": json.dumps(report)})
    proc = run_stabfix("apply", "vitest", "--from-report", "r.json", "--root", repo, cwd=repo, env={})
    assert proc.returncode == 0, proc.stderr
    assert "1 timed-out test(s) with a name over 2000 characters ignored" in proc.stdout + proc.stderr
    assert (repo / "web/src/K.test.ts").read_text(encoding="utf-8") == src


def test_matching_a_name_is_linear() -> None:
    """Four wildcard segments against a long near-miss name: a regex of `.*` took 11 s here."""
    import time

    src = b"describe(`${a}`, () => { describe(`${b}`, () => { describe(`${c}`, () => { it(`${d}Z`, () => {}); }); }); });"
    tests = collect(parse(src, "x.test.ts").root_node, want_setups=False).tests
    start = time.monotonic()
    assert select(tests, "y > " * 450) == []
    assert [t.line for t in select(tests, "a > b > c > dZ")] == [1]
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize(("before", "after"), [
    ('it("t", fn /* why */);\n', 'it("t", fn, 15000 /* why */);\n'),
    ('it(\n  "t",\n  fn // why\n);\n', 'it(\n  "t",\n  fn, // why\n  15000\n);\n'),
    ('it(\n  "t",\n  fn, // why\n);\n', 'it(\n  "t",\n  fn, // why\n  15000,\n);\n'),
    ('it("t", fn, undefined);\n', None),  # not a number: named, left alone
    ('it("t", { ...base }, fn);\n', None),  # a spread may hold a timeout
    ('it("t", { timeout: 5 * 1000 }, fn);\n', 'it("t", { timeout: 15000 }, fn);\n'),
    ('it("t", fn, 0x4e20);\n', None),  # 20000 already
    ('it.todo("t");\n', None),
])
def test_argument_layouts(tmp_path: Path, before: str, after: str | None) -> None:
    repo = _repo(tmp_path / "repo", {"web/src/t.test.ts": before})
    report = api.apply("vitest", [], root=repo, mode="write", only=["web/src/t.test.ts > t"])
    assert report.exit_code == 0
    assert (repo / "web/src/t.test.ts").read_text(encoding="utf-8") == (after or before)
