"""Reachability and refusal for the ``auth`` fixer: does a test send a request to an app whose
routes depend on the auth dependency, and does it expect that request to be refused?

* :class:`App` is an app a request can reach: the configured app (``proxy``, assumed guarded), an
  app bound at module level (``local``: ``app = FastAPI()``, ``app = create_app()``), or one built
  inside a function or a conftest (``built``: the override cannot name it from the test).
* :class:`ModuleApps` indexes one module: its apps, routers, app factories, clients and helpers.
  An app or router is *guarded* when a route depends on the dependency (``Depends(dep)`` in a
  route's parameters or ``dependencies=``), through ``include_router`` / ``mount`` / the app's own
  ``dependencies=``; routers imported from the app's package are assumed guarded.
* :meth:`ModuleApps.reached` follows a function's requests: ``client.get/post/...`` on a
  ``TestClient(app)`` / ``httpx.AsyncClient(transport=ASGITransport(app=app))`` made in the body,
  given by a fixture, bound at module or class level, or used by a helper the function calls.
* :func:`expects_refusal` reads what a test asserts: a 401/403 status (``==``, ``in``, a helper
  that asserts), ``pytest.raises(HTTPException)`` with 401/403, an asserted authentication error.

Works on :mod:`ast` trees (:mod:`codemods.fixers.auth.astnodes`); imports no libcst.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codemods.edit.bindings import ast_dotted as dotted
from codemods.fixers.auth.astnodes import (
    FUNCS,
    AnyFunc,
    ModuleSource,
    call_args,
    int_literal,
    kwarg,
    last,
    positional,
    string_pieces,
    string_value,
    walk,
    walk_statements,
)

if TYPE_CHECKING:
    from codemods.fixers.auth.pattern import AuthPattern
    from codemods.fixers.auth.routes import RouteTable

VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "stream",
                   "websocket_connect"})
ROUTE_DECORATORS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "api_route",
                              "websocket", "route", "trace"})
APP_CLASSES = frozenset({"FastAPI", "Starlette"})
ROUTER_CLASSES = frozenset({"APIRouter"})
REFUSAL_CODES = frozenset({401, 403})
REFUSAL_NAMES = frozenset({"HTTP_401_UNAUTHORIZED", "HTTP_403_FORBIDDEN"})
REFUSAL_TEXT = re.compile(
    r"authentication error|unauthori[sz]ed|missing authorization|invalid proxy server token|"
    r"no api key|not allowed to (?:access|call)|forbidden",
    re.IGNORECASE,
)
SETUP_METHODS = ("setup_method", "setup", "setup_class", "setUp", "setUpClass", "asyncSetUp")


@dataclass(frozen=True)
class App:
    """An app requests can reach. ``name``: the module-level name (local) or where it is built."""

    kind: str  # "proxy" | "local" | "built"
    name: str
    guarded: bool

    def describe(self, pattern: AuthPattern) -> str:
        if self.kind == "proxy":
            return f"`{pattern.app_target[1]}` of {pattern.app_target[0]}"
        if self.kind == "local":
            return f"the module's app `{self.name}`"
        return f"an app built in {self.name}"


@dataclass(frozen=True)
class Value:
    """What a name holds: a client or transport over an app, or an app."""

    what: str  # "client" | "transport" | "app" | "tuple" (a fixture's `yield client, mocks`)
    app: App
    items: tuple[Value | None, ...] = ()


def is_fixture(func: AnyFunc) -> bool:
    for d in func.decorator_list:
        expr = d.func if isinstance(d, ast.Call) else d
        if last(expr) == "fixture" or (dotted(expr) or "").endswith("fixture"):
            return True
    return False


def fixture_scope(func: AnyFunc, mod: ModuleSource) -> str:
    for d in func.decorator_list:
        if isinstance(d, ast.Call) and last(d.func) == "fixture":
            s = string_value(kwarg(d, "scope"), mod)
            if isinstance(s, str):
                return s
    return "function"


def _prune_functions(n: ast.AST) -> bool:
    return isinstance(n, FUNCS)


class ModuleApps:
    """One module's apps, routers, factories, module-level clients and helper functions."""

    def __init__(self, mod: ModuleSource, pattern: AuthPattern, *, conftest: bool = False,
                 routes: RouteTable | None = None) -> None:
        self.mod = mod
        self.pattern = pattern
        self.conftest = conftest
        self.routes = routes  # the configured app's route table, when its source is in the repository
        self.app_qual = ".".join(pattern.app_target)
        self.package = pattern.app_target[0].split(".", 1)[0]
        self.helpers: dict[str, AnyFunc] = {}
        self.functions: dict[str, AnyFunc] = {}
        body = mod.tree.body
        for stmt in body:
            if isinstance(stmt, FUNCS):
                self.functions[stmt.name] = stmt
                if not is_fixture(stmt) and not stmt.name.startswith("test"):
                    self.helpers[stmt.name] = stmt
        self.module_env: dict[str, Value] = {}
        self._module_body: Sequence[ast.stmt] = body
        self._memo: dict[tuple[str, frozenset[tuple[str, Value]]], frozenset[App]] = {}
        self._active: set[str] = set()
        self._class_envs: dict[int, tuple[Sequence[ast.stmt], tuple[dict[str, Value], dict[str, AnyFunc]]]] = {}
        self._depends: dict[int, tuple[ast.AST, bool]] = {}
        self.env_for_block(body, self.module_env, where="module", module_level=True)

    def calls(self, node: ast.AST | Sequence[ast.stmt]) -> list[ast.Call]:
        """The module's memoised :meth:`ModuleSource.calls`."""
        return self.mod.calls(node)

    # -- guarded ------------------------------------------------------------------------------
    def is_dep(self, node: ast.AST) -> bool:
        q = self.mod.resolve(node)
        if q is not None and q in self.pattern.dep_qualnames:
            return True
        return last(node) == self.pattern.dep_attr

    def has_dep_depends(self, node: ast.AST | None) -> bool:
        """``Depends(dep)`` / ``Security(dep)`` somewhere in ``node`` (memoised per node)."""
        if node is None:
            return False
        got = self._depends.get(id(node))
        if got is not None:
            return got[1]
        found = False
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and last(n.func) in ("Depends", "Security"):
                first = positional(n, 0) or kwarg(n, "dependency")
                if first is not None and self.is_dep(first):
                    found = True
                    break
        self._depends[id(node)] = (node, found)
        return found

    def _guarded(self, name: str, stmts: Sequence[ast.stmt], ctor: ast.Call | None,
                 env: dict[str, Value], seen: frozenset[str] = frozenset()) -> bool:
        """Does the app/router bound to ``name`` in ``stmts`` have a route depending on the dependency?"""
        if ctor is not None and self.has_dep_depends(kwarg(ctor, "dependencies")):
            return True
        for stmt in stmts:
            if isinstance(stmt, FUNCS):
                for dec in stmt.decorator_list:
                    if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and \
                            dotted(dec.func.value) == name and dec.func.attr in ROUTE_DECORATORS and \
                            (self.has_dep_depends(dec) or self.has_dep_depends(stmt.args)):
                        return True
            for call in self.calls(stmt):
                f = call.func
                if not (isinstance(f, ast.Attribute) and dotted(f.value) == name):
                    continue
                attr = f.attr
                if attr in ("include_router", "mount", "add_api_route", "add_api_websocket_route", "host"):
                    if self.has_dep_depends(kwarg(call, "dependencies")):
                        return True
                    target = positional(call, 1 if attr in ("mount", "add_api_route", "host") else 0)
                    if target is None:
                        target = kwarg(call, "router") or kwarg(call, "app") or kwarg(call, "endpoint")
                    if target is not None and self._target_guarded(target, stmts, env, seen | {name}):
                        return True
        return False

    def _target_guarded(self, target: ast.expr, stmts: Sequence[ast.stmt],
                        env: dict[str, Value], seen: frozenset[str]) -> bool:
        if isinstance(target, ast.Name) and target.id in self.functions:
            return self.has_dep_depends(self.functions[target.id].args)
        value = self.value_of(target, env)
        if value is not None and value.what == "app":
            return value.app.guarded
        d = dotted(target)
        if d is None:
            return False
        if d in seen:
            return False
        # a router bound in these statements or at module level
        for block in (stmts, self._module_body):
            ctor = _ctor_of(d, block)
            if ctor is not None:
                return self._guarded(d, block, ctor, env, seen)
        q = self.mod.resolve(target)
        # a router (or app) imported from the app's package: its routes use the dependency
        return q is not None and (q == self.app_qual or q.split(".", 1)[0] == self.package)

    # -- values --------------------------------------------------------------------------------
    def value_of(self, expr: ast.AST | None, env: dict[str, Value]) -> Value | None:
        """What ``expr`` evaluates to: an app, a client or a transport (None: none of them)."""
        if expr is None:
            return None
        if isinstance(expr, ast.Await):
            expr = expr.value
        d = dotted(expr)
        if d is not None:
            if d in env:
                return env[d]
            if d in self.module_env:
                return self.module_env[d]
            if self.mod.resolve(expr) == self.app_qual:
                return Value("app", App("proxy", "", True))
            return None
        if isinstance(expr, ast.Tuple):
            items = tuple(self.value_of(e, env) for e in expr.elts if not isinstance(e, ast.Starred))
            if any(i is not None for i in items) and len(items) == len(expr.elts):
                return Value("tuple", App("built", "a tuple", False), items)
            return None
        if isinstance(expr, ast.Call):
            name = last(expr.func)
            if name == "TestClient":
                app = self.value_of(positional(expr, 0) or kwarg(expr, "app"), env)
                return Value("client", app.app) if app is not None and app.what == "app" else None
            if name in ("AsyncClient", "Client"):
                inner = self.value_of(kwarg(expr, "app"), env)
                if inner is not None and inner.what == "app":
                    return Value("client", inner.app)
                t = self.value_of(kwarg(expr, "transport"), env)
                return Value("client", t.app) if t is not None and t.what == "transport" else None
            if name in ("ASGITransport", "WSGITransport"):
                app = self.value_of(kwarg(expr, "app") or positional(expr, 0), env)
                return Value("transport", app.app) if app is not None and app.what == "app" else None
            if name in APP_CLASSES:
                return Value("app", App("built", "a call", self.has_dep_depends(kwarg(expr, "dependencies"))))
            if isinstance(expr.func, ast.Name) and expr.func.id in self.functions:
                # a factory helper: `_client_for(_build_app())`, its arguments bound to its parameters
                func = self.functions[expr.func.id]
                return self.returned(func, _bind_args(func, expr, env, self))
        return None

    def env_for_block(self, stmts: Sequence[ast.stmt], env: dict[str, Value], *, where: str,
                      module_level: bool = False, self_env: dict[str, Value] | None = None) -> dict[str, Value]:
        """Bind the names ``stmts`` assign to apps, clients and transports (in ``env``, in place):
        statements and the blocks of compound ones, not function or class bodies."""
        for stmt in walk_statements(stmts, _not_scope):
            t = type(stmt)
            if t is ast.Assign:
                for target in stmt.targets:  # type: ignore[attr-defined]
                    self._bind(target, stmt.value, stmts, env, where, module_level, self_env)  # type: ignore[attr-defined]
            elif t is ast.AnnAssign:
                if stmt.value is not None:  # type: ignore[attr-defined]
                    self._bind(stmt.target, stmt.value, stmts, env, where, module_level, self_env)  # type: ignore[attr-defined]
            elif t is ast.With or t is ast.AsyncWith:
                for item in stmt.items:  # type: ignore[attr-defined]
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars, item.context_expr, stmts, env, where, module_level, self_env)
            elif t is ast.Import:
                if not module_level:  # `import litellm.proxy.proxy_server as ps` inside a function
                    for a in stmt.names:  # type: ignore[attr-defined]
                        if a.asname is not None:
                            self._bind_import(a.asname, a.name, env, where)
            elif t is ast.ImportFrom:
                imp: ast.ImportFrom = stmt  # type: ignore[assignment]
                if module_level or imp.level or imp.module is None or imp.names[0].name == "*":
                    continue
                for a in imp.names:
                    self._bind_import(a.asname or a.name, f"{imp.module}.{a.name}", env, where)
        return env

    def _bind_import(self, local: str, qualified: str, env: dict[str, Value], where: str) -> None:
        """A function-local import of the configured app (``from litellm.proxy import proxy_server``
        inside a fixture): ``proxy_server.app`` / ``app`` name it there. LiteLLM's tests import it
        there because a conftest reloads the module: the module-level name may be a stale app, so
        it counts as an app built there (the override belongs where it is imported)."""
        app_mod, app_attr = self.pattern.app_target
        proxy = Value("app", App("built", f"{where}, which imports it itself", True))
        if qualified == self.app_qual:
            env[local] = proxy
        elif qualified == app_mod:
            env[f"{local}.{app_attr}"] = proxy

    def _bind(self, target: ast.expr, value: ast.expr, stmts: Sequence[ast.stmt],
              env: dict[str, Value], where: str, module_level: bool, self_env: dict[str, Value] | None) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            # `client, _, mocks = client_and_mocks` (a fixture yielding a tuple) or `a, b = x, y`
            whole = self.value_of(value, env)
            elements = [e.value if isinstance(e, ast.Starred) else e for e in target.elts]
            if whole is not None and whole.what == "tuple" and len(whole.items) == len(elements):
                for element, item in zip(elements, whole.items, strict=True):
                    name = dotted(element)
                    if item is not None and name is not None:
                        env[name] = item
            return
        name = dotted(target)
        if name is None:
            return
        v = self.value_of(value, env)
        inner = value.value if isinstance(value, ast.Await) else value
        if v is not None and v.what == "app" and isinstance(inner, ast.Call) and last(inner.func) in APP_CLASSES:
            guarded = self._guarded(name, stmts, inner, env)
            kind = "local" if module_level and not self.conftest and "." not in name else "built"
            v = Value("app", App(kind, name if kind == "local" else where, guarded))
        elif v is not None and v.what == "app" and v.app.kind == "built" and module_level and not self.conftest \
                and "." not in name:
            v = Value("app", App("local", name, v.app.guarded))  # app = create_app() at module level
        if v is None:
            return
        if self_env is not None and name.startswith(("self.", "cls.")):
            self_env[name.split(".", 1)[1]] = v
        env[name] = v

    def returned(self, func: AnyFunc, seeds: dict[str, Value]) -> Value | None:
        """What a fixture or factory returns or yields (the first return or yield that gives a value)."""
        key = f"returned:{func.name}"
        if key in self._active:
            return None
        self._active.add(key)
        try:
            env = self.env_for_block(func.body, dict(seeds), where=f"`{func.name}`")
            for node in walk(func.body, _prune_functions):
                t = type(node)
                if t is ast.Return or t is ast.Yield:
                    v = self.value_of(node.value, env)  # type: ignore[attr-defined]
                    if v is not None:
                        return v
            return None
        finally:
            self._active.discard(key)

    def class_env(self, cls_body: Sequence[ast.stmt]) -> tuple[dict[str, Value], dict[str, AnyFunc]]:
        """A test class's client/app attributes (class body, ``setup_method``/``setup_class``/``setUp``
        assignments to ``self.x``/``cls.x``) and its non-test methods; once per class (callers do
        not change what it returns)."""
        got = self._class_envs.get(id(cls_body))
        if got is None:
            got = self._class_envs[id(cls_body)] = (cls_body, _class_env(cls_body, self))
        return got[1]

    # -- requests ------------------------------------------------------------------------------
    def reached(self, func: AnyFunc, seeds: dict[str, Value], *, self_env: dict[str, Value] | None = None,
                methods: dict[str, AnyFunc] | None = None) -> tuple[frozenset[App], bool]:
        """The apps ``func`` sends requests to (its helpers too) and whether it sends any request."""
        key = (func.name, frozenset(seeds.items()))
        if key in self._memo:
            known = self._memo[key]
            return known, bool(known)
        if func.name in self._active:
            return frozenset(), False
        self._active.add(func.name)
        try:
            env = dict(seeds)
            for k, v in (self_env or {}).items():
                env.setdefault(f"self.{k}", v)
                env.setdefault(f"cls.{k}", v)
            self.env_for_block(func.body, env, where=f"`{func.name}`")
            apps: set[App] = set()
            for call in self.calls(func.body):
                f = call.func
                if isinstance(f, ast.Attribute) and f.attr in VERBS:
                    recv = self.value_of(f.value, env)
                    if recv is not None and recv.what == "client":
                        if recv.app.kind == "proxy" and self.routes is not None and \
                                self.routes.guarded(*_method_path(call, f.attr, self.mod)) is False:
                            apps.add(OPEN_ROUTES)  # a route of the app without the dependency
                        else:
                            apps.add(recv.app)
                        continue
                callee: AnyFunc | None = None
                if isinstance(f, ast.Name) and f.id in self.helpers:
                    callee = self.helpers[f.id]
                elif isinstance(f, ast.Attribute) and dotted(f.value) in ("self", "cls") and methods:
                    callee = methods.get(f.attr)
                if callee is None:
                    continue
                inner_seeds = _bind_args(callee, call, env, self)
                got, _ = self.reached(callee, inner_seeds, self_env=self_env, methods=methods)
                apps |= got
            result = frozenset(apps)
            self._memo[key] = result
            return result, bool(result)
        finally:
            self._active.discard(func.name)


