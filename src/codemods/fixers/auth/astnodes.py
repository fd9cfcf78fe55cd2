"""Standard-library :mod:`ast` helpers of the ``auth`` analysis (C parser, light nodes): the
analysis reads every candidate module, libcst parses only the modules that get an edit.

* :class:`ModuleSource` — one parsed module: its tree, text and top-level import table (the same
  bindings as :class:`codemods.edit.pyimports.Imports` finds on a libcst tree: ``resolve``,
  ``local_for``, ``names``, ``bound``), source segments and lines, and the per-module memo of the
  analysis: the calls of every statement, walked once and shared by the blocks, functions and the
  module made of it (``calls``: not in nested classes, as the analysis follows them; ``all_calls``).
* :func:`walk` — a pre-order walk in source order (decorators before the function, a call's
  arguments as written), pruned where the caller says, as libcst's visitors walk.
* :func:`call_args` — a call's arguments in source order, as libcst's ``Call.args``.
* :func:`string_value`, :func:`int_literal` — what libcst's ``SimpleString.evaluated_value`` and
  ``int(Integer.value)`` give (None for an implicit concatenation, a hex or octal literal).

Imports no libcst.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from codemods.edit.bindings import ImportTable
from codemods.edit.bindings import ast_dotted as dotted

FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
TRY: tuple[type[ast.stmt], ...] = (ast.Try, getattr(ast, "TryStar", ast.Try))  # `except*` (3.11)
AnyFunc = ast.FunctionDef | ast.AsyncFunctionDef


def last(node: ast.AST | None) -> str:
    d = dotted(node) or ""
    return d.rsplit(".", 1)[-1]


def call_args(call: ast.Call) -> list[tuple[str | None, ast.expr]]:
    """``(keyword or None, value)`` of every argument in source order (``*x`` / ``**x``: the inner
    value, keyword None), as libcst's ``Call.args``."""
    pos: list[tuple[ast.AST, str | None, ast.expr]] = [
        (a, None, a.value if isinstance(a, ast.Starred) else a) for a in call.args]
    kws: list[tuple[ast.AST, str | None, ast.expr]] = [(k, k.arg, k.value) for k in call.keywords]
    if kws and any(isinstance(a, ast.Starred) for a in call.args):
        # only `*x` may follow a keyword argument
        merged = sorted(pos + kws, key=lambda t: (t[0].lineno, t[0].col_offset))  # type: ignore[attr-defined]
    else:
        merged = pos + kws
    return [(k, v) for _, k, v in merged]


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def positional(call: ast.Call, i: int) -> ast.expr | None:
    pos = [a for a in call.args if not isinstance(a, ast.Starred)]
    return pos[i] if len(pos) > i else None


#: fields that hold no statement or expression (contexts, operators) or no node at all
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_ignores", "id", "name", "attr", "arg", "asname",
                          "module", "level", "value_kind", "kind", "lineno", "col_offset", "is_async",
                          "conversion", "simple", "type_comment"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(t: type) -> tuple[str, ...]:
    got = _FIELDS.get(t)
    if got is None:
        got = _FIELDS[t] = tuple(f for f in t._fields if f not in _SKIP_FIELDS)  # type: ignore[attr-defined]
    return got


def _children(node: ast.AST) -> list[ast.AST]:
    """Child nodes in source order (``ast`` lists decorators after the body, keywords after ``*args``,
    a dict's keys before its values, a conditional's test first)."""
    t = type(node)
    if t is ast.Call:
        c: ast.Call = node  # type: ignore[assignment]
        out: list[ast.AST] = [c.func]
        if c.keywords and any(isinstance(a, ast.Starred) for a in c.args):
            out += sorted([*c.args, *c.keywords], key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
        else:
            out += c.args
            out += c.keywords
        return out
    if t is ast.Dict:
        d: ast.Dict = node  # type: ignore[assignment]
        out = []
        for k, v in zip(d.keys, d.values, strict=True):
            if k is not None:
                out.append(k)
            out.append(v)
        return out
    if t is ast.IfExp:
        e: ast.IfExp = node  # type: ignore[assignment]
        return [e.body, e.test, e.orelse]
    if t is ast.FunctionDef or t is ast.AsyncFunctionDef:
        fn: Any = node  # libcst's order: decorators, parameters, return annotation, body
        return [*fn.decorator_list, fn.args, *([fn.returns] if fn.returns is not None else []), *fn.body]
    if t is ast.ClassDef:
        cls: Any = node
        return [*cls.decorator_list, *cls.bases, *cls.keywords, *cls.body]
    if t is ast.JoinedStr:
        # an f-string's literal parts are not string literals (libcst: FormattedStringText)
        return [v for v in node.values if not isinstance(v, ast.Constant)]  # type: ignore[attr-defined]
    out = []
    for name in _fields(t):
        value: Any = getattr(node, name, None)
        if type(value) is list:
            out += [x for x in value if isinstance(x, ast.AST)]
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk(nodes: ast.AST | Sequence[ast.AST], prune: Callable[[ast.AST], bool] | None = None) -> Iterator[ast.AST]:
    """Pre-order walk in source order of ``nodes`` (a node, or a block's statements); a node for
    which ``prune`` is true is neither yielded nor entered."""
    stack: list[ast.AST] = list(reversed(nodes)) if isinstance(nodes, (list, tuple)) else [nodes]  # type: ignore[list-item]
    while stack:
        node = stack.pop()
        if prune is not None and prune(node):
            continue
        yield node
        kids = _children(node)
        if kids:
            kids.reverse()
            stack.extend(kids)


def walk_statements(stmts: Sequence[ast.stmt], enter: Callable[[ast.stmt], bool]) -> Iterator[ast.stmt]:
    """Statements of ``stmts`` and of the blocks of compound statements for which ``enter`` holds
    (``with`` items come with their statement), pre-order."""
    for stmt in stmts:
        yield stmt
        if not enter(stmt):
            continue
        for block in _blocks(stmt):
            yield from walk_statements(block, enter)


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, (ast.With, ast.AsyncWith, *FUNCS, ast.ClassDef)):
        return [stmt.body]
    if isinstance(stmt, TRY):
        t: Any = stmt
        return [t.body, *(h.body for h in t.handlers), t.orelse, t.finalbody]
    if isinstance(stmt, ast.Match):
        return [c.body for c in stmt.cases]
    return []


