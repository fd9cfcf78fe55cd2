"""Types shared by the sample proxy, shaped like litellm.proxy._types."""

import enum
from typing import Optional

from pydantic import BaseModel


class LitellmUserRoles(str, enum.Enum):
    PROXY_ADMIN = "proxy_admin"
    PROXY_ADMIN_VIEW_ONLY = "proxy_admin_viewer"
    INTERNAL_USER = "internal_user"
    TEAM = "team"


class UserAPIKeyAuth(BaseModel):
    api_key: Optional[str] = None
    user_id: Optional[str] = None
    team_id: Optional[str] = None
    user_role: Optional[LitellmUserRoles] = None
