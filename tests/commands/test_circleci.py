"""`stabfix ci` against a fake CircleCI server on loopback (ephemeral port, a thread per test module).

The server answers the documented JSON shapes of CircleCI's API v2 (pipelines, workflows, jobs,
test metadata; ``items`` + ``next_page_token``) and v1.1 (job ``steps`` -> ``actions`` with
``output_url``), and the output_url answer (a JSON list of ``{"message", "time", "type"}``). It
paginates the jobs, answers one 429 with ``Retry-After``, has a failed job with no failed step,
and refuses a wrong ``Circle-Token``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from codemods.commands.circleci import (
    CircleCIError,
    Client,
    fetch_failures,
    junit_xml,
    pipeline_status,
)
from codemods.commands.triage import triage
from codemods.commands.triage.results import read_run
from tests.commands.fake_circleci import JsonHandler

TOKEN = "test-token-0123456789abcdef"
SLUG = "gh/BerriAI/litellm"
PIPE = "5034460f-c7c4-4c43-9457-de07e2029e7b"
WF = "fda08377-fe7e-46b1-8992-3a7aaecac9c3"

LOCAL_LOG_0 = (
    "#!/bin/bash -eo pipefail\n"
    "python -m pytest -vv tests/local_testing --junitxml=test-results/junit.xml -n 8\n"
    "created: 8/8 workers\n8 workers [412 items]\n"
    + "".join(f"[gw{i % 8}] [{i // 5:3d}%] \x1b[32mPASSED\x1b[0m tests/local_testing/test_router.py::test_{i} \n"
              for i in range(400))
    + "[gw2] node down: Not properly terminated\nreplacing crashed worker gw2\n"
    "=========================== short test summary info ============================\n"
    "\x1b[31mFAILED\x1b[0m tests/local_testing/test_completion.py::test_completion_openai - "
    "litellm.exceptions.APIConnectionError: Connection error.\n"
    "FAILED tests/local_testing/test_router.py::test_router_heavy\n"
    "worker 'gw2' crashed while running 'tests/local_testing/test_router.py::test_router_heavy'\n"
    "============ 2 failed, 400 passed in 100.12s (0:01:40) ============\n"
)
LOCAL_LOG_1 = "#!/bin/bash -eo pipefail\npython -m pytest -vv tests/local_testing -n 8\nKilled\n"
PROXY_LOG = (
    "#!/bin/bash -eo pipefail\npython -m pytest tests/proxy_unit_tests -n 4\n"
    "=================================== FAILURES ===================================\n"
    "_______________________________ test_model_list ________________________________\n"
    "E       assert 401 == 200\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/proxy_unit_tests/test_proxy_server.py::test_model_list - assert 401 == 200\n"
)


def _job(name: str, number: int | None, status: str) -> dict[str, Any]:
    return {"id": f"id-{name}", "name": name, "job_number": number, "status": status, "type": "build",
            "project_slug": SLUG, "dependencies": [], "started_at": "2026-11-20T10:00:00Z",
            "stopped_at": "2026-11-20T10:20:00Z"}


def _action(index: int, status: str, output: str | None, exit_code: int | None) -> dict[str, Any]:
    return {"index": index, "step": 104, "name": "Run tests", "status": status, "failed": status == "failed" or None,
            "exit_code": exit_code, "has_output": output is not None, "output_url": output, "type": "test",
            "bash_command": "python -m pytest", "run_time_millis": 1000, "parallel": True,
            "start_time": "2026-11-20T10:00:00Z", "end_time": "2026-11-20T10:01:00Z"}


class FakeCircleCI(JsonHandler):
    server: Any

    def do_GET(self) -> None:
        state = self.server.state
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        state["requests"].append((path, query, self.headers.get("Circle-Token")))
        base = f"http://127.0.0.1:{self.server.server_port}"
        if path.startswith("/output/"):
            if self.headers.get("Circle-Token"):
                return self._send(400, {"message": "the token must not be sent to the output host"})
            text = {"101-0": LOCAL_LOG_0, "101-1": LOCAL_LOG_1, "103-0": PROXY_LOG}[path.rsplit("/", 1)[1]]
            half = len(text) // 2  # CircleCI splits output into several messages
            return self._send(200, [
                {"message": text[:half], "time": "2026-11-20T10:00:01.000Z", "type": "out", "truncated": False},
                {"message": text[half:], "time": "2026-11-20T10:00:02.000Z", "type": "out", "truncated": False}])
        if self.headers.get("Circle-Token") != TOKEN:
            return self._send(401, {"message": "You must log in first."})
        if path == f"/api/v2/project/{SLUG}/pipeline":
            assert query.get("branch") == "main"
            return self._send(200, {"items": [{"id": PIPE, "number": 4242, "state": "created",
                                               "created_at": "2026-11-20T09:59:00Z", "project_slug": SLUG,
                                               "vcs": {"branch": "main", "revision": "6b1d2c3"}}],
                                    "next_page_token": "pipelines-page-2"})
        if path == f"/api/v2/pipeline/{PIPE}":
            return self._send(200, {"id": PIPE, "number": 4242, "state": "created", "created_at": "2026-11-20T09:59:00Z"})
        if path == f"/api/v2/pipeline/{PIPE}/workflow":
            state["workflow_calls"] += 1
            if state["workflow_calls"] == 1:
                return self._send(429, {"message": "Too many requests"}, {"Retry-After": "0"})
            return self._send(200, {"items": [{"id": WF, "name": "build_and_test", "status": "failed",
                                               "pipeline_id": PIPE, "pipeline_number": 4242}],
                                    "next_page_token": None})
        if path == f"/api/v2/workflow/{WF}/job":
            if query.get("page-token") == "jobs-2":
                return self._send(200, {"items": [_job("proxy_unit_testing", 103, "failed"),
                                                  _job("check_code_and_doc_quality", 104, "failed"),
                                                  _job("hold", None, "on_hold")], "next_page_token": None})
            return self._send(200, {"items": [_job("local_testing", 101, "failed"), _job("build_docs", 102, "success")],
                                    "next_page_token": "jobs-2"})
        v1 = "/api/v1.1/project/github/BerriAI/litellm/"
        if path.startswith(v1):
            num = int(path[len(v1):])
            setup = {"name": "Spin up environment", "actions": [_action(0, "success", f"{base}/output/x", None)]}
            if num == 101:
                steps = [setup, {"name": "Run tests", "actions": [
                    _action(0, "failed", f"{base}/output/101-0", 1), _action(1, "failed", f"{base}/output/101-1", 137)]}]
            elif num == 103:
                steps = [setup, {"name": "Run proxy unit tests", "actions": [_action(0, "failed", f"{base}/output/103-0", 1)]}]
            else:  # the job failed, but no step did (e.g. canceled while uploading)
                steps = [setup]
            return self._send(200, {"build_num": num, "status": "failed", "lifecycle": "finished", "steps": steps})
        if path.startswith(f"/api/v2/project/{SLUG}/") and path.endswith("/tests"):
            num = int(path.split("/")[-2])
            items = {
                101: [{"message": "litellm.exceptions.APIConnectionError: Connection error.", "source": "pytest",
                       "run_time": 1.5, "file": None, "result": "failure", "name": "test_completion_openai",
                       "classname": "tests.local_testing.test_completion"},
                      {"message": "", "source": "pytest", "run_time": 0.1, "file": None, "result": "success",
                       "name": "test_0", "classname": "tests.local_testing.test_router"}],
                103: [{"message": "assert 401 == 200", "source": "pytest", "run_time": 0.2, "file": None,
                       "result": "failure", "name": "test_model_list",
                       "classname": "tests.proxy_unit_tests.test_proxy_server"}],
            }.get(num, [])
            return self._send(200, {"items": items, "next_page_token": None})
        return self._send(404, {"message": "Not found"})


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any]]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeCircleCI)
    httpd.state = {"requests": [], "workflow_calls": 0}  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/api", httpd.state  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _cli(args: list[str], url: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CIRCLECI_TOKEN", "CIRCLECI_API_URL")}
    env["CIRCLECI_API_URL"] = url
    if token is not None:
        env["CIRCLECI_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "codemods.commands.circleci", *args], capture_output=True, text=True,
                          env=env, check=False, timeout=60)


def test_failures_writes_logs_and_results_then_triage(server: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    url, state = server
    out = tmp_path / "ci"
    proc = _cli(["failures", "--project", SLUG, "--branch", "main", "--out", str(out)], url)
    assert proc.returncode == 0, proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "local_testing.junit.xml", "local_testing.log", "pipeline.json", "proxy_unit_testing.junit.xml",
        "proxy_unit_testing.log"]
    local = (out / "local_testing.log").read_text()
    assert local == (f"====>> Run tests\n{LOCAL_LOG_0}Exited with code exit status 1\n"
                     f"====>> Run tests (container 1)\n{LOCAL_LOG_1}Exited with code exit status 137\n")
    assert "check_code_and_doc_quality (#104, failed): the job failed but no step failed" in proc.stdout
    # a 429 was retried, the jobs' second page was fetched, the output host never saw the token
    assert state["workflow_calls"] == 2
    assert (f"/api/v2/workflow/{WF}/job", {"page-token": "jobs-2"}, TOKEN) in state["requests"]
    assert all(tok is None for path, _, tok in state["requests"] if path.startswith("/output/"))
    assert not any(q.get("page-token") == "pipelines-page-2" for _, q, _ in state["requests"])  # latest only
    summary = json.loads((out / "pipeline.json").read_text())
    assert [j["job"] for j in summary["jobs"]] == ["local_testing", "proxy_unit_testing", "check_code_and_doc_quality"]

    result = triage([out], root=tmp_path, out=tmp_path / "reports")
    names = {c.name: sorted(f.id for f in c.findings) for c in result.categories}
    assert names == {
        "parallel": ["tests/local_testing/test_router.py::test_router_heavy"],
        "auth": ["tests/proxy_unit_tests/test_proxy_server.py::test_model_list"],
        "external": ["tests/local_testing/test_completion.py::test_completion_openai"],
    }
    workers = [c.argv() for c in result.category("parallel").commands if c.fixer == "workers"]
    assert workers == [["stabfix", "apply", "workers", "--to", "4", "--job", "local_testing"]]


def test_failures_for_a_given_pipeline(server: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    url, _ = server
    with Client(TOKEN, url, backoff=0) as client:
        pipe, jobs = fetch_failures(client, SLUG, tmp_path, pipeline_id=PIPE)
    assert pipe["number"] == 4242 and [j.tests_failed for j in jobs] == [1, 1, 0]
    run = read_run(tmp_path / "proxy_unit_testing.junit.xml")
    assert run.job == "proxy_unit_testing"
    assert {n: c.outcome for n, c in run.cases.items()} == {
        "tests/proxy_unit_tests/test_proxy_server.py::test_model_list": "failed"}


def test_status(server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    proc = _cli(["status", "--project", SLUG, "--branch", "main"], url)
    assert proc.returncode == 1, proc.stderr  # a job failed
    assert proc.stdout.splitlines() == [
        f"pipeline 4242 ({PIPE}) created 2026-11-20T09:59:00Z",
        "  workflow build_and_test: failed",
        "    local_testing               failed              #101",
        "    build_docs                  success             #102",
        "    proxy_unit_testing          failed              #103",
        "    check_code_and_doc_quality  failed              #104",
        "    hold                        on_hold",
    ]
    with Client(TOKEN, url, backoff=0) as client:
        data = pipeline_status(client, SLUG, branch="main")
    assert [j["status"] for j in data["workflows"][0]["jobs"]] == ["failed", "success", "failed", "failed", "on_hold"]


def test_missing_token(server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    proc = _cli(["status", "--project", SLUG], url, token=None)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: CIRCLECI_TOKEN is not set;") and "Traceback" not in proc.stderr


def test_rejected_token_never_printed(server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    wrong = "wrong-secret-token-value"
    proc = _cli(["failures", "--project", SLUG, "--branch", "main"], url, token=wrong)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: CircleCI rejected the token in CIRCLECI_TOKEN (HTTP 401); "
                                   "create a new personal API token and export it")
    assert wrong not in proc.stdout + proc.stderr


def test_bad_project(server: tuple[str, dict[str, Any]]) -> None:
    url, _ = server
    proc = _cli(["status", "--project", "BerriAI/litellm"], url)
    assert proc.returncode == 2 and "expected VCS/ORG/REPO" in proc.stderr
    with Client(TOKEN, url, backoff=0) as client, pytest.raises(CircleCIError, match="HTTP 404"):
        pipeline_status(client, "gh/BerriAI/nope", pipeline_id="missing")


def test_retry_after_and_backoff() -> None:
    import httpx

    answers = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "7"}),
               httpx.Response(200, json={"items": [1], "next_page_token": None})]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[len(seen) - 1]

    waits: list[float] = []
    with Client(TOKEN, "http://ci.invalid/api", backoff=0.5, transport=httpx.MockTransport(handler),
                sleep=waits.append) as client:
        assert list(client.paginate("/v2/x")) == [1]
    assert waits == [0.5, 7.0]  # exponential backoff, then the server's Retry-After
    assert seen[0].headers["Circle-Token"] == TOKEN


def test_retries_exhausted_and_connection_errors() -> None:
    import httpx

    waits: list[float] = []
    with Client(TOKEN, "http://ci.invalid/api", retries=2, backoff=1,
                transport=httpx.MockTransport(lambda r: httpx.Response(502)), sleep=waits.append) as client, \
            pytest.raises(CircleCIError, match=r"HTTP 502 after 3 attempts"):
        client.get("/v2/me")
    assert waits == [1, 2]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with Client(TOKEN, "http://ci.invalid/api", retries=1, backoff=0,
                transport=httpx.MockTransport(refuse), sleep=lambda s: None) as client, \
            pytest.raises(CircleCIError, match="ConnectError after 2 attempts"):
        client.get("/v2/me")


def test_junit_from_test_metadata_round_trips(tmp_path: Path) -> None:
    items = [{"message": "assert 401 == 200\n+ where 401 = <Response [401]>", "result": "failure",
              "name": "test_list_keys", "classname": "tests.proxy_unit_tests.test_proxy_server.TestKeyList",
              "file": "tests/proxy_unit_tests/test_proxy_server.py", "run_time": 0.3, "source": "pytest"},
             {"message": None, "result": "skipped", "name": "test_b", "classname": "tests.x", "run_time": 0}]
    path = tmp_path / "proxy.junit.xml"
    path.write_text(junit_xml("proxy", items))
    run = read_run(path)
    case = run.cases["tests/proxy_unit_tests/test_proxy_server.py::TestKeyList::test_list_keys"]
    assert case.outcome == "failed" and case.message.startswith("assert 401 == 200")
    assert run.cases["tests/x.py::test_b"].outcome == "skipped"
