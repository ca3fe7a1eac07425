from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

if TYPE_CHECKING:
    from runtime.context import RuntimeContext


class DatabasePing(BaseModel):
    server_version: str
    database: str
    migrations_applied: int


class SmokeActivities:
    def __init__(self, ctx: "RuntimeContext") -> None:
        self.ctx = ctx

    @activity.defn(name="ping_database")
    async def ping_database(self) -> DatabasePing:
        async with self.ctx.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT current_setting('server_version') AS v, current_database() AS db,"
                " (SELECT count(*) FROM schema_migrations) AS n"
            )
        return DatabasePing(server_version=row["v"], database=row["db"], migrations_applied=row["n"])
