#!/usr/bin/env python
"""Corpus run for the test codemods: ``auth`` (diff, then write) and ``flaky`` over real test modules.

The corpus: every test module (``test_*.py`` / ``*_test.py``, with the ``conftest.py`` files beside
them) of this interpreter's site-packages, of the litellm 1.80.0 sdist, and of the sdists of FastAPI,
pytest, pydantic, Starlette and httpx (their test suites; FastAPI's is TestClient-heavy). Sdists are
fetched with ``pip download --no-deps --no-binary NAME`` and cached under ``.cache/corpus_tests``.
Everything is copied into a scratch folder, so nothing outside it is written.

Checks (exit 1 when one fails): no crash (no file failed for any reason but a syntax error or an
undecodable file in the corpus itself), every written file parses, a second run changes nothing.
``auth`` runs with LiteLLM's defaults (``--diff``), then with ``--app fastapi.applications:app``
in both styles so that corpus modules are really transformed (written, parsed, run again). ``flaky`` marks the first test function and the first
test method of every module.

    python scripts/corpus_tests.py [--work DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import sysconfig
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "corpus_tests"
SDISTS = [
    ("litellm", "1.80.0"), ("fastapi", "0.165.0"), ("pytest", "9.1.1"), ("pydantic", "2.14.3"),
    ("starlette", "1.10.0"), ("httpx", "0.28.1"),
]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ run by path or loaded by tests
import sdists  # noqa: E402

SDIST_DIRS = [Path("/tmp/sdists")]  # already downloaded copies are used when present


def is_test_module(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def fetch_sdist(name: str, version: str) -> Path:
    """The sdist archive (cached; downloaded with pip when missing)."""
    for d in SDIST_DIRS:
        for stem in (f"{name.replace('-', '_')}-{version}.tar.gz", f"{name}-{version}.tar.gz"):
            if (d / stem).is_file():
                return d / stem
    return sdists.fetch_sdist(name, version, CACHE)


def build_corpus(dest: Path, limit: int | None = None) -> list[Path]:
    """Copy the corpus's test modules (and their conftest.py files) under ``dest``; return the modules."""
    dest.mkdir(parents=True, exist_ok=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for path in sorted(site.rglob("*.py")):
        if is_test_module(path.name) or (path.name == "conftest.py"):
            target = dest / "site" / path.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    for name, version in SDISTS:
        with tarfile.open(fetch_sdist(name, version)) as tar:
            for member in tar.getmembers():
                base = member.name.rsplit("/", 1)[-1]
                if not member.isfile() or not (is_test_module(base) or base == "conftest.py"):
                    continue
                data = tar.extractfile(member)
                if data is None:
                    continue
                target = dest / name / member.name.split("/", 1)[-1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data.read())
    modules = sorted(p for p in dest.rglob("*.py") if is_test_module(p.name))
    if limit is not None:
        for extra in modules[limit:]:
            extra.unlink()
        modules = modules[:limit]
    return modules


def first_tests(path: Path, root: Path) -> list[str]:
    """Node ids of the first test function and the first test method of a module (ast)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return []
    rel = path.relative_to(root).as_posix()
    out: list[str] = []
    func = next((n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name.startswith("test")), None)
    if func:
        out.append(f"{rel}::{func}")
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")):
        meth = next((n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.name.startswith("test")), None)
        if meth:
            out.append(f"{rel}::{cls.name}::{meth}")
            break
    return out


def crashes(report: object) -> list[str]:
    """Failures that are stabfix's fault (not a syntax error or bad bytes in the corpus file)."""
    bad = []
    for f in report.plan.files:  # type: ignore[attr-defined]
        if f.status != "failed":
            continue
        if f.reason.startswith(("syntax error", "not valid", "binary file", "bad encoding", "unknown encoding")) \
                or "syntax error:" in f.reason:
            continue
        bad.append(f"{f.path}: {f.reason}")
    return bad


def unparsable(root: Path, paths: list[str]) -> list[str]:
    import libcst

    out = []
    for rel in paths:
        text = (root / rel).read_bytes()
        try:
            ast.parse(text)
        except SyntaxError:
            try:
                libcst.parse_module(text)
            except Exception as exc:
                out.append(f"{rel}: {exc}")
    return out


def run_fixer(name: str, root: Path, label: str, **options: object) -> dict[str, object]:
    """diff -> write -> check again; returns the numbers and the problems found."""
    import codemods

    t0 = time.perf_counter()
    # the write run plans exactly what --diff shows, then applies it
    written = diff = codemods.apply(name, ["."], root=root, mode="write", **options)
    t_diff = time.perf_counter() - t0
    changed = [f.path for f in written.plan.files if f.status == "changed"]
    again = codemods.apply(name, ["."], root=root, mode="check", **options)
    totals = diff.plan.totals()
    edits = sum(1 for f in diff.plan.files if f.status == "changed" for e in f.edits if e.kind != "skipped")
    skipped_tests = sum(1 for f in diff.plan.files for e in f.edits if e.kind == "skipped") + sum(
        f.reason.count("; ") + 1 for f in diff.plan.files if f.status == "changed" and "skipped" in f.reason)
    problems = crashes(written)
    problems += [f"not parsable after write: {p}" for p in unparsable(root, changed)]
    rerun = [f.path for f in again.plan.files if f.status == "changed"]
    problems += [f"second run changes {p}" for p in rerun]
    syntax = sum(1 for f in diff.plan.files if f.status == "failed") - len(crashes(diff))
    return {
        "label": label, "files": totals["files"], "changed": totals["changed"], "edits": edits,
        "skipped_files": totals["skipped"], "syntax_errors": syntax,
        "rerun_changes": len(rerun), "seconds": round(t_diff, 2), "problems": problems,
        "skipped_tests_approx": skipped_tests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--limit", type=int, help="only the first N test modules (quick runs)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="stabfix-corpus-tests-"))
    if work.exists():
        shutil.rmtree(work)
    modules = build_corpus(work / "corpus", args.limit)
    root = work / "corpus"
    print(f"corpus: {len(modules)} test modules under {root}")
    for name, version in SDISTS:
        n = sum(1 for m in modules if m.relative_to(root).parts[0] == name)
        print(f"  {name} {version}: {n}")
    print(f"  site-packages: {sum(1 for m in modules if m.relative_to(root).parts[0] == 'site')}")

    import codemods

    results = []
    # 1. auth --diff with LiteLLM's defaults (few corpus modules name litellm's proxy_server)
    t0 = time.perf_counter()
    plain = codemods.apply("auth", ["."], root=root, mode="diff")
    problems = crashes(plain)
    print(f"auth --diff (LiteLLM defaults): files={plain.plan.totals()['files']}, "
          f"changed={plain.plan.totals()['changed']}, seconds={time.perf_counter() - t0:.2f}")
    for p in problems:
        print(f"  PROBLEM {p}")
    # 2. auth aimed at the corpus's FastAPI tests: modules naming `fastapi.applications` are tied to
    #    "the app", so real test modules get wrapped (write, parse, re-run)
    fresh = work / "corpus-fastapi"
    shutil.copytree(root, fresh)
    results.append(run_fixer("auth", fresh, "auth (--app fastapi.applications:app)", app="fastapi.applications:app"))
    # 3. auth --style fixture on the same
    fresh2 = work / "corpus-fixture"
    shutil.copytree(root, fresh2)
    results.append(run_fixer("auth", fresh2, "auth --style fixture (--app fastapi...)",
                             app="fastapi.applications:app", style="fixture"))
    # 4. flaky over node ids of every module
    fresh3 = work / "corpus-flaky"
    shutil.copytree(root, fresh3)
    ids = [i for m in sorted(fresh3.rglob("*.py")) if is_test_module(m.name) for i in first_tests(m, fresh3)]
    print(f"flaky selection: {len(ids)} node ids")
    results.append(run_fixer("flaky", fresh3, "flaky (pytest-retry)", only=ids, plugin="pytest-retry"))

    failed = bool(problems)
    for r in results:
        problems = r.pop("problems")
        print(f"{r['label']}: " + ", ".join(f"{k}={v}" for k, v in r.items() if k != "label"))
        for p in problems[:20]:
            print(f"  PROBLEM {p}")
        failed = failed or bool(problems)
    print("corpus_tests: " + ("FAILED" if failed else "OK (no crash, every output parses, re-runs change nothing)"))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
