"""``stabfix ci``: fetch a CircleCI pipeline's failures (step logs, test results) for ``stabfix triage``.

:class:`Client` wraps httpx for CircleCI's public API: v2 (pipelines of a branch, workflows of a
pipeline, jobs of a workflow, a job's test metadata; pagination through ``next_page_token``) and
v1.1 (a job's steps, whose failed actions carry an ``output_url``). The token comes from
``CIRCLECI_TOKEN`` and is sent only to the API host (never to the pre-signed ``output_url`` host,
never printed). Requests have timeouts and are retried with exponential backoff on 429 and 5xx
(honouring ``Retry-After``) and on connection errors. ``CIRCLECI_API_URL`` (or ``--api-url``)
points the client at another server, e.g. the fake one of the tests.

What goes into a request is checked first, with a one-line error (exit 2): the token is stripped
of surrounding whitespace and refused when it cannot be an HTTP header value (empty, a control
character or newline inside, non-ASCII); ``--project`` must be VCS/ORG/REPO (:func:`project_slug`),
and pipeline / workflow ids and job numbers one path segment of letters, digits, ``-`` and ``_``,
so that nothing from the command line or an API answer can walk the API's paths (``../../x``).

Commands (the click group ``codemods.commands.circleci:group``):

* ``stabfix ci failures --project gh/ORG/REPO [--branch main | --pipeline ID] [--out DIR]`` writes
  ``DIR/<job>.log`` (each failed step's output after a ``====>> <step>`` banner) and
  ``DIR/<job>.junit.xml`` (the job's test metadata as JUnit XML): ``stabfix triage DIR`` reads them.
* ``stabfix ci status --project gh/ORG/REPO [--branch main | --pipeline ID]`` prints the jobs of the
  latest pipeline with their status.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codemods.errors import StabfixError

if TYPE_CHECKING:
    import httpx

DEFAULT_API = "https://circleci.com/api"
FAILED = ("failed", "infrastructure_fail", "timedout")
RETRY_STATUS = (429, 500, 502, 503, 504)
_V1_VCS = {"gh": "github", "github": "github", "bb": "bitbucket", "bitbucket": "bitbucket"}
VCS = ("gh", "github", "bb", "bitbucket", "circleci")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # an org or repo name (not "." nor "..")
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")  # a pipeline / workflow id (a UUID), a job number


class CircleCIError(StabfixError):
    """The CircleCI API refused or failed a request (exit code 2, one line)."""


def check_token(token: str) -> str:
    """The token stripped of surrounding whitespace; a one-line error (that never shows it) when it
    cannot be sent as an HTTP header value."""
    token = token.strip()
    if not token:
        raise CircleCIError("CIRCLECI_TOKEN is not set; create a personal API token in CircleCI "
                            "(User Settings > Personal API Tokens) and export CIRCLECI_TOKEN")
    problem = ("contains a newline or another control character" if any(c < " " or c == "\x7f" for c in token)
               else "contains a non-ASCII character" if not token.isascii() else "")
    if problem:
        raise CircleCIError(f"CIRCLECI_TOKEN {problem}, so it cannot be sent as an HTTP header; "
                            "copy the personal API token again and export it")
    return token


def segment(value: object, what: str) -> str:
    """``value`` as one URL path segment (an id or a number), else a one-line error."""
    text = str(value)
    if not _ID.fullmatch(text):
        raise CircleCIError(f"{what} {text[:80]!r}: not an id (letters, digits, '-' and '_' only)")
    return text


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    """A CircleCI API client (v2 and v1.1) with retries, backoff and pagination."""

    def __init__(
        self,
        token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        token = check_token(token if token is not None else os.environ.get("CIRCLECI_TOKEN", ""))
        self.base_url = (base_url or os.environ.get("CIRCLECI_API_URL") or DEFAULT_API).rstrip("/")
        self.retries, self.backoff, self.max_wait, self.sleep = retries, backoff, max_wait, sleep
        limits = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        headers = {"Accept": "application/json", "User-Agent": "stabfix-ci"}
        self._api = httpx.Client(base_url=self.base_url, headers={**headers, "Circle-Token": token},
                                 timeout=limits, transport=transport, follow_redirects=False)
        # output_url is a pre-signed URL on another host: no token there
        self._plain = httpx.Client(headers=headers, timeout=limits, transport=transport, follow_redirects=True)

    def close(self) -> None:
        self._api.close()
        self._plain.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------
    def _request(self, client: httpx.Client, url: str, params: dict[str, Any] | None, what: str) -> httpx.Response:
        import httpx

        attempt = 0
        while True:
            try:
                response = client.get(url, params=params)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise CircleCIError(f"CircleCI API: {what}: {type(exc).__name__} after {attempt + 1} "
                                        f"attempts ({self.base_url}); check the network or --api-url") from None
                wait = self.backoff * 2 ** attempt
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
                if attempt >= self.retries:
                    return response
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self.backoff * 2 ** attempt
            self.sleep(min(wait, self.max_wait))
            attempt += 1

    def _check(self, response: httpx.Response, what: str) -> Any:
        code = response.status_code
        if code == 401:
            raise CircleCIError("CircleCI rejected the token in CIRCLECI_TOKEN (HTTP 401); "
                                "create a new personal API token and export it")
        if code == 403:
            raise CircleCIError(f"CircleCI API: {what}: the token in CIRCLECI_TOKEN has no access (HTTP 403)")
        if code == 404:
            raise CircleCIError(f"CircleCI API: {what}: not found (HTTP 404); check --project "
                                "(gh/ORG/REPO) and that the token's user can see the project")
        if code >= 400:
            raise CircleCIError(f"CircleCI API: {what}: HTTP {code} after {self.retries + 1} attempts")
        try:
            return response.json()
        except ValueError:
            raise CircleCIError(f"CircleCI API: {what}: the answer is not JSON") from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to the API base, e.g. ``/v2/me``) and return its JSON."""
        return self._check(self._request(self._api, path, params, f"GET {path}"), f"GET {path}")

    def paginate(self, path: str, params: dict[str, Any] | None = None, limit: int | None = None) -> Iterator[Any]:
        """The ``items`` of every page (v2 pagination: ``next_page_token`` -> ``page-token``)."""
        params = dict(params or {})
        count = 0
        seen: set[str] = set()
        while True:
            page = self.get(path, params)
            for item in page.get("items") or []:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            token = page.get("next_page_token")
            if not token or token in seen:
                return
            seen.add(token)
            params["page-token"] = token

    # -- endpoints -----------------------------------------------------------------------------
    def pipelines(self, project: str, branch: str | None = None, limit: int | None = None) -> Iterator[Any]:
        project = project_slug(project)
        return self.paginate(f"/v2/project/{project}/pipeline", {"branch": branch} if branch else None, limit)

    def pipeline(self, pipeline_id: str) -> Any:
        return self.get(f"/v2/pipeline/{segment(pipeline_id, '--pipeline')}")

    def workflows(self, pipeline_id: str) -> list[Any]:
        return list(self.paginate(f"/v2/pipeline/{segment(pipeline_id, 'pipeline id')}/workflow"))

    def jobs(self, workflow_id: str) -> list[Any]:
        return list(self.paginate(f"/v2/workflow/{segment(workflow_id, 'workflow id')}/job"))

    def tests(self, project: str, job_number: int) -> list[Any]:
        project = project_slug(project)
        return list(self.paginate(f"/v2/project/{project}/{segment(job_number, 'job number')}/tests"))

    def job_v1(self, project: str, job_number: int) -> Any:
        """v1.1 job details (``steps`` with ``actions``)."""
        vcs, org, repo = project_slug(project).split("/")
        return self.get(f"/v1.1/project/{_V1_VCS.get(vcs, vcs)}/{org}/{repo}/{segment(job_number, 'job number')}")

    def output(self, url: str) -> str:
        """The text of a step action's ``output_url`` (a JSON list of ``{"message": ...}``)."""
        response = self._request(self._plain, url, None, "step output")
        if response.status_code >= 400:
            raise CircleCIError(f"CircleCI step output: HTTP {response.status_code} from the output_url")
        try:
            data = response.json()
        except ValueError:
            return response.text
        if isinstance(data, list):
            return "".join(str(m.get("message") or "") for m in data if isinstance(m, dict))
        return response.text


