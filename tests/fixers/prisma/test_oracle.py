"""Oracle tests for `stabfix apply migration`: Prisma's own engine and a real PostgreSQL decide.

For every schema change under tests/fixtures/prisma/oracle/<case>/ (before.prisma committed,
after.prisma in the working tree):

* the migration.sql that stabfix scaffolds equals the engine's own diff of the two schemas;
* on a real PostgreSQL, the database built from ``before`` plus the scaffolded migration has the
  same catalog (columns, types, defaults, indexes, constraints, enums) as one built from
  ``after`` directly, and the ``--idempotent`` variant runs twice without error and reaches the
  same catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import codemods
from codemods.fixers.prisma.migrations import LOCK_TEXT
from codemods.fixers.prisma.schema_engine import DiffRequest, diff_many, is_empty
from tests.fixers.prisma.prisma_testlib import (
    FIXTURES,
    Postgres,
    ensure_engine,
    make_repo,
    postgres_or_skip,
)

#: Prisma's schema engine (npm) and PostgreSQL: `make test-all` only
pytestmark = pytest.mark.oracle

CASES = sorted(p.name for p in (FIXTURES / "oracle").iterdir() if p.is_dir())
SOURCE = "litellm/proxy/schema.prisma"
MIGRATIONS = "litellm-proxy-extras/litellm_proxy_extras/migrations"
STAMP = "20300101000000"


def _read(case: str, which: str) -> str:
    return (FIXTURES / "oracle" / case / f"{which}.prisma").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def engine_diffs() -> dict[str, tuple[str, str, str]]:
    """Per case: (engine diff before->after, empty->before, empty->after), one Node process."""
    ensure_engine()
    requests = []
    for case in CASES:
        before, after = _read(case, "before"), _read(case, "after")
        requests += [DiffRequest(before, after), DiffRequest(None, before), DiffRequest(None, after)]
    out = diff_many(requests, engine="wasm")
    return {case: (out[3 * i], out[3 * i + 1], out[3 * i + 2]) for i, case in enumerate(CASES)}


@pytest.fixture(scope="module")
def pg():  # type: ignore[no-untyped-def]
    server = postgres_or_skip()
    yield server
    server.stop()


def _scaffold(tmp_path: Path, case: str, **options: object) -> tuple[codemods.Report, Path]:
    repo = make_repo(tmp_path / "repo", {
        SOURCE: _read(case, "before"),
        f"{MIGRATIONS}/migration_lock.toml": LOCK_TEXT,
        f"{MIGRATIONS}/20250101000000_init/migration.sql": "-- the baseline\n",
    })
    (repo / SOURCE).write_text(_read(case, "after"), encoding="utf-8")
    report = codemods.apply("migration", root=repo, mode="write", name=f"oracle {case}", timestamp=STAMP,
                            **options)
    return report, repo / MIGRATIONS / f"{STAMP}_oracle_{case}" / "migration.sql"


def test_enough_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES)
def test_scaffold_equals_engine_diff(case: str, tmp_path: Path, engine_diffs: dict[str, tuple[str, str, str]]) -> None:
    expected = engine_diffs[case][0]
    report, created = _scaffold(tmp_path, case)
    assert report.exit_code == 0, report.summary()
    if is_empty(expected):
        assert case == "13_no_change"
        assert not created.parent.exists()
        assert any("empty" in n.message for n in report.plan.notices)
        return
    assert created.read_text(encoding="utf-8") == expected
    assert [f.path for f in report.plan.files] == [f"{MIGRATIONS}/{STAMP}_oracle_{case}/migration.sql"]


@pytest.mark.parametrize("case", [c for c in CASES if c != "13_no_change"])
def test_migration_reaches_target_on_postgres_and_idempotent_runs_twice(
    case: str, tmp_path: Path, engine_diffs: dict[str, tuple[str, str, str]], pg: Postgres,
) -> None:
    step, base_before, base_after = engine_diffs[case]
    target = pg.create_db()
    pg.execute(base_after, target)
    want = pg.catalog(target)

    plain = pg.create_db()
    pg.execute(base_before, plain)
    pg.execute(step, plain)
    assert pg.catalog(plain) == want

    report, created = _scaffold(tmp_path, case, idempotent=True, lock_timeout="10s")
    assert report.exit_code == 0, report.summary()
    script = created.read_text(encoding="utf-8")
    assert script.startswith("SET LOCAL lock_timeout = '10s';\n\n")
    assert not [n.message for n in report.plan.notices if "may fail" in n.message]
    twice = pg.create_db()
    pg.execute(base_before, twice)
    pg.execute(script, twice)
    pg.execute(script, twice)  # the second run must not fail either
    assert pg.catalog(twice) == want
