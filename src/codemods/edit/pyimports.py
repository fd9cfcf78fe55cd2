"""Module-header helpers for libcst fixers: parsing, resolving imports, adding imports.

A LiteLLM test module's header is more than imports: a docstring, ``from __future__``,
``sys.path.insert(0, os.path.abspath("../.."))`` lines, ``load_dotenv()``, imports guarded by
``try/except ImportError`` or ``if TYPE_CHECKING:``. :func:`header_end` finds the index after the last
import-like statement of that header; :func:`ensure_import` (``import m`` / ``import m as alias``) and
:func:`ensure_from_import` add an import (merging into an existing ``from`` import of the same module)
without touching other lines. :class:`Imports` resolves a module's top-level names to qualified
names; :func:`dotted_name` spells a ``Name``/``Attribute`` chain; :func:`parse_module` parses a file
or raises the one "syntax error" :class:`~codemods.errors.FileFailure` the fixers report
(:func:`syntax_failure` builds it for a fixer that parses with :mod:`ast`).

This module imports libcst at the top: fixers import it inside the functions that use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from codemods.core.validate import compiles
from codemods.edit.bindings import ImportTable
from codemods.edit.importorder import ImportOrder, Key, member_key, members_sorted, place
from codemods.errors import FileFailure

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception"}


def _simple(stmt: cst.CSTNode) -> Sequence[cst.BaseSmallStatement]:
    return stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ()


def is_docstring(stmt: cst.CSTNode) -> bool:
    body = _simple(stmt)
    # isinstance, not libcst.matchers: importing the matchers costs as much as libcst itself
    return len(body) == 1 and isinstance(body[0], cst.Expr) \
        and isinstance(body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def is_import_line(stmt: cst.CSTNode) -> bool:
    body = _simple(stmt)
    return bool(body) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in body)


def is_future_import(stmt: cst.CSTNode) -> bool:
    body = _simple(stmt)
    return bool(body) and all(
        isinstance(s, cst.ImportFrom) and isinstance(s.module, cst.Name) and s.module.value == "__future__"
        for s in body
    )


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None (a call, a subscript... anywhere in it)."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def is_path_setup(stmt: cst.CSTNode) -> bool:
    """``sys.path.insert/append(...)``, ``load_dotenv()``, ``warnings.filterwarnings(...)`` at top level."""
    body = _simple(stmt)
    if len(body) != 1 or not isinstance(body[0], cst.Expr) or not isinstance(body[0].value, cst.Call):
        return False
    name = dotted_name(body[0].value.func) or ""
    return name.startswith("sys.path.") or name in {
        "load_dotenv", "dotenv.load_dotenv", "warnings.filterwarnings", "warnings.simplefilter",
    }


def _block_is_imports(body: cst.BaseSuite) -> bool:
    stmts = body.body if isinstance(body, cst.IndentedBlock) else [body]
    return bool(stmts) and all(
        is_import_line(s) or (len(_simple(s)) == 1 and isinstance(_simple(s)[0], cst.Pass))
        or is_path_setup(s)
        or (isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Assign) for x in s.body))
        for s in stmts
    )


def is_guarded_import(stmt: cst.CSTNode) -> bool:
    """``try: import x / except ImportError: ...`` or ``if TYPE_CHECKING: import x``."""
    if isinstance(stmt, cst.Try):
        if not _block_is_imports(stmt.body) or not is_import_line(stmt.body.body[0]):
            return False
        for handler in stmt.handlers:
            if handler.type is None:
                continue
            names = {dotted_name(e.value) for e in handler.type.elements} if isinstance(handler.type, cst.Tuple) \
                else {dotted_name(handler.type)}
            if not names & _IMPORT_ERRORS:
                return False
        return True
    if isinstance(stmt, cst.If) and dotted_name(stmt.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
        return _block_is_imports(stmt.body)
    return False


def header_end(module: cst.Module, *, include_setup: bool = True) -> int:
    """Index in ``module.body`` just after the header's last import-like statement.

    The header is the leading run of docstring, imports, guarded imports and path set-up calls;
    with ``include_setup`` the set-up calls count as import-like (pytestmark goes after
    ``sys.path.insert``), without it only imports do (a new import goes after the last import).
    """
    end = 0
    for i, stmt in enumerate(module.body):
        if i == 0 and is_docstring(stmt):
            end = 1
            continue
        if is_import_line(stmt) or is_guarded_import(stmt):
            end = i + 1
        elif is_path_setup(stmt):
            if include_setup:
                end = i + 1
        else:
            break
    return end


def _future_end(module: cst.Module) -> int:
    end = 0
    for i, stmt in enumerate(module.body):
        if (i == 0 and is_docstring(stmt)) or is_future_import(stmt):
            end = i + 1
        else:
            break
    return end


def has_import(module: cst.Module, name: str) -> str | None:
    """The local name under which module ``name`` is imported at top level (``import name [as x]``)."""
    for stmt in module.body:
        for small in _simple(stmt):
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if dotted_name(alias.name) == name:
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            return alias.asname.name.value
                        return name
    return None


def imported_names(module: cst.Module, from_module: str) -> dict[str, str]:
    """``{imported name: local name}`` for top-level ``from from_module import ...`` statements."""
    out: dict[str, str] = {}
    for stmt in module.body:
        for small in _simple(stmt):
            if isinstance(small, cst.ImportFrom) and not small.relative:
                if small.module is None or dotted_name(small.module) != from_module:
                    continue
                if isinstance(small.names, cst.ImportStar):
                    continue
                for alias in small.names:
                    local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) \
                        else dotted_name(alias.name) or ""
                    out[dotted_name(alias.name) or ""] = local
    return out


def _insert(module: cst.Module, stmt: cst.SimpleStatementLine) -> cst.Module:
    index = header_end(module, include_setup=False)
    if index == 0 or not any(is_import_line(s) or is_guarded_import(s) for s in module.body[:index]):
        index = _future_end(module)
    body = list(module.body)
    if index == 0 and body:
        # Before the first statement: take over its leading comments? No: keep them with it and
        # separate the new import with a blank line.
        first = body[0]
        body[0] = first.with_changes(leading_lines=[*first.leading_lines])
        stmt = stmt.with_changes(leading_lines=())
        if not first.leading_lines or not isinstance(first.leading_lines[0], cst.EmptyLine) \
                or first.leading_lines[0].comment is not None:
            body[0] = first.with_changes(leading_lines=[cst.EmptyLine(), *first.leading_lines])
    elif index < len(body) and not any(is_import_line(s) for s in body[max(0, index - 1):index]):
        stmt = stmt.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(index, stmt)
    return module.with_changes(body=body)


def ensure_import(module: cst.Module, name: str, alias: str | None = None, *,
                  order: ImportOrder | None = None) -> tuple[cst.Module, str]:
    """Make sure ``import name`` (``import name as alias``) is present; returns the new module and
    the local name to use (an existing ``import name [as x]`` is reused).

    With ``order`` the import goes where isort puts it (its section of the header's import block,
    sorted, blank lines between sections: :mod:`codemods.edit.importorder`); without it, after the
    header's last import."""
    local = has_import(module, name)
    if local is not None:
        return module, local
    asname = cst.AsName(cst.Name(alias)) if alias else None
    stmt = cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(
        name=cst.parse_expression(name), asname=asname)])])  # type: ignore[arg-type]
    if order is not None:
        placed = _insert_sorted(module, stmt, name, order)
        if placed is not None:
            return placed, alias or name
    return _insert(module, stmt), alias or name


