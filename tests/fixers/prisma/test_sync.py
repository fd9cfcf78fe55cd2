"""`stabfix apply prisma-sync`: full copies byte for byte, partial copies block by block."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import codemods
from codemods.fixers.prisma import layout
from tests.conftest import REPO_ROOT, run_stabfix
from tests.fixers.prisma.prisma_testlib import make_repo, snapshot

SOURCE = "litellm/proxy/schema.prisma"
PARTIAL = "litellm-js/spend-logs/schema.prisma"
EXTRAS = "litellm-proxy-extras/litellm_proxy_extras/schema.prisma"


def test_check_exits_1_with_a_diff_git_applies_then_write_then_clean(sample_repo: Path) -> None:
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "prisma-sync", "--check", "--root", sample_repo)
    assert proc.returncode == 1, proc.stderr
    assert "+  request_duration_ms Int?" in proc.stdout
    assert snapshot(sample_repo) == before
    patch = run_stabfix("apply", "prisma-sync", "--diff", "--root", sample_repo).stdout
    subprocess.run(["git", "apply", "--check", "-"], input=patch, text=True, cwd=sample_repo, check=True)
    proc = run_stabfix("apply", "prisma-sync", "--root", sample_repo)
    assert proc.returncode == 0, proc.stderr
    src = (sample_repo / SOURCE).read_bytes()
    assert (sample_repo / "schema.prisma").read_bytes() == src
    assert (sample_repo / EXTRAS).read_bytes() == src
    partial = (sample_repo / PARTIAL).read_text()
    assert partial.startswith('generator client {\n  provider = "prisma-client-js"\n}')
    assert "request_duration_ms Int?" in partial and "LiteLLM_UserTable" not in partial
    assert run_stabfix("apply", "prisma-sync", "--check", "--root", sample_repo).returncode == 0


def test_options_and_config_choose_the_files(tmp_path: Path) -> None:
    schema = 'model A {\n  id Int @id\n}\n'
    repo = make_repo(tmp_path / "repo", {
        "schema.prisma": schema,
        "copy/a.prisma": "",
        "pyproject.toml": '[tool.stabfix.prisma-sync]\nsource = "schema.prisma"\ncopies = ["copy/a.prisma"]\n',
    })
    report = codemods.apply("prisma-sync", root=repo, mode="write")
    assert [f.path for f in report.plan.files if f.status == "changed"] == ["copy/a.prisma"]
    assert (repo / "copy/a.prisma").read_text() == schema
    # flags win over the config
    (repo / "other.prisma").write_text("")
    report = codemods.apply("prisma-sync", root=repo, mode="diff", copies=["other.prisma"])
    assert [f.path for f in report.plan.files] == ["other.prisma"]


def test_shared_prisma_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.stabfix.prisma]\nsource = "schema.prisma"\ncopies = ["litellm/proxy/schema.prisma"]\n'
        'migrations = "db/migrations"\n')
    lay = layout.load(tmp_path)
    assert (lay.source, lay.copies, lay.migrations) == ("schema.prisma", ["litellm/proxy/schema.prisma"], "db/migrations")
    assert lay.partial_copies == layout.DEFAULT_PARTIAL_COPIES
    assert layout.load(tmp_path, source="x.prisma").source == "x.prisma"
    (tmp_path / "pyproject.toml").write_text('[tool.stabfix.prisma]\nsorce = "x"\n')
    with pytest.raises(codemods.StabfixError, match="unknown key `sorce`"):
        layout.load(tmp_path)


def test_symlinked_copy_is_an_error_and_nothing_is_written(sample_repo: Path) -> None:
    (sample_repo / "schema.prisma").unlink()
    (sample_repo / "schema.prisma").symlink_to(SOURCE)
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "prisma-sync", "--root", sample_repo)
    assert proc.returncode == 2
    assert "schema.prisma: is a symlink" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(sample_repo) == before


def test_missing_source_schema_is_exit_2_nothing_written(sample_repo: Path) -> None:
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "prisma-sync", "--source", "nope/schema.prisma", "--root", sample_repo)
    assert proc.returncode == 2
    assert "nope/schema.prisma: source schema not found" in proc.stderr
    assert snapshot(sample_repo) == before


def test_source_with_a_syntax_error_is_exit_2_nothing_written(sample_repo: Path) -> None:
    src = sample_repo / SOURCE
    src.write_text(src.read_text().replace("enum JobStatus {", "enum JobStatus {{", 1).replace("}\n", "", 1))
    before = snapshot(sample_repo)
    proc = run_stabfix("apply", "prisma-sync", "--root", sample_repo)
    assert proc.returncode == 2
    assert SOURCE in proc.stderr and "line" in proc.stderr
    assert snapshot(sample_repo) == before


def test_pre_commit_hook_runs_check() -> None:
    hooks = YAML(typ="safe").load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "stabfix-prisma-sync")
    assert hook["entry"] == "stabfix apply prisma-sync --check"
    assert hook["pass_filenames"] is False
