#!/usr/bin/env python3
"""auth: ``stabfix apply auth --check`` vs ``python -m libcst.tool codemod`` over the SAME files.

Corpus: the test modules of scripts/corpus_tests.py (site-packages, litellm 1.80.0, FastAPI, pytest,
pydantic, Starlette, httpx sdists) plus 40 copies of the sample repository's proxy test modules.
Both sides get the same tree: the modules stabfix's pre-filter lets through (found in process,
untimed) with every ``conftest.py``, so that each tool parses the same files. Both run as a user
runs them: fresh processes, all cores, nothing written (stabfix ``--check``; libcst ``-u`` with
``--no-format``). The libcst side is ``benchmarks/libcst_auth_codemod.py``: the same minimal
transform (and, like stabfix, it leaves tests that patch the auth dependency to ``auth-unpatch``).
Target: libcst / stabfix >= 6.

    python benchmarks/bench_auth.py [--pairs N]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import (
    ENV,
    REPO,
    STABFIX,
    Cmd,
    compare,
    compile_bytecode,
    emit,
    pairs_arg,
    python,
    skipped,
)

sys.path.insert(0, str(REPO / "scripts"))
SAMPLE_TESTS = REPO / "src" / "codemods" / "commands" / "sample_repo" / "tests" / "proxy_unit_tests"


def candidates(root: Path) -> list[Path]:
    """The modules ``auth`` parses: discovered, selected and passed by its text pre-filter."""
    from codemods.api import make_fixer
    from codemods.core.context import Context
    from codemods.core.source import read_source

    fixer, config = make_fixer("auth", root, {})
    ctx = Context(root, [root], config=config)
    fixer.prepare(ctx)
    out = []
    for path in fixer.select(ctx, ctx.discover()):  # type: ignore[attr-defined]
        try:
            source = read_source(path, path.relative_to(root).as_posix())
        except Exception:
            continue
        if fixer.prefilter(source):  # type: ignore[attr-defined]
            out.append(path)
    return out


def changed(out: str) -> int:
    return out.count("\n+++ ") + out.startswith("+++ ")


def main() -> int:
    pairs = pairs_arg()
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="stabfix-bench-auth-") as tmp:
        work = Path(tmp)
        full = work / "full"
        try:
            from corpus_tests import build_corpus

            modules = build_corpus(full)
        except Exception as exc:  # sdists neither cached nor downloadable
            emit([skipped("auth", f"corpus sdists unavailable ({str(exc).splitlines()[0][:80]})")])
            return 0
        for i in range(40):
            dest = full / "litellm_proxy_copies" / f"copy{i:02d}"
            dest.mkdir(parents=True)
            for f in SAMPLE_TESTS.glob("test_*.py"):
                shutil.copyfile(f, dest / f.name)
        picked = candidates(full)
        root = work / "same"
        for path in [*picked, *full.rglob("conftest.py")]:
            dest = root / path.relative_to(full)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        n_conf = sum(1 for _ in root.rglob("conftest.py"))
        stabfix = [*STABFIX, "apply", "auth", ".", "--root", str(root), "--check", "--quiet"]
        libcst = python("-m", "libcst.tool", "codemod", "-x", "benchmarks.libcst_auth_codemod.AuthWrapCommand",
                        "--no-format", "-u", "3", "--hide-progress", "--include-generated", str(root))
        env = {**(ENV or __import__("os").environ), "PYTHONPATH": ":".join(filter(None, [
            (ENV or {}).get("PYTHONPATH", ""), str(REPO)]))}
        report = json.loads(subprocess.run([*stabfix[:-1], "--json"], capture_output=True, text=True, env=env,
                                           check=False).stdout)
        lib = subprocess.run(libcst, cwd=REPO, capture_output=True, text=True, env=env, check=False)
        note = (f"{len(modules) + 40 * len(list(SAMPLE_TESTS.glob('test_*.py')))} modules; the {len(picked)} auth's pre-filter passes + {n_conf} conftest.py "
                f"to both; changed: stabfix {report['totals']['changed']}, libcst {changed(lib.stdout)}")
        emit([compare("auth", Cmd("libcst codemod", libcst, cwd=REPO, env=env, ok=(0, 1)),
                      Cmd("stabfix auth", stabfix, env=env, ok=(0, 1)), pairs=min(pairs, 3), warmup=0,
                      target=(">=", 6.0), note=note)])  # minutes per pair: 3, warmed by the runs above
    return 0


if __name__ == "__main__":
    sys.exit(main())