#: what a request to an open route of the configured app reaches: no auth
OPEN_ROUTES = App("proxy", "open routes", False)


def _not_scope(stmt: ast.stmt) -> bool:
    """Blocks :meth:`ModuleApps.env_for_block` enters: not a function's or a class's."""
    return not isinstance(stmt, (*FUNCS, ast.ClassDef))


def _method_path(call: ast.Call, verb: str, mod: ModuleSource) -> tuple[str, str]:
    """``("GET", "/path")`` of ``client.get("/path")`` / ``client.request("GET", "/path")``; the
    path is "" when it is not a literal (the route table then knows nothing)."""
    args = [a for a in call.args if not isinstance(a, ast.Starred)]
    method = verb.upper()
    if verb == "request":
        m = args[0] if args else kwarg(call, "method")
        mv = string_value(m, mod)
        method = mv.upper() if isinstance(mv, str) else ""
        args = args[1:]
    url = args[0] if args else kwarg(call, "url")
    uv = string_value(url, mod)
    path = uv if isinstance(uv, str) else ""
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return (method, path) if method and path.startswith("/") else ("", "")


def _bind_args(callee: AnyFunc, call: ast.Call, env: dict[str, Value], apps: ModuleApps) -> dict[str, Value]:
    params = [p.arg for p in (*callee.args.posonlyargs, *callee.args.args)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    seeds: dict[str, Value] = {}
    pos = [a for a in call.args if not isinstance(a, ast.Starred)]
    for name, a in zip(params, pos, strict=False):
        v = apps.value_of(a, env)
        if v is not None:
            seeds[name] = v
    for k in call.keywords:
        if k.arg is not None:
            v = apps.value_of(k.value, env)
            if v is not None:
                seeds[k.arg] = v
    return seeds


def _ctor_of(name: str, stmts: Iterable[ast.stmt]) -> ast.Call | None:
    """The ``FastAPI(...)`` / ``APIRouter(...)`` call bound to ``name`` in ``stmts``."""
    for stmt in stmts:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
                last(stmt.value.func) in APP_CLASSES | ROUTER_CLASSES and \
                any(dotted(t) == name for t in stmt.targets):
            return stmt.value
    return None


def _class_env(cls_body: Sequence[ast.stmt], apps: ModuleApps) -> tuple[dict[str, Value], dict[str, AnyFunc]]:
    attrs: dict[str, Value] = {}
    apps.env_for_block([s for s in cls_body if not isinstance(s, FUNCS)], attrs, where="the class")
    methods: dict[str, AnyFunc] = {}
    for stmt in cls_body:
        if isinstance(stmt, FUNCS):
            if stmt.name in SETUP_METHODS:
                self_env: dict[str, Value] = {}
                apps.env_for_block(stmt.body, {}, where=f"`{stmt.name}`", self_env=self_env)
                attrs.update(self_env)
            elif not stmt.name.startswith("test") and not is_fixture(stmt):
                methods[stmt.name] = stmt
    return attrs, methods


# -- refusals ---------------------------------------------------------------------------------------


def _is_refusal_literal(node: ast.AST, mod: ModuleSource) -> bool:
    if isinstance(node, ast.Constant):
        if type(node.value) is int:
            return int_literal(node, mod) in REFUSAL_CODES
        v = string_value(node, mod)
        if v is not None or isinstance(node.value, (str, bytes)):
            return isinstance(v, str) and (v.strip() in ("401", "403") or bool(REFUSAL_TEXT.search(v)))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_refusal_literal(e.value if isinstance(e, ast.Starred) else e, mod) for e in node.elts)
    return last(node) in REFUSAL_NAMES


