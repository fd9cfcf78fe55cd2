"""Route tests for the sample proxy (they fail with 401 until auth is overridden)."""

import os
import sys

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, os.path.abspath("../.."))

import litellm.proxy.proxy_server as ps
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.proxy_server import app


@pytest.fixture
def client():
    return TestClient(app)


def test_health_liveliness_is_public(client):
    response = client.get("/health/liveliness")
    assert response.status_code == 200


def test_model_list(client):
    """The admin sees the configured models."""
    response = client.get("/v1/models")
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "gpt-4o"


@pytest.mark.parametrize("user_id", ["alice", "bob"])
def test_generate_key(client, user_id):
    response = client.post("/key/generate", json={"user_id": user_id})
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == user_id


def test_spend_logs_already_overridden(client):
    app.dependency_overrides[ps.user_api_key_auth] = lambda: UserAPIKeyAuth(
        user_role=LitellmUserRoles.PROXY_ADMIN, user_id="test-user"
    )
    try:
        response = client.get("/spend/logs")
        assert response.status_code == 200
    finally:
        app.dependency_overrides.pop(ps.user_api_key_auth, None)


class TestKeyList:
    def test_list_keys(self, client):
        response = client.get("/key/list")
        assert response.status_code == 200
        assert isinstance(response.json()["keys"], list)
