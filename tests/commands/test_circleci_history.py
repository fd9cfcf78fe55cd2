"""`stabfix ci history` over 24 fake pipelines, and `stabfix triage --history` using it.

A test that fails in 30% of the branch's pipelines (6 of 20) is reported flaky with that rate;
a test that fails everywhere is not flaky; the other branch's pipelines are left out; test results
are paginated. Triage then labels the 30% test flaky (it failed here, passed elsewhere), while the
always-failing one stays a bug (unknown).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codemods.commands.circleci import Client, junit_xml
from codemods.commands.circleci.history import collect_history, render_table
from codemods.commands.triage import triage
from tests.commands.fake_circleci import SLUG, TOKEN, FakeCircleCI, FakeJob

FLAKY = "tests/local_testing/test_cache.py::test_cache_hit_ratio"
BROKEN = "tests/local_testing/test_cache.py::test_eviction_order"
FLAKY_RUNS = {0, 3, 6, 10, 13, 16}  # 6 of 20 pipelines


def _item(name: str, result: str, message: str = "") -> dict[str, Any]:
    return {"classname": "tests.local_testing.test_cache", "name": name, "file": None, "result": result,
            "message": message, "run_time": 0.1, "source": "pytest"}


@pytest.fixture
def fake() -> Iterator[FakeCircleCI]:
    with FakeCircleCI(page_size=2) as server:
        for _ in range(3):  # another branch: not counted
            server.add_pipeline("litellm_other", [FakeJob("local_testing", server.job_number(), ["failed"],
                                                          [_item("test_cache_hit_ratio", "failure", "x")])])
        for i in range(20):
            tests = [_item("test_ok", "success"), _item("test_skip", "skipped"),
                     _item("test_cache_hit_ratio", "failure" if i in FLAKY_RUNS else "success",
                           "assert 0.5 > 0.6" if i in FLAKY_RUNS else ""),
                     _item("test_eviction_order", "failure", "assert ['b', 'a'] == ['a', 'b']")]
            server.add_pipeline("main", [
                FakeJob("local_testing", server.job_number(), ["success" if i not in FLAKY_RUNS else "failed"], tests),
                FakeJob("hold", server.job_number(), ["success"])])
        server.add_pipeline("main", [])  # a pipeline without workflows (filtered out by CircleCI)
        server.flaky = [{"time-wasted": 120, "workflow-created-at": "2026-11-20T10:00:00Z", "workflow-id": "w",
                         "classname": "tests.local_testing.test_cache", "pipeline-number": 1001,
                         "workflow-name": "build_and_test", "test-name": "test_cache_hit_ratio",
                         "job-name": "local_testing", "job-number": 5001, "times-flaked": 6, "source": "pytest",
                         "file": "tests/local_testing/test_cache.py"}]
        yield server


def test_history_reports_the_flaky_test_with_its_rate(fake: FakeCircleCI) -> None:
    with Client(TOKEN, fake.url, backoff=0) as client:
        history = collect_history(client, SLUG, branch="main", last=21)
    assert len(history.pipelines) == 21  # the newest is the one without workflows
    flaky = history.tests[FLAKY]
    assert (flaky.runs, flaky.passed, flaky.failed, flaky.failure_rate, flaky.flaky) == (20, 14, 6, 0.3, True)
    broken = history.tests[BROKEN]
    assert (broken.failed, broken.failure_rate, broken.flaky) == (20, 1.0, False)
    assert history.tests["tests/local_testing/test_cache.py::test_skip"].skipped == 20
    assert [t.id for t in history.ranked()] == [BROKEN, FLAKY]
    assert history.insights["available"] and history.insights["total"] == 1
    assert history.insights["flaky_tests"][0]["id"] == FLAKY
    # the test results were paginated (4 items, 2 a page)
    assert any(p.endswith("/tests") and q.get("page-token") == "p2" for p, q, _ in fake.requests)
    table = render_table(history)
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()
            if line.startswith("  tests/") and "flaked" not in line}
    assert rows[FLAKY] == ["20", "6", "30%", "flaky"]
    assert rows[BROKEN] == ["20", "20", "100%", "always", "fails"]
    assert "CircleCI flaky-test insight: 1 flaky test(s)" in table


def test_last_n_and_missing_insight(fake: FakeCircleCI) -> None:
    fake.flaky = None
    with Client(TOKEN, fake.url, backoff=0) as client:
        history = collect_history(client, SLUG, branch="main", last=5)
    assert len(history.pipelines) == 5 and history.tests[FLAKY].runs == 4
    assert history.insights["available"] is False and "HTTP 404" in history.insights["note"]


def test_cli_history_then_triage_labels_the_test_flaky(fake: FakeCircleCI, tmp_path: Path) -> None:
    env = {**os.environ, "CIRCLECI_TOKEN": TOKEN, "CIRCLECI_API_URL": fake.url}
    out = tmp_path / "history.json"
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.circleci", "history", "--project", SLUG,
                           "--branch", "main", "--last", "21", "--json", "--out", str(out)],
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data == json.loads(out.read_text()) and data["schema"] == "stabfix-ci-history/1"
    row = next(t for t in data["tests"] if t["id"] == FLAKY)
    assert (row["runs"], row["failed"], row["failure_rate"], row["flaky"]) == (20, 6, 0.3, True)

    # this run's failures (what `ci failures` writes): both tests failed
    report = tmp_path / "ci" / "local_testing.junit.xml"
    report.parent.mkdir()
    report.write_text(junit_xml("local_testing", [_item("test_cache_hit_ratio", "failure", "assert 0.5 > 0.6"),
                                                  _item("test_eviction_order", "failure", "assert ['b'] == ['a']"),
                                                  _item("test_ok", "success")]))
    without = triage([report.parent], root=tmp_path, out=tmp_path / "r1")
    assert {c.name: sorted(f.id for f in c.findings) for c in without.categories} == {"unknown": [FLAKY, BROKEN]}
    with_history = triage([report.parent], root=tmp_path, out=tmp_path / "r2", history=out)
    found = {c.name: [f.id for f in c.findings] for c in with_history.categories}
    assert found == {"flaky": [FLAKY], "unknown": [BROKEN]}
    evidence = with_history.category("flaky").findings[0].evidence  # type: ignore[union-attr]
    assert evidence[-1].text == f"history ({out}): failed 6 of 20 runs (30%), passed 14; CircleCI insight: flaked 6 time(s)"
    # the command line: the flaky test gets a retry proposal, exit 1 for the unexplained one is not raised
    proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(report.parent), "--root",
                           str(tmp_path), "--out", str(tmp_path / "r3"), "--history", str(out), "--json"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cats = {c["name"]: c for c in json.loads(proc.stdout)["categories"]}
    assert [f["id"] for f in cats["flaky"]["failures"]] == [FLAKY]


def test_a_bad_history_file_is_one_line(tmp_path: Path) -> None:
    report = tmp_path / "local_testing.junit.xml"
    report.write_text(junit_xml("local_testing", [_item("test_eviction_order", "failure", "x")]))
    for name, text, message in [("missing.json", None, "cannot read the history"),
                                ("bad.json", "{", "not JSON"),
                                ("other.json", '{"schema": "x", "tests": []}', "not a stabfix CI history")]:
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        proc = subprocess.run([sys.executable, "-m", "codemods.commands.triage.cli", str(report), "--root",
                               str(tmp_path), "--history", str(path)],
                              capture_output=True, text=True, check=False, timeout=60)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
