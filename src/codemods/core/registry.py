"""The fixer registry: name -> "module:Class". Adding a fixer is one module and one line here.

Entries are import strings so that ``stabfix --version`` and ``stabfix list`` import no fixer's
heavy dependencies (libcst, ruamel.yaml, jinja2 load only when a fixer runs).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from codemods.errors import UsageError

if TYPE_CHECKING:
    from codemods.core.contract import Fixer

FIXERS: dict[str, str] = {
    "auth": "codemods.fixers.auth.auth:AuthFixer",
    "auth-unpatch": "codemods.fixers.auth.unpatch:AuthUnpatchFixer",
    "flaky": "codemods.fixers.flaky:FlakyFixer",
    "xdist-group": "codemods.fixers.xdist_group:XdistGroupFixer",
    "prisma-sync": "codemods.fixers.prisma.sync:PrismaSyncFixer",
    "migration": "codemods.fixers.prisma.migration:MigrationFixer",
    "version": "codemods.fixers.version:VersionFixer",
    "noqa": "codemods.fixers.suppress.noqa:NoqaFixer",
    "type-ignore": "codemods.fixers.suppress.type_ignore:TypeIgnoreFixer",
    "pyright-ignore": "codemods.fixers.suppress.pyright_ignore:PyrightIgnoreFixer",
    "workers": "codemods.fixers.workers:WorkersFixer",
    "dist": "codemods.fixers.dist:DistFixer",
}


#: `[tool.stabfix.<name>]` tables shared by several fixers -> their keys (an unknown key is refused
#: whichever fixer runs; the values are validated by the fixers that read them)
SHARED_TABLES: dict[str, tuple[str, ...]] = {"prisma": ("source", "copies", "partial-copies", "migrations")}


def names() -> list[str]:
    return list(FIXERS)


def unknown_fixer(name: str) -> UsageError:
    """The one error for a fixer name that is not registered: a close match, then every fixer."""
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
