"""The fixer registry: name -> "module:Class". Adding a fixer is one module and one line here.

Entries are import strings so that ``stabfix --version`` and ``stabfix list`` import no fixer's
heavy dependencies (libcst, ruamel.yaml, jinja2 load only when a fixer runs). An entry made with
:func:`fixer` also carries the class's one-line ``description``, so that ``stabfix list`` imports
no fixer module at all (tests/core/test_registry.py checks that it is the class's own text).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from codemods.errors import UsageError

if TYPE_CHECKING:
    from codemods.core.contract import Fixer


class _Entry(str):
    """An import string ("module:Class") that also knows the class's one-line description."""

    description: str


def fixer(target: str, description: str) -> str:
    """A registry entry: the import string of the fixer class and its ``description``, verbatim."""
    entry = _Entry(target)
    entry.description = description
    return entry


FIXERS: dict[str, str] = {
    "auth": fixer("codemods.fixers.auth.auth:AuthFixer",
                  "Give proxy tests an auth override (app.dependency_overrides) instead of a 401."),
    "auth-unpatch": fixer("codemods.fixers.auth.unpatch:AuthUnpatchFixer",
                  "Rewrite mock.patch of the auth dependency (ignored by FastAPI) into an override."),
    "flaky": fixer("codemods.fixers.flaky:FlakyFixer",
                  "Mark selected tests @pytest.mark.flaky for the project's retry plugin."),
    "xdist-group": fixer("codemods.fixers.xdist_group:XdistGroupFixer",
                  "Group tests on one pytest-xdist worker (pytestmark / @pytest.mark.xdist_group)."),
    "prisma-sync": fixer("codemods.fixers.prisma.sync:PrismaSyncFixer",
                  "Copy the source schema.prisma into its full copies byte for byte and its partial copies block by block."),
    "migration": fixer("codemods.fixers.prisma.migration:MigrationFixer",
                  "Scaffold a timestamped Prisma migration from a diff, a CI log, or Prisma's own engine."),
    "version": fixer("codemods.fixers.version:VersionFixer",
                  "Bump a package version in pyproject.toml and the files [tool.commitizen] version_files names."),
    "noqa": fixer("codemods.fixers.suppress.noqa:NoqaFixer",
                  "add `# noqa: CODE` where ruff reports (from its JSON report or --run), merged and minimal"),
    "type-ignore": fixer("codemods.fixers.suppress.type_ignore:TypeIgnoreFixer",
                  "add `# type: ignore[code]` where mypy reports (JSON or text report, or --run --until-clean)"),
    "pyright-ignore": fixer("codemods.fixers.suppress.pyright_ignore:PyrightIgnoreFixer",
                  "add `# pyright: ignore[rule]` where pyright/basedpyright reports (JSON report or --run)"),
    "workers": fixer("codemods.fixers.workers:WorkersFixer",
                  "lower pytest's -n (xdist workers) in CI configs, byte for byte"),
    "dist": fixer("codemods.fixers.dist:DistFixer",
                  "add --dist loadgroup to pytest -n invocations whose tests use xdist_group"),
    "npm-overrides": fixer("codemods.fixers.npm.overrides:NpmOverridesFixer",
                  "fix npm audit findings in package.json: overrides, raised ranges (format kept)"),
    "dockerfile-pins": fixer("codemods.fixers.npm.dockerfile:DockerfilePinsFixer",
                  "raise vulnerable `npm install -g` pins in Dockerfiles, byte for byte"),
    "vitest": fixer("codemods.fixers.vitest.fixer:VitestFixer",
                  "Vitest tests: userEvent.setup({ delay: null }) and raised timeouts for selected tests "
                  "(--only / --from-report)."),
}


#: `[tool.stabfix.<name>]` tables shared by several fixers -> their keys (an unknown key is refused
#: whichever fixer runs; the values are validated by the fixers that read them)
SHARED_TABLES: dict[str, tuple[str, ...]] = {"prisma": ("source", "copies", "partial-copies", "migrations"),
                                             # `stabfix ci` / `stabfix loop`: the CI branch rule
                                             "ci": ("branch_pattern",)}


def names() -> list[str]:
    return list(FIXERS)


def describe(name: str) -> str:
    """The one-line description of a registered fixer, without importing it when its entry has one."""
    target = FIXERS.get(name)
    if isinstance(target, _Entry):
        return target.description
    return load(name).description


def unknown_fixer(name: str) -> UsageError:
    """The one error for a fixer name that is not registered: a close match, then every fixer."""
    import difflib  # only for this error: ~5 ms of import on every command otherwise

    close = difflib.get_close_matches(name.replace("_", "-").lower(), FIXERS, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UsageError(f"unknown fixer {name!r}{hint} (fixers: {', '.join(FIXERS)})")


def check_names(names: Iterable[str]) -> None:
    """Raise :func:`unknown_fixer`'s error (exit 2) for the first name that is not a fixer (for
    commands that take fixer names, such as ``stabfix demo --fixer``)."""
    for name in names:
        if name not in FIXERS:
            raise unknown_fixer(name)


def load(name: str) -> type[Fixer]:
    """The fixer class registered as ``name``; a clear error for an unknown name."""
    target = FIXERS.get(name)
    if target is None:
        raise unknown_fixer(name)
    module, _, attr = target.partition(":")
    cls: type[Fixer] = getattr(importlib.import_module(module), attr)
    return cls
