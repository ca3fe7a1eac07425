"""Run one read-only statement: a READ ONLY transaction that is always rolled back, a statement timeout,
a row cap and a size budget. Errors become :class:`QueryFailed` with a stable key."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from typing import Any, Sequence

import asyncpg
from pydantic import BaseModel
from pydantic_ai.exceptions import ToolFailed
from pydantic_core import to_jsonable_python

from runtime.logging import get_logger

from .config import PostgresQueryConfig
from .sql_check import SqlRefused, check_sql

log = get_logger(__name__)

MAX_CELL_CHARS = 1000
# Below the session's 16,000-character tool result cap, so rows are cut here, with a marker, first.
MAX_RESULT_CHARS = 12_000
CONNECT_TIMEOUT = 10.0


class QueryFailed(ToolFailed):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class QueryResult(BaseModel):
    """Rows as lists in ``columns`` order. ``truncated`` (with ``note``) when rows were left out."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = False
    note: str | None = None


def _cell(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = "base64:" + base64.b64encode(bytes(value)[:MAX_CELL_CHARS]).decode()
    value = to_jsonable_python(value, fallback=str)
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[:MAX_CELL_CHARS] + f"[… {len(value) - MAX_CELL_CHARS} characters omitted]"
    return value


def _failure(exc: BaseException, timeout_ms: int) -> QueryFailed:
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return QueryFailed("read_only_violation", f"the database refused to write: {exc}. This tool only reads.")
    if isinstance(exc, asyncpg.QueryCanceledError):
        return QueryFailed("statement_timeout", f"the statement ran longer than {timeout_ms} ms and was cancelled")
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return QueryFailed("permission_denied", str(exc))
    if isinstance(exc, asyncpg.PostgresSyntaxError) and "multiple commands" in str(exc):
        return QueryFailed("multiple_statements", "send one statement at a time")
    if isinstance(exc, asyncpg.PostgresError):
        return QueryFailed("sql_error", f"{exc.sqlstate}: {exc}")
    if isinstance(exc, asyncpg.InvalidPasswordError) or isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return QueryFailed("auth_failed", "the database rejected the credentials")
    return QueryFailed("connection_failed", f"could not reach the database ({type(exc).__name__})")


class Database:
    """A small pool per entry setup, opened on first use (a database that is down fails the call, not the setup)."""

    def __init__(self, config: PostgresQueryConfig) -> None:
        self.config = config
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _connection_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.config.database_url, password=self.config.password_value, min_size=0, max_size=2,
                    timeout=CONNECT_TIMEOUT,
                    # Client-side backstop for the server-side statement timeout.
                    command_timeout=self.config.statement_timeout_ms / 1000 + 5,
                    # Read-only is the session default too, not only the transaction's mode.
                    server_settings={"default_transaction_read_only": "on", "application_name": "agentrt-postgres_query"},
                )
            return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def query(self, sql: str, max_rows: int | None = None, args: Sequence[Any] = ()) -> QueryResult:
        try:
            statement = check_sql(sql)
        except SqlRefused as exc:
            raise QueryFailed(exc.key, str(exc).split(": ", 1)[1]) from None
        limit = min(max_rows or self.config.max_rows, self.config.max_rows)
        started = time.monotonic()
        try:
            pool = await self._connection_pool()
            async with pool.acquire() as conn:
                result = await self._run(conn, statement, limit, args)
        except QueryFailed:
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError) as exc:
            failure = _failure(exc, self.config.statement_timeout_ms)
            log.info("postgres_query_failed", key=failure.key, sqlstate=getattr(exc, "sqlstate", None))
            raise failure from None
        log.info("postgres_query_done", rows=result.row_count, truncated=result.truncated,
                 duration_ms=round((time.monotonic() - started) * 1000))
        return result

    async def _run(self, conn: asyncpg.Connection, statement: str, limit: int, args: Sequence[Any]) -> QueryResult:
        transaction = conn.transaction(readonly=True, isolation="repeatable_read")
        await transaction.start()
        try:
            await conn.execute(f"SET LOCAL statement_timeout = {int(self.config.statement_timeout_ms)}")
            # A prepared statement: Postgres itself refuses more than one command here.
            prepared = await conn.prepare(statement)
            columns = [a.name for a in prepared.get_attributes()]
            # Run even a statement without result columns, so a write shows up as the error it is.
            if columns:
                fetched = await (await prepared.cursor(*args)).fetch(limit + 1)
            else:
                fetched = await prepared.fetch(*args)
        except BaseException:
            with contextlib.suppress(Exception):  # keep the statement's error, not the rollback's
                await transaction.rollback()
            raise
        await transaction.rollback()  # nothing a reading statement did is ever committed
        rows: list[list[Any]] = []
        size = 0
        for record in fetched[:limit]:
            row = [_cell(v) for v in record.values()]
            size += len(json.dumps(row, default=str))
            if size > MAX_RESULT_CHARS:
                break
            rows.append(row)
        truncated = len(fetched) > len(rows)
        note = None
        if truncated:
            why = f"the first {len(rows)} rows" + (" (size limit)" if len(rows) < limit else f" (row cap {limit})")
            note = f"[truncated: only {why} are shown; add a LIMIT or select fewer columns]"
        return QueryResult(columns=columns, rows=rows, row_count=len(rows), truncated=truncated, note=note)
