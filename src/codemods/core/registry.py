"""The fixer registry: name -> "module:Class". Adding a fixer is one module and one line here.

Entries are import strings so that ``stabfix --version`` and ``stabfix list`` import no fixer's
heavy dependencies (libcst, ruamel.yaml, jinja2 load only when a fixer runs).
"""

from __future__ import annotations

import importlib
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


#: `[tool.stabfix.<name>]` tables shared by several fixers (validated by the fixers that read them)
SHARED_TABLES: tuple[str, ...] = ("prisma",)


def names() -> list[str]:
    return list(FIXERS)


def load(name: str) -> type[Fixer]:
    """The fixer class registered as ``name``; a clear error for an unknown name."""
    target = FIXERS.get(name)
    if target is None:
        raise UsageError(f"unknown fixer {name!r}; `stabfix list` shows the fixers: {', '.join(FIXERS)}")
    module, _, attr = target.partition(":")
    cls: type[Fixer] = getattr(importlib.import_module(module), attr)
    return cls
