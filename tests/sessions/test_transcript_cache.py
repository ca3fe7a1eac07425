"""A worker reads each session's transcript incrementally, and what it returns is always a full read."""

from __future__ import annotations

import uuid

from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart

from runtime.principal import Principal
from runtime.sessions.transcript import TranscriptStore, _dump


def _prompt(text: str) -> ModelRequest:
    return ModelRequest(parts=[UserPromptPart(text)])


def _answer(text: str) -> ModelResponse:
    return ModelResponse(parts=[TextPart(text)])


async def _texts(store: TranscriptStore, session_id: str, **kwargs) -> list[str]:
    return [part.content for m in await store.history(session_id, **kwargs) for part in m.parts]  # type: ignore[union-attr]


async def test_incremental_reads_match_a_full_read_even_when_a_row_commits_late(pool):
    store, session_id = TranscriptStore(pool), uuid.uuid4().hex
    await store.ensure_session(session_id, Principal(sub="alice"), "offline")
    await store.append(session_id, "1:0:prompt", 1, _prompt("one"))
    await store.append(session_id, "1:0:response", 1, _answer("two"))
    assert await _texts(store, session_id) == ["one", "two"]

    # A writer drew its sequence number before the next rows but commits after they were read.
    async with pool.acquire() as conn:
        late_seq = await conn.fetchval("SELECT nextval(pg_get_serial_sequence('session_messages', 'seq'))")
    await store.append(session_id, "2:0:prompt", 2, _prompt("three"))
    assert await _texts(store, session_id) == ["one", "two", "three"]
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO session_messages (session_id, seq, key, turn, kind, message) VALUES ($1, $2, $3, 1, 'response', $4)",
            session_id, late_seq, "late", _dump(_answer("late")),
        )
    await store.append(session_id, "2:0:response", 2, _answer("four"))

    expected = await _texts(TranscriptStore(pool), session_id)  # a store with nothing cached reads everything
    assert expected == ["one", "two", "late", "three", "four"]
    assert await _texts(store, session_id) == expected


async def test_windowed_reads_and_ended_sessions_read_like_a_fresh_store(pool):
    store, session_id = TranscriptStore(pool), uuid.uuid4().hex
    await store.ensure_session(session_id, Principal(sub="alice"), "offline")
    for turn in range(1, 4):
        await store.append(session_id, f"{turn}:0:prompt", turn, _prompt(f"q{turn}"))
        await store.history(session_id)
        await store.append(session_id, f"{turn}:0:response", turn, _answer(f"a{turn}"))
    window = await store.seq_of(session_id, "2:0:prompt")
    fresh = TranscriptStore(pool)
    assert await _texts(store, session_id, after_seq=window) == await _texts(fresh, session_id, after_seq=window)
    assert await _texts(store, session_id, after_seq=window) == ["a2", "q3", "a3"]
    await store.end_session(session_id)
    assert await _texts(store, session_id) == ["q1", "a1", "q2", "a2", "q3", "a3"]


async def test_the_cache_stays_within_its_message_budget(pool):
    store = TranscriptStore(pool, cached_messages=5)
    sessions = [uuid.uuid4().hex for _ in range(3)]
    for session_id in sessions:
        await store.ensure_session(session_id, Principal(sub="alice"), "offline")
        await store.append(session_id, "1:0:prompt", 1, _prompt("q"))
        await store.append(session_id, "1:0:response", 1, _answer("a"))
        await store.history(session_id)
    assert store._held <= 5  # noqa: SLF001
    for session_id in sessions:
        assert await _texts(store, session_id) == ["q", "a"]
