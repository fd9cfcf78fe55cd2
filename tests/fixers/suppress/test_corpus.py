"""Corpus runs on real code (sdists from PyPI): the scripts check everything and print the numbers.

* ``scripts/corpus_noqa_litellm.py``: litellm 1.80.0 under ruff (~47,000 diagnostics);
* ``scripts/corpus_mypy_requests.py``: requests 2.32.3 under ``mypy --strict`` (623 errors).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("script", ["corpus_noqa_litellm.py", "corpus_mypy_requests.py"])
def test_corpus(script: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=900,
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("OK")
