"""``stabfix triage --history FILE``: what other CI runs said about the tests that failed here.

FILE is the JSON of ``stabfix ci history --json`` (schema ``stabfix-ci-history/1``): per test node
id its runs, passes and failures across the branch's last pipelines, and CircleCI's flaky-test
insight. A test that failed here but passed in other runs (or that CircleCI's insight calls
flaky) is flaky, not a bug: the process's warning that external failures shuffle between runs.
The file is untrusted input: only counts and ids are read, and it is validated first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from codemods.errors import StabfixError

SCHEMA = "stabfix-ci-history/1"


@dataclass(frozen=True)
class Record:
    """One test's record in the history: passes and failures elsewhere, CircleCI's flaky flag."""

    passed: int
    failed: int
    runs: int
    insight: int | None  # CircleCI's times-flaked, when its insight lists the test

    @property
    def flaky_elsewhere(self) -> bool:
        return self.passed > 0 or bool(self.insight)

    def describe(self, source: str) -> str:
        rate = self.failed / (self.passed + self.failed) if self.passed + self.failed else 0.0
        text = f"history ({source}): failed {self.failed} of {self.runs} runs ({rate:.0%}), passed {self.passed}"
        return text + (f"; CircleCI insight: flaked {self.insight} time(s)" if self.insight else "")


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def read_history(path: str | Path) -> dict[str, Record]:
    """Per test node id, its :class:`Record`; a one-line error when the file is not such a history."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StabfixError(f"{p}: cannot read the history ({exc.strerror}); write it with "
                           "`stabfix ci history --json --out FILE`") from None
    except (ValueError, UnicodeDecodeError):
        raise StabfixError(f"{p}: not JSON; pass the file `stabfix ci history --json` wrote") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("tests"), list):
        raise StabfixError(f"{p}: not a stabfix CI history (schema {SCHEMA}); "
                           "pass the file `stabfix ci history --json` wrote")
    insights: dict[str, int] = {}
    ins = data.get("insights")
    for item in (ins.get("flaky_tests") if isinstance(ins, dict) else None) or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            insights[item["id"]] = _count(item.get("times_flaked")) or 1
    out: dict[str, Record] = {}
    for t in data["tests"]:
        if isinstance(t, dict) and isinstance(t.get("id"), str):
            out[t["id"]] = Record(_count(t.get("passed")), _count(t.get("failed")), _count(t.get("runs")),
                                  insights.get(t["id"]))
    for nodeid, times in insights.items():
        out.setdefault(nodeid, Record(0, 0, 0, times))
    return out
