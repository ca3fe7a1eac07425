"""Reads for operators, the CLI and the API: events with the state of each of their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field


class DeliveryView(BaseModel):
    subscriber: str
    subscriber_name: str | None = Field(default=None, description="the plugin id or the entry's integration domain")
    stream: str
    status: str
    attempts: int
    reason: str | None = None
    last_error: str | None = None
    created_at: datetime
    first_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    finished_at: datetime | None = None


class EventView(BaseModel):
    id: int
    event: str
    schema_version: int
    session_id: str | None = None
    entry_id: str | None = None
    created_at: datetime
    routed_at: datetime | None = None
    delivered_at: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    deliveries: list[DeliveryView] = Field(default_factory=list)


class DeadLetterView(BaseModel):
    event_id: int
    event: str
    subscriber: str
    stream: str
    attempts: int
    error: str
    created_at: datetime


_EVENTS = """
SELECT id, type AS event, schema_version, session_id, entry_id, created_at, routed_at, delivered_at, payload
FROM events WHERE ($1::bigint IS NULL OR id = $1) AND ($2::text IS NULL OR session_id = $2)
  AND ($3::text IS NULL OR (entry_id = $3 AND session_id IS NULL)) AND ($4::text IS NULL OR type = $4)
ORDER BY id DESC LIMIT $5
"""
_DELIVERIES = """
SELECT d.event_id, d.subscriber, coalesce(pc.plugin_id, ce.domain) AS subscriber_name, d.stream, d.status, d.attempts,
       d.reason, d.last_error, d.created_at, d.first_attempt_at, d.last_attempt_at, d.finished_at
FROM event_deliveries d
LEFT JOIN plugin_configs pc ON d.subscriber = 'plugin:' || pc.id
LEFT JOIN config_entries ce ON d.subscriber = 'entry:' || ce.id
WHERE d.event_id = ANY($1::bigint[]) ORDER BY d.event_id, d.subscriber
"""


async def list_events(pool: asyncpg.Pool, *, event_id: int | None = None, session_id: str | None = None,
                      entry_id: str | None = None, event_type: str | None = None, limit: int = 50) -> list[EventView]:
    """Newest first, each with its deliveries."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(_EVENTS, event_id, session_id, entry_id, event_type, limit)
        deliveries = await conn.fetch(_DELIVERIES, [r["id"] for r in rows]) if rows else []
    by_event: dict[int, list[DeliveryView]] = {}
    for d in deliveries:
        by_event.setdefault(d["event_id"], []).append(
            DeliveryView(**{k: d[k] for k in DeliveryView.model_fields}))
    return [EventView(**{k: r[k] for k in EventView.model_fields if k != "deliveries"},
                      deliveries=by_event.get(r["id"], [])) for r in rows]


async def event_status(pool: asyncpg.Pool, event_id: int) -> EventView | None:
    found = await list_events(pool, event_id=event_id, limit=1)
    return found[0] if found else None


async def dead_letters(pool: asyncpg.Pool, limit: int = 50) -> list[DeadLetterView]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT l.event_id, e.type AS event, l.subscriber, l.stream, l.attempts, l.error, l.created_at
               FROM event_dead_letters l JOIN events e ON e.id = l.event_id ORDER BY l.id DESC LIMIT $1""", limit)
    return [DeadLetterView(**dict(r)) for r in rows]
