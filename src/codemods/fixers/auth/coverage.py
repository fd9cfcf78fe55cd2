"""Override detection and coverage for the ``auth`` fixer: is a test already covered?

* Detection — :func:`sets_override` finds an existing override in any node (any import spelling of
  the dependency, ``[...] =``, ``.update({...})``, ``dependency_overrides = {...}``);
  :func:`patches_dependency` finds ``unittest.mock`` patches of it (left to ``auth-unpatch``).
* Scopes — :func:`scope_of` indexes the fixtures, ``usefixtures`` marks and setup functions of a
  module or class body; :func:`conftest_scopes` does it for every ``conftest.py`` up the tree (cached).
* :class:`Coverage` decides whether a test is already covered: by its body, a fixture it requests
  (transitively), an autouse fixture of its class / module / any ``conftest.py`` up the tree, or its
  class's ``setup_method``; and which app its requests reach (:mod:`codemods.fixers.auth.reach`).
* :func:`iter_tests` walks the pytest-collected tests with their class scopes; :func:`shadowed`
  finds a test that binds a name the override needs.

Works on :mod:`ast` trees (:class:`~codemods.fixers.auth.astnodes.ModuleSource`); imports no libcst.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods.edit.bindings import ast_dotted as dotted
from codemods.fixers.auth.astnodes import (
    FUNCS,
    TRY,
    AnyFunc,
    ModuleSource,
    call_args,
    kwarg,
    string_value,
    walk,
)
from codemods.fixers.auth.pattern import PATCH_FUNCS

if TYPE_CHECKING:
    from codemods.fixers.auth.names import ModuleNames
    from codemods.fixers.auth.pattern import AuthPattern
    from codemods.fixers.auth.reach import ModuleApps, Reach


Node = ast.AST | Sequence[ast.stmt]  # a node, or a block's statements (a function's body)


# -- per-module memo -------------------------------------------------------------------------------


def _memo(mod: ModuleSource, kind: str, node: object, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per (kind, node) of the module (the node is kept: its id stays its own)."""
    key = (kind, id(node))
    got = mod.memo.get(key)
    if got is None:
        got = mod.memo[key] = (node, compute())
    return got[1]


# -- detection ---------------------------------------------------------------------------------------


