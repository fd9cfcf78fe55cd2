"""The writer's staging process (codemods.core.stager): the files, refusals and cleanup of the
writer's own threads, and nothing of a run left behind when it dies or is stopped."""

from __future__ import annotations

import io
import marshal
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import codemods
from codemods.core import stager, writer
from codemods.errors import StabfixError
from tests.core.test_interrupts import _repo, _temps


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode)
            for p in sorted(root.rglob("*.py"))}


@pytest.fixture
def started(monkeypatch: Any) -> list[int]:
    """Every change goes to the staging process; the list counts the processes started."""
    monkeypatch.setattr(writer, "PROCESS_AFTER", 0)
    starts: list[int] = []
    real = writer.Writer._start

    def start(self: writer.Writer) -> subprocess.Popen[bytes]:
        proc = real(self)
        starts.append(proc.pid)
        return proc

    monkeypatch.setattr(writer.Writer, "_start", start)
    return starts


def test_the_process_writes_what_the_threads_write(tmp_path: Path, monkeypatch: Any) -> None:
    by_threads, by_process = tmp_path / "t" / "repo", tmp_path / "p" / "repo"
    reports = [_repo(by_threads, 60), _repo(by_process, 60)]
    (by_threads / "pkg3" / "m3.py").chmod(0o640)
    (by_process / "pkg3" / "m3.py").chmod(0o640)
    monkeypatch.setattr(writer, "PROCESS_AFTER", 10**9)
    one = codemods.apply("noqa", root=by_threads, mode="write", from_report=str(reports[0]), keep_texts=False)
    starts: list[int] = []
    real = writer.Writer._start
    monkeypatch.setattr(writer, "PROCESS_AFTER", 5)
    monkeypatch.setattr(writer.Writer, "_start", lambda self: starts.append(1) or real(self))
    two = codemods.apply("noqa", root=by_process, mode="write", from_report=str(reports[1]), keep_texts=False)
    assert starts == [1]  # 5 files by the threads, 55 by one process
    assert len(one.changed) == len(two.changed) == 60
    assert _files(by_threads) == _files(by_process)
    assert _files(by_process)["pkg3/m3.py"][0].startswith(b"import os  # noqa: F401\n")
    assert oct(_files(by_process)["pkg3/m3.py"][1] & 0o777) == "0o640"
    assert _temps(by_threads.parent) == _temps(by_process.parent) == []


def test_its_refusal_writes_nothing(tmp_path: Path, started: list[int]) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 30)
    (root / "pkg4" / "m14.py").chmod(0o444)
    before = _files(root)
    with pytest.raises(StabfixError, match="write-protected") as err:
        codemods.apply("noqa", root=root, mode="write", from_report=str(report))
    assert err.value.path == "pkg4/m14.py"
    assert len(started) == 1
    assert _files(root) == before and _temps(root) == []


