"""dist: pass ``--dist loadgroup`` to the pytest invocations that need it, byte for byte.

``xdist_group`` marks do nothing unless pytest runs with ``--dist loadgroup``. ``stabfix apply dist``
finds the pytest invocations in the CI files (as :mod:`codemods.fixers.workers` does) that use
xdist (``-n``) and whose test paths hold ``xdist_group`` marks — or every xdist invocation of the
jobs named with ``--job`` — and adds ``--dist loadgroup`` right after their ``-n`` (or replaces
another ``--dist`` value). It warns when pytest 9.2.x and pytest-xdist <= 3.8.0 are pinned
together: that pair silently does not group (pytest-xdist #1386).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from codemods.ci.collect import ci_files_to_edit
from codemods.ci.scan import CiFile, Site, line_at
from codemods.ci.splice import Splice, apply_splices
from codemods.core import tomlread as tomllib
from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option, split_list
from codemods.core.plan import Edit
from codemods.errors import FileFailure, StabfixError
from codemods.testsuite.invocations import Invocation

#: a mark use, not a mention in a docstring: `xdist_group(` (pytest.mark.xdist_group("name"))
_MARK = re.compile(rb"\bxdist_group\s*\(")
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"})


@dataclass
class DistOptions:
    # `mode` is taken by codemods.apply(mode="diff"|...): the field is dist_mode, the flag --mode
    dist_mode: str = option("loadgroup", "the --dist mode to set", flag="--mode", metavar="MODE",
                            choices=("loadgroup", "loadscope", "loadfile", "worksteal", "load"))
    job: list[str] = option([], "set it on every xdist invocation of these jobs; repeatable", metavar="NAME")
    files: list[str] = option([".circleci/config.yml"], "CI files to edit when no PATHS are given", metavar="FILE",
                              cli=False)


class DistFixer(RepoFixer):
    """Add --dist loadgroup where xdist_group marks would otherwise be ignored."""

    name: ClassVar[str] = "dist"
    description: ClassVar[str] = "add --dist loadgroup to pytest -n invocations whose tests use xdist_group"
    Options: ClassVar[type] = DistOptions
    default_paths: ClassVar[tuple[str, ...]] = ()
    #: PATHS name the CI files (or folders holding them), --include/--exclude filter them (ci.collect)
    accepts: ClassVar[frozenset[str]] = frozenset({"paths", "include", "exclude"})
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        options={"job": ["local_testing"]},
        note="adds --dist loadgroup after -n 8 in the sample's local_testing job",
    )

    options: DistOptions

    def prepare(self, ctx: Context) -> None:
        self.options.job = split_list(self.options.job)  # `--job a,b` (the CLI passes list items unsplit)

    def plan(self, ctx: Context) -> None:
        if self.options.dist_mode == "loadgroup":
            from codemods.testsuite.pins import find_pins, xdist_warning

            warning = xdist_warning(find_pins(ctx.root))
            if warning:
                ctx.warn(warning)
        files = ci_files_to_edit(ctx, self.options.files, self.options.job)
        if not files:
            return
        marks = _MarkFinder(ctx.root)
        for ci in files:
            source = ci.source
            splices: list[Splice] = []
            edits: list[Edit] = []
            for site in ci.sites:
                got = self._plan_site(ctx, ci, site, marks)
                if got is not None:
                    splices.append(got[0])
                    edits.append(got[1])
            if not splices:
                ctx.mark(ci.path, "unchanged", f"nothing to do: no xdist invocation needs --dist {self.options.dist_mode}")
                continue
            try:
                new_text = apply_splices(ci, splices)
            except (FileFailure, StabfixError) as exc:  # this file only: the others go on
                ctx.mark(ci.path, "failed", exc.message)
                continue
            ctx.propose_edit(source, new_text, f"--dist {self.options.dist_mode} on {len(splices)} invocation(s)", edits)

    def _plan_site(self, ctx: Context, ci: CiFile, site: Site, marks: _MarkFinder) -> tuple[Splice, Edit] | None:
        inv = site.invocation
        mode = self.options.dist_mode
        jobs = set(site.jobs) or ({site.container[1]} if site.container[1] else set())
        label = _label(site)
        selected = set(self.options.job)
        verdict = site.selected_by(selected)
        if verdict is None:
            ctx.warn(f"not changed: this text is shared by jobs {', '.join(sorted(jobs))} and --job selects "
                     f"only {', '.join(sorted(jobs & selected))}", path=site.path, line=site.line)
        if not verdict:
            return None
        n = inv.numprocesses
        if n is None or not inv.uses_xdist:
            if selected:
                ctx.warn(f"{label}: pytest runs without -n, so --dist has no effect; not changed",
                         path=site.path, line=site.line)
            return None
        why = f"selected with --job {', '.join(sorted((jobs | {site.container[1]}) & selected))}" if selected else ""
        if not selected and mode == "loadgroup":
            found = marks.find(inv)
            if found is None:
                ctx.info(f"{label}: cannot tell which tests it runs ({' '.join(inv.test_paths)}); "
                         "name it with --job to set --dist", path=site.path, line=site.line)
                return None
            if not found:
                return None
            why = f"{found} carries xdist_group marks"
        dist = inv.dist
        if dist is not None:
            if dist.value == mode:
                return None
            if dist.value is None or "$" in dist.value or "<<" in dist.value or "{" in dist.value:
                ctx.info(f"{label}: `--dist {dist.value}` is parameterised; set {mode} where its value is "
                         "written", path=site.path, line=site.line)
                return None
            if dist.value_start is None or dist.value_end is None:
                ctx.warn(f"{label}: --dist {dist.value} is written with escapes; change it by hand",
                         path=site.path, line=site.line)
                return None
            return (Splice(dist.value_start, dist.value_end, mode, site.scalar),
                    Edit(f"{label}: --dist {dist.value} -> {mode} ({why or 'all xdist invocations'})",
                         line_at(ci, site, dist.value_start),
                         "dist", {"job": _job(site), "file": site.path, "old": dist.value, "new": mode}))
        return (Splice(n.end, n.end, f" --dist {mode}", site.scalar),
                Edit(f"{label}: added --dist {mode} after {n.spelling} {n.value} ({why or 'all xdist invocations'})",
                     line_at(ci, site, n.end - 1), "dist", {"job": _job(site), "file": site.path, "old": None, "new": mode}))


def _job(site: Site) -> str:
    return ", ".join(site.jobs) or site.container[1] or site.path


def _label(site: Site) -> str:
    kind = {"make": "target", "tox": "env", "pyproject": ""}.get(site.kind, "job")
    return f"{kind} {_job(site)}".strip()


class _MarkFinder:
    """Answers "do the tests this invocation runs carry xdist_group marks?" (text search, cached)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, bool] = {}

    def _default_paths(self) -> list[str]:
        try:
            data = tomllib.loads((self.root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return ["."]
        pt = data.get("tool", {}).get("pytest", {})
        paths = pt.get("ini_options", {}).get("testpaths") or pt.get("testpaths")
        return [str(p) for p in paths] if isinstance(paths, list) and paths else ["."]

    def find(self, inv: Invocation) -> str | bool | None:
        """The first path with marks, False when none has them, None when the paths are unknown."""
        paths: list[str] = []
        for p in inv.test_paths:  # tox: `{posargs}` adds nothing by default, `{posargs:X}` means X
            m = re.fullmatch(r"\{posargs(?::(.*))?\}", p)
            if m is None:
                paths.append(p)
            elif m.group(1):
                paths.extend(m.group(1).split())
        paths = paths or self._default_paths()
        if any("$" in p or "<<" in p or "{" in p for p in paths):
            return None
        ignored = {(self.root / i).resolve() for i in inv.ignores}
        for p in paths:
            targets = sorted(self.root.glob(p)) if any(c in p for c in "*?[") else [self.root / p]
            for t in targets:
                if self._has(t.resolve(), ignored):
                    return p
        return False

    def _has(self, path: Path, ignored: set[Path]) -> bool:
        if path in ignored:
            return False
        if path.is_file():
            if path not in self._cache:
                try:
                    self._cache[path] = path.suffix == ".py" and _MARK.search(path.read_bytes()) is not None
                except OSError:
                    self._cache[path] = False
            return self._cache[path]
        if not path.is_dir():
            return False
        for child in sorted(path.iterdir()):
            if child.name in _SKIP_DIRS or child.name.startswith("."):
                continue
            if self._has(child, ignored):
                return True
        return False


__all__ = ["DistFixer", "DistOptions"]