def _refusal_in(node: ast.AST, mod: ModuleSource) -> bool:
    """A literal 401/403 (or ``HTTP_401_UNAUTHORIZED``, an auth error text) compared or asserted in ``node``."""
    for n in walk(node):
        t = type(n)
        if t is ast.Compare:
            c: ast.Compare = n  # type: ignore[assignment]
            if _is_refusal_literal(c.left, mod) or any(_is_refusal_literal(x, mod) for x in c.comparators):
                return True
        elif t is ast.Call:
            call: ast.Call = n  # type: ignore[assignment]
            if last(call.func).startswith("assert") and any(_is_refusal_literal(v, mod) for _, v in call_args(call)):
                return True
        elif t is ast.Constant:
            if isinstance(n.value, str) and any(  # type: ignore[attr-defined]
                    isinstance(p, str) and REFUSAL_TEXT.search(p) for p in string_pieces(n, mod)):  # type: ignore[arg-type]
                return True
        elif t is ast.Name:
            if n.id in REFUSAL_NAMES:  # type: ignore[attr-defined]
                return True
        elif t is ast.Attribute and n.attr in REFUSAL_NAMES:  # type: ignore[attr-defined]
            return True
    return False


def expects_refusal(func: AnyFunc, apps: ModuleApps, methods: dict[str, AnyFunc] | None = None,
                    _seen: frozenset[str] = frozenset()) -> str | None:
    """How the test shows it expects the request to be refused (None: it does not)."""
    mod = apps.mod
    what: str | None = None
    for n in walk(func, lambda x: x is not func and isinstance(x, FUNCS)):
        t = type(n)
        if t is ast.Assert:
            if _refusal_in(n.test, mod):  # type: ignore[attr-defined]
                what = "it asserts a 401/403 or an authentication error"
                break
        elif t is ast.Call:
            what = _call_refusal(n, apps, methods, _seen)  # type: ignore[arg-type]
            if what is not None:
                break
    if what is None:
        # parametrized expectations: @pytest.mark.parametrize(..., [(..., 401)]) with a status assert
        for d in func.decorator_list:
            if isinstance(d, ast.Call) and last(d.func) == "parametrize" and \
                    any(_has_refusal_code(v, mod) for _, v in call_args(d)[1:]) and _asserts_status(func, mod):
                what = "a parametrized case expects a 401/403"
    return what


