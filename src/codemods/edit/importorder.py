"""Where an added import goes so that isort (ruff's ``I001``, default settings) has nothing to say.

isort's order: sections ``from __future__``, standard library, third party, first party, local
(relative imports), one blank line between sections; inside a section every ``import x`` before
the ``from x import ...`` statements, each run by module name, case-insensitively. First party is
what ruff calls it: a module whose top-level name is a folder or a ``.py`` file at the repository's
root or in its ``src/`` (:func:`first_party_names`); the standard library is checked first.

:func:`place` picks the import block and the position in it; :func:`member_key` orders the names
of one ``from`` import (``order-by-type``); :func:`add_import_text` splices the line into a module's
text (for fixers that parse with :mod:`ast`), and :func:`codemods.edit.pyimports.ensure_import`
does the same with libcst. This module imports only
the standard library (the ``flaky`` fixer adds ``import pytest`` without loading libcst).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL = range(5)

#: an import's sort key: (section, 0 for ``import x`` / 1 for ``from x import``, module lowercased)
Key = tuple[int, int, str]


def first_party_names(root: Path) -> frozenset[str]:
    """The top-level module names of the repository at ``root``: folders and ``.py`` files at the
    root and in ``src/`` (ruff's first-party rule for its default ``src = [".", "src"]``)."""
    names: set[str] = set()
    for base in (root, root / "src"):
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir():
                    name = entry.name
                elif entry.is_file() and entry.name.endswith((".py", ".pyi")):
                    name = entry.name.rsplit(".", 1)[0]
                else:
                    continue
            except OSError:
                continue
            if name.isidentifier() and not name.startswith("."):
                names.add(name)
    return frozenset(names)


@dataclass(frozen=True)
class ImportOrder:
    """isort's ordering for one repository (picklable: fixers carry it to worker processes)."""

    first_party: frozenset[str] = frozenset()

    def section(self, module: str, level: int = 0) -> int:
        if level:
            return LOCAL
        top = module.split(".", 1)[0]
        if top == "__future__":
            return FUTURE
        if top in sys.stdlib_module_names:
            return STDLIB
        if top in self.first_party:
            return FIRST_PARTY
        return THIRD_PARTY

    def key(self, module: str, *, is_from: bool = False, level: int = 0) -> Key:
        return (self.section(module, level), int(is_from), module.lower())


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order (``a2`` before ``a10``), as ruff compares names."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def member_key(name: str) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    """Sort key of a name in ``from m import a, B, C_D`` under ruff's ``I`` defaults
    (``order-by-type``): CONSTANTS, then Classes, then everything else; each group case-insensitively
    in natural order, then case-sensitively."""
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, _natural(name.lower()), name


def members_sorted(names: list[str]) -> bool:
    """The names are in :func:`member_key` order (a list to keep sorted when adding to it)."""
    keys = [member_key(n) for n in names]
    return keys == sorted(keys)


def place(entries: list[Key | None], new: Key) -> tuple[int, Key | None, Key | None] | None:
    """Where ``new`` goes among a module's header statements.

    ``entries`` has one item per top-level statement: an import's key, or None for any other
    statement (which ends an import block). Returns ``(index, prev, next)``: insert before
    ``entries[index]``; ``prev``/``next`` are the keys of the imports of the same block right
    before and after the new one (None at a block's edge), which say where blank lines go. None
    when there is no import block (the caller puts the import after the docstring).

    The block: the first one holding an import of the new one's section, else the first one holding
    a later section, else the last one.
    """
    blocks: list[list[int]] = []
    for i, e in enumerate(entries):
        if e is None:
            continue
        if blocks and blocks[-1][-1] == i - 1:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    if not blocks:
        return None
    block = next((b for b in blocks if any(_key(entries, i)[0] == new[0] for i in b)), None) \
        or next((b for b in blocks if any(_key(entries, i)[0] > new[0] for i in b)), None) \
        or blocks[-1]
    at = next((i for i in block if _key(entries, i) > new), block[-1] + 1)
    prev = entries[at - 1] if at - 1 in block else None
    nxt = entries[at] if at in block else None
    return at, prev, nxt


def _key(entries: list[Key | None], i: int) -> Key:
    e = entries[i]
    assert e is not None
    return e


def ast_entries(tree: ast.Module, order: ImportOrder) -> list[Key | None]:
    """:func:`place`'s entries for an :mod:`ast` module: its statements up to the first def/class."""
    out: list[Key | None] = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        if isinstance(stmt, ast.Import):
            out.append(order.key(stmt.names[0].name))
        elif isinstance(stmt, ast.ImportFrom):
            out.append(order.key(stmt.module or "", is_from=True, level=stmt.level))
        else:
            out.append(None)
    return out


def add_import_text(text: str, tree: ast.Module, module: str, order: ImportOrder, newline: str) -> str | None:
    """``text`` with ``import module`` added where isort puts it (``tree`` is ``text`` parsed, or the
    original when only lines below the header changed since); None when the module has no import
    block (the caller decides)."""
    entries = ast_entries(tree, order)
    new = order.key(module)
    found = place(entries, new)
    if found is None:
        return None
    at, prev, nxt = found
    stmts = tree.body
    lines = text.splitlines(keepends=True)
    line = f"import {module}{newline}"

    def blank(i: int) -> bool:  # is line index i blank?
        return i < len(lines) and not lines[i].strip()

    if prev is None:  # first in its block: right above the next import (after its comments)
        assert nxt is not None
        start = stmts[at].lineno - 1
        lines[start:start] = [line] + ([newline] if nxt[0] != new[0] else [])
        return "".join(lines)
    end = stmts[at - 1].end_lineno or stmts[at - 1].lineno  # the line index after prev
    if end and not lines[end - 1].endswith(("\n", "\r")):
        lines[end - 1] += newline
    if prev[0] == new[0]:
        lines[end:end] = [line] + ([newline] if nxt is not None and nxt[0] != new[0] and not blank(end) else [])
        return "".join(lines)
    if nxt is not None and nxt[0] == new[0]:  # joins the next import's section: after the blank lines
        gap = end
        while blank(gap):
            gap += 1
        lines[gap:gap] = ([] if gap > end else [newline]) + [line]
        return "".join(lines)
    lines[end:end] = [newline, line] + ([newline] if nxt is not None and not blank(end) else [])
    return "".join(lines)
