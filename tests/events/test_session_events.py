"""Session activities write their events once, with the transcript write that causes them."""

from __future__ import annotations

import pytest
from pydantic_ai.messages import ModelRequest, UserPromptPart

from runtime.events import session_events
from runtime.sessions.client import decide_approval, send_message
from runtime.sessions.types import TurnStatus

from .conftest import ALICE

SECRET_FREE_TOOL_FIELDS = {"session_id", "turn", "tool_call_id", "tool_name", "kind", "entry_id", "domain", "ok",
                           "error_key", "chars", "truncated", "preview"}


async def _events(pool, session_id: str) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, key, payload FROM events WHERE session_id = $1 ORDER BY id", session_id)
    return [dict(r) for r in rows]


@pytest.fixture
async def probe(services, tmp_path):
    from runtime.integrations.scopes import EntryOwner

    return await services.entries.create(domain="probe", owner=EntryOwner("global"), title="probe",
                                         data={"count_file": str(tmp_path / "probe.count")})


async def test_a_session_emits_its_events_in_order_and_each_once(worker, services, open_session, probe, make_entry):
    await make_entry("sketchy")
    handle = await open_session(ALICE)
    sid = handle.id.split(":", 1)[1]
    assert (await send_message(handle, "hello")).status is TurnStatus.COMPLETED
    assert (await send_message(handle, '/tool probe_echo {"text": "hi"}')).status is TurnStatus.COMPLETED
    held = await send_message(handle, '/tool sketchy_fetch {"url": "http://x.test"}')
    await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=True)
    held = await send_message(handle, '/tool sketchy_fetch {"url": "http://y.test"}')
    await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=False, reason="not now")
    await handle.signal("end")
    await handle.result()

    events = await _events(services.ctx.pool, sid)
    assert [e["type"] for e in events] == [
        "session_created",
        "message_received", "final_answer", "turn_complete",
        "message_received", "tool_executed", "final_answer", "turn_complete",
        "message_received", "approval_requested", "approval_decided", "tool_executed", "final_answer", "turn_complete",
        "message_received", "approval_requested", "approval_decided", "final_answer", "turn_complete",
        "session_ended",
    ]
    assert len({e["key"] for e in events}) == len(events)
    received = events[1]["payload"]
    assert received == {"session_id": sid, "turn": 1, "message": "hello", "truncated": False}
    executed = events[5]["payload"]
    assert set(executed) == SECRET_FREE_TOOL_FIELDS  # no arguments, no full result
    assert executed["tool_name"] == "probe_echo" and executed["ok"] and executed["entry_id"] == probe.id
    decided = [e["payload"] for e in events if e["type"] == "approval_decided"]
    assert [(d["decision"], d["reason"]) for d in decided] == [("approve", None), ("deny", "not now")]
    requested = [e["payload"] for e in events if e["type"] == "approval_requested"]
    assert requested[0]["reason"] == "untrusted_integration" and "x.test" in requested[0]["args_preview"]
    assert [e["payload"]["steps"] for e in events if e["type"] == "turn_complete"] == [1, 2, 2, 2]


async def test_a_repeated_write_emits_nothing_new(services, open_session):
    """What a retried activity does: the same transcript key and the same event keys, nothing doubled."""
    sid = "retried-session"
    await services.transcript.ensure_session(sid, ALICE, "offline")
    await services.transcript.ensure_session(sid, ALICE, "offline")
    for _ in range(2):
        await services.transcript.append(
            sid, "1:0:prompt", 1, ModelRequest(parts=[UserPromptPart("hi")]),
            events=[session_events.message_received(sid, 1, "hi")])
    assert [e["type"] for e in await _events(services.ctx.pool, sid)] == ["session_created", "message_received"]


async def test_message_text_in_an_event_is_capped_and_free_of_nul(services):
    sid = "long-session"
    await services.transcript.ensure_session(sid, ALICE, "offline")
    await services.transcript.append(sid, "1:0:prompt", 1, ModelRequest(parts=[UserPromptPart("x")]),
                                     events=[session_events.message_received(sid, 1, "a\x00b" + "y" * 10_000)])
    [_, received] = await _events(services.ctx.pool, sid)
    assert received["payload"]["truncated"] is True
    assert received["payload"]["message"].startswith("a\ufffdb") and len(received["payload"]["message"]) < 4_100
