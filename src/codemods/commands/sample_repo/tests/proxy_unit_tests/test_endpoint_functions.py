"""Endpoint functions called directly, not over HTTP: FastAPI's auth is not involved."""

import asyncio

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.proxy_server import generate_key_fn, model_list


def _admin():
    return UserAPIKeyAuth(user_role=LitellmUserRoles.PROXY_ADMIN, user_id="direct")


def test_model_list_called_directly():
    result = asyncio.run(model_list(user_api_key_dict=_admin()))
    assert result["data"][0]["id"] == "gpt-4o"


def test_generate_key_called_directly():
    call = generate_key_fn(data={"user_id": "grace"}, user_api_key_dict=_admin())
    key = asyncio.run(call)
    assert key["created_by"] == "direct"
