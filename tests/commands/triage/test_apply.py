"""`triage --apply` (dry run: the combined diff, nothing written) and the command -> fixer option mapping."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.commands.triage.model import Command
from codemods.commands.triage.runner import kwargs_for, merge
from codemods.errors import StabfixError

LOG = """====>> Run proxy unit tests
#!/bin/bash -eo pipefail
python -m pytest tests/proxy_unit_tests -n 8
=========================== short test summary info ============================
FAILED tests/proxy_unit_tests/test_proxy_routes.py::test_model_list - assert 401 == 200
FAILED tests/proxy_unit_tests/test_proxy_routes.py::test_health_liveliness_is_public - httpx.ConnectError: [Errno 111] Connection refused
FAILED tests/proxy_unit_tests/test_proxy_routes.py::TestKeyList::test_list_keys - Failed: Timeout >300.0s
======================== 3 failed, 5 passed in 12.00s =========================
Exited with code exit status 1
"""


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def test_dry_run_combined_diff_applies_and_writes_nothing(sample_repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "proxy_unit_testing.log"
    log.write_text(LOG)
    before = {p: p.read_bytes() for p in sample_repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(log), "--root", str(sample_repo),
                           "--out", str(tmp_path / "o"), "--apply", "--quiet"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    after = {p: p.read_bytes() for p in sample_repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before  # a dry run writes nothing
    diff = proc.stdout
    # auth and flaky (external + timing merged into one run) both change test_proxy_routes.py:
    # one diff of that file, taken from a scratch copy where both ran one after the other
    assert diff.count("diff --git a/tests/proxy_unit_tests/test_proxy_routes.py") == 1
    assert "+    app.dependency_overrides[ps.user_api_key_auth] = lambda: UserAPIKeyAuth(" in diff
    assert diff.count("+@pytest.mark.flaky(") == 1 and diff.count("+    @pytest.mark.flaky(") == 1
    (tmp_path / "combined.diff").write_text(diff)
    check = _git(sample_repo, "apply", "--check", str(tmp_path / "combined.diff"))
    assert check.returncode == 0, check.stderr
    assert "stabfix apply auth tests/proxy_unit_tests/test_proxy_routes.py" in proc.stderr
    assert "would change 1 file(s)" in proc.stderr


def test_apply_json_reports_each_run(sample_repo: Path, tmp_path: Path) -> None:
    log = tmp_path / "proxy_unit_testing.log"
    log.write_text(LOG)
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(log), "--root", str(sample_repo),
                           "--out", str(tmp_path / "o"), "--apply", "--json"],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    runs = data["apply"]["runs"]
    assert [r["argv"][2] for r in runs] == ["auth", "flaky"]
    assert all(r["changed"] == ["tests/proxy_unit_tests/test_proxy_routes.py"] for r in runs)
    assert data["apply"]["write"] is False and data["apply"]["diff"].startswith("diff --git ")


def test_write_needs_apply(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text(LOG)
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(log), "--write"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "--write needs --apply" in proc.stderr


def test_merge_joins_same_fixer_runs() -> None:
    a = Command("flaky", ["t/a.py"], [("--only", "t/a.py::x")])
    b = Command("flaky", ["t/a.py", "t/b.py"], [("--only", "t/b.py::y")], stopgap=True)
    c = Command("workers", [], [("--to", "4"), ("--job", "j")], available=False)
    merged = merge([a, b, c])
    assert [m.argv() for m in merged] == [
        ["stabfix", "apply", "flaky", "t/a.py", "t/b.py", "--only", "t/a.py::x", "--only", "t/b.py::y"]]


def test_flags_map_to_the_fixers_options() -> None:
    """Every flag triage proposes maps to an option of the registered fixer, as the CLI parses it."""
    cases = {
        ("noqa", ("--from", "r.json")): {"from_report": "r.json"},
        ("noqa", ("--run", None)): {"run": True},
        ("type-ignore", ("--from", "m.txt")): {"from_report": "m.txt"},
        ("pyright-ignore", ("--from", "p.json")): {"from_report": "p.json"},
        ("workers", ("--to", "4"), ("--job", "local_testing")): {"to": "4", "job": ["local_testing"]},
        ("dist", ("--mode", "loadgroup"), ("--job", "x")): {"dist_mode": "loadgroup", "job": ["x"]},
        ("migration", ("--name", "x"), ("--from-log", "f")): {"name": "x", "from_log": "f"},
        ("version", ("--set", "1.0"), ("--package", "p")): {"set": "1.0", "package": "p"},
        ("xdist-group", ("--group", "heavy"), ("--only", "a")): {"group": "heavy", "only": ["a"]},
        ("auth", ("--only", "t.py::a"), ("--only", "t.py::b[1,2]")): {"only": ["t.py::a", "t.py::b[1,2]"]},
        ("flaky", ("--only", "t.py::a")): {"only": ["t.py::a"]},
    }
    for (fixer, *flags), expected in cases.items():
        assert kwargs_for(Command(fixer, [], list(flags))) == expected, fixer
    with pytest.raises(StabfixError, match="has no option --nope"):
        kwargs_for(Command("flaky", [], [("--nope", "1")]))


def test_commands_plug_into_the_stabfix_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`stabfix triage` / `stabfix ci` once the top-level CLI lists them in EXTRA_COMMANDS (as it should)."""
    from click.testing import CliRunner

    from codemods import cli

    monkeypatch.setitem(cli.EXTRA_COMMANDS, "triage", "codemods.commands.triage.cli:command")
    monkeypatch.setitem(cli.EXTRA_COMMANDS, "ci", "codemods.commands.circleci:group")
    log = tmp_path / "proxy_unit_testing.log"
    log.write_text(LOG)
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["triage", str(log), "--json", "--root", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert [c["name"] for c in json.loads(result.output)["categories"]] == ["auth", "external", "timing"]
    result = runner.invoke(cli.cli, ["ci", "--help"])
    assert result.exit_code == 0 and "failures" in result.output and "status" in result.output
    assert "triage" in runner.invoke(cli.cli, ["--help"]).output


def test_worker_count_from_the_ci_config_when_the_log_lacks_it(sample_repo: Path, tmp_path: Path) -> None:
    from codemods.commands.triage import triage
    from codemods.commands.triage.scan import pytest_workers

    assert pytest_workers("conda create -n docs && python -m pytest tests -n=4") == 4
    assert pytest_workers("echo -n building && head -n 5 README.md") is None
    assert pytest_workers("pytest -n auto tests") is None
    log = tmp_path / "local_testing.log"  # a step log cut before pytest's header: no -n in it
    log.write_text("worker 'gw2' crashed while running 'tests/local_testing/test_router_heavy.py::test_router_fallbacks'\n")
    result = triage([log], root=sample_repo, out=tmp_path / "o")
    workers = [c for c in result.category("parallel").commands if c.fixer == "workers"]
    assert [c.argv() for c in workers] == [["stabfix", "apply", "workers", "--to", "4", "--job", "local_testing"]]
    assert workers[0].note == "-n 8 -> -n 4 (from .circleci/config.yml)"
    other = tmp_path / "nightly_job.log"
    other.write_text("[gw1] node down: Not properly terminated\n")
    result = triage([other], root=sample_repo, out=tmp_path / "o")
    workers = [c for c in result.category("parallel").commands if c.fixer == "workers"]
    assert [(c.argv(), c.available) for c in workers] == [(["stabfix", "apply", "workers", "--job", "nightly_job"], False)]
