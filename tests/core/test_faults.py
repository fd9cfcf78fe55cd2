"""Bad days for the writer (issue 15): SIGKILL in the middle of a large write run, another process
editing files while stabfix renames its own, and what a killed run leaves behind."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codemods.core import writer
from tests.conftest import run_stabfix

STABFIX = Path(sys.executable).with_name("stabfix")


def _repo(root: Path, n: int) -> tuple[Path, dict[Path, bytes]]:
    """``n`` Python files with two unused imports each, committed, and a ruff report naming them."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    entries, old = [], {}
    body = "".join(f"x{j} = {j}\n" for j in range(30))
    for i in range(n):
        path = root / f"pkg{i % 20}" / f"m{i}.py"
        path.parent.mkdir(exist_ok=True)
        old[path] = b"import os\nimport sys\n" + body.encode()
        path.write_bytes(old[path])
        entries += [{"code": "F401", "filename": str(path), "location": {"row": row, "column": 8},
                     "end_location": {"row": row, "column": 10}, "noqa_row": row, "message": "m"}
                    for row in (1, 2)]
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "files"], check=True)
    report = root.parent / "report.json"
    report.write_text(json.dumps(entries))
    return report, old


def _new(data: bytes) -> bytes:
    return data.replace(b"import os\n", b"import os  # noqa: F401\n", 1).replace(
        b"import sys\n", b"import sys  # noqa: F401\n", 1)


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".stabfix-tmp-" in p.name]


