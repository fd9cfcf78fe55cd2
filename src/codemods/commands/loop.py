"""``stabfix loop``: fetch, triage, fix, check, commit, push, watch; repeat until CircleCI is green.

One round: the failures of the branch's latest pipeline (``ci failures``) -> ``triage`` -> the
mechanical fixes it proposes, applied through the Python API (:func:`codemods.apply`, via
triage's runner; stopgaps such as ``flaky`` for timing only with ``stopgaps``) -> the local checks
each fix implies (ruff for ``noqa``, mypy for ``type-ignore``, pyright for ``pyright-ignore``,
pytest on the touched test files, the CI config parsed again for ``workers``/``dist``) -> one commit
listing the fixes by category -> push -> ``ci watch`` of the pipeline of that commit. The loop
stops when the pipeline is green (exit 0), when a round has nothing mechanical left or a local
check fails (exit 1: what needs a person is listed), at the round limit (exit 1), or on an error
(exit 2: a dirty tree, a branch CircleCI would not run, a push refused, a watch that timed out).

Safety: it refuses a dirty tree, never force-pushes, never pushes to ``main`` or ``master`` or to a
branch outside the CI branch rule (:mod:`codemods.commands.circleci.branch`), commits only the
files the fixers changed, and never changes ``requirements*.txt`` (a ``version`` proposal with
``--include-requirements`` is dropped; a changed requirements file is restored and reported). The
token comes from ``CIRCLECI_TOKEN`` only (through :class:`~codemods.commands.circleci.Client`) and
is never printed, logged or written to the report.

Everything the loop downloads and the Markdown report go to ``ROOT/.stabfix/loop/`` (a folder
that ignores itself, as triage's does); ``--report FILE`` writes the report elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import click

from codemods.errors import StabfixError

LOOP_DIR = ".stabfix/loop"
_TEST_FIXERS = ("auth", "auth-unpatch", "flaky", "xdist-group")
_CONFIG_FIXERS = ("workers", "dist")


@dataclass
class Check:
    """One local check run after the fixes."""

    name: str
    argv: list[str]
    ok: bool
    tail: str = ""
    seconds: float = 0.0


@dataclass
class Round:
    """What one round found, did and saw."""

    number: int
    pipeline: dict[str, Any] = field(default_factory=dict)
    verdict: str = ""
    failures: dict[str, int] = field(default_factory=dict)
    needs_person: list[str] = field(default_factory=list)
    fixes: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (category, fixer, files)
    errors: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    commit: str = ""
    next_pipeline: dict[str, Any] = field(default_factory=dict)
    next_verdict: str = ""
    durations: dict[str, float] = field(default_factory=dict)


@dataclass
class LoopResult:
    """How the loop ended."""

    exit_code: int
    reason: str
    rounds: list[Round] = field(default_factory=list)
    first: dict[str, Any] = field(default_factory=dict)  # the pipeline the loop started from
    first_verdict: str = ""
    report: Path | None = None
    elapsed: float = 0.0


class LoopError(StabfixError):
    """The loop cannot start or go on (exit 2)."""


# -- git -----------------------------------------------------------------------------------------
def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise LoopError(f"git {args[0]} failed: {last}")
    return proc


def preflight(root: Path, branch: str, remote: str) -> None:
    """Refuse to start: not a git work tree, a dirty tree, another branch checked out, a branch
    CircleCI would not run (or main/master), an unknown remote."""
    from codemods.commands.circleci.branch import check_branch

    if _git(root, "rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        raise LoopError(f"{root} is not a git work tree; run stabfix loop in the repository")
    dirty = _git(root, "status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise LoopError(f"the work tree has uncommitted changes ({shown}); commit or stash them first: "
                        "each round commits only what stabfix changed")
    check_branch(root, branch)
    current = _git(root, "branch", "--show-current").stdout.strip()
    if current != branch:
        raise LoopError(f"the checked-out branch is {current or '(detached HEAD)'!r}, not {branch!r}; "
                        f"check it out first (`stabfix ci branch NAME` creates one CircleCI runs)")
    if _git(root, "remote", "get-url", remote, check=False).returncode != 0:
        raise LoopError(f"no git remote {remote!r}; pass --remote NAME")


def push(root: Path, remote: str, branch: str) -> None:
    """``git push REMOTE BRANCH:BRANCH`` (never forced), after the branch rule is checked again."""
    from codemods.commands.circleci.branch import check_branch

    check_branch(root, branch)
    _git(root, "push", "--quiet", remote, f"refs/heads/{branch}:refs/heads/{branch}")


# -- local checks --------------------------------------------------------------------------------
def _tool(name: str) -> str | None:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def _run_check(root: Path, name: str, argv: list[str], clock: Callable[[], float]) -> Check:
    start = clock()
    env = {k: v for k, v in os.environ.items() if k not in ("CIRCLECI_TOKEN", "PYTEST_ADDOPTS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False, env=env, timeout=1800)
        ok, output = proc.returncode == 0, proc.stdout + proc.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        ok, output = False, f"{type(exc).__name__}: {exc}"
    tail = "\n".join(output.strip().splitlines()[-15:])
    return Check(name, argv, ok, tail, clock() - start)


def local_checks(root: Path, fixed: dict[str, list[str]], ruff_codes: list[str],
                 clock: Callable[[], float] = time.monotonic) -> list[Check]:
    """The checks the fixes imply (``fixed``: fixer -> files it changed)."""
    checks: list[Check] = []
    noqa = sorted({f for f in fixed.get("noqa", []) if f.endswith((".py", ".pyi"))})
    ruff = _tool("ruff")
    if noqa and ruff:
        select = ["--select", ",".join(ruff_codes)] if ruff_codes else []
        checks.append(_run_check(root, "ruff", [ruff, "check", "--no-cache", *select, *noqa], clock))
    typed = sorted({f for f in fixed.get("type-ignore", []) if f.endswith((".py", ".pyi"))})
    mypy = _tool("mypy")
    if typed and mypy:
        checks.append(_run_check(root, "mypy", [mypy, "--no-incremental", "--cache-dir", os.devnull,
                                                "--follow-imports=skip", "--show-error-codes", *typed], clock))
    pyright_files = sorted(set(fixed.get("pyright-ignore", [])))
    pyright = _tool("basedpyright") or _tool("pyright")
    if pyright_files and pyright:
        checks.append(_run_check(root, "pyright", [pyright, *pyright_files], clock))
    tests = sorted({f for fixer in _TEST_FIXERS for f in fixed.get(fixer, [])
                    if f.endswith(".py") and Path(f).name.startswith("test_")})
    if tests:
        checks.append(_run_check(root, "pytest", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                                  *tests], clock))
    configs = sorted({f for fixer in _CONFIG_FIXERS for f in fixed.get(fixer, []) if f.endswith((".yml", ".yaml"))})
    for rel in configs:
        start = clock()
        from codemods.edit.yamlsplice import compose

        try:
            compose((root / rel).read_text(encoding="utf-8"), rel)
            checks.append(Check("yaml", ["parse", rel], True, "", clock() - start))
        except StabfixError as exc:
            checks.append(Check("yaml", ["parse", rel], False, exc.one_line(), clock() - start))
    return checks


# -- the loop ------------------------------------------------------------------------------------
@dataclass
class LoopOptions:
    """``stabfix loop``'s options."""

    project: str
    branch: str
    root: Path = Path(".")
    max_rounds: int = 5
    remote: str = "origin"
    stopgaps: bool = False
    dry_run: bool = False
    interval: float = 30.0
    timeout: float = 7200.0
    report: Path | None = None