# -- the commands' work --------------------------------------------------------------------------
def project_slug(project: str) -> str:
    """``project`` when it is VCS/ORG/REPO (VCS one of :data:`VCS`; ORG and REPO of letters, digits,
    ``_ . -`` and neither ``.`` nor ``..``), else a one-line error."""
    parts = project.split("/")
    if len(parts) != 3 or parts[0] not in VCS or not all(
            _NAME.fullmatch(p) and p not in (".", "..") for p in parts[1:]):
        raise CircleCIError(f"--project {project[:200]!r}: expected VCS/ORG/REPO with VCS one of "
                            f"{', '.join(VCS)} and ORG, REPO made of letters, digits, '_', '.', '-' "
                            "(e.g. gh/BerriAI/litellm)")
    return project


def latest_pipeline(client: Client, project: str, branch: str | None) -> Any:
    for item in client.pipelines(project, branch, limit=1):
        return item
    raise CircleCIError(f"no pipeline found for {project}" + (f" on branch {branch}" if branch else ""))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "job"


def junit_xml(job: str, items: list[Any]) -> str:
    """CircleCI test metadata as a JUnit XML document (what pytest's --junitxml would have said)."""
    from xml.sax.saxutils import quoteattr

    lines = [f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name={quoteattr(job)} '
             f'tests="{len(items)}">']
    for t in items:
        attrs = (f"classname={quoteattr(str(t.get('classname') or ''))} name={quoteattr(str(t.get('name') or ''))}"
                 f" time={quoteattr(str(t.get('run_time') or 0))}")
        if t.get("file"):
            attrs += f" file={quoteattr(str(t['file']))}"
        result = t.get("result")
        message = str(t.get("message") or "")
        if result in ("failure", "error"):
            tag = "failure" if result == "failure" else "error"
            first = message.strip().splitlines()[0] if message.strip() else result
            from xml.sax.saxutils import escape

            lines.append(f"<testcase {attrs}><{tag} message={quoteattr(first)}>{escape(message)}</{tag}></testcase>")
        elif result == "skipped":
            lines.append(f"<testcase {attrs}><skipped /></testcase>")
        else:
            lines.append(f"<testcase {attrs} />")
    lines.append("</testsuite></testsuites>\n")
    return "\n".join(lines)