def _cst_entries(module: cst.Module, order: ImportOrder) -> list[Key | None]:
    """:func:`codemods.edit.importorder.place`'s entries: top-level statements up to the first def/class."""
    out: list[Key | None] = []
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            break
        small = list(_simple(stmt))
        key: Key | None = None
        if isinstance(stmt, cst.SimpleStatementLine) and len(small) == 1:
            node = small[0]
            if isinstance(node, cst.Import):
                key = order.key(dotted_name(node.names[0].name) or "")
            elif isinstance(node, cst.ImportFrom):
                mod = dotted_name(node.module) if node.module is not None else ""
                key = order.key(mod or "", is_from=True, level=len(node.relative))
        out.append(key)
    return out


def _insert_sorted(module: cst.Module, stmt: cst.SimpleStatementLine, name: str,
                   order: ImportOrder, *, key: Key | None = None) -> cst.Module | None:
    """``module`` with ``stmt`` (``import name``; a ``from`` import with its ``key``) placed as isort
    would; None without import block. The same placement as
    :func:`codemods.edit.importorder.add_import_text`, in leading lines."""
    new = key if key is not None else order.key(name)
    found = place(_cst_entries(module, order), new)
    if found is None:
        return None
    at, prev, nxt = found
    body = list(module.body)
    blank = cst.EmptyLine()

    def split(lines: Sequence[cst.EmptyLine]) -> tuple[list[cst.EmptyLine], list[cst.EmptyLine]]:
        """(the leading blank lines, the rest: comments and what follows them)."""
        k = 0
        while k < len(lines) and lines[k].comment is None:
            k += 1
        return list(lines[:k]), list(lines[k:])

    if nxt is not None:
        nxt_stmt = body[at]
        assert isinstance(nxt_stmt, cst.SimpleStatementLine)
        blanks, rest = split(nxt_stmt.leading_lines)
        if prev is None:  # first in its block: the next import's comments stay above, now above it
            stmt = stmt.with_changes(leading_lines=nxt_stmt.leading_lines)
            body[at] = nxt_stmt.with_changes(leading_lines=[blank] if nxt[0] != new[0] else [])
        elif prev[0] == new[0]:
            if nxt[0] != new[0] and not blanks:
                body[at] = nxt_stmt.with_changes(leading_lines=[blank, *rest])
        elif nxt[0] == new[0]:
            stmt = stmt.with_changes(leading_lines=blanks or [blank])
            body[at] = nxt_stmt.with_changes(leading_lines=rest)
        else:
            stmt = stmt.with_changes(leading_lines=[blank])
            body[at] = nxt_stmt.with_changes(leading_lines=[*(blanks or [blank]), *rest])
    elif prev is not None and prev[0] != new[0]:
        stmt = stmt.with_changes(leading_lines=[blank])
    body.insert(at, stmt)
    return module.with_changes(body=body)


