"""``auth-unpatch``: rewrite tests that *patch* the auth dependency into the override pattern.

``unittest.mock.patch("...proxy_server.user_api_key_auth", ...)`` and
``patch.object(ps, "user_api_key_auth", ...)`` do nothing for FastAPI: the route's ``Depends``
holds the original function object, so the request still gets a 401. This fixer turns each such
patch — decorator or ``with`` — into ``app.dependency_overrides[dep] = <value>`` / ``try:`` /
``finally: pop``. The value keeps the test's intent: ``return_value=X`` becomes ``lambda: X``, a
``new=`` lambda or function is used as is, no value gives the configured identity.

A mock the test only *configures* is the identity it wants: ``mock_auth.return_value = X`` becomes
``lambda: X`` (the statement goes); a ``side_effect`` (assigned, or ``side_effect=`` of the patch)
that is a lambda or a module function without parameters becomes the override itself.

Reported, not touched: a mock that the test uses otherwise (asserts on it, reads ``call_args``,
passes it on), a ``side_effect`` that raises or takes arguments, ``new_callable`` other than a mock
class, ``patch.multiple`` or a class-level patch (covers other names or tests too), a patcher started
by hand. Imports left unused (``patch``, ``MagicMock``) are removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, FileFixer, Outcome
from codemods.core.plan import Edit
from codemods.core.source import SourceFile
from codemods.fixers.auth.pattern import (
    PATCH_FUNCS,
    AuthPattern,
    PatternOptions,
    UsesPattern,
    inherit_auth_table,
)

if TYPE_CHECKING:
    import libcst as cst

    from codemods.edit.pyimports import Imports

# keys a patch may carry that say nothing about the value
_NEUTRAL_KWARGS = {"autospec", "create", "spec", "spec_set", "target", "attribute", "return_value", "new"}
_MOCK_NAMES = ("patch", "MagicMock", "AsyncMock", "Mock")
_MOCK_CLASSES = ("MagicMock", "AsyncMock", "Mock")
# what a test may set on the mock: the value the dependency returns
_CONFIG_ATTRS = ("return_value", "side_effect")


@dataclass
class Options(PatternOptions):
    """The pattern options only (:class:`~codemods.fixers.auth.pattern.PatternOptions`)."""


class Unsafe(Exception):
    """A patch this fixer will not rewrite; the message says why."""


@dataclass
class _FuncPlan:
    decorators: list[int] = field(default_factory=list)  # indices to drop
    params: list[int] = field(default_factory=list)  # parameter indices to drop
    value: str | None = None  # override value for a decorator patch (None: default identity)
    withs: dict[int, tuple[int, str | None]] = field(default_factory=dict)  # id(With) -> (item index, value)
    drop: set[int] = field(default_factory=set)  # ids of `mock.return_value = X` statements that go


def _code(node: cst.CSTNode) -> str:
    import libcst as cst

    return cst.Module([]).code_for_node(node)


def override_value(call: cst.Call, *, object_form: bool, callables: frozenset[str] = frozenset()) -> str | None:
    """The override value expressing what the patch meant (None: the default identity).
    ``callables``: the module's functions without parameters (a ``side_effect`` FastAPI can call)."""
    import libcst as cst

    from codemods.edit.pyimports import dotted_name

    side: str | None = None
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "new_callable" and \
                (dotted_name(a.value) or "").rsplit(".", 1)[-1] in _MOCK_CLASSES:
            continue  # the mock class the patch would pick anyway for an async dependency
        if a.keyword is not None and a.keyword.value == "side_effect" and _callable_value(a.value, callables):
            side = _code(a.value)
            continue
        if a.keyword is not None and a.keyword.value in ("side_effect", "new_callable"):
            raise Unsafe(f"the patch sets {a.keyword.value}=, which an override cannot express")
        if a.keyword is not None and a.keyword.value not in _NEUTRAL_KWARGS:
            raise Unsafe(f"the patch passes {a.keyword.value}= to the mock")
    positional = [a.value for a in call.args if a.keyword is None]
    new = positional[2 if object_form else 1] if len(positional) > (2 if object_form else 1) else None
    rv = None
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "new":
            new = a.value
        if a.keyword is not None and a.keyword.value == "return_value":
            rv = a.value
    if side is not None:
        if new is not None or rv is not None:
            raise Unsafe("the patch sets side_effect= and a value")
        return side
    if new is not None:
        if isinstance(new, cst.Lambda) or (isinstance(new, (cst.Name, cst.Attribute)) and rv is None):
            return _code(new)
        if isinstance(new, cst.Call) and (dotted_name(new.func) or "").rsplit(".", 1)[-1] in (
            "MagicMock", "AsyncMock", "Mock"
        ):
            inner = {a.keyword.value: a.value for a in new.args if a.keyword is not None}
            if set(inner) - {"return_value", "spec", "autospec"}:
                raise Unsafe("the replacement mock is configured beyond return_value=")
            if "return_value" in inner:
                return "lambda: " + _code(inner["return_value"])
            return None
        raise Unsafe("the patch's replacement object cannot be turned into an override")
    if rv is not None:
        return "lambda: " + _code(rv)
    return None


