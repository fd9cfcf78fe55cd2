"""A loopback fake of CircleCI's API for the tests of `stabfix ci` and `stabfix loop`.

:class:`FakeCircleCI` is a ``ThreadingHTTPServer`` on 127.0.0.1 (ephemeral port) answering the
documented JSON shapes: API v2 ``/project/{slug}/pipeline`` (``branch`` filter), ``/pipeline/{id}``,
``/pipeline/{id}/workflow``, ``/workflow/{id}/job``, ``/project/{slug}/{job-number}/tests``,
``/insights/{slug}/flaky-tests``; API v1.1 ``/project/{vcs}/{org}/{repo}/{job-number}`` (``steps`` ->
``actions`` with ``output_url``); the output host's answer (a JSON list of ``{"message", "time",
"type"}``). Every list is paginated (``items`` + ``next_page_token``, ``page_size`` items a page).
Requests need the ``Circle-Token``; the output host refuses it.

Two kinds of pipelines:

* scripted (:meth:`FakeCircleCI.add_pipeline`): jobs whose statuses follow ``stages``, one stage per
  poll of ``/pipeline/{id}`` (the last stage stays), with their test results given;
* real (:class:`GitPipelines`): a bare repository whose ``post-receive`` hook posts each push to the
  fake; a push to a branch matching ``branch_filter`` creates a pipeline whose jobs run in a thread:
  the pushed commit is checked out, each pytest job of its ``.circleci/config.yml`` runs as written
  (``python`` is this interpreter, the JUnit file is collected, ``--timeout`` is dropped because
  pytest-timeout is not installed here) and so do the extra lint jobs (ruff with JSON output as the
  sample's ``ci-logs/ruff.json`` shape, mypy as ``ci-logs/mypy.txt``); their output and JUnit results
  are served. A push to another branch gets a pipeline without workflows, as CircleCI does.

Faults (:meth:`FakeCircleCI.fault`): answer a path a number of times with 429 + ``Retry-After``,
with 5xx, or drop the connection without an answer.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "fake-token-0123456789abcdef"
SLUG = "gh/BerriAI/litellm"
RUNNING = ("running", "queued", "not_running", "blocked")
_T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class FakeJob:
    name: str
    number: int
    stages: list[str]  # status per poll of the pipeline
    tests: list[dict[str, Any]] = field(default_factory=list)
    steps: list[tuple[str, str, int | None, str]] = field(default_factory=list)  # name, status, exit code, output
    started_at: str | None = None
    stopped_at: str | None = None

    def status(self, poll: int) -> str:
        """The status at the ``poll``-th poll of the pipeline (1-based; the last stage stays)."""
        return self.stages[max(0, min(poll - 1, len(self.stages) - 1))]


@dataclass
class FakeWorkflow:
    id: str
    name: str
    jobs: list[FakeJob]
    pipeline: FakePipeline | None = None

    def status(self, poll: int) -> str:
        states = [j.status(poll) for j in self.jobs]
        if any(s in RUNNING for s in states):
            return "failing" if any(s == "failed" for s in states) else "running"
        if any(s in ("failed", "infrastructure_fail", "timedout") for s in states):
            return "failed"
        if any(s == "canceled" for s in states):
            return "canceled"
        if any(s == "on_hold" for s in states):
            return "on_hold"
        return "success"


@dataclass
class FakePipeline:
    id: str
    number: int
    branch: str
    revision: str
    created_at: str
    workflows: list[FakeWorkflow] = field(default_factory=list)
    polls: int = 0
    state: str = "created"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "state": self.state, "created_at": self.created_at,
                "project_slug": SLUG, "errors": [], "trigger": {"type": "webhook", "actor": {"login": "dev"}},
                "vcs": {"branch": self.branch, "revision": self.revision, "provider_name": "GitHub",
                        "origin_repository_url": "https://github.com/BerriAI/litellm"}}


class FakeCircleCI:
    """The fake's state and its HTTP server (see the module docstring). Use as a context manager."""

    def __init__(self, *, token: str = TOKEN, page_size: int = 2) -> None:
        self.token, self.page_size = token, page_size
        self.pipelines: list[FakePipeline] = []  # newest first
        self.flaky: list[dict[str, Any]] | None = []  # None: the insight answers 404
        self.outputs: dict[str, str] = {}
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.faults: list[list[Any]] = []  # [path regex, remaining, kind, extra]
        self.lock = threading.RLock()
        self.on_push: Callable[[str, str, str], None] | None = None
        self._numbers = iter(range(1000, 100000))
        self._job_numbers = iter(range(5000, 500000))
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # -- life cycle ------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    @property
    def url(self) -> str:
        """The API base URL (for ``--api-url`` / ``CIRCLECI_API_URL``)."""
        return self.base + "/api"

    def __enter__(self) -> FakeCircleCI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- building state --------------------------------------------------------------------------
    def fault(self, path: str, times: int, kind: str = "429", retry_after: str = "0") -> None:
        """Answer requests whose path matches the regex ``path`` badly ``times`` times: ``429`` (with
        ``Retry-After``), ``500``/``502``/``503``, or ``drop`` (close the connection, no answer)."""
        with self.lock:
            self.faults.append([re.compile(path), times, kind, retry_after])

    def job_number(self) -> int:
        return next(self._job_numbers)

    def add_pipeline(self, branch: str, jobs: list[FakeJob], *, revision: str | None = None,
                     workflow: str = "build_and_test") -> FakePipeline:
        """A scripted pipeline (newest), one workflow holding ``jobs``."""
        with self.lock:
            number = next(self._numbers)
            pipe = FakePipeline(str(uuid.uuid4()), number, branch, revision or uuid.uuid4().hex + uuid.uuid4().hex[:8],
                                _iso(_T0 + timedelta(minutes=number)))
            if jobs:
                wf = FakeWorkflow(str(uuid.uuid4()), workflow, jobs, pipe)
                pipe.workflows.append(wf)
            self.pipelines.insert(0, pipe)
            return pipe

    def job(self, number: int) -> FakeJob | None:
        for p in self.pipelines:
            for wf in p.workflows:
                for j in wf.jobs:
                    if j.number == number:
                        return j
        return None

    # -- answering -------------------------------------------------------------------------------
    def page(self, items: list[Any], query: dict[str, str]) -> dict[str, Any]:
        start = int(query.get("page-token", "p0")[1:] or 0)
        chunk = items[start:start + self.page_size]
        more = start + self.page_size < len(items)
        return {"items": chunk, "next_page_token": f"p{start + self.page_size}" if more else None}

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            return self._answer(path, query)

    def _answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        v2 = "/api/v2"
        if path == f"{v2}/project/{SLUG}/pipeline":
            items = [p.to_json() for p in self.pipelines if not query.get("branch") or p.branch == query["branch"]]
            return 200, self.page(items, query)
        m = re.fullmatch(rf"{v2}/pipeline/([\w-]+)(/workflow)?", path)
        if m:
            pipe = next((p for p in self.pipelines if p.id == m.group(1)), None)
            if pipe is None:
                return 404, {"message": "Pipeline not found"}
            if not m.group(2):
                pipe.polls += 1
                return 200, pipe.to_json()
            poll = pipe.polls
            return 200, self.page([{"id": wf.id, "name": wf.name, "status": wf.status(poll), "pipeline_id": pipe.id,
                                    "pipeline_number": pipe.number, "project_slug": SLUG,
                                    "created_at": pipe.created_at, "stopped_at": None}
                                   for wf in pipe.workflows], query)
        m = re.fullmatch(rf"{v2}/workflow/([\w-]+)/job", path)
        if m:
            for pipe in self.pipelines:
                for wf in pipe.workflows:
                    if wf.id == m.group(1):
                        return 200, self.page([{
                            "id": f"job-{j.number}", "name": j.name, "job_number": j.number,
                            "status": j.status(pipe.polls), "type": "build", "project_slug": SLUG,
                            "dependencies": [], "started_at": j.started_at, "stopped_at": j.stopped_at}
                            for j in wf.jobs], query)
            return 404, {"message": "Workflow not found"}
        m = re.fullmatch(rf"{v2}/project/{SLUG}/(\d+)/tests", path)
        if m:
            job = self.job(int(m.group(1)))
            return (404, {"message": "Job not found"}) if job is None else (200, self.page(job.tests, query))
        if path == f"{v2}/insights/{SLUG}/flaky-tests":
            if self.flaky is None:
                return 404, {"message": "Insights are not available for this project"}
            return 200, {"flaky-tests": self.flaky, "total-flaky-tests": len(self.flaky)}
        m = re.fullmatch(r"/api/v1\.1/project/github/BerriAI/litellm/(\d+)", path)
        if m:
            job = self.job(int(m.group(1)))
            if job is None:
                return 404, {"message": "Build not found"}
            steps = [{"name": "Spin up environment", "actions": [_action(0, "Spin up environment", "success", 0,
                                                                         None)]}]
            for i, (name, status, code, text) in enumerate(job.steps):
                key = f"{job.number}-{i}"
                self.outputs[key] = text
                steps.append({"name": name, "actions": [_action(0, name, status, code, f"{self.base}/output/{key}")]})
            return 200, {"build_num": job.number, "status": job.status(10**9), "lifecycle": "finished", "steps": steps}
        return 404, {"message": "Not found"}


