"""The ``stabfix ci`` click group (``codemods.commands.circleci:group``).

``failures``, ``status``, ``watch``, ``history`` and ``branch``; every error is one line on stderr
with exit code 2. The work lives in the sibling modules; this module only parses options.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codemods.commands.circleci.client import DEFAULT_API, FAILED, Client
from codemods.commands.circleci.failures import fetch_failures, pipeline_status
from codemods.errors import StabfixError

if TYPE_CHECKING:
    from codemods.commands.circleci.watch import Watcher, WatchResult


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
    """Fetch, watch and compare CircleCI pipelines (token from CIRCLECI_TOKEN)."""


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


@group.command("watch")
@click.option("--project", required=True, metavar="VCS/ORG/REPO", help="e.g. gh/BerriAI/litellm")
@click.option("--branch", default=None, help="Watch the latest pipeline of this branch.")
@click.option("--pipeline", "pipeline_id", default=None, metavar="ID", help="Watch this pipeline.")
@click.option("--revision", default=None, metavar="SHA",
              help="With --branch: wait for the pipeline of this commit (after a push).")
@click.option("--interval", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between polls.")
@click.option("--timeout", "timeout_text", default="2h", show_default=True,
              help="Give up after this long (2h, 30m, 90s): exit 2.")
@click.option("--json", "as_json", is_flag=True, help="Print the final state as JSON (no live output).")
@click.option("--api-url", default=None, envvar="CIRCLECI_API_URL",
              help=f"API base URL (default {DEFAULT_API}; env CIRCLECI_API_URL).")
def watch_cmd(project: str, branch: str | None, pipeline_id: str | None, revision: str | None, interval: float,
              timeout_text: str, as_json: bool, api_url: str | None) -> None:
    """Follow a pipeline until every workflow has finished: exit 0 green, 1 a job failed, 2 error or timeout."""
    if branch and pipeline_id:
        raise click.UsageError("--branch and --pipeline exclude each other")
    if not branch and not pipeline_id:
        raise click.UsageError("give --branch B or --pipeline ID")

    def run() -> int:
        from codemods.commands.circleci.watch import Watcher, format_seconds, parse_duration

        timeout = parse_duration(timeout_text)
        with _client(api_url) as client:
            result = run_watch(Watcher(client, project, branch=branch, pipeline_id=pipeline_id, revision=revision,
                                       interval=interval, timeout=timeout), quiet=as_json)
        if as_json:
            click.echo(json.dumps(result.to_json(), indent=2))
        else:
            p = result.pipeline
            where = f"pipeline {p.get('number')} ({p.get('id')})" if p else "watch"
            click.echo(f"{where}: {result.reason} after {format_seconds(result.elapsed)}")
        return result.exit_code

    _guard(run)


@group.command("history")
@click.option("--project", required=True, metavar="VCS/ORG/REPO", help="e.g. gh/BerriAI/litellm")
@click.option("--branch", default=None, help="Pipelines of this branch (default: any branch).")
@click.option("--last", type=click.IntRange(min=1, max=500), default=20, show_default=True,
              help="How many of the latest pipelines.")
@click.option("--json", "as_json", is_flag=True, help="Print the history as JSON (what `triage --history` reads).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the JSON to this file.")
@click.option("--api-url", default=None, envvar="CIRCLECI_API_URL",
              help=f"API base URL (default {DEFAULT_API}; env CIRCLECI_API_URL).")
def history_cmd(project: str, branch: str | None, last: int, as_json: bool, out: Path | None,
                api_url: str | None) -> None:
    """Per test across the last N pipelines: runs, failures, failure rate; and CircleCI's flaky-test insight."""

    def run() -> int:
        from codemods.commands.circleci.history import collect_history, render_table

        with _client(api_url) as client:
            history = collect_history(client, project, branch=branch, last=last)
        text = json.dumps(history.to_json(), indent=2) + "\n"
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        click.echo(text if as_json else render_table(history), nl=False)
        return 0

    _guard(run)


@group.command("branch")
@click.argument("name")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="The repository.")
@click.option("--check", "check_only", is_flag=True,
              help="Only check NAME against the branch rule (exit 1 when CircleCI would not run it).")
def branch_cmd(name: str, root: Path, check_only: bool) -> None:
    """Create and switch to a branch CircleCI runs (the `litellm_` prefix is added when missing)."""

    def run() -> int:
        from codemods.commands.circleci.branch import branch_rule, check_branch, create_branch

        if check_only:
            rule = branch_rule(root)
            ok = rule.matches(name)
            click.echo(f"{name}: {'runs' if ok else 'does not run'} on CircleCI "
                       f"({rule.pattern or 'any branch'}; {rule.source})")
            if ok:
                check_branch(root, name, push=False)
            return 0 if ok else 1
        created = create_branch(root, name)
        click.echo(f"created and switched to {created}")
        return 0

    _guard(run)


def run_watch(watcher: Watcher, *, quiet: bool = False) -> WatchResult:
    """Run a :class:`~.watch.Watcher` with the live table on a terminal, status lines otherwise."""
    from codemods.commands.circleci.watch import line_printer, live_table

    if quiet:
        return watcher.run()
    if sys.stdout.isatty():
        from rich.console import Console

        running, watcher.on_update, watcher.on_event = live_table(Console(highlight=False))
        with running:
            return watcher.run()
    watcher.on_update, watcher.on_event = line_printer(sys.stdout, watcher.clock)
    return watcher.run()


def main(argv: list[str] | None = None) -> None:
    """Run the group standalone (``python -m codemods.commands.circleci``)."""
    group.main(args=sys.argv[1:] if argv is None else argv, prog_name="stabfix ci")
