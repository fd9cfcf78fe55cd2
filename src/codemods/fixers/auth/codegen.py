"""Code generation for the ``auth`` fixers: the override statements and where they go.

* :func:`add_imports` adds the imports :func:`~codemods.fixers.auth.names.module_names` found
  missing (through :mod:`codemods.edit.pyimports`: merged into an existing ``from`` import when
  there is one).
* :func:`override_code`, :func:`pop_code`, :func:`fixture_code` — the pattern as source text.
* :func:`wrap_function_body` / :func:`wrap_statements` — override / ``try:`` body / ``finally:`` pop,
  comments and docstring kept in place; :func:`add_param`, :func:`insert_fixture` and
  :func:`new_conftest` for the fixture style; :func:`iter_test_defs` finds the tests in the libcst
  tree in the order the :mod:`ast` analysis saw them.

Imports libcst: the fixers import this module inside ``fix``, for the modules that get an edit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import libcst as cst

from codemods.edit.pyimports import (
    dotted_name,
    ensure_from_import,
    ensure_import,
    header_end,
    is_docstring,
)
from codemods.fixers.auth.names import ModuleNames

if TYPE_CHECKING:
    from codemods.edit.importorder import ImportOrder
    from codemods.fixers.auth.pattern import AuthPattern


def add_imports(module: cst.Module, names: ModuleNames, *, order: ImportOrder | None = None,
                line_length: int | None = None) -> cst.Module:
    """Add the missing imports: merged, sorted, into an existing ``from m import ...`` when there is
    one (:func:`~codemods.edit.pyimports.ensure_from_import`), else a new statement where isort puts
    it with ``order``; ``import m as alias`` likewise (:func:`~codemods.edit.pyimports.ensure_import`).
    ``line_length``: a ``from`` import that no longer fits is wrapped."""
    for mod, attrs in names.from_imports.items():
        module, _ = ensure_from_import(module, mod, attrs, order=order, line_length=line_length)
    for mod, alias in names.module_imports:
        module, _ = ensure_import(module, mod, alias, order=order)
    return _two_blank_lines_after_imports(module)


def _two_blank_lines_after_imports(module: cst.Module) -> cst.Module:
    """A def/class right after the imports gets the two blank lines PEP 8 asks for."""
    at = header_end(module, include_setup=False)
    body = list(module.body)
    if 0 < at < len(body) and isinstance(body[at], (cst.FunctionDef, cst.ClassDef)):
        lead = list(body[at].leading_lines)
        blank = 0
        while blank < len(lead) and lead[blank].comment is None:
            blank += 1
        if blank < 2:
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()] * (2 - blank) + lead)
            return module.with_changes(body=body)
    return module


def first_def_index(body: Sequence[cst.CSTNode], after: str | None = None) -> int:
    """Index of the first top-level def/class (where a new fixture goes), else the end; with
    ``after``, the first one after the statement that binds that name (the module's app)."""
    start = 0
    if after is not None:
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(small, (cst.Assign, cst.AnnAssign)) and after in _target_names(small)
                for small in stmt.body
            ):
                start = i + 1
                break
    for i, stmt in enumerate(body[start:], start):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return i
    return len(body)


def _target_names(node: cst.Assign | cst.AnnAssign) -> set[str]:
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    return {t.value for t in targets if isinstance(t, cst.Name)}


# -- statements ----------------------------------------------------------------------------------------


def override_code(names: ModuleNames, pattern: AuthPattern, value: str | None = None, column: int = 0) -> str:
    """LiteLLM's override statement as source, in the project's line length (``column``: where the
    statement starts): one line, else the arguments on their own line, else one per line."""
    limit = pattern.line_length - column
    value = value if value is not None else names.override_value(pattern)
    target = f"{names.app}.dependency_overrides[{names.dep}]"
    head = value.partition("(")[0] if value.endswith(")") else ""  # `= (` when nothing is called
    if len(f"{target} = {head}(") > limit and len(f"{target} = {value}") > limit and "\n" not in value:
        # the subscript itself is too long (`litellm.proxy.proxy_server.app...`): black splits it first
        return f"{names.app}.dependency_overrides[\n    {names.dep}\n" + _assign("]", value, limit)
    return _assign(target, value, limit)


