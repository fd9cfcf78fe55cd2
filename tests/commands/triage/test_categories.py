"""stabfix triage on generated CircleCI-shaped pipelines: each category, a mix of all, empty and binary logs.

The pipelines come from tests/fixtures/triage/make_logs.py (several jobs, thousands of lines each,
pip noise, pytest -vv -n N progress, ANSI colours, timestamps); EXPECTED there is the specification:
the failure ids of each category and the exact argv of every proposed command.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from codemods.commands.triage import triage
from codemods.commands.triage.model import CATEGORIES
from codemods.errors import StabfixError

HERE = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_logs", HERE / "fixtures" / "triage" / "make_logs.py")
assert _spec and _spec.loader
make_logs = importlib.util.module_from_spec(_spec)
sys.modules["make_logs"] = make_logs
_spec.loader.exec_module(make_logs)

EVERY_FIXER = {"noqa", "type-ignore", "pyright-ignore", "version", "prisma-sync", "migration", "auth",
               "workers", "xdist-group", "flaky", "dist"}


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pipelines")
    for cat in make_logs.EXPECTED:
        make_logs.write_pipeline(base / cat, [cat])
    make_logs.write_pipeline(base / "mixed", list(make_logs.EXPECTED))
    return base


def _expected_argv(cat: str, out: Path) -> list[list[str]]:
    return [[a.replace("{out}", str(out)) for a in argv] for argv in make_logs.EXPECTED[cat]["commands"]]


def _check_category(result, cat: str, out: Path) -> None:
    found = result.category(cat)
    assert found is not None, f"{cat} not found"
    assert sorted(f.id for f in found.findings) == sorted(make_logs.EXPECTED[cat]["ids"])
    argvs = [c.argv() for c in found.commands if c.fixer != "dist"]
    assert sorted(argvs) == sorted(_expected_argv(cat, out))


@pytest.mark.parametrize("cat", list(make_logs.EXPECTED))
def test_each_category_pipeline(pipelines: Path, tmp_path: Path, cat: str) -> None:
    folder = pipelines / cat
    lines = sum(len(p.read_text().splitlines()) for p in folder.rglob("*.log"))
    assert lines > 2000 and len(list(folder.rglob("*.log"))) >= 2  # several jobs, thousands of lines
    result = triage([folder], root=tmp_path, out=tmp_path / "out", available=EVERY_FIXER)
    assert [c.name for c in result.categories] == [cat]  # nothing else is guessed from the noise
    _check_category(result, cat, tmp_path / "out")
    assert result.lines == lines


def test_mixed_pipeline_all_categories(pipelines: Path, tmp_path: Path) -> None:
    result = triage([pipelines / "mixed"], root=tmp_path, out=tmp_path / "out", available=EVERY_FIXER)
    assert [c.name for c in result.categories] == list(CATEGORIES)
    for cat in make_logs.EXPECTED:
        _check_category(result, cat, tmp_path / "out")
    # each failure shown once, in the most specific category
    ids = [f.id for c in result.categories for f in c.findings]
    assert len(ids) == len(set(ids))
    bad_key = next(f for f in result.category("config").findings if f.id.endswith("test_provider_bad_key"))
    assert bad_key.also == ["external", "auth"]  # a wrong provider key is configuration: no retry fixes it
    # the dist proposal accompanies xdist-group when that fixer exists
    dist = [c.argv() for c in result.category("parallel").commands if c.fixer == "dist"]
    assert dist == [["stabfix", "apply", "dist", "--mode", "loadgroup", "--job", "local_testing_heavy"]]


def test_extracted_reports_are_the_tools_formats(pipelines: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = triage([pipelines / "lint-type"], root=tmp_path, out=out)
    ruff = json.loads((out / "ruff.json").read_text())
    assert [d["code"] for d in ruff] == ["F401", "E711"] and ruff[0]["noqa_row"] == 3
    assert json.loads(make_logs.RUFF_JSON) == ruff  # byte-exact content back from a timestamped log
    mypy = (out / "mypy.txt").read_text().splitlines()
    assert len([m for m in mypy if ": error: " in m]) == 4 and mypy[0].startswith("litellm/router.py:100:5: error:")
    pyright = json.loads((out / "pyright.json").read_text())
    assert [d["rule"] for d in pyright["generalDiagnostics"]] == ["reportUndefinedVariable", "reportAttributeAccessIssue"]
    assert pyright["generalDiagnostics"][0]["range"]["start"] == {"line": 11, "character": 4}
    assert {r.tool: r.count for r in result.reports} == {"ruff": 2, "mypy": 4, "pyright": 2}
    sql = (out / "migration-db_migration_disable_update_check.log").read_text() if (
        out / "migration-db_migration_disable_update_check.log").exists() else None
    assert sql is None  # schema reports are only written when the schema category has a failure


def test_migration_log_extracted(pipelines: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    triage([pipelines / "version-schema"], root=tmp_path, out=out)
    text = (out / "migration-db_migration_disable_update_check.log").read_text()
    assert text == f"Exit code: 2\nStdout:\n{make_logs.SQL}\n\nStderr:\n\n"


def test_ci_paths_relocated_to_root(pipelines: Path, tmp_path: Path) -> None:
    (tmp_path / "litellm" / "proxy").mkdir(parents=True)
    (tmp_path / "litellm" / "proxy" / "proxy_server.py").write_text("import os\n")
    triage([pipelines / "lint-type"], root=tmp_path, out=tmp_path / "out")
    ruff = json.loads((tmp_path / "out" / "ruff.json").read_text())
    assert ruff[0]["filename"] == str(tmp_path / "litellm" / "proxy" / "proxy_server.py")


def test_unavailable_fixers_are_marked(pipelines: Path, tmp_path: Path) -> None:
    result = triage([pipelines / "auth"], root=tmp_path, out=tmp_path / "o", available=set())
    assert [c.available for c in result.category("auth").commands] == [False]


def test_json_schema(pipelines: Path, tmp_path: Path) -> None:
    data = triage([pipelines / "mixed"], root=tmp_path, out=tmp_path / "o", available=EVERY_FIXER).to_json()
    assert set(data) == {"schema_version", "stabfix_version", "inputs", "reports", "categories", "totals"}
    assert data["schema_version"] == 1 and data["totals"]["failures"] == 22
    for cat in data["categories"]:
        assert set(cat) == {"name", "title", "count", "jobs", "failures", "commands"}
        for f in cat["failures"]:
            assert set(f) == {"id", "kind", "message", "jobs", "also", "runs", "evidence"}
            assert f["evidence"], f
            for e in f["evidence"]:
                assert set(e) == {"file", "line", "step", "text"}
        for c in cat["commands"]:
            assert set(c) == {"fixer", "argv", "available", "stopgap", "note"}
            assert c["argv"][:3] == ["stabfix", "apply", c["fixer"]]
    json.dumps(data)


def test_evidence_points_at_the_line(pipelines: Path, tmp_path: Path) -> None:
    result = triage([pipelines / "auth"], root=tmp_path, out=tmp_path / "o")
    for finding in result.category("auth").findings:
        for e in finding.evidence:
            if e.line:
                text = Path(e.file).read_text().splitlines()[e.line - 1]
                assert e.text.split(" - ")[0].replace("FAILED ", "") in text.replace("\x1b[31m", "").replace("\x1b[0m", "")


def test_grep_and_python_readers_agree(pipelines: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The grep path and the pure-Python path (tiny chunks: every boundary case) give the same triage."""
    from codemods.commands.triage import logs

    assert logs._grep() is not None
    base = triage([pipelines / "mixed"], root=tmp_path, out=tmp_path / "a").to_json()
    monkeypatch.setenv("STABFIX_TRIAGE_NO_GREP", "1")
    monkeypatch.setattr(logs, "CHUNK", 777)
    monkeypatch.setattr(logs.LogReader.__init__, "__defaults__", (777,))
    small = triage([pipelines / "mixed"], root=tmp_path, out=tmp_path / "a").to_json()
    assert small == base


