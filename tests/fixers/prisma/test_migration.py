"""`stabfix apply migration` end to end (CLI and API), its refusals and its bad-input errors."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import codemods
from codemods.errors import ToolError
from codemods.fixers.prisma import schema_engine as engine
from codemods.fixers.prisma.migrations import LOCK_TEXT
from codemods.fixers.prisma.schema_engine import DiffRequest, diff_many
from tests.conftest import STABFIX, run_stabfix
from tests.fixers.prisma.prisma_testlib import FIXTURES, ensure_engine, git, snapshot

SOURCE = "litellm/proxy/schema.prisma"
MIGRATIONS = "litellm-proxy-extras/litellm_proxy_extras/migrations"
NEW_COLUMN = ("  request_duration_ms Int?\n", "  request_duration_ms Int?\n  cache_hit           Boolean? @default(false)\n")


@pytest.fixture(autouse=True)
def _engine(request: pytest.FixtureRequest) -> None:
    """Prisma's schema engine (npm, once) for the tests that diff with it: marked `oracle`."""
    if request.node.get_closest_marker("oracle"):
        ensure_engine()


def _new_dirs(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / MIGRATIONS).iterdir() if p.is_dir() and p.name != "20250326162113_baseline")


def _edit_source(repo: Path) -> tuple[str, str]:
    src = repo / SOURCE
    old = src.read_text()
    new = old.replace(*NEW_COLUMN)
    assert new != old
    src.write_text(new)
    return old, new


@pytest.mark.oracle
def test_engine_diff_against_head_through_the_cli(sample_repo: Path) -> None:
    old, new = _edit_source(sample_repo)
    proc = run_stabfix("apply", "migration", "--name", "Add cache hit", "--lock-timeout", "10s", "--root", sample_repo)
    assert proc.returncode == 0, proc.stderr
    [folder] = _new_dirs(sample_repo)
    assert re.fullmatch(r"\d{14}_add_cache_hit", folder.name) and folder.name > "20250326162113_baseline"
    expected = diff_many([DiffRequest(old, new)])[0]
    assert expected.startswith("-- AlterTable\n")
    assert (folder / "migration.sql").read_text() == "SET LOCAL lock_timeout = '10s';\n\n" + expected
    # a re-run finds the same SQL as the newest migration: nothing new, exit 0, a warning
    again = run_stabfix("apply", "migration", "--name", "Add cache hit", "--lock-timeout", "10s", "--root", sample_repo)
    assert again.returncode == 0 and "identical to the newest migration" in again.stderr + again.stdout
    assert len(_new_dirs(sample_repo)) == 1


@pytest.mark.oracle
def test_check_mode_exits_1_and_writes_nothing(sample_repo: Path) -> None:
    _edit_source(sample_repo)
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "migration", "--name", "x", "--check", "--root", sample_repo)
    assert proc.returncode == 1, proc.stderr
    assert "+-- AlterTable" in proc.stdout
    assert snapshot(sample_repo) == before


def test_from_diff_stdin_and_the_lock_file_is_created(sample_repo: Path) -> None:
    (sample_repo / MIGRATIONS / "migration_lock.toml").unlink()
    sql = '-- AlterTable\nALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN     "request_duration_ms" INTEGER;\n'
    proc = run_stabfix("apply", "migration", "--name", "add_request_duration_ms", "--from-diff", "-",
                       "--timestamp", "20300101000000", "--root", sample_repo, input=sql)
    assert proc.returncode == 0, proc.stderr
    folder = sample_repo / MIGRATIONS / "20300101000000_add_request_duration_ms"
    assert (folder / "migration.sql").read_text() == sql
    assert (sample_repo / MIGRATIONS / "migration_lock.toml").read_bytes() == LOCK_TEXT.encode()


def test_from_log_with_idempotent_matches_the_demo(sample_repo: Path) -> None:
    report = codemods.apply("migration", root=sample_repo, mode="write", name="add_request_duration_ms",
                            from_log="ci-logs/migration-check.log", idempotent=True, lock_timeout="10s")
    assert report.exit_code == 0
    [folder] = _new_dirs(sample_repo)
    assert (folder / "migration.sql").read_text() == (
        "SET LOCAL lock_timeout = '10s';\n\n-- AlterTable\n"
        'ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN IF NOT EXISTS     "request_duration_ms" INTEGER;\n'
    )


def test_existing_migration_sql_is_never_modified(sample_repo: Path) -> None:
    folder = sample_repo / MIGRATIONS / "20300101000000_x"
    folder.mkdir()
    (folder / "migration.sql").write_text("-- mine\n")
    proc = run_stabfix("apply", "migration", "--name", "x", "--from-diff", "-", "--timestamp", "20300101000000",
                       "--root", sample_repo, input="-- AlterTable\nSELECT 1;\n")
    assert proc.returncode == 2 and "not later than" in proc.stderr
    assert (folder / "migration.sql").read_text() == "-- mine\n"


@pytest.mark.oracle
def test_empty_diff_creates_nothing(sample_repo: Path) -> None:
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "migration", "--name", "x", "--root", sample_repo)
    assert proc.returncode == 0 and "empty" in proc.stderr + proc.stdout
    assert snapshot(sample_repo) == before


# -- bad input: exit 2, nothing written ---------------------------------------------------------

def _fails(repo: Path, *args: str, needle: str, input: str | None = None) -> str:
    before = snapshot(repo)
    proc = run_stabfix("apply", "migration", *args, "--root", repo, input=input)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(repo) == before
    return proc.stderr


@pytest.mark.oracle
def test_schema_syntax_error_passes_the_engine_message_through(sample_repo: Path) -> None:
    src = sample_repo / SOURCE
    src.write_text(src.read_text().replace("  request_duration_ms Int?", "  request_duration_ms Integr?"))
    err = _fails(sample_repo, "--name", "x", needle='Type "Integr" is neither a built-in type')
    assert f"{SOURCE}:" in err  # the engine names the real file and line


