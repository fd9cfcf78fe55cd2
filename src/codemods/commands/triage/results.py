"""JUnit XML reports read as runs: every test case's outcome, so that flakiness across runs shows.

:func:`codemods.testsuite.junit.failures` (shared with the ``auth`` and ``flaky`` fixers) keeps only
failures; triage also needs the passes, to flag a test that failed in one run and passed in
another. Node ids are rebuilt with the shared :func:`codemods.testsuite.junit.nodeid_from_junit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from codemods.commands.triage.logs import job_from_name
from codemods.commands.triage.vitest import junit_prefix
from codemods.testsuite.junit import iter_cases, load_report, nodeid_from_junit


@dataclass
class CaseResult:
    """One test case of one report."""

    nodeid: str
    outcome: str  # passed | failed | error | skipped
    message: str
    report: str
    job: str | None


@dataclass
class Run:
    """One JUnit report: its cases by node id."""

    path: Path
    job: str | None
    cases: dict[str, CaseResult] = field(default_factory=dict)


def read_run(path: Path, root: Path | None = None, job: str | None = None) -> Run:
    """Read one pytest ``--junitxml`` report; a clear error when it is missing or not JUnit XML."""
    from junitparser import Error, Failure, Skipped

    xml = load_report(path)
    if job is None:
        job = job_from_name(path)
        if job in ("junit", "results", "test-results", "report"):
            job = None
    run = Run(path=path, job=job)
    prefixes: dict[tuple[str, str | None], str] = {}  # classname -> "path::Class::" (one lookup per class)
    for _, case in iter_cases(xml):
        key = (case.classname or "", case._elem.get("file"))
        prefix = prefixes.get(key)
        if prefix is None:
            # Vitest's cases (classname: the test file) keep its name, ``file > suite > test``
            prefix = prefixes[key] = junit_prefix(key[0]) or nodeid_from_junit(key[0], "-", root, key[1])[:-1]
        nodeid = prefix + (case.name or "")
        outcome, parts = "passed", []
        for r in case.result:
            if isinstance(r, Error):
                outcome = "error"
            elif isinstance(r, Failure) and outcome != "error":
                outcome = "failed"
            elif isinstance(r, Skipped) and outcome == "passed":
                outcome = "skipped"
            if isinstance(r, (Error, Failure)):
                parts.append(f"{r.message or ''}\n{r.text or ''}".strip())
        prev = run.cases.get(nodeid)
        if prev is not None and prev.outcome in ("failed", "error"):
            continue  # a test reported twice (setup error + call): keep the failure
        run.cases[nodeid] = CaseResult(nodeid, outcome, "\n".join(parts).strip(), str(path), job)
    return run
