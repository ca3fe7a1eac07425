"""The entity store: one transaction per sync, bulk statements only, diffs from content hashes.

A sync (:meth:`EntityWriter.apply`) stages the whole pull with COPY into a temporary
table, then, in the same transaction:

1. upserts only the rows whose content hash differs from the stored one (new or changed)
   with ``INSERT ... ON CONFLICT DO UPDATE``, and writes one ``entity.created`` /
   ``entity.updated`` event per such row;
2. with ``full=True``, deletes the entry's rows missing from the pull (except those the
   one-time seed or the integration's own tools wrote: the integration owns them) and writes
   one ``entity.deleted`` event each.

:meth:`EntityWriter.delete` removes named rows whatever wrote them, with the same events.

Unchanged rows are not touched at all, not even ``last_seen``: rewriting every row on
every pull would make the cost of a sync (WAL, dead tuples, vacuum) grow with the number
of entities instead of the number of changes. A full pull records
``entity_entry_state.last_full_pull_at`` instead (one row), and reads report
``last_seen`` as the later of the row's own write and that moment, which is exact
because a full pull deletes what it did not see.

Writers of one entry are serialised by a transaction-scoped advisory lock, and the entry
row is share-locked so it cannot be deleted half-way through a sync.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Collection, Iterable, Literal

import asyncpg
from pydantic import BaseModel, Field

from ..events.catalogue import SyncCompleted, SyncFailed
from ..events.outbox import NewEvent, insert_events
from ..integrations.config_errors import EntryNotFoundError
from ..integrations.entity import Entity
from ..logging import get_logger
from .prepare import PreparedEntity, prepare_entities

log = get_logger(__name__)

RunKind = Literal["pull", "seed", "webhook"]
Source = Literal["pull", "push", "seed", "local"]
RunStatus = Literal["ok", "skipped", "failed"]
STAGING_COLUMNS = ("entity_id", "type", "state", "attributes", "actions", "content_hash")

_STAGE = """
CREATE TEMP TABLE entity_pull (
    entity_id text NOT NULL, type text NOT NULL, state text, attributes text NOT NULL,
    actions text[] NOT NULL, content_hash bytea NOT NULL
) ON COMMIT DROP
"""

# One statement: the diff, the upsert of new/changed rows and their events. Data-modifying
# CTEs all see the snapshot taken before the statement, so `changed` is the pre-sync view.
_UPSERT = """
WITH changed AS (
    SELECT p.entity_id, p.type, p.state, p.attributes::jsonb AS attributes, p.actions, p.content_hash,
           e.entity_id IS NULL AS is_new, e.state AS previous_state,
           array_remove(ARRAY[
               CASE WHEN e.type IS DISTINCT FROM p.type THEN 'type' END,
               CASE WHEN e.state IS DISTINCT FROM p.state THEN 'state' END,
               CASE WHEN e.attributes IS DISTINCT FROM p.attributes::jsonb THEN 'attributes' END,
               CASE WHEN e.actions IS DISTINCT FROM p.actions THEN 'actions' END], NULL) AS fields
    FROM entity_pull p
    LEFT JOIN entities e ON e.entry_id = $1 AND e.entity_id = p.entity_id
    WHERE e.content_hash IS DISTINCT FROM p.content_hash
), written AS (
    INSERT INTO entities AS e (entry_id, entity_id, type, state, attributes, actions, content_hash, source)
    SELECT $1, entity_id, type, state, attributes, actions, content_hash, $2 FROM changed
    ON CONFLICT (entry_id, entity_id) DO UPDATE SET
        type = EXCLUDED.type, state = EXCLUDED.state, attributes = EXCLUDED.attributes,
        actions = EXCLUDED.actions, content_hash = EXCLUDED.content_hash, last_seen = now(), updated_at = now()
    RETURNING 1
), emitted AS (
    INSERT INTO events (type, entry_id, payload)
    SELECT CASE WHEN is_new THEN 'entity.created' ELSE 'entity.updated' END, $1,
           CASE WHEN is_new THEN jsonb_build_object('entity_id', entity_id, 'type', type, 'state', state)
                ELSE jsonb_build_object('entity_id', entity_id, 'type', type, 'state', state,
                                        'previous_state', previous_state, 'changed', to_jsonb(fields)) END
    FROM changed ORDER BY entity_id
    RETURNING 1
)
SELECT entity_id, is_new FROM changed ORDER BY entity_id
"""


def _delete_with_events(condition: str) -> str:
    """Delete the entry's rows matching ``condition`` and write one ``entity.deleted`` event each."""
    return f"""
WITH gone AS (
    DELETE FROM entities e WHERE e.entry_id = $1 AND {condition}
    RETURNING e.entity_id, e.type, e.state
), emitted AS (
    INSERT INTO events (type, entry_id, payload)
    SELECT 'entity.deleted', $1, jsonb_build_object('entity_id', entity_id, 'type', type, 'previous_state', state)
    FROM gone ORDER BY entity_id
    RETURNING 1
)
SELECT entity_id FROM gone ORDER BY entity_id
"""


