"""``flaky``: mark selected tests ``@pytest.mark.flaky(...)`` for the retry plugin the project uses.

pytest-retry reads ``flaky(retries=N, delay=S)``, pytest-rerunfailures ``flaky(reruns=N,
reruns_delay=S)``; the two clash on the marker name, so the fixer writes the keywords of the one
the project installs, detected from requirements files, pyproject.toml and CI configs
(:mod:`codemods.pins`; ``--reruns`` in a CI command or addopts counts for pytest-rerunfailures).
``--plugin`` forces it. Tests come from ``--only`` node ids or ``--from-junit`` failures whose
message matches ``--match`` (timeouts, connection errors, 5xx by default). An existing flaky mark
is updated in place (the other plugin's keywords replaced, unrelated keywords kept), never doubled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import UsageError
from ..options import option
from ..plan import Edit
from .base import Context, DemoSpec, FileFixer, Outcome, SourceFile

if TYPE_CHECKING:
    import libcst as cst

    from ..testselect import NodeId

PLUGINS = {
    "pytest-retry": ("retries", "delay"),
    "pytest-rerunfailures": ("reruns", "reruns_delay"),
}
_RETRY_KWARGS = {"retries", "delay", "reruns", "reruns_delay"}
DEFAULT_MATCH = [
    r"time(d)?\s?out|Timeout",
    r"ConnectionError|Connection (refused|reset|error|aborted)|RemoteDisconnected|APIConnectionError",
    r"\b5\d\d\b|InternalServerError|ServiceUnavailable|Bad ?Gateway",
]
_RERUNS_FLAG = re.compile(r"(?<![\w-])--reruns(?:[ =]\d+)?")


@dataclass
class Options:
    only: list[str] = option([], "pytest node ids of the tests to mark (parametrized ids too).",
                             metavar="NODE_ID", config=False)
    from_junit: list[str] = option([], "pytest --junitxml report(s): mark the tests whose failure matches --match.",
                                   metavar="FILE", config=False)
    match: list[str] = option(list(DEFAULT_MATCH), "Regexes a --from-junit failure message must match.",
                              metavar="REGEX")
    plugin: str = option("auto", "Which retry plugin's keywords to write.",
                         choices=("auto", "pytest-retry", "pytest-rerunfailures"))
    retries: int = option(3, "How many times to retry.")
    delay: int = option(5, "Seconds between retries.")


def detect_plugin(root: Path) -> tuple[str | None, list[str]]:
    """``(plugin, evidence)``: the one retry plugin the project uses, or None with what was found."""
    from ..pins import DEFAULT_FILES, find_pins, mentions

    found: dict[str, list[str]] = {name: [] for name in PLUGINS}
    pins = find_pins(root)
    for name in PLUGINS:
        found[name] += [f"{p.file}:{p.line}" for p in mentions(pins, name)]
    for pattern in DEFAULT_FILES:
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or path.suffix == ".txt":
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for m in _RERUNS_FLAG.finditer(text):
                found["pytest-rerunfailures"].append(
                    f"{path.relative_to(root).as_posix()}:{text.count(chr(10), 0, m.start()) + 1} (--reruns)")
    used = [name for name, where in found.items() if where]
    evidence = [f"{name} ({', '.join(sorted(set(found[name]))[:3])})" for name in used]
    return (used[0] if len(used) == 1 else None), evidence


def _dotted(node: cst.BaseExpression) -> str:
    from ..authpattern import dotted

    return dotted(node) or ""


def _flaky_decorator(func: cst.FunctionDef) -> int | None:
    import libcst as cst

    for i, d in enumerate(func.decorators):
        expr = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
        if _dotted(expr).endswith("mark.flaky"):
            return i
    return None


class FlakyFixer(FileFixer):
    """Adds or updates ``@pytest.mark.flaky`` on selected tests."""

    name: ClassVar[str] = "flaky"
    description: ClassVar[str] = "Mark selected tests @pytest.mark.flaky for the project's retry plugin."
    Options: ClassVar[type] = Options
    default_paths: ClassVar[tuple[str, ...]] = ("tests",)
    demo: ClassVar[DemoSpec | None] = DemoSpec(
        paths=["tests/local_testing/test_provider_calls.py"],
        options={"only": ["tests/local_testing/test_provider_calls.py::test_completion_retries_on_connection_error"]},
        note="the provider test that fails on connection errors gets pytest-retry's flaky mark",
    )

    def __init__(self, options: Any | None = None) -> None:
        super().__init__(options)
        self.selection: list[NodeId] = []
        self.plugin = "pytest-retry"

    def prepare(self, ctx: Context) -> None:
        from .auth import load_selection, report_unmatched

        o = self.options
        if o.retries < 1:
            raise UsageError(f"--retries must be at least 1, got {o.retries}")
        if o.delay < 0:
            raise UsageError(f"--delay cannot be negative, got {o.delay}")
        selection = load_selection(ctx, o.only, o.from_junit, o.match)
        if selection is None:
            raise UsageError("flaky needs the tests to mark: --only NODE_ID[,NODE_ID...] or --from-junit FILE")
        self.selection = selection
        if o.plugin != "auto":
            self.plugin = o.plugin
        else:
            plugin, evidence = detect_plugin(ctx.root)
            if plugin is None and evidence:
                raise UsageError(
                    f"both retry plugins are in use ({'; '.join(evidence)}); they clash on the flaky marker: "
                    "pass --plugin pytest-retry or --plugin pytest-rerunfailures"
                )
            if plugin is None:
                raise UsageError(
                    "no retry plugin found in requirements, pyproject.toml or CI config: add pytest-retry or "
                    "pytest-rerunfailures, or pass --plugin"
                )
            self.plugin = plugin
        if self.selection:
            report_unmatched(ctx, self.selection, ctx.discover())

    def select(self, ctx: Context, files: list[Path]) -> list[Path]:
        from ..testselect import for_file

        return [f for f in files if for_file(self.selection, ctx.rel(f))]

    def prefilter(self, source: SourceFile) -> bool:
        return "def test" in source.text

    def mark_kwargs(self) -> list[tuple[str, int]]:
        count, delay = PLUGINS[self.plugin]
        return [(count, self.options.retries), (delay, self.options.delay)]

    def fix(self, source: SourceFile) -> Outcome:
        import libcst as cst

        from ..authpattern import parse_or_fail
        from ..imports import ensure_import, has_import
        from ..testselect import for_file, selects
        from .auth import line_of, nodeid_for

        module = parse_or_fail(source.text)
        nodes = for_file(self.selection, source.rel)
        pytest_name = has_import(module, "pytest") or "pytest"
        wanted = self.mark_kwargs()
        targets: dict[int, str] = {}
        up_to_date: list[str] = []

        def walk(body: Any, classes: tuple[str, ...]) -> None:
            for stmt in body:
                if isinstance(stmt, cst.FunctionDef) and stmt.name.value.startswith("test"):
                    if selects(nodes, classes, stmt.name.value):
                        nid = nodeid_for(source.rel, classes, stmt.name.value)
                        if _mark_is(stmt, wanted):
                            up_to_date.append(nid)
                        else:
                            targets[id(stmt)] = nid
                elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
                    walk(stmt.body.body, (*classes, stmt.name.value))

        walk(module.body, ())
        if not targets:
            return Outcome(reason="already marked" if up_to_date else "")

        new_mark = cst.parse_expression(
            f"{pytest_name}.mark.flaky({', '.join(f'{k}={v}' for k, v in wanted)})")
        updated_ids: list[str] = []

        class Mark(cst.CSTTransformer):
            def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
                if id(original) not in targets:
                    return updated
                decos = list(updated.decorators)
                i = _flaky_decorator(updated)
                if i is None:
                    decos.insert(0, cst.Decorator(decorator=new_mark))
                else:
                    decos[i] = decos[i].with_changes(decorator=_merge_mark(decos[i].decorator, wanted))
                    updated_ids.append(targets[id(original)])
                return updated.with_changes(decorators=decos)

        new_module = module.visit(Mark())
        if has_import(new_module, "pytest") is None:
            new_module, _ = ensure_import(new_module, "pytest")
        kw = ", ".join(f"{k}={v}" for k, v in wanted)
        edits = [Edit(f"{nid}: {'updated' if nid in updated_ids else 'added'} @pytest.mark.flaky({kw}) "
                      f"({self.plugin})", line_of(source.text, nid.rsplit("::", 1)[-1]), kind="flaky",
                      data={"nodeid": nid, "plugin": self.plugin}) for nid in targets.values()]
        return Outcome(text=new_module.code, edits=edits,
                       reason=f"{len(targets)} test(s) marked flaky for {self.plugin}")


def _mark_is(func: cst.FunctionDef, wanted: list[tuple[str, int]]) -> bool:
    """The test already carries exactly these retry keywords (and no other plugin's)."""
    import libcst as cst

    i = _flaky_decorator(func)
    if i is None:
        return False
    d = func.decorators[i].decorator
    if not isinstance(d, cst.Call):
        return False
    have = {}
    for a in d.args:
        if a.keyword is not None and a.keyword.value in _RETRY_KWARGS:
            have[a.keyword.value] = a.value.value if isinstance(a.value, cst.Integer) else None
    return have == {k: str(v) for k, v in wanted}


def _merge_mark(expr: cst.BaseExpression, wanted: list[tuple[str, int]]) -> cst.Call:
    """Replace the retry keywords of an existing flaky mark, keeping its other arguments."""
    import libcst as cst

    if isinstance(expr, cst.Call):
        call = expr
        kept = [a for a in call.args if not (a.keyword is not None and a.keyword.value in _RETRY_KWARGS)]
    else:
        call = cst.Call(func=expr)
        kept = []
    new_args = [cst.Arg(keyword=cst.Name(k), value=cst.Integer(str(v)),
                        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                              whitespace_after=cst.SimpleWhitespace("")))
                for k, v in wanted]
    args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in kept] + new_args
    return call.with_changes(args=args)
