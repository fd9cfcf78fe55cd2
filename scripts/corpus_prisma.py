#!/usr/bin/env python3
"""Real-data run of the Prisma fixers on PyPI sdists; prints the numbers.

Downloads (once, cached) litellm 1.80.0 and litellm-proxy-extras 0.4.6 / 0.4.110, then:

1. parses every schema.prisma with stabfix's block parser (blocks by kind, bytes);
2. looks at the real migration folders (count, duplicate stamps, names that are not
   ``<14 digits>_name``) and the stamp stabfix would give a new folder;
3. in a temporary git repository laid out like LiteLLM (source and copies at the extras 0.4.6
   schema, the real 0.4.6 migrations folder), puts the litellm 1.80.0 schema in the working tree,
   runs `prisma-sync` and `migration` through the API, and checks the scaffolded migration equals
   Prisma's engine diff and the synced copy diffs to nothing against the source.

Usage: python scripts/corpus_prisma.py [--cache DIR]   (exit 0 when every check holds)
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SDISTS = [("litellm", "1.80.0"), ("litellm-proxy-extras", "0.4.6"), ("litellm-proxy-extras", "0.4.110")]
EXTRAS = "litellm-proxy-extras/litellm_proxy_extras"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/ run by path or loaded by tests
from sdists import unpack_sdist  # noqa: E402


def fetch(name: str, version: str, cache: Path) -> Path:
    """Download and unpack one sdist into ``cache`` (kept for the next run)."""
    return unpack_sdist(name, version, cache)


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=corpus", "-c", "user.email=corpus@stabfix.invalid", *args],
                   cwd=repo, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / ".cache" / "prisma-tests" / "sdists")
    args = parser.parse_args()

    import codemods
    from codemods.fixers.prisma.migrations import migration_dirs, next_stamp
    from codemods.fixers.prisma.schema import parse
    from codemods.fixers.prisma.schema_engine import DiffRequest, diff_many, is_empty

    ok = True
    dirs = {f"{n}-{v}": fetch(n, v, args.cache) for n, v in SDISTS}
    litellm, extras = dirs["litellm-1.80.0"], dirs["litellm-proxy-extras-0.4.6"]

    for label, path in (("litellm 1.80.0 proxy", litellm / "litellm/proxy/schema.prisma"),
                        ("extras 0.4.6", extras / "litellm_proxy_extras/schema.prisma"),
                        ("extras 0.4.110", dirs["litellm-proxy-extras-0.4.110"] / "litellm_proxy_extras/schema.prisma")):
        text = path.read_text(encoding="utf-8")
        t = time.perf_counter()
        schema = parse(text)
        ms = (time.perf_counter() - t) * 1000
        kinds = collections.Counter(b.kind for b in schema.blocks)
        print(f"schema {label}: {len(text.encode()):,} bytes, {len(schema.blocks)} blocks "
              f"({', '.join(f'{k} {c}' for k, c in sorted(kinds.items()))}), parsed in {ms:.1f} ms")

    for label in ("litellm-proxy-extras-0.4.6", "litellm-proxy-extras-0.4.110"):
        names = [d.name for d in migration_dirs(dirs[label] / "litellm_proxy_extras" / "migrations")]
        stamps = collections.Counter(re.match(r"\d*", n).group(0) for n in names)  # type: ignore[union-attr]
        odd = [n for n in names if not re.fullmatch(r"\d{14}_[a-z0-9_]+", n)]
        new = next_stamp(names, requested=None)
        print(f"migrations {label}: {len(names)} folders, {sum(c > 1 for c in stamps.values())} duplicated stamps, "
              f"{len(odd)} unusual names {odd[:3]}; a new folder gets {new}")
        ok &= all(f"{new}_x" > n for n in names)

    with tempfile.TemporaryDirectory(prefix="stabfix-corpus-prisma-") as tmp:
        repo = Path(tmp)
        old_text = (extras / "litellm_proxy_extras/schema.prisma").read_bytes()
        for rel in ("litellm/proxy/schema.prisma", "schema.prisma", f"{EXTRAS}/schema.prisma"):
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes(old_text)
        shutil.copytree(extras / "litellm_proxy_extras/migrations", repo / EXTRAS / "migrations")
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "extras 0.4.6")
        new_text = (litellm / "litellm/proxy/schema.prisma").read_bytes()
        (repo / "litellm/proxy/schema.prisma").write_bytes(new_text)

        t = time.perf_counter()
        sync = codemods.apply("prisma-sync", root=repo, mode="write")
        changed = [f.path for f in sync.plan.files if f.status == "changed"]
        print(f"prisma-sync: {len(changed)} copies changed in {time.perf_counter() - t:.2f} s: {changed}")
        ok &= (repo / EXTRAS / "schema.prisma").read_bytes() == new_text

        before = {d.name for d in migration_dirs(repo / EXTRAS / "migrations")}
        t = time.perf_counter()
        report = codemods.apply("migration", root=repo, mode="write", name="litellm 1.80.0")
        elapsed = time.perf_counter() - t
        created = [d for d in migration_dirs(repo / EXTRAS / "migrations") if d.name not in before]
        if len(created) != 1:
            print(f"migration: expected one new folder, got {created}: {report.summary()}")
            return 1
        sql = (created[0] / "migration.sql").read_text(encoding="utf-8")
        steps = re.findall(r"^-- ([A-Z][A-Za-z]+)$", sql, re.MULTILINE)
        expected, self_diff = diff_many([
            DiffRequest(old_text.decode(), new_text.decode()),
            DiffRequest(new_text.decode(), (repo / EXTRAS / "schema.prisma").read_text(encoding="utf-8")),
        ])
        same = sql == expected
        print(f"migration: {created[0].name} in {elapsed:.2f} s, {len(steps)} steps {dict(collections.Counter(steps))}; "
              f"equals the engine's diff: {same}; sorts after all {len(before)} folders: "
              f"{all(created[0].name > n for n in before)}")
        print(f"self-diff of the synced schema: {'empty' if is_empty(self_diff) else 'NOT EMPTY'}")
        ok &= same and is_empty(self_diff) and all(created[0].name > n for n in before)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
