"""stabfix triage on output of the real tools and on the shapes real CI logs take.

``tests/fixtures/triage/real/`` was produced by ``scripts/make_triage_fixtures.py`` (ruff, ruff 0.11.13,
flake8, mypy --pretty, basedpyright, pytest-xdist with a dying worker, pytest-timeout; versions in its
manifest.json); these tests read the stored files and never rerun the tools. The other cases are written
here in the shapes found in public CI logs (our own wording): Prisma errors, npm, vitest, provider errors,
the xdist crash forms, CI kills, and red logs that match nothing known.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codemods.commands.triage import triage
from codemods.fixers.suppress.reports import load_report

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "triage" / "real"
EVERY_FIXER = {"noqa", "type-ignore", "pyright-ignore", "version", "prisma-sync", "migration", "auth",
               "workers", "xdist-group", "flaky", "dist"}


def _run(tmp_path: Path, *logs: Path):
    return triage(list(logs), root=tmp_path, out=tmp_path / "out", available=EVERY_FIXER)


def _log(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _argvs(result, cat: str) -> list[list[str]]:
    found = result.category(cat)
    return [c.argv() for c in found.commands] if found else []


def test_manifest_names_every_fixture_and_tool_version() -> None:
    manifest = json.loads((REAL / "manifest.json").read_text())
    assert {p.stem for p in REAL.glob("*.log")} == set(manifest)
    for name, entry in manifest.items():
        assert entry["tool"] == "ci" or entry["version"], name


# -- lint text: ruff concise, ruff < 0.12 default, flake8 -----------------------------------------------------

@pytest.mark.parametrize("name", ["ruff_concise", "ruff_0_11_default", "flake8"])
def test_lint_text_goes_into_the_report_noqa_reads(tmp_path: Path, name: str) -> None:
    if not (REAL / f"{name}.log").is_file():
        pytest.skip(f"{name} was not produced (its tool could not be downloaded)")
    result = _run(tmp_path, REAL / f"{name}.log")
    assert [c.name for c in result.categories] == ["lint-type"]
    report = tmp_path / "out" / "ruff.json"
    assert _argvs(result, "lint-type") == [["stabfix", "apply", "noqa", "--from", str(report)]]
    diags = load_report(report.read_text(), "ruff", str(report))  # what noqa --from reads
    got = [(d.path, d.line, d.column, d.code) for d in diags]
    if name == "flake8":
        assert got == [("pkg/mod.py", 2, 0, "F401"), ("pkg/mod.py", 10, 79, "E501"), ("pkg/mod.py", 11, 4, "F841"),
                       ("pkg/mod.py", 11, 79, "E501")]
    else:
        assert got == [("pkg/mod.py", 2, 7, "F401"), ("pkg/mod.py", 10, 88, "E501"), ("pkg/mod.py", 11, 4, "F841"),
                       ("pkg/mod.py", 11, 88, "E501")]
    assert all(d.noqa_row == d.line for d in diags)
    assert not result.unrecognised


def test_ruff_json_and_text_in_one_log_keep_both(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "ruff_json_and_text.log")
    data = json.loads((tmp_path / "out" / "ruff.json").read_text())
    assert sorted((d["code"], d.get("noqa_row")) for d in data) == [
        ("E501", 10), ("E501", 11), ("F401", 2), ("F841", 11)]  # the text repeats two JSON diagnostics
    extra = _log(tmp_path, "more.log", (REAL / "ruff_json_and_text.log").read_text()
                 + "pkg/other.py:3:1: E402 Module level import not at top of file\n")
    _run(tmp_path, extra)
    data = json.loads((tmp_path / "out" / "ruff.json").read_text())
    assert ("pkg/other.py", "E402") in [(d["filename"], d["code"]) for d in data] and len(data) == 5
    assert [f.id for f in result.category("lint-type").findings] == ["ruff: 4 diagnostics"]


def test_ruff_format_check_is_lint_with_the_files(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "ruff_format.log")
    lint = result.category("lint-type")
    assert [(f.id, f.message) for f in lint.findings] == [("ruff format: 1 file(s) would be reformatted", "pkg/mod.py")]
    assert lint.commands == []  # no noqa for formatting (and no --run guessed from its ``-->`` line)
    older = _log(tmp_path, "fmt.log", "$ ruff format --check .\nWould reformat: src/app/api.py\n"
                 "Would reformat: src/app/db.py\n2 files would be reformatted, 40 files already formatted\n"
                 "Error: Process completed with exit code 1.\n")
    assert _run(tmp_path, older).category("lint-type").findings[0].message == "src/app/api.py, src/app/db.py"


def test_mypy_pretty_keeps_the_codes_of_wrapped_messages(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "mypy_pretty.log")
    report = tmp_path / "out" / "mypy.txt"
    assert _argvs(result, "lint-type") == [["stabfix", "apply", "type-ignore", "--from", str(report)]]
    diags = load_report(report.read_text(), "mypy", str(report))
    assert [(d.line, d.code) for d in diags] == [(10, "arg-type"), (11, "assignment"), (12, "attr-defined")]
    assert 'expected "int"' in diags[0].message


def test_mypy_without_codes_is_not_proposed_as_runnable(tmp_path: Path) -> None:
    log = _log(tmp_path, "mypy.log", "mypy...Failed\n- exit code: 1\n\npkg/a.py:4: error:\n\"Thing\"\nhas\nno\n"
               "attribute\n\"x\"\n        thing.x = 1\n        ^\nFound 1 error in 1 file (checked 1 source file)\n")
    result = _run(tmp_path, log)
    [command] = result.category("lint-type").commands
    assert command.fixer == "type-ignore" and not command.available and "--show-error-codes" in command.note


def test_basedpyright_keeps_the_rule_of_multi_line_messages(tmp_path: Path) -> None:
    _run(tmp_path, REAL / "basedpyright.log")
    doc = json.loads((tmp_path / "out" / "pyright.json").read_text())
    rules = [d.get("rule") for d in doc["generalDiagnostics"]]
    assert rules == ["reportArgumentType", "reportAssignmentType", "reportAttributeAccessIssue"]
    assert "is not assignable to" in doc["generalDiagnostics"][0]["message"]
    assert load_report(json.dumps(doc), "pyright", "pyright.json")


# -- xdist crashes, CI kills, worker counts -------------------------------------------------------------------

def test_xdist_38_crash_in_the_failures_section(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "xdist_crash.log")
    parallel = result.category("parallel")
    assert [f.id for f in parallel.findings] == ["tests/test_crash.py::test_worker_dies"]
    assert "node down" in " ".join(e.text for e in parallel.findings[0].evidence)
    assert _argvs(result, "parallel") == [
        ["stabfix", "apply", "workers", "--to", "1", "--job", "xdist_crash"],
        ["stabfix", "apply", "xdist-group", "tests/test_crash.py", "--group", "heavy", "--only",
         "tests/test_crash.py::test_worker_dies"],
        ["stabfix", "apply", "dist", "--mode", "loadgroup", "--job", "xdist_crash"]]


def test_every_crash_form_and_node_down_lines_stay_with_their_worker(tmp_path: Path) -> None:
    log = _log(tmp_path, "heavy.log", "\n".join([
        "$ python -m pytest -n 6 tests",
        "gw0 [40] / gw1 [40] / gw2 [40] / gw3 [40] / gw4 [40] / gw5 [40]",
        "[gw2] node down: Not properly terminated",
        "replacing crashed worker gw2",
        "[gw4] node down: Not properly terminated",
        "Worker 'gw4' crashed while running 'tests/test_b.py::test_old_form'",
        "=========================== short test summary info ============================",
        "FAILED tests/test_a.py::test_summary_form - worker 'gw2' crashed while running "
        "'tests/test_a.py::test_summary_form'",
        "FAILED tests/test_a.py::test_plain_failure - assert 1 == 2",
        "Exited with code exit status 1", ""]))
    result = _run(tmp_path, log)
    parallel = result.category("parallel")
    evidence = {f.id: [e.text for e in f.evidence] for f in parallel.findings}
    assert set(evidence) == {"tests/test_a.py::test_summary_form", "tests/test_b.py::test_old_form"}
    assert "[gw2] node down: Not properly terminated" in evidence["tests/test_a.py::test_summary_form"]
    assert "[gw4] node down: Not properly terminated" not in evidence["tests/test_a.py::test_summary_form"]
    assert "[gw4] node down: Not properly terminated" in evidence["tests/test_b.py::test_old_form"]
    group = next(a for a in _argvs(result, "parallel") if a[2] == "xdist-group")
    assert [group[i + 1] for i, a in enumerate(group) if a == "--only"] == [
        "tests/test_a.py::test_summary_form", "tests/test_b.py::test_old_form"]  # exactly the crashed tests
    assert ["stabfix", "apply", "workers", "--to", "3", "--job", "heavy"] in _argvs(result, "parallel")


def test_node_down_then_failed_line_of_the_same_worker_is_the_crash(tmp_path: Path) -> None:
    log = _log(tmp_path, "legacy.log", "$ pytest -n2 tests\n[gw0] node down: Not properly terminated\n"
               "[gw0] [ 60%] FAILED tests/test_c.py::test_segfaults\nreplacing crashed worker gw0\n")
    result = _run(tmp_path, log)
    assert [f.id for f in result.category("parallel").findings] == ["tests/test_c.py::test_segfaults"]
    assert ["stabfix", "apply", "workers", "--to", "1", "--job", "legacy"] in _argvs(result, "parallel")


def test_circleci_no_output_kill_is_timing_with_the_job(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "circleci_no_output.log")
    assert [c.name for c in result.categories] == ["timing"]
    assert [f.id for f in result.category("timing").findings] == ["circleci_no_output: step killed after no output"]
    assert _argvs(result, "timing") == [["stabfix", "apply", "workers", "--to", "4", "--job", "circleci_no_output"]]


def test_github_exit_137_is_parallel_with_the_worker_count_of_its_gw_line(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "github_exit_137.log")
    assert [c.name for c in result.categories] == ["parallel"]
    assert _argvs(result, "parallel") == [["stabfix", "apply", "workers", "--to", "2", "--job", "github_exit_137"]]


# -- timeouts without a FAILED line, vitest -------------------------------------------------------------------

def test_pytest_timeout_dump_names_the_test(tmp_path: Path) -> None:
    result = _run(tmp_path, REAL / "pytest_timeout_thread.log")
    timing = result.category("timing")
    assert [f.id for f in timing.findings] == ["tests/test_slow.py::test_waits_for_the_queue"]
    [command] = timing.commands
    assert command.fixer == "flaky" and command.stopgap


def test_timeout_error_line_without_failed(tmp_path: Path) -> None:
    log = _log(tmp_path, "async.log", "tests/test_q.py::test_consumer - asyncio.exceptions.TimeoutError\n"
               "##[error]Process completed with exit code 1.\n")
    assert [f.id for f in _run(tmp_path, log).category("timing").findings] == ["tests/test_q.py::test_consumer"]


def test_vitest_timeouts_are_timing_with_the_test_names(tmp_path: Path) -> None:
    log = _log(tmp_path, "web.log", "\n".join([
        " FAIL  src/cart.test.ts > Cart > totals update after the fetch resolves",
        "Error: Test timed out in 5000ms.",
        "If this is a long-running test, pass a timeout value as the last argument or configure it globally.",
        " FAIL  src/user.test.ts > loads the profile",
        "AssertionError: expected 'a' to be 'b'",
        " Test Files  2 failed | 9 passed (11)",
        "Error: Process completed with exit code 1.", ""]))
    result = _run(tmp_path, log)
    assert [f.id for f in result.category("timing").findings] == [
        "src/cart.test.ts > Cart > totals update after the fetch resolves"]
    [command] = result.category("timing").commands  # the vitest fixer raises the test's timeout
    assert command.argv() == ["stabfix", "apply", "vitest", "--timeout", "15000", "--only",
                              "src/cart.test.ts > Cart > totals update after the fetch resolves"]
    assert [f.id for f in result.category("unknown").findings] == ["src/user.test.ts > loads the profile"]


# -- Prisma, npm ----------------------------------------------------------------------------------------------

def test_prisma_failed_migration_needs_a_human(tmp_path: Path) -> None:
    log = _log(tmp_path, "deploy.log", "\n".join([
        "12 migrations found in prisma/migrations", "", "Error: P3009", "",
        "migrate found failed migrations in the target database, new migrations will not be applied.",
        "The `20250102_add_orders_index` migration started at 2026-01-02 10:00:00.000 UTC failed",
        "Exited with code exit status 1", ""]))
    result = _run(tmp_path, log)
    cat = result.category("version-schema")
    assert [(f.id, f.message) for f in cat.findings] == [(
        "deploy: Prisma P3009 on migration 20250102_add_orders_index",
        "needs a human: resolve the failed migration (`prisma migrate resolve --rolled-back` or `--applied`)")]
    assert cat.commands == []
    p3005 = _log(tmp_path, "dev.log", "Error: P3005\n\nThe database schema is not empty.\n")
    assert _run(tmp_path, p3005).category("version-schema").findings[0].id == "dev: Prisma P3005 on the database"


def test_prisma_drift_summary_proposes_a_migration(tmp_path: Path) -> None:
    log = _log(tmp_path, "drift.log", "\n".join([
        "$ npx prisma migrate diff --from-migrations prisma/migrations --to-schema-datamodel prisma/schema.prisma "
        "--exit-code", "[+] Added tables", "  - invoices", "", "[*] Changed the `customers` table",
        "  [+] Added column `vat_id`", "Exited with code exit status 2", ""]))
    result = _run(tmp_path, log)
    cat = result.category("version-schema")
    assert [f.id for f in cat.findings] == ["drift: schema drift without a migration"]
    assert _argvs(result, "version-schema") == [["stabfix", "apply", "migration", "--name", "create_invoices"]]
    assert "[*] Changed the `customers` table" in (tmp_path / "out" / "migration-drift.log").read_text()


def test_npm_eresolve_and_audit_are_security_with_packages_and_severities(tmp_path: Path) -> None:
    log = _log(tmp_path, "ui.log", "\n".join([
        "npm ERR! code ERESOLVE", "npm ERR! ERESOLVE unable to resolve dependency tree",
        "npm ERR! While resolving: shop-ui@1.0.0", "npm ERR! Found: vue@3.4.0",
        'npm ERR! peer vue@"^2.6.0" from vue-widgets@1.2.0', "====>> Audit", "# npm audit report", "",
        "lodash  <4.17.21", "Severity: high", "Prototype pollution - https://example.invalid/advisory",
        "fix available via `npm audit fix`", "node_modules/lodash", "", "minimist  <1.2.6", "Severity: critical",
        "", "2 vulnerabilities (1 high, 1 critical)", ""]))
    result = _run(tmp_path, log)
    sec = result.category("security")
    assert [(f.id, f.message) for f in sec.findings] == [
        ("ui: npm could not resolve the dependency tree (ERESOLVE)",
         "packages: shop-ui@1.0.0, vue@3.4.0, vue@^2.6.0 (peer of vue-widgets@1.2.0)"),
        ("ui: npm audit: 2 vulnerable package(s)", "lodash (high), minimist (critical)")]
    assert sec.commands == []


# -- provider errors: by what the error says, never by the test's name ----------------------------------------

def test_provider_errors_split_by_the_error_not_the_test_name(tmp_path: Path) -> None:
    log = _log(tmp_path, "providers.log", "\n".join([
        "=========================== short test summary info ============================",
        "FAILED tests/test_llm.py::test_retry_on_rate_limit_429 - openai.AuthenticationError: Error code: 401 - "
        "Incorrect API key provided: sk-test",
        "FAILED tests/test_llm.py::test_invalid_key_rejected - openai.RateLimitError: Error code: 429 - "
        "Too Many Requests",
        "FAILED tests/test_llm.py::test_quota - openai.RateLimitError: Error code: 429 - 'code': 'insufficient_quota'",
        "FAILED tests/test_llm.py::test_no_env - openai.OpenAIError: The api_key client option must be set either "
        "by passing api_key to the client or by setting the OPENAI_API_KEY environment variable",
        "FAILED tests/test_llm.py::test_upstream - litellm.InternalServerError: 502 Bad Gateway",
        "FAILED tests/test_llm.py::test_reset - httpx.ReadError: Connection reset by peer",
        "Error: Process completed with exit code 1.", ""]))
    result = _run(tmp_path, log)
    assert sorted(f.id for f in result.category("config").findings) == [
        "tests/test_llm.py::test_no_env", "tests/test_llm.py::test_quota", "tests/test_llm.py::test_retry_on_rate_limit_429"]
    assert sorted(f.id for f in result.category("external").findings) == [
        "tests/test_llm.py::test_invalid_key_rejected", "tests/test_llm.py::test_reset", "tests/test_llm.py::test_upstream"]
    assert result.category("config").commands == []
    assert [c.fixer for c in result.category("external").commands] == ["flaky"]


def test_connection_errors_without_network_are_config(tmp_path: Path) -> None:
    log = _log(tmp_path, "sandbox.log", "\n".join([
        "______________________________ test_fetch_models ______________________________",
        "E   httpx.ConnectError: [Errno 101] Network is unreachable",
        "=========================== short test summary info ============================",
        "FAILED tests/test_client.py::test_fetch_models - openai.APIConnectionError: Connection error.", ""]))
    result = _run(tmp_path, log)
    assert [f.id for f in result.category("config").findings] == ["tests/test_client.py::test_fetch_models"]


# -- a red log never reads as "no failures" --------------------------------------------------------------------

@pytest.mark.parametrize("ending", [
    "Exited with code exit status 2", "Error: Process completed with exit code 2.",
    "##[error]Process completed with exit code 1.", "make: *** [Makefile:12: lint] Error 127",
    "npm ERR! Lifecycle script `build` failed with error: code 1"])
def test_red_step_with_nothing_known_is_unknown_with_its_last_lines(tmp_path: Path, ending: str) -> None:
    log = _log(tmp_path, "lint.log", f"====>> Run linters\n#!/bin/bash -eo pipefail\nmake lint\n"
               f"Installing tools\nsh: 1: golint: not found\n{ending}\n")
    result = _run(tmp_path, log)
    [finding] = result.category("unknown").findings
    assert finding.id == "lint: step 'Run linters' failed; nothing known in its output"
    assert [e.text for e in finding.evidence][-2:] == ["sh: 1: golint: not found", ending]
    assert [e.line for e in finding.evidence][-2:] == [5, 6]
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(log), "--root", str(tmp_path),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "No failures found" not in proc.stdout and "golint: not found" in proc.stdout


def test_green_step_and_recognised_red_step_exit_0(tmp_path: Path) -> None:
    log = _log(tmp_path, "ok.log", "====>> Build\nall good\nExited with code exit status 0\n")
    assert _run(tmp_path, log).categories == []
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(REAL / "flake8.log"),
                           "--root", str(tmp_path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_lint_on_files_without_py_suffix_is_read_from_the_failed_steps_last_lines(tmp_path: Path) -> None:
    log = _log(tmp_path, "check.log", "bin/deploy-tool:7:1: I001 [*] Import block is un-sorted or un-formatted\n"
               "make: *** [Makefile:3: check] Error 1\n")
    result = _run(tmp_path, log)
    assert [c.name for c in result.categories] == ["lint-type"]
    assert json.loads((tmp_path / "out" / "ruff.json").read_text())[0]["filename"] == "bin/deploy-tool"


# -- the mixed log and linearity ------------------------------------------------------------------------------

def test_all_real_fixtures_behind_step_banners_give_the_same_categories(tmp_path: Path) -> None:
    logs = sorted(REAL.glob("*.log"))
    alone = {p.stem: {c.name for c in _run(tmp_path / p.stem, p).categories} for p in logs}
    mixed = tmp_path / "mixed.log"
    mixed.write_text("".join(f"====>> {p.stem}\n" + "".join(
        line for line in p.read_text().splitlines(keepends=True) if not line.startswith("====>>")) for p in logs))
    result = _run(tmp_path / "mixed", mixed)
    assert {c.name for c in result.categories} == set().union(*alone.values())
    by_step: dict[str, set[str]] = {}
    for cat in result.categories:
        for f in cat.findings:
            for e in f.evidence:
                by_step.setdefault(e.step or "", set()).add(cat.name)
    for name, cats in alone.items():
        assert by_step.get(name, set()) <= cats, name
        assert cats - by_step.get(name, set()) <= {"lint-type"}, name  # tool reports: one finding, few lines


LONG_LINES = {
    "lint": "pkg/" + "a" * 1_000_000 + ".py:1:1: E501 x",
    "colons": "a:" * 500_000,
    "vitest": " FAIL  " + "x.ts > " * 150_000,
    "npm": "npm ERR! " + "@a/b@" * 200_000,
    "timeout": "tests/x.py::" * 100_000 + " - " + "Timeout" * 10,
    "make": "make: *** " + "[" * 1_000_000,
    "migration": "The `" * 250_000,
    "drift": "[*] Changed " * 100_000,
    "prisma": "Error: P30" * 100_000,
    "mypy": "pkg/a.py:1: error:" + " x" * 500_000,
}


@pytest.mark.parametrize("kind", list(LONG_LINES))  # ids, not the lines: they would land in the environment
def test_new_patterns_stay_linear_on_a_megabyte_line(tmp_path: Path, kind: str) -> None:
    line = LONG_LINES[kind]
    log = _log(tmp_path, "long.log", "====>> step\n" + line + "\nExited with code exit status 1\n")
    start = time.perf_counter()
    _run(tmp_path, log)
    assert time.perf_counter() - start < 1.0