def _assign(target: str, value: str, limit: int) -> str:
    """``target = value`` as black lays it out within ``limit`` columns."""
    one = f"{target} = {value}"
    if len(one) <= limit or "\n" in value:
        return one + "\n"
    if value.startswith("lambda: ") and value.endswith(")") and "(" in value:
        head, _, args = value.partition("(")
        args = args[:-1]
        if args and len(f"{target} = {head}(") <= limit:
            if len(args) + 4 <= limit:
                return f"{target} = {head}(\n    {args}\n)\n"
            parts = _split_args(args)
            return f"{target} = {head}(\n" + "".join(f"    {a},\n" for a in parts) + ")\n"
    if len(f"    {value}") <= limit:
        return f"{target} = (\n    {value}\n)\n"
    return one + "\n"  # nothing shorter a formatter would write


def _split_args(args: str) -> list[str]:
    """Top-level comma-separated arguments of a call's argument text."""
    out, depth, cur, quote = [], 0, "", ""
    for ch in args:
        if quote:
            cur += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def pop_code(names: ModuleNames, pattern: AuthPattern | None = None, column: int = 0) -> str:
    one = f"{names.app}.dependency_overrides.pop({names.dep}, None)"
    if pattern is not None and len(one) > pattern.line_length - column:
        return f"{names.app}.dependency_overrides.pop(\n    {names.dep}, None\n)\n"
    return one + "\n"


def parse_statements(code: str, module: cst.Module) -> list[cst.BaseStatement]:
    """Statements parsed with the module's own newline and indentation (libcst nodes are
    immutable: the same override statements are parsed once per run)."""
    return list(_parse_statements(code, module.encoding, module.default_indent, module.default_newline))


@functools.lru_cache(maxsize=256)
def _parse_statements(code: str, encoding: str, indent: str, newline: str) -> tuple[cst.BaseStatement, ...]:
    config = cst.PartialParserConfig(encoding=encoding, default_indent=indent, default_newline=newline)
    return tuple(cst.parse_module(code, config=config).body)


def body_block(func: cst.FunctionDef | cst.With, module: cst.Module) -> cst.IndentedBlock:
    """The function's body as an indented block (a one-line ``def f(): x`` becomes one)."""
    body = func.body
    if isinstance(body, cst.IndentedBlock):
        return body
    assert isinstance(body, cst.SimpleStatementSuite)
    return cst.IndentedBlock(body=[cst.SimpleStatementLine(body=body.body)],
                             header=body.trailing_whitespace)


def wrap_statements(
    stmts: Sequence[cst.BaseStatement], footer: Sequence[cst.EmptyLine], names: ModuleNames,
    pattern: AuthPattern, module: cst.Module, value: str | None = None, indent: str | None = None,
    column: int = 4, shift: bool = True, continuations: bool = True,
) -> list[cst.BaseStatement]:
    """``override`` + ``try: <stmts> finally: pop``: the statements keep their comments and order;
    their continuation lines move with them. ``column``: where the override starts;
    ``continuations=False``: the module's text holds no backslash continuation (none to move)."""
    step = len((indent if indent is not None else module.default_indent).expandtabs())
    override = parse_statements(override_code(names, pattern, value, column), module)
    pop = parse_statements(pop_code(names, pattern, column + step), module)
    if shift:  # the statements move one level deeper
        more = indent if indent is not None else module.default_indent
        stmts = [split_pushed_lines(reindent_continuations(s, more) if continuations else s,
                                    pattern.line_length, column + step, step) for s in stmts]
    try_node = cst.Try(
        body=cst.IndentedBlock(body=list(stmts), footer=list(footer), indent=indent),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=pop, indent=indent)),
    )
    return [*override, try_node]


def _pw(extra: str) -> cst.ParenthesizedWhitespace:
    """A line break inside brackets, then the block's indentation plus ``extra``."""
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                       last_line=cst.SimpleWhitespace(extra))