def _action(index: int, name: str, status: str, code: int | None, url: str | None) -> dict[str, Any]:
    return {"index": index, "step": 101, "name": name, "status": status, "failed": True if status == "failed" else None,
            "exit_code": code, "has_output": url is not None, "output_url": url, "type": "test",
            "bash_command": None, "run_time_millis": 1000, "parallel": True}


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers JSON (the base of every fake API server of the tests)."""

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass

    def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Handler(JsonHandler):
    fake: FakeCircleCI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in two writes: no 40 ms delayed-ACK stall

    def do_POST(self) -> None:  # the bare repository's post-receive hook
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        if urlparse(self.path).path != "/_fake/push" or self.fake.on_push is None:
            return self._send(404, {"message": "Not found"})
        for line in body.splitlines():
            old, new, ref = line.split()
            if ref.startswith("refs/heads/") and set(new) != {"0"}:
                self.fake.on_push(ref.removeprefix("refs/heads/"), new, old)
        return self._send(200, {"ok": True})

    def do_GET(self) -> None:
        fake = self.fake
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        token = self.headers.get("Circle-Token")
        with fake.lock:
            fake.requests.append((path, query, token))
            for f in fake.faults:
                if f[1] > 0 and f[0].search(path):
                    f[1] -= 1
                    if f[2] == "drop":
                        self.close_connection = True
                        return  # no answer at all: the client sees the connection close
                    headers = {"Retry-After": f[3]} if f[2] == "429" else {}
                    return self._send(int(f[2]), {"message": "Too many requests" if f[2] == "429" else "oops"},
                                      headers)
        if path.startswith("/output/"):
            if token:
                return self._send(400, {"message": "the token must not be sent to the output host"})
            text = fake.outputs.get(path.rsplit("/", 1)[1], "")
            half = len(text) // 2  # CircleCI splits output into several messages
            return self._send(200, [{"message": part, "time": _iso(_T0), "type": "out", "truncated": False}
                                    for part in (text[:half], text[half:]) if part])
        if token != fake.token:
            return self._send(401, {"message": "You must log in first."})
        code, body = fake.answer(path, query)
        return self._send(code, body)


# -- real pipelines ------------------------------------------------------------------------------
HOOK = """#!/bin/sh
exec {python} -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.stdin.buffer.read(), method="POST"), timeout=30)
' {url}
"""


def junit_items(path: Path) -> list[dict[str, Any]]:
    """A pytest JUnit report as CircleCI's test metadata items (``result`` success/failure/error/skipped)."""
    import xml.etree.ElementTree as ET

    if not path.is_file():
        return []
    items = []
    for case in ET.parse(path).iter("testcase"):
        result, message = "success", ""
        for child in case:
            if child.tag in ("failure", "error"):
                result = child.tag
                message = f"{child.get('message') or ''}\n{child.text or ''}".strip()
            elif child.tag == "skipped" and result == "success":
                result = "skipped"
        items.append({"classname": case.get("classname") or "", "name": case.get("name") or "",
                      "file": case.get("file"), "result": result, "message": message,
                      "run_time": float(case.get("time") or 0), "source": "pytest"})
    return items


