"""What one CI log says: failed tests, worker crashes, tool reports, schema and version problems.

:func:`scan_log` streams a log through :class:`~codemods.triage.logs.LogReader` with one trigger
regex (keywords that every interesting line contains, so ANSI codes and timestamps around them do
not matter) and parses only those lines. Multi-line blocks (ruff / pyright JSON, the ``Stdout:``
of LiteLLM's migration check) are read by following the log until the block ends.

The result is a :class:`LogFacts`: raw facts with their evidence lines, no categories yet.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .logs import LogReader, job_from_name

# Every line the parsers below start from contains one of these (searched on raw bytes, so ANSI
# codes and timestamps around them do not matter). Lines inside a pytest failure section and
# inside JSON / SQL blocks are read by following the log, so their words need not be here.
KEYWORDS: tuple[bytes, ...] = (
    b"FAILED", b"ERROR", b"______", b"======", b"====>>", b"#!/bin/", b"Exited with code", b"crashed",
    b"node down", b"Killed", b"MemoryError", b"Out of memory", b"workers", b"pytest", b"error:", b'"cell"',
    b'"severity"', b'"generalDiagnostics"', b" --> ", b"Found ", b"chema change", b"Stdout:", b"differ",
    b"out of sync", b"but you have", b"No matching distribution",
)

_SUMMARY = re.compile(r"^(?:\[gw\d+\]\s+(?:\[\s*\d+%\]\s+)?)?(FAILED|ERROR)\s+(\S.*?)(?:\s+-\s+(.*))?\s*$")
_VERBOSE = re.compile(r"^(\S+::\S.*?)\s+(FAILED|ERROR)(?:\s+\[\s*\d+%\])?\s*$")
_SECTION = re.compile(r"^_{3,}\s+(?:ERROR at \w+ of )?(.+?)\s+_{3,}$")
_RULE = re.compile(r"^={3,}")
_CRASH = re.compile(r"worker '?(gw\d+)'? crashed while running '?\"?([^'\"]+?)'?\"?\s*$")
_NODE_DOWN = re.compile(r"\[(gw\d+)\] node down|replacing crashed worker|maximum crashed workers|"
                        r"(?:^|\s)Killed(?:\s|$)|exit (?:status|code) 137|^MemoryError\b|Out of memory")
_WORKERS = re.compile(r"(?:created: (\d+)/\d+ workers|\b(\d+) workers \[\d+ items?\])")
_BANNER = re.compile(r"^====>>\s*(.+?)\s*$")
_RUFF_FULL = re.compile(r"^\s*--> (?P<file>\S.*?\.pyi?):(?P<row>\d+):(?P<col>\d+)\s*$")
_RUFF_FOUND = re.compile(r"^Found (\d+) errors?\.?$")
_MYPY = re.compile(
    r"^(?P<file>\S.*?\.pyi?):(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|note): (?P<msg>.*)$"
)
_PYRIGHT = re.compile(
    r"^\s*(?P<file>\S.*?\.pyi?):(?P<line>\d+):(?P<col>\d+) - (?P<sev>error|warning|information): "
    r"(?P<msg>.*?)(?: \((?P<rule>report\w+)\))?$"
)
_SCHEMA_CHANGES = re.compile(r"Schema changes? detected|schema changes? (?:were )?(?:found|not (?:covered|in a migration))",
                             re.IGNORECASE)
_COPIES_DIFFER = re.compile(r"^Files (\S*schema\.prisma) and (\S*schema\.prisma) differ$"
                            r"|schema\.prisma.*\b(?:differ|out of sync|not in sync)\b", re.IGNORECASE)
_PIN_MISMATCH = re.compile(
    r"(?P<who>[\w.-]+) [\w.+!-]+ requires (?P<pkg>[\w.-]+)==(?P<want>[\w.+!-]+), but you have "
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
        if kind == "section":
            if _RULE.match(stripped) or _BANNER.match(stripped) or _SECTION.match(stripped):
                self.end_block()
                self.handle(number, text)
            elif self.section is not None and SIGNAL.search(stripped):
                ev = self.facts.sections[self.section]
                if len(ev) < MAX_EVIDENCE:
                    ev.append(self.line(number, text))
            return
        if kind == "command":
            self.end_block()
            self.handle(number, text)  # the command line itself (e.g. pytest -n 8)
            return
        if kind == "stdout" and _BLOCK_END.match(stripped):
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
                facts.ruff.extend(d for d in data if isinstance(d, dict) and "code" in d)
                facts.ruff_text.append(start)
        elif kind == "pyright":
            try:
                data = json.loads("\n".join(lines))
            except ValueError:
                return
            diags = data.get("generalDiagnostics") if isinstance(data, dict) else None
            if isinstance(diags, list):
                facts.pyright.extend(d for d in diags if isinstance(d, dict))
                facts.pyright_lines.append(start)
        elif kind == "stdout":
            sql = "\n".join(lines).strip("\n")
            if re.search(r"^-- (?:Create|Alter|Drop|Add|Rename|Redefine|This is an empty migration)", sql, re.M) \
                    or re.search(r"^\s*(?:CREATE|ALTER|DROP) ", sql, re.M):
                facts.sql_blocks.append((start, sql))

    # -- single lines --------------------------------------------------------------------------
    def handle(self, number: int, text: str) -> None:
        facts = self.facts
        stripped = text.strip()
        if not stripped:
            return
        m = _BANNER.match(stripped)
        if m:
            self.step, self.section = m.group(1), None
            return
        if stripped.startswith("#!/bin/"):
            self.start_block("command", self.line(number, text), [])
            return
        if _RULE.match(stripped):
            self.section = None
            return
        m = _SECTION.match(stripped)
        if m:
            self.section = m.group(1)
            facts.sections.setdefault(self.section, [])
            self.start_block("section", self.line(number, text), [])
            return
        m = _SUMMARY.match(stripped)
        if m and ("::" in m.group(2) or m.group(2).endswith(".py")):
            nodeid = m.group(2).strip()
            prev = facts.failures.get(nodeid)
            message = (m.group(3) or "").strip()
            if prev is None:
                facts.failures[nodeid] = TestFailure(nodeid, message, self.line(number, text),
                                                     kind="error" if m.group(1) == "ERROR" else "failure")
            elif message and not prev.message:
                prev.message, prev.line = message, self.line(number, text)
            return
        m = _VERBOSE.match(stripped)
        if m:
            nodeid = m.group(1)
            facts.failures.setdefault(nodeid, TestFailure(nodeid, "", self.line(number, text),
                                                          kind="error" if m.group(2) == "ERROR" else "failure"))
            return
        m = _CRASH.search(stripped)
        if m:
            facts.crashed.setdefault(m.group(2), self.line(number, text))
            return
        if "pytest" in stripped and not self.section:
            n = pytest_workers(stripped)
            if n:
                facts.workers = max(facts.workers or 0, n)
        m = _WORKERS.search(stripped)
        if m:
            facts.workers = max(facts.workers or 0, int(m.group(1) or m.group(2)))
            return
        if self.section is None and _NODE_DOWN.search(stripped):
            facts.crash_lines.append(self.line(number, text))
            return
        if self.tool_line(number, text, stripped):
            return
        if _SCHEMA_CHANGES.search(stripped):
            facts.schema_changes.append(self.line(number, text))
            return
        if stripped == "Stdout:" or stripped.startswith("Stdout: "):
            rest = stripped[len("Stdout:"):].strip()
            self.start_block("stdout", self.line(number, text), [rest] if rest else [])
            return
        m = _COPIES_DIFFER.search(stripped)
        if m:
            facts.copies_differ.append(self.line(number, text))
            return
        m = _PIN_MISMATCH.search(stripped)
        if m:
            facts.pin_mismatch.append((self.line(number, text), m.group("pkg"), m.group("want"), m.group("have")))
            return
        m = _UNPUBLISHED.search(stripped)
        if m:
            facts.unpublished.append((self.line(number, text), m.group("pkg"), m.group("want")))
            return

    def tool_line(self, number: int, text: str, stripped: str) -> bool:
        """ruff / mypy / pyright output; True when the line was one."""
        facts = self.facts
        if stripped.startswith('"cell"') and self.section is None:
            self.start_block("ruff", self.line(number, text), ["[{", stripped])
            return True
        if stripped.startswith("[{") and '"noqa_row"' in stripped:
            try:
                data = json.loads(stripped)
            except ValueError:
                return False
            facts.ruff.extend(d for d in data if isinstance(d, dict) and "code" in d)
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
            if isinstance(item, dict) and item.get("severity") == "error":
                facts.mypy_json.append(item)
                if len(facts.mypy_lines) < MAX_EVIDENCE:
                    facts.mypy_lines.append(self.line(number, text))
            return True
        if " - " in stripped:
            m = _PYRIGHT.match(text)
            if m:
                if m.group("sev") == "error":
                    line, col = int(m.group("line")), int(m.group("col"))
                    pos = {"line": line - 1, "character": col - 1}
                    facts.pyright.append({
                        "file": m.group("file"), "severity": "error", "message": m.group("msg"),
                        "rule": m.group("rule") or "", "range": {"start": pos, "end": dict(pos)},
                    })
                    if len(facts.pyright_lines) < MAX_EVIDENCE:
                        facts.pyright_lines.append(self.line(number, text))
                return True
        m = _MYPY.match(stripped)
        if m:
            if m.group("sev") == "error" or facts.mypy_text:
                facts.mypy_text.append(stripped)
                if m.group("sev") == "error" and len(facts.mypy_lines) < MAX_EVIDENCE:
                    facts.mypy_lines.append(self.line(number, text))
            return True
        m = _RUFF_FULL.match(stripped)
        if m:
            facts.ruff_text.append(self.line(number, text))
            return True
        m = _RUFF_FOUND.match(stripped)
        return bool(m and (facts.ruff_text or facts.ruff))


def pytest_workers(command: str) -> int | None:
    """The largest numeric ``-n`` of the pytest invocations in a shell line (``conda create -n x`` is not one)."""
    from ..pytest_cmd import find_invocations

    found = [int(o.value) for inv in find_invocations(command)
             if (o := inv.numprocesses) is not None and o.value and o.value.isdigit()]
    return max(found) if found else None


def scan_log(path: Path, job: str | None = None) -> LogFacts:
    """Scan one log file (a :class:`~codemods.errors.StabfixError` for a binary or missing file)."""
    return _Scanner(path, job if job is not None else job_from_name(path)).run()