def _run(root: Path, report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STABFIX), "apply", "noqa", "--from", str(report), "--jobs", "2", "--root", str(root)],
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("moment", [0.15, 0.35, 0.55, 0.75, 0.95])
def test_sigkill_leaves_old_or_new_bytes_and_the_next_run_cleans(tmp_path: Path, moment: float) -> None:
    root = tmp_path / "repo"
    report, old = _repo(root, 1000)
    start = time.perf_counter()
    timing = _run(root, report)  # how long a whole run takes here (then undo it)
    whole = time.perf_counter() - start
    assert timing.returncode == 0, timing.stderr
    for path, data in old.items():
        path.write_bytes(data)

    proc = subprocess.Popen([str(STABFIX), "apply", "noqa", "--from", str(report), "--jobs", "2",
                             "--root", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(whole * moment)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for path, data in old.items():  # every file whole: its old bytes or its new ones
        assert path.read_bytes() in (data, _new(data)), path
    left = _temps(root)
    if left:  # git does not offer them meanwhile
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
                                capture_output=True, text=True, check=True).stdout
        assert ".stabfix-tmp-" not in status
        time.sleep(0.05)  # older than the next run, even on a coarse clock

    again = _run(root, report)
    assert again.returncode == 0, again.stderr
    assert _temps(root) == []
    for path, data in old.items():
        assert path.read_bytes() == _new(data), path


def test_stale_temporary_files_are_removed_only_when_older_and_of_the_pattern(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    report, _ = _repo(root, 3)
    folder = root / "pkg0"
    stale = folder / ".m0.py.stabfix-tmp-0123456789ab"
    stale.write_text("half")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    mine = folder / ".m0.py.stabfix-tmp-notmine"  # not the pattern: a user's file
    mine.write_text("keep")
    os.utime(mine, (time.time() - 60, time.time() - 60))
    other = root / "elsewhere" / ".x.py.stabfix-tmp-0123456789ab"  # a folder the run does not touch
    other.parent.mkdir()
    other.write_text("half")
    assert _run(root, report).returncode == 0
    assert not stale.exists() and mine.exists() and other.exists()
    exclude = (root / ".git" / "info" / "exclude").read_text()
    assert exclude.count(writer.TEMP_GLOB) == 1
    assert _run(root, report).returncode == 0  # nothing left to do; the exclude entry is not repeated
    assert (root / ".git" / "info" / "exclude").read_text().count(writer.TEMP_GLOB) == 1


def test_a_newer_temporary_file_is_another_runs_and_stays(tmp_path: Path) -> None:
    folder = tmp_path
    fresh = folder / ".a.py.stabfix-tmp-0123456789ab"
    fresh.write_text("being written")
    assert writer.remove_stale_temps(folder, time.time() - 60) == 0 and fresh.exists()
    assert writer.remove_stale_temps(folder, time.time() + 1) == 1 and not fresh.exists()
    assert writer.TEMP_NAME.match(writer.temp_name("x.py"))


@pytest.mark.parametrize("attempt", range(3))
def test_an_edit_during_the_write_is_kept_or_reported(tmp_path: Path, attempt: int) -> None:
    """Another process rewrites files while stabfix writes 1,000 files: each edit is kept, or its
    file is named as changed during the run (exit 2); none is lost silently."""
    root = tmp_path / "repo"
    report, old = _repo(root, 1000)
    paths = sorted(old)
    rng = random.Random(attempt)
    targets = rng.sample(paths, 15)
    start = time.perf_counter()
    assert _run(root, report).returncode == 0  # how long a whole run takes here
    whole = time.perf_counter() - start
    for path, data in old.items():
        path.write_bytes(data)

    edited: dict[Path, bytes] = {}

    def edit() -> None:  # as an editor saves: a new file renamed over the old one
        for path in targets:
            time.sleep(rng.uniform(0, whole / len(targets)))
            data = path.read_bytes() + f"# edited by someone else {path.name}\n".encode()
            tmp = path.with_name(path.name + ".editor")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            edited[path] = data

    proc = subprocess.Popen([str(STABFIX), "apply", "noqa", "--from", str(report), "--jobs", "2",
                             "--root", str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    editor = threading.Thread(target=edit)
    editor.start()
    out, err = proc.communicate()
    editor.join()
    problems = "\n".join(line for line in (out + err).splitlines() if line.startswith("error:"))
    named = set(re.findall(r"(?<![\w/])pkg\d+/m\d+\.py(?!\w)", problems))
    reported = {p for p in paths if p.relative_to(root).as_posix() in named}
    for path in edited:
        kept = b"# edited by someone else" in path.read_bytes()
        assert kept or path in reported, (path, out[-500:], err[-500:])
    if reported:
        assert proc.returncode == 2, (out, err)
        assert "changed during the run" in out + err
    else:
        assert proc.returncode == 0, (out, err)
    for path in set(paths) - set(edited):
        assert path.read_bytes() in (old[path], _new(old[path]))
    assert _temps(root) == []


def test_a_file_over_max_file_size_is_skipped_in_one_line(tmp_path: Path) -> None:
    """A pathological input costs a stat: an 11 MB test module is skipped (default bound 10 MiB),
    the other files are still fixed; `max-file-size` in [tool.stabfix] moves the bound."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    big = repo / "tests" / "test_big.py"
    big.write_text("def test_big():\n    pass\n" + "# filler\n" * (11 * 1024 * 1024 // 9), encoding="utf-8")
    small = repo / "tests" / "test_small.py"
    small.write_text("def test_small():\n    pass\n", encoding="utf-8")
    big_before = big.read_bytes()
    proc = run_stabfix("apply", "xdist-group", "tests", "--group", "heavy", "--root", repo)
    assert proc.returncode == 0, proc.stderr
    assert big.read_bytes() == big_before
    assert "xdist_group" in small.read_text(encoding="utf-8")
    assert "over max-file-size" in proc.stdout + proc.stderr
    small.write_text("def test_small():\n    pass\n", encoding="utf-8")
    (repo / "pyproject.toml").write_text("[tool.stabfix]\nmax-file-size = 20\n", encoding="utf-8")
    proc = run_stabfix("apply", "xdist-group", "tests", "--group", "heavy", "--root", repo)
    assert proc.returncode == 0 and "xdist_group" not in small.read_text(encoding="utf-8"), proc.stdout
