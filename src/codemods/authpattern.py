"""The FastAPI auth-override pattern shared by the ``auth`` and ``auth-unpatch`` fixers.

Three jobs:

* :class:`AuthPattern` — what to write, configurable for any FastAPI project (defaults: LiteLLM's
  ``app.dependency_overrides[ps.user_api_key_auth] = lambda: UserAPIKeyAuth(...)`` / ``pop``).
* :class:`ModuleNames` — how one module can refer to the app, the dependency and the identity
  factory given its imports (``app`` vs ``ps.app``, a directly imported ``user_api_key_auth``), and
  which imports must be added (merged into an existing ``from`` import when there is one).
* Detection — :func:`sets_override` finds an existing override in any node (any import spelling of
  the dependency, ``[...] =``, ``.update({...})``, ``dependency_overrides = {...}``);
  :class:`ModuleInfo` indexes a module's fixtures, classes and ``usefixtures`` marks, and
  :class:`Coverage` decides whether a test is already covered: by its body, a fixture it requests
  (transitively), an autouse fixture of its class / module / any ``conftest.py`` up the tree, or
  its class's ``setup_method``.

Everything here imports libcst lazily through the callers (fixers import this module inside
``fix``), so ``stabfix list`` stays fast.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from .errors import FileFailure

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"})
CLIENT_FACTORIES = frozenset({"TestClient", "AsyncClient"})
PATCH_FUNCS = frozenset({"patch", "patch.object", "mock.patch", "mock.patch.object",
                         "unittest.mock.patch", "unittest.mock.patch.object"})


def split_target(spec: str) -> tuple[str, str]:
    """``"pkg.mod:attr"`` or ``"pkg.mod.attr"`` -> ``("pkg.mod", "attr")``."""
    if ":" in spec:
        module, _, attr = spec.partition(":")
    else:
        module, _, attr = spec.rpartition(".")
    if not module or not attr:
        raise ValueError(spec)
    return module, attr


@dataclass(frozen=True)
class AuthPattern:
    """The override to write and to recognise. Targets are ``module:attr`` (or dotted) strings."""

    app: str = "litellm.proxy.proxy_server:app"
    dependency: str = "litellm.proxy.proxy_server:user_api_key_auth"
    dependency_aliases: tuple[str, ...] = ("litellm.proxy.auth.user_api_key_auth:user_api_key_auth",)
    identity: str = "litellm.proxy._types:UserAPIKeyAuth"
    role_enum: str = "litellm.proxy._types:LitellmUserRoles"
    role_arg: str = "user_role"
    role: str = "PROXY_ADMIN"
    user_id_arg: str = "user_id"
    user_id: str = "test-user"
    module_alias: str = "ps"
    fixture_name: str = "override_user_api_key_auth"

    @classmethod
    def from_options(cls, opts: Any) -> AuthPattern:
        """Build from a fixer's Options (fields of the same names); bad targets raise FileFailure-free errors."""
        from .errors import ConfigError

        values: dict[str, Any] = {}
        for f in cls.__dataclass_fields__:
            if hasattr(opts, f):
                v = getattr(opts, f)
                values[f] = tuple(v) if isinstance(v, list) else v
        pattern = cls(**values)
        for key in ("app", "dependency", "identity", *(("role_enum",) if pattern.role_enum else ())):
            try:
                split_target(getattr(pattern, key))
            except ValueError:
                raise ConfigError(
                    f"[tool.stabfix.auth] `{key.replace('_', '-')}` must look like `package.module:name`, "
                    f"got {getattr(pattern, key)!r}"
                ) from None
        for alias in pattern.dependency_aliases:
            try:
                split_target(alias)
            except ValueError:
                raise ConfigError(
                    f"[tool.stabfix.auth] `dependency-aliases` entries must look like `package.module:name`, "
                    f"got {alias!r}"
                ) from None
        return pattern

    @property
    def app_target(self) -> tuple[str, str]:
        return split_target(self.app)

    @property
    def dep_target(self) -> tuple[str, str]:
        return split_target(self.dependency)

    @functools.cached_property
    def dep_qualnames(self) -> frozenset[str]:
        names = {".".join(split_target(self.dependency))}
        names.update(".".join(split_target(a)) for a in self.dependency_aliases)
        return frozenset(names)

    @property
    def dep_attr(self) -> str:
        return self.dep_target[1]


