"""An in-process hub with authentication on (SQLite), users alice and bob, and browsers."""

from __future__ import annotations

import pytest

from registry.app import create_app
from registry.settings import Settings
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, Hub
from tests.web.support import WebClient


@pytest.fixture
async def hub(aiohttp_client, tmp_path) -> Hub:
    settings = Settings(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD).resolve()
    hub = Hub(await aiohttp_client(create_app(settings)), settings)
    hub.alice = await hub.add_user("alice")
    hub.bob = await hub.add_user("bob")
    hub.admin = ADMIN
    return hub


@pytest.fixture
async def browsers(hub):
    """`browsers()` makes one more browser; all are closed at the end."""
    made: list[WebClient] = []

    def make() -> WebClient:
        browser = WebClient(hub.client)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        await browser.close()
