"""Shared runner for the before/after fixture folders of the test codemods (auth, auth-unpatch, flaky).

A case folder holds ``input.py`` (becomes ``tests/test_case.py`` of a scratch repository) and, when
the fixer changes it, ``expected.py``. Optional: ``conftest_.py`` (becomes ``tests/conftest.py``),
``expected_conftest.py``, ``junit.xml`` (copied to the repository root), ``repo/`` (files copied
into the repository root, e.g. requirements.txt) and ``case.json`` with ``options`` for the fixer and
the expected ``status``, ``reason`` / ``notice`` substrings. Every case is run twice: the second run
must change nothing (idempotence). ``STABFIX_REGEN=1`` writes missing ``expected*.py`` files for
review.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import codemods

FIXTURES = Path(__file__).parent / "fixtures"


def cases(fixer_dir: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / fixer_dir).iterdir() if p.is_dir())


def build_repo(case: Path, tmp: Path) -> Path:
    repo = tmp / "repo"
    (repo / "tests").mkdir(parents=True)
    shutil.copyfile(case / "input.py", repo / "tests" / "test_case.py")
    if (case / "conftest_.py").exists():
        shutil.copyfile(case / "conftest_.py", repo / "tests" / "conftest.py")
    if (case / "junit.xml").exists():
        shutil.copyfile(case / "junit.xml", repo / "junit.xml")
    if (case / "repo").is_dir():
        shutil.copytree(case / "repo", repo, dirs_exist_ok=True)
    return repo


def run_case(fixer: str, case: Path, tmp: Path) -> codemods.Report:
    cfg: dict[str, Any] = json.loads((case / "case.json").read_text()) if (case / "case.json").exists() else {}
    repo = build_repo(case, tmp)
    options = dict(cfg.get("options", {}))
    if "from_junit" in options:
        options["from_junit"] = [str(repo / j) for j in options["from_junit"]]
    report = codemods.apply(fixer, ["tests"], root=repo, mode="write", **options)
    by_path = {f.path: f for f in report.plan.files}
    result = by_path.get("tests/test_case.py")
    regen = os.environ.get("STABFIX_REGEN") == "1"
    out = (repo / "tests" / "test_case.py").read_bytes()
    expected = case / "expected.py"
    if regen and not expected.exists() and out != (case / "input.py").read_bytes():
        expected.write_bytes(out)
    want = expected.read_bytes() if expected.exists() else (case / "input.py").read_bytes()
    assert out == want, f"{case.name}: output differs from {'expected.py' if expected.exists() else 'input.py'}"
    conftest_out = repo / "tests" / "conftest.py"
    exp_conftest = case / "expected_conftest.py"
    if regen and not exp_conftest.exists() and conftest_out.exists() and (
        not (case / "conftest_.py").exists() or conftest_out.read_bytes() != (case / "conftest_.py").read_bytes()
    ):
        exp_conftest.write_bytes(conftest_out.read_bytes())
    if exp_conftest.exists():
        assert conftest_out.read_bytes() == exp_conftest.read_bytes(), f"{case.name}: conftest.py differs"
    elif (case / "conftest_.py").exists():
        assert conftest_out.read_bytes() == (case / "conftest_.py").read_bytes()
    else:
        assert not conftest_out.exists()
    status = cfg.get("status", "changed" if expected.exists() else "unchanged")
    got = result.status if result is not None else "unchanged"
    assert got == status, f"{case.name}: status {got} ({result.reason if result else ''}), expected {status}"
    if "reason" in cfg:
        assert result is not None and cfg["reason"] in result.reason, result.reason if result else None
    if "notice" in cfg:
        assert any(cfg["notice"] in n.message for n in report.plan.notices), [n.message for n in report.plan.notices]
    if status == "failed":
        assert report.exit_code == 2
        return report
    assert report.exit_code == 0, report.summary()
    again = codemods.apply(fixer, ["tests"], root=repo, mode="check", **options)
    assert again.exit_code == 0, f"{case.name}: a second run would change:\n{again.diff}"
    return report