_DELETE_MISSING = _delete_with_events(
    "e.source NOT IN ('seed', 'local') AND NOT EXISTS (SELECT 1 FROM entity_pull p WHERE p.entity_id = e.entity_id)")
_DELETE_IDS = _delete_with_events("e.entity_id = ANY($2::text[])")

_SELECT = """
SELECT e.entity_id, e.type, e.state, e.attributes, e.actions, e.source, encode(e.content_hash, 'hex') AS content_hash,
       e.first_seen, greatest(e.last_seen, s.last_full_pull_at) AS last_seen, e.updated_at
FROM entities e LEFT JOIN entity_entry_state s ON s.entry_id = e.entry_id
"""


class EntityDiff(BaseModel):
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


class StoredEntity(Entity):
    source: Source
    content_hash: str
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime


class SyncRun(BaseModel):
    id: int
    entry_id: str
    workflow_id: str | None
    kind: RunKind
    status: RunStatus
    reason: str | None
    created: int
    updated: int
    deleted: int
    unchanged: int
    created_at: datetime


def _stored(row: asyncpg.Record) -> StoredEntity:
    return StoredEntity(**{k: row[k] for k in (
        "entity_id", "type", "state", "attributes", "source", "content_hash", "first_seen", "last_seen",
        "updated_at")},
        actions=list(row["actions"]))


class EntityWriter:
    """One entry's write transaction: the connection, the entry id, and what may be done in it."""

    def __init__(self, conn: asyncpg.Connection, entry_id: str) -> None:
        self.conn = conn
        self.entry_id = entry_id

    async def apply(self, entities: list[PreparedEntity], *, full: bool, source: Source = "pull") -> EntityDiff:
        """Write a validated pull. ``full``: delete the entry's entities it does not contain
        (seeded and local ones excepted). ``source`` is recorded on rows this call creates."""
        conn = self.conn
        await conn.execute(_STAGE)
        if entities:
            await conn.copy_records_to_table("entity_pull", records=[e.record() for e in entities],
                                             columns=STAGING_COLUMNS)
            # Fresh temp tables have no statistics; without them a 100k-row pull gets nested loops.
            await conn.execute("ANALYZE entity_pull")
        created: list[str] = []
        updated: list[str] = []
        for row in await conn.fetch(_UPSERT, self.entry_id, source):
            (created if row["is_new"] else updated).append(row["entity_id"])
        deleted: list[str] = []
        if full:
            deleted = [r["entity_id"] for r in await conn.fetch(_DELETE_MISSING, self.entry_id)]
            await conn.execute(
                """INSERT INTO entity_entry_state (entry_id, last_full_pull_at) VALUES ($1, now())
                   ON CONFLICT (entry_id) DO UPDATE SET last_full_pull_at = now()""", self.entry_id)
        await conn.execute("DROP TABLE entity_pull")  # a second apply in this transaction stages afresh
        return EntityDiff(created=created, updated=updated, deleted=deleted,
                          unchanged=len(entities) - len(created) - len(updated))

    async def delete(self, entity_ids: Collection[str]) -> list[str]:
        """Delete the named entities (an id not stored is ignored); returns the ids deleted."""
        rows = await self.conn.fetch(_DELETE_IDS, self.entry_id, list(entity_ids))
        return [r["entity_id"] for r in rows]

    async def seeded(self) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT seeded_at IS NOT NULL FROM entity_entry_state WHERE entry_id = $1", self.entry_id))

    async def mark_seeded(self) -> None:
        await self.conn.execute(
            """INSERT INTO entity_entry_state (entry_id, seeded_at) VALUES ($1, now())
               ON CONFLICT (entry_id) DO UPDATE SET seeded_at = coalesce(entity_entry_state.seeded_at, now())""",
            self.entry_id)

    async def record_run(self, kind: RunKind, status: RunStatus, *, diff: EntityDiff | None = None,
                         reason: str | None = None, workflow_id: str | None = None) -> int:
        return await _insert_run(self.conn, self.entry_id, kind, status, diff, reason, workflow_id)


