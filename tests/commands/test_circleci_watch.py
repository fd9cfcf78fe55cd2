"""`stabfix ci watch` against the loopback fake (tests/commands/fake_circleci.py), without real waiting.

The clock and the sleeps (the watcher's and the client's backoff) are a fake clock: a watch of
"2 hours" takes milliseconds. Covered: the jobs' pagination, a 429 with ``Retry-After`` (honoured),
the connection dropping mid-watch (reported, backed off, the watch goes on), a failed job (exit 1),
a pipeline that never finishes (timeout, exit 2), waiting for the pipeline of a pushed commit, the
line output off a terminal and the rich table on one.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from codemods.commands.circleci import Client
from codemods.commands.circleci.watch import (
    Watcher,
    format_seconds,
    jobs_table,
    line_printer,
    parse_duration,
    watch,
)
from codemods.errors import StabfixError
from tests.commands.fake_circleci import SLUG, TOKEN, FakeCircleCI, FakeJob


class Clock:
    """A fake monotonic clock whose sleep only moves time forward (and records the sleeps)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture
def fake() -> Iterator[FakeCircleCI]:
    with FakeCircleCI(page_size=2) as server:
        yield server


def _jobs(fake: FakeCircleCI, spec: dict[str, list[str]]) -> list[FakeJob]:
    return [FakeJob(name, fake.job_number(), stages, started_at="2026-11-20T10:00:00Z",
                    stopped_at="2026-11-20T10:03:05Z") for name, stages in spec.items()]


def _client(fake: FakeCircleCI, clock: Clock, retries: int = 4) -> Client:
    return Client(TOKEN, fake.url, backoff=1.0, retries=retries, sleep=clock.sleep)


def test_green_after_pagination_429_and_a_dropped_connection(fake: FakeCircleCI) -> None:
    green = ["queued", "running", "running", "success"]
    pipe = fake.add_pipeline("litellm_fix", _jobs(fake, {f"job_{i}": green for i in range(5)}))
    fake.fault(r"/workflow$", 1, "429", retry_after="7")  # the client waits what the server says
    fake.fault(r"/job$", 2, "drop")  # mid-watch: two dropped connections exhaust the client's one retry
    clock = Clock()
    out = io.StringIO()
    update, event = line_printer(out, clock.now)
    with _client(fake, clock, retries=1) as client:
        result = watch(client, SLUG, pipeline_id=pipe.id, interval=30, timeout=3600, clock=clock.now,
                       sleep=clock.sleep, on_update=update, on_event=event)
    assert result.exit_code == 0 and result.reason == "success"
    assert [j.name for j in result.jobs] == [f"job_{i}" for i in range(5)]  # 3 pages of jobs
    assert any(q.get("page-token") == "p4" for p, q, _ in fake.requests if p.endswith("/job"))
    assert result.reconnects == 1
    assert 7.0 in clock.sleeps  # Retry-After honoured
    text = out.getvalue()
    assert "connection lost (CircleCI API: GET /v2/workflow/" in text and "RemoteProtocolError" in text
    assert "connection back; watching on" in text
    # one line per change (the poll that lost the connection also lost the "queued" stage), in order,
    # durations from started_at/stopped_at
    lines = text.splitlines()
    assert [line.split("] ", 1)[1] for line in lines if "job_3" in line] == [
        f"build_and_test/job_3 #{pipe.workflows[0].jobs[3].number}: running (3m05s)",
        f"build_and_test/job_3 #{pipe.workflows[0].jobs[3].number}: success (3m05s)"]
    assert lines.index(next(x for x in lines if "connection back" in x)) < lines.index(
        next(x for x in lines if "workflow build_and_test: running" in x))


def test_a_failed_job_is_exit_1_and_named(fake: FakeCircleCI) -> None:
    jobs = _jobs(fake, {"lint": ["running", "success"], "local_testing": ["running", "running", "failed"],
                        "proxy": ["running", "running", "running", "success"]})
    pipe = fake.add_pipeline("litellm_fix", jobs)
    clock = Clock()
    with _client(fake, clock) as client:
        result = watch(client, SLUG, branch="litellm_fix", interval=10, timeout=600, clock=clock.now,
                       sleep=clock.sleep)
    assert result.pipeline["id"] == pipe.id
    assert result.exit_code == 1 and result.reason == f"failed: local_testing (#{jobs[1].number})"
    assert result.workflows == {"build_and_test": "failed"}
    assert result.polls == 4  # "failing" is not final: the watch waited for the proxy job
    assert clock.sleeps == [10, 10, 10]


def test_a_pipeline_that_never_finishes_times_out_with_exit_2(fake: FakeCircleCI) -> None:
    pipe = fake.add_pipeline("litellm_fix", _jobs(fake, {"slow": ["running"]}))
    clock = Clock()
    with _client(fake, clock) as client:
        result = watch(client, SLUG, pipeline_id=pipe.id, interval=60, timeout=parse_duration("2h"),
                       clock=clock.now, sleep=clock.sleep)
    assert result.exit_code == 2
    assert result.reason == "timed out after 2h00m: the pipeline was still running"
    assert clock.t == 7200 and result.polls == 7200 // 60 + 1


