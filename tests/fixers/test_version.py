"""`stabfix apply version`: tomlkit value edits, commitizen version_files, requirements.txt left alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import codemods
from codemods.fixers.version import bump, bump_lines
from tests.conftest import run_stabfix
from tests.fixers.prisma.prisma_testlib import VERSION_FIXTURES, sdist, snapshot

EXTRAS = "litellm-proxy-extras/pyproject.toml"


def _real_tree(case: str, root: Path) -> Path:
    """The input tree: the real extras pyproject.toml from its sdist plus the files its
    version_files name (litellm 1.80.0's own pyproject.toml for the poetry-era layout)."""
    (root / "litellm-proxy-extras").mkdir(parents=True)
    if case == "poetry_046":
        shutil.copy(sdist("litellm-proxy-extras", "0.4.6") / "pyproject.toml", root / EXTRAS)
        text = (sdist("litellm", "1.80.0") / "pyproject.toml").read_text()
        pinned = text.replace('litellm-proxy-extras = {version = "0.4.5"', 'litellm-proxy-extras = {version = "0.4.6"')
        assert pinned != text
        (root / "pyproject.toml").write_text(pinned)
        (root / "requirements.txt").write_text("httpx==0.28.1\nlitellm-proxy-extras==0.4.6\n")
        (root / "poetry.lock").write_text("# lock\n")
    else:
        shutil.copy(sdist("litellm-proxy-extras", "0.4.110") / "pyproject.toml", root / EXTRAS)
        shutil.copy(VERSION_FIXTURES / case / "before" / "pyproject.toml", root / "pyproject.toml")
        (root / "uv.lock").write_text("version = 1\n")
    return root


@pytest.mark.corpus
@pytest.mark.parametrize(("case", "part", "lock"), [("poetry_046", "patch", "poetry.lock"),
                                                   ("project_0110", "minor", "uv.lock")])
def test_real_extras_layouts_give_the_exact_expected_files(case: str, part: str, lock: str, tmp_path: Path) -> None:
    root = _real_tree(case, tmp_path / "repo")
    before = snapshot(root)
    proc = run_stabfix("apply", "version", "--part", part, "--root", root)
    assert proc.returncode == 0, proc.stderr
    expected_dir = VERSION_FIXTURES / case / "after"
    after = snapshot(root)
    for rel, data in after.items():
        want = (expected_dir / rel).read_bytes() if (expected_dir / rel).exists() else before[rel]
        assert data == want, rel
    out = proc.stdout + proc.stderr
    assert f"{lock} needs refreshing" in out
    if case == "poetry_046":
        assert "left requirements.txt alone" in out
        assert after["requirements.txt"] == before["requirements.txt"]


def test_sample_repo_bump_with_and_without_requirements(sample_repo: Path) -> None:
    proc = run_stabfix("apply", "version", "--diff", "--root", sample_repo)
    assert proc.returncode == 0
    assert '-version = "0.4.5"\n+version = "0.4.6"' in proc.stdout
    assert '+    "litellm-proxy-extras==0.4.6",' in proc.stdout
    assert "diff --git a/requirements.txt" not in proc.stdout
    report = codemods.apply("version", root=sample_repo, mode="write", set="0.5.0", include_requirements=True)
    assert report.exit_code == 0
    assert "litellm-proxy-extras==0.5.0\n" in (sample_repo / "requirements.txt").read_text()
    assert 'version = "0.5.0"' in (sample_repo / EXTRAS).read_text()


def test_quote_style_and_every_other_byte_are_kept(tmp_path: Path) -> None:
    text = ("[project]   # the package\nname = 'pkg'\nversion = '1.2.3'  # bumped by cz\n\n"
            "[tool.commitizen]\r\nversion = \"1.2.3\"\r\nversion_files = [\"README.md:^Version\"]\r\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_bytes(text.encode())
    (tmp_path / "pkg" / "README.md").write_text("Version 1.2.3\nNot this 1.2.3\n")
    report = codemods.apply("version", root=tmp_path, mode="write", package="pkg", part="major")
    assert report.exit_code == 0
    assert (tmp_path / "pkg" / "pyproject.toml").read_bytes() == text.replace("1.2.3", "2.0.0").encode()
    assert (tmp_path / "pkg" / "README.md").read_text() == "Version 2.0.0\nNot this 1.2.3\n"


@pytest.mark.parametrize(("args", "needle"), [
    (["--set", "not-a-version"], "not a PEP 440 version"),
    (["--package", "missing"], "missing/pyproject.toml: no pyproject.toml"),
    (["--part", "patch", "--set", "1.0.0"], "not both"),
])
def test_bad_input_is_exit_2_and_writes_nothing(sample_repo: Path, args: list[str], needle: str) -> None:
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "version", *args, "--root", sample_repo)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert snapshot(sample_repo) == before


@pytest.mark.parametrize(("current", "part", "new"), [("0.4.6", "patch", "0.4.7"), ("0.4.110", "minor", "0.5.0"),
                                                     ("1.2", "major", "2.0.0"), ("1.80.0", "patch", "1.80.1")])
def test_bump(current: str, part: str, new: str) -> None:
    assert bump(current, part) == new


def test_bump_lines_uses_per_line_regex_anchors() -> None:
    text = "version = '1.0.0'\nother_version = '1.0.0'\n"
    assert bump_lines(text, "^version", "1.0.0", "1.0.1") == ("version = '1.0.1'\nother_version = '1.0.0'\n", [1])
    assert bump_lines(text, None, "1.0.0", "1.0.1")[1] == [1, 2]
