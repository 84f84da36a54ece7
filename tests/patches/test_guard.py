"""The guard over app/patches: on the locked aiogram and pydantic every patch is checked and
applied; on a release that changed what a patch relies on, that patch is refused with one
warning and the app still serves Telegram without it.

A changed release is simulated for real: a fake version number, a relied-on attribute taken
away, or an aiogram module loaded from its own source with one passage rewritten.
Whatever is fixed for the life of a process (how aiogram was imported) runs in a fresh
interpreter.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiogram.methods
import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from pydantic import BaseModel

from app import patches
from app.patches import guard, json_session, lazy_aiogram, response_models
from app.telegram.json_session import JsonAiohttpSession
from app.telegram.response_models import HoldResponseModels
from tests.support.fake_telegram import FakeTelegram, make_bot
from tests.support.python_process import ROOT, run_python


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"] if p["name"] in guard.CHECKED_VERSIONS}


def test_the_locked_versions_are_the_ones_the_patches_were_checked_against() -> None:
    locked = _locked_versions()
    assert locked.keys() == guard.CHECKED_VERSIONS.keys()
    for name, version in locked.items():
        assert version in guard.CHECKED_VERSIONS[name], (
            f"uv.lock pins {name} {version}, but app/patches was checked against "
            f"{', '.join(guard.CHECKED_VERSIONS[name])}: run tests/patches/, review each patch "
            f"relying on {name}, then add {version} to CHECKED_VERSIONS in app/patches/guard.py"
        )
        assert guard.installed_version(name) == version, f"{name}: run `uv sync --frozen`"


# Captures the guard's warnings from the start, then imports the app as the service does.
_IMPORT_APP = r"""
import json, logging, sys
warnings = []
class Keep(logging.Handler):
    def emit(self, record):
        warnings.append((record.levelname, record.getMessage()))
logging.getLogger("app.patches").addHandler(Keep())
"""

_IMPORTED = r"""
import app
from app import patches
from pydantic import BaseModel
import aiogram.types
outcomes = {name: [o.status, o.reason] for name, o in patches.outcomes().items()}
types_built = sum(
    1 for name in aiogram.types.__all__
    if isinstance(model := getattr(aiogram.types, name), type) and issubclass(model, BaseModel)
    and model.__pydantic_complete__
)
"""

# The real request path: the app in telegram mode on a fresh SQLite file, its Bot API the
# fake on loopback; a /start and a button press for a reminder that does not exist.
_SERVE = r"""
import asyncio, tempfile
async def serve():
    import httpx
    from asgi_lifespan import LifespanManager
    from app.main import create_app
    from app.settings import Settings
    from tests.support.fake_telegram import FakeTelegram, callback_query_update, message_update
    secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram() as fake:
            settings = Settings(
                _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp}/app.db",
                telegram_bot_token=fake.token, telegram_api_base=fake.base_url,
                telegram_webhook_secret="s3cret", public_base_url="https://x.test",
                scheduler_enabled=False,
            )
            application = create_app(settings)
            async with LifespanManager(application) as manager:
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                    start = await http.post(
                        "/telegram/webhook", json=message_update(42, "/start", update_id=1),
                        headers=secret)
                    press = await http.post(
                        "/telegram/webhook", headers=secret,
                        json=callback_query_update(42, "eplan:done:999", message_id=1,
                                                   update_id=2))
            [welcome] = fake.sent_messages(42)
            [answer] = fake.calls_to("answerCallbackQuery")
            return {
                "statuses": [start.status_code, press.status_code],
                "welcome": welcome.params["text"],
                "content_type": welcome.content_type,
                "answered": answer.ok,
            }
served = asyncio.run(serve())
print(json.dumps({"outcomes": outcomes, "warnings": warnings, "types_built": types_built,
                  "served": served}))
"""

# Loads one aiogram module from its own source with one passage rewritten, as a release
# changing it would ship it. Fails if the passage is not there, so nothing passes vacuously.
_ALTER = r"""
import importlib.machinery, importlib.util
class AlteredLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, name, path, old, new):
        super().__init__(name, path)
        self.old, self.new = old, new
    def path_stats(self, path):
        raise OSError("an altered module is compiled from its source, never cached")
    def get_data(self, path):
        data = super().get_data(path)
        if path != self.path:
            return data
        source = data.decode()
        assert self.old in source, f"{self.name} has no {self.old!r} to alter"
        return source.replace(self.old, self.new).encode()
