"""Delete old, fully delivered events, so the outbox does not grow for ever.

An event is pruned once it is ``retention_days`` past ``delivered_at`` (every delivery done
or skipped). Events still pending and events with a dead letter are kept: the first are work,
the second are what an operator has to look at. Deliveries go with their event (ON DELETE
CASCADE). Deletes run in bounded batches, so a large backlog never holds one long lock.
"""

from __future__ import annotations

import time
from datetime import timedelta

import asyncpg

from ..logging import get_logger

log = get_logger(__name__)

BATCH = 5_000
PRUNE_EVERY_SECONDS = 3_600.0  # from the dispatcher's sweep: at most hourly per worker

_PRUNE = """
WITH doomed AS (
    SELECT e.id FROM events e
    WHERE e.delivered_at < now() - $1::interval
      AND NOT EXISTS (SELECT 1 FROM event_dead_letters d WHERE d.event_id = e.id)
    ORDER BY e.id LIMIT $2
)
DELETE FROM events WHERE id IN (SELECT id FROM doomed)
"""


async def prune_delivered(pool: asyncpg.Pool, older_than: timedelta, *, batch: int = BATCH) -> int:
    """Delete delivered events older than ``older_than``; returns how many went."""
    total = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(_PRUNE, older_than, batch)
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < batch:
            break
    if total:
        log.info("events_pruned", deleted=total, older_than_days=older_than.total_seconds() / 86_400)
    return total


class PeriodicPrune:
    """Prune from a loop that runs often (the dispatcher's sweep) without pruning every time."""

    def __init__(self, pool: asyncpg.Pool, retention_days: float, every_seconds: float = PRUNE_EVERY_SECONDS) -> None:
        self._pool = pool
        self._retention = timedelta(days=retention_days) if retention_days > 0 else None
        self._every = every_seconds
        self._last: float | None = None

    async def maybe_run(self) -> int:
        now = time.monotonic()
        if self._retention is None or (self._last is not None and now - self._last < self._every):
            return 0
        self._last = now
        try:
            return await prune_delivered(self._pool, self._retention)
        except (asyncpg.PostgresError, OSError) as exc:
            # Pruning is housekeeping: routing must go on; the next hour tries again.
            log.warning("events_prune_failed", error_type=type(exc).__name__)
            return 0
