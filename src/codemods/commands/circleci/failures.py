"""``ci failures`` and ``ci status``: a pipeline's failed jobs written for ``stabfix triage``.

:func:`fetch_failures` writes ``DIR/<job>.log`` (each failed step's output after a ``====>> <step>``
banner) and ``DIR/<job>.junit.xml`` (the job's test metadata as JUnit XML, :func:`junit_xml`);
:func:`pipeline_status` reads the jobs of a pipeline with their status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codemods.commands.circleci.client import FAILED, Client, latest_pipeline, project_slug


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "job"


def junit_xml(job: str, items: list[Any]) -> str:
    """CircleCI test metadata as a JUnit XML document (what pytest's --junitxml would have said)."""
    from xml.sax.saxutils import quoteattr

    lines = [f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name={quoteattr(job)} '
             f'tests="{len(items)}">']
    for t in items:
        attrs = (f"classname={quoteattr(str(t.get('classname') or ''))} name={quoteattr(str(t.get('name') or ''))}"
                 f" time={quoteattr(str(t.get('run_time') or 0))}")
        if t.get("file"):
            attrs += f" file={quoteattr(str(t['file']))}"
        result = t.get("result")
        message = str(t.get("message") or "")
        if result in ("failure", "error"):
            tag = "failure" if result == "failure" else "error"
            first = message.strip().splitlines()[0] if message.strip() else result
            from xml.sax.saxutils import escape

            lines.append(f"<testcase {attrs}><{tag} message={quoteattr(first)}>{escape(message)}</{tag}></testcase>")
        elif result == "skipped":
            lines.append(f"<testcase {attrs}><skipped /></testcase>")
        else:
            lines.append(f"<testcase {attrs} />")
    lines.append("</testsuite></testsuites>\n")
    return "\n".join(lines)


@dataclass
class JobFailure:
    """What ``ci failures`` wrote for one failed job."""

    name: str
    number: int | None
    status: str
    log: str | None = None
    junit: str | None = None
    failed_steps: list[str] = field(default_factory=list)
    tests_failed: int = 0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"job": self.name, "job_number": self.number, "status": self.status, "log": self.log,
                "junit": self.junit, "failed_steps": self.failed_steps, "tests_failed": self.tests_failed,
                "note": self.note}


def fetch_failures(client: Client, project: str, out: Path, *, branch: str | None = None,
                   pipeline_id: str | None = None) -> tuple[Any, list[JobFailure]]:
    """Write each failed job's failed-step output and test results to ``out``; return what was written."""
    project = project_slug(project)
    pipe = client.pipeline(pipeline_id) if pipeline_id else latest_pipeline(client, project, branch)
    out.mkdir(parents=True, exist_ok=True)
    written: list[JobFailure] = []
    used: dict[str, int] = {}
    for wf in client.workflows(pipe["id"]):
        for job in client.jobs(wf["id"]):
            if job.get("status") not in FAILED:
                continue
            name = str(job.get("name") or "job")
            used[name] = used.get(name, 0) + 1
            stem = _safe(name) + (f"-{used[name]}" if used[name] > 1 else "")
            number = job.get("job_number")
            result = JobFailure(name, number, str(job.get("status")))
            written.append(result)
            if number is None:
                result.note = "no job number (not run on CircleCI's executors)"
                continue
            details = client.job_v1(project, number)
            chunks: list[str] = []
            for step in details.get("steps") or []:
                for action in step.get("actions") or []:
                    failed = action.get("failed") or action.get("status") in FAILED
                    if not failed:
                        continue
                    step_name = str(step.get("name") or action.get("name") or "step")
                    label = step_name + (f" (container {action['index']})" if action.get("index") else "")
                    result.failed_steps.append(label)
                    text = client.output(action["output_url"]) if action.get("output_url") else ""
                    if not text and not action.get("has_output", True):
                        text = "(no output)\n"
                    chunks.append(f"====>> {label}\n{text}")
                    if not text.endswith("\n"):
                        chunks.append("\n")
                    if action.get("exit_code") is not None:
                        chunks.append(f"Exited with code exit status {action['exit_code']}\n")
            if chunks:
                path = out / f"{stem}.log"
                path.write_text("".join(chunks), encoding="utf-8")
                result.log = str(path)
            else:
                result.note = "the job failed but no step failed (canceled, infrastructure or timeout)"
            tests = client.tests(project, number)
            if tests:
                path = out / f"{stem}.junit.xml"
                path.write_text(junit_xml(name, tests), encoding="utf-8")
                result.junit = str(path)
                result.tests_failed = sum(1 for t in tests if t.get("result") in ("failure", "error"))
    (out / "pipeline.json").write_text(json.dumps({
        "project": project, "pipeline": {k: pipe.get(k) for k in ("id", "number", "state", "created_at")},
        "jobs": [j.to_json() for j in written]}, indent=2) + "\n", encoding="utf-8")
    return pipe, written


def pipeline_status(client: Client, project: str, *, branch: str | None = None,
                    pipeline_id: str | None = None) -> dict[str, Any]:
    """The latest (or given) pipeline with its workflows and their jobs' status."""
    project = project_slug(project)
    pipe = client.pipeline(pipeline_id) if pipeline_id else latest_pipeline(client, project, branch)
    workflows = []
    for wf in client.workflows(pipe["id"]):
        jobs = [{"name": j.get("name"), "status": j.get("status"), "job_number": j.get("job_number")}
                for j in client.jobs(wf["id"])]
        workflows.append({"name": wf.get("name"), "status": wf.get("status"), "id": wf.get("id"), "jobs": jobs})
    return {"project": project, "pipeline": {k: pipe.get(k) for k in ("id", "number", "state", "created_at")},
            "workflows": workflows}


