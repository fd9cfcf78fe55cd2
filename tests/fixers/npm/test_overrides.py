"""npm-overrides on the sample repository: the JSON report, what else stays equal, --run and npm view
through a recording stand-in for npm (npm's audit endpoint is not reachable here), and the demo offline."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_stabfix

DASH = "ui/litellm-dashboard"
STORED = ["--from", "ci-logs/npm-audit.json", "--versions", "ci-logs/npm-versions.json"]


def _report(repo: Path, *args: str) -> dict:
    proc = run_stabfix("apply", "npm-overrides", DASH, *STORED, "--diff", "--json", *args, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_json_report_names_each_edit_on_its_line(sample_repo: Path) -> None:
    report = _report(sample_repo, "--allow-major")
    (entry,) = [f for f in report["files"] if f["status"] == "changed"]
    assert entry["path"] == f"{DASH}/package.json"
    edits = {e["package"]: e for e in entry["edits"]}
    assert edits["minimist"]["kind"] == "override" and edits["minimist"]["new"] == "0.2.4"
    assert edits["minimist"]["installed"] == ["0.0.8"]
    assert edits["json5"]["kind"] == "raise" and (edits["json5"]["old"], edits["json5"]["new"]) == ("2.2.1", "2.2.2")
    messages = [n["message"] for n in report["notices"]]
    assert any("mkdirp (critical): vulnerable through minimist" in m for m in messages)
    # apply it, then check the lines the report names
    proc = run_stabfix("apply", "npm-overrides", DASH, *STORED, "--allow-major", cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    lines = (sample_repo / DASH / "package.json").read_text().splitlines()
    assert lines[edits["minimist"]["line"] - 1].strip() == '"minimist": "0.2.4"'
    assert lines[edits["json5"]["line"] - 1].strip() == '"json5": "2.2.2",'


def test_only_the_changed_keys_differ(sample_repo: Path) -> None:
    pj = sample_repo / DASH / "package.json"
    old_bytes = pj.read_bytes()
    old = json.loads(old_bytes)
    proc = run_stabfix("apply", "npm-overrides", DASH, *STORED, "--allow-major", cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    new_bytes = pj.read_bytes()
    new = json.loads(new_bytes)
    assert new.pop("overrides") == {"minimist": "0.2.4"}
    assert new["dependencies"].pop("json5") == "2.2.2"
    old["dependencies"].pop("json5")
    assert new == old and list(json.loads(new_bytes)) == [*old, "overrides"]  # key order too
    diff = subprocess.run(["git", "diff", "--numstat", "--", f"{DASH}/package.json"], cwd=sample_repo,
                          capture_output=True, text=True, check=True).stdout.split()
    # json5's line replaced; the insertion after devDependencies' `}` reads as 3 new lines plus `},`
    assert diff[:2] == ["4", "1"], diff
    assert new_bytes.endswith(b"}\n") and b"\t" not in new_bytes
    assert len(new_bytes) - len(old_bytes) == len(b',\n  "overrides": {\n    "minimist": "0.2.4"\n  }')


def test_without_allow_major_a_direct_pin_is_only_reported(sample_repo: Path) -> None:
    proc = run_stabfix("apply", "npm-overrides", DASH, *STORED, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    assert "pass --allow-major" in proc.stdout + proc.stderr
    assert json.loads((sample_repo / DASH / "package.json").read_text())["dependencies"]["json5"] == "2.2.1"


def _fake_npm(folder: Path, audit: Path, log: Path) -> dict[str, str]:
    """An `npm` that records its argv and working folder: `audit` prints the stored report,
    `view NAME versions --json` prints that package's stored versions."""
    folder.mkdir()
    versions = Path(__file__).resolve().parents[3] / "src/codemods/commands/sample_repo/ci-logs/npm-versions.json"
    script = folder / "npm"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps([os.getcwd(), sys.argv[1:]]) + '\\n')\n"
        "if sys.argv[1] == 'audit':\n"
        f"    sys.stdout.write(open({str(audit)!r}).read()); sys.exit(1)\n"
        "if sys.argv[1] == 'view':\n"
        f"    print(json.dumps(json.load(open({str(versions)!r}))[sys.argv[2]]))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}


