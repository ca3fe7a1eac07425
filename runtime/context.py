"""The process-wide resources a worker, the API or a CLI command opens once."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from .crypto import KeyRing, load_keyring
from .crypto.store import SecretStore
from .db import apply_migrations, create_pool
from .settings import Settings


@dataclass
class RuntimeContext:
    settings: Settings
    pool: asyncpg.Pool
    keyring: KeyRing
    secrets: SecretStore

    @classmethod
    async def open(cls, settings: Settings, database_url: str, *, migrate: bool | None = None) -> "RuntimeContext":
        keyring = load_keyring(settings)  # before the pool: production without a key must not start at all
        pool = await create_pool(
            database_url, min_size=settings.database.pool_min_size, max_size=settings.database.pool_max_size
        )
        try:
            if settings.database.migrate_on_start if migrate is None else migrate:
                async with pool.acquire() as conn:
                    await apply_migrations(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(settings=settings, pool=pool, keyring=keyring, secrets=SecretStore(keyring))

    async def close(self) -> None:
        await self.pool.close()