class Altered:
    def __init__(self, name, old, new):
        self.name, self.old, self.new = name, old, new
    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = AlteredLoader(fullname, real.origin, self.old, self.new)
        return importlib.util.spec_from_file_location(
            fullname, real.origin, loader=loader,
            submodule_search_locations=real.submodule_search_locations)
sys.meta_path.insert(0, Altered(sys.argv[1], sys.argv[2], sys.argv[3]))
"""


def _serve(*prelude: str, args: tuple[str, ...] = ()) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        run_python(_IMPORT_APP + "".join(prelude) + _IMPORTED + _SERVE, *args)
    )
    return result


def _assert_served(served: dict[str, Any], content_type: str) -> None:
    assert served["statuses"] == [200, 200]
    assert "Welcome" in served["welcome"]
    assert served["content_type"] == content_type
    assert served["answered"] is True


def test_every_patch_is_applied_on_the_installed_versions() -> None:
    """Fails on an aiogram or pydantic release that changed what a patch relies on, naming
    the patch and what changed."""
    seen = _serve()
    refused = {
        name: reason for name, (status, reason) in seen["outcomes"].items() if status != "applied"
    }
    assert refused == {}, "\n".join(f"patch {n} refused: {r}" for n, r in refused.items())
    assert list(seen["outcomes"]) == [patch.name for patch in patches.PATCHES]
    assert seen["warnings"] == []
    assert seen["types_built"] == 0
    _assert_served(seen["served"], "application/json")


def test_an_unchecked_version_refuses_every_patch_and_the_app_still_serves() -> None:
    fake_version = r"""
import importlib.metadata
real_version = importlib.metadata.version
importlib.metadata.version = lambda name: "3.99.0" if name == "aiogram" else real_version(name)
"""
    seen = _serve(fake_version)
    for name in ("lazy_aiogram", "bot_binding", "json_session", "response_models"):
        status, reason = seen["outcomes"][name]
        assert status == "refused"
        assert "aiogram 3.99.0 is installed, the patch was checked against 3.31.0" in reason
    # One warning per patch, each naming it.
    assert [level for level, _ in seen["warnings"]] == ["WARNING"] * 4
    for (_, message), patch in zip(seen["warnings"], patches.PATCHES, strict=True):
        assert message.startswith(f"patch {patch.name} not applied")
    # aiogram was imported as it imports itself: every type built at once.
    assert seen["types_built"] > 400
    # And the app serves through aiogram's own session, which posts forms.
    _assert_served(seen["served"], "application/x-www-form-urlencoded")


def test_aiogram_rebuilding_its_types_differently_refuses_the_lazy_import() -> None:
    # A release whose loop gives each type a namespace of its own.
    seen = _serve(
        _ALTER,
        args=(
            "aiogram.types",
            "_entity.model_rebuild(_types_namespace=_types_namespace)",
            "_entity.model_rebuild(_types_namespace=dict(_types_namespace))",
        ),
    )
    status, reason = seen["outcomes"]["lazy_aiogram"]
    assert status == "refused"
    assert "aiogram.types no longer rebuilds its models with one shared namespace" in reason
    assert [(level, message.split(":")[0]) for level, message in seen["warnings"]] == [
        ("WARNING", "patch lazy_aiogram not applied, the app runs without it (slower, not broken)")
    ]
    # The rebuilds the patch had skipped were run as aiogram asked for them.
    assert seen["types_built"] > 400
    assert {name: status for name, (status, _) in seen["outcomes"].items()} == {
        "lazy_aiogram": "refused",
        "bot_binding": "applied",
        "json_session": "applied",
        "response_models": "applied",
    }
    _assert_served(seen["served"], "application/json")


def test_aiogram_adding_a_private_attribute_refuses_the_one_step_binding() -> None:
    # A release whose objects keep more than their bot in private attributes: binding only
    # `_bot` in one step would leave the new one unset.
    declared = "    _bot: Bot | None = PrivateAttr()\n"
    seen = _serve(
        _ALTER,
        args=(
            "aiogram.client.context_controller",
            declared,
            declared + "    _bot_id: int | None = PrivateAttr(default=None)\n",
        ),
    )
    status, reason = seen["outcomes"]["bot_binding"]
    assert status == "refused"
    assert reason == (
        "aiogram's BotContextController declares private attributes ['_bot', '_bot_id'], "
        "not ['_bot']"
    )
    assert len(seen["warnings"]) == 1
    assert seen["warnings"][0][1].startswith("patch bot_binding not applied")
    assert seen["outcomes"]["lazy_aiogram"][0] == "applied"
    # The press was answered through `query.bot`, which pydantic's own chain bound.
    _assert_served(seen["served"], "application/json")


@pytest.fixture
def outcomes_restored() -> Iterator[None]:
    """The guard's record of each patch as it was, after a test re-runs some."""
    saved = dict(guard._outcomes)
    yield
    guard._outcomes.clear()
    guard._outcomes.update(saved)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as telegram:
        yield telegram


