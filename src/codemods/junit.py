"""pytest JUnit XML reports (``--junitxml``) read as failures with pytest node ids, and node-id selections.

:func:`failures` reads one or more reports with junitparser and returns one :class:`Failure` per
failed or errored test case, with the pytest node id rebuilt from JUnit's ``classname`` and ``name``
(``tests.proxy.test_x.TestA`` + ``test_b[1]`` -> ``tests/proxy/test_x.py::TestA::test_b[1]``).
Which dotted parts are the module and which are classes is decided by the files that exist under
``root``; without a match, trailing parts that start with an upper-case letter are taken as classes.

Node ids are parsed and matched to files by :mod:`codemods.testselect`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import StabfixError
from .testselect import NodeId, parse_node_id


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
    from junitparser import Error, JUnitXml, TestCase
    from junitparser import Failure as JFailure

    patterns = [re.compile(p, re.IGNORECASE) for p in match]
    base = Path(root) if root is not None else None
    out: list[Failure] = []
    seen: set[str] = set()
    for report in paths:
        report = Path(report)
        if not report.is_file():
            raise StabfixError(f"{report}: no such JUnit report; pass the file pytest wrote with --junitxml")
        try:
            xml = JUnitXml.fromfile(str(report))
        except Exception as exc:  # junitparser raises lxml/ElementTree and its own errors
            raise StabfixError(f"{report}: not a JUnit XML report ({exc}); pass pytest's --junitxml file") from None
        suites = [xml] if xml._tag == "testsuite" else list(xml)
        for suite in suites:
            for case in suite:
                if not isinstance(case, TestCase):
                    continue
                results = [r for r in case.result if isinstance(r, (JFailure, Error))]
                if not results:
                    continue
                text = "\n".join(
                    f"{r.message or ''}\n{r.text or ''}" for r in results
                )
                if patterns and not any(p.search(text) for p in patterns):
                    continue
                file = case._elem.get("file")
                nodeid = nodeid_from_junit(case.classname or "", case.name or "", base, file)
                if nodeid in seen:
                    continue
                seen.add(nodeid)
                kind = "error" if any(isinstance(r, Error) for r in results) else "failure"
                out.append(Failure(
                    nodeid=nodeid, file=nodeid.split("::", 1)[0], classname=case.classname or "",
                    name=case.name or "", message=text.strip(), kind=kind, report=str(report),
                ))
    return out