class ModuleSource(ImportTable):
    """One module parsed with :mod:`ast`: its tree, text, top-level imports and analysis memo."""

    def __init__(self, text: str, tree: ast.Module | None = None) -> None:
        self.text = text
        self.tree = tree if tree is not None else ast.parse(text)
        self.lines = text.split("\n")
        self._encoded: dict[int, bytes] = {}
        super().__init__()
        for stmt in self.tree.body:
            self._visit_stmt(stmt)
        self.memo: dict[Any, Any] = {}  # the analysis' per-module results (keys name their kind)
        self._calls: dict[int, tuple[object, tuple[list[ast.Call], list[ast.Call]]]] = {}

    # -- imports (as codemods.edit.pyimports.Imports) -------------------------------------------
    def _visit_stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname is not None:
                    self.names[alias.asname] = alias.name
                    self.bound.add(alias.asname)
                else:
                    self.plain_modules.add(alias.name)
                    self.bound.add(alias.name.split(".")[0])
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.level or stmt.module is None:
                return
            if stmt.names[0].name == "*":
                self.star_modules.append(stmt.module)
                return
            for alias in stmt.names:
                local = alias.asname or alias.name
                self.names[local] = f"{stmt.module}.{alias.name}"
                self.bound.add(local)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    self.bound.add(t.id)
        elif isinstance(stmt, (*FUNCS, ast.ClassDef)):
            self.bound.add(stmt.name)
        elif isinstance(stmt, ast.If):
            # libcst's block_statements: indented blocks only (`if x: import y` on one line is not)
            blocks = [stmt.body]
            orelse = stmt.orelse
            blocks.append(orelse)
            for block in blocks:
                if self.indented(block):
                    for inner in block:
                        self._visit_stmt(inner)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody):
                if self.indented(block):
                    for inner in block:
                        self._visit_stmt(inner)

    def indented(self, block: Sequence[ast.stmt]) -> bool:
        """The block starts on a line of its own (libcst: an ``IndentedBlock``, not a one-line suite)."""
        if not block:
            return False
        first = block[0]
        if isinstance(first, (*FUNCS, ast.ClassDef)) and first.decorator_list:
            first_line, col = first.decorator_list[0].lineno, first.decorator_list[0].col_offset - 1
        else:
            first_line, col = first.lineno, first.col_offset
        prefix = self._line_bytes(first_line)[:col]
        return not prefix.strip()

    def resolve(self, node: ast.AST) -> str | None:
        """Qualified name of a Name/Attribute chain, or None when it is not from an import."""
        return self.resolve_dotted(dotted(node))

    # -- text -----------------------------------------------------------------------------------
    def _line_bytes(self, lineno: int) -> bytes:
        got = self._encoded.get(lineno)
        if got is None:
            got = self._encoded[lineno] = self.lines[lineno - 1].encode("utf-8") if lineno <= len(self.lines) else b""
        return got

    def segment(self, node: ast.AST) -> str:
        """The source text of ``node`` (columns are UTF-8 offsets)."""
        n: Any = node
        if n.lineno == n.end_lineno:
            return self._line_bytes(n.lineno)[n.col_offset:n.end_col_offset].decode("utf-8", "replace")
        parts = [self._line_bytes(n.lineno)[n.col_offset:]]
        parts += [self._line_bytes(i) for i in range(n.lineno + 1, n.end_lineno)]
        parts.append(self._line_bytes(n.end_lineno)[:n.end_col_offset])
        return b"\n".join(parts).decode("utf-8", "replace")

    def lines_of(self, node: ast.AST | Sequence[ast.stmt]) -> str:
        """The whole lines ``node`` (a node with its decorators, or a block) spans: a superset of its
        text, for a quick "cannot contain" test."""
        if isinstance(node, (list, tuple)):
            if not node:
                return ""
            first_node: Any = node[0]
            last_node: Any = node[-1]
        else:
            first_node = last_node = node
        if not hasattr(first_node, "lineno"):
            return self.text  # a node without a position (the module, a parameter list)
        first = first_node.lineno
        decos = getattr(first_node, "decorator_list", None)
        if decos:
            first = min(first, decos[0].lineno)
        return self.line_text(first, last_node.end_lineno or last_node.lineno)

    def line_text(self, first: int, end: int) -> str:
        """Lines ``first``..``end`` (1-based, inclusive)."""
        return "\n".join(self.lines[first - 1:end])

    # -- memoised walks -------------------------------------------------------------------------
    def calls(self, node: ast.AST | Sequence[ast.stmt]) -> list[ast.Call]:
        """Every call in ``node`` (a node or a block), nested functions too (closures a test calls),
        not nested classes nor a class given itself."""
        return self._calls_in(node)[0]

    def all_calls(self, node: ast.AST | Sequence[ast.stmt]) -> list[ast.Call]:
        """Every call in ``node``, nested classes too."""
        return self._calls_in(node)[1]

    def _calls_in(self, node: ast.AST | Sequence[ast.stmt]) -> tuple[list[ast.Call], list[ast.Call]]:
        """``(calls, all_calls)`` of ``node``, in source order; each statement is walked once per
        module (a block, a function and the module are made of their statements' results)."""
        got = self._calls.get(id(node))
        if got is not None:
            return got[1]
        outside: list[ast.Call] = []
        every: list[ast.Call] = []
        parts: list[Any]
        if isinstance(node, (list, tuple)):
            parts = list(node)
        elif isinstance(node, ast.Module):
            parts = node.body
        elif isinstance(node, FUNCS):
            head = [*node.decorator_list, node.args, *([node.returns] if node.returns is not None else [])]
            parts = [*(self._walk_calls(h) for h in head), node.body]
        else:
            parts = [self._walk_calls(node)]  # type: ignore[arg-type]
        for part in parts:
            inner = part if isinstance(part, tuple) else self._calls_in(part)
            outside += inner[0]
            every += inner[1]
        result = (outside, every)
        self._calls[id(node)] = (node, result)  # the node is kept: its id stays its own
        return result

    @staticmethod
    def _walk_calls(node: ast.AST) -> tuple[list[ast.Call], list[ast.Call]]:
        """One walk of ``node``: its calls outside nested classes (none for a class itself), and all."""
        classes: list[ast.AST] = []
        every: list[ast.Call] = []
        for n in walk(node):
            t = type(n)
            if t is ast.Call:
                every.append(n)  # type: ignore[arg-type]
            elif t is ast.ClassDef:
                classes.append(n)
        if not classes:
            return every, every
        if node in classes:
            return [], every
        spans = [_span(c) for c in classes]
        return [c for c in every if not any(a <= (c.lineno, c.col_offset) < b for a, b in spans)], every


