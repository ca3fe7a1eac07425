"""Mirror the discovered registry into the ``integrations`` table, and the admin setters for it.

Ownership of the row is split: discovery owns ``name``, ``version``, ``status``,
``manifest``, ``error_key`` and the timestamps; admins own ``enabled``,
``allowed_scopes`` and ``required_tier_override``, which :func:`sync_registry`
never writes. Rows are never deleted: a domain that disappears becomes
``not_found`` so its config entries survive until it comes back.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncIterator, Iterable, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict

from ..logging import get_logger
from ..tiers import Tier
from .errors import IntegrationError
from .integration import Scope
from .registry import IntegrationNotFoundError, IntegrationRegistry, LoadFailure

log = get_logger(__name__)

# Arbitrary constant shared by every syncing process ("intgsync" in ASCII).
SYNC_LOCK_KEY = 0x696E746773796E63
ALL_SCOPES: tuple[Scope, ...] = ("user", "org", "global", "group")
Status = Literal["loaded", "not_found", "failed"]
ConnOrPool = asyncpg.Connection | asyncpg.Pool

# jsonb goes in as text and is cast server-side, so this works with or without the pool's JSON codec.
_UPSERT_LOADED = """
INSERT INTO integrations (domain, name, version, status, manifest, error_key)
VALUES ($1, $2, $3, 'loaded', $4::text::jsonb, NULL)
ON CONFLICT (domain) DO UPDATE SET
    name = EXCLUDED.name, version = EXCLUDED.version, status = 'loaded',
    manifest = EXCLUDED.manifest, error_key = NULL, last_seen_at = now(), updated_at = now()
RETURNING (xmax = 0) AS inserted
"""
# A failed load keeps the last good name/version/manifest on an existing row.
_UPSERT_FAILED = """
INSERT INTO integrations (domain, name, version, status, manifest, error_key)
VALUES ($1, $2, $3, 'failed', $4::text::jsonb, $5)
ON CONFLICT (domain) DO UPDATE SET
    status = 'failed', error_key = EXCLUDED.error_key, last_seen_at = now(), updated_at = now()
RETURNING (xmax = 0) AS inserted
"""
_MARK_NOT_FOUND = """
UPDATE integrations SET status = 'not_found', error_key = NULL, updated_at = now()
WHERE status <> 'not_found' AND NOT (domain = ANY($1::text[]))
RETURNING domain
"""
_SELECT_ROWS = """
SELECT domain, name, version, status, manifest::text AS manifest, error_key, enabled,
       allowed_scopes, required_tier_override, first_seen_at, last_seen_at, updated_at
FROM integrations
"""


class InvalidScopeError(IntegrationError):
    key = "integration_scope_invalid"


@dataclass
class SyncReport:
    loaded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)  # newly marked by this sync
    inserted: list[str] = field(default_factory=list)


class IntegrationRow(BaseModel):
    """One ``integrations`` row: discovery's view plus the admin-owned policy columns."""

    model_config = ConfigDict(frozen=True)

    domain: str
    name: str
    version: str
    status: Status
    manifest: dict[str, Any]
    error_key: str | None
    enabled: bool
    allowed_scopes: tuple[Scope, ...]
    required_tier_override: Tier | None
    first_seen_at: datetime
    last_seen_at: datetime
    updated_at: datetime

    def allows_scope(self, scope: str) -> bool:
        return scope in self.allowed_scopes


async def sync_registry(conn_or_pool: ConnOrPool, registry: IntegrationRegistry) -> SyncReport:
    """Upsert every discovered domain and mark vanished ones ``not_found``, in one transaction."""
    report = SyncReport()
    async with _transaction(conn_or_pool) as conn:
        # API and workers sync at boot concurrently; one at a time keeps row locks from deadlocking.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", SYNC_LOCK_KEY)
        for item in registry:
            manifest_json = json.dumps(item.manifest.model_dump(mode="json"))
            inserted = await conn.fetchval(
                _UPSERT_LOADED, item.domain, item.manifest.name, item.manifest.version, manifest_json
            )
            report.loaded.append(item.domain)
            if inserted:
                report.inserted.append(item.domain)
        for domain, failure in sorted(_failed_domains(registry).items()):
            name, version, manifest_json = domain, "0.0.0", "{}"
            if failure.manifest is not None:
                name, version = failure.manifest.name, failure.manifest.version
                manifest_json = json.dumps(failure.manifest.model_dump(mode="json"))
            inserted = await conn.fetchval(_UPSERT_FAILED, domain, name, version, manifest_json, failure.key)
            report.failed.append(domain)
            if inserted:
                report.inserted.append(domain)
        present = report.loaded + report.failed
        report.not_found = sorted(r["domain"] for r in await conn.fetch(_MARK_NOT_FOUND, present))
    log.info(
        "integration_registry_synced",
        loaded=len(report.loaded),
        failed=report.failed,
        not_found=report.not_found,
        inserted=report.inserted,
    )
    return report


