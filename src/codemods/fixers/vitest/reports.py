"""Vitest reports read as the tests that timed out: ``--reporter=json`` and ``--reporter=junit``.

* JSON (Jest's shape): ``testResults[].name`` is the test file (absolute), each
  ``assertionResults[]`` has ``ancestorTitles`` (the suites), ``title``, ``status``, ``duration``
  and ``failureMessages``. Vitest 4 loses the message of its timeout error in this report: the
  stack it writes starts ``Error: STACK_TRACE_ERROR`` (the placeholder of the error Vitest makes when
  the test is defined, whose text its timeout error fails to replace), so a failed test whose message
  starts so is taken as timed out, at its duration; earlier versions write ``Test timed out in 5000ms``.
* JUnit: ``<testcase classname="src/x.test.ts" name="suite &gt; test">`` with a ``<failure
  message="Test timed out in 5000ms. ...">``; the file is relative to Vitest's root.

Reports are untrusted: only names and numbers are read from them, and a name only selects a test
that the file defines (nothing from a report is written into a file but the timeout number).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from codemods.errors import UsageError
from codemods.testsuite.junit import failure_text, iter_cases, load_report

TIMED_OUT = re.compile(r"\bTest timed out in (\d{1,9}) ?ms\b")
HOOK_TIMED_OUT = re.compile(r"\bHook timed out in (\d{1,9}) ?ms\b")
LOST_MESSAGE = "Error: STACK_TRACE_ERROR"
#: a longer name is not Vitest's (it is matched against patterns, so its length is bounded)
MAX_NAME = 2000


@dataclass(frozen=True)
class TimedOut:
    """One test that timed out: its file as the report names it, its full name, the timeout hit."""

    file: str
    names: tuple[str, ...]  # suites, then the test
    timeout: int | None  # ms, when the report says it; else None
    duration: int | None  # ms the test ran, when the report says it
    report: str

    @property
    def full_name(self) -> str:
        return " > ".join(self.names)

    @property
    def exceeded(self) -> int | None:
        """The timeout the test ran into (from the message, else its duration rounded down)."""
        return self.timeout if self.timeout is not None else self.duration


@dataclass
class ReportResult:
    timed_out: list[TimedOut]
    hooks: list[str]  # "file > name" of tests whose hook timed out (not fixed by a test timeout)
    failed: int  # failed tests in the report (timed out or not)
    too_long: int = 0  # timed-out entries ignored: a name over MAX_NAME characters

    def add(self, entry: TimedOut) -> None:
        if len(entry.file) + len(entry.full_name) > MAX_NAME:
            self.too_long += 1
        else:
            self.timed_out.append(entry)


def read_report(path: Path, shown: str) -> ReportResult:
    """Read one Vitest JSON or JUnit report; a one-line :class:`UsageError` for anything else."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read the report ({exc.strerror}); pass the file vitest wrote "
                         "with --reporter=json or --reporter=junit (--outputFile)") from None
    head = data.lstrip()[:1]
    if head == b"{":
        return _json(data, shown)
    if head == b"<":
        return _junit(path, shown)
    raise UsageError(f"{shown}: not a Vitest report (expected the JSON of --reporter=json or the XML of "
                     "--reporter=junit)")


def _bad(shown: str, why: str) -> UsageError:
    return UsageError(f"{shown}: not a Vitest JSON report ({why}); pass the file vitest wrote with --reporter=json")


def _json(data: bytes, shown: str) -> ReportResult:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _bad(shown, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("testResults"), list):
        raise _bad(shown, "no testResults list")
    out = ReportResult([], [], 0)
    for i, suite in enumerate(doc["testResults"]):
        if not isinstance(suite, dict) or not isinstance(suite.get("name"), str) \
                or not isinstance(suite.get("assertionResults"), list):
            raise _bad(shown, f"testResults[{i}] has no name and assertionResults")
        file = suite["name"]
        for j, case in enumerate(suite["assertionResults"]):
            where = f"testResults[{i}].assertionResults[{j}]"
            if not isinstance(case, dict):
                raise _bad(shown, f"{where} is not an object")
            titles, title = case.get("ancestorTitles", []), case.get("title")
            messages = case.get("failureMessages") or []
            if not isinstance(title, str) or not isinstance(titles, list) or not all(isinstance(t, str) for t in titles) \
                    or not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
                raise _bad(shown, f"{where} needs a title, ancestorTitles and failureMessages of strings")
            if case.get("status") != "failed":
                continue
            out.failed += 1
            text = "\n".join(messages)
            duration = case.get("duration")
            ms = int(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool) \
                and 0 <= duration < 1e10 else None
            names = (*titles, title)
            m = TIMED_OUT.search(text)
            if m:
                out.add(TimedOut(file, names, int(m.group(1)), ms, shown))
            elif HOOK_TIMED_OUT.search(text):
                out.hooks.append(" > ".join((file, *names))[:MAX_NAME])
            elif text.lstrip().startswith(LOST_MESSAGE):
                out.add(TimedOut(file, names, None, ms, shown))
    return out


def _junit(path: Path, shown: str) -> ReportResult:
    hint = "pass the file vitest wrote with --reporter=junit"
    xml = load_report(path, shown=shown, hint=hint, missing=hint, error=UsageError)
    out = ReportResult([], [], 0)
    for suite, case in iter_cases(xml):
        failed = failure_text(case)
        if failed is None:
            continue
        text = failed[0]
        out.failed += 1
        file = case.classname or suite.name or ""
        names = tuple((case.name or "").split(" > "))
        seconds = case.time
        ms = int(seconds * 1000) if isinstance(seconds, (int, float)) and 0 <= seconds < 1e7 else None
        m = TIMED_OUT.search(text)
        if m:
            out.add(TimedOut(file, names, int(m.group(1)), ms, shown))
        elif HOOK_TIMED_OUT.search(text):
            out.hooks.append(" > ".join((file, *names))[:MAX_NAME])
    return out
