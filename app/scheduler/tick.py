"""One dispatch pass: claim due reminders → decide each rung → group per user → send →
record. Used by the lifespan loop and by POST /internal/tick alike.

Delivery guarantees:
- A reminder is claimed atomically with a lease (app/repositories/claims.py): whatever runs
  at once (the loop, cron ticks, other replicas), each reminder goes to one sender.
- The claim is recorded only after Telegram accepted the message, and the lease is kept
  alive while the pass works. If the process dies in between, the lease expires and the
  reminder is sent again by a later pass: nothing is lost, and at most the messages in
  flight at that moment (bounded by the sender concurrency) go out twice.
- Leases are short (LEASE) and extended every KEEP_EVERY, so the claims of a killed process
  are free again seconds later. A pass that cannot extend them in time (the database slow
  or gone, or on PostgreSQL its dispatch lock gone, or the process itself stalled) stops
  sending before they expire: whoever takes them over next never sends beside it. It then
  still records what Telegram accepted, where its claims are still its own, so a slow
  database costs no repeated messages.
- A graceful stop sends no more, records what was sent and gives back the rest at once.
- Only one replica dispatches at a time (a PostgreSQL advisory lock), so the sender's
  in-process pacing is the pacing of the whole deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import Clock
from app.db.database import Database
from app.domain.calendar import WorkSchedule
from app.domain.escalation import Rung, rung_for
from app.domain.plans import schedule_of
from app.domain.steps import PlanStep
from app.domain.users import User
from app.links import Links
from app.logs import exception_summary
from app.repositories import claims as claims_repo
from app.repositories import leads as leads_repo
from app.repositories import users as users_repo
from app.repositories.leads import Lead
from app.repositories.reminders import Reminder
from app.scheduler.metrics import DispatchMetrics
from app.services import steps as steps_service
from app.services import users as users_service
from app.services.steps import Delivery
from app.services.users import UserCache
from app.telegram import render
from app.telegram.sender import Outgoing, Sender, SendResult

log = logging.getLogger(__name__)

DISPATCH_LOCK_KEY = 0x65706C616E + 1
BATCH_SIZE = 500
MAX_BATCHES_PER_PASS = 200
# A claim's lease, and how often a working pass extends it. A pass sends only while the
# last extension that succeeded (or its claim) is younger than HOLD_FOR: what it sends
# then is accepted or refused before its leases run out, which is when another worker
# may take them. An extension still unanswered at that moment stops the pass.
LEASE = timedelta(seconds=6)
KEEP_EVERY = 1.0
HOLD_MARGIN = 1.5  # for a send that left just before HOLD_FOR to be answered
HOLD_FOR = LEASE.total_seconds() - HOLD_MARGIN
# A pass that stopped (its hold lost, or a failure) still tries this long to record what
# Telegram accepted: the record is guarded by the claim, so it cannot overwrite another
# worker's, and what it records is not sent again.
RECORD_AFTER_STOP = 2.5
# A claim takes about this many seconds of sending at the global pace (at least a full set
# of concurrent sends, at most BATCH_SIZE): what a killed process held is then seconds of
# work, not a whole backlog left waiting for its leases. See Dispatcher.batch_size.
CLAIM_AHEAD_SECONDS = 1.0
SEND_CONCURRENCY = 32
FLUSH_AT = SEND_CONCURRENCY // 2
PARK_FOR = timedelta(days=1)
RETRY_FAILED_AFTER = timedelta(seconds=30)


@dataclass(slots=True)
class PassCounts:
    due: int = 0
    sent: int = 0
    nudged: int = 0
    auto_snoozed: int = 0
    digested: int = 0
    failed: int = 0
    blocked: int = 0
    busy: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Leadership:
    held: bool
    conn: AsyncConnection | None = None  # PostgreSQL: the session holding the dispatch lock


@dataclass(slots=True)
class _Job:
    user: User
    schedule: WorkSchedule
    single: list[tuple[Reminder, Rung]] = field(default_factory=list)
    digest: list[tuple[Reminder, Rung]] = field(default_factory=list)


class LeaseLost(Exception):
    """The pass could not extend its leases in time; it has stopped sending."""


def claim_size(global_gap: float, chat_gap: float, per_user_cap: int) -> int:
    """How many reminders one claim takes: enough to keep the global pace busy until the
    batch is done, and no more. A batch ends when its slowest chat is served, and one
    person gets up to `per_user_cap` reminders and a digest in a pass, one chat gap apart:
    a batch smaller than the global pace times that would leave the pace idle (seen: 32 at
    a time, five reminders a person, sent 6 a second instead of 30)."""
    busy_for = max(CLAIM_AHEAD_SECONDS, (per_user_cap + 1) * chat_gap)
    return min(BATCH_SIZE, max(SEND_CONCURRENCY, math.ceil(busy_for / global_gap)))


def _loop_time() -> float:
    """The event loop's clock, which the keeper's sleeps and timeouts run on. The hold is
    kept in it, not in the injected clock: a test clock that moves by hand (pacing moves
    it forward in a blink) says nothing about how long the leases have really stood."""
    return asyncio.get_running_loop().time()


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        sender: Sender,
        metrics: DispatchMetrics,
        per_user_cap: int,
        links: Links,
        user_cache: UserCache | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.sender = sender
        self.metrics = metrics
        self.per_user_cap = per_user_cap
        self.links = links
        self.user_cache = user_cache
        self.worker = worker_id or default_worker_id()
        self._lock = asyncio.Lock()
        self._pending: list[Delivery] = []
        # A permit per message that is on the wire or sent but not yet recorded: a crash
        # can then repeat at most SEND_CONCURRENCY messages, whatever the pace of recording.
        self._permits = asyncio.Semaphore(SEND_CONCURRENCY)
        self._unrecorded_messages = 0
        self._schedules: dict[int, WorkSchedule] = {}
        self._record_lock = asyncio.Lock()
        self._waited_for: set[str] = set()
        self._failed = False
        self._stopping = False
        self._held: list[int] = []  # the ids of the batch in hand, whose leases are kept
        self._hold_until = 0.0  # monotonic: sending stops here unless an extension succeeds
        self._held_back = False  # a send was not made because the hold had run out
        self.batch_size = claim_size(sender.pacer.global_gap, sender.pacer.chat_gap, per_user_cap)

    def stop_sending(self) -> None:
        """A graceful stop: the pass in flight sends no more messages, records what it sent
        and gives back what it claimed but did not send, so the next process takes those
        at once instead of after their lease. Later passes find nothing to do."""
        self._stopping = True

    async def run_pass(self) -> PassCounts:
        counts = PassCounts()
        async with self._lock:
            started = self.clock.monotonic()
            outcome = "ok"
            try:
                async with self._leadership() as leader:
                    if not leader.held:
                        counts.busy = True
                        outcome = "busy"
                        return counts
                    await self._pass(counts, leader.conn)
            except Exception:
                outcome = "error"
                self._failed = True
                raise
            finally:
                elapsed = self.clock.monotonic() - started
                self.metrics.pass_duration.observe(elapsed)
                self.metrics.passes.labels(outcome).inc()
                log.info("dispatch pass %s: %s in %.3f s", outcome, counts.as_dict(), elapsed)
        return counts

    @contextlib.asynccontextmanager
    async def _leadership(self) -> AsyncIterator[_Leadership]:
        if self._stopping:
            yield _Leadership(held=False)
            return
        if not self.db.is_postgres:
            yield _Leadership(held=True)  # SQLite is one process; the in-process lock is all
            return
        async with self.db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": DISPATCH_LOCK_KEY}
                )
            ).scalar_one()
            if not got:
                yield _Leadership(held=False)
                return
            try:
                yield _Leadership(held=True, conn=conn)
            finally:
                try:
                    await conn.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": DISPATCH_LOCK_KEY}
                    )
                except Exception as exc:
                    # A connection that cannot unlock (cut, or left mid-statement by a
                    # cancelled extension) must not go back to the pool holding the lock:
                    # closed, it releases the lock with its session. The pass's own outcome
                    # stands: its work was done (or failed) before this.
                    log.warning(
                        "dispatch lock released by closing its session: %s",
                        exception_summary(exc),
                    )
                    await conn.invalidate()
                except BaseException:
                    await conn.invalidate()
                    raise

    async def _pass(self, counts: PassCounts, leader: AsyncConnection | None) -> None:
        """The pass's work, while its leases are kept alive; if they cannot be, it stops."""
        self._held = []
        self._hold_until = _loop_time() + HOLD_FOR
        self._held_back = False
        done = asyncio.Event()
        work = asyncio.create_task(self._work(counts))
        keeper = asyncio.create_task(self._keep_leases(leader, done))
        try:
            await asyncio.wait({work, keeper}, return_when=asyncio.FIRST_COMPLETED)
            if keeper.done() and not work.done():
                # The hold is lost: no send starts any more, and those on the wire have
                # HOLD_MARGIN to be answered (and recorded) before the work is cut short.
                self._hold_until = -math.inf
                await asyncio.wait({work}, timeout=HOLD_MARGIN)
            # The work is over: the keeper stops after the extension in flight, if any (it
            # is bounded by the hold). Cancelled mid-statement instead, it would leave the
            # dispatch lock's session unusable, and the unlock would fail.
            done.set()
            await asyncio.wait({keeper}, timeout=HOLD_FOR)
        finally:
            done.set()
            for task in (work, keeper):
                if not task.done():
                    task.cancel()
            await asyncio.gather(work, keeper, return_exceptions=True)
            if self._pending:
                await self._record_after_stop()
            self._schedules.clear()
        if not keeper.cancelled() and (lost := keeper.exception()) is not None:
            log.error("dispatch pass stopped sending: %s", exception_summary(lost))
            raise LeaseLost("its leases could not be extended in time") from lost
        work.result()
        if self._held_back:  # the process stalled past its hold before the keeper saw it
            log.error("dispatch pass stopped sending: its hold on its claims ran out")
            raise LeaseLost("its hold on its claims ran out")

    def _may_send(self) -> bool:
        """Whether the pass may start another send: not stopping, and its claims still
        its own for long enough (HOLD_FOR since they were last confirmed)."""
        if self._stopping:
            return False
        if _loop_time() >= self._hold_until:
            self._held_back = True
            return False
        return True

    async def _record_after_stop(self) -> None:
        """The pass stopped with messages sent but not recorded. Where their claims are
        still this worker's, recording them now means they are not sent again; the record
        is guarded by the claim, so one that another worker has taken over is left alone.
        A database that is gone fails this too, and those few go out again."""
        try:
            async with asyncio.timeout(RECORD_AFTER_STOP):
                await self._flush()
        except Exception as exc:
            log.warning(
                "a stopped pass could not record %s sent messages: %s",
                len(self._pending),
                exception_summary(exc),
            )

    async def _work(self, counts: PassCounts) -> None:
        now = self.clock.now()
        if self._failed:
            await self._after_a_failed_pass(now)
        # Each of a pass's statements is atomic on its own: run alone (in autocommit on
        # PostgreSQL), each is one round trip instead of three. An empty pass is these
        # four and the dispatch lock.
        async with self.db.single_write() as conn:
            await claims_repo.park_waiting(conn, now=now, until=now + PARK_FOR, limit=10_000)
        await self._after_a_crash(now)
        sent_to: dict[int, int] = {}
        for _ in range(MAX_BATCHES_PER_PASS):
            if not self._may_send():
                break
            now = self.clock.now()
            claimed_at = _loop_time()
            async with self.db.single_write() as conn:
                batch = await claims_repo.claim(
                    conn, worker=self.worker, now=now, lease=LEASE, limit=self.batch_size
                )
            self.metrics.claim_batch.observe(len(batch))
            if not batch:
                break
            counts.due += len(batch)
            self._held = [r.id for r in batch]
            self._hold_until = claimed_at + HOLD_FOR
            try:
                await self._dispatch(batch, counts, sent_to)
            finally:
                self._held = []
            # The batch is recorded: its users' schedules are not needed again. Kept for
            # the whole pass, they grew with the number of users reminded. (A pass that
            # fails keeps them for the record after its stop.)
            self._schedules.clear()
        if self._stopping:
            await self._give_back_unsent()
        async with self.db.single_read() as conn:
            self.metrics.backlog.set(await claims_repo.backlog(conn, self.clock.now()))

    async def _give_back_unsent(self) -> None:
        """What a stopping pass claimed but did not send, free for the next process now."""
        async with self.db.single_write() as conn:
            released = await claims_repo.release_all(conn, worker=self.worker, now=self.clock.now())
        if released:
            log.info("stopping: gave back %s claimed reminders not yet sent", released)

    async def _after_a_failed_pass(self, now: datetime) -> None:
        """A pass that failed (the database went away, say) left its claims leased for
        LEASE, and its unrecorded messages unrecorded. Passes in this process run one at a
        time, so nothing is working on them now: take them back at once rather than when
        they expire. What was sent but not recorded goes out again, as after a crash."""
        async with self.db.transaction() as conn:
            released = await claims_repo.release_all(conn, worker=self.worker, now=now)
        self._pending = []
        self._unrecorded_messages = 0
        self._permits = asyncio.Semaphore(SEND_CONCURRENCY)
        self._failed = False
        log.info("took back %s claims of a failed pass", released)

    async def _after_a_crash(self, now: datetime) -> None:
        """Another worker's live leases, seen while this one holds the dispatch lock, mean
        it died in a pass (a pass that ends records or releases all it claimed), maybe
        sending at full pace until that moment. Its pace is not known here, so the first
        pass after that waits one window before sending: otherwise a chat whose reminders
        were split across the two workers' claims can get two messages within its gap,
        and at the default 30/s two back-to-back paced streams can put 31 in one second."""
        async with self.db.single_read() as conn:
            claimers = await claims_repo.live_claimers(conn, now)
        claimers.discard(self.worker)
        if claimers - self._waited_for:
            self.sender.pacer.pause(self.sender.pacer.window)
        self._waited_for = claimers

    async def _keep_leases(self, leader: AsyncConnection | None, done: asyncio.Event) -> None:
        """Every KEEP_EVERY seconds of a pass, extend the leases of the batch in hand; raise
        when an extension fails, or has not answered by the time the pass must stop sending
        (HOLD_FOR after the last one that succeeded). On PostgreSQL it runs on the session
        that holds the dispatch lock (a bare round trip when no batch is in hand), so it
        also proves the lock is still this pass's. Returns once `done` is set."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), KEEP_EVERY)
            if done.is_set():
                return
            ids = self._held
            started = _loop_time()
            async with asyncio.timeout(max(0.0, self._hold_until - started)):
                until = self.clock.now() + LEASE
                if leader is not None:
                    if ids:
                        await claims_repo.extend(leader, worker=self.worker, ids=ids, until=until)
                    else:
                        await leader.execute(text("SELECT 1"))
                elif ids:
                    async with self.db.single_write() as conn:
                        await claims_repo.extend(conn, worker=self.worker, ids=ids, until=until)
            if ids is self._held:  # a new batch, claimed meanwhile, has a lease of its own
                self._hold_until = started + HOLD_FOR

    async def _dispatch(
        self, batch: list[Reminder], counts: PassCounts, sent_to: dict[int, int]
    ) -> None:
        now = self.clock.now()
        messages: list[tuple[Reminder, Rung]] = []
        for reminder in batch:
            rung = rung_for(reminder.nudge_stage)
            if rung == "auto_snooze":
                change = await steps_service.auto_snooze(
                    self.db, reminder.telegram_id, reminder.id, now
                )
                counts.auto_snoozed += change is not None
            else:
                messages.append((reminder, rung))
        if not messages:
            return
        async with self.db.read() as conn:
            leads = {
                lead.id: lead
                for lead in await leads_repo.by_ids(conn, sorted({r.lead_id for r, _ in messages}))
            }
            people = {
                u.telegram_id: u
                for u in await users_repo.by_ids(conn, sorted({r.telegram_id for r, _ in messages}))
            }
        jobs: dict[int, _Job] = {}
        for reminder, rung in messages:
            user = people.get(reminder.telegram_id)
            if user is None or reminder.lead_id not in leads:
                continue  # deleted meanwhile; the cascade took the claim with it
            job = jobs.get(user.telegram_id)
            if job is None:
                job = jobs[user.telegram_id] = _Job(user=user, schedule=schedule_of(user))
                self._schedules[user.telegram_id] = job.schedule
            if sent_to.get(user.telegram_id, 0) + len(job.single) < self.per_user_cap:
                job.single.append((reminder, rung))
            else:
                job.digest.append((reminder, rung))
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def serve(job: _Job) -> None:
            async with gate:
                await self._serve(job, leads, counts, sent_to)

        tasks = [asyncio.create_task(serve(job)) for job in jobs.values()]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One job failed (or the pass was cancelled): stop the others sending, so the
            # claims a failed pass leaves behind are no longer being worked on.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        await self._flush()

    async def _serve(
        self, job: _Job, leads: dict[int, Lead], counts: PassCounts, sent_to: dict[int, int]
    ) -> None:
        chat = job.user.telegram_id
        for index, (reminder, rung) in enumerate(job.single):
            if not self._may_send():
                return  # a stopping pass gives back what was not sent
            lead = leads[reminder.lead_id]
            now = self.clock.now()
            card = _card(reminder, lead)
            result = await self._send(
                Outgoing(
                    chat_id=chat,
                    text=render.reminder_text(card, rung, now),
                    reply_markup=render.reminder_keyboard(
                        reminder.id, self.links.lead_url(lead.id)
                    ),
                )
            )
            if result.outcome == "withheld":
                return  # the pass stops; a stopping pass gives back what was not sent
            if result.outcome == "blocked":
                await self._unreachable(job, counts, rest=job.single[index:] + job.digest)
                return
            if result.outcome == "failed":
                await self._give_back([reminder.id], counts, result.reason or "failed")
                continue
            sent_to[chat] = sent_to.get(chat, 0) + 1
            self._delivered(reminder, rung, result.message_id, False, counts)
            await self._sent()
        if job.digest and self._may_send():
            now = self.clock.now()
            items = [
                render.DigestItem(
                    lead_name=leads[r.lead_id].name,
                    step_number=r.position + 1,
                    description=_step(leads[r.lead_id], r.step_id).description,
                    due_at=r.due_at,
                )
                for r, _ in job.digest
            ]
            result = await self._send(
                Outgoing(
                    chat_id=chat,
                    text=render.digest_text(items, now),
                    reply_markup=render.digest_keyboard(self.links.app_url),
                )
            )
            if result.outcome == "withheld":
                return  # the pass stops; a stopping pass gives back what was not sent
            if result.outcome == "blocked":
                await self._unreachable(job, counts, rest=job.digest)
                return
            if result.outcome == "failed":
                await self._give_back([r.id for r, _ in job.digest], counts, "failed")
                return
            self.metrics.sent.labels("digest").inc()
            for reminder, rung in job.digest:
                counts.digested += 1
                self._delivered(reminder, rung, None, True, counts)
            await self._sent()

    def _delivered(
        self,
        reminder: Reminder,
        rung: Rung,
        message_id: int | None,
        via_digest: bool,
        counts: PassCounts,
    ) -> None:
        now = self.clock.now()
        if rung == "first":
            counts.sent += 1
            self.metrics.lateness.observe(max(0.0, (now - reminder.next_action_at).total_seconds()))
        else:
            counts.nudged += 1
        if not via_digest:
            self.metrics.sent.labels(rung).inc()
        self._pending.append(Delivery(reminder, rung, message_id, via_digest))

    async def _send(self, message: Outgoing) -> SendResult:
        """Send when a permit is free and the pass may still send: asked by the sender
        right before the request, after the waits for a permit and a slot, which can be
        long. Withheld otherwise."""
        await self._permits.acquire()
        try:
            result = await self.sender.send(message, self._may_send)
        except BaseException:
            self._permits.release()
            raise
        if result.outcome != "sent":
            self._permits.release()
        return result

    async def _sent(self) -> None:
        """After a message was accepted: record soon, and at once when permits run out."""
        self._unrecorded_messages += 1
        if self._permits.locked() or self._unrecorded_messages >= FLUSH_AT:
            await self._flush()

    async def _flush(self) -> None:
        async with self._record_lock:
            # Taken off the list only once recorded: a flush cut short (the pass stopping)
            # leaves them for the record after the stop. Recording twice is harmless, as
            # the first record releases the claim that the second is guarded by.
            pending = list(self._pending)
            messages = self._unrecorded_messages
            if pending:
                await steps_service.record_deliveries(
                    self.db, self.worker, pending, self._schedules, self.clock.now()
                )
            del self._pending[: len(pending)]
            self._unrecorded_messages -= messages
            # Only once recorded. A record that failed fails the pass, and its messages,
            # still unrecorded, keep their permits until the next pass starts afresh:
            # released here, they let the other jobs send more before they are cancelled
            # (seen: 33 repeated after SQLite was locked, with SEND_CONCURRENCY 32).
            for _ in range(messages):
                self._permits.release()

    async def _give_back(self, ids: list[int], counts: PassCounts, reason: str) -> None:
        counts.failed += len(ids)
        self.metrics.failed.labels(reason).inc(len(ids))
        async with self.db.transaction() as conn:
            await claims_repo.release(
                conn, worker=self.worker, ids=ids, retry_at=self.clock.now() + RETRY_FAILED_AFTER
            )

    async def _unreachable(
        self, job: _Job, counts: PassCounts, rest: list[tuple[Reminder, Rung]]
    ) -> None:
        counts.blocked += 1
        self.metrics.failed.labels("blocked").inc()
        await users_service.mark_unreachable(
            self.db, job.user.telegram_id, self.clock.now(), self.user_cache
        )
        async with self.db.transaction() as conn:
            await claims_repo.release(conn, worker=self.worker, ids=[r.id for r, _ in rest])


def _step(lead: Lead, step_id: int) -> PlanStep:
    # A step missing from the plan (reconcile puts it back) reads as an empty one.
    return lead.plan.step(step_id) or PlanStep(step_id)


def _card(reminder: Reminder, lead: Lead) -> render.ReminderCard:
    step = _step(lead, reminder.step_id)
    return render.ReminderCard(
        reminder_id=reminder.id,
        lead_id=lead.id,
        lead_name=lead.name,
        company=lead.company,
        step_number=reminder.position + 1,
        step_total=max(len(lead.plan), reminder.position + 1),
        description=step.description,
        timing=step.timing,
        channel=step.channel,
        due_at=reminder.due_at,
        draft=reminder.draft_text or step.suggested_text,
    )
