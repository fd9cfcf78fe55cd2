"""Shared test fixtures: the sample repository copy, running the CLI, git identity for commits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: fixture trees hold test modules of their own (the fixers' input): data, not tests to collect
collect_ignore = ["fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
STABFIX = Path(sys.executable).with_name("stabfix")

# Tests commit in temporary repositories; a clean CI machine has no git identity.
for key, value in {
    "GIT_AUTHOR_NAME": "stabfix tests", "GIT_AUTHOR_EMAIL": "tests@stabfix.invalid",
    "GIT_COMMITTER_NAME": "stabfix tests", "GIT_COMMITTER_EMAIL": "tests@stabfix.invalid",
}.items():
    os.environ.setdefault(key, value)


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A fresh copy of the embedded sample repository, committed with git."""
    from codemods.commands.demo import copy_sample

    return copy_sample(tmp_path / "repo")


def run_stabfix(*args: str | os.PathLike[str], cwd: Path | None = None, input: str | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `stabfix` console script; returns the completed process (never raises)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(STABFIX), *map(str, args)], cwd=cwd, input=input, capture_output=True,
                          text=True, env=full_env, check=False)


@pytest.fixture
def stabfix():
    return run_stabfix
