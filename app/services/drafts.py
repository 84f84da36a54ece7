"""Step drafts: written ahead of time, regenerated only when the lead has news, never waited
for by the dispatcher.

- The dispatcher sends whatever text is cached on the reminder at that moment.
- `prefetch` (run beside the dispatch loop) finds stale drafts of steps acting within the
  next hour and *schedules* their regeneration; it never waits for a model.
- `for_user` (GET /reminders/{id}/draft, the bot's View draft) regenerates a stale draft
  first, waiting at most LLM_TIMEOUT (plus a moment for the offline writer), and otherwise
  answers with the cached text while the generation finishes in the background.
- At most one generation per reminder runs in this process (one task per reminder id);
  across replicas the write is a compare-and-set on draft_generated_at, so the first
  writer wins and nobody overwrites a newer draft.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.clock import Clock
from app.db.database import Database
from app.domain import drafts as rules
from app.domain.plans import OPEN
from app.domain.steps import PlanStep
from app.domain.users import User
from app.llm.facts import LeadFacts, StepFacts
from app.llm.writer import Writer, WrittenDraft
from app.repositories import activity as activity_repo
from app.repositories import leads as leads_repo
from app.repositories import reminders as reminders_repo
from app.repositories.activity import Activity
from app.repositories.leads import Lead
from app.repositories.reminders import Reminder
from app.services.errors import NotFound

log = logging.getLogger(__name__)

DraftSource = Literal["llm", "template", "plan", "none"]
PREFETCH_HORIZON = timedelta(hours=1)
PREFETCH_SCAN_LIMIT = 200
# Time for the offline writer and the write after the model's own deadline has passed.
FALLBACK_GRACE = 1.0
RECENT_ACTIVITY = 50


@dataclass(frozen=True, slots=True)
class DraftView:
    text: str | None
    generated_at: datetime | None
    source: DraftSource


def _plan_step(lead: Lead, step_id: int) -> PlanStep:
    # A step missing from the plan (reconcile puts it back) reads as an empty one.
    return lead.plan.step(step_id) or PlanStep(step_id)


def view_of(reminder: Reminder, lead: Lead) -> DraftView:
    """What is cached for a step: a generated draft, else the plan's own text."""
    if reminder.draft_text:
        source: DraftSource = "plan"
        if reminder.draft_source == "llm":
            source = "llm"
        elif reminder.draft_source == "template":
            source = "template"
        return DraftView(reminder.draft_text, reminder.draft_generated_at, source)
    suggested = _plan_step(lead, reminder.step_id).suggested_text
    if suggested:
        return DraftView(suggested, lead.plan_started_at, "plan")
    return DraftView(None, None, "none")


def _stale(view: DraftView, news_at: datetime | None) -> bool:
    return rules.is_stale(text=view.text, generated_at=view.generated_at, news_at=news_at)


def lead_facts(lead: Lead, recent: list[Activity]) -> LeadFacts:
    """The lead as a writer sees it: fields, notes and what earlier steps did (newest first)."""
    notes: list[str] = []
    history: list[str] = []
    for entry in recent:
        if entry.activity_type == "note_added":
            text = entry.details.get("text")
            if isinstance(text, str) and text.strip():
                notes.append(text.strip())
        elif entry.activity_type in ("step_completed", "step_skipped") and entry.step_id:
            step = _plan_step(lead, entry.step_id)
            verb = "done" if entry.activity_type == "step_completed" else "skipped"
            history.append(
                f"step {entry.step_id} ({step.channel}, {verb} "
                f"{entry.created_at:%Y-%m-%d}): {step.description}"
            )
    return LeadFacts(
        name=lead.name,
        company=lead.company,
        title=lead.title,
        channel=lead.channel,
        context=lead.context,
        notes=tuple(notes),
        history=tuple(history),
    )


async def generate_step_draft(
    writer: Writer, lead: Lead, reminder: Reminder, recent: list[Activity]
) -> WrittenDraft:
    """A channel-specific draft for one step, from the lead, its notes and earlier steps."""
    step = _plan_step(lead, reminder.step_id)
    facts = StepFacts(
        step_id=reminder.step_id,
        position=reminder.position,
        total=max(len(lead.plan), reminder.position + 1),
        description=step.description,
        channel=step.channel,
        timing=step.timing,
        suggested_text=step.suggested_text,
    )
    return await writer.draft(lead_facts(lead, recent), facts)