def _injects_mock(call: cst.Call) -> bool:
    """A decorator patch passes a mock argument unless it was given ``new``."""
    from codemods.edit.pyimports import dotted_name

    name = dotted_name(call.func) or ""
    positional = [a for a in call.args if a.keyword is None]
    if any(a.keyword is not None and a.keyword.value == "new" for a in call.args):
        return False
    if name.endswith("multiple"):
        return False
    return len(positional) < (3 if name.endswith("object") else 2)


def _names_used(node: cst.CSTNode, name: str) -> int:
    import libcst as cst

    count = 0

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            nonlocal count
            if n.value == name:
                count += 1

    node.visit(V())
    return count


def _callable_value(node: cst.BaseExpression, callables: frozenset[str]) -> bool:
    """A ``side_effect`` an override can be: a lambda or a module function without parameters
    (FastAPI would read any parameter from the request)."""
    import libcst as cst

    return (isinstance(node, cst.Lambda) and not _has_params(node.params)) or \
        (isinstance(node, cst.Name) and node.value in callables)


def configured_value(scope: cst.CSTNode, mock: str, bindings: int = 0,
                     callables: frozenset[str] = frozenset()) -> tuple[str | None, set[int]]:
    """The value the test gives mock ``mock`` by assignment, as override source, and the ids of the
    assignment statements (they go with the patch). ``(None, set())``: the mock is not used.

    ``mock.return_value = X`` -> ``lambda: X``; ``mock.side_effect = lambda: X`` -> that lambda (a
    ``side_effect`` that raises, or a function with parameters FastAPI would read from the request,
    cannot be one). Any other use of the name raises :class:`Unsafe`. ``bindings``: uses of the
    name that bind it (``with patch(...) as mock``)."""
    import libcst as cst

    assigned: list[tuple[str, cst.BaseExpression, cst.SimpleStatementLine]] = []

    class V(cst.CSTVisitor):
        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
            if len(node.body) != 1 or not isinstance(node.body[0], cst.Assign):
                return
            assign = node.body[0]
            if len(assign.targets) != 1:
                return
            t = assign.targets[0].target
            if isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == mock and \
                    t.attr.value in _CONFIG_ATTRS:
                assigned.append((t.attr.value, assign.value, node))

    scope.visit(V())
    uses = _names_used(scope, mock) - bindings
    if uses == 0:
        return None, set()
    if uses != len(assigned):
        raise Unsafe(f"the test uses the mock `{mock}` (asserts on it)")
    if len(assigned) > 1:
        raise Unsafe(f"the test sets `{mock}` more than once (one override value cannot follow it)")
    attr, value, stmt = assigned[0]
    if _names_used(value, mock):
        raise Unsafe(f"the value given to `{mock}` refers to the mock")
    if attr == "return_value":
        return "lambda: " + _code(value), {id(stmt)}
    if _callable_value(value, callables):
        return _code(value), {id(stmt)}
    raise Unsafe(f"`{mock}.side_effect` is not a value an override can return (it raises, or takes the "
                 "dependency's arguments)")


def _has_params(params: cst.Parameters) -> bool:
    import libcst as cst

    return bool(params.params or params.posonly_params or params.kwonly_params or
                isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None)


def _merge_value(patch_value: str | None, configured: str | None, mock: str) -> str | None:
    if configured is None:
        return patch_value
    if patch_value is not None:
        raise Unsafe(f"the patch gives a value and the test sets `{mock}` again")
    return configured


