"""The development corpus of ``stabfix triage``: real CI excerpts from public issue threads, and how triage does on them.

The excerpts are third-party text: they live only in ``.cache/triage-corpus/`` (gitignored), never in the
repository. They were read from issue threads (pytest-xdist, ruff, mypy, pyright, prisma, openai-python,
litellm, vitest, npm and others) and saved by hand to ``.cache/triage-corpus/fetched.json``: a list of
``{"id", "url", "project", "category", "command", "text"}`` where ``category`` is what a maintainer would
assign and ``command`` the stabfix fixer that fixes it (null when none does). This script only records
what was fetched; it downloads nothing, so it works (and fails soft) offline.

    python scripts/triage_corpus.py record     # fetched.json -> logs/<id>.log + manifest.json
    python scripts/triage_corpus.py measure    # triage each log, then all of them in one log behind
                                               # CircleCI step banners; print the numbers (--json)

Measures: category accuracy (the maintainer's category is among triage's and nothing is left
``unknown`` unless that is the label), red logs with no finding (a log that failed but triage found
nothing), command accuracy (the expected fixer is proposed; none proposed when none is expected), and
whether the concatenated log gives every excerpt the same categories as reading it alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "triage-corpus"


def record(cache: Path) -> int:
    fetched = cache / "fetched.json"
    if not fetched.is_file():
        print(f"nothing fetched yet ({fetched} is missing): nothing to record", file=sys.stderr)
        return 0
    try:
        items = json.loads(fetched.read_text(encoding="utf-8"))
    except ValueError as exc:
        print(f"{fetched}: not JSON ({exc}); nothing recorded", file=sys.stderr)
        return 0
    logs = cache / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    manifest = []
    for item in items:
        path = logs / f"{item['id']}.log"
        path.write_text(item["text"], encoding="utf-8")
        manifest.append({k: item.get(k) for k in ("id", "url", "project", "category", "command")}
                        | {"path": str(path.relative_to(cache))})
    (cache / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    projects = {m["project"] for m in manifest}
    print(f"recorded {len(manifest)} excerpts from {len(projects)} projects in {cache / 'manifest.json'}")
    return 0


def _categories(result: Any, job: str | None = None) -> set[str]:
    return {c.name for c in result.categories
            if job is None or any(job in f.jobs or not f.jobs for f in c.findings)}


def _fixers(result: Any) -> set[str]:
    return {c.fixer for c in result.commands if c.available}


def measure(cache: Path, as_json: bool) -> int:
    from codemods.commands.triage import triage
    from codemods.commands.triage.logs import clean

    try:
        from codemods.commands.triage.scan import red_marker
    except ImportError:  # an older stabfix (to measure a baseline): the markers the issue names
        def red_marker(head: str) -> bool:
            return any(k in head for k in ("Exited with code", "exit code", "##[error]", "make: ***", "npm ERR!"))

    manifest_path = cache / "manifest.json"
    if not manifest_path.is_file():
        print(f"no corpus recorded ({manifest_path} is missing); run `record` first", file=sys.stderr)
        return 0
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for m in manifest:
            log = cache / m["path"]
            result = triage([log], root=root, out=root / "out")
            cats = _categories(result)
            fixers = _fixers(result)
            text = log.read_text(encoding="utf-8")
            red = any(red_marker(clean(line).strip()) for line in text.splitlines()) or m["category"] != "none"
            cat_ok = m["category"] in cats and ("unknown" not in cats or m["category"] == "unknown")
            cmd_ok = (m["command"] in fixers) if m["command"] else not fixers
            rows.append({"id": m["id"], "project": m["project"], "expected": m["category"],
                         "found": sorted(cats), "category_ok": cat_ok, "red": red, "no_finding": red and not cats,
                         "command": m["command"], "proposed": sorted(fixers), "command_ok": cmd_ok})
        # every excerpt behind its own CircleCI step banner, all in one log
        mixed = root / "mixed.log"
        with open(mixed, "w", encoding="utf-8") as fh:
            for m in manifest:
                fh.write(f"====>> {m['id']}\n#!/bin/bash -eo pipefail\n")
                fh.write((cache / m["path"]).read_text(encoding="utf-8").rstrip("\n") + "\n")
        together = triage([mixed], root=root, out=root / "mixed-out")
        by_step: dict[str, set[str]] = {}
        for cat in together.categories:
            for f in cat.findings:
                for e in f.evidence:
                    if e.step:
                        by_step.setdefault(e.step, set()).add(cat.name)
        for row in rows:
            # tool reports (ruff, mypy, pyright) are one finding for the whole log with a few evidence lines:
            # a step whose lint lines are not among them still has lint-type found, in that one finding
            mine, alone = by_step.get(row["id"], set()), set(row["found"])
            row["mixed"] = sorted(mine)
            row["mixed_ok"] = mine <= alone and alone - mine <= {"lint-type"}
    n = len(rows)
    red = [r for r in rows if r["red"]]
    summary = {
        "excerpts": n, "projects": len({r["project"] for r in rows}),
        "category_accuracy": sum(r["category_ok"] for r in rows) / n if n else 0.0,
        "red_logs": len(red), "red_logs_without_finding": sum(r["no_finding"] for r in rows),
        "command_accuracy": sum(r["command_ok"] for r in rows) / n if n else 0.0,
        "mixed_same_categories": sum(r["mixed_ok"] for r in rows),
        "mixed_log_categories_equal_union": {c.name for c in together.categories} == {
            c for r in rows for c in r["found"]},
    }
    if as_json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
        return 0
    for r in rows:
        flags = ("" if r["category_ok"] else " CATEGORY") + ("" if r["command_ok"] else " COMMAND") + \
            ("" if r["mixed_ok"] else " MIXED") + (" NO-FINDING" if r["no_finding"] else "")
        print(f"{r['id']:34} expected {r['expected']:15} found {','.join(r['found']) or '-':30} "
              f"cmd {r['command'] or '-'}/{','.join(r['proposed']) or '-'}{flags}")
    print(f"\n{summary['excerpts']} excerpts from {summary['projects']} projects")
    print(f"category accuracy: {summary['category_accuracy']:.1%}")
    print(f"red logs without a finding: {summary['red_logs_without_finding']} of {summary['red_logs']}")
    print(f"command accuracy: {summary['command_accuracy']:.1%}")
    print(f"mixed log (all excerpts behind CircleCI banners): same categories for "
          f"{summary['mixed_same_categories']} of {n}; the log's categories are the union of the excerpts': "
          f"{summary['mixed_log_categories_equal_union']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["record", "measure"])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "record":
        return record(args.cache)
    return measure(args.cache, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
