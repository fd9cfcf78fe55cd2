"""What one CI log says: failed tests, worker crashes, tool reports, schema and version problems.

:func:`scan_log` streams a log through :class:`~codemods.commands.triage.logs.LogReader` with one trigger
regex (keywords that every interesting line contains, so ANSI codes and timestamps around them do
not matter) and parses only those lines. Multi-line blocks (ruff / pyright JSON, the ``Stdout:``
of LiteLLM's migration check) are read by following the log until the block ends.

The result is a :class:`LogFacts`: raw facts with their evidence lines, no categories yet.

The patterns examine the first :data:`~codemods.commands.triage.logs.MAX_LINE` characters of a line and
are linear: none has a lazy or greedy run followed by something that may fail and make it retry
from every position (what took minutes on one megabyte-long ``FAILED`` line). Codes taken from
tool output (ruff rule codes, mypy error codes, pyright rules) must have their tool's shape
(:data:`~codemods.fixers.suppress.reports.CODE_GRAMMAR`); a diagnostic whose code does not is dropped,
so that no text from a log but a code ever reaches a suppression comment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.commands.triage.logs import MAX_LINE, LogReader, job_from_name
from codemods.fixers.suppress.reports import CODE_GRAMMAR

# Every line the parsers below start from contains one of these (searched on raw bytes, so ANSI
# codes and timestamps around them do not matter). Lines inside a pytest failure section and
# inside JSON / SQL blocks are read by following the log, so their words need not be here.
KEYWORDS: tuple[bytes, ...] = (
    b"FAILED", b"ERROR", b"______", b"======", b"====>>", b"#!/bin/", b"Exited with code", b"crashed",
    b"node down", b"Killed", b"MemoryError", b"Out of memory", b"workers", b"pytest", b"error:", b'"cell"',
    b'"severity"', b'"generalDiagnostics"', b" --> ", b"Found ", b"chema change", b"Stdout:", b"differ",
    b"out of sync", b"but you have", b"No matching distribution",
)

# ``FAILED <id> - <message>`` is split by hand after this prefix (at the first `` - ``);
# ``<id> FAILED [ 50%]`` is found by its end, the test id being what comes before
_SUMMARY = re.compile(r"^(?:\[gw\d+\]\s+(?:\[\s*\d+%\]\s+)?)?(FAILED|ERROR)\s+(?=\S)")
_DASH = re.compile(r"\s-\s")
_VERBOSE = re.compile(r"\s(FAILED|ERROR)(?:\s+\[\s*\d+%\])?$")
_NODEID = re.compile(r"^\S+::\S")
_SECTION = re.compile(r"^_{3,}\s+(?:ERROR at \w+ of )?(\S(?:.*\S)?)\s+_{3,}$")
_RULE = re.compile(r"^={3,}")
_CRASH = re.compile(r"worker '?(gw\d+)'? crashed while running '?\"?([^'\"]+)")
_NODE_DOWN = re.compile(r"\[(gw\d+)\] node down|replacing crashed worker|maximum crashed workers|"
                        r"(?:^|\s)Killed(?:\s|$)|exit (?:status|code) 137|^MemoryError\b|Out of memory")
_WORKERS = re.compile(r"(?:created: (\d+)/\d+ workers|\b(\d+) workers \[\d+ items?\])")
_BANNER = re.compile(r"^====>>\s*(\S.*)")
_RUFF_FULL = re.compile(r"^\s*--> (?P<file>\S.*?\.pyi?):(?P<row>\d+):(?P<col>\d+)\s*$")
_RUFF_FOUND = re.compile(r"^Found (\d+) errors?\.?$")
_MYPY = re.compile(
    r"^(?P<file>\S.*?\.pyi?):(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|note): (?P<msg>.*)$"
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


def _summary(line: str) -> tuple[str, str, str] | None:
    """``(FAILED|ERROR, test id, message)`` of a short test summary line."""
    m = _SUMMARY.match(line)
    if m is None:
        return None
    rest = line[m.end():]
    dash = _DASH.search(rest)
    if dash is None:
        return m.group(1), rest.strip(), ""
    return m.group(1), rest[:dash.start()].strip(), rest[dash.end():].strip()


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


class _Scanner:
    def __init__(self, path: Path, job: str | None) -> None:
        self.facts = LogFacts(path=path, job=job)
        self.name = str(path)
        self.reader = LogReader(path)
        self.step: str | None = None
        self.section: str | None = None
        self.block: str | None = None  # "ruff" | "pyright" | "stdout" | "command"
        self.block_start: Line | None = None
        self.block_lines: list[str] = []

    def line(self, number: int, text: str) -> Line:
        return Line(self.name, number, text.strip()[:500], self.step)

    def run(self) -> LogFacts:
        for number, text in self.reader.lines(KEYWORDS):
            if self.block is not None:
                self.in_block(number, text)
            else:
                self.handle(number, text)
        if self.block is not None:
            self.end_block()
        self.facts.lines = self.reader.lines_read
        return self.facts

    # -- multi-line blocks ---------------------------------------------------------------------
    def start_block(self, kind: str, start: Line, first: list[str]) -> None:
        self.block, self.block_start, self.block_lines = kind, start, first
        self.reader.follow = True

    def in_block(self, number: int, text: str) -> None:
        kind = self.block
        stripped = text.strip()
        head = stripped[:MAX_LINE].rstrip()
        if kind == "section":
            if _RULE.match(head) or _BANNER.match(head) or _SECTION.match(head):
                self.end_block()
                self.handle(number, text)
            elif self.section is not None and SIGNAL.search(head):
                ev = self.facts.sections[self.section]
                if len(ev) < MAX_EVIDENCE:
                    ev.append(self.line(number, text))
            return
        if kind == "command":
            self.end_block()
            self.handle(number, text)  # the command line itself (e.g. pytest -n 8)
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
        self.reader.follow = False
        assert start is not None
        facts = self.facts
        if kind in ("section", "command"):
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
    def handle(self, number: int, text: str) -> None:
        facts = self.facts
        stripped = text.strip()
        if not stripped:
            return
        head = stripped[:MAX_LINE].rstrip()  # all the patterns see
        m = _BANNER.match(head)
        if m:
            self.step, self.section = m.group(1), None
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
            what, nodeid, message = summary
            prev = facts.failures.get(nodeid)
            if prev is None:
                facts.failures[nodeid] = TestFailure(nodeid, message, self.line(number, text),
                                                     kind="error" if what == "ERROR" else "failure")
            elif message and not prev.message:
                prev.message, prev.line = message, self.line(number, text)
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
        if "pytest" in head and not self.section:
            n = pytest_workers(head)
            if n:
                facts.workers = max(facts.workers or 0, n)
        m = _WORKERS.search(head)
        if m:
            facts.workers = max(facts.workers or 0, int(m.group(1) or m.group(2)))
            return
        if self.section is None and _NODE_DOWN.search(head):
            facts.crash_lines.append(self.line(number, text))
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
                    if m.group("rule"):
                        diag["rule"] = m.group("rule")
                    facts.pyright.append(diag)
                    if len(facts.pyright_lines) < MAX_EVIDENCE:
                        facts.pyright_lines.append(self.line(number, text))
                return True
        m = _MYPY.match(head)
        if m:
            code = _MYPY_CODE.search(stripped[-200:])  # the whole line goes to the report: check its end
            if code and not CODE_GRAMMAR["mypy"].fullmatch(code.group(1)):
                facts.bad_codes += 1
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
    """The largest numeric ``-n`` of the pytest invocations in a shell line (``conda create -n x`` is not one)."""
    from codemods.testsuite.invocations import find_invocations

    found = [int(o.value) for inv in find_invocations(command)
             if (o := inv.numprocesses) is not None and o.value and o.value.isdigit()]
    return max(found) if found else None


def scan_log(path: Path, job: str | None = None) -> LogFacts:
    """Scan one log file (a :class:`~codemods.errors.StabfixError` for a binary or missing file)."""
    return _Scanner(path, job if job is not None else job_from_name(path)).run()
