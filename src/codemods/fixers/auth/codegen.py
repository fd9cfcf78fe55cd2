"""Code generation for the ``auth`` fixers: the override statements and where they go.

* :class:`ModuleNames` / :func:`module_names` — how one module can refer to the app, the dependency
  and the identity factory given its imports (``app`` vs ``ps.app``, a directly imported
  ``user_api_key_auth``), and which imports must be added; :func:`add_imports` adds them (through
  :mod:`codemods.edit.pyimports`: merged into an existing ``from`` import when there is one).
* :func:`override_code`, :func:`pop_code`, :func:`fixture_code` — the pattern as source text.
* :func:`wrap_function_body` / :func:`wrap_statements` — override / ``try:`` body / ``finally:`` pop,
  comments and docstring kept in place; :func:`add_param`, :func:`insert_fixture` and
  :func:`new_conftest` for the fixture style.

Imports libcst: the fixers import this module inside ``fix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from codemods.edit.pyimports import (
    Imports,
    ensure_from_import,
    ensure_import,
    header_end,
    is_docstring,
)
from codemods.fixers.auth.pattern import split_target

if TYPE_CHECKING:
    from codemods.fixers.auth.pattern import AuthPattern


@dataclass
class ModuleNames:
    """The expressions a module uses for the pattern, and the imports still to add."""

    app: str
    dep: str
    identity: str
    role_enum: str | None
    from_imports: dict[str, list[str]] = field(default_factory=dict)  # module -> names to add
    module_imports: list[tuple[str, str]] = field(default_factory=list)  # (module, alias)

    def override_value(self, pattern: AuthPattern) -> str:
        """``lambda: UserAPIKeyAuth(user_role=..., user_id="...")`` as source text."""
        args = []
        if pattern.role_arg and pattern.role and self.role_enum:
            args.append(f"{pattern.role_arg}={self.role_enum}.{pattern.role}")
        if pattern.user_id_arg:
            args.append(f"{pattern.user_id_arg}={_string_literal(pattern.user_id)}")
        return f"lambda: {self.identity}({', '.join(args)})"


def _string_literal(value: str) -> str:
    """A double-quoted Python string literal (as black/ruff format it)."""
    if '"' in value or "\\" in value or not value.isprintable():
        return repr(value)
    return f'"{value}"'


def module_names(imports: Imports, pattern: AuthPattern, *, need_identity: bool = True) -> ModuleNames:
    """Decide the expressions for this module, adding imports only where none can be reused."""
    from_add: dict[str, list[str]] = {}
    mod_add: list[tuple[str, str]] = []
    taken = set(imports.bound)

    def via_from(module: str, attr: str) -> str:
        if attr not in taken:
            from_add.setdefault(module, []).append(attr)
            taken.add(attr)
            return attr
        return via_alias(module, attr)

    def via_alias(module: str, attr: str) -> str:
        for local, q in imports.names.items():
            if q == module:
                return f"{local}.{attr}"
        for m, alias in mod_add:
            if m == module:
                return f"{alias}.{attr}"
        alias = pattern.module_alias
        n = 1
        while alias in taken:
            n += 1
            alias = f"{pattern.module_alias}{n}"
        taken.add(alias)
        mod_add.append((module, alias))
        return f"{alias}.{attr}"

    app_mod, app_attr = pattern.app_target
    app = imports.local_for(app_mod, app_attr) or via_from(app_mod, app_attr)
    dep_mod, dep_attr = pattern.dep_target
    dep = imports.local_for(dep_mod, dep_attr, pattern.dep_qualnames)
    if dep is None:
        dep = via_from(dep_mod, dep_attr)
    identity = role = ""
    if need_identity:
        id_mod, id_attr = split_target(pattern.identity)
        identity = imports.local_for(id_mod, id_attr) or via_from(id_mod, id_attr)
        if pattern.role_enum and pattern.role_arg and pattern.role:
            r_mod, r_attr = split_target(pattern.role_enum)
            role = imports.local_for(r_mod, r_attr) or via_from(r_mod, r_attr)
    from_sorted = {mod: sorted(attrs) for mod, attrs in from_add.items()}
    return ModuleNames(app, dep, identity, role or None, from_sorted, mod_add)


def add_imports(module: cst.Module, names: ModuleNames) -> cst.Module:
    """Add the missing imports: merged into an existing ``from m import ...`` when there is one
    (:func:`~codemods.edit.pyimports.ensure_from_import`), ``import m as alias`` after the import
    header (:func:`~codemods.edit.pyimports.ensure_import`)."""
    for mod, attrs in names.from_imports.items():
        module, _ = ensure_from_import(module, mod, attrs)
    for mod, alias in names.module_imports:
        module, _ = ensure_import(module, mod, alias)
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


def first_def_index(body: Sequence[cst.CSTNode]) -> int:
    """Index of the first top-level def/class (where a new fixture goes), else the end."""
    for i, stmt in enumerate(body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return i
    return len(body)


# -- statements ----------------------------------------------------------------------------------------


def override_code(names: ModuleNames, pattern: AuthPattern, value: str | None = None) -> str:
    """LiteLLM's override statement as source (the value wrapped on its own lines when long)."""
    value = value if value is not None else names.override_value(pattern)
    target = f"{names.app}.dependency_overrides[{names.dep}]"
    if value.startswith("lambda: ") and value.endswith(")") and "(" in value:
        head, _, args = value.partition("(")
        args = args[:-1]
        if args and len(target) + len(value) + 3 > 88:
            return f"{target} = {head}(\n    {args}\n)\n"
    return f"{target} = {value}\n"


