"""Triage: scan the logs, read the JUnit runs, categorise every failure, extract reports, propose commands.

:func:`triage` is the Python API behind ``stabfix triage``. It writes files only for the tool
reports it extracts (ruff JSON, mypy, pyright JSON, the migration check's output) into ``out``,
because the suppression and migration fixers take them as ``--from`` / ``--from-log`` inputs.
Those reports hold only diagnostics whose codes have their tool's shape (the scan drops the
others and :class:`~codemods.commands.triage.model.Finding` says how many).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codemods.commands.triage import rules
from codemods.commands.triage.history import Record, read_history
from codemods.commands.triage.logs import MAX_LINE
from codemods.commands.triage.model import (
    CATEGORIES,
    CategoryResult,
    Command,
    ExtractedReport,
    Finding,
    Triage,
)
from codemods.commands.triage.results import Run, read_run
from codemods.commands.triage.scan import MAX_EVIDENCE, Line, LogFacts, scan_log
from codemods.errors import StabfixError
from codemods.fixers.suppress.codes import CODE_GRAMMAR

LOG_SUFFIXES = (".log", ".txt", ".out", ".gz")
DEFAULT_OUT = ".stabfix/triage"


def ignore_cache_folder(out: Path) -> None:
    """The default output folder (``.stabfix/``) ignores itself, as ``.pytest_cache`` does: a
    ``.gitignore`` holding ``*`` keeps triage's reports out of ``git status`` in the user's tree."""
    for folder in (out, *out.parents):
        if folder.name == ".stabfix":
            marker = folder / ".gitignore"
            if not marker.exists():
                marker.write_text("# created by stabfix: this folder is a cache\n*\n", encoding="utf-8")
            return


@dataclass
class _Test:
    """Everything known about one failed test across logs and runs."""

    nodeid: str
    messages: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    evidence: list[Line] = field(default_factory=list)
    crash: Line | None = None
    runs: dict[str, int] = field(default_factory=dict)

    def add(self, message: str = "", job: str | None = None, evidence: Sequence[Line] = ()) -> None:
        if message and message not in self.messages:
            self.messages.append(message)
        if job and job not in self.jobs:
            self.jobs.append(job)
        for e in evidence:
            if len(self.evidence) < MAX_EVIDENCE and e not in self.evidence:
                self.evidence.append(e)


def expand_inputs(inputs: Sequence[str | Path], junit: Sequence[str | Path]) -> tuple[list[Path], list[Path]]:
    """Logs and JUnit reports from the arguments: a folder contributes its ``*.log``/``*.txt``/``*.xml``."""
    logs: list[Path] = []
    reports = [Path(j) for j in junit]
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for child in sorted(p.rglob("*")):
                if not child.is_file():
                    continue
                if child.suffix == ".xml":
                    reports.append(child)
                elif child.suffix in LOG_SUFFIXES:
                    logs.append(child)
        elif p.suffix == ".xml" and p.is_file():
            reports.append(p)
        else:
            logs.append(p)
    if not logs and not reports:
        raise StabfixError("no CI logs or JUnit reports given; pass log files, a folder of them, or --junit FILE")
    return logs, reports


def _relocate(path: str, root: Path) -> str:
    """A report path from the CI machine (``/home/circleci/project/x.py``) as a path under ``root``."""
    p = Path(path)
    if not p.is_absolute() or p.exists():
        return path
    parts = p.parts[1:]
    for i in range(len(parts)):
        candidate = root.joinpath(*parts[i:])
        if candidate.is_file():
            return str(candidate)
    return path


def _tail(nodeid: str) -> str:
    """The name pytest prints in a failure section header (``TestA.test_b[x]``)."""
    return ".".join(nodeid.split("::")[1:])


class _Triager:
    def __init__(self, root: Path, out: Path, group: str, available: set[str]) -> None:
        self.root, self.out, self.group, self.available = root, out, group, available
        self.history: dict[str, Record] = {}  # --history: the tests' records in other CI runs
        self.history_source = ""
        self.tests: dict[str, _Test] = {}
        self.result = Triage()
        self.log_findings: dict[str, list[Finding]] = {name: [] for name in CATEGORIES}
        self.workers: dict[str, int] = {}
        self.crash_jobs: dict[str | None, list[Line]] = {}
        self.pending: dict[str, list[Command]] = {}  # log-level categories' commands, made before finish()
        self.kill_jobs: dict[str | None, str] = {}
        self.no_network: dict[str, Line] = {}  # tests that ran where there is no network  # jobs the CI killed (no output): their category

    def test(self, nodeid: str) -> _Test:
        t = self.tests.get(nodeid)
        if t is None:
            t = self.tests[nodeid] = _Test(nodeid)
        return t

    # -- inputs --------------------------------------------------------------------------------
    def add_log(self, facts: LogFacts) -> None:
        job = facts.job
        for nodeid, failure in facts.failures.items():
            evidence = [failure.line, *facts.sections.get(_tail(nodeid), [])]
            self.test(nodeid).add(failure.message, job, evidence)
        for nodeid, line in facts.crashed.items():
            t = self.test(nodeid)
            t.crash = t.crash or line
            t.add(line.text, job, [line])
        if facts.crash_lines:
            self.crash_jobs.setdefault(job, []).extend(facts.crash_lines)
        for nodeid, failure in facts.failures.items():
            offline = facts.no_network.get(failure.line.step)
            if offline is not None:
                self.no_network.setdefault(nodeid, offline)
        if facts.workers and job:
            self.workers[job] = max(self.workers.get(job, 0), facts.workers)
        elif facts.workers:
            self.workers.setdefault("", facts.workers)

    def add_runs(self, runs: list[Run]) -> None:
        failed_anywhere = {n for r in runs for n, c in r.cases.items() if c.outcome in ("failed", "error")}
        for run in runs:
            for nodeid, case in run.cases.items():
                if nodeid not in failed_anywhere and nodeid not in self.tests:
                    continue
                t = self.test(nodeid)
                t.runs[case.outcome] = t.runs.get(case.outcome, 0) + 1
                if case.outcome in ("failed", "error"):
                    first = case.message.strip().splitlines()[0] if case.message.strip() else ""
                    t.add(first, run.job, [Line(case.report, None, first[:500])] if first else [])
                    if case.message and case.message not in t.messages:
                        t.messages.append(case.message)
                    if "crashed while running" in case.message and t.crash is None:
                        t.crash = Line(case.report, None, first[:500])

    # -- categorising tests --------------------------------------------------------------------
    def categorise_tests(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {name: [] for name in CATEGORIES}
        for t in self.tests.values():
            # what the error says, never the test's name: the id is cut out of the summary lines
            text = "\n".join([*t.messages, *(e.text for e in t.evidence)]).replace(t.nodeid, "")
            hits = rules.classify(text)
            if t.crash is not None:
                hits.insert(0, (rules.SPECIFICITY["parallel-crash"], "parallel"))
            if t.runs.get("passed") and (t.runs.get("failed") or t.runs.get("error")):
                hits.append((rules.SPECIFICITY["flaky"], "flaky"))
            record = self.history.get(t.nodeid)
            if record is not None and record.flaky_elsewhere:  # --history: it passed in other CI runs
                hits.append((rules.SPECIFICITY["flaky"], "flaky"))
                t.evidence = [*t.evidence[:MAX_EVIDENCE - 1], Line(self.history_source, None,
                                                                    record.describe(self.history_source))]
            hits.sort(reverse=True)
            category = hits[0][1] if hits else "unknown"
            offline = [self.no_network[t.nodeid]] if t.nodeid in self.no_network else []
            if category == "external" and offline and _CONNECTION.search(text):
                # no network on the runner (a sandbox): no retry fixes the connection error
                hits.insert(0, (rules.SPECIFICITY["flaky"] - 2, "config"))
                category = "config"
                t.evidence = [*t.evidence[:MAX_EVIDENCE - 1], offline[0]]
            also = list(dict.fromkeys(c for _, c in hits if c != category))
            message = next((m.strip().splitlines()[0] for m in t.messages if m.strip()), "")
            out[category].append(Finding(t.nodeid, "test", category, message[:500], sorted(t.jobs),
                                         list(t.evidence), also, dict(sorted(t.runs.items()))))
        return out

    # -- log-level findings and extracted reports ----------------------------------------------
    def write_report(self, name: str, text: str) -> str:
        self.out.mkdir(parents=True, exist_ok=True)
        ignore_cache_folder(self.out)
        path = self.out / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def tool_reports(self, logs: list[LogFacts]) -> list[Command]:
        commands: list[Command] = []
        findings = self.log_findings["lint-type"]
        bad = sum(f.bad_codes for f in logs)
        if bad:
            findings.append(Finding(f"{bad} tool diagnostic(s) with a malformed code", "log", "lint-type",
                                    "not a ruff / mypy / pyright code; left out of the extracted reports",
                                    _jobs(f for f in logs if f.bad_codes)))
        ruff = [d for f in logs for d in f.ruff]
        seen = {(d.get("filename"), _row(d), d.get("code")) for d in ruff}
        for f in logs:  # ``path:line:col: CODE`` text (ruff concise, ruff < 0.12, flake8): same report
            for d in f.lint:
                key = (d["filename"], d["noqa_row"], d["code"])
                if key not in seen and not any(k[1] == key[1] and k[2] == key[2] and str(k[0]).endswith(
                        "/" + d["filename"].removeprefix("./")) for k in seen):
                    seen.add(key)
                    ruff.append(d)
        ruff_text = [(f, e) for f in logs for e in [*f.ruff_text, *f.lint_lines]]
        if ruff:
            for d in ruff:
                if isinstance(d.get("filename"), str):
                    d["filename"] = _relocate(d["filename"], self.root)
            path = self.write_report("ruff.json", json.dumps(ruff, indent=2) + "\n")
            self.result.reports.append(ExtractedReport("ruff", path, len(ruff), _sources(logs, "ruff")))
            findings.append(Finding(f"ruff: {len(ruff)} diagnostics", "log", "lint-type",
                                    _codes(d.get("code") for d in ruff), _jobs(f for f in logs if f.ruff or f.lint),
                                    [e for _, e in ruff_text][:MAX_EVIDENCE]))
            commands.append(Command("noqa", [], [("--from", path)]))
        elif ruff_text:
            findings.append(Finding(f"ruff: {len(ruff_text)} diagnostics (text output)", "log", "lint-type",
                                    "ruff printed text, not JSON: stabfix runs ruff itself",
                                    _jobs(f for f, _ in ruff_text), [e for _, e in ruff_text][:MAX_EVIDENCE]))
            commands.append(Command("noqa", [], [("--run", None)],
                                    note="the log has ruff's text output only; --run runs ruff locally"))
        mypy_json = [d for f in logs for d in f.mypy_json]
        mypy_text = [t for f in logs for t in f.mypy_text]
        if mypy_json or mypy_text:
            for d in mypy_json:
                if isinstance(d.get("file"), str):
                    d["file"] = _relocate(d["file"], self.root)
            if mypy_json:
                path = self.write_report("mypy.json", "".join(json.dumps(d) + "\n" for d in mypy_json))
            else:
                path = self.write_report("mypy.txt", "\n".join(mypy_text) + "\n")
            count = len(mypy_json) or sum(1 for t in mypy_text if ": error: " in t)
            self.result.reports.append(ExtractedReport("mypy", path, count, _sources(logs, "mypy")))
            findings.append(Finding(f"mypy: {count} errors", "log", "lint-type",
                                    _codes(_mypy_codes(mypy_json, mypy_text)),
                                    _jobs(f for f in logs if f.mypy_json or f.mypy_text),
                                    [e for f in logs for e in f.mypy_lines][:MAX_EVIDENCE]))
            coded = mypy_json or any(_MYPY_TEXT_CODE.search(t[-200:]) for t in mypy_text)
            commands.append(Command("type-ignore", [], [("--from", path)], available=bool(coded),
                                    note="" if coded else "mypy printed no error codes: run it with "
                                    "--show-error-codes (the default since 0.990) and triage again"))
        formatting = [(f, line, name) for f in logs for line, name in f.formatting]
        if formatting:
            files = list(dict.fromkeys(name for _, _, name in formatting))
            findings.append(Finding(f"ruff format: {len(files)} file(s) would be reformatted", "log", "lint-type",
                                    ", ".join(files[:10]), _jobs(f for f, _, _ in formatting),
                                    [line for _, line, _ in formatting][:MAX_EVIDENCE]))
        pyright = [d for f in logs for d in f.pyright if d.get("severity", "error") == "error"]
        if pyright:
            for d in pyright:
                if isinstance(d.get("file"), str):
                    d["file"] = _relocate(d["file"], self.root)
            doc = {"generalDiagnostics": pyright, "summary": {"errorCount": len(pyright)}}
            path = self.write_report("pyright.json", json.dumps(doc, indent=2) + "\n")
            self.result.reports.append(ExtractedReport("pyright", path, len(pyright), _sources(logs, "pyright")))
            findings.append(Finding(f"pyright: {len(pyright)} errors", "log", "lint-type",
                                    _codes(d.get("rule") for d in pyright),
                                    _jobs(f for f in logs if f.pyright),
                                    [e for f in logs for e in f.pyright_lines][:MAX_EVIDENCE]))
            commands.append(Command("pyright-ignore", [], [("--from", path)]))
        return commands

    def schema_and_versions(self, logs: list[LogFacts]) -> list[Command]:
        commands: list[Command] = []
        findings = self.log_findings["version-schema"]
        for facts in logs:
            job = facts.job or "log"
            if facts.sql_blocks or facts.schema_changes:
                blocks = [(line, sql) for line, sql in facts.sql_blocks if "empty migration" not in sql]
                evidence = [*facts.schema_changes, *(line for line, _ in blocks)][:MAX_EVIDENCE]
                if blocks:
                    sql = "\n\n".join(s for _, s in blocks)
                    path = self.write_report(f"migration-{_slug(job)}.log",
                                             f"Exit code: 2\nStdout:\n{sql}\n\nStderr:\n\n")
                    self.result.reports.append(ExtractedReport("prisma-migrate-diff", path, len(blocks), str(facts.path)))
                    findings.append(Finding(f"{job}: schema changes without a migration", "log", "version-schema",
                                            sql.strip().splitlines()[0][:200], [job] if facts.job else [], evidence))
                    commands.append(Command("migration", [], [("--name", rules.migration_name(sql)),
                                                              ("--from-log", path)]))
                elif facts.schema_changes:
                    findings.append(Finding(f"{job}: schema changes without a migration", "log", "version-schema",
                                            facts.schema_changes[0].text, [job] if facts.job else [], evidence,))
                    commands.append(Command("migration", [], [("--name", "schema_update")],
                                            note="no SQL in the log: the fixer diffs the schema itself"))
            if facts.drift and not facts.sql_blocks:
                name = rules.migration_name_from_summary(facts.drift_text)
                path = self.write_report(f"migration-{_slug(job)}.log", "\n".join(facts.drift_text) + "\n")
                self.result.reports.append(ExtractedReport("prisma-drift", path, len(facts.drift), str(facts.path)))
                findings.append(Finding(f"{job}: schema drift without a migration", "log", "version-schema",
                                        facts.drift[0].text, [job] if facts.job else [], facts.drift[:MAX_EVIDENCE]))
                commands.append(Command("migration", [], [("--name", name)],
                                        note=f"the log has Prisma's drift summary ({path}), not SQL: "
                                             "the fixer diffs the schema itself"))
            for line, code, migration in facts.prisma_errors:
                what = f"migration {migration}" if migration else "the database"
                todo = ("resolve the failed migration (`prisma migrate resolve --rolled-back` or `--applied`)"
                        if code == "P3009" else "baseline the existing database (`prisma migrate resolve --applied`)"
                        if code == "P3005" else "see Prisma's error reference")
                findings.append(Finding(f"{job}: Prisma {code} on {what}", "log", "version-schema",
                                        f"needs a human: {todo}", [job] if facts.job else [], [line]))
            if facts.copies_differ:
                findings.append(Finding(f"{job}: schema.prisma copies differ", "log", "version-schema",
                                        facts.copies_differ[0].text, [job] if facts.job else [],
                                        facts.copies_differ[:MAX_EVIDENCE]))
                commands.append(Command("prisma-sync"))
            for line, pkg, want, have in facts.pin_mismatch:
                findings.append(Finding(f"{pkg}: pinned =={want}, package is {have}", "log", "version-schema",
                                        line.text, [job] if facts.job else [], [line]))
                commands.append(Command("version", [], [("--set", want), ("--package", self.package_dir(pkg))]))
            seen: set[tuple[str, str]] = set()
            for line, pkg, want in facts.unpublished:  # nothing mechanical to run: say what to do
                if (pkg, want) in seen:
                    continue
                seen.add((pkg, want))
                findings.append(Finding(f"{pkg}=={want} is not published", "log", "version-schema",
                                        f"keep the pin at the published version until {pkg} {want} is released",
                                        [job] if facts.job else [], [line]))
        return commands

    def log_level(self, logs: list[LogFacts]) -> None:
        """npm, CI kills of silent steps, pytest-timeout dumps without a test, and failed steps that matched nothing."""
        for facts in logs:
            job = facts.job or "log"
            jobs = [job] if facts.job else []
            npm = _by_step(facts.npm)
            for step, lines in npm.items():  # one finding per step, each with its own evidence
                where = f"{job} ({step})" if len(npm) > 1 and step else job
                pkgs = ", ".join(facts.npm_packages[:8]) if len(npm) == 1 else ""
                self.log_findings["security"].append(Finding(
                    f"{where}: npm could not resolve the dependency tree (ERESOLVE)", "log", "security",
                    f"packages: {pkgs}" if pkgs else lines[0].text, jobs, lines[:MAX_EVIDENCE]))
            audits = _by_step([line for line, _, _ in facts.audit])
            for step, lines in audits.items():
                where = f"{job} ({step})" if len(audits) > 1 and step else job
                severities = dict.fromkeys(f"{pkg} ({sev})" for line, pkg, sev in facts.audit if line.step == step)
                self.log_findings["security"].append(Finding(
                    f"{where}: npm audit: {len(severities)} vulnerable package(s)", "log", "security",
                    ", ".join(list(severities)[:10]), jobs, lines[:MAX_EVIDENCE]))
            if facts.ci_timeouts:
                self.log_findings["timing"].append(Finding(
                    f"{job}: step killed after no output", "log", "timing", facts.ci_timeouts[0].text, jobs,
                    facts.ci_timeouts[:MAX_EVIDENCE]))
                self.kill_jobs.setdefault(facts.job, "timing")
            if facts.timeout_dumps:
                self.log_findings["timing"].append(Finding(
                    f"{job}: pytest-timeout stopped a test", "log", "timing", facts.timeout_dumps[0].text, jobs,
                    facts.timeout_dumps[:MAX_EVIDENCE]))
            for marker, tail in facts.unknown_steps:
                step = f"step '{marker.step}'" if marker.step else "a step"
                self.log_findings["unknown"].append(Finding(
                    f"{job}: {step} failed; nothing known in its output", "log", "unknown", marker.text, jobs,
                    tail[-MAX_EVIDENCE:]))

    def package_dir(self, pkg: str) -> str:
        for name in (pkg, pkg.replace("_", "-"), pkg.replace("-", "_")):
            if (self.root / name / "pyproject.toml").is_file():
                return name
        return pkg

    def parallel(self, findings: list[Finding]) -> list[Command]:
        commands: list[Command] = []
        crashed_ids = [f.id for f in findings if f.kind == "test" and self.tests[f.id].crash is not None]
        jobs_with_tests = {j for f in findings for j in f.jobs}
        for job, lines in self.crash_jobs.items():
            tests = [f for f in findings if f.kind == "test" and (job in f.jobs or (job is None and not f.jobs))]
            workers = {f.id: _workers_of([e.text for e in f.evidence]) for f in tests}
            leftover: list[Line] = []
            for e in lines:  # a node-down line goes with the test its own worker was running
                own = _workers_of([e.text])
                mine = [f for f in tests if own and own & workers[f.id]] if own else tests
                for f in mine:
                    if len(f.evidence) < MAX_EVIDENCE and e not in f.evidence:
                        f.evidence.append(e)
                if not mine:
                    leftover.append(e)
            if leftover:
                findings.append(Finding(f"{job or 'log'}: worker crashes", "log", "parallel", leftover[0].text,
                                        [job] if job else [], leftover[:MAX_EVIDENCE]))
        for job in sorted({*jobs_with_tests, *(j for j in self.crash_jobs if j)}):
            current = self.workers.get(job) or self.workers.get("")
            where = ""
            if current is None:
                current, where = _config_workers(self.root, job), " (from .circleci/config.yml)"
            target = rules.lower_workers(current)
            if target is None:
                commands.append(Command("workers", [], [("--job", job)], available=False,
                                        note=f"the worker count of {job} is not in the log nor in a numeric -n of "
                                             f"its CircleCI job; run `stabfix apply workers --to N --job {job}`"))
                continue
            commands.append(Command("workers", [], [("--to", str(target)), ("--job", job)],
                                    note=f"-n {current} -> -n {target}{where}"))
        if crashed_ids:
            commands.append(rules.test_command("xdist-group", crashed_ids, extra=[("--group", self.group)],
                                               note="the crashed tests share one worker"))
            for job in sorted(jobs_with_tests) if "dist" in self.available else []:
                commands.append(Command("dist", [], [("--mode", "loadgroup"), ("--job", job)],
                                        note="xdist_group marks only act with --dist loadgroup"))
        return commands

    def kill_commands(self, category: str) -> list[Command]:
        """``workers --to N --job JOB`` for the jobs the CI killed whose log shows pytest with ``-n``."""
        commands: list[Command] = []
        for job, cat in self.kill_jobs.items():
            current = self.workers.get(job or "") or (self.workers.get("") if job else None)
            target = rules.lower_workers(current)
            if cat == category and job and target is not None:
                commands.append(Command("workers", [], [("--to", str(target)), ("--job", job)],
                                        note=f"-n {current} -> -n {target}: the step went silent until the CI killed it"))
        return commands

    def finish(self) -> Triage:
        tests = self.categorise_tests()
        for name in CATEGORIES:
            findings = [*self.log_findings[name], *tests[name]]
            cat = CategoryResult(name, findings)
            ids = [f.id for f in tests[name]]
            if name == "parallel":
                cat.commands = self.parallel(cat.findings)
            elif name == "auth" and ids:
                cat.commands = [rules.test_command("auth", ids)]
                cat.commands += [Command("auth-unpatch", [f], note="its tests patch the auth dependency with "
                                         "unittest.mock, which FastAPI ignores")
                                 for f in rules.files_of(ids) if rules.patches_auth(self.root / f)]
            elif name == "external" and rules.python_ids(ids):
                cat.commands = [rules.test_command("flaky", rules.python_ids(ids), note="retries calls to providers")]
            elif name == "flaky" and rules.python_ids(ids):
                cat.commands = [rules.test_command("flaky", rules.python_ids(ids),
                                                   note="failed in one run, passed in another")]
            elif name == "timing":
                cat.commands = self.kill_commands("timing")
                if rules.python_ids(ids):
                    cat.commands.append(rules.test_command(
                        "flaky", rules.python_ids(ids), stopgap=True,
                        note="stopgap: wait for the async state (poll or await) instead of asserting at once"))
                # Vitest timeouts -> `vitest --timeout MS --only "file > suite > test"`
                from codemods.commands.triage.vitest import timeout_commands

                cat.commands += timeout_commands(tests[name])
            else:
                cat.commands = self.pending.get(name, [])
            for c in cat.commands:
                c.available = c.available and c.fixer in self.available
            if cat.findings:
                self.result.categories.append(cat)
        return self.result


def _config_workers(root: Path, job: str) -> int | None:
    """The largest numeric ``-n`` of the job's pytest invocations in ``.circleci/config.yml``."""
    from codemods.ci.scan import scan_file

    path = root / ".circleci" / "config.yml"
    try:
        ci = scan_file(".circleci/config.yml", path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, StabfixError):
        return None
    found = [int(o.value) for site in ci.sites if job in site.jobs
             if (o := site.invocation.numprocesses) is not None and o.value and o.value.isdigit()]
    return max(found) if found else None


