"""auth fixer: option handling and a real FastAPI project (fixture cases: tests/fixers/test_fixture_cases.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import codemods
from codemods.errors import StabfixError
from tests.conftest import REPO_ROOT, run_stabfix

FROM_JUNIT = REPO_ROOT / "tests" / "fixtures" / "auth" / "from_junit" / "before"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))


OTHER_PROJECT = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        pythonpath = ["."]

        [tool.stabfix.auth]
        app = "shop.main:app"
        dependency = "shop.security:current_user"
        dependency-aliases = []
        identity = "shop.models:User"
        role-enum = ""
        user-id-arg = "name"
        user-id = "tester"
        module-alias = "main"
    """,
    "shop/__init__.py": "",
    "shop/models.py": """
        from pydantic import BaseModel


        class User(BaseModel):
            name: str
    """,
    "shop/security.py": """
        from fastapi import HTTPException

        from shop.models import User


        def current_user() -> User:
            raise HTTPException(status_code=401, detail="Unauthorized")
    """,
    "shop/main.py": """
        from fastapi import Depends, FastAPI

        from shop.models import User
        from shop.security import current_user

        app = FastAPI()


        @app.get("/me")
        def me(user: User = Depends(current_user)) -> dict:
            return {"name": user.name}
    """,
    "tests/test_me.py": """
        from fastapi.testclient import TestClient

        from shop import main


        def test_me():
            client = TestClient(main.app)
            assert client.get("/me").json() == {"name": "tester"}
    """,
}


def test_configured_for_another_fastapi_project(tmp_path: Path) -> None:
    """[tool.stabfix.auth] retargets the pattern; the real test goes from 401 to passing."""
    _write(tmp_path, OTHER_PROJECT)
    run = [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    before = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert before.returncode == 1 and "Unauthorized" in before.stdout

    report = codemods.apply("auth", ["tests"], root=tmp_path, mode="write")
    assert report.exit_code == 0, report.summary()
    text = (tmp_path / "tests/test_me.py").read_text()
    assert 'main.app.dependency_overrides[current_user] = lambda: User(name="tester")' in text
    assert "from shop.security import current_user" in text and "from shop.models import User" in text

    after = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert after.returncode == 0, after.stdout

    # auth-unpatch reads the same table for the keys its own table leaves alone
    _write(tmp_path, {"tests/test_patched.py": """
        from unittest.mock import patch

        from fastapi.testclient import TestClient

        from shop import main


        @patch("shop.security.current_user")
        def test_me_patched(mock_user):
            assert TestClient(main.app).get("/me").status_code == 200
    """})
    report = codemods.apply("auth-unpatch", ["tests"], root=tmp_path, mode="write")
    assert report.exit_code == 0, report.summary()
    patched = (tmp_path / "tests/test_patched.py").read_text()
    assert 'main.app.dependency_overrides[current_user] = lambda: User(name="tester")' in patched
    final = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert final.returncode == 0, final.stdout


def test_option_errors(tmp_path: Path) -> None:
    _write(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    with pytest.raises(StabfixError, match="--conftest only applies to --style fixture"):
        codemods.apply("auth", ["tests"], root=tmp_path, conftest=True)
    with pytest.raises(StabfixError, match="`app` must look like"):
        codemods.apply("auth", ["tests"], root=tmp_path, app="nonsense")
    with pytest.raises(StabfixError, match="not a regular expression"):
        codemods.apply("auth", ["tests"], root=tmp_path, from_junit=[str(tmp_path / "j.xml")], match=["("])
    with pytest.raises(StabfixError, match="no such JUnit report"):
        codemods.apply("auth", ["tests"], root=tmp_path, from_junit=[str(tmp_path / "missing.xml")])
    with pytest.raises(StabfixError, match="is not a pytest node id"):
        codemods.apply("auth", ["tests"], root=tmp_path, only=["test_a"])


def test_cli_json_report(tmp_path: Path) -> None:
    """The CLI's JSON report carries one edit per wrapped test with its node id."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests/test_case.py").write_bytes((FROM_JUNIT / "tests" / "test_case.py").read_bytes())
    check = run_stabfix("apply", "auth", "tests", "--from-junit", FROM_JUNIT / "junit.xml", "--check", "--root", repo)
    assert check.returncode == 1, check.stdout + check.stderr
    proc = run_stabfix("apply", "auth", "tests", "--from-junit", FROM_JUNIT / "junit.xml", "--json", "--root", repo)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    [entry] = [f for f in report["files"] if f["path"] == "tests/test_case.py"]
    assert entry["status"] == "changed"
    assert [e["nodeid"] for e in entry["edits"]] == [
        "tests/test_case.py::test_models", "tests/test_case.py::TestKeys::test_list"]
    assert any("tests/test_gone.py::test_removed" in n["message"] for n in report["notices"])
    again = run_stabfix("apply", "auth", "tests", "--from-junit", FROM_JUNIT / "junit.xml", "--check", "--root", repo)
    assert again.returncode == 0, again.stdout
