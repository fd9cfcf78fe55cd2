"""Schema-to-schema diffs computed by Prisma's own schema engine.

Two ways to run the engine, tried in this order with ``engine="auto"``:

1. the ``prisma`` CLI on PATH, when it runs (``prisma --version`` answers): Prisma 6 takes
   ``--from-schema-datamodel A --to-schema-datamodel B``, Prisma 7 ``--from-schema A --to-schema B``;
2. the npm package ``@prisma/schema-engine-wasm`` (pinned below) through Node, fully offline. The
   package is installed with npm into a cache folder on first use (``$STABFIX_CACHE_DIR`` or
   ``~/.cache/stabfix``, or the ``engine_dir`` a user configures) and driven by the small Node
   script shipped next to this module.

Prisma 7 rejects ``url = env(...)`` in a datasource block, so those lines are blanked before a
diff (line numbers in engine messages stay right). Engine errors (a schema that does not
validate) are passed through as :class:`~codemods.errors.ToolError` with the engine's message.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codemods.errors import ToolError
from codemods.fixers.prisma.schema import PrismaSyntaxError, blank_datasource_urls

WASM_PACKAGE = "@prisma/schema-engine-wasm"
#: pinned: the SQL a diff produces may change between engine versions
WASM_VERSION = "8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323"
EMPTY_MIGRATION = "-- This is an empty migration."
_SCRIPT = Path(__file__).with_name("schema_engine_diff.mjs")
_NODE_MIN = (20, 6)


@dataclass(frozen=True)
class DiffRequest:
    """One diff: ``old`` None means an empty database (the first migration)."""

    old: str | None
    new: str
    old_name: str = "from/schema.prisma"
    new_name: str = "to/schema.prisma"


def default_cache_dir() -> Path:
    env = os.environ.get("STABFIX_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "stabfix"


def wasm_package_dir(engine_dir: Path | None = None) -> Path:
    """Where the pinned wasm package lives (or will live) inside the cache folder."""
    base = engine_dir if engine_dir is not None else default_cache_dir() / "prisma-schema-engine-wasm" / WASM_VERSION
    return base / "node_modules" / "@prisma" / "schema-engine-wasm"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ToolError(
            "Node.js >= 20.6 is needed to run Prisma's schema engine offline and `prisma` is not "
            "on PATH; install Node.js 20.6 or later (https://nodejs.org or nvm; a distribution's "
            "package may be older) or the Prisma CLI (`npm install -g prisma`), or pass --from-diff/--from-log"
        )
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.match(r"v(\d+)\.(\d+)", out.strip())
    if m and (int(m.group(1)), int(m.group(2))) < _NODE_MIN:
        raise ToolError(f"Node.js {out.strip()} is too old for {WASM_PACKAGE}; install Node.js >= 20.6")
    return node


def ensure_wasm(engine_dir: Path | None = None) -> Path:
    """Install the pinned wasm package with npm if it is not there yet; return its folder.

    Safe when several processes race: each installs into its own temporary folder next to the
    target and renames it into place; the loser discards its copy.
    """
    pkg = wasm_package_dir(engine_dir)
    if (pkg / "schema_engine_bg.wasm").is_file():
        return pkg
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError(
            f"npm is needed once to install {WASM_PACKAGE}@{WASM_VERSION} into {pkg.parents[2]}; "
            "install Node.js with npm, or install the package there yourself and pass --engine-dir"
        )
    base = pkg.parents[2]
    base.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=base.parent))
    try:
        proc = subprocess.run(
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--no-package-lock",
             "--loglevel=error", "--prefix", str(tmp), f"{WASM_PACKAGE}@{WASM_VERSION}"],
            capture_output=True, text=True, check=False, timeout=600,
        )
        if proc.returncode != 0 or not (tmp / pkg.relative_to(base) / "schema_engine_bg.wasm").is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ToolError(
                f"npm could not install {WASM_PACKAGE}@{WASM_VERSION}: {' '.join(tail) or 'no output'}; "
                "check access to the npm registry or pass --engine-dir with the package installed"
            )
        try:
            os.rename(tmp, base)
        except OSError:
            if not (pkg / "schema_engine_bg.wasm").is_file():
                raise ToolError(f"cannot install {WASM_PACKAGE} into {base}: the folder is in the way") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return pkg


def _clean_engine_message(message: str) -> str:
    """Drop the Rust backtrace lines the wasm engine appends (``   0: schema_engine_wasm::...``)."""
    return re.split(r"\n\s+0: ", message, maxsplit=1)[0].rstrip()


def _prepare(text: str) -> str:
    try:
        return blank_datasource_urls(text)
    except PrismaSyntaxError:
        return text  # let the engine report it, with its own message


def diff_wasm(requests: list[DiffRequest], engine_dir: Path | None = None) -> list[str]:
    """Run all diffs in one Node process; return each script (raises on the first failure)."""
    node = _node()
    pkg = ensure_wasm(engine_dir)
    payload = {
        "diffs": [
            {
                "from": None if r.old is None else _prepare(r.old),
                "to": _prepare(r.new),
                "fromName": r.old_name,
                "toName": r.new_name,
            }
            for r in requests
        ]
    }
    proc = subprocess.run(
        [node, str(_SCRIPT), str(pkg)], input=json.dumps(payload), capture_output=True,
        text=True, check=False, timeout=300,
    )
    try:
        answer = json.loads(proc.stdout)
        results = answer["results"]
    except (ValueError, KeyError, TypeError):
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise ToolError(f"Prisma's schema engine (wasm) failed: {tail or 'no output'}") from None
    out = []
    for r in results:
        if not r.get("ok"):
            raise ToolError("Prisma's schema engine rejected the schema: " + _clean_engine_message(str(r.get("error"))))
        out.append(str(r.get("stdout") or ""))
    return out


def prisma_cli_major(prisma: str) -> int | None:
    """The major version of a ``prisma`` CLI, or None when it does not run."""
    try:
        proc = subprocess.run([prisma, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"^prisma\s*:\s*(\d+)\.", proc.stdout, re.MULTILINE) or re.match(r"\s*(\d+)\.\d+", proc.stdout)
    if proc.returncode != 0 or not m:
        return None
    return int(m.group(1))


def cli_diff_args(major: int, old: str | None, new: str) -> list[str]:
    """``prisma migrate diff`` arguments for the CLI's major version (``old`` None = empty)."""
    if major >= 7:
        frm = ["--from-empty"] if old is None else ["--from-schema", old]
        return ["migrate", "diff", *frm, "--to-schema", new, "--script"]
    frm = ["--from-empty"] if old is None else ["--from-schema-datamodel", old]
    return ["migrate", "diff", *frm, "--to-schema-datamodel", new, "--script"]


