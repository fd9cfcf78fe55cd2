"""What one CI log says: failed tests, worker crashes, tool reports, schema and version problems.

:func:`scan_log` streams a log through :class:`~codemods.commands.triage.logs.LogReader` with one trigger
regex (keywords that every interesting line contains, so ANSI codes and timestamps around them do
not matter) and parses only those lines. Multi-line blocks (ruff / pyright JSON, the ``Stdout:``
of LiteLLM's migration check) are read by following the log until the block ends.

The result is a :class:`LogFacts`: raw facts with their evidence lines, no categories yet. Besides
pytest and the type checkers it reads lint lines (``path:line:col: CODE`` of ruff and flake8), ruff
format, Prisma errors and drift summaries, npm's ERESOLVE and audit report, vitest failures,
pytest-timeout dumps, xdist crashes in all their forms, and CI kills. Each CI step (a ``====>>``
banner) that ends in failure (:func:`red_marker`) but yielded no fact is kept with its last lines, so
that a red log is never reported as clean.

The patterns examine the first :data:`~codemods.commands.triage.logs.MAX_LINE` characters of a line and
are linear: none has a lazy or greedy run followed by something that may fail and make it retry
from every position (what took minutes on one megabyte-long ``FAILED`` line). Codes taken from
tool output (ruff rule codes, mypy error codes, pyright rules) must have their tool's shape
(:data:`~codemods.fixers.suppress.codes.CODE_GRAMMAR`); a diagnostic whose code does not is dropped,
so that no text from a log but a code ever reaches a suppression comment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.commands.triage.logs import (
    MAX_LINE,
    LogReader,
    clean,
    job_from_name,
    read_before,
    trigger,
)
from codemods.fixers.suppress.codes import CODE_GRAMMAR

# Every line the parsers below start from contains one of these (searched on raw bytes, so ANSI
# codes and timestamps around them do not matter). Lines inside a pytest failure section and
# inside JSON / SQL blocks are read by following the log, so their words need not be here.
KEYWORDS: tuple[bytes, ...] = (
    b"FAILED", b"ERROR", b"______", b"======", b"====>>", b"#!/bin/", b"Exited with code", b"crashed",
    b"node down", b"Killed", b"MemoryError", b"Out of memory", b"workers", b"pytest", b"error:", b'"cell"',
    b'"severity"', b'"generalDiagnostics"', b" --> ", b"Found ", b"chema change", b"Stdout:", b"differ",
    b"out of sync", b"but you have", b"No matching distribution",
    # lint lines ``path.py:line:col: CODE message`` (ruff concise, ruff < 0.12 default, flake8): a digit
    # after the colon, so that pytest's ``tests/x.py::test_y PASSED`` lines are not read
    *(b".py:%d" % d for d in range(1, 10)), *(b".pyi:%d" % d for d in range(1, 10)),
    # how a failed CI step ends (CircleCI, GitHub Actions, make, npm, tox, Travis)
    b"xit code", b"##[error]", b"make: ***", b"npm ERR!", b"npm error", b"exited with", b"FAIL code",
    b"Too long with no output",
    # Prisma migrate, npm audit, vitest, ruff format, timeouts without a FAILED line, xdist worker counts
    b"rror: P30", b"migration started at", b"Drift detected", b"[+] Added", b"[*] Changed", b"[-] Removed",
    b"# npm audit report", b"Severity:", b"would be reformatted", b"Would reformat", b"FAIL ", b"Test timed out",
    b"+ Timeout +", b"TimeoutError", b"] / gw", b"py.test",
    # a runner without network: connection errors there are configuration, not transient
    b"Network is unreachable", b"/nix/store/",
)

# ``npm audit --json`` reports (read in the same pass, for :mod:`~codemods.commands.triage.npm`): a line
# holding this key starts one, and the log is followed to the report's closing ``}``
AUDIT_KEYWORD = b'"auditReportVersion"'
MAX_REPORT_LINES = 500_000
_SCAN_TRIGGER = trigger(KEYWORDS)  # tells the scan's lines from those read only for an audit report

# ``FAILED <id> - <message>`` is split by hand after this prefix (at the first `` - ``);
# ``<id> FAILED [ 50%]`` is found by its end, the test id being what comes before
_SUMMARY = re.compile(r"^(?:\[(?P<gw>gw\d+)\]\s+(?:\[\s*\d+%\]\s+)?)?(FAILED|ERROR)\s+(?=\S)")
_DASH = re.compile(r"\s-\s")
_VERBOSE = re.compile(r"\s(FAILED|ERROR)(?:\s+\[\s*\d+%\])?$")
_NODEID = re.compile(r"^\S+::\S")
_SECTION = re.compile(r"^_{3,}\s+(?:ERROR at \w+ of )?(\S(?:.*\S)?)\s+_{3,}$")
_RULE = re.compile(r"^={3,}")
_CRASH = re.compile(r"[Ww]orker '?(gw\d+)'? crashed while running '?\"?([^'\"]+)")
_NODE_DOWN = re.compile(r"\[(gw\d+)\] node down|replacing crashed worker|maximum crashed workers|"
                        r"(?:^|\s)Killed(?:\s|$)|exit (?:status|code) 137|^MemoryError\b|Out of memory")
_WORKERS = re.compile(r"(?:created: (\d+)/\d+ workers|\b(\d+) workers \[\d+ items?\])")
_GW_COUNT = re.compile(r"\bgw\d+ (?:\[\d+\]|ok|C|I)(?= |$)")  # ``gw0 [318] / gw1 [318]``: one per worker
_GW = re.compile(r"\bgw(\d+)\b")
# ``path:line:col: CODE message`` (ruff concise and ruff < 0.12 default, flake8); the path has no spaces
# or colons, so each part has one place to end (no retries)
# the same on a failed step's last lines, for files without a .py suffix (``test/check-application``)
_LINT_ANY = re.compile(r"^(?P<file>[^\s:]+):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]{1,10}[0-9]{1,6})"
                       r"(?: \[\*\])? (?P<msg>\S.*)$")
_LINT = re.compile(r"^(?P<file>[^\s:]+\.pyi?):(?P<row>\d+):(?P<col>\d+): (?P<code>[A-Z]{1,10}[0-9]{1,6})"
                   r"(?: \[\*\])? (?P<msg>\S.*)$")
_PYRIGHT_RULE = re.compile(r"\((report[A-Za-z0-9]{1,73})\)$")
_MYPY_CONT_CODE = re.compile(r"(?:^|\s)\[([a-z][a-z0-9-]*)\]$")
_EXIT_CODE = re.compile(r"\b[Ee]xit (?:code|status):? ?(\d+)")
_PRISMA_ERROR = re.compile(r"\bError: (P30\d\d)\b")
_FAILED_MIGRATION = re.compile(r"The `([^`]{1,200})` migration started at")
_DRIFT = re.compile(r"^(?:Drift detected\b|\[[+*-]\] (?:Added|Changed|Removed) )")
_NPM = re.compile(r"^(?:\[\d+\] )?npm (?:ERR!|error) ?(?P<rest>.*)$")  # ``[0] npm ERR!``: concurrently
_NPM_FOUND = re.compile(r"^(?:Found|While resolving|Conflicting peer dependency):? (?P<pkg>@?[\w.-]+(?:/[\w.-]+)?@\S+)")
_NPM_PEER = re.compile(r"^(?:peer|peerOptional) (?P<pkg>@?[\w.-]+(?:/[\w.-]+)?)@\"(?P<range>[^\"]*)\" from (?P<by>\S+)")
_AUDIT_PKG = re.compile(r"^(?P<pkg>@?[\w.-]+(?:/[\w.-]+)?)  +\S")
_VITEST = re.compile("^(?:FAIL|\u00d7|\u2717)" r"\s+(?P<id>\S+\.(?:[cm]?[jt]sx?|mts|cts) > \S.*)$")
_FRAME = re.compile(r'^File "(?P<path>[^"]+)", line \d+, in (?P<func>test\w*)$')
_BANNER = re.compile(r"^====>>\s*(\S.*)")
_RUFF_FULL = re.compile(r"^\s*--> (?P<file>\S.*?\.pyi?):(?P<row>\d+):(?P<col>\d+)\s*$")
_RUFF_FOUND = re.compile(r"^Found (\d+) errors?\.?$")
_MYPY = re.compile(
    r"^(?P<file>\S.*?\.pyi?):(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|note):(?: (?P<msg>.*))?$"
)
_PYRIGHT = re.compile(
    r"^\s*(?P<file>\S.*?\.pyi?):(?P<line>\d+):(?P<col>\d+) - (?P<sev>error|warning|information): "
    r"(?P<msg>.*?)(?: \((?P<rule>report[A-Za-z0-9]{1,73})\))?$"
)
_SCHEMA_CHANGES = re.compile(r"Schema changes? detected|schema changes? (?:were )?(?:found|not (?:covered|in a migration))",
                             re.IGNORECASE)
# "schema.prisma", later on the line one of these words (``Files a/schema.prisma and b/... differ``)
_PRISMA = re.compile(r"schema\.prisma", re.IGNORECASE)
_DIFFER = re.compile(r"\b(?:differ|out of sync|not in sync)\b", re.IGNORECASE)
_PIN_MISMATCH = re.compile(  # tried only where a word starts
    r"(?<![\w.-])(?P<who>[\w.-]+) [\w.+!-]+ requires (?P<pkg>[\w.-]+)==(?P<want>[\w.+!-]+), but you have "
    r"(?P=pkg) (?P<have>[\w.+!-]+)", re.IGNORECASE
)
_UNPUBLISHED = re.compile(r"(?:No matching distribution found for|Could not find a version that satisfies "
                          r"the requirement) (?P<pkg>[\w.-]+)==(?P<want>[\w.+!-]+)")
_BLOCK_END = re.compile(r"^(?:Stderr:|Exit code:|====>>|Exited with code|#!/bin/)")

#: Lines inside a pytest failure section worth keeping as evidence (the rules read them).
SIGNAL = re.compile(
    r"(?<![:\d])40[13](?![:\d])|Authentication|Unauthorized|Connect(?:ion)?Error|Connection (?:refused|reset|error)"
    r"|RateLimit|[Rr]ate limit|(?<![:\d])429(?![:\d])|Too Many Requests|Timeout|timed out"
    r"|(?<![:\d])50[0234](?![:\d])|Unavailable|Internal Server|Bad Gateway|InternalServerError|name resolution"
    r"|MemoryError|call_count|called|Exception|^E\s{2,}\S"
)

MAX_EVIDENCE = 6

_MYPY_CODE = re.compile(r"\s\s\[([^\[\]]*)\]$")  # the trailing ``  [code]`` of a mypy text line


def code_ok(tool: str, code: object) -> bool:
    """Whether a diagnostic's code is absent (None) or of ``tool``'s shape (an empty string is not)."""
    return code is None or (isinstance(code, str) and CODE_GRAMMAR[tool].fullmatch(code) is not None)


def _summary(line: str) -> tuple[str, str, str, str | None] | None:
    """``(FAILED|ERROR, test id, message, worker)`` of a short test summary line (worker: ``gw3`` of a
    ``[gw3] FAILED id`` line, else None)."""
    m = _SUMMARY.match(line)
    if m is None:
        return None
    what, gw = m.group(2), m.group("gw")
    rest = line[m.end():]
    dash = _DASH.search(rest)
    if dash is None:
        return what, rest.strip(), "", gw
    return what, rest[:dash.start()].strip(), rest[dash.end():].strip(), gw


def _timeout_line(line: str) -> tuple[str, str] | None:
    """``(test id, message)`` of an ``id - ...TimeoutError...`` line that has no FAILED prefix."""
    dash = _DASH.search(line)
    if dash is None:
        return None
    nodeid, message = line[:dash.start()], line[dash.end():].strip()
    if "::" not in nodeid or any(c.isspace() for c in nodeid) or "Timeout" not in message:
        return None
    return nodeid, message


def red_marker(head: str) -> bool:
    """Whether a line says the CI step failed (an exit code, ``##[error]``, make, npm, a CI timeout)."""
    if head.startswith(("##[error]", "npm ERR!", "npm error")) or "Too long with no output" in head \
            or _NPM.match(head[:40]):
        return True
    if "make: ***" in head:
        words = head.rsplit(" ", 2)
        return len(words) == 3 and words[1] == "Error" and words[2].isdigit() and words[2] != "0"
    m = _EXIT_CODE.search(head)
    return m is not None and int(m.group(1)) != 0


def _lint(line: str, pattern: re.Pattern[str] = _LINT) -> dict[str, Any] | None:
    """A ``path:line:col: CODE message`` line as a ruff JSON diagnostic (``noqa_row`` is the line)."""
    m = pattern.match(line)
    if m is None:
        return None
    row, col = int(m.group("row")), int(m.group("col"))
    return {"filename": m.group("file"), "code": m.group("code"), "message": m.group("msg"),
            "location": {"row": row, "column": col}, "end_location": {"row": row, "column": col},
            "noqa_row": row}


def _verbose(line: str) -> tuple[str, str] | None:
    """``(test id, FAILED|ERROR)`` of a ``pytest -v`` result line."""
    m = _VERBOSE.search(line)
    if m is None:
        return None
    nodeid = line[:m.start()].rstrip()
    return (nodeid, m.group(1)) if _NODEID.match(nodeid) else None


def _crash(line: str) -> str | None:
    """The test id of an xdist ``worker 'gw1' crashed while running 'ID'`` line."""
    m = _CRASH.search(line)
    if m is None or line[m.end():].strip() not in ("", "'", '"', "'\""):
        return None
    return m.group(2).rstrip() or None


def _copies_differ(line: str) -> bool:
    m = _PRISMA.search(line)
    return m is not None and _DIFFER.search(line, m.end()) is not None


@dataclass
class Line:
    """One evidence line: where it is and what it says."""

    file: str
    line: int | None
    text: str
    step: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "step": self.step, "text": self.text}