def plan_function(func: cst.FunctionDef, in_class: bool, imports: Imports, pattern: AuthPattern,
                  callables: frozenset[str] = frozenset()) -> _FuncPlan | None:
    """What to rewrite in one test (None: nothing patched). Raises :class:`Unsafe`.
    ``callables``: the module's functions without parameters."""
    import libcst as cst

    from codemods.edit.pyimports import dotted_name

    plan = _FuncPlan()
    accounted: set[int] = set()
    decos = list(func.decorators)
    injecting_below = 0
    params = list(func.params.params)
    offset = 1 if in_class and params and params[0].name.value in ("self", "cls") else 0
    for i in range(len(decos) - 1, -1, -1):
        d = decos[i].decorator
        if not (isinstance(d, cst.Call) and is_patch_call(d)):
            continue
        if patch_targets_dependency(d, imports, pattern):
            accounted.add(id(d))
            if plan.decorators:
                raise Unsafe("the dependency is patched twice")
            value = override_value(d, object_form=(dotted_name(d.func) or "").endswith("object"),
                                   callables=callables)
            plan.decorators.append(i)
            plan.value = value
            if _injects_mock(d):
                pos = offset + injecting_below
                if pos >= len(params):
                    raise Unsafe("cannot find the mock parameter the patch passes")
                mock_name = params[pos].name.value
                configured, drop = configured_value(func.body, mock_name, callables=callables)
                plan.value = _merge_value(value, configured, mock_name)
                plan.drop |= drop
                plan.params.append(pos)
        if _injects_mock(d):
            injecting_below += 1

    class Withs(cst.CSTVisitor):
        def visit_With(self, node: cst.With) -> None:
            for k, item in enumerate(node.items):
                call = item.item
                if isinstance(call, cst.Call) and is_patch_call(call) and patch_targets_dependency(call, imports, pattern):
                    accounted.add(id(call))
                    if node.asynchronous is not None:
                        raise Unsafe("`async with` around a patch")
                    value = override_value(call, object_form=(dotted_name(call.func) or "").endswith("object"),
                                           callables=callables)
                    if item.asname is not None and isinstance(item.asname.name, cst.Name):
                        mock_name = item.asname.name.value
                        configured, drop = configured_value(func, mock_name, bindings=1, callables=callables)
                        value = _merge_value(value, configured, mock_name)
                        plan.drop |= drop
                    elif item.asname is not None:
                        raise Unsafe("the patch's mock is unpacked")
                    if id(node) in plan.withs:
                        raise Unsafe("one `with` patches the dependency twice")
                    plan.withs[id(node)] = (k, value)

    func.body.visit(Withs())

    class Stray(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            name = dotted_name(node.func) or ""
            if name.endswith("patch.multiple") and any(
                a.keyword is not None and a.keyword.value == pattern.dep_attr for a in node.args
            ):
                raise Unsafe("patch.multiple also patches other names")
            if is_patch_call(node) and id(node) not in accounted and patch_targets_dependency(node, imports, pattern):
                raise Unsafe("the patcher is started by hand (patch(...).start())")

    for deco in func.decorators:
        deco.visit(Stray())
    func.body.visit(Stray())
    if not plan.decorators and not plan.withs:
        return None
    return plan


class AuthUnpatchFixer(UsesPattern, FileFixer):
    """Turns ``mock.patch`` of the auth dependency into a FastAPI dependency override."""

    name: ClassVar[str] = "auth-unpatch"
    description: ClassVar[str] = "Rewrite mock.patch of the auth dependency (ignored by FastAPI) into an override."
    Options: ClassVar[type] = Options
    default_paths: ClassVar[tuple[str, ...]] = ("tests",)
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["tests/proxy_unit_tests/test_key_management.py"],
        note="patching user_api_key_auth does nothing for FastAPI; the override does",
    )

    def prepare(self, ctx: Context) -> None:
        # `[tool.stabfix.auth]` describes the project's pattern: use it for the keys this fixer's
        # own table and flags leave at their defaults.
        inherit_auth_table(self.options, ctx.config)
        self.load_pattern(ctx.root)

    def prefilter(self, source: SourceFile) -> bool:
        return "patch" in source.text and self.pattern.dep_attr in source.text

    def fix(self, source: SourceFile) -> Outcome:
        import libcst as cst

        from codemods.edit.pyimports import Imports, parse_module
        from codemods.fixers.auth.codegen import (
            add_imports,
            body_block,
            iter_test_defs,
            wrap_function_body,
            wrap_statements,
        )
        from codemods.fixers.auth.names import module_names
        from codemods.testsuite.junit import def_lines, nodeid_for

        pattern = self.pattern
        module = parse_module(source.text)
        imports = Imports(module)
        plans: dict[int, tuple[str, _FuncPlan]] = {}
        skipped: list[tuple[str, str]] = []
        # module functions without parameters: a `side_effect` FastAPI can call as the override
        callables = frozenset(
            s.name.value for s in module.body if isinstance(s, cst.FunctionDef) and not (
                s.params.params or s.params.posonly_params or s.params.kwonly_params
                or isinstance(s.params.star_arg, cst.Param) or s.params.star_kwarg is not None))
        for func, classes in iter_test_defs(module.body):
            nodeid = nodeid_for(source.rel, classes, func.name.value)
            try:
                p = plan_function(func, bool(classes), imports, pattern, callables)
            except Unsafe as exc:
                skipped.append((nodeid, str(exc)))
                continue
            if p is not None:
                plans[id(func)] = (nodeid, p)
        for stmt in module.body:
            if isinstance(stmt, cst.ClassDef) and any(
                isinstance(d.decorator, cst.Call) and _is_dep_patch(d.decorator, imports, pattern)
                for d in stmt.decorators
            ):
                skipped.append((f"{source.rel}::{stmt.name.value}",
                                "a class-level patch covers every test of the class: rewrite it by hand"))

        skip_text = "; ".join(f"{n}: {r}" for n, r in skipped)
        def_line = def_lines(source.text)
        skip_edits = [Edit(f"not rewritten {n}: {r}", def_line.get(n.rsplit("::", 1)[-1]),
                           kind="skipped", data={"nodeid": n}) for n, r in skipped]
        if not plans:
            if skipped:
                return Outcome(status="skipped", reason=skip_text, edits=skip_edits)
            return Outcome()

        need_identity = any(p.value is None and p.decorators for _, p in plans.values()) or any(
            v is None for _, p in plans.values() for _, v in p.withs.values())
        names = module_names(imports, pattern, need_identity=need_identity)
        with_plans = {wid: v for _, p in plans.values() for wid, v in p.withs.items()}
        drop = {sid for _, p in plans.values() for sid in p.drop}
        # the same statements in the tree being built (kept referenced: their ids stay theirs)
        dropped: dict[int, cst.SimpleStatementLine] = {}

        step = len(module.default_indent.expandtabs())

        class Rewrite(cst.CSTTransformer):
            depth = 0  # indented blocks around the node being left

            def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
                self.depth += 1

            def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
                self.depth -= 1
                if not any(dropped.get(id(s)) is s for s in updated.body):
                    return updated
                # the mock's configuration goes; its comments stay, above the next statement
                body: list[cst.BaseStatement] = []
                comments: list[cst.EmptyLine] = []
                for s in updated.body:
                    if dropped.get(id(s)) is s:
                        assert isinstance(s, cst.SimpleStatementLine)
                        comments += [e for e in s.leading_lines if e.comment is not None]
                        continue
                    if comments and isinstance(s, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                        s = s.with_changes(leading_lines=[*s.leading_lines, *comments])
                        comments = []
                    body.append(s)
                if not body:  # its only statement configured the mock
                    body = [cst.SimpleStatementLine(body=[cst.Pass()], leading_lines=comments)]
                return updated.with_changes(body=body)

            def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                          updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
                if id(original) in drop:
                    dropped[id(updated)] = updated
                return updated

            def leave_With(self, original: cst.With, updated: cst.With) -> Any:
                if id(original) not in with_plans:
                    return updated
                k, value = with_plans[id(original)]
                block = body_block(updated, module)
                column = self.depth * step
                items = [it for j, it in enumerate(updated.items) if j != k]
                if items:
                    items[-1] = items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                    inner: list[cst.BaseStatement] = [updated.with_changes(
                        items=items, lpar=cst.MaybeSentinel.DEFAULT if not updated.lpar else updated.lpar,
                        leading_lines=[])]
                    stmts = wrap_statements(inner, [], names, pattern, module, value, indent=block.indent,
                                            column=column)
                else:
                    stmts = wrap_statements(block.body, block.footer, names, pattern, module, value,
                                            indent=block.indent, column=column, shift=False)
                stmts[0] = stmts[0].with_changes(leading_lines=updated.leading_lines)
                return cst.FlattenSentinel(stmts)

            def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
                if id(original) not in plans:
                    return updated
                _, p = plans[id(original)]
                if not p.decorators:
                    return updated
                decos = [d for i, d in enumerate(updated.decorators) if i not in p.decorators]
                params = list(updated.params.params)
                for pos in sorted(p.params, reverse=True):
                    removed = params.pop(pos)
                    if pos == len(params) and params:
                        # the new last one ends as the removed one did (`\n    ):` layout kept)
                        params[-1] = params[-1].with_changes(
                            comma=removed.comma, whitespace_after_param=removed.whitespace_after_param)
                new = updated.with_changes(
                    decorators=decos, params=updated.params.with_changes(params=params),
                    leading_lines=updated.leading_lines if decos or not updated.decorators
                    else [*updated.leading_lines, *updated.decorators[0].leading_lines],
                )
                return wrap_function_body(new, names, pattern, module, p.value, depth=self.depth + 1)

        new_module = module.visit(Rewrite())
        new_module = add_imports(new_module, names, order=self.import_order, line_length=pattern.line_length)
        new_module = _remove_unused_mock_imports(new_module)
        edits = [Edit(f"{nid}: mock.patch of {pattern.dep_attr} replaced by a dependency override",
                      def_line.get(nid.rsplit("::", 1)[-1]), kind="auth-unpatch", data={"nodeid": nid})
                 for nid, _ in plans.values()]
        reason = f"{len(plans)} test(s) now override {pattern.dep_attr} instead of patching it"
        if skipped:
            reason += f"; not rewritten: {skip_text}"
        return Outcome(text=new_module.code, edits=edits, reason=reason)


def _is_dep_patch(call: cst.Call, imports: Imports, pattern: AuthPattern) -> bool:
    return is_patch_call(call) and patch_targets_dependency(call, imports, pattern)


def is_patch_call(node: cst.BaseExpression) -> bool:
    """``patch(...)`` / ``mock.patch.object(...)``... (a name of :data:`PATCH_FUNCS`)."""
    import libcst as cst

    from codemods.edit.pyimports import dotted_name

    return isinstance(node, cst.Call) and dotted_name(node.func) in PATCH_FUNCS


def patch_targets_dependency(call: cst.Call, imports: Imports, pattern: AuthPattern) -> bool:
    """``patch("...user_api_key_auth", ...)`` or ``patch.object(x, "user_api_key_auth", ...)``."""
    import libcst as cst

    from codemods.edit.pyimports import dotted_name

    def string(value: cst.BaseExpression) -> str | None:
        text = value.evaluated_value if isinstance(value, cst.SimpleString) else None
        return text if isinstance(text, str) else None

    positional = [string(a.value) for a in call.args if a.keyword is None]
    target = next((string(a.value) for a in call.args if a.keyword is not None and a.keyword.value == "target"), None)
    return pattern.patch_hits_dependency(dotted_name(call.func) or "", positional, target)


def _remove_unused_mock_imports(module: cst.Module) -> cst.Module:
    """Drop ``patch`` / ``MagicMock`` / ``mock`` imports that the rewrite left unused."""
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import RemoveImportsVisitor

    context = CodemodContext()
    for name in _MOCK_NAMES:
        RemoveImportsVisitor.remove_unused_import(context, "unittest.mock", name)
        RemoveImportsVisitor.remove_unused_import(context, "mock", name)
    RemoveImportsVisitor.remove_unused_import(context, "unittest", "mock")
    new = RemoveImportsVisitor(context).transform_module(module)
    if module.body and new.body and new.body[0] is not module.body[0] and len(new.body) < len(module.body):
        # the first statement went: do not leave the file starting with blank lines
        lead = list(new.body[0].leading_lines)
        while lead and lead[0].comment is None:
            lead.pop(0)
        new = new.with_changes(body=[new.body[0].with_changes(leading_lines=lead), *new.body[1:]])
    return new
