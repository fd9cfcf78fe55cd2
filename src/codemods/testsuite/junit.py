"""pytest JUnit XML reports (``--junitxml``) read as failures with pytest node ids, and node-id selections.

:func:`failures` reads one or more reports with junitparser and returns one :class:`Failure` per
failed or errored test case, with the pytest node id rebuilt from JUnit's ``classname`` and ``name``
(``tests.proxy.test_x.TestA`` + ``test_b[1]`` -> ``tests/proxy/test_x.py::TestA::test_b[1]``).
Which dotted parts are the module and which are classes is decided by the files that exist under
``root``; without a match, trailing parts that start with an upper-case letter are taken as classes.

:func:`load_report` (one error for a missing or unreadable report), :func:`iter_cases` and
:func:`failure_text` are the reading every JUnit consumer shares (this module, triage's runs,
vitest's timeout reports).

Node ids are parsed and matched to files by :mod:`codemods.testsuite.nodeids`. :func:`load_selection`,
:class:`NodeIndex` and :func:`report_unmatched` are the ``--only`` / ``--from-junit`` selection the
test codemods (auth, flaky) share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods.errors import StabfixError, UsageError
from codemods.testsuite.nodeids import NodeId, parse_node_id

if TYPE_CHECKING:
    from codemods.core.context import Context


@dataclass(frozen=True)
class Failure:
    """One failed (``kind="failure"``) or errored (``kind="error"``) test case of a JUnit report."""

    nodeid: str
    file: str  # POSIX path of the test module (relative, as pytest wrote it)
    classname: str
    name: str
    message: str  # the failure's message attribute plus its text
    kind: str
    report: str  # the report file it came from

    @property
    def node(self) -> NodeId:
        return parse_node_id(self.nodeid)


def nodeid_from_junit(classname: str, name: str, root: Path | None = None, file: str | None = None) -> str:
    """Rebuild the pytest node id of a JUnit test case."""
    parts = [p for p in classname.split(".") if p]
    module_parts: list[str] | None = None
    classes: list[str] = []
    if file:
        stem = file.replace("\\", "/").removesuffix(".py").split("/")
        if parts[: len(stem)] == stem:
            module_parts, classes = stem, parts[len(stem):]
    if module_parts is None and root is not None:
        for i in range(len(parts), 0, -1):
            if (root / Path(*parts[:i])).with_suffix(".py").is_file():
                module_parts, classes = parts[:i], parts[i:]
                break
    if module_parts is None:
        i = len(parts)
        while i > 1 and parts[i - 1][:1].isupper():
            i -= 1
        module_parts, classes = parts[:i], parts[i:]
    return "::".join(["/".join(module_parts) + ".py", *classes, name])


def load_report(path: Path, *, shown: str | None = None, hint: str = "pass pytest's --junitxml file",
                missing: str = "pass the file pytest wrote with --junitxml",
                error: type[StabfixError] = StabfixError) -> Any:
    """A JUnit XML report parsed by junitparser; a missing or unreadable report is one clear ``error``
    (``shown``: how the path is named in it; ``hint``/``missing``: what to pass instead)."""
    from junitparser import JUnitXml

    name = shown if shown is not None else str(path)
    if not path.is_file():
        raise error(f"{name}: no such JUnit report; {missing}")
    try:
        return JUnitXml.fromfile(str(path))
    except Exception as exc:  # junitparser re-raises the XML parser's errors
        raise error(f"{name}: not a JUnit XML report ({exc}); {hint}") from None


def iter_cases(xml: Any) -> Iterator[tuple[Any, Any]]:
    """``(suite, case)`` for every test case of a parsed report (one ``<testsuite>`` or several)."""
    from junitparser import TestCase

    for suite in [xml] if xml._tag == "testsuite" else list(xml):
        for case in suite:
            if isinstance(case, TestCase):
                yield suite, case


def failure_text(case: Any) -> tuple[str, bool] | None:
    """The messages and texts of a case's failures and errors, and whether one is an error (None:
    the case did not fail)."""
    from junitparser import Error, Failure

    results = [r for r in case.result if isinstance(r, (Failure, Error))]
    if not results:
        return None
    return "\n".join(f"{r.message or ''}\n{r.text or ''}" for r in results), \
        any(isinstance(r, Error) for r in results)


def failures(
    paths: Sequence[str | Path],
    *,
    match: Sequence[str] = (),
    root: str | Path | None = None,
) -> list[Failure]:
    """Failed and errored test cases of the JUnit reports, optionally filtered by message.

    ``match`` holds regular expressions (case-insensitive) searched in each failure's message and
    text; an empty ``match`` keeps every failure. A report that is missing or is not JUnit XML
    raises :class:`~codemods.errors.StabfixError`.
    """
    patterns = [re.compile(p, re.IGNORECASE) for p in match]
    base = Path(root) if root is not None else None
    out: list[Failure] = []
    seen: set[str] = set()
    for report in paths:
        report = Path(report)
        for _, case in iter_cases(load_report(report)):
            failed = failure_text(case)
            if failed is None:
                continue
            text, errored = failed
            if patterns and not any(p.search(text) for p in patterns):
                continue
            file = case._elem.get("file")
            nodeid = nodeid_from_junit(case.classname or "", case.name or "", base, file)
            if nodeid in seen:
                continue
            seen.add(nodeid)
            kind = "error" if errored else "failure"
            out.append(Failure(
                nodeid=nodeid, file=nodeid.split("::", 1)[0], classname=case.classname or "",
                name=case.name or "", message=text.strip(), kind=kind, report=str(report),
            ))
    return out


# -- selecting tests: --only node ids and --from-junit failures ---------------------------------------


def load_selection(ctx: Context, only: list[str], junit: list[str], match: list[str]) -> list[NodeId] | None:
    """Node ids from ``--only`` and the matching failures of ``--from-junit`` (None: no selection)."""
    from codemods.testsuite.nodeids import parse_node_ids

    if not only and not junit:
        return None
    nodes = parse_node_ids(only)
    if junit:
        reports = []
        for j in junit:
            p = Path(j)
            if not p.is_absolute() and not p.exists():
                p = ctx.root / p
            reports.append(p)
        for pat in match:
            try:
                re.compile(pat)
            except re.error as exc:
                raise UsageError(f"--match {pat!r} is not a regular expression: {exc}") from None
        found = failures(reports, match=match, root=ctx.root)
        if not found:
            ctx.info(f"no failure in {', '.join(junit)} matches {' | '.join(match)}: nothing selected")
        nodes += parse_node_ids(f.nodeid for f in found)
    return nodes


class NodeIndex:
    """Node ids grouped by file name, so that matching a file costs a dict lookup, not a scan."""

    def __init__(self, nodes: list[NodeId]) -> None:
        self.by_name: dict[str, list[NodeId]] = {}
        for n in nodes:
            self.by_name.setdefault(n.path.rsplit("/", 1)[-1], []).append(n)

    def for_file(self, rel: str) -> list[NodeId]:
        from codemods.testsuite.nodeids import for_file

        return for_file(self.by_name.get(rel.rsplit("/", 1)[-1], []), rel)


def report_unmatched(ctx: Context, nodes: list[NodeId], files: list[Path]) -> None:
    """Warn about node ids whose file is not under PATHS, or whose test is not in its file."""
    from codemods.testsuite.nodeids import same_file

    by_name: dict[str, list[str]] = {}
    for f in files:
        rel = ctx.rel(f)
        by_name.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    texts: dict[str, str] = {}
    for n in nodes:
        hits = [r for r in by_name.get(n.path.rsplit("/", 1)[-1], []) if same_file(n.path, r)]
        if not hits:
            ctx.warn(f"{n}: no such test file under the given paths")
            continue
        name = n.function or (n.classes[-1] if n.classes else None)
        if name is None:
            continue
        rel = hits[0]
        if rel not in texts:
            try:
                texts[rel] = (ctx.root / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                texts[rel] = ""
        if not re.search(rf"\b(def|class)\s+{re.escape(name)}\b", texts[rel]):
            ctx.warn(f"{n}: no test named {name} in {rel}", path=rel)


#: a ``def`` line and its function's name
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)


def def_lines(text: str) -> dict[str, int]:
    """1-based line of the first ``def name`` of every function name in ``text`` (for reports),
    in one pass over the text."""
    out: dict[str, int] = {}
    line, pos = 1, 0
    for m in _DEF.finditer(text):
        if m.group(1) not in out:
            line += text.count("\n", pos, m.start())
            pos = m.start()
            out[m.group(1)] = line
    return out


def nodeid_for(rel: str, classes: tuple[str, ...], name: str) -> str:
    """The pytest node id of a test function (without parameters)."""
    return "::".join((rel, *classes, name))
