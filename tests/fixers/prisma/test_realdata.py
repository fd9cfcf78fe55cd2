"""Real data: litellm-proxy-extras 0.4.6 (schema + real migrations folder) against the
litellm 1.80.0 proxy schema, both from their PyPI sdists.

Sync the copies, scaffold the migration between the two schemas with Prisma's engine, check the
synced schema diffs to nothing against itself, and run the migration on PostgreSQL after the
real 0.4.6 migration history (the --idempotent variant twice).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods.fixers.prisma.migrations import migration_dirs
from codemods.fixers.prisma.schema_engine import DiffRequest, diff_many, is_empty
from tests.fixers.prisma.prisma_testlib import (
    Postgres,
    ensure_engine,
    make_repo,
    postgres_or_skip,
    sdist,
)

pytestmark = pytest.mark.corpus

SOURCE = "litellm/proxy/schema.prisma"
EXTRAS = "litellm-proxy-extras/litellm_proxy_extras"


@pytest.fixture(scope="module")
def real() -> tuple[Path, Path]:
    ensure_engine()
    return sdist("litellm", "1.80.0"), sdist("litellm-proxy-extras", "0.4.6")


def _repo(tmp_path: Path, litellm: Path, extras: Path) -> Path:
    old = (extras / "litellm_proxy_extras" / "schema.prisma").read_bytes()
    repo = make_repo(tmp_path / "repo", {SOURCE: old, "schema.prisma": old, f"{EXTRAS}/schema.prisma": old})
    shutil.copytree(extras / "litellm_proxy_extras" / "migrations", repo / EXTRAS / "migrations")
    (repo / SOURCE).write_bytes((litellm / "litellm" / "proxy" / "schema.prisma").read_bytes())
    return repo


def test_sync_then_scaffold_then_self_diff_is_empty(tmp_path: Path, real: tuple[Path, Path]) -> None:
    litellm, extras = real
    repo = _repo(tmp_path, litellm, extras)
    new = (repo / SOURCE).read_text(encoding="utf-8")
    old = (extras / "litellm_proxy_extras" / "schema.prisma").read_text(encoding="utf-8")

    sync = codemods.apply("prisma-sync", root=repo, mode="write")
    assert sync.exit_code == 0
    assert {f.path for f in sync.plan.files if f.status == "changed"} == {"schema.prisma", f"{EXTRAS}/schema.prisma"}
    assert (repo / EXTRAS / "schema.prisma").read_text(encoding="utf-8") == new

    existing = [d.name for d in migration_dirs(repo / EXTRAS / "migrations")]
    report = codemods.apply("migration", root=repo, mode="write", name="litellm 1.80.0")
    assert report.exit_code == 0, report.summary()
    [created] = [d for d in migration_dirs(repo / EXTRAS / "migrations") if d.name not in existing]
    assert created.name.endswith("_litellm_1_80_0") and all(created.name > name for name in existing)
    expected, self_diff = diff_many([DiffRequest(old, new), DiffRequest(new, (repo / EXTRAS / "schema.prisma").read_text())])
    assert not is_empty(expected)
    assert (created / "migration.sql").read_text(encoding="utf-8") == expected
    assert "LiteLLM_PromptTable" in expected
    assert is_empty(self_diff)


@pytest.fixture(scope="module")
def pg():  # type: ignore[no-untyped-def]
    server = postgres_or_skip()
    yield server
    server.stop()


def test_real_history_then_idempotent_migration_twice_on_postgres(tmp_path: Path, real: tuple[Path, Path],
                                                                  pg: Postgres) -> None:
    litellm, extras = real
    repo = _repo(tmp_path, litellm, extras)
    report = codemods.apply("migration", root=repo, mode="write", name="litellm 1.80.0", idempotent=True,
                            lock_timeout="10s")
    assert report.exit_code == 0
    db = pg.create_db()
    folders = migration_dirs(repo / EXTRAS / "migrations")
    for folder in folders[:-1]:
        pg.execute((folder / "migration.sql").read_text(encoding="utf-8"), db)
    script = (folders[-1] / "migration.sql").read_text(encoding="utf-8")
    pg.execute(script, db)
    pg.execute(script, db)
    assert "LiteLLM_PromptTable_prompt_id_key" in pg.catalog(db)


def test_corpus_script(real: tuple[Path, Path]) -> None:
    """scripts/corpus_prisma.py (also run by hand for the numbers) holds on the real sdists,
    including the 220 folders of extras 0.4.110 with duplicate stamps and odd names."""
    from tests.fixers.prisma.prisma_testlib import CACHE, REPO_ROOT

    proc = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "corpus_prisma.py"), "--cache",
                           str(CACHE / "sdists")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-diff of the synced schema: empty" in proc.stdout
    assert "equals the engine's diff: True" in proc.stdout
    assert re.search(r"migrations litellm-proxy-extras-0\.4\.110: 220 folders, 10 duplicated stamps, 3 unusual", proc.stdout)
