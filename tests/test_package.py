"""The package as users get it: the built wheel installs, finds its templates and sample, runs the demo."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_stabfix


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO_ROOT)],
                   check=True, capture_output=True, text=True)
    [whl] = out.glob("stabfix-*.whl")
    return whl


def test_wheel_ships_templates_sample_and_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "codemods/templates/migrations/migration.sql.j2" in names
    assert "codemods/py.typed" in names
    assert "codemods/commands/sample_repo/.circleci/config.yml" in names
    assert "codemods/commands/sample_repo/litellm/proxy/schema.prisma" in names
    assert not any(n.startswith("codemods/commands/sample_repo/") and "__pycache__" in n for n in names)


@pytest.mark.slow
def test_installed_wheel_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REPO_ROOT / "requirements-test.txt")], check=True, capture_output=True)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import codemods, pathlib; p = pathlib.Path(codemods.__file__).parent; "
         "print(p); print((p / 'templates' / 'migrations' / 'migration.sql.j2').is_file())"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert "site-packages" in where[0] and where[1] == "True"
    demo = subprocess.run([str(venv / "bin" / "stabfix"), "demo"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    assert demo.returncode == 0, demo.stderr + demo.stdout
    assert '+pytestmark = pytest.mark.xdist_group("router_heavy")' in demo.stdout


def test_demo_touches_nothing_of_the_user(tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    demo = run_stabfix("demo", "--fixer", "xdist-group", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "$ stabfix apply xdist-group" in demo.stdout and "+pytestmark" in demo.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    sample = REPO_ROOT / "src" / "codemods" / "commands" / "sample_repo" / "tests" / "local_testing" / "test_router_heavy.py"
    assert "pytestmark" not in sample.read_text()
