"""Triage reads a log once: the scan also collects the `npm audit --json` reports, every way of
cutting the log for parallel greps reads the same lines, and a log without a report imports
neither the npm code nor msgspec nor the engine API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from codemods.commands.triage import logs, triage
from codemods.core.jsonout import write_json

AUDIT = "ci-logs/npm-audit.json"


def _mixed_log(tmp_path: Path, report: str) -> Path:
    """A pytest run whose failure section holds an audit report, scan keywords inside the report,
    and a one-line report after the summary: the scan and the report reader each follow blocks."""
    lines = ["====>> Run tests", "$ pytest -n 4 tests", "created: 4/4 workers",
             "________________________________ test_audit ________________________________",
             "E   AssertionError: the audit failed", *report.splitlines(),
             "=========================== short test summary info ============================",
             "FAILED tests/test_ui.py::test_audit - AssertionError: the audit failed",
             json.dumps(json.loads(report)), "Exited with code exit status 1"]
    padding = [f"tests/test_ui.py::test_ok_{i} PASSED" for i in range(400)]
    log = tmp_path / "ui.log"
    log.write_text("\n".join([*padding, *lines, *padding]) + "\n")
    return log


def _triage_json(log: Path, root: Path, out: Path) -> str:
    return json.dumps(triage([log], root=root, out=out).to_json(), sort_keys=True)


def test_reports_found_in_the_scan_pass_with_the_scan_facts(sample_repo: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    report = (sample_repo / AUDIT).read_text()
    log = _mixed_log(tmp_path, report)
    calls: list[Path] = []
    lines = logs.LogReader.lines

    def counted(self: logs.LogReader, keywords: list[bytes]) -> object:
        calls.append(self.path)
        return lines(self, keywords)

    monkeypatch.setattr(logs.LogReader, "lines", counted)
    result = triage([log], root=sample_repo, out=tmp_path / "out")
    assert calls == [log]  # one pass over the log
    sec = result.category("security")
    assert sec is not None
    first = 400 + 6  # the report's first line, "{" (the key is on the next)
    assert [(f.id, f.evidence[0].line) for f in sec.findings] == [
        ("ui: npm audit: 3 vulnerable package(s)", first + 1),
        ("ui: npm audit: 3 vulnerable package(s)", first + report.count("\n") + 2)]
    assert json.loads((tmp_path / "out" / "npm-audit-2.json").read_text()) == json.loads(report)
    failures = [f.id for c in result.categories for f in c.findings if f.kind == "test"]
    assert failures == ["tests/test_ui.py::test_audit"]
    assert result.lines == 800 + 9 + report.count("\n")


@pytest.mark.parametrize("feed", ["splice", "splice fails", "head"])
def test_every_cut_of_the_log_reads_the_same_lines(sample_repo: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, feed: str) -> None:
    """Parts cut at line starts (in blocks, in a report), fed by splice, by a copy when the file
    system cannot splice, or by ``head -c``: the same triage as the pure-Python reader."""
    log = _mixed_log(tmp_path, (sample_repo / AUDIT).read_text())
    monkeypatch.setenv("STABFIX_TRIAGE_NO_GREP", "1")
    expected = _triage_json(log, sample_repo, tmp_path / "a")
    monkeypatch.delenv("STABFIX_TRIAGE_NO_GREP")
    monkeypatch.setattr(logs, "PARALLEL_MIN", 1000)
    monkeypatch.setattr(logs.os, "cpu_count", lambda: 9)
    if feed == "head":
        monkeypatch.setattr(logs, "_SPLICE", False)
    elif feed == "splice fails":
        def einval(*args: object, **kwargs: object) -> int:
            raise OSError(22, "Invalid argument")
        monkeypatch.setattr(logs.os, "splice", einval)
    assert logs._parts(log.stat().st_size) == 9
    assert _triage_json(log, sample_repo, tmp_path / "a") == expected


def _modules_after_triage(log: Path, root: Path) -> set[str]:
    """The modules loaded by a whole ``triage LOG --json`` process (written to stderr at its end)."""
    code = ("import sys\nfrom codemods.commands.triage.cli import main\n"
            "try:\n    main([sys.argv[1], '--json', '--root', sys.argv[2], '--out', sys.argv[3]])\n"
            "except SystemExit:\n    sys.stderr.write(' '.join(sorted(sys.modules)))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(log), str(root), str(root / "out")],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["totals"]["failures"] >= 1
    return set(proc.stderr.split())


def test_a_log_without_a_report_imports_no_npm_code_msgspec_or_api(sample_repo: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.log"
    plain.write_text("FAILED tests/test_a.py::test_x - AssertionError: boom\nExited with code exit status 1\n")
    heavy = {"msgspec", "codemods.api", "codemods.commands.triage.npm", "codemods.fixers.npm.audit", "difflib"}
    assert not heavy & _modules_after_triage(plain, tmp_path)
    with_report = _mixed_log(tmp_path, (sample_repo / AUDIT).read_text())
    assert {"codemods.commands.triage.npm", "codemods.fixers.npm.audit"} <= _modules_after_triage(with_report, tmp_path)


@pytest.mark.parametrize("text", ["plain", "caf\u00e9 \u2028 \U0001f600", "\x1b[31m\x00\x7f\x85\"\\\t\n", ""])
def test_small_json_is_msgspecs_bytes(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"k" + text: [text, 1, -2, 10**20, None, True, False, {}, [], {"a": [{"b": text}]}]}
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    write_json(data, small=True)
    assert out.getvalue() == msgspec.json.format(msgspec.json.encode(data), indent=2) + b"\n"
