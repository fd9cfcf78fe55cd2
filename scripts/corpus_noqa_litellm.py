#!/usr/bin/env python3
"""Corpus run of ``stabfix apply noqa`` on the litellm 1.80.0 sdist (real code, ~46,600 diagnostics).

Steps: fetch the sdist from PyPI (cached under ``.cache/sdists``), unpack it into a work folder,
``ruff check --isolated --select E,W,F,B,C4,PL,UP,SIM --output-format json`` -> ``stabfix apply
noqa --from`` (the CLI, write mode, ``--json``) -> the same ruff check again. Printed and checked:

* ruff reports nothing but the diagnostics stabfix reported as not suppressible (same set);
* every changed file compiles;
* ``RUF100`` added to the selection finds no unused code that stabfix wrote (litellm has its own);
* a second ``stabfix apply noqa --check`` on a fresh report changes nothing.

Exit status 0 when every check holds. ``--work DIR`` keeps the tree; the default is a temp folder.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGE, VERSION = "litellm", "1.80.0"
SELECT = "E,W,F,B,C4,PL,UP,SIM"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ run by path or loaded by tests
import sdists  # noqa: E402


def fetch_sdist(name: str, version: str, cache: Path) -> Path:
    """The sdist tarball, downloaded with pip into ``cache`` unless already there."""
    return sdists.fetch_sdist(name, version, cache)


def unpack(tarball: Path, dest: Path) -> Path:
    with tarfile.open(tarball) as tf:
        tf.extractall(dest, filter="data")
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    return root


def ruff_report(root: Path, select: str = SELECT) -> str:
    proc = subprocess.run(
        [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--select", select, "--output-format", "json", "."],
        cwd=root, capture_output=True, text=True,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ruff failed: {proc.stderr.strip()}")
    return proc.stdout


def keyed(items: list[dict[str, object]], root: Path) -> Counter[tuple[str, int, str]]:
    out: Counter[tuple[str, int, str]] = Counter()
    for d in items:
        loc = d["location"]
        assert isinstance(loc, dict)
        rel = Path(str(d["filename"])).relative_to(root).as_posix()
        out[(rel, int(loc["row"]), str(d["code"]))] += 1
    return out


def run_stabfix(fixer: str, root: Path, *extra: str) -> tuple[dict[str, Any], float]:
    """``stabfix apply FIXER --root ROOT ... --json --quiet``: the JSON report and the wall time."""
    argv = [str(BIN / "stabfix"), "apply", fixer, "--root", str(root), *extra, "--json", "--quiet"]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        raise SystemExit(f"stabfix failed (exit {proc.returncode}): {proc.stderr.strip()[:2000]}")
    return json.loads(proc.stdout), took


def stabfix(root: Path, report: Path, mode: str) -> tuple[dict[str, Any], float]:
    return run_stabfix("noqa", root, "--from", str(report), *(["--check"] if mode == "check" else []))


def corpus_main(argv: list[str] | None, run: Callable[[Path, Path], int], description: str, prefix: str) -> int:
    """The shared command line of the corpus scripts: ``--work`` (kept) or a temporary folder."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--work", type=Path, help="folder to unpack into (kept); default: a temp folder")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "sdists")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(work, args.cache)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    return corpus_main(argv, run, __doc__.splitlines()[0], "stabfix-noqa-")


def run(work: Path, cache: Path) -> int:
    root = unpack(fetch_sdist(PACKAGE, VERSION, cache), work)
    before = {p: p.read_bytes() for p in root.rglob("*.py")}
    report = work / "ruff.json"
    t0 = time.perf_counter()
    report.write_text(ruff_report(root), encoding="utf-8")
    ruff_s = time.perf_counter() - t0
    diags = json.loads(report.read_text(encoding="utf-8"))
    files = {d["filename"] for d in diags}
    print(f"litellm {VERSION}: {len(before)} .py files; ruff --select {SELECT}: {len(diags)} diagnostics "
          f"in {len(files)} files ({report.stat().st_size / 1e6:.1f} MB JSON, {ruff_s:.1f} s)")

    result, took = stabfix(root, report, "write")
    totals = result["totals"]
    assert isinstance(totals, dict)
    notices = result["notices"]
    assert isinstance(notices, list)
    not_suppressible: Counter[tuple[str, int, str]] = Counter()
    reasons: Counter[str] = Counter()
    written: dict[tuple[str, int], set[str]] = {}
    for n in notices:
        if n["level"] == "warning" and n["path"] and n["line"]:
            code, _, why = str(n["message"]).partition(": ")
            not_suppressible[(n["path"], n["line"], code)] += 1
            reasons[why.split(":")[-1].strip()[:60] if "whitespace-only" not in why else "whitespace-only line"] += 1
    codes_added = 0
    for f in result["files"]:
        for e in f["edits"]:
            written[(f["path"], e["line"])] = set(e["added"])
            codes_added += len(e["added"])
    print(f"stabfix apply noqa --from (write): {took:.1f} s; {totals['changed']} files changed, "
          f"{totals['edits']} lines with a directive written ({codes_added} codes), "
          f"{sum(not_suppressible.values())} reported not suppressible, {totals['failed']} failed")
    for why, n in reasons.most_common():
        print(f"  not suppressible: {n:5d} x {why}")

    ok = True
    after_report = ruff_report(root)
    remaining = keyed(json.loads(after_report), root)
    same = remaining == not_suppressible
    ok &= same
    print(f"ruff again: {sum(remaining.values())} diagnostics; equal to the not-suppressible set: {same}")
    if not same:
        print("  only in ruff:", list((remaining - not_suppressible).items())[:10])
        print("  only in stabfix:", list((not_suppressible - remaining).items())[:10])

    changed = [p for p in before if p.read_bytes() != before[p]]
    broken = []
    for p in changed:
        try:
            compile(p.read_bytes(), str(p), "exec")
        except SyntaxError as exc:
            broken.append(f"{p.relative_to(root)}: {exc}")
    ok &= not broken
    print(f"changed files: {len(changed)}; compile errors: {len(broken)} {broken[:5]}")

    unused_ours = 0
    unused_total = 0
    for d in json.loads(ruff_report(root, SELECT + ",RUF100")):
        if d["code"] != "RUF100":
            continue
        unused_total += 1
        rel = Path(d["filename"]).relative_to(root).as_posix()
        codes = set(re.findall(r"`([A-Z]+[0-9]+)`", d["message"]))
        if codes & written.get((rel, d["location"]["row"]), set()):
            unused_ours += 1
    ok &= unused_ours == 0
    print(f"RUF100 after: {unused_total} unused directives in total, {unused_ours} of them written by stabfix")

    report2 = work / "ruff2.json"
    report2.write_text(after_report, encoding="utf-8")
    second, took2 = stabfix(root, report2, "check")
    again = second["totals"]["changed"]
    ok &= again == 0
    print(f"second run (--check): {again} files would change ({took2:.1f} s)")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
