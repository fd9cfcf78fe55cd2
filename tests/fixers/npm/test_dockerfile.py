"""dockerfile-pins: which words are global npm installs, and nothing but their versions changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.edit.shell import lex
from codemods.fixers.npm.dockerfile import _commands, global_installs, is_dockerfile, split_spec
from tests.conftest import run_stabfix

STORED = ["--from", "ci-logs/npm-audit.json", "--versions", "ci-logs/npm-versions.json"]


def installs(line: str) -> list[str]:
    return [w.value for words in _commands(lex(line)) for w in global_installs(words)]


@pytest.mark.parametrize(("line", "want"), [
    ("npm install -g a@1.0.0 b", ["a@1.0.0", "b"]),
    ("npm i -g a@1 && npm install b@2", ["a@1"]),
    ("npm install --global --no-fund @s/a@1.0.0", ["@s/a@1.0.0"]),
    ("npm install --location=global a@1", ["a@1"]),
    ("npm install --location global a@1", ["a@1"]),
    ("npm --prefix /opt install -g a@1 > /tmp/log 2>&1", ["a@1"]),
    ("npm install -g --registry https://r.example a@1", ["a@1"]),
    ("echo npm install -g a@1", []),
    ("NODE_ENV=production sudo npm install -g a@1", ["a@1"]),
    ("npm ci -g", []),
    ("npm install a@1 -g; npm uninstall -g b", ["a@1"]),
    ("/usr/local/bin/npm add -g 'a@1.0.0'", ["a@1.0.0"]),
    ("npm install -g \\\n    a@1 \\\n    b@2", ["a@1", "b@2"]),
])
def test_global_installs(line: str, want: list[str]) -> None:
    assert installs(line) == want


def test_names() -> None:
    assert [is_dockerfile(n) for n in ("Dockerfile", "Dockerfile.prod", "app.Dockerfile", "dockerfile.md",
                                       "Dockerfiles")] == [True, True, True, False, False]
    assert split_spec("@scope/pkg@1.2.3") == ("@scope/pkg", "1.2.3")
    assert split_spec("pkg") is None and split_spec("@scope/pkg") is None


def test_untouched_lines_stay_byte_for_byte(sample_repo: Path) -> None:
    path = sample_repo / "docker" / "Dockerfile.dashboard"
    before = path.read_bytes().splitlines(keepends=True)
    report = json.loads(run_stabfix("apply", "dockerfile-pins", *STORED, "--diff", "--json", cwd=sample_repo).stdout)
    proc = run_stabfix("apply", "dockerfile-pins", *STORED, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr
    after = path.read_bytes().splitlines(keepends=True)
    assert len(after) == len(before)
    changed = [i + 1 for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    (entry,) = report["files"]
    assert sorted(e["line"] for e in entry["edits"]) == changed == [4, 10]
    assert after[3] == b"ARG JSON5_VERSION=2.2.2\n"
    assert after[9] == before[9].replace(b"minimist@1.2.5", b"minimist@1.2.6")
    assert {(e["package"], e["old"], e["new"]) for e in entry["edits"]} == {("json5", "2.2.1", "2.2.2"),
                                                                           ("minimist", "1.2.5", "1.2.6")}
    again = run_stabfix("apply", "dockerfile-pins", *STORED, "--check", cwd=sample_repo)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("# escape=`\nFROM node:20\nRUN npm install -g a@1.0.0\n", "line 1: `# escape=``"),
    ("FROM node:20\nCOPY <<EOF /x\nnpm\nEOF\nRUN npm install -g minimist@1.2.5\n", "line 2: a heredoc in COPY"),
    ("FROM node:20\nRUN npm install -g minimist@1.2.5 && \\\n  cat <<-'END' > /x\nEND\n", "line 3: a heredoc in RUN"),
])
def test_refused_files_are_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "Dockerfile").write_text(text)
    proc = run_stabfix("apply", "dockerfile-pins", "--pin", "minimist@1.2.6", "--root", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr
    assert (tmp_path / "Dockerfile").read_text() == text


@pytest.mark.parametrize("pin", ["minimist", "minimist@^1.2.6", "-x@1.0.0", "minimist@latest"])
def test_bad_pin_is_a_usage_error(tmp_path: Path, pin: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20\n")
    proc = run_stabfix("apply", "dockerfile-pins", "--pin", pin, "--root", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "expected NAME@VERSION" in proc.stderr


def test_here_string_is_no_heredoc(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM node:20\nRUN npm install -g minimist@1.2.5 && cat <<<x\n")
    proc = run_stabfix("apply", "dockerfile-pins", "--pin", "minimist@1.2.6", "--root", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "Dockerfile").read_text() == "FROM node:20\nRUN npm install -g minimist@1.2.6 && cat <<<x\n"


_PARTS = st.sampled_from([
    "npm install -g minimist@1.2.5", "npm i -g json5@2.2.1 minimist@0.0.8", "npm install --global \"json5@2.2.0\"",
    "npm install minimist@1.2.0", "echo npm install -g minimist@1.2.5", "npm install -g minimist",
    "npm install -g json5@${V}", "npm install -g json5@$V", "apt-get install -y curl", "npm ci",
    "npm install -g 'minimist@1.2.5' > /dev/null 2>&1", "npm install -g minimist@1.2.8",
])
_SEPS = st.sampled_from([" && ", " ; ", " \\\n    && ", " || ", " | "])


@settings(max_examples=60, deadline=None)
@given(runs=st.lists(st.lists(st.tuples(_PARTS, _SEPS), min_size=1, max_size=4), min_size=1, max_size=3),
       arg=st.sampled_from(["2.2.1", "2.2.3", "\"2.1.0\""]), crlf=st.booleans())
def test_random_dockerfiles_change_only_versions(runs: list[list[tuple[str, str]]], arg: str, crlf: bool) -> None:
    import re
    import tempfile

    from codemods import api

    lines = ["FROM node:20", f"ARG V={arg}"]
    for run in runs:
        lines.append("RUN " + "".join(part + sep for part, sep in run[:-1]) + run[-1][0])
    text = "\n".join(lines) + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    audit = (Path(__file__).resolve().parents[3] / "src/codemods/commands/sample_repo/ci-logs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "Dockerfile").write_bytes(text.encode())
        options = {"from_report": str(audit / "npm-audit.json"), "versions": str(audit / "npm-versions.json")}
        report = api.apply("dockerfile-pins", None, root=root, mode="write", options=options)
        assert report.exit_code == 0, [f.reason for f in report.plan.files]
        new = (root / "Dockerfile").read_bytes().decode()
        # only version numbers differ, and each new one is a patched version
        version = re.compile(r"\d+\.\d+\.\d+")
        assert version.sub("V", new) == version.sub("V", text)
        for old_v, new_v in zip(version.findall(text), version.findall(new), strict=True):
            if old_v != new_v:
                assert new_v in ("2.2.2", "1.2.6", "0.2.4")
        again = api.apply("dockerfile-pins", None, root=root, mode="diff", options=options)
        assert not again.plan.changes
        if "minimist@1.2.5" in text.replace("echo npm install -g minimist@1.2.5", ""):
            assert "minimist@1.2.6" in new
