"""The built wheel ships templates/migrations as codemods/templates/migrations and renders from it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.fixers.prisma.prisma_testlib import ensure_engine, make_repo

pytestmark = pytest.mark.slow


def test_wheel_installed_in_a_fresh_venv_renders_a_migration(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO_ROOT)]
    if importlib.util.find_spec("hatchling") is not None:
        build.insert(4, "--no-isolation")  # the pinned build backend is already here
    proc = subprocess.run(build, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = dist.glob("stabfix-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"codemods/templates/migrations/migration.sql.j2", "codemods/fixers/prisma/schema_engine_diff.mjs"} <= names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # dependencies come from the test venv (appended after the wheel's own site-packages;
    # .pth files there, such as the editable install's, are not processed)
    (site / "stabfix-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr

    check = subprocess.run(
        [str(py), "-c", "import codemods; from codemods.fixers.prisma.migrations import template_dirs;"
         "d = [p for p in template_dirs() if (p / 'migration.sql.j2').is_file()]; print(codemods.__file__); print(d[0])"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.split()
    assert check[0].startswith(str(site)) and check[1] == str(site / "codemods" / "templates" / "migrations")

    repo = make_repo(tmp_path / "repo", {"db/migrations/migration_lock.toml": "provider = \"postgresql\"\n"})
    sql = '-- AlterTable\nALTER TABLE "A" ADD COLUMN     "b" TEXT;\n'
    proc = subprocess.run(
        [str(venv / "bin" / "stabfix"), "apply", "migration", "--name", "add b", "--from-diff", "-",
         "--migrations", "db/migrations", "--timestamp", "20300101000000", "--lock-timeout", "5s", "--root", str(repo)],
        input=sql, capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    created = repo / "db" / "migrations" / "20300101000000_add_b" / "migration.sql"
    assert created.read_text() == "SET LOCAL lock_timeout = '5s';\n\n" + sql

    # the Node script shipped in the wheel drives Prisma's engine
    ensure_engine()
    script = tmp_path / "engine_check.py"
    script.write_text(
        "import codemods.fixers.prisma.schema_engine as e\n"
        "print(e._SCRIPT)\n"
        "print(e.diff(None, 'datasource db {\\n  provider = \"postgresql\"\\n}\\nmodel A {\\n  id Int @id\\n}\\n', engine='wasm'))\n"
    )
    proc = subprocess.run([str(py), str(script)], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(site / "codemods" / "fixers" / "prisma" / "schema_engine_diff.mjs"))
    assert 'CREATE TABLE "A"' in proc.stdout
