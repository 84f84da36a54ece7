"""Drafts: cached on the reminder, stale when the lead has news, regenerated ahead of time
in the background, never waited for by the dispatcher. Time moves on a ManualClock; the
model is the fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Protocol

import pytest

from app.clock import ManualClock
from app.db.database import Database
from app.domain.plans import StepSpec
from app.domain.users import User
from app.domain.views import LeadRead
from app.llm.client import LLMClient
from app.llm.writer import Writer
from app.repositories import reminders as reminders_repo
from app.services import notes as notes_service
from app.services import plans as plans_service
from app.services import steps as steps_service
from app.services.drafts import DraftService, DraftView
from tests.scheduler.support import dispatch_env, make_lead, make_user
from tests.support.fake_openai import FakeOpenAI, Reply


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


class MakeDrafts(Protocol):
    def __call__(self, *, timeout: float = 5.0, wait: float = 5.0) -> DraftService: ...


@pytest.fixture
async def make_drafts(
    db: Database, clock: ManualClock, fake: FakeOpenAI
) -> AsyncIterator[MakeDrafts]:
    """Draft services on the fake model, each closed (its background generations and its
    client) when the test ends."""
    made: list[DraftService] = []

    def build(*, timeout: float = 5.0, wait: float = 5.0) -> DraftService:
        client = LLMClient(
            base_url=fake.base_url,
            model="test-model",
            api_key=None,
            timeout=timeout,
            max_concurrency=4,
            clock=clock,
        )
        made.append(DraftService(db, clock, Writer(client), wait=wait))
        return made[-1]

    yield build
    for drafts in made:
        await drafts.close()
        await drafts.writer.close()


@pytest.fixture
async def user(db: Database, clock: ManualClock) -> User:
    return await make_user(db, clock)


def rid(lead: LeadRead, index: int) -> int:
    reminder_id = lead.steps[index].reminder_id
    assert reminder_id is not None
    return reminder_id


async def lead_without_texts(
    db: Database, clock: ManualClock, user: User, delays: list[int], name: str = "Bo"
) -> LeadRead:
    specs = [
        StepSpec(step_id=i + 1, description=f"Step {i + 1}", delay_days=d, channel="linkedin")
        for i, d in enumerate(delays)
    ]
    return await plans_service.create_lead(
        db, user, {"name": name, "company": "Initech"}, specs, clock.now()
    )


async def test_the_plans_text_is_fresh_until_the_lead_has_news(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await make_lead(db, clock, user, [0, 2], name="Ana")
    drafts = make_drafts()
    view = await drafts.for_user(user, rid(lead, 0))
    assert (view.text, view.source, view.generated_at) == (
        "Hello from step 1",
        "plan",
        clock.now(),
    )
    assert fake.requests == []  # nothing new about the lead: no model call

    clock.advance(timedelta(hours=1))
    await notes_service.add_note(db, user, lead.id, "Prefers Tuesdays", clock.now())
    fake.script(Reply.content_of({"subject": "Tuesday?", "text": "Hi Ana, how about Tuesday?"}))
    clock.advance(timedelta(minutes=5))
    view = await drafts.for_user(user, rid(lead, 0))
    assert view.source == "llm"
    assert view.text == "Subject: Tuesday?\n\nHi Ana, how about Tuesday?"
    assert view.generated_at == clock.now()
    assert "Prefers Tuesdays" in fake.requests[0].messages[1]["content"]

    # Cached now: asking again costs nothing.
    clock.advance(timedelta(minutes=5))
    assert (await drafts.for_user(user, rid(lead, 0))).text == view.text
    assert len(fake.requests) == 1

    # The next note makes it stale again.
    clock.advance(timedelta(minutes=5))
    await notes_service.add_note(db, user, lead.id, "Budget approved", clock.now())
    clock.advance(timedelta(minutes=1))
    fake.script(Reply.content_of({"subject": "Next steps", "text": "Great news on budget"}))
    again = await drafts.for_user(user, rid(lead, 0))
    assert (again.source, again.generated_at) == ("llm", clock.now())
    assert "Budget approved" in fake.requests[1].messages[1]["content"]


async def test_an_earlier_step_closing_makes_the_next_draft_stale(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await make_lead(db, clock, user, [0, 2], name="Ana")
    drafts = make_drafts()
    clock.advance(timedelta(hours=2))
    await steps_service.close_step(db, user, rid(lead, 0), "complete", clock.now())
    clock.advance(timedelta(minutes=1))
    fake.script(Reply.content_of({"subject": "Following up", "text": "As I wrote..."}))
    view = await drafts.for_user(user, rid(lead, 1))
    assert view.source == "llm"
    prompt = fake.requests[0].messages[1]["content"]
    assert "step 1 (email, done 2026-03-02)" in prompt
    # A closed step's draft is history: shown as it is, never regenerated.
    closed = await drafts.for_user(user, rid(lead, 0))
    assert closed.source == "plan"
    assert len(fake.requests) == 1


async def test_a_model_slower_than_the_wait_shows_the_cached_text(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await make_lead(db, clock, user, [0], name="Ana")
    fake.answer_always(Reply.hang())
    drafts = make_drafts(timeout=2.0, wait=0.0)
    clock.advance(timedelta(minutes=1))
    await notes_service.add_note(db, user, lead.id, "Call after 3pm", clock.now())
    started = time.monotonic()
    view = await drafts.for_user(user, rid(lead, 0))
    assert time.monotonic() - started < 1.9
    assert (view.text, view.source) == ("Hello from step 1", "plan")
    # The generation carries on in the background and ends in the offline writer.
    done = await drafts.refresh(rid(lead, 0))
    assert done is not None
    assert done.source == "template"
    assert done.text is not None
    assert "Call after 3pm" in done.text
    stored = await drafts.for_user(user, rid(lead, 0))
    assert (stored.text, stored.source) == (done.text, "template")


async def test_a_hanging_model_within_the_wait_gives_a_template_draft(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await lead_without_texts(db, clock, user, [0])
    fake.answer_always(Reply.hang())
    drafts = make_drafts(timeout=0.3, wait=0.3)
    view = await drafts.for_user(user, rid(lead, 0))
    assert view.source == "template"
    assert view.text is not None
    assert view.text.startswith("Hi Bo, I came across your work at Initech.")


async def test_one_generation_per_reminder_at_a_time(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await lead_without_texts(db, clock, user, [0])
    fake.answer_always(Reply.content_of({"text": "Hi Bo"}, delay=0.3))
    drafts = make_drafts()
    *views, scheduled = await asyncio.gather(
        *(drafts.for_user(user, rid(lead, 0)) for _ in range(3)), drafts.prefetch()
    )
    assert len(fake.requests) == 1
    assert scheduled in (0, 1)  # whoever came first started the one generation
    assert {v.text for v in views if isinstance(v, DraftView)} == {"Hi Bo"}


async def test_a_draft_written_elsewhere_first_is_not_overwritten(
    db: Database, clock: ManualClock, user: User
) -> None:
    lead = await lead_without_texts(db, clock, user, [0])
    async with db.transaction() as conn:
        first = await reminders_repo.store_draft(
            conn,
            rid(lead, 0),
            text="replica A",
            source="llm",
            generated_at=clock.now(),
            expected_generated_at=None,
        )
        second = await reminders_repo.store_draft(
            conn,
            rid(lead, 0),
            text="replica B",
            source="llm",
            generated_at=clock.now(),
            expected_generated_at=None,
        )
        stored = await reminders_repo.get(conn, rid(lead, 0))
    assert (first, second) == (True, False)
    assert stored is not None
    assert stored.draft_text == "replica A"


async def test_prefetch_writes_stale_drafts_of_steps_due_within_the_hour(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    fresh = await make_lead(db, clock, user, [0], name="Ana")  # plan text, no news
    stale = await lead_without_texts(db, clock, user, [0], name="Bo")  # no text at all
    later = await lead_without_texts(db, clock, user, [3], name="Cy")  # due in 3 days
    fake.answer_always(Reply.content_of({"text": "Hi there"}))
    drafts = make_drafts()
    assert await drafts.prefetch() == 1
    await asyncio.gather(*drafts._running.values())
    async with db.read() as conn:
        rows = {
            name: await reminders_repo.get(conn, rid(lead, 0))
            for name, lead in (("fresh", fresh), ("stale", stale), ("later", later))
        }
    assert {k: (r.draft_text, r.draft_source) for k, r in rows.items() if r} == {
        "fresh": (None, None),
        "stale": ("Hi there", "llm"),
        "later": (None, None),
    }
    assert await drafts.prefetch() == 0  # nothing stale any more

    # Three days on, Cy's step is within the hour; a note on Ana makes hers stale too.
    clock.advance(timedelta(days=3))
    await notes_service.add_note(db, user, fresh.id, "Met at the fair", clock.now())
    clock.advance(timedelta(seconds=1))
    assert await drafts.prefetch() == 2


async def test_a_dispatch_pass_runs_on_time_while_the_model_hangs(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    leads = [await lead_without_texts(db, clock, user, [0], name=f"L{i}") for i in range(3)]
    fake.answer_always(Reply.hang())
    drafts = make_drafts(timeout=30.0)
    assert await drafts.prefetch() == 3  # scheduled, not awaited
    async with dispatch_env(db, clock) as env:
        started = time.monotonic()
        counts = await env.dispatcher.run_pass()
        elapsed = time.monotonic() - started
    assert counts.sent == 3
    assert elapsed < 2.0
    assert len(drafts._running) == 3  # the generations are still waiting on the model
    assert len(leads) == len(env.fake.sent_messages(user.telegram_id))


async def test_an_edited_context_is_news_for_the_drafts(
    db: Database, clock: ManualClock, user: User, fake: FakeOpenAI, make_drafts: MakeDrafts
) -> None:
    lead = await make_lead(db, clock, user, [0, 2], name="Ana")
    drafts = make_drafts()
    assert (await drafts.for_user(user, rid(lead, 0))).source == "plan"
    clock.advance(timedelta(hours=1))
    await steps_service.update_lead(
        db, user, lead.id, {"context": "Evaluating vendors in Q3"}, None, None, clock.now()
    )
    fake.script(Reply.content_of({"subject": "Q3", "text": "Hi Ana, ahead of Q3..."}))
    clock.advance(timedelta(minutes=1))
    view = await drafts.for_user(user, rid(lead, 0))
    assert (view.source, view.generated_at) == ("llm", clock.now())
    assert "Evaluating vendors in Q3" in fake.requests[0].messages[1]["content"]