def _failed_domains(registry: IntegrationRegistry) -> dict[str, LoadFailure]:
    """One failure per domain that is on disk but not loaded; the first recorded failure wins."""
    failed: dict[str, LoadFailure] = {}
    for failure in registry.failures.values():
        if failure.domain is not None and failure.domain not in registry and failure.domain not in failed:
            failed[failure.domain] = failure
    return failed


async def integration_rows(conn_or_pool: ConnOrPool) -> dict[str, IntegrationRow]:
    """Every row, keyed by domain (including ``not_found`` and ``failed`` ones)."""
    async with _connection(conn_or_pool) as conn:
        rows = await conn.fetch(_SELECT_ROWS + " ORDER BY domain")
    return {r["domain"]: _row(r) for r in rows}


async def set_enabled(conn_or_pool: ConnOrPool, domain: str, enabled: bool) -> IntegrationRow:
    """Switch an integration off (or on) for everyone; discovery never touches this column."""
    return await _update(conn_or_pool, domain, "enabled = $2", bool(enabled))


async def set_allowed_scopes(
    conn_or_pool: ConnOrPool, domain: str, scopes: Iterable[str]
) -> IntegrationRow:
    """Which scopes may configure ``domain``. An empty set means none may (existing entries are kept)."""
    if isinstance(scopes, str):  # "user" would otherwise be read as four one-letter scopes
        raise InvalidScopeError(f"allowed scopes must be a list, got the string {scopes!r}")
    wanted = list(scopes)
    unknown = sorted({str(s) for s in wanted if s not in ALL_SCOPES})
    if unknown:
        raise InvalidScopeError(f"unknown scopes {unknown}; allowed: {', '.join(ALL_SCOPES)}")
    canonical = [s for s in ALL_SCOPES if s in wanted]
    return await _update(conn_or_pool, domain, "allowed_scopes = $2::text[]", canonical)


async def set_required_tier_override(
    conn_or_pool: ConnOrPool, domain: str, tier: Tier | str | int | None
) -> IntegrationRow:
    """Override the manifest's ``required_tier``; None goes back to the manifest's. Unknown tiers raise."""
    value = None if tier is None else int(Tier.parse(tier))
    return await _update(conn_or_pool, domain, "required_tier_override = $2::smallint", value)


async def _update(conn_or_pool: ConnOrPool, domain: str, assignment: str, value: Any) -> IntegrationRow:
    # ``assignment`` is one of the literals above, never caller input.
    query = f"UPDATE integrations SET {assignment}, updated_at = now() WHERE domain = $1 RETURNING domain"
    async with _connection(conn_or_pool) as conn:
        async with conn.transaction():
            if await conn.fetchval(query, domain, value) is None:
                raise IntegrationNotFoundError(f"no integration row for domain {domain!r}")
            row = await conn.fetchrow(_SELECT_ROWS + " WHERE domain = $1", domain)
    log.info("integration_admin_updated", domain=domain, column=assignment.partition(" ")[0])
    return _row(row)


def _row(record: asyncpg.Record) -> IntegrationRow:
    override = record["required_tier_override"]
    return IntegrationRow(
        domain=record["domain"],
        name=record["name"],
        version=record["version"],
        status=record["status"],
        manifest=json.loads(record["manifest"]),
        error_key=record["error_key"],
        enabled=record["enabled"],
        allowed_scopes=tuple(record["allowed_scopes"]),
        required_tier_override=None if override is None else Tier(override),
        first_seen_at=record["first_seen_at"],
        last_seen_at=record["last_seen_at"],
        updated_at=record["updated_at"],
    )


@asynccontextmanager
async def _connection(conn_or_pool: ConnOrPool) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with conn_or_pool.acquire() as conn:
            yield conn
    else:
        yield conn_or_pool


@asynccontextmanager
async def _transaction(conn_or_pool: ConnOrPool) -> AsyncIterator[asyncpg.Connection]:
    async with _connection(conn_or_pool) as conn:
        async with conn.transaction():
            yield conn