def _last_bracket(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The expression whose brackets end ``expr`` (black splits a long line at its last bracket
    pair): a call with arguments or a non-empty list/tuple/set/dict literal."""
    while True:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        elif isinstance(expr, cst.Comparison) and expr.comparisons:
            expr = expr.comparisons[-1].comparator
        elif isinstance(expr, cst.BinaryOperation):
            expr = expr.right
        else:
            break
    if expr.lpar or expr.rpar:
        return None
    if isinstance(expr, cst.Call) and expr.args:
        return expr
    if isinstance(expr, (cst.List, cst.Set, cst.Dict)) and expr.elements:
        return expr
    return None


def _split_bracket(node: cst.BaseExpression, one_line: bool) -> cst.BaseExpression:
    """``node``'s contents on their own line (``one_line``), else one per line with a trailing comma."""
    items: list[cst.CSTNode] = list(node.args if isinstance(node, cst.Call) else node.elements)  # type: ignore[attr-defined]
    out = []
    for i, item in enumerate(items):
        last = i == len(items) - 1
        if one_line:
            comma = cst.MaybeSentinel.DEFAULT if last else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        else:
            comma = cst.Comma(whitespace_after=_pw("" if last else "    "))
        item = item.with_changes(comma=comma)
        if isinstance(item, cst.Arg):
            item = item.with_changes(whitespace_after_arg=_pw("") if last and one_line else cst.SimpleWhitespace(""))
        out.append(item)
    if isinstance(node, cst.Call):
        return node.with_changes(args=out, whitespace_before_args=_pw("    "))
    opening = {cst.List: "lbracket", cst.Set: "lbrace", cst.Dict: "lbrace"}[type(node)]
    closing = {cst.List: "rbracket", cst.Set: "rbrace", cst.Dict: "rbrace"}[type(node)]
    changes = {
        "elements": out,
        opening: getattr(node, opening).with_changes(whitespace_after=_pw("    ")),
    }
    if one_line:
        changes[closing] = getattr(node, closing).with_changes(whitespace_before=_pw(""))
    return node.with_changes(**changes)


class _SplitPushed(cst.CSTTransformer):
    """:func:`split_pushed_lines`' transformer (a module-level class: libcst checks
    ``isinstance(visitor, CSTVisitor)`` at every node, and for a class made per call that check misses
    the ABC cache and walks every visitor class alive)."""

    def __init__(self, limit: int, column: int, step: int) -> None:
        super().__init__()
        self.depth = 0
        self.limit = limit
        self.column = column
        self.step = step

    def on_visit(self, node: cst.CSTNode) -> bool:
        # only statement lines change: never walk into an expression or a line's contents
        # (leave_SimpleStatementLine still runs, with the line as it is)
        if isinstance(node, (cst.BaseExpression, cst.SimpleStatementLine)):
            return False
        return super().on_visit(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        self.depth -= 1
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        limit, step = self.limit, self.step
        col = self.column + self.depth * step
        text = cst.Module([]).code_for_node(updated.with_changes(leading_lines=[])).rstrip("\r\n")
        if "\n" in text or "#" in text or not col - step + len(text) <= limit < col + len(text) or \
                len(updated.body) != 1:
            return updated
        small = updated.body[0]
        value = small.value if isinstance(small, (cst.Assign, cst.AugAssign, cst.Expr, cst.Return)) else \
            small.test if isinstance(small, cst.Assert) and small.msg is None else None
        target = _last_bracket(value) if isinstance(value, cst.BaseExpression) else None
        if target is None:
            return updated
        inner = cst.Module([]).code_for_node(_split_bracket(target, True))
        body_line = inner.split("\n")[1].strip() if "\n" in inner else ""
        # black keeps a call's arguments on one line when they fit; a collection literal of
        # more than one item is exploded, one per line
        many = not isinstance(target, cst.Call) and len(target.elements) > 1  # type: ignore[attr-defined]
        one_line = bool(body_line) and col + step + len(body_line) <= limit and not many
        new = _split_bracket(target, one_line)
        head = text[: text.find(cst.Module([]).code_for_node(target))] + \
            cst.Module([]).code_for_node(new).split("\n")[0]
        if col + len(head) > limit:
            return updated
        replaced = updated.deep_replace(target, new)
        return replaced if isinstance(replaced, cst.SimpleStatementLine) else updated


class FunctionRewriter(cst.CSTTransformer):
    """Rewrites the module- and class-level functions of a module with ``rewrite(original, updated,
    depth)`` (``depth``: how many classes enclose it); never walks into bodies of functions or
    statements, where no test lives. A module-level class, as :class:`_SplitPushed` is."""

    def __init__(self, rewrite: Callable[[cst.FunctionDef, cst.FunctionDef, int], cst.FunctionDef]) -> None:
        super().__init__()
        self.depth = 0
        self.rewrite = rewrite

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.ClassDef):
            self.depth += 1
        return isinstance(node, (cst.Module, cst.ClassDef, cst.IndentedBlock))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self.rewrite(original, updated, self.depth)


def split_pushed_lines(stmt: cst.BaseStatement, limit: int, column: int, step: int) -> cst.BaseStatement:
    """Lines the ``try:`` pushed past ``limit`` (they fitted one level less deep) split as black
    splits them at their last bracket pair: the contents on their own line, else one item per line
    with a trailing comma. Other lines (already too long, strings, comments) are left as written."""

    return stmt.visit(_SplitPushed(limit, column, step))  # type: ignore[return-value]


def _is_scope_decl(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Global, cst.Nonlocal)) for s in stmt.body)


