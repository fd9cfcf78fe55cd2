"""``auth``: give FastAPI proxy tests an auth override (LiteLLM's ``dependency_overrides`` pattern).

Which tests: by default every test function or method in PATHS that sends a request reaching the
auth dependency: through a ``TestClient`` / ``httpx.AsyncClient(transport=ASGITransport(app))``
made in its body, given by a fixture (any scope), bound at module or class level or used by a helper
it calls, on an app with a route that depends on the dependency (directly, through
``include_router`` / ``mount``, or the app's ``dependencies=``). ``--only`` takes pytest node ids;
``--from-junit`` takes a pytest ``--junitxml`` report and selects the tests that failed with a 401
(``--match`` patterns).

Left alone, with the reason: tests that send no such request (they call endpoint functions
directly), tests that expect a refusal (a 401/403 or an authentication error asserted), fixtures
(whatever their name), tests already covered (the body, a helper it calls, a requested fixture,
transitively up to ``conftest.py``, autouse ones too, or ``setup_method`` sets the override). Tests
that patch the dependency with ``unittest.mock`` are left to ``auth-unpatch``.

The override goes on the app the client wraps: the configured app, or the module's own app
(``app = FastAPI()`` / ``app = create_app()``), then with the dependency imported from its own module.
``--style wrap`` (default) writes override / ``try:`` body / ``finally:`` pop, docstring and
``global`` first; ``--style fixture`` adds one function-scoped fixture per module (for the configured
app: in the nearest conftest.py with ``--conftest``) that sets the override and pops it after
``yield``, and requests it from the tests only, so a module-, class- or session-scoped client
fixture never gets a narrower-scoped dependency. Added imports are merged, sorted, into existing
``from`` imports or placed where isort puts them; lines fit the project's line length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, FileFixer, Outcome
from codemods.core.options import option
from codemods.core.plan import Edit, FileResult, Plan
from codemods.core.source import SourceFile
from codemods.errors import UsageError
from codemods.fixers.auth.pattern import (
    DEFAULT_FIXTURE_NAME,
    PatternOptions,
    UsesPattern,
)
from codemods.testsuite.junit import (
    NodeIndex,
    def_lines,
    load_selection,
    nodeid_for,
    report_unmatched,
)

if TYPE_CHECKING:
    import ast

    import libcst as cst

    from codemods.fixers.auth.astnodes import ModuleSource
    from codemods.fixers.auth.routes import RouteTable
    from codemods.testsuite.nodeids import NodeId

DEFAULT_MATCH = [r"\b401\b", "Authentication Error", "Unauthorized"]


@dataclass
class Options(PatternOptions):
    """The pattern options (:class:`~codemods.fixers.auth.pattern.PatternOptions`) plus the selection
    and the style."""

    only: list[str] = option([], "pytest node ids of the tests to cover (parametrized ids too).",
                             metavar="NODE_ID", config=False)
    from_junit: list[str] = option([], "pytest --junitxml report(s): cover the tests that failed with a 401.",
                                   metavar="FILE", config=False)
    match: list[str] = option(list(DEFAULT_MATCH), "Regexes a --from-junit failure message must match.",
                              metavar="REGEX")
    style: str = option("wrap", "wrap: override/try/finally in the body; fixture: a fixture the tests request.",
                        choices=("wrap", "fixture"))
    conftest: bool = option(False, "With --style fixture: put the fixture in the nearest conftest.py.")
    fixture_name: str = option(DEFAULT_FIXTURE_NAME, "Name of the fixture --style fixture adds.")


def _is_test_module(ctx: Context, f: Path) -> bool:
    """A test module by name, or a file given explicitly."""
    from codemods.testsuite.nodeids import is_test_file

    return is_test_file(f.name) or any(f == (p if p.is_absolute() else ctx.root / p).resolve() for p in ctx.paths)


@dataclass
class _Plan:
    """What one module needs: the tests to change (by their place in :func:`iter_tests`' walk) and
    the skipped ones."""

    targets: dict[int, str]
    skipped: list[tuple[str, str]]


class AuthFixer(UsesPattern, FileFixer):
    """Wraps FastAPI proxy tests in an auth dependency override."""

    name: ClassVar[str] = "auth"
    description: ClassVar[str] = "Give proxy tests an auth override (app.dependency_overrides) instead of a 401."
    Options: ClassVar[type] = Options
    default_paths: ClassVar[tuple[str, ...]] = ("tests",)
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["tests/proxy_unit_tests/test_proxy_routes.py"],
        options={"only": [
            "tests/proxy_unit_tests/test_proxy_routes.py::test_model_list",
            "tests/proxy_unit_tests/test_proxy_routes.py::test_generate_key[alice]",
            "tests/proxy_unit_tests/test_proxy_routes.py::TestKeyList::test_list_keys",
        ]},
        note="the proxy tests that fail with 401 get LiteLLM's override/try/finally pattern",
    )

    def __init__(self, options: Any | None = None) -> None:
        super().__init__(options)
        self.root = Path(".")
        self.selection: list[NodeId] | None = None
        self.index: NodeIndex | None = None
        self.routes: RouteTable | None = None

    # -- run level -------------------------------------------------------------------------------
    def prepare(self, ctx: Context) -> None:
        from codemods.fixers.auth.routes import route_table

        self.root = ctx.root
        self.load_pattern(ctx.root)
        if self.options.conftest and self.options.style != "fixture":
            raise UsageError("--conftest only applies to --style fixture")
        if not self.options.fixture_name.isidentifier():
            raise UsageError(f"--fixture-name {self.options.fixture_name!r} is not a Python identifier")
        self.selection = load_selection(ctx, self.options.only, self.options.from_junit, self.options.match)
        self.index = NodeIndex(self.selection) if self.selection is not None else None
        if self.selection is None:
            # the app's source in the repository (a LiteLLM checkout): requests to its open routes
            # (health probes, favicon) need no override. A selection (--only, --from-junit: tests
            # that failed with a 401) is taken as it is.
            app_mod, app_attr = self.pattern.app_target
            self.routes = route_table(ctx.root, app_mod, app_attr, self.pattern.dep_attr)
        if self.selection:
            report_unmatched(ctx, self.selection, ctx.discover())

    def select(self, ctx: Context, files: list[Path]) -> list[Path]:
        files = [f for f in files if f.name != "conftest.py"]
        if self.index is not None:
            return [f for f in files if self.index.for_file(ctx.rel(f))]
        return [f for f in files if _is_test_module(ctx, f)]

    def prefilter(self, source: SourceFile) -> bool:
        if "def test" not in source.text:
            return False
        if self.selection is not None:
            return True
        # without a selection only modules tied to the app (here or in a conftest.py) can have targets
        words = (self.pattern.app_target[0].rsplit(".", 1)[-1], self.pattern.dep_attr)
        return any(w in source.text for w in (*words, "include_router", ".mount(")) or \
            self._conftests_mention(source.path.parent, words)

    def _conftests_mention(self, folder: Path, words: tuple[str, ...]) -> bool:
        """A conftest.py from ``folder`` up to the root contains one of ``words`` (cached by folder)."""
        cache: dict[Path, bool] = self.__dict__.setdefault("_conftest_cache", {})
        if folder in cache:
            return cache[folder]
        hit = False
        conftest = folder / "conftest.py"
        if conftest.is_file():
            try:
                text = conftest.read_text(encoding="utf-8", errors="replace")
                hit = any(w in text for w in words)
            except OSError:
                hit = False
        if not hit and folder != self.root and self.root in folder.parents:
            hit = self._conftests_mention(folder.parent, words)
        cache[folder] = hit
        return hit

    def mentions_app(self, source: SourceFile) -> bool:
        """The module, or a conftest.py up the tree, names the app's module."""
        words = (self.pattern.app_target[0].rsplit(".", 1)[-1], self.pattern.dep_attr)
        return any(w in source.text for w in (*words, "include_router", ".mount(")) or \
            self._conftests_mention(source.path.parent, words)

    def conftest_for(self, test_file: Path) -> Path:
        """The nearest existing conftest.py up the tree (inside the root), else one beside the test."""
        from codemods.fixers.auth.coverage import conftest_paths

        found = conftest_paths(test_file, self.root)
        return found[0] if found else test_file.parent / "conftest.py"

    # -- one file --------------------------------------------------------------------------------
    def fix(self, source: SourceFile) -> Outcome:
        # the analysis (targets, every skip reason) reads an ast tree; only a module that gets an
        # edit is parsed with libcst, below
        from codemods.fixers.auth.coverage import (
            Coverage,
            conftest_scopes,
            iter_tests,
            patches_dependency,
            scope_of,
            shadowed,
        )
        from codemods.fixers.auth.names import ModuleNames, module_names
        from codemods.fixers.auth.reach import (
            App,
            ModuleApps,
            called_in_module,
            expects_refusal,
        )
        from codemods.testsuite.nodeids import selects

        pattern = self.pattern
        nodes = self.index.for_file(source.rel) if self.index is not None else None
        mod = _parse_ast(source.text)
        mscope = scope_of(mod.tree.body, mod, pattern)
        cov = Coverage(mscope, conftest_scopes(source.path, self.root, pattern), mod, pattern)
        fixture_style = self.options.style == "fixture"
        # without a selection, only modules tied to the configured app (here or in a conftest.py)
        mentions_app = nodes is not None or self.mentions_app(source)

        plan = _Plan({}, [])
        apps = ModuleApps(mod, pattern, routes=self.routes)
        mscope.apps = apps
        target_apps: dict[int, App] = {}
        names_for: dict[App, ModuleNames] = {}

        def names_of(app: App) -> ModuleNames:
            if app not in names_for:
                names_for[app] = module_names(mod, pattern, app_expr=app.name if app.kind == "local" else None)
            return names_for[app]

        # a test is named by its place in the walk (the libcst walk of the edit finds it there)
        for index, (func, classes, scopes) in enumerate(iter_tests(mod.tree.body, mod=mod, pattern=pattern)):
            name = func.name
            nodeid = nodeid_for(source.rel, classes, name)
            if nodes is not None:
                if not selects(nodes, classes, name):
                    continue
            elif not mentions_app:
                continue
            reason = cov.covered_by(func, scopes, classes)
            if reason is None and patches_dependency(func, mod, pattern):
                reason = ("it patches the auth dependency with unittest.mock, which FastAPI ignores: "
                          "run `stabfix apply auth-unpatch`")
            reach = cov.reach(func, scopes) if reason is None else None
            if reach is not None and reach.app is None:
                reason = f"no request reaches the auth dependency: {reach.reason}"
            if reason is None:
                refusal = expects_refusal(func, apps, cov.class_methods(scopes))
                if refusal is not None:
                    reason = f"expects a refusal: {refusal}"
            if reason is None and fixture_style and name in called_in_module(mod):
                reason = "it is called directly in the module (adding a fixture parameter would break that call); use --style wrap"
            if reason is None and _only_docstring(func, mod):
                reason = "its body is only a docstring"
            assert reach is None or reason is not None or reach.app is not None
            app = reach.app if reach is not None else None
            if reason is None and not fixture_style and app is not None:
                clash = shadowed(func, names_of(app))
                if clash:
                    reason = f"it binds `{clash}` itself, which the override needs to name the module's object"
            if reason is not None:
                plan.skipped.append((nodeid, reason))
                continue
            assert app is not None
            plan.targets[index] = nodeid
            target_apps[index] = app

        fixture_app: App | None = None
        if fixture_style and target_apps:
            # one fixture per module, for one app: the configured one, else the module's own
            apps_used = list(dict.fromkeys(target_apps.values()))
            fixture_app = next((a for a in apps_used if a.kind == "proxy"), apps_used[0])
            for fid, a in list(target_apps.items()):
                if a != fixture_app:
                    plan.skipped.append((plan.targets.pop(fid), (
                        f"its requests go to {a.describe(pattern)}, while the module's fixture overrides "
                        f"{fixture_app.describe(pattern)}: use --style wrap")))
                    del target_apps[fid]

        skip_text = "; ".join(f"{n}: {r}" for n, r in plan.skipped)
        def_line = def_lines(source.text)
        skip_edits = [Edit(f"skipped {n}: {r}", def_line.get(n.rsplit("::", 1)[-1]), kind="skipped",
                           data={"nodeid": n}) for n, r in plan.skipped]
        if not plan.targets:
            if plan.skipped:
                return Outcome(status="skipped", reason=skip_text, edits=skip_edits)
            return Outcome()

        conftest_rel: str | None = None
        names: ModuleNames | None = None
        add_module_fixture = False
        if fixture_style and fixture_app is not None and fixture_app.kind != "proxy":
            # the module's own app: its own fixture, in the module (a conftest's names the configured
            # app), function scoped and requested by tests only: no fixture gets a narrower-scoped
            # dependency, whatever the scope of the client fixture
            add_module_fixture = pattern.fixture_name not in mscope.fixtures
            if add_module_fixture:
                names = names_of(fixture_app)
        elif fixture_style and self.options.conftest:
            conftest_path = self.conftest_for(source.path)
            conftest_rel = _rel_to_root(conftest_path, self.root)
        elif fixture_style:
            add_module_fixture = not cov.fixture_defined(pattern.fixture_name)
            if add_module_fixture:
                names = names_of(App("proxy", "", True))

        from codemods.edit.pyimports import ensure_import, has_import, parse_module
        from codemods.fixers.auth.codegen import (
            FunctionRewriter,
            add_imports,
            add_param,
            fit_signature,
            fixture_code,
            insert_fixture,
            iter_test_defs,
            wrap_function_body,
        )

        targets = plan.targets
        style = self.options.style
        fixture_name = pattern.fixture_name
        module = parse_module(source.text)
        # the same walk over the libcst tree: the n-th test there is the n-th test of the analysis
        where = {id(f): i for i, (f, _) in enumerate(iter_test_defs(module.body)) if i in targets}

        step = len(module.default_indent.expandtabs())
        # a backslash at a line's end (a continuation, a comment's last character) is in the text
        continuations = "\\\n" in source.text or "\\\r" in source.text

        def rewrite(original: cst.FunctionDef, updated: cst.FunctionDef, depth: int) -> cst.FunctionDef:
            # tests live at module and class level (``depth``: the classes around the test)
            index = where.get(id(original))
            if index is None:
                return updated
            if style == "fixture":
                return fit_signature(add_param(updated, fixture_name), pattern.line_length, column=depth * step)
            return wrap_function_body(updated, names_of(target_apps[index]), pattern, module,
                                      depth=depth + 1, continuations=continuations)

        new_module = module.visit(FunctionRewriter(rewrite))
        if add_module_fixture and names is not None:
            pytest_name = has_import(new_module, "pytest") or "pytest"  # `import pytest as pt` kept
            new_module = insert_fixture(new_module, fixture_code(names, pattern, pytest_name),
                                        after=fixture_app.name if fixture_app and fixture_app.kind == "local" else None)
        order, width = self.import_order, pattern.line_length
        for used in {id(n): n for n in names_for.values()}.values():
            if style == "wrap" or used is names:
                new_module = add_imports(new_module, used, order=order, line_length=width)
        if add_module_fixture:
            new_module, _ = ensure_import(new_module, "pytest", order=order)

        what = {"wrap": "wrapped in the auth override",
                "fixture": f"now request fixture `{fixture_name}`"}[style]
        edits = [
            Edit(f"{nid}: {what}", def_line.get(nid.rsplit("::", 1)[-1]), kind="auth-override",
                 data={"nodeid": nid, "style": style, **({"conftest": conftest_rel} if conftest_rel else {})})
            for nid in targets.values()
        ]
        if add_module_fixture:
            edits.append(Edit(f"added fixture `{fixture_name}` to the module", None, kind="auth-fixture"))
        reason = f"{len(targets)} test(s) {what}"
        if plan.skipped:
            reason += f"; skipped {skip_text}"
        return Outcome(text=new_module.code, edits=edits, reason=reason)

    # -- conftest (fixture style) ----------------------------------------------------------------
    def finish(self, ctx: Context, plan: Plan) -> None:
        if not (self.options.style == "fixture" and self.options.conftest):
            return
        wanted = sorted({e.data["conftest"] for f in plan.files if f.status == "changed" for e in f.edits
                         if e.data.get("conftest")})
        for rel in wanted:
            result = self._conftest_result(ctx, rel)
            for i, f in enumerate(plan.files):
                if f.path == rel:
                    plan.files[i] = result
                    break
            else:
                plan.files.append(result)

    def _conftest_result(self, ctx: Context, rel: str) -> FileResult:
        """Add the fixture to (or create) one conftest.py, proposed through ``ctx`` like a repo
        fixer's change: validated with :func:`~codemods.core.validate.validate_python`."""
        import libcst as cst

        from codemods.core.validate import validate_python
        from codemods.edit.pyimports import Imports, ensure_import, parse_module
        from codemods.errors import FileFailure
        from codemods.fixers.auth.codegen import (
            add_imports,
            fixture_code,
            insert_fixture,
            new_conftest,
        )
        from codemods.fixers.auth.coverage import scope_of
        from codemods.fixers.auth.names import module_names

        pattern = self.pattern
        name = pattern.fixture_name
        source = None
        defined: set[str] = set()  # the conftest's fixtures
        try:
            if (ctx.root / rel).exists():
                source = ctx.read(rel)
                module = parse_module(source.text)
                defined = set(scope_of(*_body_of(source.text), pattern).fixtures)
            else:
                module = cst.parse_module("")
        except FileFailure as exc:
            ctx.mark(rel, "failed", f"cannot add fixture `{name}`: {exc.message}")
            return _result_for(ctx, rel)
        imports = Imports(module)
        edit = Edit(f"added fixture `{name}` (sets the auth override, pops it after yield)", kind="auth-fixture")
        if name in defined:
            ctx.mark(rel, "unchanged", f"fixture `{name}` is there already")
        elif source is None:
            ctx.propose_create(rel, new_conftest(module_names(imports, pattern), pattern),
                               f"created with fixture `{name}`", [edit])
        else:
            names = module_names(imports, pattern)
            new_module = insert_fixture(module, fixture_code(names, pattern, "pytest"), at_end=True)
            new_module = add_imports(new_module, names, order=self.import_order, line_length=pattern.line_length)
            new_module, _ = ensure_import(new_module, "pytest", order=self.import_order)
            err = validate_python(source, new_module.code)
            if err is not None:
                ctx.mark(rel, "failed", f"stabfix bug: output does not parse ({err}); nothing written")
            else:
                ctx.propose_edit(source, new_module.code, f"added fixture `{name}`", [edit])
        return _result_for(ctx, rel)


def _result_for(ctx: Context, rel: str) -> FileResult:
    """The result ``ctx`` recorded for ``rel`` (the engine's result path for proposed changes)."""
    return next(r for r in ctx.results() if r.path == rel)


def _rel_to_root(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _parse_ast(text: str) -> ModuleSource:
    """The module for the analysis; one :mod:`ast` cannot parse gets libcst's verdict (the file's
    :class:`~codemods.errors.FileFailure`, as before), else ast's."""
    from codemods.fixers.auth.astnodes import ModuleSource

    try:
        return ModuleSource(text)
    except (SyntaxError, ValueError) as exc:
        from codemods.edit.pyimports import parse_module, syntax_failure

        parse_module(text)  # raises the file's failure when libcst cannot parse it either
        line = exc.lineno if isinstance(exc, SyntaxError) else None
        raise syntax_failure(text, str(getattr(exc, "msg", exc)), line) from None


def _body_of(text: str) -> tuple[list[ast.stmt], ModuleSource]:
    """A conftest's statements and module, for :func:`~codemods.fixers.auth.coverage.scope_of`."""
    mod = _parse_ast(text)
    return mod.tree.body, mod


def _only_docstring(func: ast.FunctionDef | ast.AsyncFunctionDef, mod: ModuleSource) -> bool:
    """The body is one docstring on its own line (libcst: ``is_docstring``, an indented block)."""
    import ast

    body = func.body
    return len(body) == 1 and mod.indented(body) and isinstance(body[0], ast.Expr) and \
        isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, (str, bytes))
