"""The proxy's auth dependency: a request without the master key gets a 401."""

import os
from typing import Optional

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth

api_key_header = APIKeyHeader(name="Authorization", auto_error=False)


async def user_api_key_auth(
    request: Request, api_key: Optional[str] = Security(api_key_header)
) -> UserAPIKeyAuth:
    master_key = os.environ.get("LITELLM_MASTER_KEY")
    if not master_key or api_key != f"Bearer {master_key}":
        raise HTTPException(
            status_code=401,
            detail={"error": "Authentication Error, Invalid proxy server token passed"},
        )
    return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN)
