"""``stabfix ci watch``: follow a pipeline until every workflow has finished.

:class:`Watcher` polls the pipeline (API v2: the pipeline, its workflows, their jobs) every
``interval`` seconds until every workflow is in a final state, then returns a :class:`WatchResult`
whose ``exit_code`` is 0 (all green), 1 (a job failed, a workflow was canceled or is on hold) or 2
(an error: the pipeline's config errored, the timeout passed). A lost connection (connection
errors or 5xx after the client's own retries, :class:`~.client.CircleCIUnavailable`) does not end
the watch: it is reported, waited out with exponential backoff (capped at ``max_backoff``) and the
watch goes on until the timeout. The clock and ``sleep`` are injectable, so that tests never wait.

With ``revision`` the watcher waits for the branch's pipeline of that commit (the one a push
triggers), which may not exist yet when the watch starts.

Rendering: on a terminal, :func:`live_table` redraws a rich table of the jobs (workflow, job,
status, duration, number); otherwise :func:`line_printer` prints one line per status change.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any

from codemods.commands.circleci.client import (
    FAILED,
    CircleCIError,
    CircleCIUnavailable,
    Client,
    latest_pipeline,
    project_slug,
)

#: workflow states after which nothing more happens without a person
FINAL = ("success", "failed", "error", "canceled", "not_run", "unauthorized", "on_hold")
NOT_GREEN = ("failed", "error", "canceled", "unauthorized", "on_hold")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """Seconds from ``2h``, ``90m``, ``1h30m``, ``45s`` or ``45``; a one-line error otherwise."""
    value = text.strip().lower()
    m = _DURATION.fullmatch(value)
    if not value or m is None or not any(m.groups()):
        raise CircleCIError(f"--timeout {text[:40]!r}: expected a duration such as 2h, 30m, 1h30m, 90s or 90")
    h, mins, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mins * 60 + s


def format_seconds(seconds: float | None) -> str:
    """``1h02m``, ``3m05s``, ``12s`` (empty for None)."""
    if seconds is None:
        return ""
    total = round(max(0.0, seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@dataclass
class JobView:
    """One job of the watched pipeline as last seen."""

    workflow: str
    name: str
    status: str
    number: int | None = None
    started_at: str | None = None
    stopped_at: str | None = None

    def duration(self, now: datetime | None = None) -> float | None:
        """Seconds the job ran (until now while it runs)."""
        start = _when(self.started_at)
        if start is None:
            return None
        stop = _when(self.stopped_at) or (now or datetime.now(timezone.utc))
        return (stop - start).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "name": self.name, "status": self.status, "job_number": self.number,
                "started_at": self.started_at, "stopped_at": self.stopped_at, "duration": self.duration()}


@dataclass
class WatchResult:
    """How a watch ended."""

    exit_code: int
    reason: str
    pipeline: dict[str, Any] = field(default_factory=dict)
    workflows: dict[str, str] = field(default_factory=dict)
    jobs: list[JobView] = field(default_factory=list)
    polls: int = 0
    reconnects: int = 0
    elapsed: float = 0.0

    @property
    def failed_jobs(self) -> list[JobView]:
        return [j for j in self.jobs if j.status in FAILED]

    def to_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "reason": self.reason,
                "pipeline": {k: self.pipeline.get(k) for k in ("id", "number", "state", "created_at")},
                "workflows": self.workflows, "jobs": [j.to_json() for j in self.jobs], "polls": self.polls,
                "reconnects": self.reconnects, "elapsed": round(self.elapsed, 3)}


#: what a renderer is told: ("jobs", jobs, workflows) after every successful poll; ("event", text) otherwise
Update = Callable[[list[JobView], dict[str, str]], None]
Event = Callable[[str], None]


class Watcher:
    """Poll a pipeline until every workflow is final (see the module docstring)."""

    def __init__(self, client: Client, project: str, *, branch: str | None = None, pipeline_id: str | None = None,
                 revision: str | None = None, interval: float = 30.0, timeout: float = 7200.0,
                 max_backoff: float = 300.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, on_update: Update | None = None,
                 on_event: Event | None = None) -> None:
        if branch and pipeline_id:
            raise CircleCIError("--branch and --pipeline exclude each other")
        if revision and not branch:
            raise CircleCIError("--revision needs --branch (the branch the commit was pushed to)")
        if interval < 0 or timeout < 0:
            raise CircleCIError("--interval and --timeout must not be negative")
        self.client, self.project = client, project_slug(project)
        self.branch, self.pipeline_id, self.revision = branch, pipeline_id, revision
        self.interval, self.timeout, self.max_backoff = interval, timeout, max_backoff
        self.clock, self.sleep = clock, sleep
        self.on_update = on_update or (lambda jobs, wfs: None)
        self.on_event = on_event or (lambda text: None)

    def _find(self) -> dict[str, Any] | None:
        if self.pipeline_id:
            return dict(self.client.pipeline(self.pipeline_id))
        if self.revision is None:
            return dict(latest_pipeline(self.client, self.project, self.branch))
        for pipe in self.client.pipelines(self.project, self.branch, limit=50):
            vcs = pipe.get("vcs") or {}
            if str(vcs.get("revision") or "").startswith(self.revision):
                return dict(pipe)
        return None

    def _poll(self, pipe: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[JobView]]:
        pipe = dict(self.client.pipeline(str(pipe["id"])))
        workflows: dict[str, str] = {}
        jobs: list[JobView] = []
        for wf in self.client.workflows(str(pipe["id"])):
            name = str(wf.get("name") or wf.get("id"))
            workflows[name] = str(wf.get("status"))
            for j in self.client.jobs(str(wf["id"])):
                jobs.append(JobView(name, str(j.get("name") or "job"), str(j.get("status")), j.get("job_number"),
                                    j.get("started_at"), j.get("stopped_at")))
        return pipe, workflows, jobs

    def run(self) -> WatchResult:
        start = self.clock()
        deadline = start + self.timeout
        result = WatchResult(2, "")
        pipe: dict[str, Any] | None = None
        lost = 0
        waiting_said = False
        while True:
            wait = self.interval
            try:
                if pipe is None:
                    pipe = self._find()
                    if pipe is None and not waiting_said:
                        self.on_event(f"waiting for the pipeline of {self.revision} on {self.branch}")
                        waiting_said = True
                    elif pipe is not None:
                        self.on_event(f"pipeline {pipe.get('number')} ({pipe.get('id')})")
                if pipe is not None:
                    pipe, workflows, jobs = self._poll(pipe)
                    result.polls += 1
                    result.pipeline, result.workflows, result.jobs = pipe, workflows, jobs
                    if lost:
                        self.on_event("connection back; watching on")
                    lost = 0
                    self.on_update(jobs, workflows)
                    if pipe.get("state") == "errored":
                        errors = "; ".join(str(e.get("message"))[:200] for e in pipe.get("errors") or []
                                           if isinstance(e, dict))
                        return self._end(result, start, 2, f"the pipeline errored: {errors or 'no message'}")
                    if workflows and all(s in FINAL for s in workflows.values()):
                        return self._end(result, start, *self._verdict(workflows, jobs))
                else:
                    lost = 0
            except CircleCIUnavailable as exc:
                lost += 1
                result.reconnects += 1
                wait = min(self.max_backoff, max(self.interval, 1.0) * 2 ** (lost - 1))
                self.on_event(f"connection lost ({exc.one_line().removeprefix('error: ')}); "
                              f"retrying in {format_seconds(wait)}")
            now = self.clock()
            if now >= deadline:
                what = "no pipeline for the commit appeared" if pipe is None else (
                    "no workflow started" if not result.workflows else "the pipeline was still running")
                return self._end(result, start, 2, f"timed out after {format_seconds(self.timeout)}: {what}")
            self.sleep(max(0.0, min(wait, deadline - now)))

    @staticmethod
    def _verdict(workflows: dict[str, str], jobs: list[JobView]) -> tuple[int, str]:
        failed = [j for j in jobs if j.status in FAILED]
        if failed:
            return 1, "failed: " + ", ".join(f"{j.name} (#{j.number})" if j.number is not None else j.name
                                            for j in failed)
        bad = {n: s for n, s in workflows.items() if s in NOT_GREEN}
        if bad:
            return 1, "not green: " + ", ".join(f"workflow {n} {s}" for n, s in bad.items())
        return 0, "success"

    def _end(self, result: WatchResult, start: float, code: int, reason: str) -> WatchResult:
        result.exit_code, result.reason, result.elapsed = code, reason, self.clock() - start
        return result


def watch(client: Client, project: str, **kwargs: Any) -> WatchResult:
    """Watch a pipeline (keyword arguments as :class:`Watcher`'s) and return how it ended."""
    return Watcher(client, project, **kwargs).run()


# -- rendering -----------------------------------------------------------------------------------
def line_printer(out: IO[str], clock: Callable[[], float] = time.monotonic) -> tuple[Update, Event]:
    """Callbacks that print one line per job or workflow status change (for logs and pipes)."""
    start = clock()
    seen: dict[tuple[str, str], str] = {}

    def stamp() -> str:
        return f"[{format_seconds(clock() - start):>6}]"

    def update(jobs: list[JobView], workflows: dict[str, str]) -> None:
        for name, status in workflows.items():
            if seen.get(("wf", name)) != status:
                seen[("wf", name)] = status
                out.write(f"{stamp()} workflow {name}: {status}\n")
        for j in jobs:
            key = (j.workflow, j.name)
            if seen.get(key) != j.status:
                seen[key] = j.status
                took = format_seconds(j.duration()) if j.stopped_at else ""
                num = f" #{j.number}" if j.number is not None else ""
                out.write(f"{stamp()} {j.workflow}/{j.name}{num}: {j.status}{f' ({took})' if took else ''}\n")
        out.flush()

    def event(text: str) -> None:
        out.write(f"{stamp()} {text}\n")
        out.flush()

    return update, event


def jobs_table(jobs: list[JobView], workflows: dict[str, str]) -> Any:
    """A rich table of the jobs: workflow, job, status, duration, number."""
    from rich.table import Table

    colours = {"success": "green", "running": "yellow", "failed": "red", "infrastructure_fail": "red",
               "timedout": "red", "canceled": "magenta", "on_hold": "cyan", "blocked": "dim", "not_run": "dim"}
    table = Table(title_justify="left")
    for column in ("workflow", "job", "status", "duration", "#"):
        table.add_column(column, justify="right" if column in ("duration", "#") else "left")
    for j in jobs:
        colour = colours.get(j.status, "")
        status = f"[{colour}]{j.status}[/{colour}]" if colour else j.status
        table.add_row(f"{j.workflow} ({workflows.get(j.workflow, '?')})", j.name, status,
                      format_seconds(j.duration()), "" if j.number is None else str(j.number))
    return table


def live_table(console: Any) -> tuple[AbstractContextManager[None], Update, Event]:
    """A rich ``Live`` display (a context to enter) and callbacks that redraw it."""
    from contextlib import contextmanager

    from rich.live import Live

    live = Live(console=console, auto_refresh=False, transient=False)

    def update(jobs: list[JobView], workflows: dict[str, str]) -> None:
        live.update(jobs_table(jobs, workflows), refresh=True)

    def event(text: str) -> None:
        live.console.print(text, markup=False, highlight=False)

    @contextmanager
    def running() -> Iterator[None]:
        with live:
            yield

    return running(), update, event