class DraftService:
    def __init__(self, db: Database, clock: Clock, writer: Writer, *, wait: float) -> None:
        self.db = db
        self.clock = clock
        self.writer = writer
        self.wait = wait + FALLBACK_GRACE
        self.max_prefetching = 4
        self._running: dict[int, asyncio.Task[DraftView | None]] = {}

    async def for_user(self, user: User, reminder_id: int) -> DraftView:
        """The draft to show now: regenerated first when stale, within the deadline."""
        async with self.db.read() as conn:
            reminder = await reminders_repo.get_owned(conn, reminder_id, user.telegram_id)
            lead = (
                await leads_repo.get(conn, reminder.lead_id, user.telegram_id)
                if reminder is not None
                else None
            )
            if reminder is None or lead is None:
                raise NotFound("reminder")
            news = await activity_repo.latest_of_types(conn, [lead.id], rules.NEWS)
        view = view_of(reminder, lead)
        if reminder.status not in OPEN or not _stale(view, news.get(lead.id)):
            return view
        task = self._spawn(reminder_id)
        try:
            fresh = await asyncio.wait_for(asyncio.shield(task), self.wait)
        except TimeoutError:
            log.info("draft of reminder %s not ready in time; cached text shown", reminder_id)
            return view
        return fresh or view

    async def prefetch(self) -> int:
        """Schedule regeneration of stale drafts of steps acting within the next hour.
        Returns how many were scheduled; never waits for a generation."""
        if len(self._running) >= self.max_prefetching:
            # Nothing could be scheduled: with a slow model this keeps the scans from
            # costing the database (and the dispatcher beside them) anything at all.
            return 0
        now = self.clock.now()
        async with self.db.read() as conn:
            candidates = await reminders_repo.open_acting_before(
                conn, now + PREFETCH_HORIZON, PREFETCH_SCAN_LIMIT
            )
            lead_ids = sorted({r.lead_id for r in candidates})
            leads = {lead.id: lead for lead in await leads_repo.by_ids(conn, lead_ids)}
            news = await activity_repo.latest_of_types(conn, lead_ids, rules.NEWS)
        scheduled = 0
        for reminder in candidates:
            if len(self._running) >= self.max_prefetching:
                break  # the rest wait for the next scan, so each generation gets a fair go
            lead = leads.get(reminder.lead_id)
            if lead is None or reminder.id in self._running:
                continue
            if _stale(view_of(reminder, lead), news.get(lead.id)):
                self._spawn(reminder.id)
                scheduled += 1
        return scheduled

    def _spawn(self, reminder_id: int) -> asyncio.Task[DraftView | None]:
        task = self._running.get(reminder_id)
        if task is None:
            task = asyncio.create_task(self._refresh(reminder_id), name=f"draft-{reminder_id}")
            self._running[reminder_id] = task
            task.add_done_callback(lambda _t: self._running.pop(reminder_id, None))
        return task

    async def refresh(self, reminder_id: int) -> DraftView | None:
        """Regenerate one reminder's draft if stale, sharing a generation already running."""
        return await self._spawn(reminder_id)

    async def _refresh(self, reminder_id: int) -> DraftView | None:
        try:
            return await self._generate(reminder_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Nobody may be waiting (a prefetch): log it here; the cached text stays.
            log.exception("draft generation for reminder %s failed", reminder_id)
            return None

    async def _generate(self, reminder_id: int) -> DraftView | None:
        # The draft is as fresh as the facts it was written from: news that arrives while
        # the model writes leaves it stale, to be written again.
        as_of = self.clock.now()
        async with self.db.read() as conn:
            reminder = await reminders_repo.get(conn, reminder_id)
            if reminder is None:
                return None
            lead = await leads_repo.get(conn, reminder.lead_id, reminder.telegram_id)
            if lead is None:
                return None
            recent = await activity_repo.for_lead(conn, lead.id, limit=RECENT_ACTIVITY)
        view = view_of(reminder, lead)
        news_at = rules.latest_news((a.activity_type, a.created_at) for a in recent)
        if reminder.status not in OPEN or not _stale(view, news_at):
            return view
        written = await generate_step_draft(self.writer, lead, reminder, recent)
        async with self.db.transaction() as conn:
            stored = await reminders_repo.store_draft(
                conn,
                reminder_id,
                text=written.text,
                source=written.source,
                generated_at=as_of,
                expected_generated_at=reminder.draft_generated_at,
            )
            if not stored:
                again = await reminders_repo.get(conn, reminder_id)
        if stored:
            log.info("draft of reminder %s written (%s)", reminder_id, written.source)
            return DraftView(written.text, as_of, written.source)
        log.info("draft of reminder %s was written elsewhere first", reminder_id)
        return view_of(again, lead) if again is not None else None

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