def test_gzip_log(pipelines: Path, tmp_path: Path) -> None:
    src = pipelines / "auth" / "proxy_unit_testing.log"
    gz = tmp_path / "proxy_unit_testing.log.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    result = triage([gz], root=tmp_path, out=tmp_path / "o")
    assert sorted(f.id for f in result.category("auth").findings) == sorted(make_logs.AUTH_IDS)
    assert result.category("auth").jobs == ["proxy_unit_testing"]


def test_empty_log(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    result = triage([empty], root=tmp_path, out=tmp_path / "o")
    assert result.categories == [] and result.failures == 0 and result.lines == 0
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(empty), "--root", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "No failures found" in proc.stdout


def test_binary_file_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "core.log"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 10)
    with pytest.raises(StabfixError, match="binary file"):
        triage([binary], root=tmp_path)
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(binary), "--root", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {binary}: binary file (NUL bytes), not a CI log; pass the text output "
                                   "of a CI step (`stabfix ci failures` downloads them)")
    assert "Traceback" not in proc.stderr


def test_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(StabfixError, match="no such log file"):
        triage([tmp_path / "nope.log"], root=tmp_path)
    with pytest.raises(StabfixError, match="no CI logs"):
        triage([], root=tmp_path)
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-junit")
    with pytest.raises(StabfixError, match="not a JUnit XML report"):
        triage([], [bad], root=tmp_path)


