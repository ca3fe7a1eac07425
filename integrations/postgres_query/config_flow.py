"""The config flow of ``postgres_query``: one form from :class:`PostgresQueryConfig`, checked by connecting."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from runtime.integrations import FlowResult, ModelConfigFlow
from runtime.logging import get_logger

from .config import PostgresQueryConfig

log = get_logger(__name__)


async def probe(config: PostgresQueryConfig) -> str | None:
    """Connect once and run ``SELECT 1``: an error key, or None when the database answers."""
    try:
        conn = await asyncpg.connect(config.database_url, password=config.password_value, timeout=10)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        return "auth_failed"
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.info("postgres_query_probe_failed", error_type=type(exc).__name__)
        return "cannot_connect"
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()
    return None


class PostgresQueryConfigFlow(ModelConfigFlow):
    domain = "postgres_query"
    MODEL = PostgresQueryConfig
    TITLE = "PostgreSQL"

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        # Any database the worker can reach, with any credentials the user knows, is a lot of
        # reach from inside the operator's network: only an administrator connects one.
        if self.context.scope == "user":
            return self.async_abort(reason="admin_scope_required")
        return await super().async_step_user(user_input)

    def title_for(self, data: dict[str, Any]) -> str:
        parts = urlsplit(str(data.get("database_url") or ""))
        return f"{parts.hostname or 'local'}{parts.path or ''}" or self.TITLE

    async def validate(self, data: dict[str, Any]) -> str | None:
        return await probe(PostgresQueryConfig.model_validate(data))