@dataclass
class TestFailure:
    """A test the log reports as failed, with its summary message and section evidence."""

    nodeid: str
    message: str
    line: Line
    evidence: list[Line] = field(default_factory=list)
    kind: str = "failure"  # or "error" (setup/teardown/collection)


@dataclass
class LogFacts:
    """Everything :func:`scan_log` found in one log file."""

    path: Path
    job: str | None
    lines: int = 0
    failures: dict[str, TestFailure] = field(default_factory=dict)
    sections: dict[str, list[Line]] = field(default_factory=dict)
    crashed: dict[str, Line] = field(default_factory=dict)  # node id -> crash line
    crash_lines: list[Line] = field(default_factory=list)  # node down / Killed / MemoryError
    workers: int | None = None
    ruff: list[dict[str, Any]] = field(default_factory=list)
    ruff_text: list[Line] = field(default_factory=list)
    mypy_json: list[dict[str, Any]] = field(default_factory=list)
    mypy_text: list[str] = field(default_factory=list)
    mypy_lines: list[Line] = field(default_factory=list)
    pyright: list[dict[str, Any]] = field(default_factory=list)
    bad_codes: int = 0  # tool diagnostics dropped because their code is not of the tool's shape
    pyright_lines: list[Line] = field(default_factory=list)
    schema_changes: list[Line] = field(default_factory=list)
    sql_blocks: list[tuple[Line, str]] = field(default_factory=list)
    copies_differ: list[Line] = field(default_factory=list)
    pin_mismatch: list[tuple[Line, str, str, str]] = field(default_factory=list)  # line, pkg, want, have
    unpublished: list[tuple[Line, str, str]] = field(default_factory=list)
    lint: list[dict[str, Any]] = field(default_factory=list)  # ``path:line:col: CODE`` lines, as ruff JSON
    lint_lines: list[Line] = field(default_factory=list)
    formatting: list[tuple[Line, str]] = field(default_factory=list)  # ruff format --check: line, file
    prisma_errors: list[tuple[Line, str, str | None]] = field(default_factory=list)  # line, P3009, migration
    drift: list[Line] = field(default_factory=list)  # Drift detected / ``[+] Added tables`` summaries
    drift_text: list[str] = field(default_factory=list)  # those summaries' lines
    npm: list[Line] = field(default_factory=list)  # npm ERR! ERESOLVE and friends
    npm_packages: list[str] = field(default_factory=list)
    audit: list[tuple[Line, str, str]] = field(default_factory=list)  # line, package, severity
    ci_timeouts: list[Line] = field(default_factory=list)  # the CI killed a silent step
    timeout_dumps: list[Line] = field(default_factory=list)  # pytest-timeout dumps naming no test
    red_steps: list[tuple[Line, int]] = field(default_factory=list)  # failed steps that matched nothing: marker, offset
    unknown_steps: list[tuple[Line, list[Line]]] = field(default_factory=list)  # those with their last lines
    repeats: int = 0  # failure lines of tests already seen (a step that only repeats a failure still has one)
    no_network: dict[str | None, Line] = field(default_factory=dict)  # step -> ``Network is unreachable`` or a
    # Nix build sandbox (``/nix/store/``): connection errors in that step are configuration, not transient
    audit_json: list[tuple[int, str]] = field(default_factory=list)  # npm audit --json reports: line, JSON text

    def count(self) -> int:
        """How many facts were found so far (to tell whether a step matched anything)."""
        return (len(self.failures) + len(self.crashed) + len(self.crash_lines) + len(self.ruff) + len(self.ruff_text)
                + len(self.mypy_json) + len(self.mypy_text) + len(self.pyright) + self.bad_codes
                + len(self.schema_changes) + len(self.sql_blocks) + len(self.copies_differ) + len(self.pin_mismatch)
                + len(self.unpublished) + len(self.lint) + len(self.formatting) + len(self.prisma_errors)
                + len(self.drift) + len(self.npm) + len(self.audit) + len(self.ci_timeouts) + len(self.timeout_dumps)
                + sum(1 for f in self.failures.values() if f.message) + self.repeats)


