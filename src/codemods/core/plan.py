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


@dataclass(slots=True)
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


#: what a file looked like when it was read: (size, mtime_ns, inode) from the stat before the read
Stamp = tuple[int, int, int]


def digest(data: bytes) -> bytes:
    """The hash a written file is checked against once its old bytes are dropped (BLAKE2b)."""
    try:  # CPython's own BLAKE2, which hashlib re-exports: importing hashlib loads OpenSSL (~4 MB)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    return blake2b(data, digest_size=32).digest()


@dataclass
class FileChange:
    """New bytes for one file. ``old is None`` means the file is created.

    In a write, nothing renders the texts once the writer has written them to a temporary file:
    a change marked ``releasable`` then drops them (:meth:`release`), keeping what the writer checks
    the file against before its rename (``old_digest``, and the ``stamp`` taken when it was read).
    """

    path: str  # POSIX path relative to the repository root
    old: bytes | None
    new: bytes
    reason: str
    mode: int | None = None  # permission bits for a created file
    stamp: Stamp | None = None  # the file as it was read (None: unknown; its bytes are compared)
    releasable: bool = False  # the texts may be dropped once staged (set by the engine in a write)
    old_digest: bytes | None = None  # set when the texts are dropped

    @property
    def released(self) -> bool:
        return self.old_digest is not None

    @property
    def is_creation(self) -> bool:
        return self.old is None and not self.released

    def release(self) -> None:
        """Drop the old and new bytes (after the writer has written the new ones); keep the old
        bytes' digest for the checks before the rename."""
        if self.old is None or self.released:
            return
        self.old_digest = digest(self.old)  # first: read meanwhile (by another thread), is_creation stays False
        self.old, self.new = None, b""

    def matches(self, current: bytes) -> bool:
        """``current`` (a file's bytes now) is what the fixer read."""
        if self.released:
            return digest(current) == self.old_digest
        return current == self.old


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