def test_run_audits_every_project_and_asks_npm_for_versions(sample_repo: Path, tmp_path: Path) -> None:
    # a second project inside node_modules and one in a git-ignored folder: neither is audited
    for extra in ("ui/litellm-dashboard/node_modules/json5", "ui/build-cache/pkg"):
        (sample_repo / extra).mkdir(parents=True)
        shutil.copy(sample_repo / DASH / "package.json", sample_repo / extra / "package.json")
    (sample_repo / ".gitignore").write_text("ui/build-cache/\n")
    log = tmp_path / "calls.jsonl"
    env = _fake_npm(tmp_path / "bin", sample_repo / "ci-logs/npm-audit.json", log)
    proc = run_stabfix("apply", "npm-overrides", "ui", "--run", "--allow-major", "--diff", cwd=sample_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert '+    "minimist": "0.2.4"' in proc.stdout
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0] == [str(sample_repo / DASH), ["audit", "--json"]]
    assert sorted(c[1] for c in calls[1:]) == [["view", "json5", "versions", "--json"],
                                               ["view", "minimist", "versions", "--json"]]


def test_run_with_npms_error_object_is_one_line(sample_repo: Path, tmp_path: Path) -> None:
    error = tmp_path / "error.json"
    error.write_text(json.dumps({"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile."}}))
    env = _fake_npm(tmp_path / "bin", error, tmp_path / "calls.jsonl")
    proc = run_stabfix("apply", "npm-overrides", DASH, "--run", cwd=sample_repo, env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: npm audit report from `npm audit --json` in ui/litellm-dashboard: npm reported an error instead "
        "of an audit: This command requires an existing lockfile."]
    assert subprocess.run(["git", "status", "--porcelain"], cwd=sample_repo, capture_output=True, text=True,
                          check=True).stdout == ""


@pytest.mark.parametrize("args", [[], ["--from", "x.json", "--run"]])
def test_input_is_required_and_single(sample_repo: Path, args: list[str]) -> None:
    proc = run_stabfix("apply", "npm-overrides", *args, cwd=sample_repo)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_versions_file_must_list_the_package(sample_repo: Path, tmp_path: Path) -> None:
    bad = tmp_path / "v.json"
    bad.write_text('{"json5": ["2.2.2"]}')
    proc = run_stabfix("apply", "npm-overrides", DASH, "--from", "ci-logs/npm-audit.json", "--versions", str(bad),
                       cwd=sample_repo)
    assert proc.returncode == 2 and "no versions listed for 'minimist'" in proc.stderr


def test_demo_runs_without_npm(tmp_path: Path) -> None:
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    demo = run_stabfix("demo", "--fixer", "npm-overrides", "--fixer", "dockerfile-pins", env={"PATH": str(bin_)})
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert '+    "minimist": "0.2.4"' in demo.stdout
    assert "+    && npm install -g --no-fund json5@${JSON5_VERSION} minimist@1.2.6 \\" in demo.stdout
    assert "+ARG JSON5_VERSION=2.2.2" in demo.stdout


def test_report_from_stdin(sample_repo: Path) -> None:
    report = (sample_repo / "ci-logs/npm-audit.json").read_text()
    proc = run_stabfix("apply", "npm-overrides", DASH, "--from", "-", "--versions", "ci-logs/npm-versions.json",
                       "--diff", cwd=sample_repo, input=report)
    assert proc.returncode == 0, proc.stderr
    assert '+    "minimist": "0.2.4"' in proc.stdout


def test_a_yarn_project_is_refused(sample_repo: Path) -> None:
    pj = sample_repo / DASH / "package.json"
    data = json.loads(pj.read_text())
    pj.write_text(json.dumps({**data, "packageManager": "yarn@4.5.0"}, indent=2) + "\n")
    proc = run_stabfix("apply", "npm-overrides", DASH, *STORED, cwd=sample_repo)
    assert proc.returncode == 2 and "npm `overrides` do not apply to it" in proc.stderr
