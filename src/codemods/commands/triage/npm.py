"""Triage of npm audit output: ``npm audit --json`` reports in CI logs become ``npm-overrides`` and
``dockerfile-pins`` commands.

A log (or a saved ``npm audit --json`` file given as a log) is searched for ``"auditReportVersion"``
in the scan's one pass over the log, and the JSON object around it is read by following the log to
its closing ``}`` (:attr:`~codemods.commands.triage.scan.LogFacts.audit_json`). This module, imported
only when a log holds such a report, validates each with the fixers' own reader
(:func:`codemods.fixers.npm.audit.parse_report`: npm 7+ shape, package names, severities, semver
ranges). A valid report is written to the triage output folder and proposed as ``stabfix apply
npm-overrides PROJECT --from FILE`` (PROJECT: the npm project under the root whose
package.json declares the report's direct dependencies) and ``stabfix apply dockerfile-pins --from
FILE``. npm's text report (``# npm audit report``, read by the scan) gets no command: it lacks the
advisories' ranges (run ``npm audit --json`` in CI, or ``stabfix apply npm-overrides --run`` locally).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from codemods.commands.triage.model import Command, ExtractedReport, Finding
from codemods.commands.triage.scan import Line, LogFacts
from codemods.errors import StabfixError

if TYPE_CHECKING:
    from codemods.commands.triage.core import _Triager

_SKIP = {"node_modules", ".git", ".venv", "venv", "__pycache__", ".stabfix"}


def npm_projects(root: Path) -> list[Path]:
    """Folders under ``root`` holding a package.json (node_modules and hidden tool folders skipped)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        if "package.json" in filenames:
            found.append(Path(dirpath))
    return found


def _declared(folder: Path) -> set[str]:
    try:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    names: set[str] = set()
    if isinstance(data, dict):
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            deps = data.get(section)
            if isinstance(deps, dict):
                names.update(deps)
    return names


def project_for(root: Path, direct: set[str]) -> str | None:
    """The one npm project under ``root`` that the report fits (relative path), or None."""
    projects = npm_projects(root)
    if len(projects) == 1:
        return projects[0].relative_to(root).as_posix() or "."
    fits = [p for p in projects if direct and direct <= _declared(p)]
    return fits[0].relative_to(root).as_posix() or "." if len(fits) == 1 else None


def npm_audit(t: _Triager, paths: list[Path], logs: list[LogFacts]) -> list[Command]:
    """Findings (added to the ``security`` category) and commands for the npm audit output in the logs.

    Runs before the log-level findings are made: a failed step whose output is an npm audit report
    is explained by it, and leaves ``facts.unknown_steps``."""
    from codemods.fixers.npm.audit import parse_report

    commands: list[Command] = []
    findings = t.log_findings["security"]
    count = 0
    for path, facts in zip(paths, logs, strict=True):
        job = facts.job or "log"
        for line, text in facts.audit_json:
            head = text.split("\n", 2)
            at = 1 if len(head) > 1 and head[0].strip() == "{" else 0  # the `"auditReportVersion": 2,` line
            evidence = [Line(str(path), line + at, head[at].strip()[:500])]
            try:
                vulns = parse_report(text, f"{path}:{line}")
            except StabfixError as exc:
                findings.append(Finding(f"{job}: npm audit --json report that stabfix cannot read", "log", "security",
                                        exc.message[:500], [job] if facts.job else [], evidence))
                continue
            end = line + text.count("\n")
            # the step that printed the report is explained by it: no "failed step, nothing known" entry
            facts.unknown_steps = [(m, tail) for m, tail in facts.unknown_steps
                                   if not any(e.line is not None and line <= e.line <= end for e in tail)]
            count += 1
            name = "npm-audit.json" if count == 1 else f"npm-audit-{count}.json"
            out = t.write_report(name, json.dumps(json.loads(text), indent=2) + "\n")
            t.result.reports.append(ExtractedReport("npm-audit", out, len(vulns), str(path)))
            listed = ", ".join(f"{v.name} ({v.severity})" for v in vulns[:10])
            findings.append(Finding(f"{job}: npm audit: {len(vulns)} vulnerable package(s)", "log", "security",
                                    listed, [job] if facts.job else [], evidence))
            project = project_for(t.root, {v.name for v in vulns if v.is_direct})
            note = "" if project else "name the npm project folder the audit ran in"
            commands.append(Command("npm-overrides", [project] if project else [], [("--from", out)], note=note,
                                    available=project is not None))
            commands.append(Command("dockerfile-pins", [], [("--from", out)],
                                    note="raises `npm install -g` pins of these packages in Dockerfiles"))
    return commands