def test_a_process_that_ends_early_refuses_the_plan(tmp_path: Path, monkeypatch: Any) -> None:
    root = tmp_path / "repo"
    report = _repo(root, 30)
    monkeypatch.setattr(writer, "PROCESS_AFTER", 10)
    monkeypatch.setattr(writer.Writer, "_start", lambda self: subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit(3)"], stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    before = _files(root)
    with pytest.raises(StabfixError, match=r"staging process ended \(exit 3\); nothing written"):
        codemods.apply("noqa", root=root, mode="write", from_report=str(report))
    assert _files(root) == before and _temps(root) == []  # the threads' 10 files were removed too


def test_a_killed_process_leaves_nothing(tmp_path: Path, started: list[int], monkeypatch: Any) -> None:
    """Killed once it has written temporary files: the run is refused and they are removed."""
    root = tmp_path / "repo"
    report = _repo(root, 40)
    real = writer.Writer._collect

    def collect(self: writer.Writer) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while len(_temps(root)) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _temps(root)
        proc.kill()
        proc.wait()
        real(self)

    monkeypatch.setattr(writer.Writer, "_collect", collect)
    before = _files(root)
    with pytest.raises(StabfixError, match="staging process ended"):
        codemods.apply("noqa", root=root, mode="write", from_report=str(report))
    assert _files(root) == before and _temps(root) == []


def _frame(index: int, rel: str, data: bytes) -> bytes:
    return stager.HEADER.pack(index, len(rel.encode()), len(data)) + rel.encode() + data


def test_the_protocol(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.py").write_text("old\n")
    (root / "y.py").write_text("old\n")
    (root / "y.py").chmod(0o600)
    spec = writer.StageSpec(str(root), time.time(), writer.run_token())
    frames = _frame(0, "a/x.py", b"new x\n") + _frame(1, "y.py", b"new y\n") + _frame(2, "../z.py", b"z")
    out = io.BytesIO()
    assert stager.serve(spec, io.BytesIO(frames + stager.HEADER.pack(stager.DONE, 0, 0)), out) == 0
    replies = {index: (tmp, error) for index, tmp, error in marshal.loads(out.getvalue())}
    assert Path(replies[0][0] or "").read_bytes() == b"new x\n"
    assert Path(replies[0][0] or "").parent == root / "a"
    assert Path(replies[1][0] or "").read_bytes() == b"new y\n"
    assert oct(os.stat(replies[1][0] or "").st_mode & 0o777) == "0o600"  # the target's permissions
    assert replies[2] == (None, "refusing to write outside the repository root (symlink or '..' in the path)")
    names = {Path(t or "").name for t, _ in replies.values() if t}
    assert all(n.rpartition("-")[2].startswith(spec.token) for n in names)  # the run's token
    assert (root / "a" / "x.py").read_text() == "old\n"  # staged, never renamed here

    # the input ends without DONE (a half frame, then nothing): what it wrote is removed
    out = io.BytesIO()
    assert stager.serve(spec, io.BytesIO(_frame(0, "a/x.py", b"again\n") + frames[:7]), out) == 1
    assert out.getvalue() == b""
    assert {p.name for p in _temps(root)} == names  # only the first serve's files are there


def test_a_run_keeps_its_own_temporary_files_and_removes_only_its_own(tmp_path: Path) -> None:
    ours, theirs = writer.run_token(), "abcdef"
    while ours == theirs:
        ours = writer.run_token()
    mine = tmp_path / writer.temp_name("a.py", ours)
    other = tmp_path / writer.temp_name("a.py", theirs)
    assert writer.TEMP_NAME.match(mine.name) and writer.TEMP_NAME.match(other.name)
    mine.write_text("x")
    other.write_text("x")
    # both look older than the run (a coarse clock): the run's own file stays
    assert writer.remove_stale_temps(tmp_path, time.time() + 5, keep=ours) == 1
    assert mine.exists() and not other.exists()
    other.write_text("x")
    writer.remove_run_temps([str(tmp_path)], ours)
    assert not mine.exists() and other.exists()


PARENT = """
import os, signal, sys
from pathlib import Path
from codemods.core import stager, writer
from codemods.core.plan import FileChange
writer.PROCESS_AFTER = 0
root = Path(sys.argv[1])
w = writer.Writer(root)
for p in sorted(root.glob("*.py")):
    w.stage(FileChange(p.name, p.read_bytes(), b"new\\n", "r"))
if sys.argv[2] == "done":
    w._proc.stdin.write(stager.HEADER.pack(stager.DONE, 0, 0))
w._proc.stdin.flush()
print(w._proc.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody reaps yet (an orphan's new parent may be slow to, or never)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] == "Z"


@pytest.mark.parametrize("moment", ["staging", "done"])
def test_a_killed_parent_leaves_nothing_of_its_process(tmp_path: Path, moment: str) -> None:
    """The parent is SIGKILLed while its process stages (before or after it asked for the
    answers): the process stops and removes what it wrote."""
    for i in range(300):
        (tmp_path / f"m{i}.py").write_text("old\n")
    proc = subprocess.run([sys.executable, "-c", PARENT, str(tmp_path), moment], capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    child = int(proc.stdout)
    deadline = time.monotonic() + 20
    while not _ended(child):
        if time.monotonic() > deadline:
            pytest.fail("the staging process did not end")
        time.sleep(0.02)
    assert _temps(tmp_path) == []
    assert all(p.read_text() == "old\n" for p in tmp_path.glob("*.py"))