@dataclass
class JobFailure:
    """What ``ci failures`` wrote for one failed job."""

    name: str
    number: int | None
    status: str
    log: str | None = None
    junit: str | None = None
    failed_steps: list[str] = field(default_factory=list)
    tests_failed: int = 0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"job": self.name, "job_number": self.number, "status": self.status, "log": self.log,
                "junit": self.junit, "failed_steps": self.failed_steps, "tests_failed": self.tests_failed,
                "note": self.note}


def fetch_failures(client: Client, project: str, out: Path, *, branch: str | None = None,
                   pipeline_id: str | None = None) -> tuple[Any, list[JobFailure]]:
    """Write each failed job's failed-step output and test results to ``out``; return what was written."""
    project = project_slug(project)
    pipe = client.pipeline(pipeline_id) if pipeline_id else latest_pipeline(client, project, branch)
    out.mkdir(parents=True, exist_ok=True)
    written: list[JobFailure] = []
    used: dict[str, int] = {}
    for wf in client.workflows(pipe["id"]):
        for job in client.jobs(wf["id"]):
            if job.get("status") not in FAILED:
                continue
            name = str(job.get("name") or "job")
            used[name] = used.get(name, 0) + 1
            stem = _safe(name) + (f"-{used[name]}" if used[name] > 1 else "")
            number = job.get("job_number")
            result = JobFailure(name, number, str(job.get("status")))
            written.append(result)
            if number is None:
                result.note = "no job number (not run on CircleCI's executors)"
                continue
            details = client.job_v1(project, number)
            chunks: list[str] = []
            for step in details.get("steps") or []:
                for action in step.get("actions") or []:
                    failed = action.get("failed") or action.get("status") in FAILED
                    if not failed:
                        continue
                    step_name = str(step.get("name") or action.get("name") or "step")
                    label = step_name + (f" (container {action['index']})" if action.get("index") else "")
                    result.failed_steps.append(label)
                    text = client.output(action["output_url"]) if action.get("output_url") else ""
                    if not text and not action.get("has_output", True):
                        text = "(no output)\n"
                    chunks.append(f"====>> {label}\n{text}")
                    if not text.endswith("\n"):
                        chunks.append("\n")
                    if action.get("exit_code") is not None:
                        chunks.append(f"Exited with code exit status {action['exit_code']}\n")
            if chunks:
                path = out / f"{stem}.log"
                path.write_text("".join(chunks), encoding="utf-8")
                result.log = str(path)
            else:
                result.note = "the job failed but no step failed (canceled, infrastructure or timeout)"
            tests = client.tests(project, number)
            if tests:
                path = out / f"{stem}.junit.xml"
                path.write_text(junit_xml(name, tests), encoding="utf-8")
                result.junit = str(path)
                result.tests_failed = sum(1 for t in tests if t.get("result") in ("failure", "error"))
    (out / "pipeline.json").write_text(json.dumps({
        "project": project, "pipeline": {k: pipe.get(k) for k in ("id", "number", "state", "created_at")},
        "jobs": [j.to_json() for j in written]}, indent=2) + "\n", encoding="utf-8")
    return pipe, written


