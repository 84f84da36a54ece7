"""Pure pieces: staleness, the /lead parser, channel normalisation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.bot.handlers import parse_lead_args
from app.domain.drafts import is_stale, latest_news
from app.llm.writer import normalise_channel
from tests.conftest import START

LATER = START + timedelta(minutes=5)


def test_staleness() -> None:
    assert is_stale(text=None, generated_at=None, news_at=None)
    assert is_stale(text="", generated_at=START, news_at=None)
    assert not is_stale(text="Hi", generated_at=START, news_at=None)
    assert not is_stale(text="Hi", generated_at=START, news_at=START)
    assert is_stale(text="Hi", generated_at=START, news_at=LATER)
    assert not is_stale(text="Hi", generated_at=LATER, news_at=START)
    assert is_stale(text="Hi", generated_at=None, news_at=START)


def test_only_news_about_the_lead_counts() -> None:
    assert latest_news([("step_reminder_sent", LATER), ("step_snoozed", LATER)]) is None
    assert latest_news([("note_added", START), ("step_nudged", LATER)]) == START
    assert latest_news([("step_completed", START), ("step_skipped", LATER)]) == LATER


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            "Ana Silva, Acme — met at SaaStr, evaluating CRMs",
            ("Ana Silva", "Acme", "met at SaaStr, evaluating CRMs"),
        ),
        ("Ana Silva-Jones, Acme - warm intro", ("Ana Silva-Jones", "Acme", "warm intro")),
        ("Bo – context only", ("Bo", None, "context only")),
        ("Bo,  ", ("Bo", None, None)),
        ("Bo", ("Bo", None, None)),
    ],
)
def test_lead_command_arguments(args: str, expected: tuple[str | None, ...]) -> None:
    fields = parse_lead_args(args)
    assert fields is not None
    assert (fields["name"], fields["company"], fields["context"]) == expected


@pytest.mark.parametrize("args", [None, "", "   ", ", Acme — x"])
def test_lead_command_without_a_name(args: str | None) -> None:
    assert parse_lead_args(args) is None


@pytest.mark.parametrize(
    ("given", "channel"),
    [
        ("LinkedIn", "linkedin"),
        (" E-mail ", "email"),
        ("call", "phone"),
        ("TG", "telegram"),
        ("carrier pigeon", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_channel_normalisation(given: str | None, channel: str) -> None:
    assert normalise_channel(given) == channel