def pop_code(names: ModuleNames) -> str:
    return f"{names.app}.dependency_overrides.pop({names.dep}, None)\n"


def parse_statements(code: str, module: cst.Module) -> list[cst.BaseStatement]:
    """Statements parsed with the module's own newline and indentation."""
    parsed = cst.parse_module(code, config=module.config_for_parsing)
    return list(parsed.body)


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
) -> list[cst.BaseStatement]:
    """``override`` + ``try: <stmts> finally: pop``: the statements keep their comments and order."""
    override = parse_statements(override_code(names, pattern, value), module)
    pop = parse_statements(pop_code(names), module)
    try_node = cst.Try(
        body=cst.IndentedBlock(body=list(stmts), footer=list(footer), indent=indent),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=pop, indent=indent)),
    )
    return [*override, try_node]


def wrap_function_body(func: cst.FunctionDef, names: ModuleNames, pattern: AuthPattern,
                       module: cst.Module, value: str | None = None) -> cst.FunctionDef:
    """Wrap a test's body in the override pattern; the docstring stays first."""
    block = body_block(func, module)
    stmts = list(block.body)
    head: list[cst.BaseStatement] = []
    if stmts and is_docstring(stmts[0]):
        head = [stmts.pop(0)]
    if not stmts:  # only a docstring: nothing to guard
        return func
    first = stmts[0]
    # comments above the first statement stay above the override
    leading = list(getattr(first, "leading_lines", ()))
    if leading:
        stmts[0] = first.with_changes(leading_lines=[])
    wrapped = wrap_statements(stmts, block.footer, names, pattern, module, value, indent=block.indent)
    wrapped[0] = wrapped[0].with_changes(leading_lines=leading)
    new_block = block.with_changes(body=[*head, *wrapped], footer=[])
    return func.with_changes(body=new_block)


def fixture_code(names: ModuleNames, pattern: AuthPattern, pytest_name: str = "pytest") -> str:
    """The module/conftest fixture that sets the override and pops it after ``yield``."""
    override = override_code(names, pattern)
    body = "".join("    " + line + "\n" for line in override.rstrip("\n").split("\n"))
    return (
        f"@{pytest_name}.fixture\n"
        f"def {pattern.fixture_name}():\n"
        f"{body}"
        f"    yield\n"
        f"    {pop_code(names)}"
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


def insert_fixture(module: cst.Module, code: str, *, at_end: bool = False) -> cst.Module:
    """Insert a fixture before the first top-level def/class (or at the end of a conftest)."""
    stmts = parse_statements(code, module)
    body: list[Any] = list(module.body)
    at = len(body) if at_end else first_def_index(body)
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
