"""The configured app's route table, read from its source when the repository holds it: which paths
depend on the auth dependency, so a test that only requests open routes (LiteLLM's
``/health/liveliness``, ``/get_favicon``) gets no override.

:func:`route_table` reads the app's module (``litellm/proxy/proxy_server.py`` under the root or
``src/``) with :mod:`ast` (never imported): routes declared on the app (``@app.get(path, ...)``,
``app.add_api_route``) and on routers it includes (``app.include_router(router, prefix=...,
dependencies=...)``), a router defined there or imported from another module of the repository,
with the router's own ``prefix`` and ``dependencies``. A route is guarded when ``Depends(dep)`` /
``Security(dep)`` is in its decorator, its parameters, its router's or the app's ``dependencies``.

:meth:`RouteTable.guarded` answers for one request: True (a matching route is guarded), False (only
open routes match), None (no route matches, or the path is not a literal): the caller then assumes
the app's auth is reached, as without a table.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
_ANY = frozenset({"*"})
_CATCH_ALL = re.compile(r"/?\{\w+:path\}")


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    guarded: bool
    path: str


@dataclass
class RouteTable:
    """The routes of the configured app that its source declares."""

    routes: list[Route] = field(default_factory=list)

    def guarded(self, method: str, path: str) -> bool | None:
        """Does a request ``method path`` reach the auth dependency? None: not known."""
        if not method or not path.startswith("/"):
            return None
        path = path.split("?", 1)[0].split("#", 1)[0]
        hits = [r for r in self.routes
                if (r.methods is _ANY or "*" in r.methods or method.upper() in r.methods) and r.pattern.fullmatch(path)]
        # a catch-all (`/{path:path}`, LiteLLM's UI and pass-through fallbacks) says nothing of the
        # route a test means: a path only it matches is a route the table does not know
        hits = [r for r in hits if not _CATCH_ALL.fullmatch(r.path)]
        if not hits:
            return None
        return any(r.guarded for r in hits)


def _compile(path: str) -> re.Pattern[str]:
    """``/key/{key_id}`` -> a regex (``{x:path}`` spans slashes)."""
    out, pos = "", 0
    for m in re.finditer(r"\{(\w+)(:path)?\}", path):
        out += re.escape(path[pos:m.start()]) + ("(.+)" if m.group(2) else "([^/]+)")
        pos = m.end()
    out += re.escape(path[pos:])
    return re.compile(out)


def _last(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Module:
    """One parsed module of the repository: its routers/app constructors, routes and imports."""

    def __init__(self, tree: ast.Module, dep: str) -> None:
        self.dep = dep
        self.ctors: dict[str, ast.Call] = {}  # name -> FastAPI(...)/APIRouter(...)
        self.imports: dict[str, str] = {}  # local name -> qualified name
        self.funcs: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.calls: list[ast.Call] = []  # top-level calls (include_router, add_api_route)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) and \
                    _last(stmt.value.func) in ("FastAPI", "APIRouter"):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        self.ctors[t.id] = stmt.value
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                for a in stmt.names:
                    self.imports[a.asname or a.name] = f"{stmt.module}.{a.name}"
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.funcs.append(stmt)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self.calls.append(stmt.value)

    def depends(self, node: ast.AST | None) -> bool:
        """``Depends(dep)`` / ``Security(dep)`` somewhere in ``node``."""
        if node is None:
            return False
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and _last(n.func) in ("Depends", "Security"):
                target = n.args[0] if n.args else _kw(n, "dependency")
                if target is not None and _last(target) == self.dep:
                    return True
        return False


class _Reader:
    def __init__(self, root: Path, dep: str) -> None:
        self.root = root
        self.dep = dep
        self.parsed: dict[str, _Module | None] = {}
        self.routes: list[Route] = []

    def module(self, name: str) -> _Module | None:
        if name not in self.parsed:
            self.parsed[name] = None
            rel = Path(*name.split("."))
            for base in (self.root, self.root / "src"):
                for cand in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
                    if cand.is_file():
                        try:
                            tree = ast.parse(cand.read_text(encoding="utf-8", errors="replace"))
                        except (SyntaxError, ValueError, OSError):
                            return None
                        self.parsed[name] = _Module(tree, self.dep)
                        break
                if self.parsed[name] is not None:
                    break
        return self.parsed[name]

    def collect(self, mod: _Module, obj: str, prefix: str, guarded: bool, depth: int = 0) -> bool:
        """Add the routes of ``obj`` (an app or router of ``mod``); False when a router it includes
        cannot be read (the table is then partial: unmatched paths stay unknown anyway)."""
        ctor = mod.ctors.get(obj)
        if ctor is not None:
            prefix += _str(_kw(ctor, "prefix")) or ""
            guarded = guarded or mod.depends(_kw(ctor, "dependencies"))
        ok = True
        for func in mod.funcs:
            for d in func.decorator_list:
                if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and
                        isinstance(d.func.value, ast.Name) and d.func.value.id == obj):
                    continue
                verb = d.func.attr
                if verb not in _VERBS | {"api_route", "websocket"}:
                    continue
                path = _str(d.args[0]) if d.args else _str(_kw(d, "path"))
                if path is None:
                    continue
                methods = frozenset({verb.upper()}) if verb in _VERBS else _ANY
                g = guarded or mod.depends(d) or mod.depends(func.args)
                self.routes.append(Route(methods, _compile(prefix + path), g, prefix + path))
        for call in mod.calls:
            if not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and
                    call.func.value.id == obj):
                continue
            if call.func.attr == "include_router" and call.args and depth < 4:
                target = call.args[0]
                p = prefix + (_str(_kw(call, "prefix")) or "")
                g = guarded or mod.depends(_kw(call, "dependencies"))
                if isinstance(target, ast.Name) and target.id in mod.ctors:
                    ok &= self.collect(mod, target.id, p, g, depth + 1)
                elif isinstance(target, ast.Name) and target.id in mod.imports:
                    qual = mod.imports[target.id]
                    other = self.module(qual.rsplit(".", 1)[0])
                    if other is None:
                        ok = False
                    else:
                        ok &= self.collect(other, qual.rsplit(".", 1)[1], p, g, depth + 1)
                else:
                    ok = False
            elif call.func.attr == "add_api_route" and call.args:
                path = _str(call.args[0])
                if path is not None:
                    given = _kw(call, "methods")
                    names = frozenset(str(e.value).upper() for e in given.elts if isinstance(e, ast.Constant)) \
                        if isinstance(given, (ast.List, ast.Tuple, ast.Set)) else frozenset({"GET"})
                    g = guarded or mod.depends(_kw(call, "dependencies"))
                    self.routes.append(Route(names, _compile(prefix + path), g, prefix + path))
        return ok


def route_table(root: Path, app_module: str, app_attr: str, dep_attr: str) -> RouteTable | None:
    """The configured app's routes from its source under ``root`` (None: the source is not there)."""
    reader = _Reader(root, dep_attr)
    mod = reader.module(app_module)
    if mod is None or app_attr not in mod.ctors:
        return None
    reader.collect(mod, app_attr, "", False)
    return RouteTable(reader.routes)
