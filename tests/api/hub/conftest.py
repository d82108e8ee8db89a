"""An in-process hub with authentication on, and helpers to log in and push as its users."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from registry.app import create_app
from registry.settings import Settings
from tests.api.conftest import _empty_tables as empty_tables

ADMIN_PASSWORD = "admin-secret-1"
PASSWORD = "correct-horse-9"  # every test user's password


def basic(user: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = basic("admin", ADMIN_PASSWORD)


@dataclass
class Hub:
    """The test client plus shortcuts for the flows every test needs."""

    client: TestClient
    settings: Settings

    async def add_user(self, name: str, *, admin: bool = False) -> dict[str, str]:
        resp = await self.client.post(
            "/api/v1/users",
            json={"name": name, "password": PASSWORD, "is_admin": admin},
            headers=ADMIN,
        )
        assert resp.status == 201, await resp.text()
        return basic(name, PASSWORD)

    async def token(
        self, credentials: dict[str, str] | None, *scopes: str, offline: bool = False
    ) -> dict:
        params = [("service", self.settings.auth_service)] + [("scope", s) for s in scopes]
        if offline:
            params.append(("offline_token", "true"))
        resp = await self.client.get("/token", params=params, headers=credentials or {})
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def bearer_for(self, credentials: dict[str, str] | None, *scopes: str) -> dict[str, str]:
        return bearer((await self.token(credentials, *scopes))["token"])

    async def create_token(self, credentials: dict[str, str], *scopes: str) -> dict:
        resp = await self.client.post(
            "/api/v1/user/tokens", json={"name": "ci", "scopes": list(scopes)}, headers=credentials
        )
        assert resp.status == 201, await resp.text()
        return await resp.json()


@pytest.fixture(params=["sqlite", "postgres"])
async def auth_settings(request, tmp_path) -> Settings:
    """A hub with auth on, over SQLite or over the API suite's PostgreSQL database."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("api_database")
        await empty_tables(database_url)
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, admin_password=ADMIN_PASSWORD
    ).resolve()


@pytest.fixture
async def hub(aiohttp_client, auth_settings) -> Hub:
    return Hub(await aiohttp_client(create_app(auth_settings)), auth_settings)
