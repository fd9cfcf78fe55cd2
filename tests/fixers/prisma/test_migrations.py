"""Migration naming, SQL extraction from CI logs and the --idempotent rewrite (codemods.fixers.prisma.migrations)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from codemods.errors import StabfixError, UsageError
from codemods.fixers.prisma.migrations import (
    make_idempotent,
    next_stamp,
    render,
    slugify,
    split_statements,
    sql_from_log,
)
from tests.fixers.prisma.prisma_testlib import FIXTURES

NOW = datetime(2025, 11, 23, 15, 0, 0, tzinfo=timezone.utc)
MIGRATION_CASES = FIXTURES.parent / "migration"  # fixture cases: tests/fixers/test_fixture_cases.py


# -- naming ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("existing", "expected"), [
    ([], "20251123150000"),
    (["20250326162113_baseline", "20251001000000_x"], "20251123150000"),
    # a folder "from the future" (clock skew, hand-made): one second after it
    (["20251123150000_a", "20251123150000_b"], "20251123150001"),
    # a date-only stamp sorts after any 14-digit stamp of the same day: the next day
    (["20251123_add_index"], "20251124000000"),
    (["20251231_new_year"], "20260101000000"),
    # more than 14 digits, spaces, capitals
    (["202511231500001_x", " 20991231235959 spaced", "20250101000000_Add Capital"], "20251123150001"),
    (["20251123235959_last"], "20251124000000"),
])
def test_next_stamp_sorts_after_every_existing_folder(existing: list[str], expected: str) -> None:
    stamp = next_stamp(existing, now=NOW)
    assert stamp == expected
    assert all(f"{stamp}_new" > name for name in existing if not name.startswith(" "))


def test_a_folder_named_without_a_stamp_is_an_error() -> None:
    with pytest.raises(StabfixError, match="sorts after every timestamped name"):
        next_stamp(["init"], now=NOW)


def test_requested_timestamp_is_checked() -> None:
    assert next_stamp(["20250101000000_a"], now=NOW, requested="20300101000000") == "20300101000000"
    with pytest.raises(UsageError, match="not later than"):
        next_stamp(["20250101000000_a"], now=NOW, requested="20250101000000")
    with pytest.raises(UsageError, match="YYYYMMDDHHMMSS"):
        next_stamp([], now=NOW, requested="2025-01-01")


@pytest.mark.parametrize(("name", "slug"), [
    ("add_spend_index", "add_spend_index"),
    ("Add spend index!", "add_spend_index"),
    ("  Über-Tabelle  ", "uber_tabelle"),
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["../evil", "a/b", "a\\b", "..", "!!!", ""])
def test_slugify_refuses_names_that_leave_the_folder_or_are_empty(name: str) -> None:
    with pytest.raises(UsageError):
        slugify(name)


# -- CI logs -----------------------------------------------------------------------------------

def test_log_without_sql_is_an_error() -> None:
    with pytest.raises(StabfixError, match="no migration SQL found"):
        sql_from_log((MIGRATION_CASES / "from_log_no_sql" / "before" / "ci.log").read_text())


# -- idempotent --------------------------------------------------------------------------------

def test_idempotent_rewrite_fixture() -> None:
    case = MIGRATION_CASES / "from_diff_idempotent"
    src = (case / "before" / "diff.sql").read_text()
    result = make_idempotent(src)
    [written] = (case / "after").rglob("migration.sql")
    assert result.sql.strip() in written.read_text()
    assert result.unguarded == []
    # rewriting twice is a fixed point
    assert make_idempotent(result.sql).sql == result.sql


def test_idempotent_reports_what_it_cannot_guard() -> None:
    result = make_idempotent('-- AlterTable\nALTER TABLE "A" RENAME CONSTRAINT "x" TO "y";\nINSERT INTO "A" VALUES (1);\n')
    assert result.unguarded == ['INSERT INTO "A" VALUES (1);']


def test_split_statements_honours_literals_and_comments() -> None:
    items = split_statements("-- Step\nSELECT ';' AS \"a;b\"; -- tail ;\nDO $$ BEGIN PERFORM 1; END $$;\n")
    assert [k for k, _ in items] == ["gap", "stmt", "gap", "stmt", "gap"]
    assert items[1][1] == "SELECT ';' AS \"a;b\";"
    assert items[3][1] == "DO $$ BEGIN PERFORM 1; END $$;"


# -- template ----------------------------------------------------------------------------------

def test_render_plain_is_the_sql_itself() -> None:
    sql = '-- AlterTable\nALTER TABLE "A" ADD COLUMN     "b" TEXT;\n'
    assert render(sql, name="x", stamp="20250101000000") == sql
    assert render(sql, name="x", stamp="20250101000000", lock_timeout="10s") == "SET LOCAL lock_timeout = '10s';\n\n" + sql


def test_render_with_a_user_template_dir(tmp_path: Path) -> None:
    (tmp_path / "migration.sql.j2").write_text("-- {{ stamp }}_{{ name }}\n{{ sql }}")
    assert render("SELECT 1;\n", name="x", stamp="20250101000000", template_dir=tmp_path) == "-- 20250101000000_x\nSELECT 1;\n"
    with pytest.raises(UsageError, match=r"no migration\.sql\.j2"):
        render("SELECT 1;\n", name="x", stamp="1", template_dir=tmp_path / "missing")