# -- imports ----------------------------------------------------------------------------------------


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_name(node: cst.ImportFrom) -> str | None:
    if node.relative:
        return None
    return dotted(node.module) if node.module is not None else None


class Imports:
    """A module's top-level bindings: imported names -> qualified names, plus other bound names."""

    def __init__(self, module: cst.Module) -> None:
        self.names: dict[str, str] = {}  # local name -> qualified name
        self.plain_modules: set[str] = set()  # `import a.b.c` (usable as a.b.c)
        self.bound: set[str] = set()  # every top-level name bound by anything
        self.from_nodes: dict[str, cst.ImportFrom] = {}  # module -> first `from module import ...`
        self.star_modules: list[str] = []
        for stmt in module.body:
            self._visit_stmt(stmt)

    def _visit_stmt(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted(alias.name) or ""
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            self.names[alias.asname.name.value] = full
                            self.bound.add(alias.asname.name.value)
                        else:
                            self.plain_modules.add(full)
                            self.bound.add(full.split(".")[0])
                elif isinstance(small, cst.ImportFrom):
                    mod = _module_name(small)
                    if mod is None:
                        continue
                    if isinstance(small.names, cst.ImportStar):
                        self.star_modules.append(mod)
                        continue
                    self.from_nodes.setdefault(mod, small)
                    for alias in small.names:
                        name = dotted(alias.name) or ""
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
            # `try: import x except ImportError: ...` and `if TYPE_CHECKING:` blocks
            for inner in _block_statements(stmt):
                self._visit_stmt(inner)

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """Qualified name of a Name/Attribute chain, or None when it is not from an import."""
        d = dotted(node)
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


def _block_statements(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct child statements of a compound statement (all branches)."""
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
    (:func:`codemods.imports.ensure_from_import`), ``import m as alias`` after the import header."""
    from .imports import ensure_from_import, header_end

    for mod, attrs in names.from_imports.items():
        module, _ = ensure_from_import(module, mod, attrs)
    for mod, alias in names.module_imports:
        stmt = cst.SimpleStatementLine([
            cst.Import([cst.ImportAlias(_attr_chain(mod), asname=cst.AsName(cst.Name(alias)))])
        ])
        body = list(module.body)
        at = header_end(module, include_setup=False)
        if at == 0 and body and _is_docstring(body[0]):
            at = 1
        body.insert(at, stmt)
        module = module.with_changes(body=body)
    return _two_blank_lines_after_imports(module)


def _two_blank_lines_after_imports(module: cst.Module) -> cst.Module:
    """A def/class right after the imports gets the two blank lines PEP 8 asks for."""
    from .imports import header_end

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


def _attr_chain(name: str) -> cst.Attribute | cst.Name:
    parts = name.split(".")
    node: cst.Attribute | cst.Name = cst.Name(parts[0])
    for p in parts[1:]:
        node = cst.Attribute(node, cst.Name(p))
    return node


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def first_def_index(body: Sequence[cst.CSTNode]) -> int:
    """Index of the first top-level def/class (where a new fixture goes), else the end."""
    for i, stmt in enumerate(body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return i
    return len(body)


# -- detection ---------------------------------------------------------------------------------------


def _is_overrides(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "dependency_overrides"


class _OverrideFinder(cst.CSTVisitor):
    def __init__(self, imports: Imports, pattern: AuthPattern) -> None:
        self.imports = imports
        self.pattern = pattern
        self.found = False

    def is_dep(self, node: cst.BaseExpression) -> bool:
        q = self.imports.resolve(node)
        if q is not None and q in self.pattern.dep_qualnames:
            return True
        d = dotted(node)
        return d is not None and d.rsplit(".", 1)[-1] == self.pattern.dep_attr

    def _check_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript) and _is_overrides(target.value):
            for el in target.slice:
                if isinstance(el.slice, cst.Index) and self.is_dep(el.slice.value):
                    self.found = True
        if _is_overrides(target):
            self.found = True  # `app.dependency_overrides = {...}` replaces them all

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._check_target(t.target)
        if any(_is_overrides(t.target) for t in node.targets) and isinstance(node.value, cst.Dict):
            self.found = self.found or any(
                isinstance(e, cst.DictElement) and self.is_dep(e.key) for e in node.value.elements
            )

    def visit_Call(self, node: cst.Call) -> None:
        f = node.func
        # app.dependency_overrides.update({dep: ...}) / .setdefault(dep, ...) / .__setitem__(dep, ...)
        if isinstance(f, cst.Attribute) and _is_overrides(f.value) and node.args:
            first = node.args[0].value
            if f.attr.value in ("setdefault", "__setitem__") and self.is_dep(first):
                self.found = True
            elif f.attr.value == "update" and isinstance(first, cst.Dict):
                if any(isinstance(e, cst.DictElement) and self.is_dep(e.key) for e in first.elements):
                    self.found = True
            elif f.attr.value == "update":
                for a in node.args:
                    if a.keyword is not None and a.keyword.value == self.pattern.dep_attr:
                        self.found = True


def sets_override(node: cst.CSTNode, imports: Imports, pattern: AuthPattern) -> bool:
    """True when ``node`` (a function, a class, a module) sets the auth dependency's override."""
    finder = _OverrideFinder(imports, pattern)
    node.visit(finder)
    return finder.found


def _call_name(node: cst.BaseExpression) -> str | None:
    return dotted(node.func) if isinstance(node, cst.Call) else None


def is_patch_call(node: cst.BaseExpression) -> bool:
    name = _call_name(node)
    return name is not None and name in PATCH_FUNCS


def patch_targets_dependency(call: cst.Call, imports: Imports, pattern: AuthPattern) -> bool:
    """``patch("...user_api_key_auth", ...)`` or ``patch.object(x, "user_api_key_auth", ...)``."""
    name = _call_name(call) or ""
    args = [a for a in call.args if a.keyword is None]
    if name.endswith("object"):
        if len(args) >= 2 and isinstance(args[1].value, cst.SimpleString):
            attr = args[1].value.evaluated_value
            return attr == pattern.dep_attr
        return False
    target = args[0].value if args else None
    if target is None:
        for a in call.args:
            if a.keyword is not None and a.keyword.value == "target":
                target = a.value
    if isinstance(target, cst.SimpleString):
        value = target.evaluated_value
        return isinstance(value, str) and (value in pattern.dep_qualnames or value.rsplit(".", 1)[-1] == pattern.dep_attr)
    return False


def patches_dependency(func: cst.FunctionDef, imports: Imports, pattern: AuthPattern) -> bool:
    """True when the test patches the dependency (decorator or ``with patch(...)``)."""
    for d in func.decorators:
        if isinstance(d.decorator, cst.Call) and is_patch_call(d.decorator) and patch_targets_dependency(
            d.decorator, imports, pattern
        ):
            return True
    found = False

    class V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            nonlocal found
            if is_patch_call(node) and patch_targets_dependency(node, imports, pattern):
                found = True

    func.body.visit(V())
    return found


# -- fixtures, classes, coverage ----------------------------------------------------------------------


def fixture_decorator(func: cst.FunctionDef) -> cst.Decorator | None:
    for d in func.decorators:
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        name = dotted(expr) or ""
        if name.rsplit(".", 1)[-1] == "fixture":
            return d
    return None


def param_names(func: cst.FunctionDef) -> list[str]:
    p = func.params
    return [x.name.value for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def _kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    return None


def usefixtures(decorators: Sequence[cst.Decorator]) -> list[str]:
    out: list[str] = []
    for d in decorators:
        out.extend(_usefixtures_of(d.decorator))
    return out


def _usefixtures_of(expr: cst.BaseExpression) -> list[str]:
    out: list[str] = []
    if isinstance(expr, cst.Call) and (dotted(expr.func) or "").endswith("mark.usefixtures"):
        for a in expr.args:
            if isinstance(a.value, cst.SimpleString) and isinstance(a.value.evaluated_value, str):
                out.append(a.value.evaluated_value)
    elif isinstance(expr, (cst.List, cst.Tuple)):
        for el in expr.elements:
            out.extend(_usefixtures_of(el.value))
    return out


class _ClientUse(cst.CSTVisitor):
    """Does a body use a test client or call the app module's functions?"""

    def __init__(self, imports: Imports, pattern: AuthPattern) -> None:
        self.imports = imports
        self.pattern = pattern
        self.clients: set[str] = set()
        self.found = False
        self.app_mod = pattern.app_target[0]
        self.skip = {".".join(pattern.app_target), *pattern.dep_qualnames}

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, (cst.Call, cst.Await)) and self._is_factory(node.value):
            for t in node.targets:
                if isinstance(t.target, cst.Name):
                    self.clients.add(t.target.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if self._is_factory(node.item) and node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.clients.add(node.asname.name.value)

    def _is_factory(self, expr: cst.BaseExpression) -> bool:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        name = _call_name(expr)
        return name is not None and name.rsplit(".", 1)[-1] in CLIENT_FACTORIES

    def visit_Call(self, node: cst.Call) -> None:
        if self._is_factory(node):
            self.found = True
            return
        f = node.func
        if isinstance(f, cst.Attribute) and f.attr.value in HTTP_VERBS:
            recv = dotted(f.value)
            if recv is not None:
                last = recv.rsplit(".", 1)[-1]
                if recv in self.clients or "client" in last.lower():
                    self.found = True
                    return
        q = self.imports.resolve(f)
        if q is not None and q.startswith(self.app_mod + ".") and not any(
            q == s or q.startswith(s + ".") for s in self.skip
        ):
            self.found = True

    def visit_Name(self, node: cst.Name) -> None:
        q = self.imports.resolve(node)
        if q is not None and q == ".".join(self.pattern.app_target):
            self.found = True


def uses_client(node: cst.CSTNode, imports: Imports, pattern: AuthPattern, *, count_app: bool = False) -> bool:
    v = _ClientUse(imports, pattern)
    if not count_app:
        v.visit_Name = lambda node: None  # type: ignore[method-assign]
    node.visit(v)
    return v.found


@dataclass
class FixtureInfo:
    name: str
    params: list[str]
    autouse: bool
    sets_override: bool
    clientish: bool


@dataclass
class ScopeInfo:
    """Fixtures and setup of one level (module or class)."""

    fixtures: dict[str, FixtureInfo] = field(default_factory=dict)
    usefixtures: list[str] = field(default_factory=list)
    setup_sets: str | None = None  # name of the setup function that sets the override


SETUP_NAMES = ("setup_method", "setup", "setup_class", "setUp", "setup_module", "setup_function", "setUpClass")


def scope_of(body: Sequence[cst.CSTNode], imports: Imports, pattern: AuthPattern,
             decorators: Sequence[cst.Decorator] = ()) -> ScopeInfo:
    """Index the fixtures, ``usefixtures`` marks and setup functions of a module or class body."""
    info = ScopeInfo(usefixtures=usefixtures(decorators))
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef):
            deco = fixture_decorator(stmt)
            if deco is not None:
                name = stmt.name.value
                autouse = False
                if isinstance(deco.decorator, cst.Call):
                    n = _kwarg(deco.decorator, "name")
                    if isinstance(n, cst.SimpleString) and isinstance(n.evaluated_value, str):
                        name = n.evaluated_value
                    a = _kwarg(deco.decorator, "autouse")
                    autouse = isinstance(a, cst.Name) and a.value == "True"
                info.fixtures[name] = FixtureInfo(
                    name=name,
                    params=[p for p in param_names(stmt) if p not in ("self", "cls", "request")],
                    autouse=autouse,
                    sets_override=sets_override(stmt.body, imports, pattern),
                    clientish=uses_client(stmt.body, imports, pattern, count_app=True),
                )
            elif stmt.name.value in SETUP_NAMES and sets_override(stmt.body, imports, pattern):
                info.setup_sets = info.setup_sets or stmt.name.value
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "pytestmark" for t in small.targets
                ):
                    info.usefixtures.extend(_usefixtures_of(small.value))
    return info


@functools.lru_cache(maxsize=256)
def _conftest_scope(path: str, mtime: float, pattern: AuthPattern) -> ScopeInfo | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
        module = cst.parse_module(text)
    except Exception:  # an unreadable conftest covers nothing we can see
        return None
    return scope_of(module.body, Imports(module), pattern)


def conftest_paths(test_file: Path, root: Path) -> list[Path]:
    """``conftest.py`` files from the test's folder up to the root, nearest first."""
    out = []
    folder = test_file.parent
    while True:
        c = folder / "conftest.py"
        if c.is_file() and c != test_file:
            out.append(c)
        if folder == root or root not in folder.parents:
            break
        folder = folder.parent
    return out


def conftest_scopes(test_file: Path, root: Path, pattern: AuthPattern) -> list[ScopeInfo]:
    scopes = []
    for c in conftest_paths(test_file, root):
        s = _conftest_scope(str(c), c.stat().st_mtime, pattern)
        if s is not None:
            scopes.append(s)
    return scopes


class Coverage:
    """Answers "is this test already covered by an override, and does it use a client?"."""

    def __init__(self, module_scope: ScopeInfo, conftests: list[ScopeInfo], imports: Imports,
                 pattern: AuthPattern) -> None:
        self.module_scope = module_scope
        self.conftests = conftests
        self.imports = imports
        self.pattern = pattern

    def _chain(self, class_scopes: Sequence[ScopeInfo]) -> list[ScopeInfo]:
        return [*reversed(class_scopes), self.module_scope, *self.conftests]

    def _lookup(self, name: str, chain: list[ScopeInfo]) -> tuple[FixtureInfo | None, list[ScopeInfo]]:
        for i, scope in enumerate(chain):
            if name in scope.fixtures:
                # a fixture may request same-named fixtures from outer levels only
                return scope.fixtures[name], chain[i:]
        return None, []

    def _requested(self, func: cst.FunctionDef, class_scopes: Sequence[ScopeInfo]) -> list[str]:
        names = [p for p in param_names(func) if p not in ("self", "cls")]
        names += usefixtures(func.decorators)
        for s in self._chain(class_scopes):
            names += s.usefixtures
            names += [f.name for f in s.fixtures.values() if f.autouse]
        return names

    def covered_by(self, func: cst.FunctionDef, class_scopes: Sequence[ScopeInfo],
                   class_names: Sequence[str]) -> str | None:
        """Why the test needs no override (None when it does)."""
        if sets_override(func.body, self.imports, self.pattern):
            return "its body already overrides the auth dependency"
        for scope, cname in zip(reversed(class_scopes), reversed(list(class_names)), strict=False):
            if scope.setup_sets:
                return f"{cname}.{scope.setup_sets} already overrides the auth dependency"
        if self.module_scope.setup_sets:
            return f"{self.module_scope.setup_sets} already overrides the auth dependency"
        chain = self._chain(class_scopes)
        seen: set[str] = set()
        for name in self._requested(func, class_scopes):
            hit = self._fixture_sets(name, chain, seen)
            if hit:
                return f"fixture `{hit}` already overrides the auth dependency"
        return None

    def _fixture_sets(self, name: str, chain: list[ScopeInfo], seen: set[str]) -> str | None:
        if name in seen:
            return None
        seen.add(name)
        fx, rest = self._lookup(name, chain)
        if fx is None:
            return None
        if fx.sets_override:
            return fx.name
        for p in fx.params:
            inner = rest[1:] if p == name else rest
            hit = self._fixture_sets(p, inner, seen)
            if hit:
                return hit
        return None

    def fixture_defined(self, name: str) -> bool:
        return any(name in s.fixtures for s in [self.module_scope, *self.conftests])

    def exercises_app(self, func: cst.FunctionDef, class_scopes: Sequence[ScopeInfo]) -> bool:
        """The test uses a TestClient, a client fixture, client calls or the app module's functions."""
        if uses_client(func.body, self.imports, self.pattern):
            return True
        chain = self._chain(class_scopes)
        seen: set[str] = set()
        return any(self._clientish(p, chain, seen) for p in self._requested(func, class_scopes))

    def _clientish(self, name: str, chain: list[ScopeInfo], seen: set[str]) -> bool:
        if name in seen:
            return False
        seen.add(name)
        fx, rest = self._lookup(name, chain)
        if fx is None:
            return "client" in name.lower()
        if fx.clientish:
            return True
        return any(self._clientish(p, rest[1:] if p == name else rest, seen) for p in fx.params)


def local_bindings(func: cst.FunctionDef) -> set[str]:
    """Names a function binds itself: parameters, assignments, loop/with/except targets, imports, defs."""
    names = set(param_names(func))
    p = func.params
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)

    def targets(node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for el in node.elements:
                targets(el.value)
        elif isinstance(node, cst.StarredElement):
            targets(node.value)

    class V(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                targets(t.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            targets(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            targets(node.target)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            targets(node.target)

        def visit_For(self, node: cst.For) -> None:
            targets(node.target)

        def visit_AsName(self, node: cst.AsName) -> None:
            targets(node.name)  # with ... as x, except E as x, import a as x

        def visit_Import(self, node: cst.Import) -> None:
            for a in node.names:
                if a.asname is None:
                    names.add((dotted(a.name) or "").split(".")[0])

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if not isinstance(node.names, cst.ImportStar):
                for a in node.names:
                    if a.asname is None:
                        names.add(dotted(a.name) or "")

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            names.add(node.name.value)
            return False  # a nested function's locals are its own

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            names.add(node.name.value)
            return False

    func.body.visit(V())
    return names


def shadowed(func: cst.FunctionDef, names: ModuleNames) -> str | None:
    """The first name the override would use that the test binds locally (None: no clash)."""
    own = local_bindings(func)
    for expr in (names.app, names.dep, names.identity, names.role_enum or ""):
        root = expr.split(".", 1)[0]
        if root and root in own:
            return root
    return None


def iter_tests(
    body: Any, classes: tuple[str, ...] = (), scopes: tuple[ScopeInfo, ...] = (), *,
    imports: Imports, pattern: AuthPattern,
) -> Iterator[tuple[cst.FunctionDef, tuple[str, ...], tuple[ScopeInfo, ...]]]:
    """Yield ``(func, classes, class_scopes)`` for pytest-collected functions and methods."""
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test"):
            yield stmt, classes, scopes
        elif isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test") and isinstance(
            stmt.body, cst.IndentedBlock
        ):
            scope = scope_of(stmt.body.body, imports, pattern, stmt.decorators)
            yield from iter_tests(stmt.body.body, (*classes, stmt.name.value), (*scopes, scope),
                                  imports=imports, pattern=pattern)


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
    if stmts and _is_docstring(stmts[0]):
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


def parse_or_fail(text: str) -> cst.Module:
    """Parse a module; a syntax error is this file's failure (reported, file untouched)."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise FileFailure(
            f"syntax error: {exc.message}; fix the file and run again", line=exc.raw_line
        ) from None
