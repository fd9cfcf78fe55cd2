"""`migration`: scaffold a new Prisma migration folder from a schema change.

Writes ``<migrations>/<YYYYMMDDHHMMSS>_<name>/migration.sql`` (UTC, strictly later than every
existing folder), rendered from ``templates/migrations/migration.sql.j2``. The SQL comes from:

* ``--from-diff FILE`` (or ``-`` for stdin): a ``prisma migrate diff --script`` output;
* ``--from-log FILE``: a CI log whose migration check printed the diff (``Stdout:`` ...);
* otherwise Prisma's own engine diffs the source schema at ``--base`` (default ``HEAD``)
  against the working tree (see :mod:`codemods.fixers.prisma.schema_engine`).

``--lock-timeout 10s`` adds LiteLLM's ``SET LOCAL lock_timeout`` header; ``--idempotent`` makes
the script safe to run twice. An empty diff, or SQL identical to the newest migration's, creates
nothing (a warning says why). ``migration_lock.toml`` is created with Prisma's exact text when
missing. An existing ``migration.sql`` is never modified.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from codemods.core.context import Context
from codemods.core.contract import DemoSpec, RepoFixer
from codemods.core.options import option
from codemods.core.plan import Edit
from codemods.errors import StabfixError, ToolError, UsageError


@dataclass
class MigrationOptions:
    name: str | None = option(None, "migration name, slugified into the folder name (required)", config=False)
    from_diff: str | None = option(None, "read the SQL from a `prisma migrate diff --script` output (- = stdin)",
                                   metavar="FILE", config=False)
    from_log: str | None = option(None, "extract the SQL from a CI log (Exit code:/Stdout:/Stderr:)",
                                  metavar="FILE", config=False)
    base: str = option("HEAD", "git revision of the schema to diff the working tree against", metavar="REV")
    source: str | None = option(None, "the schema to diff (default: [tool.stabfix.prisma] source)", metavar="PATH")
    migrations: str | None = option(None, "migrations folder (default: [tool.stabfix.prisma] migrations)",
                                    metavar="DIR")
    timestamp: str | None = option(None, "folder stamp YYYYMMDDHHMMSS (UTC); must be later than every folder",
                                   config=False)
    lock_timeout: str | None = option(None, "start with SET LOCAL lock_timeout = '<value>'; (e.g. 10s)",
                                      metavar="DURATION")
    idempotent: bool = option(False, "rewrite as IF NOT EXISTS / guarded statements (safe to run twice)")
    template_dir: Path | None = option(None, "folder with your own migration.sql.j2", metavar="DIR")
    engine: str = option("auto", "how to run Prisma's schema engine", choices=("auto", "cli", "wasm"))
    engine_dir: Path | None = option(None, "folder holding (or to receive) @prisma/schema-engine-wasm",
                                     metavar="DIR")


class MigrationFixer(RepoFixer):
    """Creates one timestamped migration folder from a diff, a CI log or the engine."""

    name = "migration"
    description = "Scaffold a timestamped Prisma migration from a diff, a CI log, or Prisma's own engine."
    Options: ClassVar[type] = MigrationOptions
    demo = DemoSpec(
        options={"name": "add_request_duration_ms", "from_log": "ci-logs/migration-check.log",
                 "lock_timeout": "10s", "idempotent": True},
        note="CI's migration check printed the missing SQL; scaffold the migration from its log",
    )
    options: MigrationOptions

    def plan(self, ctx: Context) -> None:
        from codemods.fixers.prisma import layout as layout_mod
        from codemods.fixers.prisma import migrations as mig

        o = self.options
        if not o.name:
            raise UsageError("migration needs --name, e.g. --name add_spend_index")
        if o.from_diff and o.from_log:
            raise UsageError("pass --from-diff or --from-log, not both")
        slug = mig.slugify(o.name)
        lock_timeout = mig.validate_lock_timeout(o.lock_timeout) if o.lock_timeout else None
        lay = layout_mod.load(ctx.root, source=o.source, migrations=o.migrations)

        folder = ctx.resolve(lay.migrations)
        folder_rel = ctx.rel(folder)
        if not folder.is_dir():
            raise StabfixError(
                "migrations folder not found; pass --migrations or set `migrations` in [tool.stabfix.prisma]",
                path=folder_rel,
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StabfixError("migrations folder is not writable; fix its permissions", path=folder_rel)

        sql = self._sql(ctx, lay.source)
        from codemods.fixers.prisma.schema_engine import is_empty

        if is_empty(sql):
            ctx.warn("the schema diff is empty (-- This is an empty migration.); no migration created",
                     path=folder_rel)
            return
        if o.idempotent:
            rewrite = mig.make_idempotent(sql)
            sql = rewrite.sql
            for stmt in rewrite.unguarded:
                ctx.warn(f"--idempotent: this statement may fail when run twice: {stmt}", path=folder_rel)

        existing = mig.migration_dirs(folder)
        newest = next((d / "migration.sql" for d in reversed(existing) if (d / "migration.sql").is_file()), None)
        stamp = mig.next_stamp([d.name for d in existing], requested=o.timestamp)
        template_dir = o.template_dir
        if template_dir is not None and not template_dir.is_absolute() and (ctx.root / template_dir).is_dir():
            template_dir = ctx.root / template_dir  # a config value names a folder of the repository
        text = mig.render(sql, name=slug, stamp=stamp, lock_timeout=lock_timeout, idempotent=o.idempotent,
                          template_dir=template_dir)
        if newest is not None:
            old = newest.read_text(encoding="utf-8", errors="replace")
            if _same_sql(old, text) or _same_sql(old, sql):
                ctx.warn(f"the SQL is identical to the newest migration {newest.parent.name}; no migration created",
                         path=ctx.rel(newest))
                return

        if not (folder / mig.LOCK_FILE).exists():
            ctx.propose_create(folder / mig.LOCK_FILE, mig.LOCK_TEXT, "Prisma's migration lock file was missing",
                               [Edit('provider = "postgresql"', kind="create")])
        target = folder / f"{stamp}_{slug}" / "migration.sql"
        steps = sum(1 for line in sql.splitlines() if line.startswith("-- ") and line[3:4].isupper())
        ctx.propose_create(target, text, f"new migration {stamp}_{slug}",
                           [Edit(f"{steps} migration step(s)", kind="create", data={"folder": f"{stamp}_{slug}"})])

    # -- where the SQL comes from -----------------------------------------------------------
    def _sql(self, ctx: Context, source_rel: str) -> str:
        from codemods.fixers.prisma import migrations as mig
        from codemods.fixers.prisma.schema_engine import is_empty

        o = self.options
        if o.from_diff:
            text = sys.stdin.read() if o.from_diff == "-" else self._read_input(ctx, o.from_diff, "--from-diff")
            if text.strip() and not text.strip().endswith(";") and not is_empty(text):
                raise StabfixError(
                    "--from-diff input does not end with an SQL statement (`;`); pass the output of "
                    "`prisma migrate diff --script`", path=None if o.from_diff == "-" else o.from_diff,
                )
            return text if text.endswith("\n") or not text else text + "\n"
        if o.from_log:
            return mig.sql_from_log(self._read_input(ctx, o.from_log, "--from-log"))
        return self._engine_diff(ctx, source_rel)

    @staticmethod
    def _read_input(ctx: Context, value: str, flag: str) -> str:
        path = Path(value)
        if not path.is_absolute():  # relative to the working directory, else to the root
            path = path if path.exists() else ctx.root / path
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise StabfixError(f"{flag} {value}: cannot read it ({exc.strerror})", path=value) from None

    def _engine_diff(self, ctx: Context, source_rel: str) -> str:
        from codemods.fixers.prisma.schema_engine import DiffRequest, diff_many

        o = self.options
        src = ctx.resolve(source_rel)
        rel = ctx.rel(src)
        if not src.is_file():
            raise StabfixError("source schema not found; pass --source or set `source` in [tool.stabfix.prisma]",
                               path=rel)
        new = ctx.read(src).text
        try:
            proc = subprocess.run(["git", "-C", str(ctx.root), "show", f"{o.base}:./{rel}"],
                                  capture_output=True, check=False, timeout=60)
        except OSError:
            raise ToolError("git is needed to read the schema at --base; install git or pass --from-diff") from None
        if proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise StabfixError(
                f"cannot read {rel} at {o.base} with git ({msg[-1] if msg else 'no output'}); "
                "pass --base REV or --from-diff", path=rel,
            )
        old = proc.stdout.decode("utf-8", "replace")
        return diff_many([DiffRequest(old, new, old_name=f"{o.base}:{rel}", new_name=rel)],
                         engine=o.engine, engine_dir=o.engine_dir)[0]


def _same_sql(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())
