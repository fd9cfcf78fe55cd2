"""The triage result: categories, their failures with evidence, and the proposed stabfix commands.

The JSON form (:meth:`Triage.to_json`) is a stable, documented schema (README, "triage"): other
tools read it and run the ``argv`` of each command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codemods.commands.triage.scan import Line

SCHEMA_VERSION = 1

#: Category names in display order, with the title a person reads.
CATEGORIES: dict[str, str] = {
    "lint-type": "lint / type errors (ruff, mypy, pyright)",
    "version-schema": "version pins and Prisma schema / migrations",
    "security": "npm dependency resolution and audit (packages, severities)",
    "parallel": "xdist worker crashes / memory / CI kills",
    "config": "configuration: missing or invalid credentials, quota, no network (needs a human)",
    "auth": "proxy auth (401 / Authentication Error)",
    "external": "external API (rate limits, connection errors, 5xx)",
    "timing": "timing (timeouts, silent steps, async state asserted too early)",
    "flaky": "flaky: failed in one run, passed in another",
    "unknown": "unknown (listed as is, not guessed)",
}


@dataclass
class Command:
    """One proposed ``stabfix apply`` run: fixer, paths, and flags in order.

    ``options`` holds ``(flag, value)`` pairs (value None for a bare switch); a list option
    appears once per value.
    """

    fixer: str
    paths: list[str] = field(default_factory=list)
    options: list[tuple[str, str | None]] = field(default_factory=list)
    note: str = ""
    stopgap: bool = False
    available: bool = True

    def argv(self) -> list[str]:
        out = ["stabfix", "apply", self.fixer, *self.paths]
        for flag, value in self.options:
            out.append(flag)
            if value is not None:
                out.append(value)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "fixer": self.fixer, "argv": self.argv(), "available": self.available,
            "stopgap": self.stopgap, "note": self.note,
        }


@dataclass
class Finding:
    """One failure: a test (``kind="test"``, ``id`` is its node id) or a log-level problem."""

    id: str
    kind: str  # "test" | "log"
    category: str
    message: str
    jobs: list[str] = field(default_factory=list)
    evidence: list[Line] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # other categories it matched (less specific)
    runs: dict[str, int] = field(default_factory=dict)  # JUnit outcomes: {"failed": 1, "passed": 1}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "message": self.message, "jobs": self.jobs,
            "also": self.also, "runs": self.runs, "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass
class CategoryResult:
    """The failures of one category and the commands proposed for them."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)

    @property
    def title(self) -> str:
        return CATEGORIES[self.name]

    @property
    def jobs(self) -> list[str]:
        return sorted({j for f in self.findings for j in f.jobs})

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "count": len(self.findings), "jobs": self.jobs,
            "failures": [f.to_json() for f in self.findings],
            "commands": [c.to_json() for c in self.commands],
        }


@dataclass
class ExtractedReport:
    """A tool report extracted from a log to a file (input of a suppression fixer)."""

    tool: str  # ruff | mypy | pyright
    path: str
    count: int
    source: str  # the log it came from

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "path": self.path, "count": self.count, "source": self.source}


@dataclass
class Triage:
    """The whole result of one ``stabfix triage`` run."""

    logs: list[str] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    lines: int = 0
    reports: list[ExtractedReport] = field(default_factory=list)
    categories: list[CategoryResult] = field(default_factory=list)

    def category(self, name: str) -> CategoryResult | None:
        return next((c for c in self.categories if c.name == name), None)

    @property
    def commands(self) -> list[Command]:
        return [c for cat in self.categories for c in cat.commands]

    @property
    def failures(self) -> int:
        return sum(len(c.findings) for c in self.categories)

    @property
    def unrecognised(self) -> list[Finding]:
        """Failed CI steps in which nothing known was found (``unknown`` log findings): exit code 1."""
        cat = self.category("unknown")
        return [f for f in cat.findings if f.kind == "log"] if cat else []

    def to_json(self) -> dict[str, Any]:
        from codemods._version import __version__

        return {
            "schema_version": SCHEMA_VERSION,
            "stabfix_version": __version__,
            "inputs": {"logs": self.logs, "junit": self.junit, "lines": self.lines},
            "reports": [r.to_json() for r in self.reports],
            "categories": [c.to_json() for c in self.categories],
            "totals": {
                "failures": self.failures,
                "by_category": {c.name: len(c.findings) for c in self.categories},
                "commands": len(self.commands),
            },
        }