@pytest.mark.usefixtures("outcomes_restored")
async def test_a_changed_session_internal_falls_back_to_aiogram_form(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fake: FakeTelegram
) -> None:
    # A release whose make_request takes one more parameter, which the JSON session's
    # override would not take.
    make_request = AiohttpSession.make_request

    async def with_retries(
        self: AiohttpSession,
        bot: Any,
        method: Any,
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
        retries: int = 0,
    ) -> Any:
        return await make_request(self, bot, method, timeout)

    monkeypatch.setattr(AiohttpSession, "make_request", with_retries)
    with caplog.at_level(logging.WARNING, logger="app.patches"):
        outcome = guard.run(json_session.PATCH)
    assert outcome.status == "refused"
    assert outcome.reason == (
        "aiogram's AiohttpSession.make_request takes (self, bot, method, timeout, retries), "
        "expected (self, bot, method, timeout)"
    )
    [warning] = caplog.records
    assert warning.levelname == "WARNING"
    assert warning.getMessage().startswith("patch json_session not applied")
    async with make_bot(fake) as bot:
        assert type(bot.session) is AiohttpSession
        sent = await bot.send_message(42, "<b>hi</b> & bye", parse_mode="HTML")
    assert sent.text == "hi & bye"
    [call] = fake.calls
    assert call.content_type == "application/x-www-form-urlencoded"
    assert call.params["text"] == "<b>hi</b> & bye"
    # Re-checked once aiogram is as the patch expects, it is applied again.
    monkeypatch.undo()
    assert guard.run(json_session.PATCH).status == "applied"
    async with make_bot(fake) as bot:
        assert type(bot.session) is JsonAiohttpSession


@pytest.mark.usefixtures("outcomes_restored")
async def test_a_method_without_its_result_type_refuses_holding_response_models(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fake: FakeTelegram
) -> None:
    monkeypatch.delattr(aiogram.methods.GetUserProfilePhotos, "__returning__")
    with caplog.at_level(logging.WARNING, logger="app.patches"):
        outcome = guard.run(response_models.PATCH)
    assert outcome.status == "refused"
    assert outcome.reason == "aiogram's GetUserProfilePhotos no longer set __returning__"
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "patch response_models not applied, the app runs without it (slower, not broken)"
    ]
    async with make_bot(fake) as bot:
        assert not any(isinstance(m, HoldResponseModels) for m in bot.session.middleware)
        sent = await bot.send_message(42, "hello")
    assert sent.text == "hello"
    assert fake.sent_messages(42)[0].ok


def test_a_model_rebuild_without_the_private_parameters_refuses_the_lazy_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def model_rebuild(cls: type[BaseModel], *, force: bool = False) -> bool | None:
        return None

    assert lazy_aiogram.check() == []
    monkeypatch.setattr(BaseModel, "model_rebuild", classmethod(model_rebuild))
    assert lazy_aiogram.check() == [
        "pydantic's BaseModel.model_rebuild no longer takes _parent_namespace_depth, "
        "_types_namespace"
    ]
    monkeypatch.setattr(BaseModel, "model_rebuild", staticmethod(lambda: None))
    assert lazy_aiogram.check() == ["pydantic's BaseModel.model_rebuild is no longer a classmethod"]


@pytest.mark.usefixtures("outcomes_restored")
def test_a_patch_that_breaks_while_checked_or_applied_is_refused_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_check() -> list[str]:
        raise AttributeError("'module' object has no attribute 'Something'")

    def broken_install() -> None:
        raise KeyError("_bot")

    with caplog.at_level(logging.WARNING, logger="app.patches"):
        checked = guard.run(guard.Patch("probe", ("aiogram",), broken_check, lambda: None))
        installed = guard.run(guard.Patch("probe", ("pydantic",), list, broken_install))
    assert checked == guard.Outcome(
        "refused",
        "its check raised AttributeError(\"'module' object has no attribute 'Something'\")",
    )
    assert installed == guard.Outcome("refused", "applying it raised KeyError('_bot')")
    assert not patches.applied("probe")
    assert len(caplog.records) == 2