def _call_refusal(n: ast.Call, apps: ModuleApps, methods: dict[str, AnyFunc] | None,
                  _seen: frozenset[str]) -> str | None:
    mod = apps.mod
    name = last(n.func)
    args = call_args(n)
    if name == "raises" and args:
        exc = last(args[0][1])
        if exc in ("HTTPException", "ProxyException", "AuthenticationError") and (
            exc == "AuthenticationError" or any(_refusal_in(v, mod) for _, v in args[1:])
        ):
            return f"it expects `pytest.raises({exc})` with a 401/403"
        return None
    if name.startswith(("assert", "assertEqual", "assertIn")) and any(_is_refusal_literal(v, mod) for _, v in args):
        return "it asserts a 401/403 through a helper"
    f = n.func
    helper: AnyFunc | None = None
    label = ""
    if isinstance(f, ast.Name) and f.id in apps.helpers and f.id not in _seen:
        helper, label = apps.helpers[f.id], f.id
    elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and \
            f.value.id in ("self", "cls") and methods and f.attr in methods and \
            f"self.{f.attr}" not in _seen:
        helper, label = methods[f.attr], f"self.{f.attr}"
    if helper is None:
        return None
    if any(_is_refusal_literal(v, mod) for _, v in args) and _asserts(helper):
        return f"it asserts a 401/403 through `{label}`"
    inner = expects_refusal(helper, apps, methods, _seen | {label})
    if inner is not None:
        return f"{inner} (in `{label}`)"
    return None


def _has_refusal_code(node: ast.AST, mod: ModuleSource) -> bool:
    return any(isinstance(n, ast.Constant) and type(n.value) is int and int_literal(n, mod) in REFUSAL_CODES
               for n in walk(node))


def _asserts(func: AnyFunc) -> bool:
    return any(isinstance(n, (ast.Assert, ast.Raise)) for n in walk(func.body))


def _asserts_status(func: AnyFunc, mod: ModuleSource) -> bool:
    return any(isinstance(n, ast.Assert) and "status" in mod.segment(n.test) for n in walk(func.body))


@dataclass
class Reach:
    """The verdict for one test: the app to override (None: leave it) and why not."""

    app: App | None
    reason: str | None = None
    apps: frozenset[App] = field(default_factory=frozenset)


def called_in_module(mod: ModuleSource) -> set[str]:
    """Names of functions called somewhere in the module (comments and strings do not count)."""
    key = "called_in_module"
    got = mod.memo.get(key)
    if got is None:
        got = mod.memo[key] = {c.func.id for c in mod.calls(mod.tree) if isinstance(c.func, ast.Name)}
    return got