def test_cli_json(pipelines: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(pipelines / "external"), "--json",
                           "--root", str(tmp_path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [c["name"] for c in data["categories"]] == ["external"]
    assert data["categories"][0]["commands"][0]["argv"] == make_logs.EXPECTED["external"]["commands"][0]


def test_human_summary(pipelines: Path, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(pipelines / "mixed"),
                           "--root", str(tmp_path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "stabfix triage: 22 failure(s) in 16 log(s), 9 JUnit report(s)" in out
    for cat in CATEGORIES:
        assert f"│ {cat} " in out
    assert ("stabfix apply auth tests/proxy_unit_tests/test_proxy_server.py --only "
            "tests/proxy_unit_tests/test_proxy_server.py::test_model_list") in out
    assert "\x1b[" not in out  # not a terminal: no colours


def test_one_log_mixing_all_categories(pipelines: Path, tmp_path: Path) -> None:
    """Every job's output concatenated into one log (as a CI system's "download all" gives it)."""
    mixed = pipelines / "mixed"
    one = tmp_path / "pipeline.log"
    one.write_text("".join(p.read_text() for p in sorted(mixed.glob("*.log"))))
    junit = sorted(mixed.rglob("*.xml"))
    result = triage([one], junit, root=tmp_path, out=tmp_path / "out", available=EVERY_FIXER)
    assert [c.name for c in result.categories] == list(CATEGORIES)
    for cat in ("auth", "external", "config", "timing", "flaky", "unknown"):
        assert sorted(f.id for f in result.category(cat).findings) == sorted(make_logs.EXPECTED[cat]["ids"])
    assert [f.id for f in result.category("security").findings] == [
        "pipeline: npm could not resolve the dependency tree (ERESOLVE)"]
    parallel = result.category("parallel")
    assert sorted(f.id for f in parallel.findings) == sorted(make_logs.CRASH_IDS)  # the Killed job joins the log
    assert ["stabfix", "apply", "workers", "--to", "8", "--job", "pipeline"] in [c.argv() for c in parallel.commands]
    lint = result.category("lint-type")
    assert sorted(f.id for f in lint.findings) == sorted(make_logs.EXPECTED["lint-type"]["ids"])
    assert len(result.category("version-schema").findings) == 3


def test_unpublished_pin_is_reported_without_command(tmp_path: Path) -> None:
    log = tmp_path / "install.log"
    log.write_text("ERROR: Could not find a version that satisfies the requirement litellm-proxy-extras==0.4.7\n"
                   "ERROR: No matching distribution found for litellm-proxy-extras==0.4.7\n")
    result = triage([log], root=tmp_path, out=tmp_path / "o")
    cat = result.category("version-schema")
    assert [f.id for f in cat.findings] == ["litellm-proxy-extras==0.4.7 is not published"]
    assert cat.commands == []
