"""An in-process hub with authentication on, users alice and bob, and browsers.

The hub runs over SQLite and over the API suite's PostgreSQL database, as the Hub API tests do.
"""

from __future__ import annotations

import pytest

from registry.app import create_app
from registry.settings import Settings
from tests.api.conftest import _empty_tables as empty_tables
from tests.api.conftest import api_database  # noqa: F401 (a fixture the hub may use)
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, Hub
from tests.web.support import WebClient


@pytest.fixture(params=["sqlite", "postgres"])
async def hub(request, aiohttp_client, tmp_path) -> Hub:
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("api_database")
        await empty_tables(database_url)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_password=ADMIN_PASSWORD,
        webhook_allowed_targets="127.0.0.1",  # the webhook pages' receivers are local
    ).resolve()
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