def wrap_function_body(func: cst.FunctionDef, names: ModuleNames, pattern: AuthPattern,
                       module: cst.Module, value: str | None = None, depth: int = 1,
                       continuations: bool = True) -> cst.FunctionDef:
    """Wrap a test's body in the override pattern; the docstring and ``global``/``nonlocal``
    declarations stay first. ``depth``: the body's indentation level (1 for a module-level test);
    ``continuations``: as :func:`wrap_statements` takes it."""
    block = body_block(func, module)
    stmts = list(block.body)
    head: list[cst.BaseStatement] = []
    if stmts and is_docstring(stmts[0]):
        head = [stmts.pop(0)]
    while stmts and _is_scope_decl(stmts[0]):
        head.append(stmts.pop(0))
    if not stmts:  # only a docstring: nothing to guard
        return func
    first = stmts[0]
    # comments above the first statement stay above the override
    leading = list(getattr(first, "leading_lines", ()))
    if leading:
        stmts[0] = first.with_changes(leading_lines=[])
    step = len((block.indent if block.indent is not None else module.default_indent).expandtabs())
    wrapped = wrap_statements(stmts, block.footer, names, pattern, module, value, indent=block.indent,
                              column=depth * step, continuations=continuations)
    wrapped[0] = wrapped[0].with_changes(leading_lines=leading)
    new_block = block.with_changes(body=[*head, *wrapped], footer=[])
    return func.with_changes(body=new_block)


def reindent_continuations(stmt: cst.BaseStatement, shift: str) -> cst.BaseStatement:
    """Backslash continuation lines indented by ``shift`` more, as their statement is: libcst keeps
    their whitespace as written (lines inside brackets it re-indents itself). Strings are left alone."""

    if "\\\n" not in cst.Module([]).code_for_node(stmt):
        return stmt  # no continuation line: nothing to do (printing is cheaper than a transformer walk)
    return stmt.visit(_Reindent(shift))  # type: ignore[return-value]


class _Reindent(cst.CSTTransformer):
    """:func:`reindent_continuations`' transformer (module level: see :class:`_SplitPushed`)."""

    def __init__(self, shift: str) -> None:
        super().__init__()
        self.shift = shift

    def leave_SimpleWhitespace(self, original: cst.SimpleWhitespace,
                               updated: cst.SimpleWhitespace) -> cst.SimpleWhitespace:
        if "\\\n" in updated.value:
            return updated.with_changes(value=updated.value.replace("\\\n", "\\\n" + self.shift))
        return updated


def fixture_code(names: ModuleNames, pattern: AuthPattern, pytest_name: str = "pytest") -> str:
    """The module/conftest fixture that sets the override and pops it after ``yield``."""
    override = override_code(names, pattern, column=4)
    body = "".join("    " + line + "\n" for line in override.rstrip("\n").split("\n"))
    return (
        f"@{pytest_name}.fixture\n"
        f"def {pattern.fixture_name}():\n"
        f"{body}"
        "    yield\n"
        + "".join("    " + line + "\n" for line in pop_code(names, pattern, 4).rstrip("\n").split("\n"))
    )


# -- fixture style -------------------------------------------------------------------------------------