def _is_overrides(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "dependency_overrides"


def local_imports(node: Node) -> dict[str, str]:
    """``{local name: qualified name}`` of the imports inside a function (LiteLLM's tests import
    ``proxy_server`` inside fixtures, after a conftest reloaded it)."""
    out: dict[str, str] = {}
    for n in walk(node, lambda x: isinstance(x, ast.expr)):  # imports are statements
        if isinstance(n, ast.Import):
            for a in n.names:
                if a.asname is not None:
                    out[a.asname] = a.name
        elif isinstance(n, ast.ImportFrom):
            if n.level or n.module is None or n.names[0].name == "*":
                continue
            for a in n.names:
                out[a.asname or a.name] = f"{n.module}.{a.name}"
    return out


def resolve_local(node: ast.AST, local: dict[str, str]) -> str | None:
    """Qualified name of a Name/Attribute chain through function-local imports (None: not one)."""
    d = dotted(node)
    if d is None:
        return None
    head, _, rest = d.partition(".")
    if head in local:
        return f"{local[head]}.{rest}" if rest else local[head]
    return None


def _subscript_keys(node: ast.Subscript) -> list[ast.expr]:
    """The index expressions of ``x[a]`` / ``x[a, b]`` (slices are not keys)."""
    s = node.slice
    items = s.elts if isinstance(s, ast.Tuple) else [s]
    return [i for i in items if not isinstance(i, ast.Slice)]


class _OverrideFinder:
    def __init__(self, mod: ModuleSource, pattern: AuthPattern, local: dict[str, str] | None = None) -> None:
        self.mod = mod
        self.pattern = pattern
        self.local = local or {}  # imports inside the node scanned

    def is_dep(self, node: ast.AST) -> bool:
        q = resolve_local(node, self.local) or self.mod.resolve(node)
        if q is not None and q in self.pattern.dep_qualnames:
            return True
        d = dotted(node)
        return d is not None and d.rsplit(".", 1)[-1] == self.pattern.dep_attr

    def _target(self, target: ast.AST) -> bool:
        if isinstance(target, ast.Subscript) and _is_overrides(target.value) and \
                any(self.is_dep(k) for k in _subscript_keys(target)):
            return True
        return _is_overrides(target)  # `app.dependency_overrides = {...}` replaces them all

    def _assign(self, node: ast.Assign) -> bool:
        if any(self._target(t) for t in node.targets):
            return True
        return any(_is_overrides(t) for t in node.targets) and isinstance(node.value, ast.Dict) and \
            any(k is not None and self.is_dep(k) for k in node.value.keys)

    def _call(self, node: ast.Call) -> bool:
        f = node.func
        # app.dependency_overrides.update({dep: ...}) / .setdefault(dep, ...) / .__setitem__(dep, ...)
        args = call_args(node)
        if isinstance(f, ast.Attribute) and _is_overrides(f.value) and args:
            first = args[0][1]
            if f.attr in ("setdefault", "__setitem__") and self.is_dep(first):
                return True
            if f.attr == "update" and isinstance(first, ast.Dict):
                return any(k is not None and self.is_dep(k) for k in first.keys)
            if f.attr == "update":
                return any(k == self.pattern.dep_attr for k, _ in args)
        return False

    def finds(self, node: Node) -> bool:
        for n in walk(node):
            t = type(n)
            if (t is ast.Assign and self._assign(n)) or (t is ast.Call and self._call(n)):  # type: ignore[arg-type]
                return True
        return False


def sets_override(node: Node, mod: ModuleSource, pattern: AuthPattern) -> bool:
    """True when ``node`` (a function, its body, a statement) sets the auth dependency's override."""
    if "dependency_overrides" not in mod.text:
        return False

    def compute() -> bool:
        # every form names the attribute: a node whose lines do not hold it sets no override
        if "dependency_overrides" not in mod.lines_of(node):
            return False
        local = _memo(mod, "local_imports", node, lambda: local_imports(node))
        return _OverrideFinder(mod, pattern, local).finds(node)

    return bool(_memo(mod, f"sets:{id(pattern)}", node, compute))


def _writes_param_key(func: AnyFunc) -> set[int]:
    """Positions of parameters a helper uses as a key of ``dependency_overrides`` (``self`` not counted)."""
    params = [p for p in param_names(func) if p not in ("self", "cls")]
    out: set[int] = set()
    for n in walk(func.body):
        if isinstance(n, ast.Subscript) and _is_overrides(n.value):
            for k in _subscript_keys(n):
                if isinstance(k, ast.Name) and k.id in params:
                    out.add(params.index(k.id))
    return out


def sets_override_deep(node: Node, mod: ModuleSource, pattern: AuthPattern,
                       helpers: dict[str, AnyFunc], _seen: frozenset[str] = frozenset(),
                       methods: dict[str, AnyFunc] | None = None) -> bool:
    """:func:`sets_override`, following calls of the module's helper functions (and, with
    ``methods``, of the class's own ``self.helper(...)``): a helper that sets the override, or one that
    assigns ``dependency_overrides[param]`` called with the dependency."""
    if sets_override(node, mod, pattern):
        return True
    if "dependency_overrides" not in mod.text:
        return False  # no helper of the module can set one either
    finder = _OverrideFinder(mod, pattern)
    for call in mod.all_calls(node):
        f = call.func
        if isinstance(f, ast.Name) and f.id in helpers and f.id not in _seen:
            key, helper = f.id, helpers[f.id]
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
                f.value.id in ("self", "cls") and methods and f.attr in methods and \
                f"self.{f.attr}" not in _seen:
            key, helper = f"self.{f.attr}", methods[f.attr]
        else:
            continue
        if helper is node:
            continue
        if sets_override_deep(helper, mod, pattern, helpers, _seen | {key}, methods):
            return True
        keys = _memo(mod, "param_keys", helper, lambda h=helper: _writes_param_key(h))  # type: ignore[misc]
        if keys:
            args = call_args(call)
            pos = [v for k, v in args if k is None]
            params = [p for p in param_names(helper) if p not in ("self", "cls")]
            for i in keys:
                if i < len(pos) and finder.is_dep(pos[i]):
                    return True
                for k, v in args:
                    if k is not None and k == params[i] and finder.is_dep(v):
                        return True
    return False


def is_patch_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func) in PATCH_FUNCS


