"""``SetupContext.events``: how an integration emits the events it declared for one entry.

An integration declares ``<domain>.<name>`` events in ``event_types()`` (the catalogue keeps
only well-formed ones of its own domain); its entry code emits them here. Each emitted
event goes into the outbox like a built-in one, is routed to subscribers and delivered
durably. The payload is checked first: JSON, at most 16 KiB, and none of the entry's
decrypted secret values (events are shown to subscribers, plugins and the API).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Mapping

import asyncpg

from ..entities.prepare import secret_forms
from ..errors import AgentrtError
from .catalogue import EventCatalogue
from .outbox import NewEvent, insert_events

MAX_PAYLOAD_BYTES = 16 * 1024


class EventEmitError(AgentrtError):
    key = "event_emit_invalid"


class EntryEvents:
    def __init__(self, pool: asyncpg.Pool, wake: Callable[[], None], entry_id: str, domain: str,
                 declared: Iterable[str], secrets: Iterable[str]) -> None:
        self._pool = pool
        self._wake = wake
        self.entry_id = entry_id
        self.domain = domain
        self.declared = frozenset(declared)
        self._secret_forms = secret_forms(secrets)

    def __repr__(self) -> str:
        return f"EntryEvents({self.entry_id!r}, declared={sorted(self.declared)})"

    async def emit(self, name: str, payload: Mapping[str, Any] | None = None, *, key: str | None = None) -> bool:
        """Write one event (``name`` with or without the ``<domain>.`` prefix). ``key`` makes a
        repeated emit (a retried activity) a no-op; returns False when it was one."""
        full = name if name.startswith(self.domain + ".") else f"{self.domain}.{name}"
        if full not in self.declared:
            raise EventEmitError(f"{full!r} is not an event {self.domain} declares in event_types()",
                                 key="event_undeclared")
        body = dict(payload or {})
        try:
            text = json.dumps(body, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise EventEmitError(f"the payload of {full!r} is not JSON", key="event_payload_invalid") from None
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise EventEmitError(f"the payload of {full!r} is over {MAX_PAYLOAD_BYTES} bytes",
                                 key="event_payload_too_large")
        if any(form in text for form in self._secret_forms):
            raise EventEmitError(f"the payload of {full!r} contains a secret value of its entry",
                                 key="event_contains_secret")
        event = NewEvent(type=full, payload=body, entry_id=self.entry_id,
                         key=f"entry:{self.entry_id}:{full}:{key}" if key is not None else None)
        async with self._pool.acquire() as conn:
            written = await insert_events(conn, [event])
        self._wake()
        return written == 1


def event_access(pool: asyncpg.Pool, catalogue: EventCatalogue, wake: Callable[[], None]) -> Callable[..., Any]:
    """A handle for entries of integrations that declared events; None for the others."""

    def for_entry(entry_id: str, domain: str, secrets: Iterable[str]) -> EntryEvents | None:
        declared = [name for name, owner in catalogue.custom.items() if owner == domain]
        return EntryEvents(pool, wake, entry_id, domain, declared, secrets) if declared else None

    return for_entry
