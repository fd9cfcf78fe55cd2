"""stabfix's own code meets its own standards: ruff and mypy (strict) pass on src/ and every module
has a docstring. (That loading a fixer imports no heavy library is checked as behaviour, with the
import-linter contracts, in tests/test_layers.py.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

SRC = REPO_ROOT / "src" / "codemods"


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
