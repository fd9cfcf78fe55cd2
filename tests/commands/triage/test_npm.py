"""Triage of `npm audit --json` output: a security finding, the report extracted and validated, and
`npm-overrides` / `dockerfile-pins` proposed with it (then run by `triage --apply`)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from codemods.commands.triage import triage
from tests.conftest import run_stabfix

AUDIT = "ci-logs/npm-audit.json"


def _github_log(tmp_path: Path, report: str) -> Path:
    """A GitHub Actions step log: every line timestamped, then the step's failure."""
    stamp = "2026-11-30T10:00:00.0000000Z "
    lines = ["##[group]Run npm audit --json --audit-level=high", "npm audit --json --audit-level=high",
             "##[endgroup]", *report.splitlines(), "##[error]Process completed with exit code 1."]
    log = tmp_path / "ui-audit.log"
    log.write_text("".join(stamp + line + "\n" for line in lines))
    return log


def test_json_report_in_a_log_becomes_both_fixers(sample_repo: Path, tmp_path: Path) -> None:
    log = _github_log(tmp_path, (sample_repo / AUDIT).read_text())
    result = triage([log], root=sample_repo, out=tmp_path / "out")
    sec = result.category("security")
    assert sec is not None and result.category("unknown") is None  # the red step is explained
    (finding,) = sec.findings
    assert finding.id == "ui-audit: npm audit: 3 vulnerable package(s)"
    assert finding.message == "json5 (high), minimist (critical), mkdirp (critical)"
    assert finding.evidence[0].text == '"auditReportVersion": 2,' and finding.evidence[0].line == 5
    extracted = tmp_path / "out" / "npm-audit.json"
    assert json.loads(extracted.read_text()) == json.loads((sample_repo / AUDIT).read_text())
    assert [c.argv() for c in sec.commands] == [
        ["stabfix", "apply", "npm-overrides", "ui/litellm-dashboard", "--from", str(extracted)],
        ["stabfix", "apply", "dockerfile-pins", "--from", str(extracted)]]
    assert all(c.available for c in sec.commands)


def test_one_line_report_and_a_bad_one(sample_repo: Path, tmp_path: Path) -> None:
    compact = json.dumps(json.loads((sample_repo / AUDIT).read_text()))
    v1 = json.dumps({"actions": [], "advisories": {}, "muted": [], "auditReportVersion": 1})
    log = tmp_path / "audit.log"
    log.write_text(f"$ npm audit --json\n{compact}\nExited with code exit status 1\n$ npm6 audit --json\n{v1}\n")
    result = triage([log], root=sample_repo, out=tmp_path / "out")
    sec = result.category("security")
    assert sec is not None
    assert [f.id for f in sec.findings] == ["audit: npm audit: 3 vulnerable package(s)",
                                            "audit: npm audit --json report that stabfix cannot read"]
    assert "auditReportVersion 1 is not supported" in sec.findings[1].message
    assert [c.fixer for c in sec.commands] == ["npm-overrides", "dockerfile-pins"]


def test_without_a_fitting_project_the_command_asks_for_one(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "package.json").write_text('{"dependencies": {"left-pad": "1.3.0"}}')
    report = Path(__file__).resolve().parents[3] / "src/codemods/commands/sample_repo" / AUDIT
    log = _github_log(tmp_path, report.read_text())
    sec = triage([log], root=tmp_path, out=tmp_path / "out").category("security")
    assert sec is not None
    over = sec.commands[0]
    assert over.fixer == "npm-overrides" and over.paths == [] and not over.available
    assert "name the npm project folder" in over.note


def test_triage_apply_runs_both_fixers(sample_repo: Path, tmp_path: Path) -> None:
    """`triage --apply` (dry run): the two fixers' diffs. `npm view` is a stand-in that answers from
    the sample's stored versions (the real one is exercised by tests/fixers/npm/test_oracle.py)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    npm = bin_ / "npm"
    versions = sample_repo / "ci-logs/npm-versions.json"
    npm.write_text("#!/usr/bin/env python3\nimport json, sys\n"
                   f"print(json.dumps(json.load(open({str(versions)!r}))[sys.argv[2]]))\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    log = _github_log(tmp_path, (sample_repo / AUDIT).read_text())
    proc = run_stabfix("triage", str(log), "--root", str(sample_repo), "--apply", cwd=sample_repo,
                       env={"PATH": f"{bin_}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '+    "minimist": "0.2.4"' in proc.stdout
    assert "+    && npm install -g --no-fund json5@${JSON5_VERSION} minimist@1.2.6 \\" in proc.stdout
