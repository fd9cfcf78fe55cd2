"""Key management tests that try to bypass auth by patching (which FastAPI ignores)."""

from unittest.mock import patch

from fastapi.testclient import TestClient

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.proxy_server import app


def _admin():
    return UserAPIKeyAuth(user_role=LitellmUserRoles.PROXY_ADMIN, user_id="admin")


@patch("litellm.proxy.proxy_server.user_api_key_auth", return_value=_admin())
def test_generate_key_as_admin(mock_auth):
    client = TestClient(app)
    response = client.post("/key/generate", json={"user_id": "carol"})
    assert response.status_code == 200, response.text


def test_spend_logs_as_admin():
    client = TestClient(app)
    with patch("litellm.proxy.proxy_server.user_api_key_auth", return_value=_admin()):
        response = client.get("/spend/logs")
    assert response.status_code == 200, response.text