def add_param(func: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """Request fixture ``name``: a new parameter before the first one with a default."""
    params = list(func.params.params)
    at = next((i for i, p in enumerate(params) if p.default is not None), len(params))
    new = cst.Param(cst.Name(name))
    if at == len(params) and params and isinstance(params[-1].comma, cst.Comma):
        # multi-line layout with a trailing comma: same separators as the others
        last = params[-1]
        inner = params[-2].comma if len(params) > 1 and isinstance(params[-2].comma, cst.Comma) else cst.Comma(
            whitespace_after=func.whitespace_before_params)
        params[-1] = last.with_changes(comma=inner)
        new = new.with_changes(comma=last.comma)
    elif at < len(params):
        # take the separator that precedes the parameter we insert before (keeps multi-line layout)
        before = params[at - 1].comma if at > 0 else None
        ws = before.whitespace_after if isinstance(before, cst.Comma) else func.whitespace_before_params
        if at == 0:
            func = func.with_changes(whitespace_before_params=ws)
        new = new.with_changes(comma=cst.Comma(whitespace_after=ws))
    params.insert(at, new)
    return func.with_changes(params=func.params.with_changes(params=params))


def fit_signature(func: cst.FunctionDef, limit: int, column: int = 0) -> cst.FunctionDef:
    """A one-line signature longer than ``limit`` (the ``def`` starting at ``column``) laid out as
    black does: the parameters on their own line, else one per line with a trailing comma."""
    if func.params.star_arg is not cst.MaybeSentinel.DEFAULT or func.params.kwonly_params or \
            func.params.star_kwarg is not None or func.params.posonly_params:
        return func  # keep to the plain shape tests have
    stub = func.with_changes(body=cst.SimpleStatementSuite(body=[cst.Pass()]), decorators=[], leading_lines=[])
    header = cst.Module([]).code_for_node(stub).rstrip("\n")
    header = header[: -len(" pass")] if header.endswith(" pass") else header
    params = list(func.params.params)
    if "\n" in header or column + len(header) <= limit or not params:
        return func

    def line(extra: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                           last_line=cst.SimpleWhitespace(extra))

    one_line = [p.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                               whitespace_after_param=cst.SimpleWhitespace("")) for p in params[:-1]]
    one_line.append(params[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT,
                                            whitespace_after_param=cst.SimpleWhitespace("")))
    inner = cst.Module([]).code_for_node(func.params.with_changes(params=one_line))
    if column + 4 + len(inner) <= limit:  # def f(\n    a, b\n):
        params = [*one_line[:-1], one_line[-1].with_changes(whitespace_after_param=line(""))]
    else:  # one per line, trailing comma
        params = [p.with_changes(comma=cst.Comma(whitespace_after=line("    ")), whitespace_after_param=cst.SimpleWhitespace(""))
                  for p in params[:-1]] + [params[-1].with_changes(comma=cst.Comma(whitespace_after=line("")),
                                                                   whitespace_after_param=cst.SimpleWhitespace(""))]
    return func.with_changes(whitespace_before_params=line("    "), params=func.params.with_changes(params=params))


def insert_fixture(module: cst.Module, code: str, *, at_end: bool = False, after: str | None = None) -> cst.Module:
    """Insert a fixture before the first top-level def/class (or at the end of a conftest);
    ``after``: the first def/class after the binding of that name (the module's own app)."""
    stmts = parse_statements(code, module)
    body: list[Any] = list(module.body)
    at = len(body) if at_end else first_def_index(body, after)
    blank = [cst.EmptyLine(), cst.EmptyLine()] if at > 0 else []
    stmts[0] = stmts[0].with_changes(leading_lines=blank)
    if at < len(body):
        nxt = body[at]
        lead = list(nxt.leading_lines)
        n_blank = 0
        while n_blank < len(lead) and lead[n_blank].comment is None:
            n_blank += 1
        if n_blank < 2:
            body[at] = nxt.with_changes(leading_lines=[cst.EmptyLine()] * (2 - n_blank) + lead)
    body[at:at] = stmts
    return module.with_changes(body=body)


def new_conftest(names: ModuleNames, pattern: AuthPattern) -> str:
    """A new conftest.py: docstring, sorted imports, the fixture."""
    lines = ['"""Shared fixtures (the auth override was added by stabfix)."""', "", "import pytest", ""]
    lines += [f"import {mod} as {alias}" for mod, alias in names.module_imports]
    lines += [f"from {mod} import {', '.join(sorted(attrs))}" for mod, attrs in sorted(names.from_imports.items())]
    return "\n".join(lines) + "\n\n\n" + fixture_code(names, pattern, "pytest")


def iter_test_defs(body: Sequence[cst.BaseStatement], classes: tuple[str, ...] = ()
                   ) -> Iterator[tuple[cst.FunctionDef, tuple[str, ...]]]:
    """``(func, classes)`` of the pytest-collected functions and methods of a libcst tree (fixtures
    are not tests, whatever their name), in the order of
    :func:`codemods.fixers.auth.coverage.iter_tests` on the same module's :mod:`ast` tree."""
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test"):
            if not any((dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                        or "").rsplit(".", 1)[-1] == "fixture" for d in stmt.decorators):
                yield stmt, classes
        elif isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test") and isinstance(
            stmt.body, cst.IndentedBlock
        ):
            yield from iter_test_defs(stmt.body.body, (*classes, stmt.name.value))
