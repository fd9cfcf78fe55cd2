#!/usr/bin/env python3
"""Run `xdist-group` over large real corpora: no crash, every output parses, a second run is a no-op.

Corpora (each copied to a temporary tree first, so nothing installed is touched):
  * site-packages: every test module (test_*.py / *_test.py) in this interpreter's site-packages and,
    when present, the standard library's own test suite (lib/python3.X/test);
  * litellm: every Python file of the litellm 1.80.0 sdist from PyPI (downloaded into .cache/).

For each corpus: apply (rendering the --diff output of the same plan), re-run --check and expect
nothing. Files that do not parse to begin with (Python 2 leftovers, deliberately broken test data)
must be reported as failed with a syntax error, and valid Python that libcst's parser does not
support (CPython's own test_grammar.py) as such: never touched. Any "stabfix bug" is a failure of
this script (exit 1).

    python scripts/corpus_xdist_group.py [--limit N] [--only site-packages|litellm]
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ run by path or loaded by tests
from sdists import unpack_sdist  # noqa: E402

LITELLM = "litellm==1.80.0"


def fetch_sdist(spec: str) -> Path:
    """The unpacked sdist of ``name==version`` (downloaded once into .cache/sdists)."""
    name, _, version = spec.partition("==")
    return unpack_sdist(name, version)


def site_packages_tests(limit: int | None) -> list[Path]:
    roots = [Path(p) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}]
    stdlib_tests = Path(sysconfig.get_paths()["stdlib"]) / "test"
    if stdlib_tests.is_dir():
        roots.append(stdlib_tests)
    files: list[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if (path.name.startswith("test_") or path.name.endswith("_test.py")) and path.is_file():
                files.append(path)
    return files[:limit] if limit else files


def litellm_files(limit: int | None) -> list[Path]:
    files = sorted(p for p in fetch_sdist(LITELLM).rglob("*.py") if p.is_file())
    return files[:limit] if limit else files


def _parses(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(data)
        return True
    except (SyntaxError, ValueError):
        import libcst

        try:
            libcst.parse_module(data)
            return True
        except Exception:
            return False


def run_corpus(name: str, files: list[Path]) -> dict[str, float]:
    import codemods

    with tempfile.TemporaryDirectory(prefix=f"stabfix-corpus-{name}-") as tmp:
        root = Path(tmp)
        rels = []
        for i, src in enumerate(files):
            rel = Path(f"{i:05d}") / ("test_" + src.name if not src.name.startswith("test_") else src.name)
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, root / rel)
            rels.append(rel.as_posix())
        originals = {rel: (root / rel).read_bytes() for rel in rels}
        t0 = time.perf_counter()
        # One write run plans (the --diff output is rendered from the same plan) and applies.
        applied = codemods.apply("xdist-group", rels, root=root, mode="write", group="corpus", jobs=2)
        diff_lines = applied.diff.count("\n")
        t_plan = time.perf_counter() - t0
        parser_limits = [f for f in applied.plan.files if f.status == "failed" and "libcst cannot parse" in f.reason]
        bugs = [f for f in applied.plan.files if f.status == "failed" and "syntax error" not in f.reason
                and f not in parser_limits]
        bad_input = [f for f in applied.plan.files if f.status == "failed" and "syntax error" in f.reason]
        wrongly_failed = [f.path for f in bad_input if _parses(originals[f.path])]
        unparsable = [c.path for c in applied.plan.changes if not _parses((root / c.path).read_bytes())]
        untouched_failed = [f.path for f in bad_input + parser_limits
                            if (root / f.path).read_bytes() != originals[f.path]]
        again = codemods.apply("xdist-group", rels, root=root, mode="check", group="corpus", jobs=2)
        figures = {
            "files": len(files),
            "changed": len(applied.changed),
            "unchanged": applied.plan.totals()["unchanged"],
            "input_syntax_errors": len(bad_input),
            "libcst_cannot_parse": len(parser_limits),
            "stabfix_bugs": len(bugs) + len(wrongly_failed),
            "diff_lines": diff_lines,
            "outputs_not_parsing": len(unparsable),
            "failed_files_touched": len(untouched_failed),
            "second_run_changes": len(again.changed),
            "apply_seconds": round(t_plan, 2),
        }
        for f in bugs[:10]:
            print(f"  BUG {f.path}: {f.reason}", file=sys.stderr)
        for p in unparsable[:10]:
            print(f"  DOES NOT PARSE {p}", file=sys.stderr)
        for f in again.changed[:10]:
            print(f"  NOT IDEMPOTENT {f.path}", file=sys.stderr)
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="at most N files per corpus")
    parser.add_argument("--only", choices=("site-packages", "litellm"))
    args = parser.parse_args(argv)
    ok = True
    corpora = {"site-packages": site_packages_tests, "litellm": litellm_files}
    for name, collect in corpora.items():
        if args.only and name != args.only:
            continue
        figures = run_corpus(name, collect(args.limit))
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
        ok &= figures["stabfix_bugs"] == 0 and figures["outputs_not_parsing"] == 0
        ok &= figures["second_run_changes"] == 0 and figures["failed_files_touched"] == 0
    print("corpus: OK" if ok else "corpus: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
