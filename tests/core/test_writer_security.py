"""Files stabfix must not replace (write-protected, owned by another user) and binary files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods.core.source import read_source
from codemods.errors import FileFailure, StabfixError

STABFIX = Path(sys.executable).with_name("stabfix")
SOURCE = b"import os\nimport sys\n\nx = 1\n"


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    entries = []
    for name in ("pkg/a.py", "pkg/b.py", "c.py"):
        (root / name).write_bytes(SOURCE)
        entries.append({"code": "F401", "filename": str(root / name), "location": {"row": 1, "column": 8},
                        "end_location": {"row": 1, "column": 10}, "noqa_row": 1, "message": "m"})
    report = tmp_path / "report.json"
    report.write_text(json.dumps(entries))
    return root, report


def _refused(root: Path, report: Path, name: str, why: str) -> None:
    """The CLI refuses the write with one line naming ``name``, exit 2, and writes nothing."""
    before = {p: (p.read_bytes(), p.stat()) for p in root.rglob("*.py")}
    proc = subprocess.run([str(STABFIX), "apply", "noqa", "--from", str(report), "--root", str(root)],
                          cwd=root, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: {name}: {why}"), proc.stderr
    for path, (data, st) in before.items():  # nothing written, not even the other files
        after = path.stat()
        assert path.read_bytes() == data
        assert (after.st_mode, after.st_uid, after.st_ino) == (st.st_mode, st.st_uid, st.st_ino)
    assert not [p for p in root.rglob("*") if ".stabfix-tmp-" in p.name]
    with pytest.raises(StabfixError, match=why):
        codemods.apply("noqa", root=root, mode="write", from_report=str(report))
    diff = codemods.apply("noqa", root=root, mode="diff", from_report=str(report))
    assert len(diff.changed) == 3  # planning and diffing it is fine


def test_a_write_protected_file_is_refused(tmp_path: Path) -> None:
    root, report = _repo(tmp_path)
    (root / "pkg" / "b.py").chmod(0o444)
    _refused(root, report, "pkg/b.py", "write-protected")
    assert stat.S_IMODE((root / "pkg" / "b.py").stat().st_mode) == 0o444


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    root, report = _repo(tmp_path)
    os.chown(root / "c.py", 12345, 12345)
    _refused(root, report, "c.py", "owned by another user")
    assert (root / "c.py").stat().st_uid == 12345


def test_writable_files_are_still_written(tmp_path: Path) -> None:
    root, report = _repo(tmp_path)
    (root / "c.py").chmod(0o640)
    rep = codemods.apply("noqa", root=root, mode="write", from_report=str(report))
    assert rep.exit_code == 0 and len(rep.changed) == 3
    assert (root / "c.py").read_bytes().startswith(b"import os  # noqa: F401\n")
    assert stat.S_IMODE((root / "c.py").stat().st_mode) == 0o640


def test_a_nul_byte_anywhere_means_binary(tmp_path: Path) -> None:
    path = tmp_path / "late.py"
    path.write_bytes(b"x = 1\n" * 2000 + b"y = '\x00'\n")  # past the first 8 KB
    with pytest.raises(FileFailure, match="binary file"):
        read_source(path, "late.py")
    (tmp_path / "text.py").write_bytes(b"x = 1\n" * 2000)
    assert read_source(tmp_path / "text.py", "text.py").text.startswith("x = 1\n")
