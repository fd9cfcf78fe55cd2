"""The imports auth adds: merged in sorted order into an existing ``from`` import (its layout kept),
new statements where isort puts them; ``ruff check --select I`` has nothing to say about the output."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import codemods

HEAD = "import pytest\nfrom fastapi.testclient import TestClient\n\n"
TEST = textwrap.dedent("""
    client = TestClient(app)


    def test_models():
        assert client.get("/v1/models").status_code == 200
""")

CASES = {
    # one line, sorted: the names go in at their places (classes before functions: order-by-type)
    "test_one_line.py": (
        "from litellm.proxy._types import CommonProxyErrors, ProxyException\n"
        "from litellm.proxy.proxy_server import app, prisma_client\n",
        "from litellm.proxy._types import (\n"
        "    CommonProxyErrors,\n"
        "    LitellmUserRoles,\n"
        "    ProxyException,\n"
        "    UserAPIKeyAuth,\n"
        ")\n"  # 89 columns on one line: wrapped as ruff wraps it
        "from litellm.proxy.proxy_server import app, prisma_client, user_api_key_auth\n",
    ),
    # parenthesised, one name per line, trailing comma: the layout is kept
    "test_multi_line.py": (
        "from litellm.proxy._types import (\n"
        "    KeyRequest,\n"
        "    UserAPIKeyAuth,\n"
        ")\n"
        "from litellm.proxy.proxy_server import (\n"
        "    app,\n"
        "    v1_router,\n"
        ")\n",
        "from litellm.proxy._types import (\n"
        "    KeyRequest,\n"
        "    LitellmUserRoles,\n"
        "    UserAPIKeyAuth,\n"
        ")\n"
        "from litellm.proxy.proxy_server import (\n"
        "    app,\n"
        "    user_api_key_auth,\n"
        "    v1_router,\n"
        ")\n",
    ),
    # no import of the module yet: a new statement, sorted among the first-party imports
    "test_new_statement.py": (
        "from litellm.proxy.proxy_server import app\n"
        "from litellm.router import Router\n",
        "from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth\n"
        "from litellm.proxy.proxy_server import app, user_api_key_auth\n"
        "from litellm.router import Router\n",
    ),
}


def test_added_names_are_sorted_and_ruff_isort_agrees(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 88\n")
    # first party, as in LiteLLM's repository (ruff looks for the imported module's own file)
    for rel in ("__init__.py", "router.py", "proxy/__init__.py", "proxy/_types.py", "proxy/proxy_server.py"):
        (tmp_path / "litellm" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "litellm" / rel).write_text("")
    (tmp_path / "tests").mkdir()
    for name, (imports, _) in CASES.items():
        (tmp_path / "tests" / name).write_text(HEAD + imports + TEST)
    lint = [sys.executable, "-m", "ruff", "check", "--select", "I", "tests"]
    before = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert before.returncode == 0, before.stdout  # the inputs are isort-clean

    report = codemods.apply("auth", ["tests"], root=tmp_path, mode="write")
    assert report.exit_code == 0, report.summary()
    for name, (_, expected) in CASES.items():
        text = (tmp_path / "tests" / name).read_text()
        ast.parse(text)
        assert HEAD + expected in text, text
        assert "dependency_overrides[user_api_key_auth]" in text

    after = subprocess.run(lint, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stdout + after.stderr


def test_layout_of_split_lines_is_what_ruff_format_writes() -> None:
    """The fixture cases whose output splits lines (a signature the fixture parameter lengthens,
    statements the ``try:`` pushes past 88 columns): ``ruff format --check`` (black's style) agrees."""
    cases = Path(__file__).resolve().parents[2] / "fixtures" / "auth"
    files = [cases / "fixture_style_long_signature" / "after" / "tests" / "test_case.py",
             cases / "wrap_pushed_lines" / "after" / "tests" / "test_case.py",
             cases / "fixture_conftest_long_names" / "after" / "tests" / "proxy_unit_tests" / "conftest.py"]
    check = subprocess.run([sys.executable, "-m", "ruff", "format", "--isolated", "--check", "--diff",
                            "--line-length", "88", *map(str, files)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
