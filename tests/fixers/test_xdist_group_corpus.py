"""The xdist-group corpus run (scripts/corpus_xdist_group.py) as part of the suite."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", ["site-packages", "litellm"])
def test_corpus(corpus: str) -> None:
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "corpus_xdist_group.py"), "--only", corpus],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "corpus: OK" in run.stdout
    figures = dict(item.split("=") for item in run.stdout.splitlines()[0].split(": ", 1)[1].split(", "))
    assert int(figures["files"]) > 100 and int(figures["changed"]) > 100
    assert figures["stabfix_bugs"] == "0" and figures["second_run_changes"] == "0"
