"""``triage --apply``: run the proposed commands through :func:`codemods.apply`.

Commands of the same fixer with the same options are merged into one run (their paths and
``--only`` ids joined), so that e.g. the ``flaky`` proposals of the external, timing and flaky
categories edit each file once. Flags are mapped back to the fixer's option names through its
``Options`` dataclass, exactly as the CLI would parse them.

Dry run: every run plans against the repository as it is; when two runs change the same file,
their diffs would not apply one after the other, so the runs are repeated in a scratch copy of the
repository and the combined diff is taken from that copy. ``write=True`` applies them in order.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.commands.triage.model import Command
from codemods.errors import StabfixError

_SCRATCH_IGNORE = (".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                   ".pytest_cache", ".cache", ".tox", ".stabfix")


@dataclass
class CommandResult:
    """What one merged command did."""

    command: Command
    changed: list[str] = field(default_factory=list)
    diff: str = ""
    error: str | None = None
    exit_code: int = 0
    notices: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"argv": self.command.argv(), "changed": self.changed, "exit_code": self.exit_code,
                "error": self.error, "notices": self.notices}


def merge(commands: list[Command]) -> list[Command]:
    """Runnable commands, those of one fixer with equal options merged (paths and ``--only`` joined)."""
    out: dict[tuple[Any, ...], Command] = {}
    for c in commands:
        if not c.available:
            continue
        rest = tuple(o for o in c.options if o[0] != "--only")
        key = (c.fixer, rest)
        prev = out.get(key)
        if prev is None:
            out[key] = Command(c.fixer, list(c.paths), list(c.options), c.note, c.stopgap)
            continue
        prev.paths.extend(p for p in c.paths if p not in prev.paths)
        prev.options.extend(o for o in c.options if o[0] == "--only" and o not in prev.options)
    return list(out.values())


def kwargs_for(command: Command) -> dict[str, Any]:
    """The fixer's option values for the command's flags (by its Options dataclass)."""
    from codemods.core import options, registry

    cls = registry.load(command.fixer)
    specs = options.specs(cls.Options)
    by_flag = {s.flag: s for s in specs}
    by_flag.update({s.short: s for s in specs if s.short})
    out: dict[str, Any] = {}
    for flag, value in command.options:
        spec = by_flag.get(flag)
        if spec is None:
            raise StabfixError(f"fixer {command.fixer!r} has no option {flag}; update stabfix triage's rules")
        if spec.kind == "bool":
            out[spec.name] = True
        elif spec.kind == "list":
            out.setdefault(spec.name, []).append(value)
        else:
            out[spec.name] = value if value is not None else spec.flag_value
    return out


def _run(command: Command, root: Path, mode: str) -> tuple[CommandResult, Any]:
    from codemods import api

    outcome = CommandResult(command)
    try:
        report = api.apply(command.fixer, command.paths or None, root=root, mode=mode,  # type: ignore[arg-type]
                           **kwargs_for(command))
        outcome.diff = report.diff
    except StabfixError as exc:
        outcome.error, outcome.exit_code = exc.one_line(), exc.exit_code
        return outcome, None
    except Exception as exc:  # a fixer's bug must not hide the other fixers' results
        outcome.error = f"error: internal error in fixer {command.fixer}: {type(exc).__name__}: {exc}"
        outcome.exit_code = 2
        return outcome, None
    outcome.changed = [f.path for f in report.changed]
    outcome.exit_code = report.exit_code
    outcome.notices = [n.one_line() for n in report.plan.notices]
    outcome.notices += [f"{f.path}: failed: {f.reason}" for f in report.failed]
    return outcome, report


def run_commands(commands: list[Command], root: str | Path, *, write: bool = False) -> tuple[list[CommandResult], str]:
    """Run the runnable commands; return each outcome and the combined diff."""
    root = Path(root).resolve()
    merged = merge(commands)
    if write:
        outcomes = [_run(c, root, "write")[0] for c in merged]
        return outcomes, "".join(o.diff for o in outcomes)
    outcomes = [_run(c, root, "diff")[0] for c in merged]
    seen: set[str] = set()
    overlap = False
    for o in outcomes:
        overlap = overlap or bool(seen.intersection(o.changed))
        seen.update(o.changed)
    if not overlap:
        return outcomes, "".join(o.diff for o in outcomes)
    return _combined_in_scratch(merged, root)


def _combined_in_scratch(merged: list[Command], root: Path) -> tuple[list[CommandResult], str]:
    from codemods.core.diffing import render
    from codemods.core.plan import FileChange

    with tempfile.TemporaryDirectory(prefix="stabfix-triage-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(*_SCRATCH_IGNORE))
        outcomes = [_run(c, copy, "write")[0] for c in merged]
        changes = []
        for path in dict.fromkeys(p for o in outcomes for p in o.changed):
            old_file, new_file = root / path, copy / path
            old = old_file.read_bytes() if old_file.exists() else None
            changes.append(FileChange(path, old, new_file.read_bytes(), "triage"))
        for o in outcomes:
            o.notices = [n.replace(str(copy), str(root)) for n in o.notices]
            if o.error:
                o.error = o.error.replace(str(copy), str(root))
        return outcomes, render(changes)
