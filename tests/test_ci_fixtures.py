"""Before/after fixture pairs for the CI fixers `workers` and `dist`.

Each case folder under tests/fixtures/workers/ or tests/fixtures/dist/ holds ``before/`` (a small
repository), ``after/`` (the files that must change, byte for byte; files absent there must stay
byte-identical) and ``case.json`` (options, paths, expected warnings). The test writes the fix
through ``codemods.apply``, compares every file's bytes, checks that each reported edit points at
a line that really changed, and runs the fixer again to prove the second run changes nothing.
"""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import codemods

FIXTURES = Path(__file__).parent / "fixtures"
CASES = [(fixer, d) for fixer in ("workers", "dist") for d in sorted((FIXTURES / fixer).iterdir()) if d.is_dir()]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _changed_lines(old: bytes, new: bytes) -> set[int]:
    """1-based lines of ``old`` that changed; lines inserted count on the line before them."""
    a, b = old.split(b"\n"), new.split(b"\n")
    out: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            out.update(range(i1 + 1, i2 + 1))
        elif tag == "insert":
            out.add(i1)
    return out


@pytest.mark.parametrize(("fixer", "case"), CASES, ids=[f"{f}/{d.name}" for f, d in CASES])
def test_fixture_pair(fixer: str, case: Path, tmp_path: Path) -> None:
    meta: dict[str, Any] = json.loads((case / "case.json").read_text())
    repo = tmp_path / "repo"
    shutil.copytree(case / "before", repo)
    before = _files(repo)
    after_dir = case / "after"
    expected = {**before, **(_files(after_dir) if after_dir.is_dir() else {})}
    paths = meta.get("paths")

    report = codemods.apply(fixer, paths, root=repo, mode="write", **meta["options"])

    assert report.exit_code == 0, report.summary()
    assert _files(repo) == expected
    changed = {f.path: f for f in report.plan.files if f.status == "changed"}
    assert set(changed) == {rel for rel in before if expected[rel] != before[rel]}
    if meta.get("expect_status") == "unchanged":
        assert not changed
    for rel, result in changed.items():
        lines = _changed_lines(before[rel], expected[rel])
        assert {e.line for e in result.edits} == lines, result.edits
        assert all(e.data.get("file") == rel and "job" in e.data for e in result.edits)
    messages = [n.message for n in report.plan.notices if n.level == "warning"]
    for want in meta.get("warnings", []):
        assert any(want in m for m in messages), messages

    again = codemods.apply(fixer, paths, root=repo, mode="check", **meta["options"])
    assert again.exit_code == 0 and not again.plan.changes, again.diff
