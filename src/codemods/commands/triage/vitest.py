"""Vitest in triage: timed-out tests become ``stabfix apply vitest --timeout MS --only "file > suite > test"``.

Vitest names a test ``src/x.test.ts > suite > test`` (its file relative to Vitest's root), in its
log (``FAIL  src/x.test.ts > suite > test`` then ``Error: Test timed out in 5000ms.``) and in its JUnit
report (``classname="src/x.test.ts" name="suite &gt; test"``, read by :func:`junit_prefix`). The
``vitest`` fixer finds the file under the repository from that name, so the command needs no
PATHS; with none it edits only those tests' files (their ``userEvent.setup()`` gets
``delay: null`` too). The proposed timeout is three times the largest one the tests ran into,
at least 15 s (the seed's value), rounded up to a whole second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from codemods.commands.triage.model import Command, Finding

#: a JavaScript / TypeScript file, as Vitest names it
_JS_FILE = re.compile(r"^\S+\.(?:[cm]?[jt]sx?|mts|cts)$")
_VITEST_ID = re.compile(r"^(?P<file>\S+\.(?:[cm]?[jt]sx?|mts|cts)) > \S")
_TIMED_OUT = re.compile(r"\bTest timed out in (\d{1,9}) ?ms\b")
MIN_TIMEOUT = 15000
#: setTimeout's limit (the fixer refuses more)
MAX_TIMEOUT = 2**31 - 1


def junit_prefix(classname: str) -> str | None:
    """``"src/x.test.ts > "`` for a Vitest JUnit test case's classname (a JS/TS file), else None."""
    return f"{classname} > " if _JS_FILE.match(classname) else None


def is_vitest_id(test_id: str) -> bool:
    return _VITEST_ID.match(test_id) is not None


def timeout_commands(findings: Iterable[Finding]) -> list[Command]:
    """One ``vitest`` command for the Vitest tests among ``findings`` that timed out."""
    ids: list[str] = []
    exceeded = 0
    for f in findings:
        if f.kind != "test" or not is_vitest_id(f.id):
            continue
        texts = [f.message, *(e.text for e in f.evidence)]
        hits = [int(m.group(1)) for t in texts if (m := _TIMED_OUT.search(t[:4096]))]
        if not hits:
            continue
        ids.append(f.id)
        exceeded = max(exceeded, *hits)
    if not ids:
        return []
    ms = min(MAX_TIMEOUT, max(MIN_TIMEOUT, -(-3 * exceeded // 1000) * 1000))
    return [Command("vitest", [], [("--timeout", str(ms)), *(("--only", i) for i in ids)],
                    note=f"timed out at {exceeded} ms: a {ms} ms timeout for these tests, and "
                         "userEvent.setup({ delay: null }) in their files")]
