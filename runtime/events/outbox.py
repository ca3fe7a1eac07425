"""The events outbox: rows written in the transaction of the change they describe, read by subscribers.

Writers hand :func:`insert_events` the connection of their own transaction (a transcript
write, the end of a session, a sync run), so an event exists exactly when its cause does.
Every session event carries a key derived from the transcript key of its cause: a retried
activity writes it again and the unique key turns the second insert into a no-op. The whole
batch is one statement (``unnest`` of arrays), so an activity pays one round trip for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

import asyncpg
from pydantic import BaseModel

from .catalogue import EventCatalogue, EventModel

def insert_sql(first: int = 1) -> str:
    """The batch insert, its six array parameters numbered from ``$first`` (to embed it in a caller's statement)."""
    a, b, c, d, e, f = (f"${n}" for n in range(first, first + 6))
    return f"""INSERT INTO events (type, key, session_id, entry_id, schema_version, payload)
SELECT t, k, s, e, v, p::jsonb
FROM unnest({a}::text[], {b}::text[], {c}::text[], {d}::text[], {e}::int[], {f}::text[]) AS x(t, k, s, e, v, p)
ON CONFLICT (key) DO NOTHING"""


def _without_nul(value: Any) -> Any:
    """jsonb cannot hold U+0000, and user messages can contain it: replace it visibly (as the transcript does)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


@dataclass(frozen=True)
class NewEvent:
    """One event to write. ``key`` makes the write idempotent; None for writes that cannot repeat."""

    type: str
    payload: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    session_id: str | None = None
    entry_id: str | None = None
    schema_version: int = 1

    @classmethod
    def of(cls, model: EventModel, key: str | None = None) -> "NewEvent":
        payload = model.model_dump(mode="json")
        return cls(type=model.name, payload=payload, key=key, session_id=payload.get("session_id"),
                   entry_id=payload.get("entry_id"), schema_version=model.schema_version)


def insert_params(events: Sequence[NewEvent]) -> list[list[Any]]:
    return [
        [e.type for e in events], [e.key for e in events], [e.session_id for e in events],
        [e.entry_id for e in events], [e.schema_version for e in events],
        [json.dumps(_without_nul(e.payload), ensure_ascii=False) for e in events],
    ]


async def insert_events(conn: asyncpg.Connection, events: Sequence[NewEvent]) -> int:
    """Write ``events`` in one statement on the caller's connection; returns how many were new."""
    if not events:
        return 0
    status = await conn.execute(insert_sql(), *insert_params(events))
    return int(status.split()[-1])


class DeliveredEvent(BaseModel):
    """An event as a subscriber receives it. ``idempotency_key`` is the same on every attempt."""

    id: int
    event: str
    schema_version: int
    created_at: datetime
    session_id: str | None = None
    entry_id: str | None = None
    idempotency_key: str
    payload: dict[str, Any]

    def model(self) -> EventModel | None:
        """The typed payload for catalogued events (None for custom ones)."""
        cls = EventCatalogue.model_of(self.event)
        if cls is None:
            return None
        ids = {k: v for k, v in (("session_id", self.session_id), ("entry_id", self.entry_id)) if v is not None}
        return cls.model_validate({**self.payload, **ids})

    def as_plugin_dict(self) -> dict[str, Any]:
        """The flat dict a plugin handler gets: the payload plus the envelope (``event`` is the name)."""
        return {
            **self.payload,
            "event": self.event,
            "event_id": self.id,
            "schema_version": self.schema_version,
            "created_at": self.created_at.isoformat(),
            "session_id": self.session_id,
            "entry_id": self.entry_id,
            "idempotency_key": self.idempotency_key,
        }


def delivered(row: asyncpg.Record, subscriber: str) -> DeliveredEvent:
    return DeliveredEvent(
        id=row["id"], event=row["type"], schema_version=row["schema_version"], created_at=row["created_at"],
        session_id=row["session_id"], entry_id=row["entry_id"], idempotency_key=f"{subscriber}/{row['id']}",
        payload=dict(row["payload"] or {}),
    )


async def session_events(conn: asyncpg.Connection, session_id: str) -> list[DeliveredEvent]:
    """Every event of one session in order (what observers are fed at the session's end)."""
    rows = await conn.fetch(
        "SELECT id, type, schema_version, created_at, session_id, entry_id, payload FROM events"
        " WHERE session_id = $1 ORDER BY id", session_id)
    return [delivered(r, "observer") for r in rows]
