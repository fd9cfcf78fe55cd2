"""Override detection and coverage for the ``auth`` fixers: is a test already covered?

* Detection — :func:`sets_override` finds an existing override in any node (any import spelling of
  the dependency, ``[...] =``, ``.update({...})``, ``dependency_overrides = {...}``);
  :func:`patches_dependency` finds ``unittest.mock`` patches of it (left to ``auth-unpatch``).
* Scopes — :func:`scope_of` indexes the fixtures, ``usefixtures`` marks and setup functions of a
  module or class body; :func:`conftest_scopes` does it for every ``conftest.py`` up the tree (cached).
* :class:`Coverage` decides whether a test is already covered: by its body, a fixture it requests
  (transitively), an autouse fixture of its class / module / any ``conftest.py`` up the tree, or its
  class's ``setup_method``; and whether it exercises the app at all (a client, client calls).
* :func:`iter_tests` walks the pytest-collected tests with their class scopes; :func:`shadowed`
  finds a test that binds a name the override needs.

Imports libcst: the fixers import this module inside ``fix``.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import libcst as cst

from codemods.edit.pyimports import Imports, dotted_name
from codemods.fixers.auth.reach import NO_CALLS, HandDispatch

if TYPE_CHECKING:
    from codemods.fixers.auth.codegen import ModuleNames
    from codemods.fixers.auth.pattern import AuthPattern
    from codemods.fixers.auth.reach import ModuleApps, Reach

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"})
CLIENT_FACTORIES = frozenset({"TestClient", "AsyncClient"})
PATCH_FUNCS = frozenset({"patch", "patch.object", "mock.patch", "mock.patch.object",
                         "unittest.mock.patch", "unittest.mock.patch.object"})


# -- per-module memo -------------------------------------------------------------------------------


class _Facts:
    """One module's detection results, computed once per node (libcst nodes are immutable and hash by
    identity), and what its text rules out: no ``dependency_overrides`` in the text, no override;
    no ``patch``, no ``unittest.mock`` patch (every name in :data:`PATCH_FUNCS` contains it)."""

    def __init__(self) -> None:
        self.no_overrides = False
        self.no_patch = False
        self.sets: dict[tuple[cst.CSTNode, AuthPattern], bool] = {}
        self.local: dict[cst.CSTNode, dict[str, str]] = {}
        self.patches: dict[tuple[cst.CSTNode, AuthPattern], bool] = {}
        self.param_keys: dict[cst.CSTNode, set[int]] = {}


#: keyed by the module's :class:`Imports` (one per parsed module; its nodes come with it)
_FACTS: weakref.WeakKeyDictionary[Imports, _Facts] = weakref.WeakKeyDictionary()


def _facts(imports: Imports) -> _Facts:
    f = _FACTS.get(imports)
    if f is None:
        f = _FACTS[imports] = _Facts()
    return f


def note_source(imports: Imports, text: str) -> None:
    """Tell the detection what the module's text rules out (``imports`` is that module's), so that
    the walks that could only find what is not in the text are skipped."""
    f = _facts(imports)
    f.no_overrides = "dependency_overrides" not in text
    f.no_patch = "patch" not in text


# -- detection ---------------------------------------------------------------------------------------


def _is_overrides(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "dependency_overrides"


def local_imports(node: cst.CSTNode) -> dict[str, str]:
    """``{local name: qualified name}`` of the imports inside a function (LiteLLM's tests import
    ``proxy_server`` inside fixtures, after a conftest reloaded it)."""
    out: dict[str, str] = {}

    class V(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            # imports are statements: no expression holds one
            return not isinstance(n, cst.BaseExpression) and super().on_visit(n)

        def visit_Import(self, n: cst.Import) -> None:
            for a in n.names:
                full = dotted_name(a.name) or ""
                if a.asname is not None and isinstance(a.asname.name, cst.Name):
                    out[a.asname.name.value] = full

        def visit_ImportFrom(self, n: cst.ImportFrom) -> None:
            if n.relative or n.module is None or isinstance(n.names, cst.ImportStar):
                return
            mod = dotted_name(n.module) or ""
            for a in n.names:
                name = dotted_name(a.name) or ""
                local = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) else name
                out[local] = f"{mod}.{name}"

    node.visit(V())
    return out


def resolve_local(node: cst.BaseExpression, local: dict[str, str]) -> str | None:
    """Qualified name of a Name/Attribute chain through function-local imports (None: not one)."""
    d = dotted_name(node)
    if d is None:
        return None
    head, _, rest = d.partition(".")
    if head in local:
        return f"{local[head]}.{rest}" if rest else local[head]
    return None


class _OverrideFinder(HandDispatch):
    def __init__(self, imports: Imports, pattern: AuthPattern) -> None:
        self.imports = imports
        self.pattern = pattern
        self.found = False
        self.local: dict[str, str] = {}  # imports inside the node scanned

    # only assignments and calls matter, and names, literals, whitespace hold neither
    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        if t is cst.Assign:
            self.visit_Assign(node)  # type: ignore[arg-type]
        elif t is cst.Call:
            self.visit_Call(node)  # type: ignore[arg-type]
        return t not in NO_CALLS

    def is_dep(self, node: cst.BaseExpression) -> bool:
        q = resolve_local(node, self.local) or self.imports.resolve(node)
        if q is not None and q in self.pattern.dep_qualnames:
            return True
        d = dotted_name(node)
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
    facts = _facts(imports)
    if facts.no_overrides:
        return False
    key = (node, pattern)
    got = facts.sets.get(key)
    if got is None:
        local = facts.local.get(node)
        if local is None:
            local = facts.local[node] = local_imports(node)
        finder = _OverrideFinder(imports, pattern)
        finder.local = local
        node.visit(finder)
        got = facts.sets[key] = finder.found
    return got


def _writes_param_key(func: cst.FunctionDef) -> set[int]:
    """Positions of parameters a helper uses as a key of ``dependency_overrides`` (``self`` not counted)."""
    params = [p for p in param_names(func) if p not in ("self", "cls")]
    out: set[int] = set()

    class V(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            if _is_overrides(node.value):
                for el in node.slice:
                    if isinstance(el.slice, cst.Index) and isinstance(el.slice.value, cst.Name) and \
                            el.slice.value.value in params:
                        out.add(params.index(el.slice.value.value))

    func.body.visit(V())
    return out


def sets_override_deep(node: cst.CSTNode, imports: Imports, pattern: AuthPattern,
                       helpers: dict[str, cst.FunctionDef], _seen: frozenset[str] = frozenset(),
                       methods: dict[str, cst.FunctionDef] | None = None) -> bool:
    """:func:`sets_override`, following calls of the module's helper functions (and, with
    ``methods``, of the class's own ``self.helper(...)``): a helper that sets the override, or one that
    assigns ``dependency_overrides[param]`` called with the dependency."""
    if sets_override(node, imports, pattern):
        return True
    facts = _facts(imports)
    if facts.no_overrides:
        return False  # no helper of the module can set one either
    finder = _OverrideFinder(imports, pattern)
    found = False

    class V(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            nonlocal found
            f = call.func
            if found:
                return
            if isinstance(f, cst.Name) and f.value in helpers and f.value not in _seen:
                key, helper = f.value, helpers[f.value]
            elif isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and \
                    f.value.value in ("self", "cls") and methods and f.attr.value in methods and \
                    f"self.{f.attr.value}" not in _seen:
                key, helper = f"self.{f.attr.value}", methods[f.attr.value]
            else:
                return
            if helper is node:
                return
            if sets_override_deep(helper, imports, pattern, helpers, _seen | {key}, methods):
                found = True
                return
            keys = facts.param_keys.get(helper)
            if keys is None:
                keys = facts.param_keys[helper] = _writes_param_key(helper)
            if keys:
                pos = [a.value for a in call.args if a.keyword is None]
                params = [p for p in param_names(helper) if p not in ("self", "cls")]
                for i in keys:
                    if i < len(pos) and finder.is_dep(pos[i]):
                        found = True
                    for a in call.args:
                        if a.keyword is not None and a.keyword.value == params[i] and finder.is_dep(a.value):
                            found = True

    node.visit(V())
    return found


def _call_name(node: cst.BaseExpression) -> str | None:
    return dotted_name(node.func) if isinstance(node, cst.Call) else None


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
    facts = _facts(imports)
    if facts.no_patch:
        return False
    key = (func, pattern)
    got = facts.patches.get(key)
    if got is None:
        got = facts.patches[key] = _patches_dependency(func, imports, pattern)
    return got


def _patches_dependency(func: cst.FunctionDef, imports: Imports, pattern: AuthPattern) -> bool:
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
        name = dotted_name(expr) or ""
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
    if isinstance(expr, cst.Call) and (dotted_name(expr.func) or "").endswith("mark.usefixtures"):
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
            recv = dotted_name(f.value)
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
    node: cst.FunctionDef | None = None
    scope: str = "function"
    patches: bool = False  # patches the dependency with unittest.mock (FastAPI ignores that)


@dataclass
class ScopeInfo:
    """Fixtures and setup of one level (module or class)."""

    fixtures: dict[str, FixtureInfo] = field(default_factory=dict)
    usefixtures: list[str] = field(default_factory=list)
    setup_sets: str | None = None  # name of the setup function that sets the override
    body: Sequence[cst.BaseStatement] = ()  # a class's body (its client attributes, its methods)
    apps: ModuleApps | None = None  # the module's analysis (conftest scopes: their own)
    module_sets: bool = False  # a module-level statement sets the override


SETUP_NAMES = ("setup_method", "setup", "setup_class", "setUp", "setup_module", "setup_function", "setUpClass")


def scope_of(body: Sequence[cst.CSTNode], imports: Imports, pattern: AuthPattern,
             decorators: Sequence[cst.Decorator] = (), helpers: dict[str, cst.FunctionDef] | None = None) -> ScopeInfo:
    """Index the fixtures, ``usefixtures`` marks and setup functions of a module or class body.

    ``helpers``: the module's functions, followed when a fixture or setup calls one that sets the
    override (``_override_dependencies(app)``); a module body finds its own."""
    from codemods.fixers.auth.reach import fixture_scope

    if helpers is None:
        helpers = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
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
                    sets_override=sets_override_deep(stmt, imports, pattern, helpers),
                    clientish=uses_client(stmt.body, imports, pattern, count_app=True),
                    node=stmt,
                    scope=fixture_scope(stmt),
                    patches=patches_dependency(stmt, imports, pattern),
                )
            elif stmt.name.value in SETUP_NAMES and sets_override_deep(stmt, imports, pattern, helpers):
                info.setup_sets = info.setup_sets or stmt.name.value
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "pytestmark" for t in small.targets
                ):
                    info.usefixtures.extend(_usefixtures_of(small.value))
            code = cst.Module([]).code_for_node(stmt)
            if pattern.dep_attr in code and sets_override(stmt, imports, pattern):
                info.module_sets = True
    return info


@functools.lru_cache(maxsize=256)
def _conftest_scope(path: str, mtime: float, pattern: AuthPattern) -> ScopeInfo | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
        module = cst.parse_module(text)
    except Exception:  # an unreadable conftest covers nothing we can see
        return None
    from codemods.fixers.auth.reach import ModuleApps

    imports = Imports(module)
    note_source(imports, text)
    info = scope_of(module.body, imports, pattern)
    info.apps = ModuleApps(module, imports, pattern, conftest=True)
    return info


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
        if self.module_scope.module_sets:
            return "the module already overrides the auth dependency at import time"
        if self.module_scope.apps is not None:
            from codemods.fixers.auth.reach import class_env

            methods: dict[str, cst.FunctionDef] = {}
            for scope in class_scopes:
                methods.update(class_env(scope.body, self.module_scope.apps)[1])
            if sets_override_deep(func.body, self.imports, self.pattern, self.module_scope.apps.helpers,
                                  methods=methods):
                return "a helper it calls already overrides the auth dependency"
        chain = self._chain(class_scopes)
        seen: set[str] = set()
        for name in self._requested(func, class_scopes):
            hit = self._fixture_where(name, chain, seen, lambda fx: bool(fx.sets_override))
            if hit:
                return f"fixture `{hit}` already overrides the auth dependency"
        seen = set()
        for name in self._requested(func, class_scopes):
            hit = self._fixture_where(name, chain, seen, lambda fx: bool(fx.patches))
            if hit:
                return (f"fixture `{hit}` patches the auth dependency with unittest.mock (FastAPI ignores it): "
                        "make that fixture set an override")
        return None

    def _fixture_where(self, name: str, chain: list[ScopeInfo], seen: set[str],
                       found: Callable[[FixtureInfo], bool]) -> str | None:
        """The first fixture, ``name`` or one it requests (transitively), for which ``found`` holds."""
        if name in seen:
            return None
        seen.add(name)
        fx, rest = self._lookup(name, chain)
        if fx is None:
            return None
        if found(fx):
            return fx.name
        for p in fx.params:
            hit = self._fixture_where(p, rest[1:] if p == name else rest, seen, found)
            if hit:
                return hit
        return None

    # -- reachability ---------------------------------------------------------------------------
    def fixture_value(self, name: str, chain: list[ScopeInfo], seen: frozenset[str] = frozenset()) -> Any:
        """What fixture ``name`` gives (a :class:`~codemods.fixers.auth.reach.Value`) and its scope."""
        if name in seen:
            return None
        fx, rest = self._lookup(name, chain)
        if fx is None or fx.node is None:
            return None
        owner = next((s.apps for s in rest if s.apps is not None), None)
        if owner is None:
            return None
        seeds = {}
        for p in fx.params:
            got = self.fixture_value(p, rest[1:] if p == name else rest, seen | {name})
            if got is not None:
                seeds[p] = got[0]
        v = owner.returned(fx.node, seeds)
        return (v, fx.scope) if v is not None else None

    def reach(self, func: cst.FunctionDef, class_scopes: Sequence[ScopeInfo]) -> Reach:
        """Which app the test's requests reach (through its body, fixtures, class/module clients, helpers)."""
        from codemods.fixers.auth.reach import Reach, class_env

        apps = self.module_scope.apps
        assert apps is not None
        chain = self._chain(class_scopes)
        seeds = {}
        for p in param_names(func):
            got = self.fixture_value(p, chain)
            if got is not None:
                seeds[p] = got[0]
        attrs: dict[str, Any] = {}
        methods: dict[str, cst.FunctionDef] = {}
        for scope in class_scopes:
            a, m = class_env(scope.body, apps)
            attrs.update(a)
            methods.update(m)
        reached, _ = apps.reached(func, seeds, self_env=attrs, methods=methods)
        guarded = frozenset(a for a in reached if a.guarded)
        dep = self.pattern.dep_attr
        if not reached:
            return Reach(None, "it sends no request through a test client of the app (calls functions "
                               "or helpers directly, or builds no client)")
        if not guarded:
            from codemods.fixers.auth.reach import OPEN_ROUTES

            if OPEN_ROUTES in reached:
                return Reach(None, f"its requests go only to routes of the app that do not depend on `{dep}`",
                             reached)
            return Reach(None, f"its requests go to an app with no route depending on `{dep}`", reached)
        if len(guarded) > 1:
            return Reach(None, "its requests go to more than one app", guarded)
        app = next(iter(guarded))
        if app.kind == "built":
            return Reach(None, f"its app is built in {app.name}: set the override where the app is made", guarded)
        return Reach(app, None, guarded)

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
                    names.add((dotted_name(a.name) or "").split(".")[0])

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if not isinstance(node.names, cst.ImportStar):
                for a in node.names:
                    if a.asname is None:
                        names.add(dotted_name(a.name) or "")

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
    imports: Imports, pattern: AuthPattern, helpers: dict[str, cst.FunctionDef] | None = None,
) -> Iterator[tuple[cst.FunctionDef, tuple[str, ...], tuple[ScopeInfo, ...]]]:
    """Yield ``(func, classes, class_scopes)`` for pytest-collected functions and methods (fixtures
    are not tests, whatever their name)."""
    if helpers is None:
        helpers = {s.name.value: s for s in body if isinstance(s, cst.FunctionDef)}
    for stmt in body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test"):
            if fixture_decorator(stmt) is None:  # a fixture is not a test, whatever its name
                yield stmt, classes, scopes
        elif isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test") and isinstance(
            stmt.body, cst.IndentedBlock
        ):
            scope = scope_of(stmt.body.body, imports, pattern, stmt.decorators, helpers=helpers)
            scope.body = stmt.body.body
            yield from iter_tests(stmt.body.body, (*classes, stmt.name.value), (*scopes, scope),
                                  imports=imports, pattern=pattern, helpers=helpers)