def patch_targets_dependency(call: ast.Call, mod: ModuleSource, pattern: AuthPattern) -> bool:
    """``patch("...user_api_key_auth", ...)`` or ``patch.object(x, "user_api_key_auth", ...)``."""
    def string(value: ast.AST) -> str | None:
        text = string_value(value, mod)
        return text if isinstance(text, str) else None

    args = call_args(call)
    positional = [string(v) for k, v in args if k is None]
    target = next((string(v) for k, v in args if k == "target"), None)
    return pattern.patch_hits_dependency(dotted(call.func) or "", positional, target)


def patches_dependency(func: AnyFunc, mod: ModuleSource, pattern: AuthPattern) -> bool:
    """True when the test patches the dependency (decorator or ``with patch(...)``)."""
    if "patch" not in mod.text:
        return False  # every name in PATCH_FUNCS contains it
    return bool(_memo(mod, f"patches:{id(pattern)}", func, lambda: _patches_dependency(func, mod, pattern)))


def _patches_dependency(func: AnyFunc, mod: ModuleSource, pattern: AuthPattern) -> bool:
    if "patch" not in mod.lines_of(func):
        return False
    for d in func.decorator_list:
        if isinstance(d, ast.Call) and is_patch_call(d) and patch_targets_dependency(d, mod, pattern):
            return True
    return any(is_patch_call(n) and patch_targets_dependency(n, mod, pattern) for n in mod.all_calls(func.body))


# -- fixtures, classes, coverage ----------------------------------------------------------------------


def fixture_decorator(func: AnyFunc) -> ast.expr | None:
    for d in func.decorator_list:
        expr = d.func if isinstance(d, ast.Call) else d
        name = dotted(expr) or ""
        if name.rsplit(".", 1)[-1] == "fixture":
            return d
    return None


def param_names(func: AnyFunc) -> list[str]:
    a = func.args
    return [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]


def usefixtures(decorators: Sequence[ast.expr], mod: ModuleSource) -> list[str]:
    out: list[str] = []
    for d in decorators:
        out.extend(_usefixtures_of(d, mod))
    return out


def _usefixtures_of(expr: ast.AST, mod: ModuleSource) -> list[str]:
    out: list[str] = []
    if isinstance(expr, ast.Call) and (dotted(expr.func) or "").endswith("mark.usefixtures"):
        for _, v in call_args(expr):
            s = string_value(v, mod)
            if isinstance(s, str):
                out.append(s)
    elif isinstance(expr, (ast.List, ast.Tuple)):
        for el in expr.elts:
            out.extend(_usefixtures_of(el.value if isinstance(el, ast.Starred) else el, mod))
    return out


@dataclass
class FixtureInfo:
    name: str
    params: list[str]
    autouse: bool
    sets_override: bool
    node: AnyFunc | None = None
    scope: str = "function"
    patches: bool = False  # patches the dependency with unittest.mock (FastAPI ignores that)


@dataclass
class ScopeInfo:
    """Fixtures and setup of one level (module or class)."""

    fixtures: dict[str, FixtureInfo] = field(default_factory=dict)
    usefixtures: list[str] = field(default_factory=list)
    setup_sets: str | None = None  # name of the setup function that sets the override
    body: Sequence[ast.stmt] = ()  # a class's body (its client attributes, its methods)
    apps: ModuleApps | None = None  # the module's analysis (conftest scopes: their own)
    module_sets: bool = False  # a module-level statement sets the override


