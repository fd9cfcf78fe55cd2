"""A module's top-level import table, one for both syntax trees: :class:`ImportTable` is what
:class:`codemods.edit.pyimports.Imports` (libcst) and the ``auth`` analysis' ``ModuleSource``
(:mod:`ast`) fill from a module's imports, and how a dotted name is resolved through it. Also
:func:`ast_dotted`, the ``a.b.c`` of an :mod:`ast` Name/Attribute chain. Imports no libcst.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["ImportTable", "ast_dotted"]


class ImportTable:
    """Imported names -> qualified names, ``import a.b`` modules, and every top-level bound name."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # local name -> qualified name
        self.plain_modules: set[str] = set()  # `import a.b.c` (usable as a.b.c)
        self.bound: set[str] = set()  # every top-level name bound by anything
        self.star_modules: list[str] = []

    def resolve_dotted(self, d: str | None) -> str | None:
        """Qualified name of a dotted name written in the module, or None when it is not from an import."""
        if d is None:
            return None
        head, _, rest = d.partition(".")
        if head in self.names:
            q = self.names[head]
            return f"{q}.{rest}" if rest else q
        for mod in sorted(self.plain_modules, key=len, reverse=True):
            if d == mod or d.startswith(mod + "."):
                return d
        return None

    def local_for(self, module: str, attr: str, extra: Iterable[str] = ()) -> str | None:
        """An expression that names ``module.attr`` here (``attr``, ``alias.attr``...) or None."""
        wanted = {f"{module}.{attr}", *extra}
        for local, q in self.names.items():
            if q in wanted:
                return local
        for local, q in self.names.items():
            if q == module:
                return f"{local}.{attr}"
        if module in self.plain_modules:
            return f"{module}.{attr}"
        return None


def ast_dotted(node: ast.AST | None) -> str | None:
    """``a.b.c`` for an :mod:`ast` Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None
