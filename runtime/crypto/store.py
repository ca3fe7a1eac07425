"""Secret fields at rest in ``secret_values``, one envelope per (owner, field).

Decryption happens here and only here; callers are activities and the entries
service. Rotation re-wraps DEKs under the active KEK in batches: resumable (the
rows themselves record progress) and idempotent (rows already under the active
KEK are skipped), safe beside concurrent writers (rows are locked per batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import asyncpg

from ..logging import get_logger
from .envelope import Envelope, decrypt, encrypt, parse_envelope, rewrap
from .keyring import KeyRing

log = get_logger(__name__)

_COLUMNS = "alg, kek_id, wrapped_dek, nonce, ciphertext"


def associated_data(owner_kind: str, owner_id: str, field: str) -> str:
    return f"{owner_kind}:{owner_id}:{field}"


def _envelope(row: Mapping[str, object]) -> Envelope:
    return parse_envelope({k: row[k] for k in ("alg", "kek_id", "wrapped_dek", "nonce", "ciphertext")})


@dataclass(frozen=True)
class RotationReport:
    active_kek: str
    rewrapped: int
    batches: int
    remaining: int


class SecretStore:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    async def put(
        self, conn: asyncpg.Connection, owner_kind: str, owner_id: str, values: Mapping[str, str]
    ) -> None:
        """Encrypt and upsert each field; fields not named are left as they are."""
        rows = []
        for field, plaintext in values.items():
            env = encrypt(self.ring, plaintext, associated_data(owner_kind, owner_id, field))
            rows.append((owner_kind, owner_id, field, env.alg, env.kek_id, env.wrapped_dek, env.nonce, env.ciphertext))
        if not rows:
            return
        await conn.executemany(
            f"""
            INSERT INTO secret_values (owner_kind, owner_id, field, {_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (owner_kind, owner_id, field) DO UPDATE SET
                alg = EXCLUDED.alg, kek_id = EXCLUDED.kek_id, wrapped_dek = EXCLUDED.wrapped_dek,
                nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()
            """,
            rows,
        )

    async def fields(self, conn: asyncpg.Connection, owner_kind: str, owner_id: str) -> list[str]:
        rows = await conn.fetch(
            "SELECT field FROM secret_values WHERE owner_kind = $1 AND owner_id = $2 ORDER BY field",
            owner_kind,
            owner_id,
        )
        return [r["field"] for r in rows]

    async def reveal(self, conn: asyncpg.Connection, owner_kind: str, owner_id: str) -> dict[str, str]:
        """Decrypt every field of one owner. Only activity code may call this."""
        rows = await conn.fetch(
            f"SELECT field, {_COLUMNS} FROM secret_values WHERE owner_kind = $1 AND owner_id = $2",
            owner_kind,
            owner_id,
        )
        return {
            r["field"]: decrypt(self.ring, _envelope(r), associated_data(owner_kind, owner_id, r["field"]))
            for r in rows
        }

    async def delete(
        self, conn: asyncpg.Connection, owner_kind: str, owner_id: str, fields: Iterable[str] | None = None
    ) -> int:
        if fields is None:
            status = await conn.execute(
                "DELETE FROM secret_values WHERE owner_kind = $1 AND owner_id = $2", owner_kind, owner_id
            )
        else:
            status = await conn.execute(
                "DELETE FROM secret_values WHERE owner_kind = $1 AND owner_id = $2 AND field = ANY($3::text[])",
                owner_kind,
                owner_id,
                list(fields),
            )
        return int(status.split()[-1])

    async def rotate(
        self, pool: asyncpg.Pool, *, batch_size: int = 500, max_batches: int | None = None
    ) -> RotationReport:
        """Re-wrap every DEK not under the active KEK. ``max_batches`` bounds one call (resume by calling again)."""
        active_id, _ = self.ring.active()
        rewrapped = batches = 0
        while max_batches is None or batches < max_batches:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    f"""
                    SELECT id, owner_kind, owner_id, field, {_COLUMNS} FROM secret_values
                    WHERE kek_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                    """,
                    active_id,
                    batch_size,
                )
                if not rows:
                    break
                updates = []
                for r in rows:
                    env = rewrap(self.ring, _envelope(r), associated_data(r["owner_kind"], r["owner_id"], r["field"]))
                    updates.append((r["id"], env.kek_id, env.wrapped_dek))
                await conn.executemany(
                    "UPDATE secret_values SET kek_id = $2, wrapped_dek = $3, updated_at = now() WHERE id = $1",
                    updates,
                )
            rewrapped += len(rows)
            batches += 1
            log.info("keys_rotate_batch", batch=batches, rewrapped=len(rows), active_kek=active_id)
        async with pool.acquire() as conn:
            remaining = await conn.fetchval("SELECT count(*) FROM secret_values WHERE kek_id <> $1", active_id)
        return RotationReport(active_kek=active_id, rewrapped=rewrapped, batches=batches, remaining=remaining)
