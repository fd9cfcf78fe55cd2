"""The engine: discovery, validation, diffs `git apply` accepts, atomic and refused writes, config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import codemods
from codemods.core import registry, writer
from codemods.errors import ConfigError, StabfixError
from tests.conftest import run_stabfix

TEST_FIXERS = {
    "replace": "tests.core.engine_fixers:ReplaceFixer",
    "broken": "tests.core.engine_fixers:BrokenFixer",
    "create": "tests.core.engine_fixers:CreateFixer",
    "trailing": "tests.core.engine_fixers:TrailingFixer",
}


@pytest.fixture(autouse=True)
def _test_fixers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "FIXERS", {**registry.FIXERS, **TEST_FIXERS})


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "crlf.py").write_bytes(b"x = 'OLD'\r\ny = 2\r\n")
    (root / "pkg" / "nonl.py").write_bytes(b"a = 1\nb = 'OLD'")
    (root / "pkg" / "bom.py").write_bytes(b"\xef\xbb\xbfs = '\xc3\xa9 OLD'\n")
    (root / "pkg" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9 OLD'\n")
    (root / "pkg" / "script.py").write_bytes(b"#!/usr/bin/env python\nprint('OLD')\n")
    os.chmod(root / "pkg" / "script.py", 0o755)
    (root / "pkg" / "clean.py").write_text("nothing here\n")


def test_diff_is_accepted_by_git_apply_and_matches_write(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        _tree(root)
        _git(root, "init", "-q")
    report = codemods.apply("replace", ["pkg"], root=a, mode="diff")
    assert {f.path for f in report.changed} == {
        "pkg/crlf.py", "pkg/nonl.py", "pkg/bom.py", "pkg/latin.py", "pkg/script.py"}
    patch = tmp_path / "p.diff"
    patch.write_bytes(report.diff.encode("utf-8", errors="surrogateescape"))
    assert "\\ No newline at end of file" in report.diff
    check = _git(b, "apply", "--check", str(patch))
    assert check.returncode == 0, check.stderr
    assert _git(b, "apply", str(patch)).returncode == 0
    written = codemods.apply("replace", ["pkg"], root=a, mode="write")
    assert written.applied and written.exit_code == 0
    for name in ("crlf.py", "nonl.py", "bom.py", "latin.py", "script.py", "clean.py"):
        assert (a / "pkg" / name).read_bytes() == (b / "pkg" / name).read_bytes(), name
    assert (a / "pkg" / "crlf.py").read_bytes() == b"x = 'NEW'\r\ny = 2\r\n"
    assert (a / "pkg" / "bom.py").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (a / "pkg" / "latin.py").read_bytes() == b"# -*- coding: latin-1 -*-\ns = '\xe9 NEW'\n"
    assert os.stat(a / "pkg" / "script.py").st_mode & 0o777 == 0o755
    assert not list(a.rglob(".*.stabfix-tmp-*"))


def test_creation_diff_and_write(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    _git(tmp_path, "init", "-q")
    report = codemods.apply("create", root=tmp_path, mode="diff")
    assert "new file mode 100644" in report.diff and "--- /dev/null" in report.diff
    patch = tmp_path.parent / "create.diff"
    patch.write_text(report.diff)
    assert _git(tmp_path, "apply", "--check", str(patch)).returncode == 0
    codemods.apply("create", root=tmp_path, mode="write")
    assert (tmp_path / "out" / "new.txt").read_text() == "created\n"
    assert (tmp_path / "a.txt").read_text() == "HELLO\n"
    with pytest.raises(StabfixError, match="exists already"):
        codemods.apply("create", root=tmp_path, mode="write")


def test_unparsable_output_is_a_failure_and_not_written(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\n")
    report = codemods.apply("broken", ["m.py"], root=tmp_path, mode="write")
    [result] = report.plan.files
    assert result.status == "failed" and "does not parse" in result.reason
    assert report.exit_code == 2 and not report.applied
    assert (tmp_path / "m.py").read_text() == "x = 1\n"


def test_stale_file_refuses_the_whole_write(tmp_path: Path) -> None:
    _tree(tmp_path)
    plan = codemods.make_plan("replace", ["pkg"], root=tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "pkg").iterdir()}
    (tmp_path / "pkg" / "nonl.py").write_bytes(b"a = 1\nb = 'OLD'  # edited meanwhile")
    with pytest.raises(StabfixError, match="changed during the run"):
        writer.apply_changes(tmp_path, plan.changes)
    for path, data in before.items():
        if path.name != "nonl.py":
            assert path.read_bytes() == data


def test_staged_writes_are_all_or_nothing(tmp_path: Path) -> None:
    _tree(tmp_path)
    plan = codemods.make_plan("replace", ["pkg"], root=tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / "pkg").iterdir()}

    def temps() -> list[Path]:
        return sorted(tmp_path.rglob(".*.stabfix-tmp-*"))

    with writer.Writer(tmp_path) as w:  # staged, then one file changes: nothing lands, nothing left
        for change in plan.changes:
            w.stage(change)
        (tmp_path / "pkg" / "crlf.py").write_bytes(b"x = 'OLD'\r\n# edited meanwhile\r\n")
        with pytest.raises(StabfixError, match="changed during the run"):
            w.commit(plan.changes)
    assert temps() == []
    for path, data in before.items():
        if path.name != "crlf.py":
            assert path.read_bytes() == data
    (tmp_path / "pkg" / "crlf.py").write_bytes(before[tmp_path / "pkg" / "crlf.py"])
    with writer.Writer(tmp_path) as w:  # staged but never committed (e.g. the run failed)
        for change in plan.changes:
            w.stage(change)
    assert temps() == [] and {p: p.read_bytes() for p in before} == before
    with writer.Writer(tmp_path) as w:  # a change replaced after staging is staged again
        first = plan.changes[0]
        w.stage(first)
        other = codemods.FileChange(first.path, first.old, first.new + b"# again\n", "test")
        w.commit([other, *plan.changes[1:]])
    assert (tmp_path / first.path).read_bytes() == first.new + b"# again\n"
    assert temps() == []
    report = codemods.apply("replace", ["pkg"], root=tmp_path, mode="write")  # nothing left to do
    assert report.changed == [] and temps() == []


def test_a_write_drops_the_texts_once_staged(tmp_path: Path) -> None:
    """A write that renders no text afterwards (the command line's): each change keeps a digest,
    not the old and new bytes, and the report says the same (nothing created). By default the API
    keeps them: its report's diff is the write's."""
    _tree(tmp_path)
    dry = codemods.apply("replace", ["pkg"], root=tmp_path, mode="diff")
    kept = tmp_path.parent / "kept"
    shutil.copytree(tmp_path, kept)
    assert codemods.apply("replace", ["pkg"], root=kept, mode="write").diff == dry.diff != ""
    report = codemods.apply("replace", ["pkg"], root=tmp_path, mode="write", keep_texts=False)
    assert len(report.changed) == 5
    for change in report.plan.changes:
        assert change.released and change.old is None and change.new == b"" and change.old_digest
        assert not change.is_creation
    assert [f["created"] for f in report.to_json()["files"]] == [False] * 6
    with writer.Writer(tmp_path) as w, pytest.raises(StabfixError, match="texts were dropped"):
        w.commit(report.plan.changes[:1])  # a released change cannot be written again
    assert b"NEW" in (tmp_path / "pkg" / "crlf.py").read_bytes()
    assert codemods.apply("replace", ["pkg"], root=tmp_path, mode="diff").changed == []


def test_an_edit_that_keeps_the_stat_is_still_caught(tmp_path: Path) -> None:
    """The check before the renames trusts an unchanged (size, mtime, inode); the check right
    before each rename reads the file: an edit that restores the stat is left as it is."""
    _tree(tmp_path)
    plan = codemods.make_plan("replace", ["pkg"], root=tmp_path, mode="write")
    target = tmp_path / "pkg" / "crlf.py"
    st = target.stat()
    change = next(c for c in plan.changes if c.path == "pkg/crlf.py")
    assert change.stamp == (st.st_size, st.st_mtime_ns, st.st_ino)
    edited = b"x = 'OLD'\r\ny = 3\r\n"  # same size, same inode
    with writer.Writer(tmp_path) as w:
        for c in plan.changes:
            c.releasable = True
            w.stage(c)
        with open(target, "r+b") as fh:
            fh.write(edited)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        with pytest.raises(StabfixError, match="changed during the run; left as it is"):
            w.commit(plan.changes)
    assert target.read_bytes() == edited
    assert b"NEW" in (tmp_path / "pkg" / "nonl.py").read_bytes()  # the others were written
    assert sorted(tmp_path.rglob(".*.stabfix-tmp-*")) == []


def test_read_source_reads_once_through_its_descriptor(tmp_path: Path) -> None:
    from codemods.core.source import read_source
    from codemods.errors import FileFailure

    empty, big = tmp_path / "empty.py", tmp_path / "big.py"
    empty.write_bytes(b"")
    big.write_bytes(b"x = 1\n" * 40000)
    assert read_source(empty, "empty.py").raw == b""
    source = read_source(big, "big.py")
    assert source.raw == big.read_bytes() and source.stamp is not None and source.stamp[0] == 240000
    with pytest.raises(FileFailure, match="over max-file-size") as exc:
        read_source(big, "big.py", limit=1000)
    assert exc.value.status == "skipped"
    with pytest.raises(IsADirectoryError):
        read_source(tmp_path, "dir")


def test_refuses_paths_and_writes_outside_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "x.py").write_text("v = 'OLD'\n")
    with pytest.raises(StabfixError, match="outside the repository root"):
        codemods.apply("replace", [str(outside)], root=root)
    with pytest.raises(StabfixError, match="outside the repository root"):
        codemods.apply("replace", ["../outside"], root=root)
    (root / "link.py").symlink_to(outside / "x.py")
    (root / "linkdir").symlink_to(outside)
    report = codemods.apply("replace", ["."], root=root)
    assert report.plan.files == []  # symlinks out of the root are not followed
    change = codemods.FileChange("link.py", b"v = 'OLD'\n", b"v = 'NEW'\n", "test")
    with pytest.raises(StabfixError, match="outside the repository root"):
        writer.apply_changes(root, [change])
    assert (outside / "x.py").read_text() == "v = 'OLD'\n"


def test_discovery_honours_gitignore_globs_and_generated(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("ignored/\n*_gen.py\n")
    for rel in ("src/a.py", "src/b_gen.py", "ignored/c.py", "src/sub/d.py", "src/e.py", ".venv/f.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("v = 'OLD'\n")
    (tmp_path / "src" / "sub" / ".gitignore").write_text("d.py\n")
    (tmp_path / "src" / "e.py").write_text("# This file is @generated by a tool\nv = 'OLD'\n")
    report = codemods.apply("replace", ["."], root=tmp_path)
    assert {f.path: f.status for f in report.plan.files} == {"src/a.py": "changed", "src/e.py": "skipped"}
    only = codemods.apply("replace", ["."], root=tmp_path, include=["src/a*"])
    assert [f.path for f in only.plan.files] == ["src/a.py"]
    none = codemods.apply("replace", ["."], root=tmp_path, exclude=["src"])
    assert none.plan.files == []
    explicit = codemods.apply("replace", ["src/b_gen.py"], root=tmp_path)
    assert [f.path for f in explicit.changed] == ["src/b_gen.py"]


def test_filter_matches_a_walk(tmp_path: Path) -> None:
    """A fixer that names its candidates gets exactly the files a walk would find among them."""
    from codemods.core.discovery import discover, filter_files

    (tmp_path / ".gitignore").write_text("ignored/\n*_gen.py\n!keep_gen.py\n")
    rels = ["src/a.py", "src/b_gen.py", "src/keep_gen.py", "ignored/c.py", "src/sub/d.py", "src/sub/e.py",
            ".venv/f.py", "build/g.py", "src/node_modules/h.py", "docs/i.py", "docs/j.txt", "k.py"]
    for rel in rels:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("v = 1\n")
    (tmp_path / "src" / "sub" / ".gitignore").write_text("d.py\n")
    every = [(tmp_path / rel).resolve() for rel in rels]
    cases: list[tuple[list[str], dict[str, list[str]]]] = [
        (["."], {}), (["src"], {}), (["src/sub"], {}), (["."], {"exclude": ["docs"]}),
        (["."], {"include": ["src/*"]}), (["src/b_gen.py", "docs"], {}), (["ignored"], {}),
        (["."], {"exclude": ["**/e.py"]}),
    ]
    for paths, globs in cases:
        given = [(tmp_path / p).resolve() for p in paths]
        walked = discover(tmp_path, given, **globs)  # type: ignore[arg-type]
        filtered = filter_files(tmp_path, given, every, **globs)  # type: ignore[arg-type]
        assert filtered == walked, (paths, globs)
    everything = filter_files(tmp_path, [tmp_path], every)
    assert [p.relative_to(tmp_path).as_posix() for p in everything] == [
        "docs/i.py", "k.py", "src/a.py", "src/keep_gen.py", "src/sub/e.py"]


def test_comment_only_change_is_checked_line_by_line() -> None:
    from codemods.core.validate import comment_only_change as ok

    old = "x = 1\ny = f(a,  # why\n      b)\n"
    assert ok(old, "x = 1  # noqa: E1\ny = f(a,  # why\n      b)\n", {1: (5, "x = 1  # noqa: E1")})
    assert ok(old, "x = 1\ny = f(a,  # noqa: X  # why\n      b)\n", {2: (8, "y = f(a,  # noqa: X  # why")})
    crlf = old.replace("\n", "\r\n")
    assert ok(crlf, crlf.replace("x = 1", "x = 1  # c", 1), {1: (5, "x = 1  # c")})
    assert not ok(old, "x = 2  # c\n" + old[6:], {1: (5, "x = 2  # c")})  # the code changed
    assert not ok(old, "x = 1  # c\n" + old[6:].upper(), {1: (5, "x = 1  # c")})  # an undeclared line changed
    assert not ok(old, "x = 1  # a\n# b\n" + old[6:], {1: (5, "x = 1  # a\n# b")})  # a new line
    assert not ok("x = 1 + \\\n  2\n", "x = 1 + \\  # c\n  2\n", {1: (9, "x = 1 + \\  # c")})  # continuation
    assert not ok(old, "x = 1  # c\n" + old[6:], {1: (3, "x = 1  # c")})  # claims code ends early
    assert not ok(old, "x = 1 ; # c\n" + old[6:], {1: (5, "x = 1 ; # c")})  # the tail is not a comment
    assert not ok(old, old, {9: (0, "")})  # no such line


def test_a_false_comment_only_claim_fails_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("s = 'OLD'\nt = 1\n")
    (tmp_path / "bad.py").write_text("s = 'OLD' + \\\n    'x'\n")
    report = codemods.apply("trailing", ["."], root=tmp_path, mode="write")
    status = {f.path: (f.status, f.reason) for f in report.plan.files}
    assert status["good.py"][0] == "changed"
    assert status["bad.py"][0] == "failed" and "changes more than trailing comments" in status["bad.py"][1]
    assert (tmp_path / "good.py").read_text() == "s = 'OLD'  # tagged\nt = 1\n"
    assert (tmp_path / "bad.py").read_text() == "s = 'OLD' + \\\n    'x'\n"


def test_non_utf8_file_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_bytes(b"s = '\xff\xfe OLD'\n")
    (tmp_path / "good.py").write_text("s = 'OLD'\n")
    report = codemods.apply("replace", ["."], root=tmp_path, mode="write")
    status = {f.path: (f.status, f.reason) for f in report.plan.files}
    assert status["bad.py"][0] == "failed" and "not valid utf-8" in status["bad.py"][1]
    assert status["good.py"][0] == "changed" and report.exit_code == 2
    assert (tmp_path / "bad.py").read_bytes() == b"s = '\xff\xfe OLD'\n"


def test_process_pool_gives_the_same_plan(tmp_path: Path) -> None:
    for i in range(120):
        (tmp_path / f"m{i:03}.py").write_text(f"v{i} = 'OLD'\n" if i % 3 else f"v{i} = 1\n")
    serial = codemods.apply("replace", ["."], root=tmp_path, jobs=1)
    pooled = codemods.apply("replace", ["."], root=tmp_path, jobs=2)
    assert [(f.path, f.status) for f in serial.plan.files] == [(f.path, f.status) for f in pooled.plan.files]
    assert serial.diff == pooled.diff and len(serial.changed) == 80


def test_config_keys_are_validated_and_flags_override(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n")
    py = tmp_path / "pyproject.toml"
    py.write_text('[tool.stabfix.xdist-group]\ngroup = "from_config"\n')
    report = codemods.apply("xdist-group", ["test_a.py"], root=tmp_path)
    assert '"from_config"' in report.diff
    report = codemods.apply("xdist-group", ["test_a.py"], root=tmp_path, group="from_flag")
    assert '"from_flag"' in report.diff
    py.write_text('[tool.stabfix.xdist-group]\ngroupe = "typo"\n')
    with pytest.raises(ConfigError, match="unknown key `groupe`"):
        codemods.apply("xdist-group", ["test_a.py"], root=tmp_path)
    py.write_text('[tool.stabfix]\njbos = 2\n')
    with pytest.raises(ConfigError, match="unknown key `jbos`"):
        codemods.apply("xdist-group", ["test_a.py"], root=tmp_path, group="g")
    py.write_text('[tool.stabfix.nosuchfixer]\nx = 1\n')
    with pytest.raises(ConfigError, match="unknown fixer `nosuchfixer`"):
        codemods.apply("xdist-group", ["test_a.py"], root=tmp_path, group="g")


def test_json_report_schema(tmp_path: Path) -> None:
    _tree(tmp_path)
    data = codemods.apply("replace", ["pkg"], root=tmp_path, mode="check").to_json()
    assert set(data) >= {"schema_version", "stabfix_version", "fixer", "root", "mode", "applied", "files",
                         "notices", "totals", "exit_code"}
    assert data["exit_code"] == 1 and data["totals"]["changed"] == 5 and data["totals"]["unchanged"] == 1
    entry = next(f for f in data["files"] if f["path"] == "pkg/crlf.py")
    assert entry["status"] == "changed" and entry["edits"][0]["message"] == "replaced 1"
    json.dumps(data)


# -- the command line -------------------------------------------------------------------------------

def _xdist_repo(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    return tmp_path


def test_cli_exit_codes_and_outputs(tmp_path: Path) -> None:
    repo = _xdist_repo(tmp_path)
    args = ["apply", "xdist-group", "tests", "--group", "g", "--root", str(repo)]
    diff = run_stabfix(*args, "--diff")
    assert diff.returncode == 0 and diff.stdout.startswith("diff --git a/tests/test_a.py")
    assert "1 file(s) to change" in diff.stderr
    check = run_stabfix(*args, "--check")
    assert check.returncode == 1 and "pytestmark" in check.stdout
    as_json = run_stabfix(*args, "--check", "--json")
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and data["fixer"] == "xdist-group" and "pytestmark" in data["diff"]
    write = run_stabfix(*args)
    assert write.returncode == 0 and "fixed tests/test_a.py" in write.stdout
    again = run_stabfix(*args, "--check")
    assert again.returncode == 0 and again.stdout == ""


def test_cli_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    repo = _xdist_repo(tmp_path)
    (repo / "tests" / "test_bad.py").write_text("def test_a(:\n")
    bad = run_stabfix("apply", "xdist-group", "tests", "--group", "g", "--root", str(repo))
    assert bad.returncode == 2 and "error: tests/test_bad.py: line 1: syntax error" in bad.stdout
    assert (repo / "tests" / "test_bad.py").read_text() == "def test_a(:\n"
    outside = run_stabfix("apply", "xdist-group", "/etc", "--group", "g", "--root", str(repo))
    assert outside.returncode == 2 and outside.stderr.count("\n") == 1 and "outside" in outside.stderr
    assert "Traceback" not in outside.stderr
    debug = run_stabfix("apply", "xdist-group", "/etc", "--group", "g", "--root", str(repo), "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    unknown = run_stabfix("apply", "nosuch")
    assert unknown.returncode == 2
    missing = run_stabfix("apply", "xdist-group", "tests", "--root", str(repo))
    assert missing.returncode == 2 and "--group" in missing.stderr


def test_cli_list_and_version() -> None:
    listed = run_stabfix("list")
    assert listed.returncode == 0 and listed.stdout.startswith("") and "xdist-group" in listed.stdout
    for line in listed.stdout.splitlines():
        name, _, description = line.partition("  ")
        assert name.strip() and description.strip()
    version = run_stabfix("--version")
    assert version.stdout.strip() == f"stabfix {codemods.__version__}"


def test_startup_imports_no_heavy_library() -> None:
    """`stabfix --version` and `stabfix list` import neither libcst nor ruamel, jinja2, tomlkit, httpx."""
    code = (
        "import sys\nfrom codemods.cli import main\n"
        "for argv in (['--version'], ['list']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = {'libcst', 'ruamel', 'jinja2', 'tomlkit', 'httpx', 'rich'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    """A long run shows a progress bar on stderr when stderr is a terminal, and never with --quiet."""
    import pty

    for i in range(80):
        (tmp_path / "tests").mkdir(exist_ok=True)
        (tmp_path / "tests" / f"test_{i:02}.py").write_text(f"def test_{i}():\n    pass\n")

    def run(*extra: str) -> str:
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("stabfix")), "apply", "xdist-group", "tests", "--group", "g",
             "--root", str(tmp_path), "--check", "--jobs", "1", *extra],
            stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "COLUMNS": "100"})
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait()
        os.close(master)
        return b"".join(chunks).decode("utf-8", "replace")

    shown = run()
    assert "stabfix" in shown and "%" in shown and "80 file(s) to change" in shown
    quiet = run("--quiet")
    assert "%" not in quiet and "file(s) to change" not in quiet
    piped = run_stabfix("apply", "xdist-group", "tests", "--group", "g", "--root", str(tmp_path), "--check")
    assert "%" not in piped.stderr and "80 file(s) to change" in piped.stderr


def test_diff_hunks_apply_for_random_edits(tmp_path: Path) -> None:
    """The linear-time diff is a valid patch for arbitrary edits: `git apply` turns a into b."""
    import random

    from codemods.core.diffing import file_diff
    from codemods.core.plan import FileChange

    rng = random.Random(7)
    _git(tmp_path, "init", "-q")
    patches = []
    expected = {}
    for k in range(120):
        a = [f"l{rng.randint(0, 5)}\n" for _ in range(rng.randint(0, 40))]
        b = list(a)
        for _ in range(rng.randint(1, 5)):
            op = rng.choice("irrd")
            if op == "i":
                b.insert(rng.randint(0, len(b)), f"n{rng.randint(0, 5)}\n")
            elif op == "r" and b:
                b[rng.randrange(len(b))] = f"r{rng.randint(0, 3)}\n"
            elif op == "d" and b:
                del b[rng.randrange(len(b))]
        name = f"f{k:03}.txt"
        (tmp_path / name).write_text("".join(a))
        expected[name] = "".join(b)
        patches.append(file_diff(FileChange(name, "".join(a).encode(), "".join(b).encode(), "t")))
    (tmp_path.parent / "random.diff").write_text("".join(patches))
    run = _git(tmp_path, "apply", str(tmp_path.parent / "random.diff"))
    assert run.returncode == 0, run.stderr
    for name, text in expected.items():
        assert (tmp_path / name).read_text() == text, name