SETUP_NAMES = ("setup_method", "setup", "setup_class", "setUp", "setup_module", "setup_function", "setUpClass")
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, *TRY,
             ast.Match, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def scope_of(body: Sequence[ast.stmt], mod: ModuleSource, pattern: AuthPattern,
             decorators: Sequence[ast.expr] = (), helpers: dict[str, AnyFunc] | None = None) -> ScopeInfo:
    """Index the fixtures, ``usefixtures`` marks and setup functions of a module or class body.

    ``helpers``: the module's functions, followed when a fixture or setup calls one that sets the
    override (``_override_dependencies(app)``); a module body finds its own."""
    from codemods.fixers.auth.reach import fixture_scope

    if helpers is None:
        helpers = {s.name: s for s in body if isinstance(s, FUNCS)}
    info = ScopeInfo(usefixtures=usefixtures(decorators, mod))
    prev_end: int | None = None
    for stmt in body:
        if isinstance(stmt, FUNCS):
            deco = fixture_decorator(stmt)
            if deco is not None:
                name = stmt.name
                autouse = False
                if isinstance(deco, ast.Call):
                    n = string_value(kwarg(deco, "name"), mod)
                    if isinstance(n, str):
                        name = n
                    a = kwarg(deco, "autouse")
                    autouse = isinstance(a, ast.Constant) and a.value is True
                info.fixtures[name] = FixtureInfo(
                    name=name,
                    params=[p for p in param_names(stmt) if p not in ("self", "cls", "request")],
                    autouse=autouse,
                    sets_override=sets_override_deep(stmt, mod, pattern, helpers),
                    node=stmt,
                    scope=fixture_scope(stmt, mod),
                    patches=patches_dependency(stmt, mod, pattern),
                )
            elif stmt.name in SETUP_NAMES and sets_override_deep(stmt, mod, pattern, helpers):
                info.setup_sets = info.setup_sets or stmt.name
        elif not isinstance(stmt, _COMPOUND):
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
            ):
                info.usefixtures.extend(_usefixtures_of(stmt.value, mod))
            # the statement's lines with the comments above it (libcst's code for the line)
            first = stmt.lineno if prev_end is None else min(prev_end + 1, stmt.lineno)
            code = mod.line_text(first, stmt.end_lineno or stmt.lineno)
            if pattern.dep_attr in code and sets_override(stmt, mod, pattern):
                info.module_sets = True
        prev_end = stmt.end_lineno
    return info


@functools.lru_cache(maxsize=256)
def _conftest_scope(path: str, mtime: float, pattern: AuthPattern) -> ScopeInfo | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
        mod = ModuleSource(text)
    except Exception:  # an unreadable conftest covers nothing we can see
        return None
    from codemods.fixers.auth.reach import ModuleApps

    info = scope_of(mod.tree.body, mod, pattern)
    info.apps = ModuleApps(mod, pattern, conftest=True)
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
    """Answers "is this test already covered by an override, and which app do its requests reach?"."""

    def __init__(self, module_scope: ScopeInfo, conftests: list[ScopeInfo], mod: ModuleSource,
                 pattern: AuthPattern) -> None:
        self.module_scope = module_scope
        self.conftests = conftests
        self.mod = mod
        self.pattern = pattern

    def _chain(self, class_scopes: Sequence[ScopeInfo]) -> list[ScopeInfo]:
        return [*reversed(class_scopes), self.module_scope, *self.conftests]

    def _lookup(self, name: str, chain: list[ScopeInfo]) -> tuple[FixtureInfo | None, list[ScopeInfo]]:
        for i, scope in enumerate(chain):
            if name in scope.fixtures:
                # a fixture may request same-named fixtures from outer levels only
                return scope.fixtures[name], chain[i:]
        return None, []

    def _requested(self, func: AnyFunc, class_scopes: Sequence[ScopeInfo]) -> list[str]:
        names = [p for p in param_names(func) if p not in ("self", "cls")]
        names += usefixtures(func.decorator_list, self.mod)
        for s in self._chain(class_scopes):
            names += s.usefixtures
            names += [f.name for f in s.fixtures.values() if f.autouse]
        return names

    def class_methods(self, class_scopes: Sequence[ScopeInfo]) -> dict[str, AnyFunc]:
        """The non-test methods of the test's classes (inner classes last)."""
        apps = self.module_scope.apps
        assert apps is not None
        methods: dict[str, AnyFunc] = {}
        for scope in class_scopes:
            methods.update(apps.class_env(scope.body)[1])
        return methods

    def covered_by(self, func: AnyFunc, class_scopes: Sequence[ScopeInfo],
                   class_names: Sequence[str]) -> str | None:
        """Why the test needs no override (None when it does)."""
        if sets_override(func.body, self.mod, self.pattern):
            return "its body already overrides the auth dependency"
        for scope, cname in zip(reversed(class_scopes), reversed(list(class_names)), strict=False):
            if scope.setup_sets:
                return f"{cname}.{scope.setup_sets} already overrides the auth dependency"
        if self.module_scope.setup_sets:
            return f"{self.module_scope.setup_sets} already overrides the auth dependency"
        if self.module_scope.module_sets:
            return "the module already overrides the auth dependency at import time"
        if self.module_scope.apps is not None and sets_override_deep(
                func.body, self.mod, self.pattern, self.module_scope.apps.helpers,
                methods=self.class_methods(class_scopes)):
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

    def reach(self, func: AnyFunc, class_scopes: Sequence[ScopeInfo]) -> Reach:
        """Which app the test's requests reach (through its body, fixtures, class/module clients, helpers)."""
        from codemods.fixers.auth.reach import Reach

        apps = self.module_scope.apps
        assert apps is not None
        chain = self._chain(class_scopes)
        seeds = {}
        for p in param_names(func):
            got = self.fixture_value(p, chain)
            if got is not None:
                seeds[p] = got[0]
        attrs: dict[str, Any] = {}
        methods: dict[str, AnyFunc] = {}
        for scope in class_scopes:
            a, m = apps.class_env(scope.body)
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


