"""The one runner for every fixer's fixture cases.

Layout: ``tests/fixtures/<fixer>/<case>/`` holds

* ``before/`` -- a small repository tree (input files such as tool reports, JUnit XML or SQL live
  here too and are named relative to it);
* ``after/`` -- the expected tree: only the files the fixer creates or changes, byte for byte. Every
  file of ``before/`` that is not in ``after/`` must stay byte-identical (a case whose fixer changes
  nothing has no ``after/``). Deleting files is not a thing fixers do, so there is no marker for it;
* ``case.toml``::

      args = ["tests", "--only", "tests/test_case.py::test_x"]  # after `stabfix apply <fixer>`
      exit = 0                      # expected exit code of the write run (default 0)
      messages = ["skipped tests/"]  # substrings of the write run's stdout + stderr (default [])
      note = "what the case shows"   # free text, optional
      rerun_exit = 2                 # exit code of the second run when it differs (migration refuses
                                     # a second folder with the same --timestamp); default: exit
      idempotent = false             # only for bumps (version --part): a second run bumps again

For each case the tree is copied to a temporary git repository (committed), the fixer runs through
the CLI (in process; ``--root`` is added, the working directory is the copy), and the tree must equal the
expectation. Then (unless ``idempotent = false``): a second run changes nothing and ``--check``
agrees (exit 0 when both runs exited 0), and ``--diff`` on a fresh copy prints a patch that ``git apply`` accepts and that yields
the same tree. Every registered fixer needs at least one case folder.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codemods.cli import cli
from codemods.core.registry import names
from codemods.errors import StabfixError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Folders under tests/fixtures that are not fixer cases: inputs of the oracle tests and generators.
NOT_FIXERS = {
    "prisma": "tests/fixers/prisma/test_oracle.py: schema pairs migrated into a real PostgreSQL",
    "triage": "tests/commands/triage/test_categories.py: make_logs.py generates the CI logs",
}
KEYS = {"args", "exit", "messages", "note", "rerun_exit", "idempotent"}
#: fixers whose report names, per edit, a line that the edit changes (CI splices): the runner checks
#: every reported line against the lines that differ between before/ and after/
EDIT_ON_CHANGED_LINE = {"workers", "dist"}


def fixture_cases() -> list[Any]:
    out = []
    for fixer in names():
        folder = FIXTURES / fixer
        if folder.is_dir():
            out += [pytest.param(fixer, case, id=f"{fixer}/{case.name}")
                    for case in sorted(folder.iterdir()) if case.is_dir()]
    return out


CASES = fixture_cases()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def _git(repo: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-c", "core.autocrlf=false", "-c", "core.safecrlf=false", *args],
                          cwd=repo, input=input, capture_output=True, check=False)


def _fresh_repo(case: Path, dest: Path) -> Path:
    shutil.copytree(case / "before", dest)
    for argv in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "--no-verify", "-m", "before")):
        proc = _git(dest, *argv)
        assert proc.returncode == 0, proc.stderr.decode()
    return dest


def _load(case: Path) -> dict[str, Any]:
    meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    unknown = set(meta) - KEYS
    assert not unknown, f"{case}/case.toml: unknown keys {sorted(unknown)}"
    assert isinstance(meta.get("args", []), list)
    return meta


class Run:
    """One `stabfix apply` run, in process (a subprocess per run costs a second of imports), from
    the repository copy as working directory. Errors end the run as the console script ends it:
    exit 2 and the one-line message."""

    def __init__(self, fixer: str, repo: Path, args: list[str], *extra: str) -> None:
        argv = ["apply", fixer, *args, *extra, "--root", str(repo)]
        cwd = os.getcwd()
        os.chdir(repo)
        try:
            result = CliRunner().invoke(cli, argv, prog_name="stabfix", catch_exceptions=True)
        finally:
            os.chdir(cwd)
        self.raw = result.stdout_bytes
        stderr = result.stderr_bytes.decode("utf-8", "replace")
        self.returncode = result.exit_code
        exc = result.exception
        if isinstance(exc, StabfixError):
            self.returncode, stderr = 2, stderr + exc.one_line() + "\n"
        elif exc is not None and not isinstance(exc, SystemExit):
            raise exc
        self.stdout = self.raw.decode("utf-8", "replace")
        self.output = self.stdout + stderr


def test_every_registered_fixer_has_cases() -> None:
    missing = [f for f in names() if not any((FIXTURES / f).glob("*/case.toml"))]
    assert not missing, f"fixers without a case folder under tests/fixtures/<fixer>/<case>/: {missing}"


def test_fixture_folders_follow_the_layout() -> None:
    registered = set(names())
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        assert folder.name in registered or folder.name in NOT_FIXERS, f"unknown fixture folder {folder}"
        if folder.name not in registered:
            continue
        for case in sorted(p for p in folder.iterdir()):
            assert case.is_dir(), f"stray file {case}"
            assert (case / "case.toml").is_file() and (case / "before").is_dir(), case
            extra = {p.name for p in case.iterdir()} - {"before", "after", "case.toml"}
            assert not extra, f"{case}: unexpected {sorted(extra)}"
            _load(case)


@pytest.mark.parametrize(("fixer", "case"), CASES)
def test_fixture_case(fixer: str, case: Path, tmp_path: Path) -> None:
    meta = _load(case)
    args = [str(a) for a in meta.get("args", [])]
    want_exit = int(meta.get("exit", 0))
    before = _files(case / "before")
    after_dir = case / "after"
    expected = {**before, **(_files(after_dir) if after_dir.is_dir() else {})}

    # the write run
    repo = _fresh_repo(case, tmp_path / "repo")
    proc = Run(fixer, repo, args)
    output = proc.output
    assert proc.returncode == want_exit, output
    got = _files(repo)
    assert sorted(got) == sorted(expected), output
    for rel, data in expected.items():
        assert got[rel] == data, f"{rel} differs from {'after' if rel in _files(after_dir) else 'before'}/{rel}"
    for want in meta.get("messages", []):
        assert want in output, f"{want!r} not in:\n{output}"

    # idempotence: a second run changes nothing, and --check agrees
    if meta.get("idempotent", True):
        rerun_exit = int(meta.get("rerun_exit", want_exit))
        again = Run(fixer, repo, args)
        assert again.returncode == rerun_exit, again.output
        assert _files(repo) == expected
        check = Run(fixer, repo, args, "--check")
        assert check.returncode == rerun_exit, check.output
        if rerun_exit == 0:
            assert "diff --git" not in check.stdout, check.stdout

    # --diff on a fresh copy: writes nothing, and the patch git-applies to the expected tree
    fresh = _fresh_repo(case, tmp_path / "fresh")
    diff = Run(fixer, fresh, args, "--diff")
    assert diff.returncode == want_exit, diff.output
    assert _files(fresh) == before
    if expected == before:
        assert "diff --git" not in diff.stdout, diff.stdout
        return
    applied = _git(fresh, "apply", "--whitespace=nowarn", "-", input=diff.raw)
    assert applied.returncode == 0, applied.stderr.decode() + diff.stdout
    assert _files(fresh) == expected
    if fixer in EDIT_ON_CHANGED_LINE:
        _edits_on_changed_lines(fixer, case, args, before, expected, tmp_path / "json")


def _edits_on_changed_lines(fixer: str, case: Path, args: list[str], before: dict[str, bytes],
                            expected: dict[str, bytes], dest: Path) -> None:
    """Each edit the --json report names points at a line that the change really alters."""
    report = json.loads(Run(fixer, _fresh_repo(case, dest), args, "--diff", "--json").stdout)
    for entry in report["files"]:
        if entry["status"] != "changed":
            continue
        old = before[entry["path"]].splitlines()
        new = expected[entry["path"]].splitlines()
        changed: set[int] = set()  # 1-based lines of the old text: replaced, or next to an insertion
        for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "insert":
                changed.update((i1, i1 + 1))
            elif tag != "equal":
                changed.update(range(i1 + 1, i2 + 1))
        for edit in entry["edits"]:
            if edit.get("line") is not None:
                assert edit["line"] in changed, f"{entry['path']}: edit {edit} is not on a changed line {sorted(changed)}"
