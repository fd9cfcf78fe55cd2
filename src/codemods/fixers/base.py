"""The fixer contract: what a fixer declares and the two shapes it can take.

* :class:`FileFixer` — the engine discovers files under the given paths, runs the cheap
  :meth:`FileFixer.prefilter` on each file's text, and calls :meth:`FileFixer.fix` on the rest
  (in a process pool when there are many). ``fix`` returns an :class:`Outcome`: new text or not.
* :class:`RepoFixer` — plans from the repository as a whole (CI configs, schema copies,
  migrations, versions): :meth:`RepoFixer.plan` reads files through the :class:`Context` and
  proposes changes with :meth:`Context.propose_edit` / :meth:`Context.propose_create`.

Fixers never write. They raise :class:`~codemods.errors.StabfixError` (or a subclass) for bad
input that stops the run, :class:`~codemods.errors.FileFailure` for one bad file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import FileFailure, StabfixError
from ..plan import Edit, FileChange, FileResult, Notice, Plan
from ..source import SourceFile, read_source


@dataclass
class DemoSpec:
    """How ``stabfix demo`` runs this fixer on the sample repository."""

    paths: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass
class Outcome:
    """A file fixer's answer for one file.

    ``text`` is the new decoded text (same line endings as the input) or None for no change.
    ``status`` may be "skipped" (with a reason) when the fixer deliberately left the file alone.
    """

    text: str | None = None
    edits: list[Edit] = field(default_factory=list)
    status: str | None = None
    reason: str = ""
    notices: list[Notice] = field(default_factory=list)
    #: set by fixers that only touch trailing comments: per changed line (1-based), the column
    #: where its code ends and the line's new text (no line ending). The engine checks the claim
    #: line by line instead of parsing the whole file again (see engine.comment_only_change).
    comment_lines: dict[int, tuple[int, str]] | None = None


class Context:
    """What a fixer may see: the root, the selected paths, the config, file reading.

    Reading goes through :meth:`read`, which remembers the bytes it returned: the engine refuses
    to write a file whose bytes changed since then.
    """

    def __init__(
        self,
        root: Path,
        paths: list[Path],
        *,
        config: dict[str, Any] | None = None,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        jobs: int = 1,
        explicit_paths: bool = False,
        mode: str = "diff",
    ) -> None:
        self.root = root
        self._prefix = str(root).rstrip(os.sep) + os.sep
        self.paths = paths
        self.config = config or {}
        self.include = include or []
        self.exclude = exclude or []
        self.jobs = jobs
        self.explicit_paths = explicit_paths
        self.mode = mode
        self.notices: list[Notice] = []
        self._results: dict[str, FileResult] = {}
        self._order: list[str] = []

    # -- paths ---------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        """POSIX path relative to the root (the path must be inside it)."""
        s = str(path)
        prefix = self._prefix
        if s.startswith(prefix) and os.sep + ".." not in s and os.sep + "." + os.sep not in s:
            return s[len(prefix):].replace(os.sep, "/")  # the common case, without normalising
        return Path(os.path.relpath(path, self.root)).as_posix()

    def resolve(self, path: str | Path, *, must_exist: bool = False) -> Path:
        """Resolve a path (relative to the root) and refuse one outside the root."""
        p = Path(path)
        p = (p if p.is_absolute() else self.root / p).resolve()
        if p != self.root and self.root not in p.parents:
            raise StabfixError(
                f"{path} is outside the repository root {self.root}; pass --root or a path inside it"
            )
        if must_exist and not p.exists():
            raise StabfixError(f"{self.rel(p)} does not exist", path=self.rel(p))
        return p

    def discover(self, suffixes: Iterable[str] = (".py",), names: Iterable[str] = ()) -> list[Path]:
        """Files under the selected paths (gitignore, include/exclude and generated honoured)."""
        from ..discovery import discover

        return discover(
            self.root, self.paths, suffixes=tuple(suffixes), names=tuple(names),
            include=self.include, exclude=self.exclude,
        )

    def filter(self, files: Iterable[Path], suffixes: Iterable[str] = (".py",)) -> list[Path]:
        """The subset of ``files`` (absolute, resolved) that :meth:`discover` would return."""
        from ..discovery import filter_files

        return filter_files(
            self.root, self.paths, files, suffixes=tuple(suffixes), include=self.include, exclude=self.exclude,
        )

    # -- reading -------------------------------------------------------------------------------
    def read(self, path: str | Path) -> SourceFile:
        """Read a file inside the root; decode errors raise :class:`FileFailure`."""
        p = self.resolve(path)
        return read_source(p, self.rel(p))

    def read_text(self, path: str | Path) -> str:
        return self.read(path).text

    # -- proposing (repo fixers) ---------------------------------------------------------------
    def _record(self, result: FileResult) -> None:
        if result.path not in self._results:
            self._order.append(result.path)
        self._results[result.path] = result

    def propose_edit(
        self, source: SourceFile, new_text: str, reason: str, edits: list[Edit] | None = None
    ) -> None:
        """Propose new text for a file read with :meth:`read` (no-op when equal)."""
        new = source.encode(new_text)
        if new == source.raw:
            self.mark(source.rel, "unchanged", reason or "already up to date", edits or [])
            return
        change = FileChange(path=source.rel, old=source.raw, new=new, reason=reason)
        self._record(FileResult(source.rel, "changed", reason, list(edits or []), change))

    def propose_bytes(self, path: str | Path, new: bytes, reason: str, edits: list[Edit] | None = None) -> None:
        """Propose exact new bytes for an existing file (e.g. a byte-for-byte copy)."""
        p = self.resolve(path, must_exist=True)
        old = p.read_bytes()
        rel = self.rel(p)
        if old == new:
            self.mark(rel, "unchanged", "already up to date", edits or [])
            return
        self._record(FileResult(rel, "changed", reason, list(edits or []), FileChange(rel, old, new, reason)))

    def propose_create(
        self, path: str | Path, content: str | bytes, reason: str, edits: list[Edit] | None = None,
        mode: int = 0o644,
    ) -> None:
        """Propose a new file; refused (error) if it exists already."""
        p = self.resolve(path)
        rel = self.rel(p)
        if p.exists() or p.is_symlink():
            raise StabfixError(f"{rel} exists already; stabfix never overwrites it", path=rel)
        data = content.encode("utf-8") if isinstance(content, str) else content
        change = FileChange(path=rel, old=None, new=data, reason=reason, mode=mode)
        self._record(FileResult(rel, "changed", reason, list(edits or []), change))

    def mark(self, rel: str, status: str, reason: str = "", edits: list[Edit] | None = None) -> None:
        """Record a file that is unchanged, skipped or failed, with the reason."""
        assert status in ("unchanged", "skipped", "failed")
        if rel in self._results and self._results[rel].status == "changed" and status == "unchanged":
            return
        self._record(FileResult(rel, status, reason, list(edits or [])))  # type: ignore[arg-type]

    def warn(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.notices.append(Notice(message, path=path, line=line))

    def info(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.notices.append(Notice(message, path=path, line=line, level="info"))

    def results(self) -> list[FileResult]:
        return [self._results[p] for p in self._order]


@dataclass
class NoOptions:
    """Options of a fixer that has none of its own."""


class Fixer:
    """Common declarations. Subclass :class:`FileFixer` or :class:`RepoFixer`, not this."""

    name: ClassVar[str]
    description: ClassVar[str]  # one line, for `stabfix list`
    Options: ClassVar[type] = NoOptions  # a dataclass whose fields use codemods.options.option
    demo: ClassVar[DemoSpec | None] = None
    #: paths used when none are given (relative to the root)
    default_paths: ClassVar[tuple[str, ...]] = (".",)

    def __init__(self, options: Any | None = None) -> None:
        self.options = options if options is not None else self.Options()

    def options_dict(self) -> dict[str, Any]:
        if dataclasses.is_dataclass(self.options) and not isinstance(self.options, type):
            return dataclasses.asdict(self.options)
        return {}

    def prepare(self, ctx: Context) -> None:
        """Validate options and load inputs (reports, junit files) once, before any file."""

    def finish(self, ctx: Context, plan: Plan) -> None:
        """Add run-level notices once every file has been planned (e.g. CI config warnings)."""

    def max_rounds(self) -> int:
        """How many plan→apply rounds a write run may make (``--until-clean``); default one."""
        return 1


class FileFixer(Fixer):
    """A fixer that works file by file (must be picklable: it runs in worker processes)."""

    suffixes: ClassVar[tuple[str, ...]] = (".py",)

    def candidates(self, ctx: Context) -> list[Path] | None:
        """The only files this fixer could change (absolute, resolved), when it knows them up front
        (e.g. the files a report names): the engine then filters them by the discovery rules
        instead of walking the tree. None (the default): walk the selected paths."""
        return None

    def select(self, ctx: Context, files: list[Path]) -> list[Path]:
        """Narrow the discovered files (e.g. to test modules, or to files a report names)."""
        return files

    def prefilter(self, source: SourceFile) -> bool:
        """Cheap text check: False means "nothing to do here" without parsing."""
        return True

    def fix(self, source: SourceFile) -> Outcome:
        """Return the outcome for one file. Raise :class:`FileFailure` for a bad file."""
        raise NotImplementedError


class RepoFixer(Fixer):
    """A fixer that plans across the repository; it proposes through the context."""

    def plan(self, ctx: Context) -> None:
        raise NotImplementedError


__all__ = [
    "Context", "DemoSpec", "Edit", "FileFailure", "FileFixer", "Fixer", "Notice", "Outcome",
    "RepoFixer", "SourceFile", "StabfixError",
]
