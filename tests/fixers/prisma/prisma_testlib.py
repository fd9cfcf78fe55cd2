"""Helpers for the Prisma/migration/version tests: the schema engine, a throwaway PostgreSQL
cluster, the real PyPI sdists, small git repositories. Imported by tests/test_prisma_*.py."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
#: this area's own cache folder (git-ignored; other test areas keep theirs elsewhere in .cache)
CACHE = REPO_ROOT / ".cache" / "prisma-tests"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "prisma"
VERSION_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "version"
#: where the tests keep the wasm engine (git-ignored); the CLI finds it through STABFIX_CACHE_DIR
STABFIX_CACHE = CACHE / "stabfix"
os.environ.setdefault("STABFIX_CACHE_DIR", str(STABFIX_CACHE))


@contextlib.contextmanager
def file_lock(name: str) -> Iterator[None]:
    """An inter-process lock (xdist workers share the cache folder)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_engine() -> Path:
    """Install @prisma/schema-engine-wasm with npm (first use) and return its folder."""
    from codemods.errors import ToolError
    from codemods.fixers.prisma.schema_engine import ensure_wasm

    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js with npm is needed for Prisma's schema engine (install nodejs/npm)")
    with file_lock("schema-engine"):
        try:
            return ensure_wasm()
        except ToolError as exc:  # pragma: no cover - no registry access
            pytest.fail(f"could not install the schema engine: {exc.message}")


# -- real data -----------------------------------------------------------------------------------

def sdist(name: str, version: str) -> Path:
    """Download (once, cached under .cache/prisma-tests/sdists) and unpack a PyPI sdist."""
    if str(REPO_ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from sdists import unpack_sdist

    with file_lock(f"sdist-{name}-{version}"):
        try:
            return unpack_sdist(name, version, CACHE / "sdists")
        except RuntimeError as exc:
            pytest.fail(str(exc))


# -- git repositories ------------------------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """A git repository with ``files`` committed."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes (outside .git): to prove a failed run wrote nothing."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


# -- PostgreSQL ------------------------------------------------------------------------------------

def pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(candidates[-1]) if candidates else None


class Postgres:
    """A throwaway cluster on 127.0.0.1 (initdb + pg_ctl), run as `postgres` when we are root."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl, self.psql = pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("psql")
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user to run the cluster")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.dir = Path(tempfile.mkdtemp(prefix="stabfix-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self._db = 0

    def _run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *cmd], capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        os.chmod(self.dir, 0o755)
        proc = self._run(self.initdb or "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                         "--no-sync", "-E", "UTF8", "--locale=C")
        if proc.returncode:
            pytest.fail(f"initdb failed: {proc.stderr[-800:]}")
        for _ in range(5):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            proc = self._run(self.pg_ctl or "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"),
                             "-o", opts, "-w", "-t", "60", "start")
            if proc.returncode == 0:
                return
            time.sleep(0.5)
        log = (self.dir / "log").read_text(errors="replace")[-800:] if (self.dir / "log").exists() else ""
        pytest.fail(f"pg_ctl start failed: {proc.stderr[-400:]} {log}")

    def stop(self) -> None:
        self._run(self.pg_ctl or "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql_run(self, sql: str, db: str = "postgres", *, single_transaction: bool = True,
                 args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        cmd = [self.psql or "psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
               "-d", db, "-v", "ON_ERROR_STOP=1", *args]
        if single_transaction:
            cmd.append("-1")
        return subprocess.run(cmd, input=sql, capture_output=True, text=True, check=False, timeout=120)

    def execute(self, sql: str, db: str = "postgres") -> str:
        """Run a script in one transaction (as Prisma runs a migration); raise with psql's message."""
        proc = self.psql_run(sql, db)
        if proc.returncode:
            raise AssertionError(f"PostgreSQL rejected the script: {proc.stderr.strip()}")
        return proc.stdout

    def create_db(self) -> str:
        self._db += 1
        name = f"case_{self._db}"
        proc = self.psql_run(f'CREATE DATABASE "{name}";', single_transaction=False)
        if proc.returncode:
            raise AssertionError(proc.stderr)
        return name

    def catalog(self, db: str) -> str:
        """A canonical description of the public schema (columns, indexes, constraints, enums)."""
        query = """
        SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' '
               || is_nullable || ' ' || coalesce(column_default, '-') || ' ' || coalesce(character_maximum_length::text, '-')
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT 'idx ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT 'con ' || conname || ' ' || pg_get_constraintdef(c.oid)
          FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
        UNION ALL SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
          FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
        ORDER BY 1;
        """
        proc = self.psql_run(query, db, single_transaction=False, args=("-A", "-t"))
        if proc.returncode:
            raise AssertionError(proc.stderr)
        return proc.stdout


def postgres_or_skip() -> Postgres:
    if not all(pg_bin(t) for t in ("initdb", "pg_ctl", "psql")):
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl, psql) are absent: run scripts/setup-postgres.sh")
    pg = Postgres()
    pg.start()
    return pg
