"""The CI files a ``workers`` / ``dist`` run edits: the paths given or the fixer's default files.

:func:`collect_ci_files` expands folders to the CI files in them, applies ``--include`` /
``--exclude``, reads each file through the run's :class:`~codemods.core.context.Context` and scans
it with :func:`codemods.ci.scan.scan_file`; :func:`check_job_names` rejects unknown ``--job`` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.ci.scan import CiFile, file_kind, scan_file

if TYPE_CHECKING:
    from codemods.core.context import Context

__all__ = ["check_job_names", "ci_files_to_edit", "collect_ci_files"]


#: CI files looked for inside a folder given as a path
_CI_NAMES = (".circleci/config.yml", ".circleci/config.yaml", "Makefile", "tox.ini")


def _wanted(ctx: Context, path: Path) -> bool:
    """--include / --exclude globs (a file named explicitly is always taken, as in discovery)."""
    from codemods.core.discovery import glob_match

    rel = ctx.rel(path)
    if ctx.exclude and glob_match(rel, ctx.exclude):
        return False
    return not (ctx.include and not glob_match(rel, ctx.include))


def collect_ci_files(ctx: Context, default_files: Sequence[str]) -> list[CiFile]:
    """Scan the CI files of a run: the paths given, else ``default_files`` (missing ones skipped).

    A folder stands for the CI files in it (``.circleci/config.yml``, ``.github/workflows/*.yml``,
    ``Makefile``, ``tox.ini``). ``--include``/``--exclude`` filter the files found in folders and
    the default list; a file named explicitly is always taken. ``ctx`` is a
    :class:`~codemods.core.context.Context`.
    """
    from codemods.errors import StabfixError

    chosen: list[Path] = []
    if ctx.explicit_paths:
        for p in ctx.paths:
            if p.is_dir():
                found = [p / n for n in _CI_NAMES if (p / n).is_file()]
                wf = p / ".github" / "workflows"
                if p.name == "workflows" or p.parent.name == ".github":
                    wf = p
                if wf.is_dir():
                    found += sorted(x for x in wf.iterdir() if x.suffix in (".yml", ".yaml") and x.is_file())
                if not found:
                    raise StabfixError(f"{ctx.rel(p)} holds no CI file ({', '.join(_CI_NAMES)}, "
                                       ".github/workflows/*.yml); name the file", path=ctx.rel(p))
                chosen.extend(f for f in found if _wanted(ctx, f))
            elif p.is_file():
                chosen.append(p)
            else:
                raise StabfixError("does not exist", path=ctx.rel(p))  # "error: nope.yml: does not exist"
    else:
        chosen = [ctx.resolve(f) for f in default_files]
        missing = [ctx.rel(p) for p in chosen if not p.is_file()]
        chosen = [p for p in chosen if p.is_file() and _wanted(ctx, p)]
        if missing and chosen:
            ctx.info(f"not found, skipped: {', '.join(missing)}")
    out: list[CiFile] = []
    seen: set[Path] = set()
    for p in chosen:
        if p in seen:
            continue
        seen.add(p)
        source = ctx.read(p)
        kind = file_kind(source.rel, source.text)
        if kind == "unknown":
            raise StabfixError("not a CI file stabfix knows (YAML, Makefile, tox.ini, pyproject.toml, *.sh)",
                               path=source.rel)
        ci = scan_file(source.rel, source.text, kind)
        ci.source = source
        out.append(ci)
    return out


def ci_files_to_edit(ctx: Context, default_files: Sequence[str], jobs: Sequence[str]) -> list[CiFile]:
    """The CI files a workers/dist run edits; empty (with an info notice and the files marked
    unchanged) when there is no CI file or no pytest invocation. Unknown ``--job`` names raise."""
    files = collect_ci_files(ctx, default_files)
    if not files:
        ctx.info("nothing to do: no CI file found (" + ", ".join(default_files) + ")")
        return []
    check_job_names(files, jobs)
    if not any(f.sites for f in files):
        for f in files:
            ctx.mark(f.path, "unchanged", "nothing to do: no pytest invocation")
        ctx.info("nothing to do: no pytest invocation in " + ", ".join(f.path for f in files))
        return []
    return files


def check_job_names(files: Sequence[CiFile], names: Sequence[str]) -> None:
    """Raise a usage error (exit 2) for a ``--job`` name that no scanned file defines."""
    from codemods.errors import UsageError

    known = set().union(*(f.job_names for f in files)) if files else set()
    for name in names:
        if name not in known:
            sample = ", ".join(sorted(known)[:12]) or "none"
            raise UsageError(f"--job {name}: no such job in {', '.join(f.path for f in files)} (jobs: {sample})")
