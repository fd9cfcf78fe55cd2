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

Imports libcst: the fixer imports this module inside ``fix``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from codemods.edit.pyimports import Imports, dotted_name

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


def _last(node: cst.BaseExpression) -> str:
    d = dotted_name(node) or ""
    return d.rsplit(".", 1)[-1]


def _kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for a in call.args:
        if a.keyword is not None and a.keyword.value == name:
            return a.value
    return None


def _positional(call: cst.Call, i: int) -> cst.BaseExpression | None:
    pos = [a.value for a in call.args if a.keyword is None and not a.star]
    return pos[i] if len(pos) > i else None


def _statements(body: cst.BaseSuite | Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return list(body)  # type: ignore[arg-type]


def is_fixture(func: cst.FunctionDef) -> bool:
    for d in func.decorators:
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        if _last(expr) == "fixture" or (dotted_name(expr) or "").endswith("fixture"):
            return True
    return False


def fixture_scope(func: cst.FunctionDef) -> str:
    for d in func.decorators:
        if isinstance(d.decorator, cst.Call) and _last(d.decorator.func) == "fixture":
            s = _kwarg(d.decorator, "scope")
            if isinstance(s, cst.SimpleString) and isinstance(s.evaluated_value, str):
                return s.evaluated_value
    return "function"


class ModuleApps:
    """One module's apps, routers, factories, module-level clients and helper functions."""

    def __init__(self, module: cst.Module, imports: Imports, pattern: AuthPattern, *, conftest: bool = False,
                 routes: RouteTable | None = None) -> None:
        self.imports = imports
        self.pattern = pattern
        self.conftest = conftest
        self.routes = routes  # the configured app's route table, when its source is in the repository
        self.app_qual = ".".join(pattern.app_target)
        self.package = pattern.app_target[0].split(".", 1)[0]
        self.helpers: dict[str, cst.FunctionDef] = {}
        self.functions: dict[str, cst.FunctionDef] = {}
        body = list(module.body)
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                self.functions[stmt.name.value] = stmt
                if not is_fixture(stmt) and not stmt.name.value.startswith("test"):
                    self.helpers[stmt.name.value] = stmt
        self.module_env: dict[str, Value] = {}
        self._calls_of: dict[cst.CSTNode, list[cst.Call]] = {}  # node -> its calls, walked once
        self._memo: dict[tuple[str, frozenset[tuple[str, Value]]], frozenset[App]] = {}
        self._active: set[str] = set()
        self.env_for_block(body, self.module_env, where="module", module_level=True)

    def calls(self, node: cst.CSTNode) -> list[cst.Call]:
        """:func:`_calls` of one of the module's nodes, memoised: every app binding checks the module's
        statements for its routes, every test and helper is followed once per set of seeds."""
        got = self._calls_of.get(node)
        if got is None:
            got = self._calls_of[node] = _calls(node)
        return got

    # -- guarded ------------------------------------------------------------------------------
    def is_dep(self, node: cst.BaseExpression) -> bool:
        q = self.imports.resolve(node)
        if q is not None and q in self.pattern.dep_qualnames:
            return True
        return _last(node) == self.pattern.dep_attr

    def has_dep_depends(self, node: cst.CSTNode | None) -> bool:
        """``Depends(dep)`` / ``Security(dep)`` somewhere in ``node``."""
        if node is None:
            return False
        found = False
        outer = self

        class V(cst.CSTVisitor):
            def visit_Call(self, n: cst.Call) -> None:
                nonlocal found
                if _last(n.func) in ("Depends", "Security"):
                    first = _positional(n, 0) or _kwarg(n, "dependency")
                    if first is not None and outer.is_dep(first):
                        found = True

        node.visit(V())
        return found

    def _guarded(self, name: str, stmts: Sequence[cst.BaseStatement], ctor: cst.Call | None,
                 env: dict[str, Value], seen: frozenset[str] = frozenset()) -> bool:
        """Does the app/router bound to ``name`` in ``stmts`` have a route depending on the dependency?"""
        if ctor is not None and self.has_dep_depends(_kwarg(ctor, "dependencies")):
            return True
        for stmt in stmts:
            if isinstance(stmt, cst.FunctionDef):
                for d in stmt.decorators:
                    dec = d.decorator
                    if isinstance(dec, cst.Call) and isinstance(dec.func, cst.Attribute) and \
                            dotted_name(dec.func.value) == name and dec.func.attr.value in ROUTE_DECORATORS and \
                            (self.has_dep_depends(dec) or self.has_dep_depends(stmt.params)):
                        return True
            for call in self.calls(stmt):
                f = call.func
                if not (isinstance(f, cst.Attribute) and dotted_name(f.value) == name):
                    continue
                attr = f.attr.value
                if attr in ("include_router", "mount", "add_api_route", "add_api_websocket_route", "host"):
                    if self.has_dep_depends(_kwarg(call, "dependencies")):
                        return True
                    target = _positional(call, 1 if attr in ("mount", "add_api_route", "host") else 0)
                    if target is None:
                        target = _kwarg(call, "router") or _kwarg(call, "app") or _kwarg(call, "endpoint")
                    if target is not None and self._target_guarded(target, stmts, env, seen | {name}):
                        return True
        return False

    def _target_guarded(self, target: cst.BaseExpression, stmts: Sequence[cst.BaseStatement],
                        env: dict[str, Value], seen: frozenset[str]) -> bool:
        if isinstance(target, cst.Name) and target.value in self.functions:
            return self.has_dep_depends(self.functions[target.value].params)
        value = self.value_of(target, env)
        if value is not None and value.what == "app":
            return value.app.guarded
        d = dotted_name(target)
        if d is None:
            return False
        if d in seen:
            return False
        # a router bound in these statements or at module level
        for block in (stmts, self._module_stmts_for(d)):
            ctor = _ctor_of(d, block)
            if ctor is not None:
                return self._guarded(d, block, ctor, env, seen)
        q = self.imports.resolve(target)
        # a router (or app) imported from the app's package: its routes use the dependency
        return q is not None and (q == self.app_qual or q.split(".", 1)[0] == self.package)

    def _module_stmts_for(self, name: str) -> Sequence[cst.BaseStatement]:
        body: Sequence[cst.BaseStatement] = self.__dict__.get("_module_body", [])
        return body

    # -- values --------------------------------------------------------------------------------
    def value_of(self, expr: cst.BaseExpression | None, env: dict[str, Value]) -> Value | None:
        """What ``expr`` evaluates to: an app, a client or a transport (None: none of them)."""
        if expr is None:
            return None
        if isinstance(expr, cst.Await):
            expr = expr.expression
        d = dotted_name(expr)
        if d is not None:
            if d in env:
                return env[d]
            if d in self.module_env:
                return self.module_env[d]
            if self.imports.resolve(expr) == self.app_qual:
                return Value("app", App("proxy", "", True))
            return None
        if isinstance(expr, cst.Tuple):
            items = tuple(self.value_of(e.value, env) for e in expr.elements
                          if not isinstance(e, cst.StarredElement))
            if any(i is not None for i in items) and len(items) == len(expr.elements):
                return Value("tuple", App("built", "a tuple", False), items)
            return None
        if isinstance(expr, cst.Call):
            last = _last(expr.func)
            if last == "TestClient":
                app = self.value_of(_positional(expr, 0) or _kwarg(expr, "app"), env)
                return Value("client", app.app) if app is not None and app.what == "app" else None
            if last in ("AsyncClient", "Client"):
                inner = self.value_of(_kwarg(expr, "app"), env)
                if inner is not None and inner.what == "app":
                    return Value("client", inner.app)
                t = self.value_of(_kwarg(expr, "transport"), env)
                return Value("client", t.app) if t is not None and t.what == "transport" else None
            if last in ("ASGITransport", "WSGITransport"):
                app = self.value_of(_kwarg(expr, "app") or _positional(expr, 0), env)
                return Value("transport", app.app) if app is not None and app.what == "app" else None
            if last in APP_CLASSES:
                return Value("app", App("built", "a call", self.has_dep_depends(_kwarg(expr, "dependencies"))))
            if isinstance(expr.func, cst.Name) and expr.func.value in self.functions:
                # a factory helper: `_client_for(_build_app())`, its arguments bound to its parameters
                func = self.functions[expr.func.value]
                return self.returned(func, _bind_args(func, expr, env, self))
        return None

    def env_for_block(self, stmts: Sequence[cst.BaseStatement], env: dict[str, Value], *, where: str,
                      module_level: bool = False, self_env: dict[str, Value] | None = None) -> dict[str, Value]:
        """Bind the names ``stmts`` assign to apps, clients and transports (in ``env``, in place)."""
        if module_level:
            self.__dict__["_module_body"] = list(stmts)
        outer = self

        class V(cst.CSTVisitor):
            def on_visit(self, node: cst.CSTNode) -> bool:
                # what binds a name is a statement (or a `with` item): no expression holds one
                return not isinstance(node, cst.BaseExpression) and super().on_visit(node)

            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return False

            def visit_ClassDef(self, node: cst.ClassDef) -> bool:
                return False

            def visit_Assign(self, node: cst.Assign) -> None:
                for t in node.targets:
                    outer._bind(t.target, node.value, stmts, env, where, module_level, self_env)

            def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
                if node.value is not None:
                    outer._bind(node.target, node.value, stmts, env, where, module_level, self_env)

            def visit_WithItem(self, node: cst.WithItem) -> None:
                if node.asname is not None:
                    outer._bind(node.asname.name, node.item, stmts, env, where, module_level, self_env)

            def visit_Import(self, node: cst.Import) -> None:
                if not module_level:  # `import litellm.proxy.proxy_server as ps` inside a function
                    for a in node.names:
                        if a.asname is not None and isinstance(a.asname.name, cst.Name):
                            outer._bind_import(a.asname.name.value, dotted_name(a.name) or "", env, where)

            def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
                if module_level or node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
                    return
                mod = dotted_name(node.module) or ""
                for a in node.names:
                    name = dotted_name(a.name) or ""
                    local = a.asname.name.value if a.asname is not None and isinstance(a.asname.name, cst.Name) \
                        else name
                    outer._bind_import(local, f"{mod}.{name}", env, where)

        for stmt in stmts:
            stmt.visit(V())
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

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, stmts: Sequence[cst.BaseStatement],
              env: dict[str, Value], where: str, module_level: bool, self_env: dict[str, Value] | None) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            # `client, _, mocks = client_and_mocks` (a fixture yielding a tuple) or `a, b = x, y`
            whole = self.value_of(value, env)
            elements = [e.value for e in target.elements]
            if whole is not None and whole.what == "tuple" and len(whole.items) == len(elements):
                for element, item in zip(elements, whole.items, strict=True):
                    name = dotted_name(element)
                    if item is not None and name is not None:
                        env[name] = item
            return
        name = dotted_name(target)
        if name is None:
            return
        v = self.value_of(value, env)
        inner = value.expression if isinstance(value, cst.Await) else value
        if v is not None and v.what == "app" and isinstance(inner, cst.Call) and _last(inner.func) in APP_CLASSES:
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

    def returned(self, func: cst.FunctionDef, seeds: dict[str, Value]) -> Value | None:
        """What a fixture or factory returns or yields."""
        key = f"returned:{func.name.value}"
        if key in self._active:
            return None
        self._active.add(key)
        try:
            env = self.env_for_block(_statements(func.body), dict(seeds), where=f"`{func.name.value}`")
            out: list[Value | None] = []

            class V(cst.CSTVisitor):
                def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                    return False

                def visit_Return(self, node: cst.Return) -> None:
                    out.append(self_.value_of(node.value, env))

                def visit_Yield(self, node: cst.Yield) -> None:
                    if isinstance(node.value, cst.BaseExpression):
                        out.append(self_.value_of(node.value, env))

            self_ = self
            func.body.visit(V())
            vals = [v for v in out if v is not None]
            if not vals:
                return None
            v = vals[0]
            if v.what == "app" and v.app.kind == "local" and v.app.name in env and func.name.value:
                # a name local to the function shadows the module's
                pass
            return v
        finally:
            self._active.discard(key)

    # -- requests ------------------------------------------------------------------------------
    def reached(self, func: cst.FunctionDef, seeds: dict[str, Value], *, self_env: dict[str, Value] | None = None,
                methods: dict[str, cst.FunctionDef] | None = None) -> tuple[frozenset[App], bool]:
        """The apps ``func`` sends requests to (its helpers too) and whether it sends any request."""
        key = (func.name.value, frozenset(seeds.items()))
        if key in self._memo:
            known = self._memo[key]
            return known, bool(known)
        if func.name.value in self._active:
            return frozenset(), False
        self._active.add(func.name.value)
        try:
            env = dict(seeds)
            for k, v in (self_env or {}).items():
                env.setdefault(f"self.{k}", v)
                env.setdefault(f"cls.{k}", v)
            self.env_for_block(_statements(func.body), env, where=f"`{func.name.value}`")
            apps: set[App] = set()
            for call in self.calls(func.body):
                f = call.func
                if isinstance(f, cst.Attribute) and f.attr.value in VERBS:
                    recv = self.value_of(f.value, env)
                    if recv is not None and recv.what == "client":
                        if recv.app.kind == "proxy" and self.routes is not None and \
                                self.routes.guarded(*_method_path(call, f.attr.value)) is False:
                            apps.add(OPEN_ROUTES)  # a route of the app without the dependency
                        else:
                            apps.add(recv.app)
                        continue
                callee: cst.FunctionDef | None = None
                if isinstance(f, cst.Name) and f.value in self.helpers:
                    callee = self.helpers[f.value]
                elif isinstance(f, cst.Attribute) and dotted_name(f.value) in ("self", "cls") and methods:
                    callee = methods.get(f.attr.value)
                if callee is None:
                    continue
                inner_seeds = _bind_args(callee, call, env, self)
                got, _ = self.reached(callee, inner_seeds, self_env=self_env, methods=methods)
                apps |= got
            result = frozenset(apps)
            self._memo[key] = result
            return result, bool(result)
        finally:
            self._active.discard(func.name.value)