def test_no_migrations_folder(sample_repo: Path) -> None:
    shutil.rmtree(sample_repo / MIGRATIONS)
    _fails(sample_repo, "--name", "x", needle="migrations folder not found")


def test_missing_source_schema(sample_repo: Path) -> None:
    (sample_repo / SOURCE).unlink()
    _fails(sample_repo, "--name", "x", needle=f"{SOURCE}: source schema not found")


def test_ci_log_without_sql(sample_repo: Path) -> None:
    shutil.copy(FIXTURES.parent / "migration" / "from_log_no_sql" / "before" / "ci.log", sample_repo / "ci.log")
    _fails(sample_repo, "--name", "x", "--from-log", "ci.log", needle="no migration SQL found")


@pytest.mark.parametrize("name", ["../../escape", "a/b"])
def test_name_that_would_leave_the_folder(sample_repo: Path, name: str) -> None:
    _fails(sample_repo, "--name", name, "--from-diff", "-", input="-- AlterTable\nSELECT 1;\n", needle="must not contain")


def test_unwritable_migrations_folder(sample_repo: Path) -> None:
    folder = sample_repo / MIGRATIONS
    cmd = [str(STABFIX), "apply", "migration", "--name", "x", "--from-diff", "-", "--root", str(sample_repo)]
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif shutil.which("unshare"):
        # root ignores permission bits: make the folder a read-only mount in a private namespace
        q = shlex.quote(str(folder))
        ro = f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"
        probe = subprocess.run(["unshare", "-m", "sh", "-c", ro], capture_output=True, text=True, check=False)
        if probe.returncode:
            pytest.skip(f"root without mount namespaces: cannot make a folder unwritable ({probe.stderr.strip()})")
        cmd = ["unshare", "-m", "sh", "-c", f"{ro} && exec {shlex.join(cmd)}"]
    else:
        pytest.skip("running as root without unshare: cannot make a folder unwritable")
    before = snapshot(sample_repo)
    proc = subprocess.run(cmd, input="-- AlterTable\nSELECT 1;\n", capture_output=True, text=True, check=False)
    folder.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert "migrations folder is not writable" in proc.stderr
    assert snapshot(sample_repo) == before


# -- engine selection ---------------------------------------------------------------------------

FAKE_PRISMA = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "prisma                  : {version}"; echo "@prisma/client : {version}"; exit 0; fi
echo "$@" > "{log}"
echo "-- AlterTable"
echo 'ALTER TABLE "A" ADD COLUMN     "b" TEXT;'
"""


@pytest.mark.parametrize(("version", "flags"), [
    ("6.19.0", ["--from-schema-datamodel", "--to-schema-datamodel", "--script"]),
    ("7.2.0", ["--from-schema", "--to-schema", "--script"]),
])
def test_prisma_cli_is_used_with_its_major_versions_flags(tmp_path: Path, version: str, flags: list[str]) -> None:
    fake = tmp_path / "prisma"
    log = tmp_path / "args.txt"
    fake.write_text(FAKE_PRISMA.format(version=version, log=log))
    fake.chmod(0o755)
    out = engine.diff_many([DiffRequest("model A {\n id Int @id\n}\n", "model A {\n id Int @id\n b String?\n}\n")],
                           engine="cli", prisma=str(fake))
    assert out == ['-- AlterTable\nALTER TABLE "A" ADD COLUMN     "b" TEXT;\n']
    args = log.read_text().split()
    assert args[:2] == ["migrate", "diff"] and [a for a in args if a.startswith("--")] == flags


def test_without_node_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"Node.js >= 20.6 is needed .* install Node.js"):
        engine.diff_many([DiffRequest(None, "model A {\n id Int @id\n}\n")], engine="auto", engine_dir=tmp_path / "e")


@pytest.mark.oracle
def test_base_revision_is_honoured(sample_repo: Path) -> None:
    old, new = _edit_source(sample_repo)
    git(sample_repo, "commit", "-qam", "add cache_hit")
    report = codemods.apply("migration", root=sample_repo, mode="diff", name="x", base="HEAD~1")
    assert report.exit_code == 0 and len(report.plan.changes) == 1
    assert report.plan.changes[0].new.decode() == diff_many([DiffRequest(old, new)])[0]


def test_from_diff_that_is_not_sql_is_refused(sample_repo: Path) -> None:
    _fails(sample_repo, "--name", "x", "--from-diff", "-", input="Error: P1012 something went wrong\n",
           needle="does not end with an SQL statement")


@pytest.mark.oracle
def test_auto_falls_back_to_wasm_when_the_cli_cannot_diff(tmp_path: Path) -> None:
    fake = tmp_path / "prisma"
    fake.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "prisma : 6.19.0"; exit 0; fi\n'
                    'echo "Error: could not download the schema engine" >&2; exit 1\n')
    fake.chmod(0o755)
    old, new = "datasource db {\n  provider = \"postgresql\"\n}\n", "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n}\n"
    got = engine.diff_many([DiffRequest(old, new)], engine="auto", prisma=str(fake))
    assert got == engine.diff_many([DiffRequest(old, new)], engine="wasm")
    assert got[0].startswith("-- CreateTable\nCREATE TABLE \"A\"")
    with pytest.raises(ToolError, match="could not download the schema engine"):
        engine.diff_many([DiffRequest(old, new)], engine="cli", prisma=str(fake))


def test_engine_cli_without_prisma_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match="`prisma` CLI is not on PATH"):
        engine.diff_many([DiffRequest(None, "model A {\n id Int @id\n}\n")], engine="cli")