def ensure_from_import(module: cst.Module, from_module: str, names: Sequence[str], *,
                       order: ImportOrder | None = None,
                       line_length: int | None = None) -> tuple[cst.Module, dict[str, str]]:
    """Make sure ``from from_module import n`` holds for each name, merging into an existing
    top-level ``from from_module import ...`` when there is one. Returns ``{name: local name}``.

    Merged names go where ruff's ``I`` puts them when the list is sorted
    (:func:`~codemods.edit.importorder.member_key`), else after the last one; the statement keeps
    its layout (parentheses, one name per line, trailing comma). A new statement goes where isort
    puts it with ``order``, else after the header's last import. With ``line_length``, a one-line
    statement that no longer fits is wrapped as ruff/black wrap it (one name per line, trailing comma).
    """
    present = imported_names(module, from_module)
    missing = [n for n in names if n not in present]
    result = {n: present.get(n, n) for n in names}
    if not missing:
        return module, result
    body = list(module.body)
    for i, stmt in enumerate(body):
        small_list = list(_simple(stmt))
        for j, small in enumerate(small_list):
            if (isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None
                    and dotted_name(small.module) == from_module and not isinstance(small.names, cst.ImportStar)
                    and all(a.asname is None for a in small.names)):  # ruff keeps `x as y` apart
                new_small = small.with_changes(names=_merge_aliases(list(small.names), missing))
                if len(small_list) == 1 and line_length is not None:
                    new_small = _fit(new_small, line_length)
                small_list[j] = new_small
                body[i] = stmt.with_changes(body=small_list)
                return module.with_changes(body=body), result
    new_node = cst.ImportFrom(
        module=cst.parse_expression(from_module),  # type: ignore[arg-type]
        names=_merge_aliases([], sorted(missing, key=member_key)),
    )
    if line_length is not None:
        new_node = _fit(new_node, line_length)
    stmt = cst.SimpleStatementLine(body=[new_node])
    if order is not None:
        placed = _insert_sorted(module, stmt, from_module, order, key=order.key(from_module, is_from=True))
        if placed is not None:
            return placed, result
    return _insert(module, stmt), result


def _merge_aliases(aliases: list[cst.ImportAlias], missing: Sequence[str]) -> list[cst.ImportAlias]:
    """``aliases`` with the ``missing`` names added: each at its sorted place when the list is sorted,
    else at the end; separators are taken from the neighbours (multi-line layout kept)."""
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out = list(aliases)
    keep_sorted = members_sorted([_alias_key(a) for a in out])
    for name in sorted(missing, key=member_key) if keep_sorted else missing:
        new = cst.ImportAlias(name=cst.Name(name))
        at = len(out)
        if keep_sorted:
            at = next((k for k, a in enumerate(out) if member_key(_alias_key(a)) > member_key(name)), len(out))
        if not out:
            out = [new]
        elif at < len(out):  # before out[at]: the separator the list uses there
            sep = out[at - 1].comma if at > 0 else out[0].comma
            out.insert(at, new.with_changes(comma=sep if isinstance(sep, cst.Comma) else space))
        else:  # last: the old last one takes an inner separator, the new one its (trailing) comma
            last = out[-1]
            inner = out[-2].comma if len(out) > 1 else last.comma
            out[-1] = last.with_changes(comma=inner if isinstance(inner, cst.Comma) else space)
            out.append(new.with_changes(comma=last.comma))
    return out


def _alias_key(alias: cst.ImportAlias) -> str:
    return dotted_name(alias.name) or ""


