"""Team routes tested on a small app of their own (a router with the auth dependency),
without standing up the full proxy."""

from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.auth.user_api_key_auth import user_api_key_auth

router = APIRouter(prefix="/team", dependencies=[Depends(user_api_key_auth)])


@router.get("/list")
async def team_list():
    return {"teams": ["core", "research"]}


@router.get("/whoami")
async def team_whoami(user: UserAPIKeyAuth = Depends(user_api_key_auth)):
    return {"user_id": user.user_id}


app = FastAPI()
app.include_router(router)
client = TestClient(app)


def test_team_list():
    response = client.get("/team/list")
    assert response.status_code == 200
    assert response.json()["teams"] == ["core", "research"]


def test_team_whoami():
    response = client.get("/team/whoami")
    assert response.status_code == 200
    assert response.json()["user_id"]


def test_team_list_without_key_is_refused():
    response = client.get("/team/list")
    assert response.status_code == 401
