"""Proxy tests in the shapes LiteLLM's suite has: a module-scoped client, refusal
tests, a helper that sets the override itself. The tests that reach an auth-guarded
route fail with 401 until they get an override; the refusal tests pass as they are
and must stay that way."""

import pytest
from fastapi.testclient import TestClient

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.auth.user_api_key_auth import user_api_key_auth
from litellm.proxy.proxy_server import app


@pytest.fixture(scope="module")
def test_client():
    with TestClient(app) as client:
        yield client


def _override_auth(role):
    app.dependency_overrides[user_api_key_auth] = lambda: UserAPIKeyAuth(
        user_role=role, user_id="helper-user"
    )


def test_model_list_over_module_client(test_client):
    response = test_client.get("/v1/models")
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_spend_logs_over_module_client(test_client):
    response = test_client.get("/spend/logs")
    assert response.status_code == 200
    assert response.json()[0]["request_id"] == "req-1"


def test_anonymous_request_is_refused(test_client):
    response = test_client.get("/key/list")
    assert response.status_code in (401, 403)


def test_invalid_authorization_header(test_client):
    headers = {"Authorization": "Bearer sk-wrong"}
    response = test_client.get("/v1/models", headers=headers)
    assert response.status_code == 401
    assert "Authentication Error" in response.text


def test_key_list_as_internal_user(test_client):
    """Runs as INTERNAL_USER on purpose: the helper sets that override."""
    _override_auth(LitellmUserRoles.INTERNAL_USER)
    try:
        response = test_client.get("/key/list")
        assert response.status_code == 200
    finally:
        app.dependency_overrides.pop(user_api_key_auth, None)


class TestKeyGenerate:
    def test_generate_key_records_user(self, test_client):
        response = test_client.post("/key/generate", json={"user_id": "frank"})
        assert response.status_code == 200, response.text
        assert response.json()["user_id"] == "frank"