def test_connection_lost_for_good_ends_at_the_timeout_with_backoff(fake: FakeCircleCI) -> None:
    pipe = fake.add_pipeline("litellm_fix", _jobs(fake, {"slow": ["running"]}))
    fake.fault(r"/pipeline/", 10**6, "503")
    clock = Clock()
    events: list[str] = []
    with _client(fake, clock, retries=0) as client:
        result = watch(client, SLUG, pipeline_id=pipe.id, interval=10, timeout=600, max_backoff=120,
                       clock=clock.now, sleep=clock.sleep, on_event=events.append)
    assert result.exit_code == 2 and result.reason.startswith("timed out after 10m00s")
    assert clock.sleeps[:5] == [10, 20, 40, 80, 120]  # exponential backoff, capped
    assert all("connection lost" in e and "HTTP 503" in e for e in events)


def test_waits_for_the_pipeline_of_a_pushed_commit(fake: FakeCircleCI) -> None:
    fake.add_pipeline("litellm_fix", _jobs(fake, {"old": ["failed"]}), revision="a" * 40)
    clock = Clock()
    events: list[str] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 2:  # the push's pipeline appears while the watch waits
            fake.add_pipeline("litellm_fix", _jobs(fake, {"new": ["running", "success"]}), revision="b" * 40)

    with _client(fake, clock) as client:
        result = watch(client, SLUG, branch="litellm_fix", revision="b" * 12, interval=5, timeout=60,
                       clock=clock.now, sleep=sleep, on_event=events.append)
    assert result.exit_code == 0 and [j.name for j in result.jobs] == ["new"]
    assert events[0] == "waiting for the pipeline of bbbbbbbbbbbb on litellm_fix"


def test_bad_arguments() -> None:
    with Client(TOKEN, "http://127.0.0.1:9/api") as client:
        with pytest.raises(StabfixError, match="exclude each other"):
            Watcher(client, SLUG, branch="a", pipeline_id="b")
        with pytest.raises(StabfixError, match="--revision needs --branch"):
            Watcher(client, SLUG, revision="abc")
    for text in ("", "2x", "h", "-1"):
        with pytest.raises(StabfixError, match="expected a duration"):
            parse_duration(text)
    assert [parse_duration(t) for t in ("2h", "30m", "1h30m", "90s", "45", "1.5h")] == [7200, 1800, 5400, 90, 45, 5400]
    assert [format_seconds(s) for s in (5, 185, 3720)] == ["5s", "3m05s", "1h02m"]


def test_rich_table_on_a_terminal(fake: FakeCircleCI) -> None:
    from rich.console import Console

    from codemods.commands.circleci.watch import JobView

    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    console.print(jobs_table([JobView("build_and_test", "local_testing", "failed", 101, "2026-11-20T10:00:00Z",
                                      "2026-11-20T10:01:40Z"),
                              JobView("build_and_test", "lint", "success", 102, None, None)],
                             {"build_and_test": "failed"}))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "local_testing" in text and "failed" in text and "1m40s" in text and "101" in text
    assert "build_and_test (failed)" in text


def _cli(fake: FakeCircleCI, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIRCLECI_TOKEN": TOKEN, "CIRCLECI_API_URL": fake.url}
    return subprocess.run([sys.executable, "-m", "codemods.commands.circleci", "watch", "--project", SLUG, *args],
                          capture_output=True, text=True, env=env, check=False, timeout=60)


def test_cli_exit_codes_and_lines(fake: FakeCircleCI) -> None:
    done = fake.add_pipeline("litellm_a", _jobs(fake, {"lint": ["success"]}))
    proc = _cli(fake, "--pipeline", done.id, "--interval", "0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith(f"pipeline {done.number} ({done.id}): success after ")
    assert "build_and_test/lint #" in proc.stdout and TOKEN not in proc.stdout + proc.stderr
    never = fake.add_pipeline("litellm_b", _jobs(fake, {"slow": ["running"]}))
    proc = _cli(fake, "--branch", "litellm_b", "--interval", "0.05", "--timeout", "0.3s")
    assert proc.returncode == 2
    assert f"pipeline {never.number} ({never.id}): timed out after 0s: the pipeline was still running" in proc.stdout
    proc = _cli(fake, "--branch", "litellm_b", "--timeout", "soon")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --timeout 'soon': expected a duration")
    proc = _cli(fake, "--interval", "1")
    assert proc.returncode == 2 and "give --branch B or --pipeline ID" in proc.stderr


def test_the_live_table_on_a_terminal(fake: FakeCircleCI, monkeypatch: pytest.MonkeyPatch) -> None:
    from codemods.commands.circleci.cli import run_watch

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("COLUMNS", "100")
    pipe = fake.add_pipeline("litellm_fix", _jobs(fake, {"lint": ["running", "success"],
                                                         "local_testing": ["running", "running", "failed"]}))
    clock = Clock()
    with _client(fake, clock) as client:
        result = run_watch(Watcher(client, SLUG, pipeline_id=pipe.id, interval=5, timeout=60, clock=clock.now,
                                   sleep=clock.sleep))
    assert result.exit_code == 1
    text = screen.getvalue()
    assert "\x1b[" in text  # redrawn in place (cursor movement), not one line per change
    assert "┏━" in text and "workflow" in text and "local_testing" in text and "3m05s" in text
    assert text.count("build_and_test (failed)") >= 2
