"""stabfix's own code meets its own standards: ruff and mypy (strict) pass on src/, every module
has a docstring, and fixer modules import no heavy library at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

SRC = REPO_ROOT / "src" / "codemods"
HEAVY = {"libcst", "ruamel", "jinja2", "tomlkit", "httpx", "rich"}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "sample_repo" not in p.parts)


def test_ruff_passes_on_src() -> None:
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "src"], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_passes_on_src() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_module_has_a_docstring() -> None:
    missing = [str(p.relative_to(REPO_ROOT)) for p in _modules()
               if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert missing == []


def test_fixer_modules_import_heavy_libraries_lazily() -> None:
    offenders = []
    for path in sorted((SRC / "fixers").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in HEAVY]
    assert offenders == []