def _fit(node: cst.ImportFrom, line_length: int) -> cst.ImportFrom:
    """A one-line ``from`` import longer than ``line_length``, wrapped one name per line."""
    code = cst.Module([]).code_for_node(node)
    if node.lpar is not None or "\n" in code or len(code) <= line_length or isinstance(node.names, cst.ImportStar):
        return node
    lines = "".join(f"    {cst.Module([]).code_for_node(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))},\n"
                    for a in node.names)
    wrapped = cst.parse_statement(f"from {cst.Module([]).code_for_node(node.module)} import (\n{lines})\n") \
        if node.module is not None else None
    if not isinstance(wrapped, cst.SimpleStatementLine) or not isinstance(wrapped.body[0], cst.ImportFrom):
        return node
    return wrapped.body[0]


# -- resolving names ---------------------------------------------------------------------------------


def _from_module(node: cst.ImportFrom) -> str | None:
    if node.relative:
        return None
    return dotted_name(node.module) if node.module is not None else None


def block_statements(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct child statements of an ``if`` or ``try`` statement (all branches)."""
    blocks: list[cst.BaseSuite] = []
    if isinstance(stmt, cst.If):
        blocks.append(stmt.body)
        orelse = stmt.orelse
        while orelse is not None:
            blocks.append(orelse.body)
            orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    elif isinstance(stmt, cst.Try):
        blocks.append(stmt.body)
        blocks.extend(h.body for h in stmt.handlers)
        if stmt.orelse is not None:
            blocks.append(stmt.orelse.body)
        if stmt.finalbody is not None:
            blocks.append(stmt.finalbody.body)
    for b in blocks:
        if isinstance(b, cst.IndentedBlock):
            yield from b.body


class Imports(ImportTable):
    """A module's top-level bindings: imported names -> qualified names, plus other bound names.

    Imports inside top-level ``try``/``if`` blocks (``try: import x except ImportError``,
    ``if TYPE_CHECKING:``) count; relative imports do not resolve.
    """

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self.from_nodes: dict[str, cst.ImportFrom] = {}  # module -> first `from module import ...`
        for stmt in module.body:
            self._visit_stmt(stmt)

    def _visit_stmt(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted_name(alias.name) or ""
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            self.names[alias.asname.name.value] = full
                            self.bound.add(alias.asname.name.value)
                        else:
                            self.plain_modules.add(full)
                            self.bound.add(full.split(".")[0])
                elif isinstance(small, cst.ImportFrom):
                    mod = _from_module(small)
                    if mod is None:
                        continue
                    if isinstance(small.names, cst.ImportStar):
                        self.star_modules.append(mod)
                        continue
                    self.from_nodes.setdefault(mod, small)
                    for alias in small.names:
                        name = dotted_name(alias.name) or ""
                        local = name
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            local = alias.asname.name.value
                        self.names[local] = f"{mod}.{name}"
                        self.bound.add(local)
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    for t in targets:
                        if isinstance(t, cst.Name):
                            self.bound.add(t.value)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.bound.add(stmt.name.value)
        elif isinstance(stmt, (cst.If, cst.Try)):
            for inner in block_statements(stmt):
                self._visit_stmt(inner)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain, or None when it is not from an import."""
        return self.resolve_dotted(dotted_name(node))


# -- parsing -----------------------------------------------------------------------------------------


def syntax_failure(text: str, message: str, line: int | None, *, parser: str = "python") -> FileFailure:
    """The failure of a file that does not parse: a syntax error, or, when ``parser`` is ``"libcst"``
    and this Python accepts the file, a construct libcst's parser does not support, said as such."""
    first = str(message).splitlines()[0] if message else "invalid syntax"
    if parser == "libcst":
        if compiles(text, "<module>") is None:
            return FileFailure(f"libcst cannot parse this valid Python ({first}); left untouched", line=line)
        python = _python_syntax_error(text)
        if python is not None:  # the line and words Python reports, not libcst's (often a line later)
            first, line = python
    return FileFailure(f"syntax error: {first}; fix the file and run again", line=line)


def _python_syntax_error(text: str) -> tuple[str, int | None] | None:
    """Python's own message and line for ``text``'s syntax error (None when it compiles)."""
    import symtable
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable(text, "<module>", "exec")
    except SyntaxError as exc:
        return str(exc.msg), exc.lineno
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def parse_module(text: str) -> cst.Module:
    """Parse a module with libcst; one that does not parse is this file's :class:`FileFailure`
    (reported, file untouched)."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise syntax_failure(text, exc.message, exc.raw_line, parser="libcst") from None