async def _insert_run(conn: asyncpg.Connection, entry_id: str, kind: RunKind, status: RunStatus,
                      diff: EntityDiff | None, reason: str | None, workflow_id: str | None) -> int:
    """Record a run and, for a finished or failed one, its sync_completed / sync_failed event (same transaction)."""
    diff = diff or EntityDiff()
    run_id = int(await conn.fetchval(
        """INSERT INTO entity_sync_runs (entry_id, workflow_id, kind, status, reason, created, updated, deleted,
               unchanged) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
        entry_id, workflow_id, kind, status, reason, len(diff.created), len(diff.updated), len(diff.deleted),
        diff.unchanged))
    model: SyncCompleted | SyncFailed | None = None
    if status == "ok":
        model = SyncCompleted(entry_id=entry_id, kind=kind, created=len(diff.created), updated=len(diff.updated),
                              deleted=len(diff.deleted), unchanged=diff.unchanged)
    elif status == "failed":
        model = SyncFailed(entry_id=entry_id, kind=kind, reason=reason)
    if model is not None:
        await insert_events(conn, [NewEvent.of(model, key=f"entity-sync-run:{run_id}")])
    return run_id


class EntityStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def writing(self, entry_id: str) -> AsyncIterator[EntityWriter]:
        """A transaction that owns the entry's entities until it ends; raising inside rolls it all back."""
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT 1 FROM config_entries WHERE id = $1 FOR KEY SHARE", entry_id) is None:
                raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('entities|' || $1, 0))", entry_id)
            yield EntityWriter(conn, entry_id)

    async def apply(
        self,
        entry_id: str,
        entities: Iterable[Any],
        *,
        full: bool = False,
        source: Source = "pull",
        allowed_types: Collection[str] | None = None,
        forbidden_values: Iterable[str] = (),
    ) -> EntityDiff:
        """Validate ``entities`` (all of them, before writing) and write them in one transaction."""
        prepared = prepare_entities(entities, allowed_types=allowed_types, forbidden_values=forbidden_values)
        async with self.writing(entry_id) as writer:
            diff = await writer.apply(prepared, full=full, source=source)
        log.info("entities_applied", entry_id=entry_id, full=full, pulled=len(prepared), created=len(diff.created),
                 updated=len(diff.updated), deleted=len(diff.deleted), unchanged=diff.unchanged)
        return diff

    async def delete(self, entry_id: str, entity_ids: Collection[str]) -> list[str]:
        async with self.writing(entry_id) as writer:
            deleted = await writer.delete(entity_ids)
        log.info("entities_deleted", entry_id=entry_id, requested=len(entity_ids), deleted=len(deleted))
        return deleted

    # -- reads ----------------------------------------------------------------------
    async def get(self, entry_id: str, entity_id: str) -> StoredEntity | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_SELECT + " WHERE e.entry_id = $1 AND e.entity_id = $2", entry_id, entity_id)
        return _stored(row) if row else None

    async def list_entities(self, entry_id: str, *, type: str | None = None, with_actions: bool = False,
                   limit: int = 1000) -> list[StoredEntity]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                _SELECT + """ WHERE e.entry_id = $1 AND ($2::text IS NULL OR e.type = $2)
                              AND (NOT $3 OR cardinality(e.actions) > 0) ORDER BY e.entity_id LIMIT $4""",
                entry_id, type, with_actions, limit)
        return [_stored(r) for r in rows]

    async def count(self, entry_id: str) -> int:
        async with self._pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM entities WHERE entry_id = $1", entry_id))

    async def seeded(self, entry_id: str) -> bool:
        async with self._pool.acquire() as conn:
            return bool(await conn.fetchval(
                "SELECT seeded_at IS NOT NULL FROM entity_entry_state WHERE entry_id = $1", entry_id))

    # -- runs -----------------------------------------------------------------------
    async def record_run(self, entry_id: str, kind: RunKind, status: RunStatus, *, reason: str | None = None,
                         workflow_id: str | None = None, diff: EntityDiff | None = None) -> int | None:
        """Record a run outside a write (skipped, failed). None when the entry is gone meanwhile."""
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    return await _insert_run(conn, entry_id, kind, status, diff, reason, workflow_id)
            except asyncpg.ForeignKeyViolationError:
                return None

    async def runs(self, entry_id: str, limit: int = 20) -> list[SyncRun]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM entity_sync_runs WHERE entry_id = $1 ORDER BY id DESC LIMIT $2", entry_id, limit)
        return [SyncRun(**dict(r)) for r in rows]
