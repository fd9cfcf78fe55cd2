"""The Python API: plan, review and apply a fixer — the CLI is a thin layer over this module.

>>> import codemods
>>> report = codemods.apply("xdist-group", ["tests/local_testing"], root=repo, group="heavy")
>>> report.exit_code, report.plan.totals()["changed"]
>>> print(report.diff)          # review it; mode="write" applies it
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codemods._version import __version__
from codemods.core import config as config_mod
from codemods.core import options, registry
from codemods.core.context import Context
from codemods.core.contract import Fixer
from codemods.core.discovery import inside, inside_root
from codemods.core.discovery import resolve as _resolve
from codemods.core.engine import Progress, default_jobs, run_fixer, stop_workers
from codemods.core.jsonout import write_json as write_json  # part of the API; kept light in core
from codemods.core.plan import FileResult, Notice, Plan
from codemods.core.source import MAX_FILE_SIZE
from codemods.errors import StabfixError, UsageError

if TYPE_CHECKING:
    from codemods.core.writer import Writer

Mode = Literal["diff", "check", "write"]
REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FixerInfo:
    """What ``stabfix list`` shows about a fixer."""

    name: str
    description: str
    kind: Literal["file", "repo"]
    options: tuple[options.OptionSpec, ...]


@dataclass
class Report:
    """The result of one run: the plan, what was done with it, and how to render it."""

    plan: Plan
    mode: Mode
    applied: bool = False
    rounds: int = 1
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def fixer(self) -> str:
        return self.plan.fixer

    @property
    def changed(self) -> list[FileResult]:
        return [f for f in self.plan.files if f.status == "changed"]

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.plan.files if f.status == "failed"]

    @property
    def exit_code(self) -> int:
        """2 when a file failed, 1 with ``check`` when something would change, else 0."""
        if self.failed:
            return 2
        if self.mode == "check" and self.changed:
            return 1
        return 0

    @property
    def diff(self) -> str:
        from codemods.core import diffing  # not needed by a write

        return diffing.render(self.plan.changes)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON report (schema documented in the README)."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "stabfix_version": __version__,
            "fixer": self.plan.fixer,
            "root": str(self.plan.root),
            "mode": self.mode,
            "applied": self.applied,
            "rounds": self.rounds,
            "options": _jsonable(self.options),
            "files": [f.to_json() for f in self.plan.files],
            "notices": [n.to_json() for n in self.plan.notices],
            "totals": self.plan.totals(),
            "exit_code": self.exit_code,
        }

    def summary(self) -> str:
        """A few human lines: per-file reasons for changes and failures, notices, totals."""
        lines = []
        for f in self.plan.files:
            if f.status == "changed":
                if f.change and f.change.is_creation:
                    verb = "created" if self.applied else "would create"
                else:
                    verb = "fixed" if self.applied else "would change"
                lines.append(f"{verb} {f.path}: {f.reason}")
            elif f.status == "failed":
                lines.append(f"error: {f.path}: {f.reason}")
            elif f.status == "skipped" and f.reason:
                lines.append(f"skipped {f.path}: {f.reason}")
        lines.extend(n.one_line() for n in self.plan.notices)
        t = self.plan.totals()
        verb = "changed" if self.applied else "to change"
        lines.append(
            f"{self.plan.fixer}: {t['changed']} file(s) {verb}, {t['unchanged']} unchanged, "
            f"{t['skipped']} skipped, {t['failed']} failed ({t['edits']} edit(s))"
        )
        return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


#: what marks a project's root outside git (the nearest folder up holding one wins, as in ruff)
ROOT_MARKERS = ("pyproject.toml", ".git")


def find_root(start: Path | None = None) -> Path:
    """The root of the project holding ``start`` (default: the current folder): the git top level;
    outside git, the nearest folder from ``start`` up that holds ``pyproject.toml`` or ``.git``;
    else ``start`` itself."""
    import subprocess  # here: with --root a run starts no process

    start = (start or Path.cwd()).resolve()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, check=False
        )
    except OSError:
        out = None
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return Path(out.stdout.strip()).resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def list_fixers() -> list[FixerInfo]:
    """Every registered fixer with its one-line description and options."""
    from codemods.core.contract import FileFixer

    infos = []
    for name in registry.names():
        cls = registry.load(name)
        infos.append(FixerInfo(
            name=name,
            description=cls.description,
            kind="file" if issubclass(cls, FileFixer) else "repo",
            options=tuple(options.specs(cls.Options)),
        ))
    return infos


def make_fixer(name: str, root: Path, given: dict[str, Any]) -> tuple[Fixer, dict[str, Any]]:
    """Instantiate a fixer with options from ``[tool.stabfix.<name>]`` overridden by ``given``."""
    cls = registry.load(name)
    table = config_mod.load(root, registry.names(), registry.SHARED_TABLES)
    section = table.get(name, {})
    opts = options.build(cls.Options, name, section, given)
    return cls(opts), table


def make_plan(
    fixer: str,
    paths: Sequence[str | Path] | None = None,
    *,
    root: str | Path | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    jobs: int | None = None,
    mode: Mode = "diff",
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
    cwd: str | Path | None = None,
    **fixer_options: Any,
) -> Plan:
    """Plan ``fixer`` without writing anything (the arguments of :func:`apply`)."""
    merged = {**(options or {}), **fixer_options}
    return _build(fixer, paths, root, include, exclude, jobs, mode, merged, cwd)[0].plan_once(progress)


class _Run:
    def __init__(self, fixer: Fixer, ctx_args: dict[str, Any]) -> None:
        self.fixer = fixer
        self.ctx_args = ctx_args

    def context(self) -> Context:
        return Context(**self.ctx_args)

    def plan_once(self, progress: Progress | None = None, writer: Writer | None = None,
                  release: bool = False) -> Plan:
        try:
            return run_fixer(self.fixer, self.context(), progress, writer.stage if writer else None, release)
        except BaseException:
            stop_workers()  # e.g. an interrupt: worker processes end now, not when collected
            raise


def _build(
    name: str,
    paths: Sequence[str | Path] | None,
    root: str | Path | None,
    include: Sequence[str],
    exclude: Sequence[str],
    jobs: int | None,
    mode: Mode,
    given: dict[str, Any],
    cwd: str | Path | None = None,
) -> tuple[_Run, dict[str, Any]]:
    root_path = Path(root).resolve() if root is not None else find_root()
    if not root_path.is_dir():
        raise StabfixError(f"--root {root} is not a folder")
    fixer, table = make_fixer(name, root_path, given)
    _refuse_unused(name, fixer, paths, include, exclude, jobs)
    explicit = bool(paths)
    # Relative PATHS are taken from ``cwd`` (the CLI: the current folder) when it lies inside the
    # root, else from the root (the API's default; a --root elsewhere); default paths from the root.
    start, from_cwd = root_path, False
    if explicit and cwd is not None:
        cwd_path = _resolve(Path(cwd), cwd)
        if inside(root_path, cwd_path):
            start, from_cwd = cwd_path, True
    raw_paths = list(paths) if paths else list(fixer.default_paths)
    resolved = []
    for p in raw_paths:
        pp = Path(p)
        full = _resolve(pp if pp.is_absolute() else start / pp, p)
        resolved.append(inside_root(root_path, full, p))
        if explicit and not full.exists():
            where = "" if pp.is_absolute() or from_cwd else f" (PATHS are relative to the root {root_path})"
            raise StabfixError(f"{p} does not exist{where}")
    ctx_args = dict(
        root=root_path,
        paths=resolved,
        config=table,
        include=list(include) or list(table.get("include", [])),
        exclude=list(exclude) + list(table.get("exclude", [])),
        # capped by the CPUs; 0 (neither --jobs nor `jobs` in the config): the engine measures
        jobs=default_jobs(asked) if (asked := jobs or int(table.get("jobs", 0))) else 0,
        explicit_paths=explicit,
        mode=mode,
        gitignore=bool(table.get("gitignore", True)),
        max_file_size=_max_file_size(table),
    )
    return _Run(fixer, ctx_args), table


#: the run-wide inputs, as the command line spells them
def _max_file_size(table: dict[str, Any]) -> int:
    value = table.get("max-file-size", MAX_FILE_SIZE)
    if value < 1:
        raise StabfixError("[tool.stabfix] max-file-size must be a positive number of bytes", path="pyproject.toml")
    return int(value)


_INPUT_FLAGS = {"paths": "PATHS", "include": "--include", "exclude": "--exclude", "jobs": "--jobs"}


def _refuse_unused(name: str, fixer: Fixer, paths: Sequence[str | Path] | None, include: Sequence[str],
                   exclude: Sequence[str], jobs: int | None) -> None:
    """A repo-wide fixer given PATHS, --include/--exclude or --jobs it does not use: one clear error,
    not a silent run over something else."""
    given = {"paths": bool(paths), "include": bool(include), "exclude": bool(exclude), "jobs": jobs is not None}
    unused = [_INPUT_FLAGS[k] for k, v in given.items() if v and k not in fixer.accepts]
    if unused:
        takes = [_INPUT_FLAGS[k] for k in _INPUT_FLAGS if k in fixer.accepts]
        why = f"of these it takes only {', '.join(takes)}" if takes else "it plans from the repository as a whole"
        raise UsageError(f"{name} does not use {' or '.join(unused)} ({why}); "
                         f"drop {'it' if len(unused) == 1 else 'them'}")


def apply(
    fixer: str,
    paths: Sequence[str | Path] | None = None,
    *,
    root: str | Path | None = None,
    mode: Mode = "diff",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    jobs: int | None = None,
    progress: Progress | None = None,
    options: dict[str, Any] | None = None,
    cwd: str | Path | None = None,
    keep_texts: bool = True,
    **fixer_options: Any,
) -> Report:
    """Run ``fixer`` over ``paths`` and return a :class:`Report`.

    ``root`` (default: the git top level, else the nearest folder up holding ``pyproject.toml`` or
    ``.git``, else the current folder) is where ``[tool.stabfix]`` and git are read; relative
    ``paths`` are taken from ``cwd`` when it lies inside the root (the command line passes the
    current folder), else from the root. A repo-wide fixer refuses ``paths``, ``include``,
    ``exclude`` or ``jobs`` it does not use.

    ``mode``: ``"diff"`` plans only; ``"check"`` plans and sets ``exit_code`` 1 when anything would
    change; ``"write"`` applies the plan atomically (files that failed are never written; a file
    changed during the run refuses the whole write). Options are the fixer's (``group="heavy"``),
    overriding ``[tool.stabfix.<fixer>]``; an option whose name clashes with a parameter here
    (``dist``'s ``mode``) goes in ``options={...}``. Bad input raises
    :class:`~codemods.errors.StabfixError`. An interrupt (``KeyboardInterrupt``) stops the run
    at once and raises :class:`~codemods.core.writer.Interrupted`, which says how many files were written
    (each whole; no temporary file is left).

    ``keep_texts=False`` (the command line's choice) lets a write drop each file's old and new
    bytes once its temporary file is written, keeping a digest for the checks: memory holds the
    files in flight, not every changed file; the report's ``diff`` and the changes' bytes are then
    empty. By default they are kept, so ``report.diff`` shows what was written.
    """
    if mode not in ("diff", "check", "write"):
        raise StabfixError(f"mode must be diff, check or write, not {mode!r}")
    run, _ = _build(fixer, paths, root, include, exclude, jobs, mode, {**(options or {}), **fixer_options}, cwd)
    if mode != "write":  # the writer (tempfile, hashlib, threads) is not imported for a dry run
        try:
            the_plan = run.plan_once(progress)
        except KeyboardInterrupt:
            from codemods.core.writer import Interrupted

            raise Interrupted(0) from None
        return Report(plan=the_plan, mode=mode, options=run.fixer.options_dict())
    from codemods.core.writer import Interrupted, Writer  # tempfile and threads: only for a run

    root_path: Path = run.ctx_args["root"]
    applied = False
    combined: Plan | None = None
    limit, rounds, written = max(1, run.fixer.max_rounds()), 0, 0
    try:
        while rounds < limit:
            rounds += 1
            writer = Writer(root_path)
            try:
                with writer:  # changes are staged while the plan is being made
                    the_plan = run.plan_once(progress, writer, release=not keep_texts)
                    changes = the_plan.changes
                    if changes:
                        writer.commit(changes)
                        applied = True
            finally:
                written += writer.written  # final once the writer has stopped
            combined = the_plan if combined is None else _merge(combined, the_plan)
            if not changes:
                break
    except KeyboardInterrupt:
        raise Interrupted(written) from None
    assert combined is not None
    return Report(plan=combined, mode=mode, applied=applied, rounds=rounds, options=run.fixer.options_dict())


def _merge(first: Plan, later: Plan) -> Plan:
    """Merge a later round into the combined plan: per file, the latest decision that changed it."""
    by_path = {f.path: f for f in first.files}
    for f in later.files:
        prev = by_path.get(f.path)
        if prev is None or f.status in ("changed", "failed"):
            if prev is not None and prev.status == "changed" and f.change and prev.change:
                f.edits = prev.edits + f.edits
                f.change.old = prev.change.old  # the diff spans every round
            by_path[f.path] = f
    notices: list[Notice] = later.notices or first.notices
    return Plan(fixer=first.fixer, root=first.root, files=list(by_path.values()), notices=notices)


def render_diff(the_plan: Plan, context: int = 3) -> str:
    """The plan as a unified diff (``git apply`` accepts it)."""
    from codemods.core import diffing

    return diffing.render(the_plan.changes, context)


