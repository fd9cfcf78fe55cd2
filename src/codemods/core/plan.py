"""The plan model: what a fixer proposes, before anything is written.

A fixer returns a :class:`Plan`. Each :class:`FileResult` says what the fixer decided for one
file (changed, unchanged, skipped, failed) and, when it changed, carries a :class:`FileChange`
with the old bytes, the new bytes and a reason. Only the engine turns a plan into writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["changed", "unchanged", "skipped", "failed"]
STATUSES: tuple[Status, ...] = ("changed", "unchanged", "skipped", "failed")


@dataclass
class Edit:
    """One reviewable item of a file's change: where, what, why (goes into the JSON report)."""

    message: str
    line: int | None = None
    kind: str = "edit"
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "line": self.line, "message": self.message}
        out.update(self.data)
        return out


@dataclass
class Notice:
    """A warning (or informational note) that is not tied to one file's change."""

    message: str
    path: str | None = None
    line: int | None = None
    level: Literal["warning", "info"] = "warning"

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "path": self.path, "line": self.line, "message": self.message}

    def one_line(self) -> str:
        where = self.path or ""
        if self.path and self.line:
            where += f":{self.line}"
        return f"{self.level}: {where + ': ' if where else ''}{self.message}"


@dataclass
class FileChange:
    """New bytes for one file. ``old is None`` means the file is created."""

    path: str  # POSIX path relative to the repository root
    old: bytes | None
    new: bytes
    reason: str
    mode: int | None = None  # permission bits for a created file

    @property
    def is_creation(self) -> bool:
        return self.old is None


@dataclass
class FileResult:
    """What a fixer decided for one file."""

    path: str
    status: Status
    reason: str = ""
    edits: list[Edit] = field(default_factory=list)
    change: FileChange | None = None
    #: run-level notices raised while planning this file (the engine lifts them into Plan.notices)
    notices: list[Notice] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "created": bool(self.change and self.change.is_creation),
            "edits": [e.to_json() for e in self.edits],
        }


@dataclass
class Plan:
    """Everything one fixer proposes for one run."""

    fixer: str
    root: Path
    files: list[FileResult] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    @property
    def changes(self) -> list[FileChange]:
        return [f.change for f in self.files if f.change is not None]

    def totals(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in STATUSES}
        for f in self.files:
            counts[f.status] += 1
        counts["files"] = len(self.files)
        counts["edits"] = sum(len(f.edits) for f in self.files if f.status == "changed")
        return counts

    def extend(self, other: Plan) -> None:
        self.files.extend(other.files)
        self.notices.extend(other.notices)
