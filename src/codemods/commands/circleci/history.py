"""``stabfix ci history``: how each test fared across the last N pipelines of a branch.

:func:`collect_history` walks the branch's latest pipelines (newest first), their workflows and
jobs, and each job's test metadata (API v2 ``/project/{slug}/{job-number}/tests``, paginated); per
test (its pytest node id, rebuilt from ``classname`` and ``name``) it counts runs, passes,
failures (``failure`` and ``error``) and skips. A test that both failed and passed is flaky; its
failure rate is failures / (passes + failures). CircleCI's own flaky-test insight
(``GET /v2/insights/{project-slug}/flaky-tests``) is added as it is answered; when the insight is
unavailable (404, a plan without insights) the history says so and goes on.

The JSON (``--json``, and the file ``stabfix triage --history FILE`` reads) is a stable schema::

    {"schema": "stabfix-ci-history/1", "project": ..., "branch": ..., "pipelines": [{id, number, revision}],
     "tests": [{"id", "classname", "name", "file", "runs", "passed", "failed", "skipped",
                "failure_rate", "flaky", "jobs"}],
     "insights": {"available": bool, "total": int, "flaky_tests": [{"id", "test_name", "classname",
                  "file", "job_name", "times_flaked"}], "note": str}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codemods.commands.circleci.client import (
    CircleCIError,
    CircleCIUnavailable,
    Client,
    project_slug,
)
from codemods.testsuite.junit import nodeid_from_junit

SCHEMA = "stabfix-ci-history/1"
_FAILED = ("failure", "failed", "error")
_PASSED = ("success", "passed")


@dataclass
class TestHistory:
    """One test across the pipelines."""

    id: str
    classname: str
    name: str
    file: str | None
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    jobs: set[str] = field(default_factory=set)

    @property
    def runs(self) -> int:
        return self.passed + self.failed + self.skipped

    @property
    def failure_rate(self) -> float:
        ran = self.passed + self.failed
        return self.failed / ran if ran else 0.0

    @property
    def flaky(self) -> bool:
        return self.failed > 0 and self.passed > 0

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "classname": self.classname, "name": self.name, "file": self.file,
                "runs": self.runs, "passed": self.passed, "failed": self.failed, "skipped": self.skipped,
                "failure_rate": round(self.failure_rate, 4), "flaky": self.flaky, "jobs": sorted(self.jobs)}


@dataclass
class History:
    """Every test's record across ``pipelines`` plus CircleCI's flaky-test insight."""

    project: str
    branch: str | None
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    tests: dict[str, TestHistory] = field(default_factory=dict)
    insights: dict[str, Any] = field(default_factory=dict)

    def ranked(self) -> list[TestHistory]:
        """Tests that failed at least once, highest failure rate first."""
        return sorted((t for t in self.tests.values() if t.failed),
                      key=lambda t: (-t.failure_rate, -t.failed, t.id))

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "project": self.project, "branch": self.branch, "pipelines": self.pipelines,
                "tests": [t.to_json() for t in sorted(self.tests.values(), key=lambda t: t.id)],
                "insights": self.insights}


def _insight(item: dict[str, Any]) -> dict[str, Any]:
    def get(key: str) -> Any:
        return item.get(key, item.get(key.replace("-", "_")))

    classname, name, file = str(get("classname") or ""), str(get("test-name") or ""), get("file")
    return {"id": nodeid_from_junit(classname, name, None, file) if classname and name else name,
            "test_name": name, "classname": classname, "file": file, "job_name": get("job-name"),
            "times_flaked": get("times-flaked")}


def collect_history(client: Client, project: str, *, branch: str | None = None, last: int = 20,
                    insights: bool = True) -> History:
    """Per test across the last ``last`` pipelines of ``branch`` (see the module docstring)."""
    project = project_slug(project)
    if last < 1:
        raise CircleCIError("--last must be at least 1")
    history = History(project, branch)
    for pipe in client.pipelines(project, branch, limit=last):
        vcs = pipe.get("vcs") or {}
        history.pipelines.append({"id": pipe.get("id"), "number": pipe.get("number"),
                                  "revision": vcs.get("revision"), "created_at": pipe.get("created_at")})
        for wf in client.workflows(str(pipe["id"])):
            for job in client.jobs(str(wf["id"])):
                number = job.get("job_number")
                if number is None:
                    continue
                for item in client.tests(project, number):
                    classname, name = str(item.get("classname") or ""), str(item.get("name") or "")
                    if not name:
                        continue
                    file = item.get("file") if isinstance(item.get("file"), str) else None
                    nodeid = nodeid_from_junit(classname, name, None, file)
                    t = history.tests.get(nodeid)
                    if t is None:
                        t = history.tests[nodeid] = TestHistory(nodeid, classname, name, file)
                    result = str(item.get("result") or "")
                    if result in _FAILED:
                        t.failed += 1
                    elif result in _PASSED:
                        t.passed += 1
                    else:
                        t.skipped += 1
                    t.jobs.add(str(job.get("name") or ""))
    if insights:
        try:
            data = client.flaky_tests(project)
        except CircleCIUnavailable:
            raise
        except CircleCIError as exc:
            history.insights = {"available": False, "total": 0, "flaky_tests": [],
                                "note": exc.one_line().removeprefix("error: ")}
        else:
            items = data.get("flaky-tests", data.get("flaky_tests")) if isinstance(data, dict) else None
            flaky = [_insight(i) for i in items or [] if isinstance(i, dict)]
            total = data.get("total-flaky-tests", data.get("total_flaky_tests", len(flaky)))
            history.insights = {"available": True, "total": total, "flaky_tests": flaky, "note": ""}
    return history


def render_table(history: History, width: int | None = None) -> str:
    """The people's view: one line per test that failed at least once."""
    ranked = history.ranked()
    lines = [f"{history.project}{f' on {history.branch}' if history.branch else ''}: "
             f"{len(history.pipelines)} pipeline(s), {len(history.tests)} test(s), {len(ranked)} failed at least once"]
    if ranked:
        w = min(max(len(t.id) for t in ranked), width or 100)
        lines.append(f"  {'test'.ljust(w)}  {'runs':>4}  {'failed':>6}  {'rate':>6}  verdict")
        for t in ranked:
            verdict = "flaky" if t.flaky else "always fails"
            lines.append(f"  {t.id.ljust(w)}  {t.runs:>4}  {t.failed:>6}  {t.failure_rate:>6.0%}  {verdict}")
    ins = history.insights
    if ins:
        if not ins.get("available"):
            lines.append(f"CircleCI flaky-test insight: unavailable ({ins.get('note')})")
        else:
            lines.append(f"CircleCI flaky-test insight: {ins.get('total')} flaky test(s)")
            for f in ins.get("flaky_tests") or []:
                lines.append(f"  {f['id']}  flaked {f.get('times_flaked')} time(s)"
                             + (f" in {f['job_name']}" if f.get("job_name") else ""))
    return "\n".join(lines) + "\n"