def pipeline_status(client: Client, project: str, *, branch: str | None = None,
                    pipeline_id: str | None = None) -> dict[str, Any]:
    """The latest (or given) pipeline with its workflows and their jobs' status."""
    project = project_slug(project)
    pipe = client.pipeline(pipeline_id) if pipeline_id else latest_pipeline(client, project, branch)
    workflows = []
    for wf in client.workflows(pipe["id"]):
        jobs = [{"name": j.get("name"), "status": j.get("status"), "job_number": j.get("job_number")}
                for j in client.jobs(wf["id"])]
        workflows.append({"name": wf.get("name"), "status": wf.get("status"), "id": wf.get("id"), "jobs": jobs})
    return {"project": project, "pipeline": {k: pipe.get(k) for k in ("id", "number", "state", "created_at")},
            "workflows": workflows}


# -- CLI -----------------------------------------------------------------------------------------
def _client(api_url: str | None) -> Client:
    return Client(base_url=api_url)


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed([
        click.option("--project", required=True, metavar="VCS/ORG/REPO", help="e.g. gh/BerriAI/litellm"),
        click.option("--branch", default=None, help="Latest pipeline of this branch (default: any branch)."),
        click.option("--pipeline", "pipeline_id", default=None, metavar="ID", help="This pipeline id instead."),
        click.option("--api-url", default=None, envvar="CIRCLECI_API_URL",
                     help=f"API base URL (default {DEFAULT_API}; env CIRCLECI_API_URL)."),
    ]):
        f = decorator(f)
    return f


def _guard(fn: Callable[[], int]) -> None:
    try:
        code = fn()
    except StabfixError as exc:
        click.echo(exc.one_line(), err=True)
        raise SystemExit(2) from None
    raise SystemExit(code)


@click.group("ci")
def group() -> None:
    """Fetch CI results from CircleCI (token from CIRCLECI_TOKEN)."""


@group.command("failures")
@_common
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("ci-failures"),
              show_default=True, help="Folder for <job>.log and <job>.junit.xml.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def failures_cmd(project: str, branch: str | None, pipeline_id: str | None, api_url: str | None, out: Path,
                 as_json: bool) -> None:
    """Write each failed job's failed-step output and test results to --out, ready for `stabfix triage`."""
    if branch and pipeline_id:
        raise click.UsageError("--branch and --pipeline exclude each other")

    def run() -> int:
        with _client(api_url) as client:
            pipe, jobs = fetch_failures(client, project, out, branch=branch, pipeline_id=pipeline_id)
        if as_json:
            click.echo(json.dumps({"pipeline": pipe.get("id"), "number": pipe.get("number"),
                                   "out": str(out), "jobs": [j.to_json() for j in jobs]}, indent=2))
            return 0
        click.echo(f"pipeline {pipe.get('number')} ({pipe.get('id')}): {len(jobs)} failed job(s)")
        for j in jobs:
            parts = [f"{len(j.failed_steps)} failed step(s) -> {j.log}" if j.log else j.note or "no log"]
            if j.junit:
                parts.append(f"{j.tests_failed} failed test(s) -> {j.junit}")
            click.echo(f"  {j.name} (#{j.number}, {j.status}): " + "; ".join(parts))
        if jobs:
            click.echo(f"next: stabfix triage {out}")
        return 0

    _guard(run)


@group.command("status")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_cmd(project: str, branch: str | None, pipeline_id: str | None, api_url: str | None,
               as_json: bool) -> None:
    """Print the jobs of the latest pipeline with their status (exit 1 when a job failed)."""
    if branch and pipeline_id:
        raise click.UsageError("--branch and --pipeline exclude each other")

    def run() -> int:
        with _client(api_url) as client:
            data = pipeline_status(client, project, branch=branch, pipeline_id=pipeline_id)
        failed = any(j["status"] in FAILED for wf in data["workflows"] for j in wf["jobs"])
        if as_json:
            click.echo(json.dumps(data, indent=2))
            return 1 if failed else 0
        p = data["pipeline"]
        click.echo(f"pipeline {p.get('number')} ({p.get('id')}) {p.get('state')} {p.get('created_at') or ''}".rstrip())
        for wf in data["workflows"]:
            click.echo(f"  workflow {wf['name']}: {wf['status']}")
            width = max((len(str(j["name"])) for j in wf["jobs"]), default=0)
            for j in wf["jobs"]:
                num = f"#{j['job_number']}" if j["job_number"] is not None else ""
                click.echo(f"    {str(j['name']).ljust(width)}  {str(j['status']).ljust(19)} {num}".rstrip())
        return 1 if failed else 0

    _guard(run)


def main(argv: list[str] | None = None) -> None:
    """Run the group standalone (``python -m codemods.commands.circleci``)."""
    group.main(args=sys.argv[1:] if argv is None else argv, prog_name="stabfix ci")


if __name__ == "__main__":  # pragma: no cover
    main()
