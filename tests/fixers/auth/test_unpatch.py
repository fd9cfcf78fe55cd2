"""auth-unpatch on a real FastAPI app: a test that only configures the patched mock
(``mock_auth.return_value = X``, ``side_effect=<function without parameters>``) gets an override
returning X, and pytest shows the app used X."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import run_stabfix

MODULE = "tests/proxy_unit_tests/test_unpatch_return_value.py"
TESTS = textwrap.dedent('''\
    """Patched auth configured through the mock (FastAPI ignores the patch: 401)."""

    from unittest.mock import patch

    from fastapi.testclient import TestClient

    from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
    from litellm.proxy.proxy_server import app

    client = TestClient(app)


    @patch("litellm.proxy.proxy_server.user_api_key_auth")
    def test_generate_key_records_the_caller(mock_auth):
        mock_auth.return_value = UserAPIKeyAuth(
            user_role=LitellmUserRoles.PROXY_ADMIN, user_id="admin-7"
        )
        response = client.post("/key/generate", json={"user_id": "dave"})
        assert response.status_code == 200, response.text
        assert response.json()["created_by"] == "admin-7"


    def test_internal_user_cannot_generate_keys():
        with patch("litellm.proxy.proxy_server.user_api_key_auth") as mock_auth:
            mock_auth.return_value = UserAPIKeyAuth(
                user_role=LitellmUserRoles.INTERNAL_USER, user_id="internal-1"
            )
            response = client.post("/key/generate", json={"user_id": "erin"})
        assert response.status_code == 403, response.text


    async def _auditor():
        role = LitellmUserRoles.PROXY_ADMIN_VIEW_ONLY
        return UserAPIKeyAuth(user_role=role, user_id="auditor-1")


    @patch("litellm.proxy.proxy_server.user_api_key_auth", side_effect=_auditor)
    def test_spend_logs_name_the_auditor(mock_auth):
        response = client.get("/spend/logs")
        assert response.json()[0]["user"] == "auditor-1", response.text


    @patch("litellm.proxy.proxy_server.user_api_key_auth")
    def test_models_asserted_on_the_mock(mock_auth):
        mock_auth.return_value = UserAPIKeyAuth(user_role=LitellmUserRoles.PROXY_ADMIN)
        client.get("/v1/models")
        mock_auth.assert_called_once()
''')


def _pytest(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "STABFIX_"))}
    env.pop("LITELLM_MASTER_KEY", None)
    return subprocess.run([sys.executable, "-m", "pytest", MODULE, "-q", "-p", "no:cacheprovider", "-rA"],
                          cwd=repo, env=env, capture_output=True, text=True, check=False)


def test_return_value_becomes_the_override_identity(sample_repo: Path) -> None:
    (sample_repo / MODULE).write_text(TESTS)
    before = _pytest(sample_repo)
    # the patch does nothing: every request is refused with a 401
    assert "4 failed" in before.stdout and "401" in before.stdout, before.stdout

    proc = run_stabfix("apply", "auth-unpatch", MODULE, cwd=sample_repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = proc.stdout + proc.stderr
    assert "test_models_asserted_on_the_mock: the test uses the mock `mock_auth` (asserts on it)" in out
    assert "3 test(s) now override" in out
    text = (sample_repo / MODULE).read_text()
    assert "mock_auth.return_value" in text.split("def test_models_asserted_on_the_mock", 1)[1]
    assert "mock_auth" not in text.split("def test_models_asserted_on_the_mock", 1)[0]

    after = _pytest(sample_repo)
    # the app got the identity the test configured: its user id, and the role the 403 depends on
    assert "PASSED tests/proxy_unit_tests/test_unpatch_return_value.py::test_generate_key_records_the_caller" \
        in after.stdout, after.stdout
    assert "PASSED tests/proxy_unit_tests/test_unpatch_return_value.py::test_internal_user_cannot_generate_keys" \
        in after.stdout, after.stdout
    assert "PASSED tests/proxy_unit_tests/test_unpatch_return_value.py::test_spend_logs_name_the_auditor" \
        in after.stdout, after.stdout  # side_effect=<function without parameters> is the override
    assert "1 failed, 3 passed" in after.stdout, after.stdout  # the asserted mock is left to a person

    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "I,E501,F",
                           "--line-length", "88", MODULE], cwd=sample_repo, capture_output=True, text=True,
                          check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert run_stabfix("apply", "auth-unpatch", MODULE, "--check", cwd=sample_repo).returncode == 0
