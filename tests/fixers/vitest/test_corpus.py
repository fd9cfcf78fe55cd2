"""The vitest fixer over real TypeScript: the sources npm packages publish (rxjs 7.8.2, zod 4.6.7 with
its Vitest test files, effect 4.1.0, @tanstack/query-core and react-query 5.108.0), installed with npm
into .cache/vitest-corpus (git-ignored, reused).

Every file is copied under a ``*.test.*`` name (so that the fixer takes it) and every test the corpus
defines is named in a Vitest JSON report as timed out: the fixer adds thousands of timeouts. No
crash, no output with a syntax error (each changed file parsed again here), the files tree-sitter
cannot parse reported as such and left alone, and a second run changes nothing. Then the
``userEvent.setup`` edit is timed against the same edit as a jscodeshift 17.4.0 transform over the
same files (``pytest -s`` prints the numbers).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from codemods import api
from codemods.core.source import read_source
from codemods.errors import FileFailure
from codemods.fixers.vitest.fixer import VitestFixer
from codemods.fixers.vitest.syntax import parse, syntax_errors
from codemods.fixers.vitest.tests import collect
from tests.conftest import run_stabfix
from tests.fixers.vitest.vitest_testlib import REPO_ROOT, install

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

CACHE = REPO_ROOT / ".cache" / "vitest-corpus"
PACKAGES = {"rxjs": "7.8.2", "zod": "4.6.7", "effect": "4.1.0", "@tanstack/query-core": "5.108.0",
            "@tanstack/react-query": "5.108.0", "jscodeshift": "17.4.0"}
SOURCES = [p for p in PACKAGES if p != "jscodeshift"]
SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
TRANSFORM = Path(__file__).with_name("jscodeshift_setup_delay.cjs")


def _corpus(dest: Path) -> list[str]:
    """Copy the packages' TypeScript sources (declarations left out) under ``dest`` as test files."""
    modules = install(CACHE, PACKAGES, scripts=False)  # sources to read, nothing to build
    out = []
    for pkg in SOURCES:
        for path in sorted((modules / pkg).rglob("*")):
            if not path.is_file() or path.suffix not in SUFFIXES or ".d." in path.name:
                continue
            rel = path.relative_to(modules).as_posix()
            if ".test." not in path.name and ".spec." not in path.name:
                rel = rel[: -len(path.suffix)] + ".test" + path.suffix
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            out.append(rel)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return out


def test_corpus_timeouts_parse_again_and_are_idempotent(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    files = _corpus(repo)
    assert len(files) >= 1000
    report: list[dict[str, object]] = []
    unparsable = set()
    tests = 0
    for rel in files:
        tree = parse((repo / rel).read_bytes(), rel)
        if syntax_errors(tree):  # named too: the fixer must report it, not guess
            unparsable.add(rel)
            report.append({"name": str(repo / rel), "assertionResults": [
                {"ancestorTitles": [], "title": "any", "status": "failed", "failureMessages": ["Error: Test timed out in 5000ms."]}]})
            continue
        found = collect(tree.root_node, want_setups=False).tests
        tests += len(found)
        report.append({"name": str(repo / rel), "assertionResults": [
            {"ancestorTitles": [s.text for s in t.segments[:-1]], "title": t.segments[-1].text, "status": "failed",
             "duration": 5003, "failureMessages": ["Error: Test timed out in 5000ms."]} for t in found]})
    (tmp_path / "vitest.json").write_text(json.dumps({"testResults": report}), encoding="utf-8")

    start = time.monotonic()
    first = api.apply("vitest", ["."], root=repo, mode="write", from_report=[str(tmp_path / "vitest.json")], jobs=2)
    seconds = time.monotonic() - start
    failed = {f.path: f.reason for f in first.plan.files if f.status == "failed"}
    assert not [r for r in failed.values() if "syntax error" not in r], failed  # no stabfix bug, no crash
    assert set(failed) == unparsable
    changed = [f.path for f in first.plan.files if f.status == "changed"]
    edits = sum(1 for f in first.plan.files for e in f.edits if e.kind == "timeout")
    for rel in changed:
        assert not syntax_errors(parse((repo / rel).read_bytes(), rel)), rel
    again = api.apply("vitest", ["."], root=repo, mode="check", from_report=[str(tmp_path / "vitest.json")], jobs=2)
    assert not again.changed
    print(f"\nvitest corpus: {len(files)} files, {len(unparsable)} tree-sitter-typescript 0.23.2 cannot parse "
          f"(reported, left alone), {tests} tests, {len(changed)} files changed with {edits} timeouts in "
          f"{seconds:.1f} s; second run: nothing to change")


def test_setup_delay_faster_than_jscodeshift(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    files = _corpus(repo)
    sample = REPO_ROOT / "src/codemods/commands/sample_repo/ui/litellm-dashboard/src/components/KeyForm.test.ts"
    shutil.copyfile(sample, repo / "KeyForm.test.ts")  # one file the edit applies to
    start = time.monotonic()
    ours = run_stabfix("apply", "vitest", ".", "--check", "--jobs", "2", "--root", repo, cwd=repo)
    stabfix_s = time.monotonic() - start
    assert ours.returncode == 1, ours.stdout + ours.stderr
    assert "would change KeyForm.test.ts: 2 userEvent.setup() call(s)" in ours.stderr

    jscodeshift = CACHE / "node_modules" / ".bin" / "jscodeshift"
    start = time.monotonic()
    theirs = subprocess.run([str(jscodeshift), "--dry", "--cpus=2", "-t", str(TRANSFORM),
                             "--extensions=ts,tsx,mts,cts", "."], cwd=repo, capture_output=True, text=True,
                            timeout=900, check=False)
    jscodeshift_s = time.monotonic() - start
    assert "1 ok" in theirs.stdout, theirs.stdout[-2000:] + theirs.stderr[-2000:]
    # without the text pre-filter: every file parsed and walked, in one process
    fixer = VitestFixer()
    start = time.monotonic()
    for rel in files:
        with contextlib.suppress(FileFailure):  # the files tree-sitter cannot parse
            fixer.fix(read_source(repo / rel, rel))
    parse_all_s = time.monotonic() - start
    print(f"\nuserEvent.setup edit over {len(files) + 1} files with 2 workers: stabfix {stabfix_s:.1f} s, "
          f"jscodeshift 17.4.0 {jscodeshift_s:.1f} s ({jscodeshift_s / stabfix_s:.1f}x); stabfix parsing every "
          f"file in one process (no pre-filter): {parse_all_s:.1f} s")
    assert jscodeshift_s >= 3 * stabfix_s