def local_bindings(func: AnyFunc) -> set[str]:
    """Names a function binds itself: parameters, assignments, loop/with/except targets, imports, defs."""
    names = set(param_names(func))
    a = func.args
    for star in (a.vararg, a.kwarg):
        if star is not None:
            names.add(star.arg)

    def targets(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for el in node.elts:
                targets(el)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    def nested(node: ast.AST) -> bool:
        if isinstance(node, (*FUNCS, ast.ClassDef)):
            names.add(node.name)
            return True  # a nested function's locals are its own
        return False

    for node in walk(func.body, nested):
        t = type(node)
        if t is ast.Assign:
            for tg in node.targets:  # type: ignore[attr-defined]
                targets(tg)
        elif t in (ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor):
            targets(node.target)  # type: ignore[attr-defined]
        elif t is ast.withitem:
            if node.optional_vars is not None:  # type: ignore[attr-defined]
                targets(node.optional_vars)  # type: ignore[attr-defined]
        elif t is ast.ExceptHandler:
            if node.name:  # type: ignore[attr-defined]
                names.add(node.name)  # type: ignore[attr-defined]
        elif t is ast.Import:
            for al in node.names:  # type: ignore[attr-defined]
                names.add(al.asname if al.asname is not None else al.name.split(".")[0])
        elif t is ast.ImportFrom and node.names[0].name != "*":  # type: ignore[attr-defined]
            for al in node.names:  # type: ignore[attr-defined]
                names.add(al.asname or al.name)
    return names


def shadowed(func: AnyFunc, names: ModuleNames) -> str | None:
    """The first name the override would use that the test binds locally (None: no clash)."""
    own = local_bindings(func)
    for expr in (names.app, names.dep, names.identity, names.role_enum or ""):
        root = expr.split(".", 1)[0]
        if root and root in own:
            return root
    return None


def iter_tests(
    body: Sequence[ast.stmt], classes: tuple[str, ...] = (), scopes: tuple[ScopeInfo, ...] = (), *,
    mod: ModuleSource, pattern: AuthPattern, helpers: dict[str, AnyFunc] | None = None,
) -> Iterator[tuple[AnyFunc, tuple[str, ...], tuple[ScopeInfo, ...]]]:
    """Yield ``(func, classes, class_scopes)`` for pytest-collected functions and methods (fixtures
    are not tests, whatever their name), in the order of
    :func:`codemods.fixers.auth.codegen.iter_test_defs` on the same module's libcst tree."""
    if helpers is None:
        helpers = {s.name: s for s in body if isinstance(s, FUNCS)}
    for stmt in body:
        if isinstance(stmt, FUNCS) and stmt.name.startswith("test"):
            if fixture_decorator(stmt) is None:  # a fixture is not a test, whatever its name
                yield stmt, classes, scopes
        elif isinstance(stmt, ast.ClassDef) and stmt.name.startswith("Test") and mod.indented(stmt.body):
            scope = scope_of(stmt.body, mod, pattern, stmt.decorator_list, helpers=helpers)
            scope.body = stmt.body
            yield from iter_tests(stmt.body, (*classes, stmt.name), (*scopes, scope),
                                  mod=mod, pattern=pattern, helpers=helpers)
