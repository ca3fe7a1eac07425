"""The session transcript in Postgres: pydantic-ai messages, one row each, written idempotently.

Postgres is the truth. A worker keeps the messages it has already read and validated per
session (bounded, least recently used first out), so a model step reads only the rows added
since, together with the session's row count in the same statement. If the count does not
add up (a row committed late, below the last sequence number read), the transcript is read
again in full: what :meth:`TranscriptStore.history` returns is always exactly what a full
read would return.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Sequence

import asyncpg
from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelRequest, ModelResponse, ToolCallPart

from ..events.outbox import NewEvent, insert_events, insert_params, insert_sql
from ..principal import Principal
from .types import TranscriptLine


def _without_nul(value: Any) -> Any:
    """Postgres text and jsonb cannot hold U+0000; users and models can send it. Replace it visibly."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _dump(message: ModelMessage) -> dict[str, Any]:
    return _without_nul(ModelMessagesTypeAdapter.dump_python([message], mode="json")[0])


def _load(raw: Sequence[dict[str, Any]]) -> list[ModelMessage]:
    return list(ModelMessagesTypeAdapter.validate_python(list(raw)))


def merge_requests(messages: list[ModelMessage]) -> list[ModelMessage]:
    """Join consecutive requests (tool returns written by parallel activities) into one, in order."""
    merged: list[ModelMessage] = []
    for message in messages:
        if merged and isinstance(message, ModelRequest) and isinstance(merged[-1], ModelRequest):
            previous = merged[-1]
            merged[-1] = ModelRequest(parts=[*previous.parts, *message.parts], instructions=previous.instructions)
        else:
            merged.append(message)
    return merged


def _atomic(conn: asyncpg.Connection, events: Sequence[NewEvent]) -> Any:
    """A transaction when events ride along with the write; a plain statement costs no BEGIN/COMMIT."""
    return conn.transaction() if events else nullcontext()


_APPEND = """
INSERT INTO session_messages (session_id, key, turn, kind, message)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, key) DO NOTHING
"""

# The read-through cache holds at most this many validated messages across all sessions.
CACHED_MESSAGES = 20_000

_ROWS_SINCE = """
WITH total AS (SELECT count(*) AS n FROM session_messages WHERE session_id = $1)
SELECT total.n AS total, m.seq, m.message
FROM total LEFT JOIN session_messages m ON m.session_id = $1 AND m.seq > $2
ORDER BY m.seq
"""


@dataclass(frozen=True)
class _Read:
    """Every row of one session up to ``seqs[-1]``, validated: the cached part of a full read."""

    seqs: tuple[int, ...]
    messages: tuple[ModelMessage, ...]