class Loop:
    """The stabilisation loop (see the module docstring)."""

    def __init__(self, opts: LoopOptions, client: Any, *, out: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.opts, self.client = opts, client
        self.root = opts.root.resolve()
        self.out = out or sys.stdout
        self.clock, self.sleep = clock, sleep
        self.work = self.root / LOOP_DIR

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _watch(self, revision: str | None) -> Any:
        from codemods.commands.circleci.watch import Watcher, line_printer

        update, event = line_printer(self.out, self.clock)
        return Watcher(self.client, self.opts.project, branch=self.opts.branch, revision=revision,
                       interval=self.opts.interval, timeout=self.opts.timeout, clock=self.clock,
                       sleep=self.sleep, on_update=update, on_event=event).run()

    def run(self) -> LoopResult:
        from codemods.commands.triage.core import ignore_cache_folder

        opts = self.opts
        start = self.clock()
        if opts.max_rounds < 1:
            raise LoopError("--max-rounds must be at least 1")
        preflight(self.root, opts.branch, opts.remote)
        self.work.mkdir(parents=True, exist_ok=True)
        ignore_cache_folder(self.work)
        result = LoopResult(2, "")
        try:
            self._rounds(result)
        finally:
            result.elapsed = self.clock() - start
            result.report = self.write_report(result)
        return result

    def _rounds(self, result: LoopResult) -> None:
        opts = self.opts
        head = _git(self.root, "rev-parse", "HEAD").stdout.strip()
        remote_head = _git(self.root, "ls-remote", opts.remote, f"refs/heads/{opts.branch}").stdout.split()
        if not opts.dry_run and (not remote_head or remote_head[0] != head):
            self.say(f"push {head[:12]} to {opts.remote}/{opts.branch}")
            push(self.root, opts.remote, opts.branch)
        revision = None if opts.dry_run and (not remote_head or remote_head[0] != head) else head
        self.say(f"watch the pipeline of {opts.branch}" + (f" at {revision[:12]}" if revision else ""))
        watched = self._watch(revision)
        result.first, result.first_verdict = dict(watched.pipeline), watched.reason
        for number in range(1, opts.max_rounds + 1):
            if watched.exit_code == 0:
                result.exit_code, result.reason = 0, f"green after {number - 1} round(s)"
                return
            if watched.exit_code == 2:
                result.exit_code, result.reason = 2, f"watch: {watched.reason}"
                return
            rnd = Round(number, dict(watched.pipeline), watched.reason)
            result.rounds.append(rnd)
            self.say(f"\n== round {number}: pipeline {rnd.pipeline.get('number')} {watched.reason}")
            stop = self._round(rnd)
            if stop is not None:
                result.exit_code, result.reason = stop
                return
            watched = self._watch(rnd.commit)
            rnd.durations["watch"] = watched.elapsed
            rnd.next_pipeline, rnd.next_verdict = dict(watched.pipeline), watched.reason
        if watched.exit_code == 0:
            result.exit_code, result.reason = 0, f"green after {opts.max_rounds} round(s)"
        elif watched.exit_code == 2:
            result.exit_code, result.reason = 2, f"watch: {watched.reason}"
        else:
            result.exit_code, result.reason = 1, f"still red after {opts.max_rounds} round(s) (--max-rounds)"

    def _round(self, rnd: Round) -> tuple[int, str] | None:
        """One round up to the push; a (code, reason) when the loop stops here."""
        from codemods.commands.circleci.failures import fetch_failures
        from codemods.commands.triage.core import triage
        from codemods.commands.triage.runner import run_commands

        opts = self.opts
        folder = self.work / f"round-{rnd.number}"
        if folder.exists():
            shutil.rmtree(folder)
        t = self.clock()
        _, failed_jobs = fetch_failures(self.client, opts.project, folder / "ci", pipeline_id=str(rnd.pipeline["id"]))
        rnd.durations["fetch"] = self.clock() - t
        if not any(j.log or j.junit for j in failed_jobs):
            rnd.needs_person.append(f"pipeline {rnd.pipeline.get('number')}: {rnd.verdict}, but no failed job left "
                                    "a log or test results (canceled, on hold, infrastructure)")
            return 1, self._needs_person(rnd, "nothing to triage")
        t = self.clock()
        tri = triage([folder / "ci"], root=self.root, out=folder / "reports")
        rnd.durations["triage"] = self.clock() - t
        rnd.failures = {c.name: len(c.findings) for c in tri.categories}
        chosen: list[tuple[str, Any]] = []
        for cat in tri.categories:
            usable = [c for c in cat.commands if c.available and (opts.stopgaps or not c.stopgap)
                      and not (c.fixer == "version" and any(f == "--include-requirements" for f, _ in c.options))]
            chosen.extend((cat.name, c) for c in usable)
            if not usable:
                rnd.needs_person.extend(f"{cat.name}: {f.id}" + (f" - {f.message[:160]}" if f.message else "")
                                        for f in cat.findings)
        self.say(f"triage: {tri.failures} failure(s): " + ", ".join(f"{k} {v}" for k, v in rnd.failures.items()))
        if not chosen:
            return 1, self._needs_person(rnd, "nothing mechanical left")
        protected = {p: p.read_bytes() for p in self.root.glob("requirements*.txt") if p.is_file()}
        t = self.clock()
        outcomes, diff = run_commands([c for _, c in chosen], self.root, write=not opts.dry_run)
        rnd.durations["fix"] = self.clock() - t
        categories: dict[str, list[str]] = {}
        for name, c in chosen:
            categories.setdefault(c.fixer, [])
            if name not in categories[c.fixer]:
                categories[c.fixer].append(name)
        fixed: dict[str, list[str]] = {}
        for o in outcomes:
            if o.error:
                rnd.errors.append(f"{' '.join(o.command.argv())}: {o.error}")
            if o.changed:
                fixed.setdefault(o.command.fixer, []).extend(o.changed)
                for name in categories.get(o.command.fixer, ["?"]):
                    rnd.fixes.append((name, o.command.fixer, list(o.changed)))
        for path, data in protected.items():
            if path.read_bytes() != data:
                path.write_bytes(data)
                rnd.errors.append(f"{path.name}: a fixer changed it; restored (stabfix loop never bumps a pin)")
                for files in fixed.values():
                    if path.name in files:
                        files.remove(path.name)
        changed = sorted({f for files in fixed.values() for f in files})
        for category, fixer, files in rnd.fixes:
            self.say(f"  {category}: {fixer} -> {', '.join(files)}")
        for e in rnd.errors:
            self.say(f"  {e}")
        if opts.dry_run:
            self.out.write(diff)
            return 0, f"dry run: {len(changed)} file(s) would change; nothing written, committed or pushed"
        if not changed:
            return 1, self._needs_person(rnd, "the proposed fixes changed nothing")
        t = self.clock()
        ruff_codes = sorted({str(d["code"]) for r in tri.reports if r.tool == "ruff"
                             for d in _read_json_list(Path(r.path)) if isinstance(d.get("code"), str)})
        rnd.checks = local_checks(self.root, fixed, ruff_codes, self.clock)
        rnd.durations["checks"] = self.clock() - t
        for c in rnd.checks:
            self.say(f"  check {c.name}: {'ok' if c.ok else 'FAILED'} ({c.seconds:.1f}s)")
        failed = [c for c in rnd.checks if not c.ok]
        if failed:
            rnd.needs_person.extend(f"local check {c.name} failed after the fixes: {c.tail.splitlines()[-1] if c.tail else ''}"
                                    for c in failed)
            return 1, self._needs_person(rnd, "a local check failed; nothing committed")
        t = self.clock()
        _git(self.root, "add", "--", *changed)
        _git(self.root, "commit", "--quiet", "-m", commit_message(rnd))
        rnd.commit = _git(self.root, "rev-parse", "HEAD").stdout.strip()
        self.say(f"commit {rnd.commit[:12]}; push to {opts.remote}/{opts.branch}")
        push(self.root, opts.remote, opts.branch)
        rnd.durations["commit+push"] = self.clock() - t
        return None

    def _needs_person(self, rnd: Round, why: str) -> str:
        for item in rnd.needs_person:
            self.say(f"  needs a person: {item}")
        return f"{why}; needs a person: " + "; ".join(rnd.needs_person[:10]) if rnd.needs_person else why

    # -- the report ------------------------------------------------------------------------------
    def write_report(self, result: LoopResult) -> Path:
        path = self.opts.report or self.work / "report.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(self.opts, result), encoding="utf-8")
        return path


def _read_json_list(path: Path) -> list[dict[str, Any]]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def commit_message(rnd: Round) -> str:
    """``stabfix loop round N: ...`` and the fixes by category, one line each."""
    by_cat: dict[str, list[str]] = {}
    for category, fixer, files in rnd.fixes:
        by_cat.setdefault(category, []).append(f"{fixer} ({len(files)} file{'s' if len(files) != 1 else ''})")
    lines = [f"stabfix loop round {rnd.number}: {', '.join(by_cat)}", ""]
    lines += [f"- {category}: {', '.join(items)}" for category, items in by_cat.items()]
    p = rnd.pipeline
    lines += ["", f"CircleCI pipeline {p.get('number')} ({p.get('id')}): {rnd.verdict}"]
    return "\n".join(lines) + "\n"


def _md(text: object) -> str:
    """Text for a Markdown table cell: no pipes, no newlines, no HTML."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")[:300]


def render_report(opts: LoopOptions, result: LoopResult) -> str:
    """The Markdown report: per round failures by category, fixes, checks, commit, pipeline, durations."""
    from codemods.commands.circleci.watch import format_seconds

    first = result.first
    lines = [f"# stabfix loop: {opts.project} {opts.branch}", "",
             f"- result: **{_md(result.reason)}** (exit {result.exit_code})",
             f"- rounds: {len(result.rounds)} of at most {opts.max_rounds}; total {format_seconds(result.elapsed)}",
             f"- started from pipeline {first.get('number')} ({first.get('id')}): {_md(result.first_verdict)}"
             if first else "- no pipeline watched", ""]
    for rnd in result.rounds:
        lines += [f"## Round {rnd.number}", "",
                  f"Pipeline {rnd.pipeline.get('number')} ({rnd.pipeline.get('id')}): {_md(rnd.verdict)}", "",
                  "| category | failures |", "|---|---|"]
        lines += [f"| {_md(k)} | {v} |" for k, v in rnd.failures.items()]
        lines.append("")
        if rnd.fixes:
            lines += ["Fixes:", ""]
            lines += [f"- {_md(c)}: `{_md(f)}` → {_md(', '.join(files))}" for c, f, files in rnd.fixes]
            lines.append("")
        if rnd.checks:
            lines += ["Local checks:", ""]
            lines += [f"- {c.name}: {'ok' if c.ok else 'failed'} ({c.seconds:.1f} s)" for c in rnd.checks]
            lines.append("")
        if rnd.errors:
            lines += ["Problems:", ""] + [f"- {_md(e)}" for e in rnd.errors] + [""]
        if rnd.needs_person:
            lines += ["Needs a person:", ""] + [f"- {_md(n)}" for n in rnd.needs_person] + [""]
        if rnd.commit:
            lines.append(f"Commit `{rnd.commit[:12]}` pushed to {_md(opts.remote)}/{_md(opts.branch)}.")
        if rnd.next_pipeline:
            lines.append(f"Next pipeline {rnd.next_pipeline.get('number')} ({rnd.next_pipeline.get('id')}): "
                         f"{_md(rnd.next_verdict)}")
        if rnd.durations:
            lines += ["", "Durations: " + ", ".join(f"{k} {v:.1f} s" for k, v in rnd.durations.items())]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# -- CLI -----------------------------------------------------------------------------------------
@click.command("loop")
@click.option("--project", required=True, metavar="VCS/ORG/REPO", help="e.g. gh/BerriAI/litellm")
@click.option("--branch", required=True, help="The work branch (checked out; CircleCI must run it).")
@click.option("--max-rounds", type=click.IntRange(min=1, max=50), default=5, show_default=True,
              help="Stop after this many fix rounds.")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option("--stopgaps", is_flag=True, help="Also apply stopgaps (e.g. retries for timing failures).")
@click.option("--dry-run", is_flag=True,
              help="One round without writing: print the fixes' diff; no commit, no push.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("."), show_default=True,
              help="The repository.")
@click.option("--interval", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between polls of a pipeline.")
@click.option("--timeout", "timeout_text", default="2h", show_default=True, help="Per pipeline (2h, 30m, 90s).")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=f"The Markdown report (default ROOT/{LOOP_DIR}/report.md).")
@click.option("--api-url", default=None, envvar="CIRCLECI_API_URL", help="CircleCI API base URL.")
def command(project: str, branch: str, max_rounds: int, remote: str, stopgaps: bool, dry_run: bool, root: Path,
            interval: float, timeout_text: str, report: Path | None, api_url: str | None) -> None:
    """Fix a red CircleCI branch round by round: fetch, triage, fix, check, commit, push, watch."""
    from codemods.commands.circleci.client import Client, project_slug
    from codemods.commands.circleci.watch import format_seconds, parse_duration

    try:
        opts = LoopOptions(project_slug(project), branch, root, max_rounds, remote, stopgaps, dry_run, interval,
                           parse_duration(timeout_text), report)
        preflight(root.resolve(), branch, remote)  # before the token is even read
        with Client(base_url=api_url) as client:
            result = Loop(opts, client).run()
    except StabfixError as exc:
        click.echo(exc.one_line(), err=True)
        raise SystemExit(2) from None
    click.echo(f"\nstabfix loop: {result.reason} (exit {result.exit_code}) in {format_seconds(result.elapsed)}; "
               f"report: {result.report}")
    raise SystemExit(result.exit_code)


def main(argv: list[str] | None = None) -> None:
    """Run the command standalone (``python -m codemods.commands.loop``)."""
    command.main(args=sys.argv[1:] if argv is None else argv, prog_name="stabfix loop")


if __name__ == "__main__":  # pragma: no cover
    main()
