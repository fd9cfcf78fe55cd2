"""``flaky``: mark selected tests ``@pytest.mark.flaky(...)`` for the retry plugin the project uses.

pytest-retry reads ``flaky(retries=N, delay=S)``, pytest-rerunfailures ``flaky(reruns=N,
reruns_delay=S)``; the two clash on the marker name, so the fixer writes the keywords of the one
the project installs, detected from requirements files, pyproject.toml and CI configs
(:mod:`codemods.testsuite.pins`; ``--reruns`` in a CI command or addopts counts for pytest-rerunfailures).
``--plugin`` forces it. Tests come from ``--only`` node ids or ``--from-junit`` failures whose
message matches ``--match`` (timeouts, connection errors, 5xx by default). An existing flaky mark
is updated in place (the other plugin's keywords replaced, unrelated keywords kept), never doubled.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, FileFixer, Outcome
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.core.source import SourceFile
from codemods.edit.bindings import ast_dotted
from codemods.edit.importorder import ImportOrder, add_import_text, first_party_names
from codemods.errors import UsageError
from codemods.testsuite.junit import NodeIndex, load_selection, nodeid_for, report_unmatched

if TYPE_CHECKING:
    from codemods.testsuite.nodeids import NodeId

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
    from codemods.testsuite.pins import DEFAULT_FILES, find_pins, mentions

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
        self.index: NodeIndex = NodeIndex([])
        self.plugin = "pytest-retry"

    def prepare(self, ctx: Context) -> None:

        o = self.options
        if o.retries < 1:
            raise UsageError(f"--retries must be at least 1, got {o.retries}")
        if o.delay < 0:
            raise UsageError(f"--delay cannot be negative, got {o.delay}")
        selection = load_selection(ctx, o.only, o.from_junit, o.match)
        if selection is None:
            raise UsageError("flaky needs the tests to mark: --only NODE_ID[,NODE_ID...] or --from-junit FILE")
        self.selection = selection
        self.index = NodeIndex(selection)
        self._order = ImportOrder(first_party_names(ctx.root))  # `import pytest` goes where isort wants it
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
        return [f for f in files if self.index.for_file(ctx.rel(f))]

    def prefilter(self, source: SourceFile) -> bool:
        return "def test" in source.text

    def mark_kwargs(self) -> list[tuple[str, int]]:
        count, delay = PLUGINS[self.plugin]
        return [(count, self.options.retries), (delay, self.options.delay)]

    def fix(self, source: SourceFile) -> Outcome:
        """Locate the tests with :mod:`ast` (fast) and splice decorator lines into the text."""

        from codemods.testsuite.nodeids import selects

        text = source.text
        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            from codemods.edit.pyimports import syntax_failure  # libcst only on this path

            raise syntax_failure(text, exc.msg, exc.lineno) from None
        nodes = self.index.for_file(source.rel)
        wanted = self.mark_kwargs()
        pytest_name = _pytest_alias(tree)
        lines = text.splitlines(keepends=True)
        newline = source.newline
        kw = ", ".join(f"{k}={v}" for k, v in wanted)
        # (line index, replacement lines) splices, applied bottom-up
        splices: list[tuple[int, int, list[str]]] = []
        edits: list[Edit] = []
        skipped: list[str] = []

        def walk(body: list[ast.stmt], classes: tuple[str, ...]) -> None:
            for stmt in body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name.startswith("test"):
                    if not selects(nodes, classes, stmt.name):
                        continue
                    nid = nodeid_for(source.rel, classes, stmt.name)
                    done = self._plan_one(stmt, lines, pytest_name or "pytest", wanted, splices, newline)
                    if done is None:
                        skipped.append(f"{nid}: the def shares its line with other code; mark it by hand")
                    elif done:
                        edits.append(Edit(f"{nid}: {done} @pytest.mark.flaky({kw}) ({self.plugin})", stmt.lineno,
                                          kind="flaky", data={"nodeid": nid, "plugin": self.plugin}))
                elif isinstance(stmt, ast.ClassDef):
                    walk(stmt.body, (*classes, stmt.name))

        walk(tree.body, ())
        if not splices:
            if skipped:
                return Outcome(status="skipped", reason="; ".join(skipped))
            return Outcome()
        for start, end, new in sorted(splices, reverse=True):
            lines[start:end] = new
        new_text = "".join(lines)
        if pytest_name is None:
            new_text = add_import_text(new_text, tree, "pytest", self._order, newline) \
                or _add_import_pytest(tree, new_text, newline)
        reason = f"{len(edits)} test(s) marked flaky for {self.plugin}"
        if skipped:
            reason += "; " + "; ".join(skipped)
        return Outcome(text=new_text, edits=edits, reason=reason)

    def _plan_one(self, func: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], pytest_name: str,
                  wanted: list[tuple[str, int]], splices: list[tuple[int, int, list[str]]],
                  newline: str) -> str | None:
        """Add or update the mark of one test: "added", "updated", "" (up to date) or None (cannot)."""
        kw = ", ".join(f"{k}={v}" for k, v in wanted)
        for deco in func.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            if not (ast_dotted(target) or "").endswith("mark.flaky"):
                continue
            have = {}
            kept = []
            if isinstance(deco, ast.Call):
                for a in deco.keywords:
                    if a.arg in _RETRY_KWARGS:
                        have[a.arg] = a.value.value if isinstance(a.value, ast.Constant) else None
                    else:
                        kept.append(_segment(lines, a))
                kept = [_segment(lines, a) for a in deco.args] + kept
            if have == dict(wanted):
                return ""
            if deco.end_lineno is None or deco.end_col_offset is None:
                return None
            new_call = f"{_segment(lines, target)}({', '.join([*kept, kw])})"
            first, last = deco.lineno - 1, deco.end_lineno - 1
            head = _prefix(lines[first], deco.col_offset)
            tail = _suffix(lines[last], deco.end_col_offset)
            splices.append((first, last + 1, [head + new_call + tail]))
            return "updated"
        top = func.decorator_list[0] if func.decorator_list else func
        line = lines[top.lineno - 1]
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)]
        if not body.startswith(("@", "def", "async")):
            return None
        splices.append((top.lineno - 1, top.lineno - 1, [f"{indent}@{pytest_name}.mark.flaky({kw}){newline}"]))
        return "added"


def _add_import_pytest(tree: ast.Module, text: str, newline: str) -> str:
    """``import pytest`` after the last import of the module header, else after the docstring, else
    first (line numbers come from the original tree: the mark splices only add lines below it)."""
    last_import = doc_end = 0
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            last_import = stmt.end_lineno or stmt.lineno
        elif i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            doc_end = stmt.end_lineno or stmt.lineno
        else:
            break
    lines = text.splitlines(keepends=True)
    at = last_import or doc_end
    if at and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += newline
    if last_import:
        new = [f"import pytest{newline}"]
    elif doc_end:
        new = [newline, f"import pytest{newline}"]
    else:
        new = [f"import pytest{newline}", newline, newline]
    lines[at:at] = new
    return "".join(lines)


def _pytest_alias(tree: object) -> str | None:
    """The name ``pytest`` is imported under at top level (``import pytest [as x]``), else None."""
    assert isinstance(tree, ast.Module)
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name == "pytest":
                    return alias.asname or "pytest"
    return None


def _prefix(line: str, byte_col: int) -> str:
    """The text of ``line`` before ast's UTF-8 byte column."""
    return line.encode("utf-8")[:byte_col].decode("utf-8")


def _suffix(line: str, byte_col: int) -> str:
    return line.encode("utf-8")[byte_col:].decode("utf-8")


def _segment(lines: list[str], node: object) -> str:
    """Source text of an ast node (multi-line aware, UTF-8 columns)."""
    assert isinstance(node, (ast.expr, ast.keyword))
    start, end = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    if start == end:
        raw = lines[start].encode("utf-8")[node.col_offset:node.end_col_offset]
        return str(raw.decode("utf-8"))
    first = _suffix(lines[start], node.col_offset)
    middle = "".join(lines[start + 1:end])
    last = _prefix(lines[end], node.end_col_offset or 0)
    return first + middle + last
