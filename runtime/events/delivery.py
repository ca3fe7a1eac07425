"""Deliver one subscriber's pending events of one stream, in order, recording every attempt.

At least once: a delivery row turns ``delivered`` only after its handler returned, so a
worker killed mid-handler leaves it pending and the retried activity runs it again (the
handler gets the same ``idempotency_key``). Attempts are counted per row in Postgres
(committed *before* the handler runs, so a crash counts too); a row whose handler failed
``max_attempts`` times goes to ``event_dead_letters`` with its error, and the stream moves
on to its next event. A failure below that limit raises, and Temporal retries the batch
with backoff from the failed event: rows already delivered are not pending any more.

The error that reaches Temporal names only the exception type; the row keeps
``<Type>: <message>``, scrubbed of live secrets and capped.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import asyncpg
from temporalio.client import Client

from ..errors import AgentrtError
from ..logging import get_logger, live_secrets
from .outbox import DeliveredEvent, delivered
from .subscribers import Skip, Subscriber, resolve
from .types import DeliveryInput, DeliveryOutcome

if TYPE_CHECKING:
    from ..services import Services

log = get_logger(__name__)
MAX_ERROR_CHARS = 1_000
# Stop taking new events once a batch has run this long: the activity must end well inside its timeout.
BATCH_BUDGET_SECONDS = 120.0

_PENDING = """
SELECT e.id, e.type, e.schema_version, e.created_at, e.session_id, e.entry_id, e.payload, d.attempts
FROM event_deliveries d JOIN events e ON e.id = d.event_id
WHERE d.subscriber = $1 AND d.stream = $2 AND d.status = 'pending'
ORDER BY d.event_id LIMIT $3
"""
_BEGIN = """
UPDATE event_deliveries SET attempts = attempts + 1, last_attempt_at = now(),
    first_attempt_at = coalesce(first_attempt_at, now())
WHERE event_id = $1 AND subscriber = $2 AND status = 'pending' RETURNING attempts
"""
# Ending a delivery also ends its event once no subscriber of it is pending any more.
_FINISH = """
WITH done AS (
    UPDATE event_deliveries SET status = $3, reason = $4, last_error = coalesce($5, last_error), finished_at = now()
    WHERE event_id = $1 AND subscriber = $2 AND status = 'pending' RETURNING event_id
)
UPDATE events SET delivered_at = now() WHERE id IN (SELECT event_id FROM done) AND delivered_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM event_deliveries WHERE event_id = $1 AND status = 'pending' AND subscriber <> $2)
"""


class HandlerFailedError(AgentrtError):
    """Retryable: the subscriber raised below its attempt limit. The message names only the type."""

    key = "event_handler_failed"


def error_text(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "TimeoutError: the handler did not finish in time"
    return live_secrets.scrub(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]


class _Unresolved:
    """A subscriber whose set-up raised: every delivery attempt fails with that error."""

    label = "unresolved"

    def __init__(self, error: Exception) -> None:
        self._error = error

    async def handle(self, event: DeliveredEvent, timeout: float) -> None:
        raise self._error


class DeliveryLedger:
    """The delivery rows of one (subscriber, stream)."""

    def __init__(self, pool: asyncpg.Pool, subscriber: str, stream: str) -> None:
        self._pool = pool
        self.subscriber = subscriber
        self.stream = stream

    async def pending(self, limit: int) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn:
            return await conn.fetch(_PENDING, self.subscriber, self.stream, limit)

    async def begin(self, event_id: int) -> int | None:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(_BEGIN, event_id, self.subscriber)

    async def finish(self, event_id: int, status: str, *, reason: str | None = None, error: str | None = None) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(_FINISH, event_id, self.subscriber, status, reason, error)

    async def failed(self, event_id: int, error: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("UPDATE event_deliveries SET last_error = $3 WHERE event_id = $1 AND subscriber = $2",
                               event_id, self.subscriber, error)

    async def dead_letter(self, event_id: int, attempts: int, error: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO event_dead_letters (event_id, subscriber, stream, attempts, error)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, subscriber) DO NOTHING""",
                event_id, self.subscriber, self.stream, attempts, error)
            await conn.execute(_FINISH, event_id, self.subscriber, "dead", "max_attempts", error)

    async def skip_all(self, reason: str) -> int:
        async with self._pool.acquire() as conn:
            ids = [r["event_id"] for r in await conn.fetch(
                "SELECT event_id FROM event_deliveries WHERE subscriber = $1 AND stream = $2 AND status = 'pending'",
                self.subscriber, self.stream)]
        for event_id in ids:
            await self.finish(event_id, "skipped", reason=reason)
        return len(ids)


async def deliver_batch(services: "Services", client: Client | None, inp: DeliveryInput) -> DeliveryOutcome:
    """Deliver the next batch of ``inp.subscriber``'s pending events in ``inp.stream``."""
    policy = inp.policy
    ledger = DeliveryLedger(services.ctx.pool, inp.subscriber, inp.stream)
    rows = await ledger.pending(policy.batch_size)
    if not rows:
        return DeliveryOutcome()
    try:
        target: Subscriber | Skip = await resolve(services, client, inp.subscriber)
    except Exception as exc:  # e.g. an entry whose secrets no longer decrypt: count attempts, then dead-letter
        target = _Unresolved(exc)
    if isinstance(target, Skip):
        skipped = await ledger.skip_all(target.reason)
        log.info("event_deliveries_skipped", subscriber=inp.subscriber, stream=inp.stream, reason=target.reason,
                 count=skipped)
        return DeliveryOutcome(skipped=skipped)
    outcome = DeliveryOutcome()
    started = time.monotonic()
    for row in rows:
        if time.monotonic() - started > BATCH_BUDGET_SECONDS:
            outcome.remaining = True
            return outcome
        attempts = await ledger.begin(row["id"])
        if attempts is None:  # finished meanwhile (a duplicate run of this stream): skip it
            continue
        event = delivered(row, inp.subscriber)
        began = time.monotonic()
        try:
            await target.handle(event, policy.handler_timeout_seconds)
        except Exception as exc:
            error = error_text(exc)
            fields = {"subscriber": inp.subscriber, "subscriber_label": target.label, "event_id": event.id,
                      "event_type": event.event, "attempt": attempts, "error_type": type(exc).__name__}
            if attempts >= policy.max_attempts:
                await ledger.dead_letter(event.id, attempts, error)
                log.warning("event_dead_lettered", **fields)
                outcome.dead += 1
                continue
            await ledger.failed(event.id, error)
            log.warning("event_handler_failed", **fields)
            raise HandlerFailedError(f"subscriber raised {type(exc).__name__}") from None
        await ledger.finish(event.id, "delivered")
        outcome.delivered += 1
        log.info("event_delivered", subscriber=inp.subscriber, subscriber_label=target.label, event_id=event.id,
                 event_type=event.event, attempt=attempts, duration_ms=round((time.monotonic() - began) * 1000, 1))
    outcome.remaining = len(rows) == policy.batch_size
    return outcome