class _AuditJson:
    """Collects the ``npm audit --json`` objects of a log (pretty-printed or on one line) into
    ``facts.audit_json`` from the lines holding :data:`AUDIT_KEYWORD` and, while :attr:`block` is
    open, every following line; validating them is :mod:`~codemods.commands.triage.npm`'s job."""

    def __init__(self, facts: LogFacts) -> None:
        self.facts = facts
        self.block: list[str] | None = None
        self.start = 0

    def feed(self, number: int, text: str) -> None:
        text = clean(text)  # once more, as the reports were always read (a second timestamp goes too)
        block = self.block
        if block is None:
            if '"auditReportVersion"' not in text:
                return
            head = text.lstrip()
            self.start = number if head.startswith("{") else number - 1
            if head.startswith("{") and head.rstrip().endswith("}"):
                self.facts.audit_json.append((self.start, head))  # the whole report on one line
                return
            self.block = [head] if head.startswith("{") else ["{", text]
            return
        block.append(text)
        if text.rstrip() == "}" or len(block) > MAX_REPORT_LINES:
            self.facts.audit_json.append((self.start, "\n".join(block)))
            self.block = None


class _Scanner:
    def __init__(self, path: Path, job: str | None) -> None:
        self.facts = LogFacts(path=path, job=job)
        self.name = str(path)
        self.reader = LogReader(path)
        self.following = False  # the scan reads every line (a block); the reader follows for the audit reports too
        self.audit = _AuditJson(self.facts)
        self.step: str | None = None
        self.section: str | None = None
        self.block: str | None = None  # "ruff" | "pyright" | "stdout" | "command"
        self.block_start: Line | None = None
        self.block_lines: list[str] = []
        self.down: set[str] = set()  # workers whose node went down (their next FAILED test is the crash)
        self.step_facts = 0  # facts found before the current step began
        self.step_red: tuple[Line, int] | None = None  # the step's last "it failed" line and its offset
        self.vitest: str | None = None  # the last vitest FAIL id (its error line follows)
        self.reformat = False  # ruff format's "unformatted:" line: the next ``-->`` names the file
        self.pending: dict[str, Any] | None = None  # a mypy / pyright diagnostic whose code is on a later line

    def line(self, number: int, text: str) -> Line:
        return Line(self.name, number, text.strip()[:500], self.step)

    def run(self) -> LogFacts:
        """One pass over the log for the scan's keywords and :data:`AUDIT_KEYWORD`; each line goes to
        the consumers that would have read it alone (the scan: its keyword lines and its blocks)."""
        reader, audit = self.reader, self.audit
        for number, text in reader.lines((*KEYWORDS, AUDIT_KEYWORD)):
            raw = reader.raw
            for_audit = audit.block is not None or AUDIT_KEYWORD in raw
            # neither following: a keyword line, the scan's unless it was found only for the audit key
            if self.following or not for_audit or _SCAN_TRIGGER.search(raw) is not None:
                if self.block is not None:
                    self.in_block(number, text)
                else:
                    self.handle(number, text)
            if for_audit:
                audit.feed(number, text)
            reader.follow = self.following or audit.block is not None
        if self.block is not None:
            self.end_block()
        self.end_step()
        self.facts.lines = self.reader.lines_read
        return self.facts

    def end_step(self) -> None:
        """A failed step (an exit code, ``##[error]``...) in which nothing known was found is kept as such."""
        if self.step_red is not None and self.facts.count() == self.step_facts:
            self.facts.red_steps.append(self.step_red)
        self.step_red, self.step_facts = None, self.facts.count()

    # -- multi-line blocks ---------------------------------------------------------------------
    def start_block(self, kind: str, start: Line, first: list[str]) -> None:
        self.block, self.block_start, self.block_lines = kind, start, first
        self.following = True

    def in_block(self, number: int, text: str) -> None:
        kind = self.block
        stripped = text.strip()
        head = stripped[:MAX_LINE].rstrip()
        self.offline(number, text, head)
        if kind == "section":
            crashed = _crash(head)
            if _RULE.match(head) or _BANNER.match(head) or _SECTION.match(head):
                self.end_block()
                self.handle(number, text)
            elif crashed:  # pytest-xdist 3.8: the section of the module holds the crash line
                self.facts.crashed.setdefault(crashed, self.line(number, text))
            elif self.section is not None and SIGNAL.search(head):
                ev = self.facts.sections[self.section]
                if len(ev) < MAX_EVIDENCE:
                    ev.append(self.line(number, text))
            return
        if kind == "command":
            self.end_block()
            self.handle(number, text)  # the command line itself (e.g. pytest -n 8)
            return
        if kind in ("mypy", "pyright-more"):
            self.continue_diagnostic(number, text, head)
            return
        if kind == "timeout":
            frame = _FRAME.match(head)
            if frame and self.block_lines and frame.group("path").endswith(self.block_lines[0]):
                self.block_lines[1:] = [f"{self.block_lines[0]}::{frame.group('func')}"]
            if "+ Timeout +" in head or _BANNER.match(head) or red_marker(head):
                self.end_block()
                if "+ Timeout +" not in head:
                    self.handle(number, text)
            return
        if kind == "drift":
            if _BANNER.match(head) or red_marker(head) or head.startswith(("$ ", "Error", "?")) \
                    or len(self.block_lines) > 40:
                self.end_block()
                self.handle(number, text)
            else:
                self.block_lines.append(head)
                if head:
                    self.facts.drift_text.append(head)
            return
        if kind == "audit":
            m = _AUDIT_PKG.match(head)
            if m:
                self.block_lines[:] = [m.group("pkg")]
            elif head.startswith("Severity:") and self.block_lines:
                self.facts.audit.append((self.line(number, text), self.block_lines[0], head.split(":", 1)[1].strip()))
            elif head.startswith(("found ", "To address")) or _BANNER.match(head) or red_marker(head) \
                    or "vulnerabilit" in head:
                self.end_block()
                self.handle(number, text)
            return
        if kind == "stdout" and _BLOCK_END.match(head):
            self.end_block()
            self.handle(number, text)
            return
        # the closing bracket is at column 0 (output without a final newline may run into the next line)
        done = (kind == "ruff" and text.startswith("]")) or (kind == "pyright" and text.startswith("}"))
        self.block_lines.append(text[:1] if done else text)
        if done or len(self.block_lines) > 2_000_000:
            self.end_block()

    def end_block(self) -> None:
        kind, start, lines = self.block, self.block_start, self.block_lines
        self.block, self.block_start, self.block_lines = None, None, []
        self.following = False
        assert start is not None
        facts = self.facts
        if kind in ("section", "command", "audit", "drift"):
            return
        if kind in ("mypy", "pyright-more"):
            self.finish_diagnostic()
            return
        if kind == "timeout":
            nodeid = lines[1] if len(lines) > 1 else (lines[0] if lines and "::" in lines[0] else None)
            if nodeid:
                facts.failures.setdefault(nodeid, TestFailure(nodeid, "Timeout (pytest-timeout)", start))
            else:
                facts.timeout_dumps.append(start)
            return
        if kind == "ruff":
            try:
                data = json.loads("\n".join(lines))
            except ValueError:
                return
            if isinstance(data, list):
                self.add_ruff(data)
                facts.ruff_text.append(start)
        elif kind == "pyright":
            try:
                data = json.loads("\n".join(lines))
            except ValueError:
                return
            diags = data.get("generalDiagnostics") if isinstance(data, dict) else None
            if isinstance(diags, list):
                for d in diags:
                    if isinstance(d, dict):
                        self.add_checked(facts.pyright, "pyright", d.get("rule"), d)
                facts.pyright_lines.append(start)
        elif kind == "stdout":
            sql = "\n".join(lines).strip("\n")
            if re.search(r"^-- (?:Create|Alter|Drop|Add|Rename|Redefine|This is an empty migration)", sql, re.M) \
                    or re.search(r"^[ \t]*(?:CREATE|ALTER|DROP) ", sql, re.M):
                facts.sql_blocks.append((start, sql))

    # -- single lines --------------------------------------------------------------------------
    def offline(self, number: int, text: str, head: str) -> None:
        if self.step not in self.facts.no_network and ("Network is unreachable" in head or "/nix/store/" in head):
            self.facts.no_network[self.step] = self.line(number, text)

    def handle(self, number: int, text: str) -> None:
        facts = self.facts
        stripped = text.strip()
        if not stripped:
            return
        head = stripped[:MAX_LINE].rstrip()  # all the patterns see
        self.offline(number, text, head)
        m = _BANNER.match(head)
        if m:
            self.end_step()
            self.step, self.section = m.group(1), None
            return
        if red_marker(head):
            self.step_red = (self.line(number, text), self.reader.offset)
            if "Too long with no output" in head:
                facts.ci_timeouts.append(self.line(number, text))
                return
        if head.startswith("#!/bin/"):
            self.start_block("command", self.line(number, text), [])
            return
        if _RULE.match(head):
            self.section = None
            return
        m = _SECTION.match(head)
        if m:
            self.section = m.group(1)
            facts.sections.setdefault(self.section, [])
            self.start_block("section", self.line(number, text), [])
            return
        summary = _summary(head)
        if summary and ("::" in summary[1] or summary[1].endswith(".py")):
            what, nodeid, message, gw = summary
            prev = facts.failures.get(nodeid)
            if prev is None:
                facts.failures[nodeid] = TestFailure(nodeid, message, self.line(number, text),
                                                     kind="error" if what == "ERROR" else "failure")
            else:
                facts.repeats += 1
                if message and not prev.message:
                    prev.message, prev.line = message, self.line(number, text)
            if gw is not None and gw in self.down:  # ``[gw0] node down`` then ``[gw0] FAILED id``: the crash
                self.down.discard(gw)
                facts.crashed.setdefault(nodeid, self.line(number, text))
            elif _CRASH.search(message):  # ``FAILED id - worker 'gw53' crashed while running 'id'``
                facts.crashed.setdefault(nodeid, self.line(number, text))
            return
        timed_out = _timeout_line(head)
        if timed_out:
            nodeid, message = timed_out
            facts.failures.setdefault(nodeid, TestFailure(nodeid, message, self.line(number, text)))
            return
        verbose = _verbose(head)
        if verbose:
            nodeid, what = verbose
            facts.failures.setdefault(nodeid, TestFailure(nodeid, "", self.line(number, text),
                                                          kind="error" if what == "ERROR" else "failure"))
            return
        crashed = _crash(head)
        if crashed:
            facts.crashed.setdefault(crashed, self.line(number, text))
            return
        if ("pytest" in head or "py.test" in head) and not self.section:
            n = pytest_workers(head)
            if n:
                facts.workers = max(facts.workers or 0, n)
        m = _WORKERS.search(head)
        if m:
            facts.workers = max(facts.workers or 0, int(m.group(1) or m.group(2)))
            return
        if "] / gw" in head:
            n = len(_GW_COUNT.findall(head))
            if n > 1:
                facts.workers = max(facts.workers or 0, n)
        if self.section is None and _NODE_DOWN.search(head):
            facts.crash_lines.append(self.line(number, text))
            worker = _GW.search(head)
            if worker:
                self.down.add(worker.group(0))
            return
        if self.other_line(number, text, head):
            return
        if self.tool_line(number, text, stripped, head):
            return
        if _SCHEMA_CHANGES.search(head):
            facts.schema_changes.append(self.line(number, text))
            return
        if stripped == "Stdout:" or stripped.startswith("Stdout: "):
            rest = stripped[len("Stdout:"):].strip()
            self.start_block("stdout", self.line(number, text), [rest] if rest else [])
            return
        if _copies_differ(head):
            facts.copies_differ.append(self.line(number, text))
            return
        m = _PIN_MISMATCH.search(head)
        if m:
            facts.pin_mismatch.append((self.line(number, text), m.group("pkg"), m.group("want"), m.group("have")))
            return
        m = _UNPUBLISHED.search(head)
        if m:
            facts.unpublished.append((self.line(number, text), m.group("pkg"), m.group("want")))
            return

    def other_line(self, number: int, text: str, head: str) -> bool:
        """Lint text, ruff format, Prisma, npm, vitest and pytest-timeout lines; True when the line was one."""
        facts = self.facts
        diag = _lint(head)
        if diag is not None:
            facts.lint.append(diag)
            if len(facts.lint_lines) < MAX_EVIDENCE:
                facts.lint_lines.append(self.line(number, text))
            return True
        if head.startswith("Would reformat: "):
            facts.formatting.append((self.line(number, text), head[len("Would reformat: "):].strip()))
            return True
        if head.startswith("unformatted: ") and "would be reformatted" in head:
            self.reformat = True
            return True
        if self.reformat and head.startswith("--> "):
            self.reformat = False
            facts.formatting.append((self.line(number, text), head[4:].rsplit(":", 2)[0]))
            return True
        m = _PRISMA_ERROR.search(head)
        if m:
            facts.prisma_errors.append((self.line(number, text), m.group(1), None))
            return True
        m = _FAILED_MIGRATION.search(head)
        if m and facts.prisma_errors and facts.prisma_errors[-1][2] is None:
            line, code, _ = facts.prisma_errors[-1]
            facts.prisma_errors[-1] = (line, code, m.group(1))
            return True
        if _DRIFT.match(head):
            facts.drift.append(self.line(number, text))
            self.start_block("drift", self.line(number, text), [])
            facts.drift_text.append(head)
            return True
        m = _NPM.match(head)
        if m:
            rest = m.group("rest").strip()
            if "ERESOLVE" in rest or "peer dep" in rest:
                facts.npm.append(self.line(number, text))
            found, peer = _NPM_FOUND.match(rest), _NPM_PEER.match(rest)
            name = found.group("pkg") if found else (
                f"{peer.group('pkg')}@{peer.group('range')} (peer of {peer.group('by')})" if peer else None)
            if name and facts.npm and name not in facts.npm_packages and len(facts.npm_packages) < 20:
                facts.npm_packages.append(name)
            return True
        if head.startswith("# npm audit report"):
            self.start_block("audit", self.line(number, text), [])
            return True
        m = _VITEST.match(head)
        if m:
            self.vitest = m.group("id")
            facts.failures.setdefault(self.vitest, TestFailure(self.vitest, "", self.line(number, text)))
            return True
        if "Test timed out" in head and self.vitest is not None:
            failure = facts.failures.get(self.vitest)
            if failure is not None and not failure.message:
                failure.message = head
            return True
        if "+ Timeout +" in head:  # pytest-timeout's dump: ``tests/test_x.py[::test_y] +++ Timeout +++``
            where = head.split(" ", 1)[0] if not head.startswith("+") else ""
            self.start_block("timeout", self.line(number, text), [where] if where else [])
            return True
        return False

    def continue_diagnostic(self, number: int, text: str, head: str) -> None:
        """A line after a mypy (``--pretty``) or pyright diagnostic whose code was not on its first line."""
        pending = self.pending
        assert pending is not None
        if self.block == "mypy":
            if not head or text[:1].isspace() or _MYPY.match(head) or head.startswith("Found "):
                self.end_block()  # no code: keep the diagnostic as it was
                self.handle(number, text)
                return
            pending["parts"].append(head)
            code = _MYPY_CONT_CODE.search(head[-200:])
            if code:
                pending["code"] = code.group(1)
                self.end_block()
            elif len(pending["parts"]) > 8:
                self.end_block()
            return
        # pyright: the rest of the message is indented under the diagnostic (basedpyright: 2 spaces + 2 NBSP)
        if len(text) - len(text.lstrip()) < 3 or _PYRIGHT.match(head) or len(pending["parts"]) > 8:
            self.end_block()
            self.handle(number, text)
            return
        pending["parts"].append(head)
        rule = _PYRIGHT_RULE.search(head[-100:])
        if rule:
            pending["code"] = rule.group(1)
            self.end_block()

    def finish_diagnostic(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None:
            return
        facts, code, parts = self.facts, pending["code"], pending["parts"]
        if pending["tool"] == "mypy":
            message = " ".join(parts)
            if code is not None:
                message = _MYPY_CONT_CODE.sub("", message).rstrip()
                if not CODE_GRAMMAR["mypy"].fullmatch(code):
                    facts.bad_codes += 1
                    return
                message = f"{message}  [{code}]"
            facts.mypy_text.append(message)
            return
        diag = pending["diag"]
        diag["message"] = "\n".join([diag["message"], *parts[:-1], _PYRIGHT_RULE.sub("", parts[-1]).rstrip()]
                                    if parts else [diag["message"]])
        if code is not None:
            diag["rule"] = code
        facts.pyright.append(diag)

    def add_checked(self, into: list[dict[str, Any]], tool: str, code: object, item: dict[str, Any]) -> None:
        """Keep a tool diagnostic whose code is of the tool's shape (or absent); count the others."""
        if code_ok(tool, code):
            into.append(item)
        else:
            self.facts.bad_codes += 1

    def add_ruff(self, data: list[Any]) -> None:
        for d in data:
            if isinstance(d, dict) and "code" in d:
                self.add_checked(self.facts.ruff, "ruff", d["code"], d)

    def tool_line(self, number: int, text: str, stripped: str, head: str) -> bool:
        """ruff / mypy / pyright output; True when the line was one (JSON is decoded whole, not just its head)."""
        facts = self.facts
        if stripped.startswith('"cell"') and self.section is None:
            self.start_block("ruff", self.line(number, text), ["[{", stripped])
            return True
        if stripped.startswith("[{") and '"noqa_row"' in stripped:
            try:
                data = json.loads(stripped)
            except ValueError:
                return False
            if isinstance(data, list):
                self.add_ruff(data)
            facts.ruff_text.append(self.line(number, text))
            return True
        if stripped.startswith('"generalDiagnostics"'):
            self.start_block("pyright", self.line(number, text), ["{", stripped])
            return True
        if stripped.startswith('{"file"') and '"severity"' in stripped:
            try:
                item = json.loads(stripped)
            except ValueError:
                return False
            if isinstance(item, dict) and item.get("severity") == "error" and code_ok("mypy", item.get("code")):
                facts.mypy_json.append(item)
                if len(facts.mypy_lines) < MAX_EVIDENCE:
                    facts.mypy_lines.append(self.line(number, text))
            elif isinstance(item, dict) and item.get("severity") == "error":
                facts.bad_codes += 1
            return True
        if " - " in head:
            m = _PYRIGHT.match(head)
            if m:
                if m.group("sev") == "error":
                    line, col = int(m.group("line")), int(m.group("col"))
                    pos = {"line": line - 1, "character": col - 1}
                    diag: dict[str, Any] = {"file": m.group("file"), "severity": "error", "message": m.group("msg"),
                            "range": {"start": pos, "end": dict(pos)}}
                    if len(facts.pyright_lines) < MAX_EVIDENCE:
                        facts.pyright_lines.append(self.line(number, text))
                    if m.group("rule"):
                        diag["rule"] = m.group("rule")
                        facts.pyright.append(diag)
                    else:  # the message goes on below (the rule ends its last line)
                        self.pending = {"tool": "pyright", "diag": diag, "code": None, "parts": []}
                        self.start_block("pyright-more", self.line(number, text), [])
                return True
        m = _MYPY.match(head)
        if m:
            code = _MYPY_CODE.search(stripped[-200:])  # the whole line goes to the report: check its end
            if code and not CODE_GRAMMAR["mypy"].fullmatch(code.group(1)):
                facts.bad_codes += 1
            elif code is None and m.group("sev") == "error":  # mypy --pretty: the code ends a later line
                self.pending = {"tool": "mypy", "code": None, "parts": [stripped]}
                self.start_block("mypy", self.line(number, text), [])
                if len(facts.mypy_lines) < MAX_EVIDENCE:
                    facts.mypy_lines.append(self.line(number, text))
            elif m.group("sev") == "error" or facts.mypy_text:
                facts.mypy_text.append(stripped)
                if m.group("sev") == "error" and len(facts.mypy_lines) < MAX_EVIDENCE:
                    facts.mypy_lines.append(self.line(number, text))
            return True
        m = _RUFF_FULL.match(head)
        if m:
            facts.ruff_text.append(self.line(number, text))
            return True
        m = _RUFF_FOUND.match(head)
        return bool(m and (facts.ruff_text or facts.ruff))


def pytest_workers(command: str) -> int | None:
    """The largest numeric ``-n`` of the pytest invocations in a shell line (``conda create -n x`` is not one);
    a shell prompt before the command (``$ pytest -n2``, ``(venv) $ ...``) is skipped."""
    from codemods.testsuite.invocations import find_invocations

    prompt = command.find("$ ", 0, 60)
    if prompt >= 0:
        command = command[prompt + 2:]
    elif command.startswith(("+ ", "> ", "% ")):
        command = command[2:]
    found = [int(o.value) for inv in find_invocations(command)
             if (o := inv.numprocesses) is not None and o.value and o.value.isdigit()]
    return max(found) if found else None


def scan_log(path: Path, job: str | None = None) -> LogFacts:
    """Scan one log file (a :class:`~codemods.errors.StabfixError` for a binary or missing file)."""
    facts = _Scanner(path, job if job is not None else job_from_name(path)).run()
    for marker, offset in facts.red_steps:  # a failed step that matched nothing: show its last lines
        assert marker.line is not None
        before = read_before(path, offset, MAX_EVIDENCE - 1)
        tail = [Line(marker.file, marker.line - back, text.strip()[:500], marker.step) for back, text in before]
        lint = [(e, d) for e in tail if (d := _lint(e.text[:MAX_LINE], _LINT_ANY)) is not None]
        if lint:  # lint output on files without a .py suffix: seen only now, on the step's last lines
            facts.lint.extend(d for _, d in lint)
            facts.lint_lines.extend(e for e, _ in lint[:MAX_EVIDENCE])
            continue
        facts.unknown_steps.append((marker, [*tail, marker]))
    return facts
