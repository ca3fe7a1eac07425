"""Accepted webhook bodies, kept in Postgres so the workflow that handles them carries only an id."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

ConnOrPool = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class Delivery:
    id: str
    entry_id: str
    payload: Any
    outcome: dict[str, Any] | None


async def insert(db: ConnOrPool, entry_id: str, payload: Any) -> str:
    delivery_id = uuid.uuid4().hex
    # jsonb goes in as text, cast server-side: independent of the connection's JSON codec.
    await db.execute("INSERT INTO webhook_deliveries (id, entry_id, payload) VALUES ($1, $2, $3::text::jsonb)",
                     delivery_id, entry_id, json.dumps(payload))
    return delivery_id


async def get(db: ConnOrPool, delivery_id: str) -> Delivery | None:
    row = await db.fetchrow(
        "SELECT id, entry_id, payload::text AS payload, outcome::text AS outcome FROM webhook_deliveries WHERE id = $1",
        delivery_id)
    if row is None:
        return None
    return Delivery(id=row["id"], entry_id=row["entry_id"], payload=json.loads(row["payload"]),
                    outcome=json.loads(row["outcome"]) if row["outcome"] is not None else None)


async def mark_processed(db: ConnOrPool, delivery_id: str, outcome: dict[str, Any]) -> None:
    await db.execute("UPDATE webhook_deliveries SET processed_at = now(), outcome = $2::text::jsonb WHERE id = $1",
                     delivery_id, json.dumps(outcome))


async def delete(db: ConnOrPool, delivery_id: str) -> None:
    await db.execute("DELETE FROM webhook_deliveries WHERE id = $1", delivery_id)
