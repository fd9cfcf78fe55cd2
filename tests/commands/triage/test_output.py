"""What triage leaves in the user's tree and prints: its cache folder ignores itself, a piped
summary has no padding and honours COLUMNS, and NO_COLOR (or a pipe) means no escape codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOG = "FAILED tests/test_x.py::test_y - assert 401 == 200\n===== 1 failed in 0.1s =====\n"


def _triage(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    log = repo / "ci.log"
    log.write_text(LOG, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "codemods", "triage", str(log), "--root", str(repo), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)


def test_the_default_output_folder_is_ignored_by_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "ruff_out.txt").write_text("", encoding="utf-8")
    log = repo / "ci.log"
    log.write_text("x.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.\nExited with code exit status 1\n",
                   encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], cwd=repo, check=True)
    subprocess.run([sys.executable, "-m", "codemods", "triage", str(log), "--root", str(repo)],
                   capture_output=True, text=True, check=False)
    assert (repo / ".stabfix" / "triage").is_dir()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True)
    assert status.stdout == ""


def test_a_piped_summary_has_no_padding_and_honours_columns(tmp_path: Path) -> None:
    proc = _triage(tmp_path, env={"COLUMNS": "60"})
    lines = proc.stdout.splitlines()
    assert lines and all(line == line.rstrip() for line in lines)
    assert max(len(line) for line in lines if line.startswith(("┏", "┃", "│", "└", "+", "|"))) <= 60


def test_no_color_and_pipes_print_no_escape_codes(tmp_path: Path) -> None:
    for env in ({"NO_COLOR": "1"}, {"NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color"}):
        proc = _triage(tmp_path, env=env)
        assert "\x1b[" not in proc.stdout and "\x1b[" not in proc.stderr