def config_pytest_jobs(checkout: Path) -> dict[str, list[str]]:
    """Each CircleCI job's pytest command line, from the checked-out ``.circleci/config.yml``."""
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((checkout / ".circleci" / "config.yml").read_text())
    out: dict[str, list[str]] = {}
    for name, job in config["jobs"].items():
        for step in job.get("steps", []):
            run = step.get("run") if isinstance(step, dict) else None
            command = run.get("command", "") if isinstance(run, dict) else ""
            for line in command.splitlines():
                if "pytest" in line and not line.strip().startswith("#"):
                    out[name] = shlex.split(line)
    return out


LINT_JOBS: dict[str, list[str]] = {
    # the sample's ci-logs shapes: ruff JSON (B008 in the proxy), mypy text (litellm/utils.py)
    "ruff_lint": ["ruff", "check", "--isolated", "--select", "B008", "--output-format", "json", "litellm"],
    "mypy_linting": ["mypy", "--no-incremental", "--cache-dir", os.devnull, "--show-column-numbers", "--no-pretty",
                     "--follow-imports=skip", "litellm/utils.py"],
}


class GitPipelines:
    """Real pipelines: pushes to ``bare`` (created) run the checked-out commit's jobs (module docstring)."""

    def __init__(self, fake: FakeCircleCI, workdir: Path, *, branch_filter: str = r"litellm_.*",
                 env: dict[str, str] | None = None, before_job: Callable[[Path, str], None] | None = None,
                 lint_jobs: dict[str, list[str]] | None = None) -> None:
        self.fake, self.workdir, self.branch_filter = fake, workdir, branch_filter
        self.env = env or {}
        self.before_job = before_job
        self.lint_jobs = LINT_JOBS if lint_jobs is None else lint_jobs
        self.bare = workdir / "remote.git"
        self.runs: list[dict[str, Any]] = []  # per pipeline: revision, job -> (exit code, seconds)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        hook = self.bare / "hooks" / "post-receive"
        hook.write_text(HOOK.format(python=shlex.quote(sys.executable), url=shlex.quote(f"{fake.base}/_fake/push")))
        hook.chmod(0o755)
        fake.on_push = self.pushed
        self._threads: list[threading.Thread] = []

    def pushed(self, branch: str, revision: str, old: str) -> None:
        if not re.fullmatch(self.branch_filter, branch):
            self.fake.add_pipeline(branch, [], revision=revision)  # CircleCI: a pipeline, no workflow
            return
        names = list(self.lint_jobs)
        pipe = self.fake.add_pipeline(branch, [], revision=revision)
        thread = threading.Thread(target=self._run, args=(pipe, revision, names), daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 600) -> None:
        for t in list(self._threads):
            t.join(timeout)

    def _run(self, pipe: FakePipeline, revision: str, lint_names: list[str]) -> None:
        checkout = Path(tempfile.mkdtemp(prefix="fake-ci-", dir=self.workdir))
        record: dict[str, Any] = {"revision": revision, "pipeline": pipe.number, "jobs": {}}
        self.runs.append(record)
        try:
            subprocess.run(["git", "clone", "-q", "--no-checkout", str(self.bare), str(checkout)], check=True)
            subprocess.run(["git", "-C", str(checkout), "checkout", "-q", revision], check=True)
            pytest_jobs = config_pytest_jobs(checkout)
            jobs = [FakeJob(name, self.fake.job_number(), ["queued"]) for name in [*pytest_jobs, *lint_names]]
            with self.fake.lock:
                wf = FakeWorkflow(str(uuid.uuid4()), "build_and_test", jobs, pipe)
                pipe.workflows.append(wf)
            for job in jobs:
                argv = pytest_jobs.get(job.name) or self.lint_jobs[job.name]
                with self.fake.lock:
                    job.stages, job.started_at = ["running"], _iso(datetime.now(timezone.utc))
                started = datetime.now(timezone.utc)
                code, output, tests = self._job(checkout, job.name, argv)
                status = "success" if code == 0 else "failed"
                with self.fake.lock:
                    job.tests = tests
                    job.steps = [("Checkout code", "success", 0, "Cloning\n"),
                                 ("Run tests", status, code, output)]
                    job.stopped_at = _iso(datetime.now(timezone.utc))
                    job.stages = [status]
                record["jobs"][job.name] = (code, (datetime.now(timezone.utc) - started).total_seconds())
        except Exception as exc:  # pragma: no cover - shown in the test's failure
            record["error"] = repr(exc)
            with self.fake.lock:
                pipe.state = "errored"
        finally:
            shutil.rmtree(checkout, ignore_errors=True)

    def _job(self, checkout: Path, name: str, argv: list[str]) -> tuple[int, str, list[dict[str, Any]]]:
        junit = checkout / f"junit-{name}.xml"
        bindir = Path(sys.executable).parent
        args = []
        for a in argv:
            if a == "python":
                a = sys.executable
            elif a in ("ruff", "mypy"):
                a = str(bindir / a)
            if a.startswith("--junitxml"):
                a = f"--junitxml={junit}"
            if a.startswith("--timeout"):
                continue  # pytest-timeout is not installed here
            args.append(a)
        if "pytest" in argv:
            args += ["-p", "no:cacheprovider"]
        env = {k: v for k, v in os.environ.items()
               if k not in ("LITELLM_MASTER_KEY", "PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS", "CIRCLECI_TOKEN")}
        env.update(self.env, PYTHONDONTWRITEBYTECODE="1")
        if self.before_job is not None:
            self.before_job(checkout, name)
        proc = subprocess.run(args, cwd=checkout, env=env, capture_output=True, text=True, check=False, timeout=600)
        output = f"#!/bin/bash -eo pipefail\n{shlex.join(argv)}\n{proc.stdout}{proc.stderr}"
        return proc.returncode, output, junit_items(junit)
