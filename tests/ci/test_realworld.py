"""`workers` and `dist` on LiteLLM's real CI files (../shared/real-world/, unmodified copies).

The expectations are computed independently of stabfix (a line regex over the original file) and
checked three ways: the exact set of changed lines, byte-identity everywhere else, and the YAML
tree loaded by ruamel.yaml equal to the original tree with only those values replaced. A second
run must change nothing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import codemods

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real-world"
CIRCLE = REAL / "litellm-circleci-config.yml"
GHA = REAL / "litellm-gha-test-litellm.yml"
MAKE = REAL / "litellm-Makefile"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (the real-world CI files)")


def _repo(tmp_path: Path, src: Path, rel: str) -> Path:
    repo = tmp_path / "repo"
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, repo / rel)
    (repo / rel).chmod(0o644)
    return repo


def _changed(old: bytes, new: bytes) -> set[int]:
    a, b = old.split(b"\n"), new.split(b"\n")
    assert len(a) == len(b)
    return {i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}


def _load(data: bytes) -> list[Any]:
    from ruamel.yaml import YAML

    return list(YAML(typ="safe", pure=True).load_all(data.decode("utf-8")))


def _map_strings(tree: Any, fn: Any) -> Any:
    if isinstance(tree, dict):
        return {k: _map_strings(v, fn) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_map_strings(v, fn) for v in tree]
    return fn(tree) if isinstance(tree, str) else tree


def _check_yaml_fix(old: bytes, new: bytes, pattern: bytes, replacement: bytes, expected_lines: set[int]) -> None:
    """Exactly ``expected_lines`` changed, each by the regex; the tree differs only there."""
    assert _changed(old, new) == expected_lines
    old_lines, new_lines = old.split(b"\n"), new.split(b"\n")
    for n in expected_lines:
        assert new_lines[n - 1] == re.sub(pattern, replacement, old_lines[n - 1])
    swap = {old_lines[n - 1].strip().decode(): new_lines[n - 1].strip().decode() for n in expected_lines}
    assert _load(new) == _map_strings(_load(old), lambda s: "\n".join(
        line.replace(line.strip(), swap[line.strip()]) if line.strip() in swap else line for line in s.split("\n")))


def test_circleci_workers_to_4_changes_exactly_the_n8_and_n16_invocations(tmp_path: Path) -> None:
    original = CIRCLE.read_bytes()
    lines = original.split(b"\n")
    # independent expectation: the lines running pytest with -n 8 or -n 16
    expected = {i for i, line in enumerate(lines, 1) if re.search(rb"^\s*python -m pytest .* -n (8|16)( |$)", line)}
    assert expected == {906, 1012, 1395, 1422, 1449, 1500}
    repo = _repo(tmp_path, CIRCLE, ".circleci/config.yml")

    report = codemods.apply("workers", root=repo, mode="write", to=4)

    new = (repo / ".circleci/config.yml").read_bytes()
    _check_yaml_fix(original, new, rb" -n (8|16)( |$)", rb" -n 4\2", expected)
    assert len(original) - len(new) == 3  # three "16" became "4"; nothing else moved
    (result,) = report.plan.files
    assert {e.line for e in result.edits} == expected
    assert sorted((e.data["old"], e.data["new"]) for e in result.edits) == [("16", "4")] * 3 + [("8", "4")] * 3
    assert {e.data["job"] for e in result.edits} == {
        "litellm_proxy_unit_testing_part1", "litellm_proxy_unit_testing_part2", "litellm_mapped_tests_proxy",
        "litellm_mapped_tests_llms", "litellm_mapped_tests_core", "litellm_mapped_enterprise_tests",
    }
    again = codemods.apply("workers", root=repo, mode="check", to=4)
    assert again.exit_code == 0 and not again.plan.changes


def test_circleci_job_filter_and_max_worker_restart(tmp_path: Path) -> None:
    original = CIRCLE.read_bytes()
    repo = _repo(tmp_path, CIRCLE, ".circleci/config.yml")
    report = codemods.apply("workers", root=repo, mode="write", to=4, job=["litellm_mapped_tests_core"],
                            add_max_worker_restart=3)
    new = (repo / ".circleci/config.yml").read_bytes()
    _check_yaml_fix(original, new, rb" -n 16 ", rb" -n 4 --max-worker-restart=3 ", {1449})
    assert [e.message for e in report.plan.files[0].edits] == [
        "job litellm_mapped_tests_core: -n 16 -> 4",
        "job litellm_mapped_tests_core: added --max-worker-restart=3",
    ]


def test_circleci_dist_on_selected_job(tmp_path: Path) -> None:
    original = CIRCLE.read_bytes()
    repo = _repo(tmp_path, CIRCLE, ".circleci/config.yml")
    codemods.apply("dist", root=repo, mode="write", job=["litellm_proxy_unit_testing_part1"])
    new = (repo / ".circleci/config.yml").read_bytes()
    _check_yaml_fix(original, new, rb" -n 8 ", rb" -n 8 --dist loadgroup ", {906})
    again = codemods.apply("dist", root=repo, mode="check", job=["litellm_proxy_unit_testing_part1"])
    assert again.exit_code == 0 and not again.plan.changes


def test_github_workflow(tmp_path: Path) -> None:
    original = GHA.read_bytes()
    rel = ".github/workflows/test-litellm.yml"
    repo = _repo(tmp_path, GHA, rel)
    nothing = codemods.apply("workers", [rel], root=repo, mode="write", to=4)
    assert not nothing.plan.changes and (repo / rel).read_bytes() == original

    report = codemods.apply("workers", [rel], root=repo, mode="write", to=2)
    new = (repo / rel).read_bytes()
    _check_yaml_fix(original, new, rb" -n 4 $", rb" -n 2 ", {43})
    assert new.split(b"\n")[42].endswith(b"-n 2 ")  # the trailing space stays
    assert [(e.line, e.data["job"]) for e in report.plan.files[0].edits] == [(43, "test")]
    again = codemods.apply("workers", [rel], root=repo, mode="check", to=2)
    assert again.exit_code == 0 and not again.plan.changes


def test_makefile(tmp_path: Path) -> None:
    original = MAKE.read_bytes()
    repo = _repo(tmp_path, MAKE, "Makefile")
    assert not codemods.apply("workers", ["Makefile"], root=repo, mode="write", to=4).plan.changes

    report = codemods.apply("workers", ["Makefile"], root=repo, mode="write", to=2)
    new = (repo / "Makefile").read_bytes()
    assert _changed(original, new) == {84}
    assert new.split(b"\n")[83] == b"\tpoetry run pytest tests/test_litellm -x -vv -n 2"
    assert not new.endswith(b"\n")  # the file has no final newline, and keeps none
    assert [(e.line, e.data["job"]) for e in report.plan.files[0].edits] == [(84, "test-unit")]
    again = codemods.apply("workers", ["Makefile"], root=repo, mode="check", to=2)
    assert again.exit_code == 0 and not again.plan.changes


def test_real_files_false_positives_are_not_invocations() -> None:
    """conda create -n / comments mentioning -n in the real config are never read as pytest."""
    from codemods.ci.scan import scan_file

    ci = scan_file(".circleci/config.yml", CIRCLE.read_text(encoding="utf-8"))
    lines = CIRCLE.read_text(encoding="utf-8").split("\n")
    assert all(lines[s.line - 1].lstrip().startswith("python -m pytest") for s in ci.sites)
    conda = [i for i, line in enumerate(lines, 1) if "conda create -n" in line]
    assert len(conda) == 11 and not {s.line for s in ci.sites} & set(conda)
    with_n = sorted(s.line for s in ci.sites if s.invocation.numprocesses is not None)
    assert with_n == [211, 906, 1012, 1099, 1395, 1422, 1449, 1500]


def test_circleci_dist_follows_test_paths_and_ignores(tmp_path: Path) -> None:
    """Marks in tests/test_litellm/proxy and tests/enterprise: the jobs running those paths get
    --dist loadgroup; the core job runs tests/test_litellm but --ignore's the proxy folder."""
    original = CIRCLE.read_bytes()
    repo = _repo(tmp_path, CIRCLE, ".circleci/config.yml")
    mark = 'import pytest\n\n\n@pytest.mark.xdist_group("db")\ndef test_x():\n    pass\n'
    for folder in ("tests/test_litellm/proxy", "tests/enterprise"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "test_grouped.py").write_text(mark)
    (repo / "tests/test_litellm/llms").mkdir(parents=True)
    (repo / "tests/test_litellm/llms/test_plain.py").write_text("def test_y():\n    pass\n")

    report = codemods.apply("dist", root=repo, mode="write")

    new = (repo / ".circleci/config.yml").read_bytes()
    _check_yaml_fix(original, new, rb" -n (16|8)( |$)", rb" -n \1 --dist loadgroup\2", {1395, 1500})
    assert sorted(e.data["job"] for e in report.plan.files[0].edits) == [
        "litellm_mapped_enterprise_tests", "litellm_mapped_tests_proxy"]
