"""A small FastAPI proxy shaped like litellm.proxy.proxy_server."""

from typing import Any, Dict, List

from fastapi import Depends, FastAPI, HTTPException

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.auth.user_api_key_auth import user_api_key_auth

app = FastAPI(title="LiteLLM sample proxy")

_keys: Dict[str, Dict[str, Any]] = {}


@app.get("/health/liveliness")
async def health_liveliness() -> str:
    return "I'm alive!"


@app.get("/v1/models")
async def model_list(
    user_api_key_dict: UserAPIKeyAuth = Depends(user_api_key_auth),
) -> Dict[str, Any]:
    return {"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]}


@app.post("/key/generate")
async def generate_key_fn(
    data: Dict[str, Any],
    user_api_key_dict: UserAPIKeyAuth = Depends(user_api_key_auth),
) -> Dict[str, Any]:
    if user_api_key_dict.user_role != LitellmUserRoles.PROXY_ADMIN:
        raise HTTPException(status_code=403, detail="only proxy admins can generate keys")
    key = f"sk-{len(_keys) + 1:04d}"
    _keys[key] = {"key": key, "user_id": data.get("user_id"), "created_by": user_api_key_dict.user_id}
    return _keys[key]


@app.get("/key/list")
async def list_keys(
    user_api_key_dict: UserAPIKeyAuth = Depends(user_api_key_auth),
) -> Dict[str, List[str]]:
    return {"keys": sorted(_keys)}


@app.get("/spend/logs")
async def view_spend_logs(
    user_api_key_dict: UserAPIKeyAuth = Depends(user_api_key_auth),
) -> List[Dict[str, Any]]:
    return [{"request_id": "req-1", "spend": 0.0, "user": user_api_key_dict.user_id}]