def _span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    n: Any = node
    first = n.decorator_list[0] if getattr(n, "decorator_list", None) else n
    return (first.lineno, first.col_offset - (1 if first is not n else 0)), (n.end_lineno, n.end_col_offset)


def string_value(node: ast.AST | None, mod: ModuleSource) -> str | bytes | None:
    """libcst's ``SimpleString.evaluated_value``: the value of one string literal; None for anything
    else (an implicit concatenation is libcst's ``ConcatenatedString``, an f-string not a literal)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))):
        return None
    pieces = string_pieces(node, mod)
    return node.value if len(pieces) == 1 else None


def string_pieces(node: ast.Constant, mod: ModuleSource) -> list[Any]:
    """The literals an (implicitly concatenated) string constant is made of, evaluated."""
    seg = mod.segment(node)
    if seg[:1] not in ("'", '"') and seg[:3].lstrip("rRbBuU")[:1] not in ("'", '"'):
        return [node.value]  # positions inside an f-string (Python 3.11) do not point at the literal
    try:
        toks = [t.string for t in tokenize.generate_tokens(io.StringIO(seg).readline) if t.type == tokenize.STRING]
        values = [ast.literal_eval(s) for s in toks]
    except (tokenize.TokenError, SyntaxError, ValueError, IndentationError):
        return [node.value]
    if not values or (values[0][:0] + values[0][:0]).join(values) != node.value:
        return [node.value]
    return values


def int_literal(node: ast.AST, mod: ModuleSource) -> int | None:
    """``int(Integer.value)`` as libcst reads an integer literal (``0x191`` does not convert: None)."""
    if not (isinstance(node, ast.Constant) and type(node.value) is int):
        return None
    seg = mod.segment(node)
    try:
        return int(seg)
    except ValueError:
        try:
            ok = ast.literal_eval(seg) == node.value
        except (SyntaxError, ValueError):
            ok = False
        return None if ok else node.value  # a position that is not the literal's: its value
