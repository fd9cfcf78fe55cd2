"""The CircleCI API client: :class:`Client` wraps httpx for CircleCI's public API.

API v2 (pipelines of a branch, workflows of a pipeline, jobs of a workflow, a job's test metadata;
pagination through ``next_page_token``) and v1.1 (a job's steps, whose failed actions carry an
``output_url``). The token comes from ``CIRCLECI_TOKEN`` and is sent only to the API host (never to
the pre-signed ``output_url`` host, never printed). Requests have timeouts and are retried with
exponential backoff on 429 and 5xx (honouring ``Retry-After``) and on connection errors; when the
retries run out on a connection error or a 5xx, :class:`CircleCIUnavailable` says so (``ci watch``
keeps watching after it). ``CIRCLECI_API_URL`` (or ``--api-url``) points the client at another
server, e.g. the fake one of the tests.

What goes into a request is checked first, with a one-line error (exit 2): the token is stripped
of surrounding whitespace and refused when it cannot be an HTTP header value (empty, a control
character or newline inside, non-ASCII); ``--project`` must be VCS/ORG/REPO (:func:`project_slug`),
and pipeline / workflow ids and job numbers one path segment of letters, digits, ``-`` and ``_``,
so that nothing from the command line or an API answer can walk the API's paths (``../../x``).
"""

from __future__ import annotations

import email.utils
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

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


class CircleCIUnavailable(CircleCIError):
    """The API could not be reached (connection errors, 5xx) after every retry: transient."""


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
                    raise CircleCIUnavailable(f"CircleCI API: {what}: {type(exc).__name__} after {attempt + 1} "
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
            kind = CircleCIUnavailable if code in RETRY_STATUS else CircleCIError
            raise kind(f"CircleCI API: {what}: HTTP {code} after {self.retries + 1} attempts")
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

    def flaky_tests(self, project: str) -> Any:
        """CircleCI's own flaky-test insight (``GET /v2/insights/{project-slug}/flaky-tests``)."""
        return self.get(f"/v2/insights/{project_slug(project)}/flaky-tests")

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