def diff_cli(prisma: str, major: int, requests: list[DiffRequest]) -> list[str]:
    """Run ``prisma migrate diff`` once per request in a temporary folder."""
    out = []
    with tempfile.TemporaryDirectory(prefix="stabfix-prisma-") as tmp:
        for i, r in enumerate(requests):
            folder = Path(tmp) / str(i)
            (folder / "from").mkdir(parents=True)
            (folder / "to").mkdir()
            new = folder / "to" / "schema.prisma"
            new.write_text(blank_datasource_urls(r.new) if major >= 7 else r.new, encoding="utf-8")
            old: str | None = None
            if r.old is not None:
                old_path = folder / "from" / "schema.prisma"
                old_path.write_text(blank_datasource_urls(r.old) if major >= 7 else r.old, encoding="utf-8")
                old = str(old_path)
            proc = subprocess.run(
                [prisma, *cli_diff_args(major, old, str(new))], capture_output=True, text=True,
                cwd=folder, timeout=300, check=False,
            )
            if proc.returncode != 0:
                msg = (proc.stderr.strip() or proc.stdout.strip()).replace(str(folder) + os.sep, "")
                raise ToolError(f"prisma migrate diff failed: {msg}")
            out.append(proc.stdout)
    return out


def diff_many(requests: list[DiffRequest], *, engine: str = "auto", engine_dir: Path | None = None,
              prisma: str | None = None) -> list[str]:
    """Diff each pair with Prisma's engine (``engine`` is auto, cli or wasm); return the scripts."""
    if not requests:
        return []
    if engine in ("auto", "cli"):
        exe = prisma or shutil.which("prisma")
        major = prisma_cli_major(exe) if exe else None
        if exe and major is not None:
            try:
                return diff_cli(exe, major, requests)
            except ToolError:
                if engine == "cli":
                    raise
                # the CLI runs but cannot diff (e.g. its native engine is not downloadable): fall back
        elif engine == "cli":
            raise ToolError("the `prisma` CLI is not on PATH or does not run; install it (`npm install -g prisma`) or use --engine wasm")
    return diff_wasm(requests, engine_dir)


def diff(old: str | None, new: str, *, engine: str = "auto", engine_dir: Path | None = None) -> str:
    """One diff (see :func:`diff_many`)."""
    return diff_many([DiffRequest(old, new)], engine=engine, engine_dir=engine_dir)[0]


def is_empty(script: str) -> bool:
    """True for the engine's empty migration (``-- This is an empty migration.``) or blank output."""
    return not script.strip() or script.strip() == EMPTY_MIGRATION
