"""``xdist-group``: put heavy tests on one pytest-xdist worker with ``xdist_group`` marks.

Module scope writes ``pytestmark = pytest.mark.xdist_group("NAME")`` after the module's header
(docstring, ``from __future__``, imports, ``sys.path.insert`` lines), merging into an existing
``pytestmark`` (a second assignment would silently replace the first). Class and function scope add
``@pytest.mark.xdist_group("NAME")``. The mark only acts under ``--dist loadgroup``: the run warns
when nothing in the repository passes it, and when pytest 9.2.x is pinned with pytest-xdist <= 3.8.0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, FileFixer, Outcome
from codemods.core.options import option
from codemods.core.plan import Edit, Notice, Plan
from codemods.core.source import SourceFile
from codemods.edit.importorder import ImportOrder, first_party_names
from codemods.errors import UsageError

if TYPE_CHECKING:
    import libcst as cst


@dataclass
class Options:
    group: str = option(None, "Name of the xdist group (required).", metavar="NAME")
    scope: str = option("module", "Where to put the mark.", choices=("module", "class", "function"))
    only: list[str] = option([], "pytest node ids to mark (path::Class::test, parametrized ids too).",
                             metavar="NODE_ID", config=False)
    replace: bool = option(False, "Replace another xdist group already present instead of reporting it.")


def _group_of(expr: Any) -> tuple[bool, str | None]:
    """(is an xdist_group mark, its group name if a literal) for one mark expression."""
    import libcst as cst

    from codemods.edit.pyimports import dotted_name

    if not isinstance(expr, cst.Call) or not (dotted_name(expr.func) or "").endswith("mark.xdist_group"):
        return False, None
    for arg in expr.args:
        if (arg.keyword is None or arg.keyword.value == "name") and isinstance(arg.value, cst.SimpleString):
            value = arg.value.evaluated_value
            return True, value if isinstance(value, str) else None
    return True, None


class XdistGroupFixer(FileFixer):
    """Adds ``xdist_group`` marks to test modules, classes or functions."""

    name: ClassVar[str] = "xdist-group"
    description: ClassVar[str] = "Group tests on one pytest-xdist worker (pytestmark / @pytest.mark.xdist_group)."
    Options: ClassVar[type] = Options
    default_paths: ClassVar[tuple[str, ...]] = ("tests",)
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["tests/local_testing/test_router_heavy.py"], options={"group": "router_heavy"},
        note="the memory-heavy router tests share one worker",
    )

    def prepare(self, ctx: Context) -> None:
        from codemods.testsuite.nodeids import parse_node_ids

        group = self.options.group
        if not group or not str(group).strip():
            raise UsageError("xdist-group needs --group NAME (or `group` in [tool.stabfix.xdist-group])")
        if any(c in group for c in "\r\n"):
            raise UsageError("--group must be a single line")
        self._nodes = parse_node_ids(self.options.only)
        self._order = ImportOrder(first_party_names(ctx.root))  # `import pytest` goes where isort wants it

    def select(self, ctx: Context, files: list[Path]) -> list[Path]:
        from codemods.testsuite.nodeids import for_file, is_test_file

        out = []
        for f in files:
            rel = ctx.rel(f)
            if self._nodes:
                if for_file(self._nodes, rel):
                    out.append(f)
            elif is_test_file(f.name) or f in ctx.paths:
                out.append(f)
        return out

    def prefilter(self, source: SourceFile) -> bool:
        # Module scope marks every selected test module (select() already kept test modules only);
        # class and function scope need a test class or function to decorate.
        if self.options.scope == "module":
            return True
        return "def test" in source.text or "class Test" in source.text

    # -- the transform --------------------------------------------------------------------------
    def fix(self, source: SourceFile) -> Outcome:
        from codemods.edit.pyimports import parse_module
        from codemods.testsuite.nodeids import for_file

        module = parse_module(source.text)
        if source.rel.endswith("conftest.py") and self.options.scope == "module":
            return Outcome(status="skipped", reason="pytestmark in conftest.py does nothing")
        nodes = for_file(self._nodes, source.rel)
        mark_src = f"xdist_group({json.dumps(self.options.group, ensure_ascii=False)})"
        if self.options.scope == "module":
            return self._fix_module(module, mark_src, source)
        return self._fix_defs(module, mark_src, nodes, source)

    def _mark(self, module: cst.Module, mark_src: str) -> tuple[cst.Module, cst.BaseExpression]:
        import libcst as cst

        from codemods.edit.pyimports import ensure_import

        module, local = ensure_import(module, "pytest", order=self._order)
        return module, cst.parse_expression(f"{local}.mark.{mark_src}", config=module.config_for_parsing)

    def _fix_module(self, module: cst.Module, mark_src: str, source: SourceFile) -> Outcome:
        import libcst as cst

        from codemods.edit.pyimports import header_end

        group = self.options.group
        assigns = [
            i for i, stmt in enumerate(module.body)
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], (cst.Assign, cst.AnnAssign))
            and _assign_target(stmt.body[0]) == "pytestmark"
        ]
        notices = []
        if len(assigns) > 1:
            notices.append(Notice(
                f"pytestmark is assigned {len(assigns)} times: only the last one counts; merged into it",
                path=source.rel))
        if assigns:
            index = assigns[-1]
            stmt = module.body[index]
            assert isinstance(stmt, cst.SimpleStatementLine)
            small = stmt.body[0]
            assert isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
            value = small.value
            elements = list(value.elements) if isinstance(value, (cst.List, cst.Tuple)) else None
            exprs = [e.value for e in elements] if elements is not None else [value]
            for pos, expr in enumerate(exprs):
                is_group, name = _group_of(expr)
                if not is_group:
                    continue
                if name == group:
                    return Outcome(status="unchanged", reason=f"already in xdist group {group!r}", notices=notices)
                if not self.options.replace:
                    return Outcome(
                        status="skipped", notices=notices,
                        reason=f"already in xdist group {name!r}; pass --replace to move it to {group!r}",
                    )
                module, mark = self._mark(module, mark_src)
                new_value = _replace_element(value, pos, mark)
                line = _line_of(module.code_for_node(stmt), source.text)
                module = _set_stmt_value(module, stmt, small, new_value)
                return Outcome(text=module.code, notices=notices, reason=f"moved from group {name!r} to {group!r}",
                               edits=[Edit(f"pytestmark: xdist group {name!r} -> {group!r}", line, "replace")])
            module, mark = self._mark(module, mark_src)
            stmt = next(s for s in module.body if isinstance(s, cst.SimpleStatementLine) and s.body
                        and isinstance(s.body[0], (cst.Assign, cst.AnnAssign))
                        and _assign_target(s.body[0]) == "pytestmark" and s.deep_equals(stmt))
            small = stmt.body[0]
            assert isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None
            new_value = _append_element(small.value, mark)
            module = _set_stmt_value(module, stmt, small, new_value)
            text = module.code
            return Outcome(text=text, notices=notices, reason=f"merged xdist group {group!r} into pytestmark",
                           edits=[Edit(f"added xdist_group({group!r}) to the existing pytestmark",
                                       _find_line(text, r"^pytestmark\b"), "merge")])
        module, mark = self._mark(module, mark_src)
        index = header_end(module)
        new_stmt = cst.SimpleStatementLine(
            body=[cst.Assign(targets=[cst.AssignTarget(cst.Name("pytestmark"))], value=mark)],
            leading_lines=[cst.EmptyLine()] if index > 0 else [],
        )
        body = list(module.body)
        if index < len(body):
            nxt = body[index]
            if not nxt.leading_lines or not _starts_blank(nxt.leading_lines):
                body[index] = nxt.with_changes(leading_lines=[cst.EmptyLine(), *nxt.leading_lines])
        body.insert(index, new_stmt)
        text = module.with_changes(body=body).code
        return Outcome(text=text, reason=f"module in xdist group {group!r}",
                       edits=[Edit(f"pytestmark = pytest.mark.xdist_group({group!r})",
                                   _find_line(text, r"^pytestmark\b"), "insert")])

    def _fix_defs(self, module: cst.Module, mark_src: str, nodes: list[Any], source: SourceFile) -> Outcome:
        import libcst as cst

        from codemods.testsuite.nodeids import selects

        scope = self.options.scope
        group = self.options.group
        targets: list[tuple[tuple[str, ...], str | None]] = []
        for stmt in module.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value.startswith("Test"):
                cls = (stmt.name.value,)
                if scope == "class":
                    if not nodes or selects(nodes, cls, None) or any(
                            n.classes == cls for n in nodes if n.function):
                        targets.append((cls, None))
                else:
                    for inner in stmt.body.body:
                        if isinstance(inner, cst.FunctionDef) and inner.name.value.startswith("test") and (
                                not nodes or selects(nodes, cls, inner.name.value)):
                            targets.append((cls, inner.name.value))
            elif (isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test")
                  and scope == "function" and (not nodes or selects(nodes, (), stmt.name.value))):
                targets.append(((), stmt.name.value))
        notices = [Notice(f"{n} is parametrized: the mark applies to every parameter set", path=source.rel)
                   for n in nodes if n.param is not None]
        found = {(cls, fn) for cls, fn in targets}
        for n in nodes:
            key = (n.parts, None) if n.is_class else (n.classes, n.function)
            if n.parts and key not in found and not (scope == "class" and (n.classes, None) in found):
                notices.append(Notice(f"node id {n} matches no test {scope} here", path=source.rel))
        if not targets:
            return Outcome(status="unchanged", reason="no matching test class or function", notices=notices)
        module, mark = self._mark(module, mark_src)
        edits: list[Edit] = []
        skipped: list[str] = []
        wanted = set(targets)

        class Marker(cst.CSTTransformer):
            def __init__(self) -> None:
                self.stack: list[str] = []

            def visit_ClassDef(self, node: cst.ClassDef) -> bool:
                self.stack.append(node.name.value)
                return True

            def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
                self.stack.pop()
                key = ((*self.stack, original.name.value), None)
                return self._decorate(key, updated) if key in wanted else updated

            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return False

            def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
                key = (tuple(self.stack), original.name.value)
                return self._decorate(key, updated) if key in wanted else updated

            def _decorate(self, key: tuple[tuple[str, ...], str | None], node: Any) -> Any:
                label = "::".join([*key[0], *([key[1]] if key[1] else [])])
                for dec in node.decorators:
                    is_group, name = _group_of(dec.decorator)
                    if not is_group:
                        continue
                    if name == group:
                        return node
                    if not outer.options.replace:
                        skipped.append(f"{label} is already in xdist group {name!r}; pass --replace")
                        return node
                    decorators = [d.with_changes(decorator=mark) if d is dec else d for d in node.decorators]
                    edits.append(Edit(f"{label}: xdist group {name!r} -> {group!r}", None, "replace",
                                      {"target": label}))
                    return node.with_changes(decorators=decorators)
                edits.append(Edit(f"{label}: @pytest.mark.{mark_src}", None, "decorate", {"target": label}))
                return node.with_changes(decorators=[*node.decorators, cst.Decorator(decorator=mark)])

        outer = self
        new_module = module.visit(Marker())
        if not edits:
            return Outcome(status="skipped" if skipped else "unchanged", reason="; ".join(skipped)
                           or f"already in xdist group {group!r}", notices=notices)
        text = new_module.code
        for e in edits:
            name = str(e.data["target"]).split("::")[-1]
            e.line = _find_line(text, rf"^\s*(async\s+)?(def|class)\s+{re.escape(name)}\b")
        return Outcome(text=text, edits=edits, reason=f"{len(edits)} mark(s) for xdist group {group!r}",
                       notices=notices + [Notice(s, path=source.rel) for s in skipped])

    # -- run-level warnings ---------------------------------------------------------------------
    def finish(self, ctx: Context, plan: Plan) -> None:
        from codemods.testsuite import pins
        from codemods.testsuite.nodeids import same_file

        for n in self._nodes:
            if not any(same_file(n.path, f.path) for f in plan.files):
                ctx.warn(f"node id {n} matches no test module under the given paths")
        grouped = [f.path for f in plan.files if f.status == "changed" or "already in xdist group" in f.reason]
        if not grouped:
            return
        warning = loadgroup_warning(ctx.root, grouped)
        if warning:
            ctx.warn(warning)
        bad = pins.xdist_warning(pins.find_pins(ctx.root))
        if bad:
            ctx.warn(bad)


def loadgroup_warning(root: Path, grouped: list[str]) -> str | None:
    """A warning when the pytest invocations that run the ``grouped`` files (root-relative) do not
    pass ``--dist loadgroup`` (the marks then do nothing), or when nothing runs pytest with xdist."""
    from codemods.ci.scan import dist_modes

    modes = dist_modes(root)
    if not modes:
        return ("no pytest invocation with -n or pytest configuration found: xdist_group marks only act "
                "with `pytest -n N --dist loadgroup`")
    relevant = [m for m in modes if any(m.runs(f) for f in grouped)]
    config = [m for m in modes if m.file in ("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini")]
    if any(m.mode == "loadgroup" for m in config):
        relevant = [m for m in relevant if m.mode not in (None, "loadgroup")]
    lacking = [m for m in relevant if m.mode != "loadgroup"]
    if lacking:
        places = ", ".join(sorted({f"{m.file}:{m.line}" for m in lacking})[:5])
        return (f"the pytest invocations that run these tests do not pass --dist loadgroup ({places}): the "
                "xdist_group marks do nothing there until they do (`stabfix apply dist --mode loadgroup`)")
    return None


def _assign_target(node: Any) -> str | None:
    import libcst as cst

    if isinstance(node, cst.AnnAssign):
        return node.target.value if isinstance(node.target, cst.Name) else None
    if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        return str(node.targets[0].target.value)
    return None


def _starts_blank(lines: Any) -> bool:
    return bool(lines) and lines[0].comment is None


def _line_of(snippet: str, text: str) -> int | None:
    idx = text.find(snippet.strip())
    return text.count("\n", 0, idx) + 1 if idx >= 0 else None


def _find_line(text: str, pattern: str) -> int | None:
    m = re.search(pattern, text, re.M)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _set_stmt_value(module: Any, stmt: Any, small: Any, value: Any) -> Any:
    new_stmt = stmt.with_changes(body=[small.with_changes(value=value)])
    return module.with_changes(body=[new_stmt if s is stmt else s for s in module.body])


def _append_element(value: Any, mark: Any) -> Any:
    """Append a mark to a pytestmark list/tuple (keeping its layout), or make a list of one mark."""
    import libcst as cst

    if isinstance(value, (cst.List, cst.Tuple)) and value.elements:
        elements = list(value.elements)
        last = elements[-1]
        if isinstance(last.comma, cst.Comma):
            # trailing comma (usually one element per line): reuse the separator already in use
            if len(elements) > 1 and isinstance(elements[-2].comma, cst.Comma):
                sep = elements[-2].comma
            else:
                opener = value.lbracket if isinstance(value, cst.List) else (value.lpar[0] if value.lpar else None)
                ws = opener.whitespace_after if opener is not None else cst.SimpleWhitespace(" ")
                sep = cst.Comma(whitespace_after=ws)
            elements[-1] = last.with_changes(comma=sep)
            elements.append(cst.Element(mark, comma=last.comma))
        else:
            elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            elements.append(cst.Element(mark))
        return value.with_changes(elements=elements)
    if isinstance(value, (cst.List, cst.Tuple)):
        return value.with_changes(elements=[cst.Element(mark)])
    return cst.List(elements=[
        cst.Element(value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Element(mark)])


def _replace_element(value: Any, pos: int, mark: Any) -> Any:
    import libcst as cst

    if isinstance(value, (cst.List, cst.Tuple)):
        elements = list(value.elements)
        elements[pos] = elements[pos].with_changes(value=mark)
        return value.with_changes(elements=elements)
    return mark