_CONNECTION = re.compile(r"Connection error|ConnectError|APIConnectionError|Connection refused|name resolution"
                         r"|Network is unreachable|Name or service not known|APITimeoutError|timed out")


def _by_step(lines: list[Line]) -> dict[str | None, list[Line]]:
    out: dict[str | None, list[Line]] = {}
    for line in lines:
        out.setdefault(line.step, []).append(line)
    return out


def _workers_of(texts: Iterable[str]) -> set[str]:
    return {m.group(0) for t in texts for m in re.finditer(r"\bgw\d+\b", t[:MAX_LINE])}


def _row(d: dict[str, object]) -> object:
    loc = d.get("location")
    return d.get("noqa_row") or (loc.get("row") if isinstance(loc, dict) else None)


def _jobs(facts: Iterable[LogFacts]) -> list[str]:
    return sorted({f.job for f in facts if f.job})


def _sources(logs: list[LogFacts], tool: str) -> str:
    attr = {"ruff": ("ruff", "ruff_text"), "mypy": ("mypy_json", "mypy_text"), "pyright": ("pyright",)}[tool]
    return ", ".join(str(f.path) for f in logs if any(getattr(f, a) for a in attr))


def _codes(codes: Iterable[object]) -> str:
    counts: dict[str, int] = {}
    for c in codes:
        if c:
            counts[str(c)] = counts.get(str(c), 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return ", ".join(f"{c} x{n}" for c, n in top)


_MYPY_TEXT_CODE = re.compile(r"  \[([a-z0-9-]+)\]$")


def _mypy_codes(items: list[dict[str, object]], text: list[str]) -> list[str]:
    codes = [str(d.get("code") or "") for d in items]
    codes += [m.group(1) for t in text if (m := _MYPY_TEXT_CODE.search(t[-200:]))
              and CODE_GRAMMAR["mypy"].fullmatch(m.group(1))]
    return codes


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "log"


def _installed(fixers: dict[str, str]) -> set[str]:
    """Registered fixers whose module exists (found without importing it)."""
    import importlib.util

    out = set()
    for name, target in fixers.items():
        try:
            if importlib.util.find_spec(target.partition(":")[0]) is not None:
                out.add(name)
        except ModuleNotFoundError:
            continue
    return out


def triage(
    inputs: Sequence[str | Path],
    junit: Sequence[str | Path] = (),
    *,
    root: str | Path = ".",
    out: str | Path | None = None,
    group: str = "heavy",
    available: set[str] | None = None,
    history: str | Path | None = None,
) -> Triage:
    """Categorise the failures in CI logs and JUnit reports and propose stabfix commands.

    ``inputs``: log files (plain or gzip) or folders of them (``*.log``, ``*.txt``, and ``*.xml``
    JUnit reports); ``junit``: more JUnit reports. ``root``: the repository the commands run in.
    ``out``: where extracted tool reports go (default ``<root>/.stabfix/triage``). ``group``: the
    xdist group for crashed tests. ``available``: fixer names to mark as runnable (default: the
    registry). ``history``: a ``stabfix ci history --json`` file; a failed test that passed in those
    runs is flaky. Raises :class:`~codemods.errors.StabfixError` for a missing or binary input.
    """
    from codemods.core import registry

    root_path = Path(root).resolve()
    out_path = Path(out) if out is not None else root_path / DEFAULT_OUT
    logs, reports = expand_inputs(inputs, junit)
    t = _Triager(root_path, out_path, group, _installed(registry.FIXERS) if available is None else available)
    facts = [scan_log(p) for p in logs]
    for f in facts:
        t.add_log(f)
    if history is not None:
        t.history, t.history_source = read_history(history), str(history)
    t.add_runs([read_run(p, root_path) for p in reports])
    t.pending = {"lint-type": t.tool_reports(facts), "version-schema": t.schema_and_versions(facts)}
    # npm audit output -> npm-overrides, dockerfile-pins (before log_level: it explains the step);
    # its module and the fixers' report reader are imported only for a log that holds a report
    if any(f.audit_json for f in facts):
        from codemods.commands.triage.npm import npm_audit

        t.pending["security"] = npm_audit(t, logs, facts)
    t.log_level(facts)
    result = t.finish()
    result.logs = [str(p) for p in logs]
    result.junit = [str(p) for p in reports]
    result.lines = sum(f.lines for f in facts)
    return result