#: what a request to an open route of the configured app reaches: no auth
OPEN_ROUTES = App("proxy", "open routes", False)


def _method_path(call: cst.Call, verb: str) -> tuple[str, str]:
    """``("GET", "/path")`` of ``client.get("/path")`` / ``client.request("GET", "/path")``; the
    path is "" when it is not a literal (the route table then knows nothing)."""
    args = [a for a in call.args if a.keyword is None and not a.star]
    method = verb.upper()
    if verb == "request":
        m = args[0].value if args else _kwarg(call, "method")
        method = m.evaluated_value.upper() if isinstance(m, cst.SimpleString) and \
            isinstance(m.evaluated_value, str) else ""
        args = args[1:]
    url = args[0].value if args else _kwarg(call, "url")
    path = url.evaluated_value if isinstance(url, cst.SimpleString) and isinstance(url.evaluated_value, str) else ""
    if path.startswith(("http://", "https://")):
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    return (method, path) if method and path.startswith("/") else ("", "")


def _bind_args(callee: cst.FunctionDef, call: cst.Call, env: dict[str, Value], apps: ModuleApps) -> dict[str, Value]:
    params = [p.name.value for p in (*callee.params.posonly_params, *callee.params.params)]
    if params and params[0] in ("self", "cls"):
        params = params[1:]
    seeds: dict[str, Value] = {}
    pos = [a for a in call.args if a.keyword is None and not a.star]
    for name, a in zip(params, pos, strict=False):
        v = apps.value_of(a.value, env)
        if v is not None:
            seeds[name] = v
    for a in call.args:
        if a.keyword is not None:
            v = apps.value_of(a.value, env)
            if v is not None:
                seeds[a.keyword.value] = v
    return seeds


