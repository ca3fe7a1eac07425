"""Session ownership from the ``sessions`` table, and Temporal errors turned into API errors.

A session belongs to the principal that created it (``owner_sub``). Every session
endpoint looks the row up first; a session of another principal is answered exactly
like one that does not exist, before Temporal is asked anything.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from typing import AsyncIterator, Literal

import asyncpg
from pydantic import BaseModel
from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from ..principal import Principal
from .errors import STATUS_BY_KEY, ApiError


class SessionRecord(BaseModel):
    session_id: str
    model_profile: str
    status: Literal["active", "ended"]
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None


_COLUMNS = "session_id, model_profile, status, created_at, updated_at, ended_at"


async def owned_session(pool: asyncpg.Pool, session_id: str, principal: Principal) -> SessionRecord:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT owner_sub, {_COLUMNS} FROM sessions WHERE session_id = $1", session_id)
    if row is None or row["owner_sub"] != principal.sub:
        raise ApiError("session_not_found", f"session {session_id!r} does not exist")
    return SessionRecord(**{k: row[k] for k in SessionRecord.model_fields})


async def list_owned(pool: asyncpg.Pool, principal: Principal, *, limit: int, offset: int) -> list[SessionRecord]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM sessions WHERE owner_sub = $1 ORDER BY created_at DESC, session_id"
            " LIMIT $2 OFFSET $3",
            principal.sub, limit, offset,
        )
    return [SessionRecord(**dict(r)) for r in rows]


async def forget(pool: asyncpg.Pool, session_id: str) -> None:
    """Drop the row of a session whose workflow never started."""
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM sessions WHERE session_id = $1", session_id)


@asynccontextmanager
async def temporal_errors(session_id: str) -> AsyncIterator[None]:
    """Translate what Temporal raises into keyed API errors.

    Update validators in the session workflow reject with ``"<key>: <message>"``
    (``session_ended``, ``message_empty``, ``approval_unknown`` ...); the key is kept.
    """
    try:
        yield
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        text = cause.message if isinstance(cause, ApplicationError) else str(cause)
        key, sep, message = text.partition(": ")
        if not sep or key not in STATUS_BY_KEY:
            key, message = "update_rejected", "the session rejected the request"
        raise ApiError(key, message, status=STATUS_BY_KEY.get(key, 409)) from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError):
        raise ApiError("session_query_failed", "the session could not answer", status=409) from None
    except RPCTimeoutOrCancelledError:
        raise ApiError("session_timeout", "the session did not answer in time", status=504) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            # The workflow finished (ended) or was never started: either way nothing runs it.
            raise ApiError("session_ended", f"session {session_id!r} is not running") from None
        raise ApiError("temporal_unavailable", f"Temporal answered {exc.status.name if exc.status else 'an error'}")\
            from None
