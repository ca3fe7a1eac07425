"""Per-entry webhook tokens: generated once, shown once, stored as a hash, compared in constant time.

A token is 256 random bits (``secrets.token_urlsafe(32)``), so a plain SHA-256 is the right
hash: there is nothing to brute-force that a slow password hash would protect.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import SecretStr

from ..integrations.config_errors import EntryNotFoundError
from ..integrations.integration import Integration
from ..integrations.lookup import IntegrationLookup, lookup_integration
from ..logging import get_logger
from .errors import WebhookNotSupportedError

log = get_logger(__name__)
TOKEN_BYTES = 32
MAX_ENTRY_ID = 200
# Compared against when the entry has no token (or does not exist), so a miss costs what a
# hit costs and the response time does not say which it was.
_DUMMY_HASH = hashlib.sha256(b"agentrt-no-webhook-token").digest()


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def accepts_webhooks(integration: Integration) -> bool:
    return type(integration).async_handle_webhook is not Integration.async_handle_webhook


async def rotate_webhook_token(pool: asyncpg.Pool, registry: IntegrationLookup, entry_id: str) -> SecretStr:
    """Create (or replace) the entry's webhook token and return the plaintext, this once.

    The old token stops working in the same statement. Raises ``entry_not_found`` or
    ``webhook_not_supported`` (the integration has no ``async_handle_webhook``).
    """
    async with pool.acquire() as conn:
        domain = await conn.fetchval("SELECT domain FROM config_entries WHERE id = $1", entry_id)
        if domain is None:
            raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
        if not accepts_webhooks(lookup_integration(registry, domain).integration):
            raise WebhookNotSupportedError(f"integration {domain!r} does not accept webhooks")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await conn.execute(
            """INSERT INTO webhook_tokens (entry_id, token_hash) VALUES ($1, $2)
               ON CONFLICT (entry_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()""",
            entry_id, hash_token(token))
    log.info("webhook_token_rotated", entry_id=entry_id, domain=domain)
    return SecretStr(token)


async def revoke_webhook_token(pool: asyncpg.Pool, entry_id: str) -> bool:
    async with pool.acquire() as conn:
        gone = await conn.fetchval("DELETE FROM webhook_tokens WHERE entry_id = $1 RETURNING 1", entry_id)
    log.info("webhook_token_revoked", entry_id=entry_id, existed=bool(gone))
    return bool(gone)


@dataclass(frozen=True)
class WebhookTarget:
    """The entry a valid token opened: what the receiver needs next, and nothing secret."""

    entry_id: str
    domain: str
    disabled: bool


async def verify_webhook_token(db: Any, entry_id: str, token: str | None) -> WebhookTarget | None:
    """The entry if ``token`` is its current webhook token, else None.

    One query whatever the outcome, and a constant-time comparison against the stored hash
    or a dummy, so neither the answer nor its timing tells whether the entry exists.
    """
    row = None
    if len(entry_id) <= MAX_ENTRY_ID and "\x00" not in entry_id:  # Postgres text cannot even be asked about NUL
        row = await db.fetchrow(
            """SELECT e.id, e.domain, e.disabled, t.token_hash FROM config_entries e
               LEFT JOIN webhook_tokens t ON t.entry_id = e.id WHERE e.id = $1""", entry_id)
    stored = bytes(row["token_hash"]) if row is not None and row["token_hash"] is not None else _DUMMY_HASH
    presented = hash_token(token or "")
    if not hmac.compare_digest(presented, stored) or stored is _DUMMY_HASH or not token:
        return None
    return WebhookTarget(entry_id=row["id"], domain=row["domain"], disabled=row["disabled"])
