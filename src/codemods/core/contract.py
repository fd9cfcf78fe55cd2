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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from codemods.core.context import Context
from codemods.core.plan import Edit, Notice, Plan
from codemods.core.source import SourceFile


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


@dataclass
class NoOptions:
    """Options of a fixer that has none of its own."""


class Fixer:
    """Common declarations. Subclass :class:`FileFixer` or :class:`RepoFixer`, not this."""

    name: ClassVar[str]
    description: ClassVar[str]  # one line, for `stabfix list`
    Options: ClassVar[type] = NoOptions  # a dataclass whose fields use codemods.core.options.option
    demo: ClassVar[DemoSpec | None] = None
    #: paths used when none are given (relative to the root)
    default_paths: ClassVar[tuple[str, ...]] = (".",)
    #: the run-wide inputs this fixer uses, of "paths" (PATHS), "include", "exclude" (the globs)
    #: and "jobs" (worker processes): one it does not use is refused when given, not ignored
    accepts: ClassVar[frozenset[str]] = frozenset({"paths", "include", "exclude", "jobs"})

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
    """A fixer that plans across the repository; it proposes through the context.

    It runs in one process and reads what it needs, so by default it takes no PATHS,
    ``--include``/``--exclude`` or ``--jobs``; one that reads the paths declares them in ``accepts``.
    """

    accepts: ClassVar[frozenset[str]] = frozenset()

    def plan(self, ctx: Context) -> None:
        raise NotImplementedError


__all__ = ["DemoSpec", "FileFixer", "Fixer", "NoOptions", "Outcome", "RepoFixer"]
