"""What a fixer may see and do: the :class:`Context` (root, selected paths, config, reading files,
proposing changes). The engine makes one per run; fixers read through it, so that the engine can
refuse to write a file whose bytes changed since it was read."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codemods.core.discovery import inside_root, resolve
from codemods.core.plan import Edit, FileChange, FileResult, Notice
from codemods.core.source import MAX_FILE_SIZE, SourceFile, read_source
from codemods.errors import StabfixError


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
        gitignore: bool = True,
        max_file_size: int = MAX_FILE_SIZE,
    ) -> None:
        self.root = root
        self.max_file_size = max_file_size
        self._prefix = str(root).rstrip(os.sep) + os.sep
        self.paths = paths
        self.config = config or {}
        self.include = include or []
        self.exclude = exclude or []
        self.jobs = jobs
        self.explicit_paths = explicit_paths
        self.mode = mode
        self.gitignore = gitignore  # [tool.stabfix] gitignore = false: discovery ignores .gitignore files
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
        p = inside_root(self.root, resolve(p if p.is_absolute() else self.root / p, path), path)
        if must_exist and not p.exists():
            raise StabfixError("does not exist", path=self.rel(p))
        return p

    def discover(self, suffixes: Iterable[str] = (".py",), names: Iterable[str] = ()) -> list[Path]:
        """Files under the selected paths (gitignore, include/exclude and generated honoured)."""
        from codemods.core.discovery import discover

        return discover(
            self.root, self.paths, suffixes=tuple(suffixes), names=tuple(names),
            include=self.include, exclude=self.exclude, gitignore=self.gitignore,
        )

    def filter(self, files: Iterable[Path], suffixes: Iterable[str] = (".py",)) -> list[Path]:
        """The subset of ``files`` (absolute, resolved) that :meth:`discover` would return."""
        from codemods.core.discovery import filter_files

        return filter_files(
            self.root, self.paths, files, suffixes=tuple(suffixes), include=self.include, exclude=self.exclude,
            gitignore=self.gitignore,
        )

    # -- reading -------------------------------------------------------------------------------
    def read(self, path: str | Path) -> SourceFile:
        """Read a file inside the root; decode errors raise :class:`FileFailure`."""
        p = self.resolve(path)
        return read_source(p, self.rel(p), self.max_file_size)

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
