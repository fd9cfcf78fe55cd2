#!/usr/bin/env python3
"""Corpus run of ``stabfix apply type-ignore --run --until-clean`` on the requests 2.32.3 sdist.

Steps: fetch the sdist from PyPI (cached under ``.cache/sdists``), unpack it, count what
``mypy --strict src/requests`` reports, run ``stabfix apply type-ignore --run --until-clean``
(the CLI, write mode, the mypy command set with ``--command``), then run mypy again. Printed and
checked: mypy reports 0 errors afterwards (``--strict`` includes ``--warn-unused-ignores``), every
changed file compiles, only comments changed (token streams without comments are equal) and a
second run changes nothing. Exit status 0 when every check holds.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_noqa_litellm import BIN, corpus_main, fetch_sdist, run_stabfix, unpack

PACKAGE, VERSION = "requests", "2.32.3"
MYPY = "mypy --strict src/requests"


def mypy_errors(root: Path) -> list[dict[str, object]]:
    proc = subprocess.run(
        [str(BIN / "mypy"), "--strict", "-O", "json", "--no-error-summary", "src/requests"],
        cwd=root, capture_output=True, text=True,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"mypy failed: {proc.stderr.strip()}")
    items = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return [d for d in items if d["severity"] == "error"]


def code_tokens(data: bytes) -> list[tuple[int, str]]:
    return [(t.type, t.string) for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type != tokenize.COMMENT]


def stabfix(root: Path, *extra: str) -> tuple[dict[str, Any], float]:
    return run_stabfix("type-ignore", root, "--run", "--command", MYPY, *extra)


def main(argv: list[str] | None = None) -> int:
    return corpus_main(argv, run, __doc__.splitlines()[0], "stabfix-mypy-")


def run(work: Path, cache: Path) -> int:
    root = unpack(fetch_sdist(PACKAGE, VERSION, cache), work)
    before = {p: p.read_bytes() for p in (root / "src").rglob("*.py")}
    errors = mypy_errors(root)
    print(f"requests {VERSION}: `{MYPY}` reports {len(errors)} errors in "
          f"{len({e['file'] for e in errors})} files")
    result, took = stabfix(root, "--until-clean")
    totals = result["totals"]
    assert isinstance(totals, dict)
    print(f"stabfix apply type-ignore --run --until-clean: {result['rounds']} round(s), {took:.1f} s; "
          f"{totals['changed']} files changed, {totals['edits']} line edits")
    for n in result["notices"]:
        if n["level"] == "info" or n["path"]:
            print(f"  {n['level']}: {n['path'] or ''}{':' + str(n['line']) if n['line'] else ''} {n['message']}")
    ok = True
    left = mypy_errors(root)
    ok &= not left
    print(f"mypy --strict again: {len(left)} errors {[(e['file'], e['line'], e['code']) for e in left[:5]]}")
    changed = [p for p in before if p.read_bytes() != before[p]]
    broken = []
    for p in changed:
        data = p.read_bytes()
        try:
            compile(data, str(p), "exec")
        except SyntaxError as exc:
            broken.append(f"{p}: {exc}")
        if code_tokens(data) != code_tokens(before[p]):
            broken.append(f"{p}: non-comment tokens changed")
    ok &= not broken
    print(f"changed files: {len(changed)}; compile/token problems: {len(broken)} {broken[:5]}")
    second, _ = stabfix(root, "--check")
    again = second["totals"]["changed"]
    ok &= again == 0
    print(f"second run (--check): {again} files would change")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