def _calls(node: cst.CSTNode | Sequence[cst.CSTNode]) -> list[cst.Call]:
    """Every call in ``node`` (nested functions too: closures a test calls; not nested classes)."""
    v = _CallCollector()
    nodes: Sequence[cst.CSTNode] = node if isinstance(node, (list, tuple)) else [node]  # type: ignore[list-item]
    for n in nodes:
        n.visit(v)
    return v.out


class HandDispatch(cst.CSTVisitor):
    """A visitor that dispatches by hand in ``on_visit`` (libcst's own dispatch looks up visit_/leave_
    methods by name at every node and field): no leave or attribute callbacks. Subclasses are
    module-level classes, not made per call (libcst checks the visitor's class at every node; classes
    made per call pile up and slow that check down)."""

    def on_leave(self, original_node: cst.CSTNode) -> None:
        return None

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class _CallCollector(HandDispatch):
    """:func:`_calls`' visitor: every call, not inside a class body nor a node that holds none."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[cst.Call] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        t = type(node)
        if t is cst.Call:
            self.out.append(node)  # type: ignore[arg-type]
            return True
        return t is not cst.ClassDef and t not in NO_CALLS


#: nodes that never hold a call (names, literals, whitespace, operators): not walked into
NO_CALLS = frozenset({
    cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis,
    cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
    cst.Newline, cst.Comment, cst.Comma, cst.Dot, cst.Colon, cst.AssignEqual, cst.Semicolon,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ImportStar,
})


def _ctor_of(name: str, stmts: Iterable[cst.BaseStatement]) -> cst.Call | None:
    """The ``FastAPI(...)`` / ``APIRouter(...)`` call bound to ``name`` in ``stmts``."""
    for stmt in stmts:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call) and \
                    _last(small.value.func) in APP_CLASSES | ROUTER_CLASSES and \
                    any(dotted_name(t.target) == name for t in small.targets):
                return small.value
    return None


def class_env(cls_body: Sequence[cst.BaseStatement], apps: ModuleApps) -> tuple[dict[str, Value], dict[str, cst.FunctionDef]]:
    """A test class's client/app attributes (class body, ``setup_method``/``setup_class``/``setUp``
    assignments to ``self.x``/``cls.x``) and its non-test methods."""
    attrs: dict[str, Value] = {}
    apps.env_for_block([s for s in cls_body if not isinstance(s, cst.FunctionDef)], attrs, where="the class")
    methods: dict[str, cst.FunctionDef] = {}
    for stmt in cls_body:
        if isinstance(stmt, cst.FunctionDef):
            if stmt.name.value in ("setup_method", "setup", "setup_class", "setUp", "setUpClass", "asyncSetUp"):
                self_env: dict[str, Value] = {}
                apps.env_for_block(_statements(stmt.body), {}, where=f"`{stmt.name.value}`", self_env=self_env)
                attrs.update(self_env)
            elif not stmt.name.value.startswith("test") and not is_fixture(stmt):
                methods[stmt.name.value] = stmt
    return attrs, methods


# -- refusals ---------------------------------------------------------------------------------------


def _is_refusal_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        try:
            return int(node.value) in REFUSAL_CODES
        except ValueError:
            return False
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return isinstance(v, str) and (v.strip() in ("401", "403") or bool(REFUSAL_TEXT.search(v)))
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return any(_is_refusal_literal(e.value) for e in node.elements)
    return _last(node) in REFUSAL_NAMES


def _refusal_in(node: cst.CSTNode) -> bool:
    """A literal 401/403 (or ``HTTP_401_UNAUTHORIZED``, an auth error text) compared or asserted in ``node``."""
    found = False

    class V(cst.CSTVisitor):
        def visit_Comparison(self, n: cst.Comparison) -> None:
            nonlocal found
            if _is_refusal_literal(n.left) or any(_is_refusal_literal(c.comparator) for c in n.comparisons):
                found = True

        def visit_Call(self, n: cst.Call) -> None:
            nonlocal found
            if _last(n.func).startswith("assert") and any(_is_refusal_literal(a.value) for a in n.args):
                found = True

        def visit_SimpleString(self, n: cst.SimpleString) -> None:
            nonlocal found
            v = n.evaluated_value
            if isinstance(v, str) and REFUSAL_TEXT.search(v):
                found = True

        def visit_Name(self, n: cst.Name) -> None:
            nonlocal found
            if n.value in REFUSAL_NAMES:
                found = True

    node.visit(V())
    return found


def expects_refusal(func: cst.FunctionDef, apps: ModuleApps, methods: dict[str, cst.FunctionDef] | None = None,
                    _seen: frozenset[str] = frozenset()) -> str | None:
    """How the test shows it expects the request to be refused (None: it does not)."""
    what: str | None = None

    class V(cst.CSTVisitor):
        def visit_FunctionDef(self, n: cst.FunctionDef) -> bool:
            return n is func

        def visit_Assert(self, n: cst.Assert) -> None:
            nonlocal what
            if what is None and _refusal_in(n.test):
                what = "it asserts a 401/403 or an authentication error"

        def visit_Call(self, n: cst.Call) -> None:
            nonlocal what
            if what is not None:
                return
            last = _last(n.func)
            if last == "raises" and n.args:
                exc = _last(n.args[0].value)
                if exc in ("HTTPException", "ProxyException", "AuthenticationError") and (
                    exc == "AuthenticationError" or any(_refusal_in(a.value) for a in n.args[1:])
                ):
                    what = f"it expects `pytest.raises({exc})` with a 401/403"
            elif last.startswith(("assert", "assertEqual", "assertIn")) and any(
                _is_refusal_literal(a.value) for a in n.args
            ):
                what = "it asserts a 401/403 through a helper"
            else:
                f = n.func
                helper, label = None, ""
                if isinstance(f, cst.Name) and f.value in apps.helpers and f.value not in _seen:
                    helper, label = apps.helpers[f.value], f.value
                elif isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and \
                        f.value.value in ("self", "cls") and methods and f.attr.value in methods and \
                        f"self.{f.attr.value}" not in _seen:
                    helper, label = methods[f.attr.value], f"self.{f.attr.value}"
                if helper is None:
                    return
                if any(_is_refusal_literal(a.value) for a in n.args) and _asserts(helper):
                    what = f"it asserts a 401/403 through `{label}`"
                else:
                    inner = expects_refusal(helper, apps, methods, _seen | {label})
                    if inner is not None:
                        what = f"{inner} (in `{label}`)"

        def visit_With(self, n: cst.With) -> None:
            nonlocal what
            for item in n.items:
                c = item.item
                if what is None and isinstance(c, cst.Call) and _last(c.func) == "raises" and c.args and \
                        _last(c.args[0].value) in ("HTTPException", "ProxyException") and \
                        item.asname is not None and isinstance(item.asname.name, cst.Name):
                    # `with pytest.raises(HTTPException) as e: ...; assert e.value.status_code == 401`
                    # is seen by visit_Assert; nothing else to do here
                    pass

    func.visit(V())
    if what is None:
        # parametrized expectations: @pytest.mark.parametrize(..., [(..., 401)]) with a status assert
        for d in func.decorators:
            if isinstance(d.decorator, cst.Call) and _last(d.decorator.func) == "parametrize" and \
                    any(_has_refusal_code(a.value) for a in d.decorator.args[1:]) and _asserts_status(func):
                what = "a parametrized case expects a 401/403"
    return what


def _has_refusal_code(node: cst.CSTNode) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def visit_Integer(self, n: cst.Integer) -> None:
            nonlocal found
            if _is_refusal_literal(n):
                found = True

    node.visit(V())
    return found


def _asserts(func: cst.FunctionDef) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def visit_Assert(self, n: cst.Assert) -> None:
            nonlocal found
            found = True

        def visit_Raise(self, n: cst.Raise) -> None:
            nonlocal found
            found = True

    func.body.visit(V())
    return found


def _asserts_status(func: cst.FunctionDef) -> bool:
    found = False

    class V(cst.CSTVisitor):
        def visit_Assert(self, n: cst.Assert) -> None:
            nonlocal found
            if "status" in cst.Module([]).code_for_node(n.test):
                found = True

    func.body.visit(V())
    return found


@dataclass
class Reach:
    """The verdict for one test: the app to override (None: leave it) and why not."""

    app: App | None
    reason: str | None = None
    apps: frozenset[App] = field(default_factory=frozenset)


def called_in_module(module: cst.Module) -> set[str]:
    """Names of functions called somewhere in the module (comments and strings do not count)."""
    return {c.func.value for c in _calls(module) if isinstance(c.func, cst.Name)}