class TranscriptStore:
    def __init__(self, pool: asyncpg.Pool, cached_messages: int = CACHED_MESSAGES) -> None:
        self.pool = pool
        self._cached_messages = cached_messages
        self._reads: OrderedDict[str, _Read] = OrderedDict()
        self._held = 0

    async def ensure_session(self, session_id: str, principal: Principal, model_profile: str) -> None:
        """Create the session's row once; its (keyed) session_created event commits with it."""
        from ..events.session_events import session_created

        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                INSERT INTO sessions (session_id, principal, owner_sub, model_profile)
                VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING
                """,
                session_id,
                principal.model_dump(mode="json"),
                principal.sub,
                model_profile,
            )
            await insert_events(conn, [session_created(session_id, principal, model_profile)])

    async def end_session(self, session_id: str, events: Sequence[NewEvent] = ()) -> None:
        self.forget(session_id)
        async with self.pool.acquire() as conn, _atomic(conn, events):
            await conn.execute(
                "UPDATE sessions SET status = 'ended', ended_at = coalesce(ended_at, now()), updated_at = now()"
                " WHERE session_id = $1",
                session_id,
            )
            await insert_events(conn, events)

    async def append(self, session_id: str, key: str, turn: int, message: ModelMessage,
                     events: Sequence[NewEvent] = ()) -> bool:
        """Write once per key; returns False when the key was already written (a retried activity).

        ``events`` are written by the same statement as the message (one round trip, atomic):
        an event exists exactly when the write that caused it does, and their own keys make a
        repeated write emit nothing.
        """
        kind = "response" if isinstance(message, ModelResponse) else "request"
        args = (session_id, key, turn, kind, _dump(message))
        async with self.pool.acquire() as conn:
            if not events:
                return (await conn.execute(_APPEND, *args)).endswith(" 1")
            written = await conn.fetchval(
                f"WITH m AS ({_APPEND} RETURNING 1), e AS ({insert_sql(6)}) SELECT count(*) FROM m",
                *args, *insert_params(events))
        return written == 1

    async def get(self, session_id: str, key: str) -> ModelMessage | None:
        async with self.pool.acquire() as conn:
            raw = await conn.fetchval(
                "SELECT message FROM session_messages WHERE session_id = $1 AND key = $2", session_id, key
            )
        return None if raw is None else _load([raw])[0]

    async def history(self, session_id: str, *, after_seq: int | None = None) -> list[ModelMessage]:
        """The conversation as the model should see it; ``after_seq`` starts a window (context resets)."""
        read = await self._read_all(session_id)
        start = bisect_right(read.seqs, after_seq) if after_seq is not None else 0
        return merge_requests(list(read.messages[start:]))

    async def _read_all(self, session_id: str) -> _Read:
        """All rows of the session, validated; only rows past the cached ones cross the wire."""
        known = self._reads.get(session_id) or _Read((), ())
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_ROWS_SINCE, session_id, known.seqs[-1] if known.seqs else -1)
            fresh = [r for r in rows if r["seq"] is not None]
            if len(known.seqs) + len(fresh) != rows[0]["total"]:
                # A row we have not seen sits below the last one we read: read everything again.
                known = _Read((), ())
                fresh = await conn.fetch(
                    "SELECT seq, message FROM session_messages WHERE session_id = $1 ORDER BY seq", session_id
                )
        read = _Read(
            (*known.seqs, *(r["seq"] for r in fresh)), (*known.messages, *_load([r["message"] for r in fresh]))
        )
        self._remember(session_id, read)
        return read

    def _remember(self, session_id: str, read: _Read) -> None:
        self.forget(session_id)
        if len(read.seqs) > self._cached_messages:
            return
        self._reads[session_id] = read
        self._held += len(read.seqs)
        while self._held > self._cached_messages:
            _, evicted = self._reads.popitem(last=False)
            self._held -= len(evicted.seqs)

    def forget(self, session_id: str) -> None:
        """Drop the cached rows of a session (it ended); the next read starts from Postgres again."""
        previous = self._reads.pop(session_id, None)
        if previous is not None:
            self._held -= len(previous.seqs)

    async def last_seq(self, session_id: str) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(
                "SELECT coalesce(max(seq), 0) FROM session_messages WHERE session_id = $1", session_id
            ))

    async def seq_of(self, session_id: str, key: str) -> int | None:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT seq FROM session_messages WHERE session_id = $1 AND key = $2", session_id, key
            )

    async def find_tool_call(self, session_id: str, turn: int, tool_call_id: str) -> ToolCallPart | None:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT message FROM session_messages WHERE session_id = $1 AND turn = $2 AND kind = 'response'"
                " ORDER BY seq",
                session_id,
                turn,
            )
        for message in _load([r["message"] for r in rows]):
            for part in message.parts:
                if isinstance(part, ToolCallPart) and part.tool_call_id == tool_call_id:
                    return part
        return None

    async def count(self, session_id: str) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM session_messages WHERE session_id = $1", session_id))

    async def page(self, session_id: str, *, offset: int = 0, limit: int = 50) -> list[TranscriptLine]:
        """Readable lines (user, assistant, tool) for UIs; ``offset``/``limit`` count rows."""
        from .render import message_lines

        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT turn, message FROM session_messages WHERE session_id = $1 ORDER BY seq OFFSET $2 LIMIT $3",
                session_id,
                offset,
                limit,
            )
        lines: list[TranscriptLine] = []
        for row in rows:
            lines.extend(message_lines(row["turn"], _load([row["message"]])[0]))
        return lines
