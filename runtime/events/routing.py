"""Routing: which subscribers get an event, written as delivery rows in the event's own ordering stream.

Rules (docs/events.md):

* a **session event** reaches the plugin configurations whose owner the session's principal
  can see (the visibility rule of config entries), and the config entries of subscribing
  integrations that the session may use (``EntriesService.list_for_principal``: visible,
  enabled, integration enabled, scope allowed, single-instance precedence);
* an **entry event** (entities, syncs, schedules) reaches global plugin configurations and
  those with the entry's own owner, and the entry itself when its integration subscribes;
* any other event reaches global plugin configurations.

Subscriber ids are ``plugin:<config id>`` and ``entry:<entry id>``; streams
``session:<id>``, ``entry:<id>`` or ``global``. The router claims unrouted events with
``FOR UPDATE SKIP LOCKED`` and writes their deliveries and ``routed_at`` in one
transaction, so a router that dies half-way leaves the batch unrouted, never half-routed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import asyncpg

from ..integrations.entries import EntriesService
from ..integrations.entry_model import ConfigEntry
from ..integrations.registry import IntegrationRegistry
from ..integrations.scopes import EntryOwner
from ..logging import get_logger
from ..plugins.configs import PluginConfig, PluginConfigStore
from ..plugins.registry import PluginRegistry
from ..principal import Principal

log = get_logger(__name__)

Pair = tuple[str, str]  # (subscriber, stream)

_CLAIM = """
SELECT id, type, session_id, entry_id FROM events WHERE routed_at IS NULL
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
_INSERT_DELIVERIES = """
INSERT INTO event_deliveries (event_id, subscriber, stream)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING
"""
_MARK_ROUTED = """
UPDATE events SET routed_at = now(), delivered_at = CASE WHEN id = ANY($2::bigint[]) THEN now() ELSE delivered_at END
WHERE id = ANY($1::bigint[])
"""
_STALE = """
WITH stale AS (
    SELECT DISTINCT subscriber, stream FROM event_deliveries
    WHERE status = 'pending' AND woken_at < now() - make_interval(secs => $1) LIMIT $2
), bumped AS (
    UPDATE event_deliveries d SET woken_at = now() FROM stale s
    WHERE d.subscriber = s.subscriber AND d.stream = s.stream AND d.status = 'pending'
)
SELECT subscriber, stream FROM stale
"""


def plugin_subscriber(config_id: str) -> str:
    return f"plugin:{config_id}"


def entry_subscriber(entry_id: str) -> str:
    return f"entry:{entry_id}"


def stream_of(session_id: str | None, entry_id: str | None) -> str:
    if session_id:
        return f"session:{session_id}"
    return f"entry:{entry_id}" if entry_id else "global"


@dataclass(frozen=True)
class _EntryInfo:
    owner: EntryOwner
    domain: str
    disabled: bool


class EventRouter:
    def __init__(self, pool: asyncpg.Pool, registry: IntegrationRegistry, plugins: PluginRegistry,
                 entries: EntriesService, configs: PluginConfigStore) -> None:
        self._pool = pool
        self._registry = registry
        self._plugins = plugins
        self._entries = entries
        self._configs = configs

    def _integration_events(self) -> dict[str, set[str]]:
        return {item.domain: set(item.manifest.events) for item in self._registry if item.manifest.events}

    async def route_batch(self, limit: int) -> tuple[int, int, set[Pair]]:
        """Route up to ``limit`` unrouted events: (events routed, deliveries written, pairs to wake)."""
        configs = [c for c in await self._configs.list(enabled_only=True) if c.plugin_id in self._plugins]
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLAIM, limit)
            if not rows:
                return 0, 0, set()
            routes = await self._plan(conn, rows, configs)
            if routes:
                await conn.execute(_INSERT_DELIVERIES, [r[0] for r in routes], [r[1] for r in routes],
                                   [r[2] for r in routes])
            ids = [r["id"] for r in rows]
            unrouted = sorted(set(ids) - {r[0] for r in routes})
            await conn.execute(_MARK_ROUTED, ids, unrouted)
        log.info("events_routed", events=len(rows), deliveries=len(routes), without_subscribers=len(unrouted))
        return len(rows), len(routes), {(r[1], r[2]) for r in routes}

    async def stale_pairs(self, stale_seconds: float, limit: int = 200) -> set[Pair]:
        """Pairs with deliveries pending since their last wake-up long ago; marked woken now."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_STALE, stale_seconds, limit)
        return {(r["subscriber"], r["stream"]) for r in rows}

    async def _plan(self, conn: asyncpg.Connection, rows: Iterable[asyncpg.Record],
                    configs: list[PluginConfig]) -> list[tuple[int, str, str]]:
        rows = list(rows)
        by_type = self._integration_events()
        principals = await self._principals(conn, {r["session_id"] for r in rows if r["session_id"]})
        entry_ids = {r["entry_id"] for r in rows if r["entry_id"] and not r["session_id"]}
        entry_infos = await self._entry_infos(conn, entry_ids)
        used: dict[Principal, list[ConfigEntry]] = {}
        routes: list[tuple[int, str, str]] = []
        for row in rows:
            kind, sid, eid = row["type"], row["session_id"], row["entry_id"]
            stream = stream_of(sid, eid)
            plugin_configs = [c for c in configs if self._plugins.get(c.plugin_id).subscribes_to(kind)]
            subscribers: list[str] = []
            if sid:
                principal = principals.get(sid)
                if principal is None:  # a session whose row is gone (never started): nobody to tell
                    continue
                subscribers += [plugin_subscriber(c.id) for c in plugin_configs if c.sees_session_of(principal)]
                if any(kind in events for events in by_type.values()):
                    if principal not in used:
                        used[principal] = await self._entries.list_for_principal(principal)
                    subscribers += [entry_subscriber(e.id) for e in used[principal]
                                    if kind in by_type.get(e.domain, ())]
            elif eid:
                info = entry_infos.get(eid)
                subscribers += [plugin_subscriber(c.id) for c in plugin_configs
                                if c.sees_entry(info.owner if info else None)]
                if info and not info.disabled and kind in by_type.get(info.domain, ()):
                    subscribers.append(entry_subscriber(eid))
            else:
                subscribers += [plugin_subscriber(c.id) for c in plugin_configs if c.scope == "global"]
            routes += [(row["id"], s, stream) for s in subscribers]
        return routes

    @staticmethod
    async def _principals(conn: asyncpg.Connection, session_ids: set[str]) -> dict[str, Principal]:
        if not session_ids:
            return {}
        rows = await conn.fetch("SELECT session_id, principal FROM sessions WHERE session_id = ANY($1::text[])",
                                list(session_ids))
        return {r["session_id"]: Principal.model_validate(r["principal"]) for r in rows}

    @staticmethod
    async def _entry_infos(conn: asyncpg.Connection, entry_ids: set[str]) -> dict[str, _EntryInfo]:
        if not entry_ids:
            return {}
        rows = await conn.fetch(
            "SELECT id, domain, scope, owner_sub, org_id, group_id, disabled FROM config_entries"
            " WHERE id = ANY($1::text[])", list(entry_ids))
        return {r["id"]: _EntryInfo(EntryOwner(r["scope"], r["owner_sub"], r["org_id"], r["group_id"]), r["domain"],
                                    r["disabled"]) for r in rows}

