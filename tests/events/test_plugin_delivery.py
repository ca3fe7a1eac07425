"""Plugins receive a real session's events durably: in order, retried, isolated, dead-lettered, idempotent."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runtime.events.status import dead_letters
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.client import send_message, session_status
from runtime.sessions.types import TurnStatus

from .conftest import deliveries_of, wait_for
from .http_sink import serve_sink


@pytest.fixture
def sink():
    yield from serve_sink()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in _lines(path)]


def _log_events(buf, name: str) -> list[dict]:
    return [e for e in (json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{"))
            if e.get("event") == name]


async def test_message_logger_sees_message_received_and_turn_complete_of_a_real_session(
    worker, services, enable_plugin, open_session, sink, captured_logs
):
    config = await enable_plugin("message_logger", WEBHOOK_URL=sink.url)
    handle = await open_session()
    session_id = handle.id.split(":", 1)[1]
    result = await send_message(handle, "hello plugins")
    assert result.status is TurnStatus.COMPLETED

    rows = await wait_for(lambda: _all_delivered(services, config.id, 2))
    assert [r["type"] for r in rows] == ["message_received", "turn_complete"]
    [posted] = await wait_for(lambda: _ready(sink.received))
    assert posted.json() == {"session_id": session_id, "turn": 1, "event": "turn_complete"}
    logged = [e["message"] for e in _log_events(captured_logs, "plugin_log") if e["plugin_id"] == "message_logger"]
    assert f"Received: session={session_id}, turn=1, message=hello plugins" in logged
    assert f"Turn complete notification sent for session {session_id}" in logged


async def _ready(items: list) -> list | None:
    return list(items) or None


async def _all_delivered(services, config_id: str, count: int, event_type: str | None = None) -> list[dict] | None:
    rows = await deliveries_of(services.ctx.pool, config_id, event_type)
    done = [r for r in rows if r["status"] != "pending"]
    return rows if len(rows) >= count and len(done) == len(rows) else None


async def test_a_subscriber_failing_three_times_is_delivered_once_after_the_turn_completed(
    worker, services, enable_plugin, open_session, out_dir
):
    config = await enable_plugin("flaky", FAILS=3)
    handle = await open_session()
    result = await send_message(handle, "hi")
    turn_returned = datetime.now(timezone.utc)
    assert result.status is TurnStatus.COMPLETED

    [row] = await wait_for(lambda: _all_delivered(services, config.id, 1))
    assert row["status"] == "delivered" and row["attempts"] == 4
    assert "ConnectionError: downstream unavailable (attempt 3)" == row["last_error"]
    attempts = _jsonl(out_dir / "attempts.jsonl")
    effects = _jsonl(out_dir / "effects.jsonl")
    assert len(attempts) == 4 and {a["key"] for a in attempts} == {f"plugin:{config.id}/{row['event_id']}"}
    assert len(effects) == 1  # one side effect: every attempt carried the same idempotency key
    # The turn did not wait for the subscriber: it returned before the first attempt ended
    # and long before the delivery finished.
    assert row["event_created_at"] < turn_returned < row["finished_at"]
    assert (row["finished_at"] - turn_returned).total_seconds() > 0.5
    async with services.ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT delivered_at IS NOT NULL FROM events WHERE id = $1", row["event_id"])


async def test_a_poison_event_goes_to_the_dead_letters_and_the_stream_moves_on(
    worker, services, settings, enable_plugin, open_session, out_dir
):
    settings.events.max_attempts = 3
    config = await enable_plugin("poison")
    handle = await open_session()
    for text in ("first", "a poison pill", "third"):
        assert (await send_message(handle, text)).status is TurnStatus.COMPLETED

    rows = await wait_for(lambda: _all_delivered(services, config.id, 3))
    assert [(r["payload"]["message"], r["status"], r["attempts"]) for r in rows] == [
        ("first", "delivered", 1), ("a poison pill", "dead", 3), ("third", "delivered", 1)]
    assert _lines(out_dir / "handled.txt") == ["first", "third"]  # in order, the poison one skipped
    [letter] = [d for d in await dead_letters(services.ctx.pool) if d.subscriber == f"plugin:{config.id}"]
    assert letter.event == "message_received" and letter.attempts == 3
    assert letter.error == "ValueError: cannot digest turn 2"
    assert rows[2]["finished_at"] > letter.created_at  # the next event waited for the poison one to be settled


async def test_a_slow_subscriber_holds_up_neither_the_session_nor_another_subscriber(
    worker, services, enable_plugin, open_session, out_dir
):
    slow = await enable_plugin("blocker")
    fast = await enable_plugin("flaky", FAILS=0)
    handle = await open_session()
    try:
        for text in ("one", "two"):
            started = datetime.now(timezone.utc)
            assert (await send_message(handle, text)).status is TurnStatus.COMPLETED
            assert (datetime.now(timezone.utc) - started).total_seconds() < 5
        fast_rows = await wait_for(lambda: _all_delivered(services, fast.id, 2))
        assert [r["status"] for r in fast_rows] == ["delivered", "delivered"]
        await wait_for(lambda: _ready(_lines(out_dir / "started.txt")))
        slow_rows = await deliveries_of(services.ctx.pool, slow.id)
        assert [r["status"] for r in slow_rows] == ["pending", "pending"]  # the first is running, the second waits
    finally:
        (out_dir / "release").touch()
    slow_rows = await wait_for(lambda: _all_delivered(services, slow.id, 2))
    assert [r["status"] for r in slow_rows] == ["delivered", "delivered"]
    done = [line.split()[0] for line in _lines(out_dir / "done.txt")]
    assert done == [f"plugin:{slow.id}/{r['event_id']}" for r in slow_rows]  # in event order


async def test_events_routed_before_a_configuration_was_disabled_are_skipped(
    worker, services, enable_plugin, open_session, out_dir
):
    config = await enable_plugin("blocker")
    handle = await open_session()
    try:
        await send_message(handle, "one")
        await wait_for(lambda: _ready(_lines(out_dir / "started.txt")))
        await send_message(handle, "two")
        await wait_for(lambda: _routed(services, config.id, 2))
        await services.plugin_configs.set_enabled("blocker", EntryOwner("global"), False)
    finally:
        (out_dir / "release").touch()
    rows = await wait_for(lambda: _all_delivered(services, config.id, 2))
    assert [(r["status"], r["reason"]) for r in rows] == [("delivered", None), ("skipped", "subscriber_disabled")]


async def _routed(services, config_id: str, count: int) -> bool:
    return len(await deliveries_of(services.ctx.pool, config_id)) >= count


async def test_plugin_configurations_see_only_sessions_of_their_scope(
    worker, services, enable_plugin, open_session
):
    mine = await enable_plugin("flaky", EntryOwner("user", owner_sub="alice"), FAILS=0)
    org = await enable_plugin("flaky", EntryOwner("org", org_id="acme"), FAILS=0)
    other = await enable_plugin("flaky", EntryOwner("user", owner_sub="bob"), FAILS=0)
    await send_message(await open_session(Principal(sub="alice", org_id="acme")), "hi")
    await wait_for(lambda: _all_delivered(services, mine.id, 1))
    await wait_for(lambda: _all_delivered(services, org.id, 1))
    assert await deliveries_of(services.ctx.pool, other.id) == []


async def test_a_handler_can_message_its_own_session_without_deadlocking_delivery(
    worker, services, enable_plugin, open_session, out_dir
):
    config = await enable_plugin("replier")
    handle = await open_session()
    assert (await send_message(handle, "start")).status is TurnStatus.COMPLETED

    async def two_turns() -> bool:
        return (await session_status(handle)).turns_completed == 2

    await wait_for(two_turns)
    seen = json.loads((out_dir / "replier.json").read_text())
    assert seen["sent"]["ok"] is True
    assert [m["role"] for m in seen["messages"]][:2] == ["user", "assistant"]
    assert seen["messages"][0]["text"] == "start"
    lines = await services.transcript.page(handle.id.split(":", 1)[1])
    assert any(line.role == "user" and line.text == "follow-up from a plugin" for line in lines)
    rows = await wait_for(lambda: _all_delivered(services, config.id, 2))  # turn 2's final_answer too
    assert [r["status"] for r in rows] == ["delivered", "delivered"]


async def test_a_subscriber_that_cannot_be_set_up_dead_letters_instead_of_retrying_forever(
    worker, services, settings, open_session, distinctive_secret
):
    settings.events.max_attempts = 2
    manifest = services.plugins.get("webhook_notify").manifest
    config = await services.plugin_configs.configure(manifest, EntryOwner("global"),
                                                     variables={"WEBHOOK_URL": "http://127.0.0.1:9/hook"},
                                                     secrets={"SIGNING_KEY": distinctive_secret})
    async with services.ctx.pool.acquire() as conn:  # a sealed variable that no longer opens
        await conn.execute("UPDATE secret_values SET ciphertext = $2 WHERE owner_id = $1", config.id, "AAAA" * 8)
    handle = await open_session()
    await send_message(handle, "hello")
    rows = await wait_for(lambda: _all_delivered(services, config.id, 4))
    assert {r["status"] for r in rows} == {"dead"} and {r["attempts"] for r in rows} == {2}
    assert all(distinctive_secret not in (r["last_error"] or "") for r in rows)
