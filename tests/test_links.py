"""The Mini App's URLs, spelled once for the dispatcher and the bot."""

from __future__ import annotations

from typing import Any

from app.links import Links
from app.settings import Settings
from tests.support import initdata


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, database_url="sqlite+aiosqlite:///never-opened.db", **values)


def test_a_public_address_with_a_bot_gives_the_app_and_its_leads() -> None:
    links = Links.from_settings(
        _settings(
            public_base_url="https://plans.example/", telegram_bot_token=initdata.TEST_BOT_TOKEN
        )
    )
    assert links.app_url == "https://plans.example/app/"
    assert links.lead_url(42) == "https://plans.example/app/#/leads/42"


def test_local_mode_has_no_app_url_even_with_a_public_address() -> None:
    # Without a bot nothing can open a Mini App: buttons fall back to callbacks.
    links = Links.from_settings(_settings(public_base_url="https://plans.example"))
    assert links.app_url is None
    assert links.lead_url(42) is None


def test_no_public_address_has_no_app_url() -> None:
    links = Links.from_settings(_settings(telegram_bot_token=initdata.TEST_BOT_TOKEN))
    assert links == Links()
    assert links.lead_url(1) is None
