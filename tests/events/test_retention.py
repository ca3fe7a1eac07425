"""Delivered events are pruned after the retention; pending and dead-lettered ones are kept."""

from __future__ import annotations

from datetime import timedelta

from runtime.events.retention import PeriodicPrune, prune_delivered


async def _event(conn, delivered_days_ago: float | None, *, dead: bool = False) -> int:
    event_id = await conn.fetchval(
        """INSERT INTO events (type, payload, delivered_at)
           VALUES ('turn_complete', '{}', CASE WHEN $1::float8 IS NULL THEN NULL
                                              ELSE now() - make_interval(secs => $1::float8 * 86400) END)
           RETURNING id""", delivered_days_ago)
    if dead:
        await conn.execute("INSERT INTO event_dead_letters (event_id, subscriber, stream, attempts, error) "
                           "VALUES ($1, 'plugin:x', 's', 5, 'boom')", event_id)
    return event_id


async def test_only_old_delivered_events_without_dead_letters_go(pool):
    async with pool.acquire() as conn:
        old = [await _event(conn, 40) for _ in range(7)]
        recent = await _event(conn, 2)
        pending = await _event(conn, None)
        dead = await _event(conn, 40, dead=True)

    assert await prune_delivered(pool, timedelta(days=30), batch=3) == 7  # several batches
    async with pool.acquire() as conn:
        left = {r["id"] for r in await conn.fetch("SELECT id FROM events")}
        assert await conn.fetchval("SELECT count(*) FROM event_dead_letters") == 1
    assert left == {recent, pending, dead} and not left & set(old)
    assert await prune_delivered(pool, timedelta(days=30)) == 0


async def test_the_periodic_prune_runs_at_most_once_per_interval_and_zero_days_disables_it(pool):
    async with pool.acquire() as conn:
        for _ in range(2):
            await _event(conn, 60)
    assert await PeriodicPrune(pool, retention_days=0).maybe_run() == 0
    prune = PeriodicPrune(pool, retention_days=30, every_seconds=3600)
    assert await prune.maybe_run() == 2
    async with pool.acquire() as conn:
        await _event(conn, 60)
    assert await prune.maybe_run() == 0  # within the hour: not again
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
