"""Conversation flows running durably inside AgentSessionWorkflow."""

from __future__ import annotations

import uuid

import pytest

from runtime.principal import Principal
from runtime.services import Services
from runtime.sessions.client import send_message, session_status, start_session
from runtime.sessions.types import SessionPolicy, TurnStatus
from runtime.temporal import build_worker

ALICE = Principal(sub="alice")


async def _open(client, settings, flow: str):
    return await start_session(client, settings.temporal.task_queue, uuid.uuid4().hex, ALICE, "scripted",
                               policy=SessionPolicy(heartbeat_seconds=5), flow=flow)


async def test_three_node_flow_runs_end_to_end_with_per_node_tools(
    worker, temporal_client, settings, flow_model
):
    handle = await _open(temporal_client, settings, "intake")
    first = await send_message(handle, "call start_booking")
    # entering collect (respond_immediately) lets the model speak first, from the node's fresh context
    assert first.status is TurnStatus.COMPLETED and first.text == "heard: Ask for name and age."
    # greet offered its own function plus the global one; collect offers its two plus the global one
    assert flow_model.tools_seen[0] == ["help_desk", "start_booking"]
    assert flow_model.tools_seen[1] == ["help_desk", "record_details", "slow_lookup"]
    # collect resets the context: the model no longer sees the greeting turn
    assert "call start_booking" not in flow_model.texts_seen[1]
    assert "Ask for name and age." in flow_model.texts_seen[1]

    invalid = await send_message(handle, 'call record_details {"name": "Ann", "age": -5}')
    assert "age must be between 0 and 130" in invalid.text
    status = await session_status(handle)
    assert status.flow.node == "collect" and "name" not in status.flow.state  # validation kept us here

    done = await send_message(handle, 'call record_details {"name": "Ann", "age": 34}')
    assert done.status is TurnStatus.COMPLETED and done.text == "heard: Confirm the booking and say goodbye."
    assert flow_model.tools_seen[-1] == ["help_desk"]  # confirm has only the global function
    # confirm's post action ends the conversation after this turn
    summary = await handle.result()
    assert summary["turns_completed"] == 3
    final = await session_status(handle)
    assert final.state == "ended" and final.flow.node == "confirm"
    assert final.flow.history == ["greet", "collect"]
    assert final.flow.state == {"entered": ["greet"], "source": "chat", "name": "Ann", "age": 34}


async def test_worker_restart_mid_flow_resumes_at_the_same_node_with_the_same_state(
    temporal_client, services, runtime_ctx, registry, model_overrides, flows, settings
):
    async with build_worker(temporal_client, services):
        handle = await _open(temporal_client, settings, "intake")
        await send_message(handle, "call start_booking")
    fresh = await Services.start(runtime_ctx, registry=registry, model_overrides=model_overrides, flows=flows,
                                 sync=False)
    try:
        async with build_worker(temporal_client, fresh):
            before = await session_status(handle)
            assert before.flow.node == "collect" and before.flow.state["source"] == "chat"
            done = await send_message(handle, 'call record_details {"name": "Bo", "age": 7}')
            assert done.text == "heard: Confirm the booking and say goodbye."
            after = await session_status(handle)
    finally:
        await fresh.close()
    assert after.flow.node == "confirm" and after.flow.state["name"] == "Bo" and after.flow.state["source"] == "chat"


async def test_function_past_its_timeout_fails_that_call_and_the_session_goes_on(
    worker, temporal_client, settings
):
    handle = await _open(temporal_client, settings, "intake")
    await send_message(handle, "call start_booking")
    slow = await send_message(handle, 'call slow_lookup {"query": "x"}')
    assert slow.status is TurnStatus.COMPLETED
    assert "did not finish within 0.5 s" in slow.text
    after = await send_message(handle, "still there?")
    assert after.text == "heard: still there?"
    assert (await session_status(handle)).flow.node == "collect"


@pytest.mark.parametrize("fail", [False, True])
async def test_reset_with_summary_inserts_the_summary_or_falls_back_to_append(
    worker, temporal_client, settings, flow_model, fail
):
    flow_model.fail_summary = fail
    handle = await _open(temporal_client, settings, "summary_reset_with_summary")
    await send_message(handle, "hello there")
    await send_message(handle, "call next_step")
    seen = flow_model.texts_seen[-1]
    if fail:
        assert "hello there" in seen  # append: the whole conversation is still there
        assert not any(t.startswith("Summary of the conversation") for t in seen)
    else:
        assert "hello there" not in seen
        assert "Summary of the conversation so far: the caller said hello" in seen
    assert "Second step." in seen


async def test_flow_position_and_state_survive_continue_as_new(
    services, settings, flow_model, tmp_path
):
    from runtime.dev.temporal_server import TemporalDevServer
    from runtime.temporal import connect_client

    # A server that suggests continue-as-new after a few dozen events, so a short session crosses it.
    server = TemporalDevServer(log_path=tmp_path / "temporal.log",
                               extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"])
    await server.start()
    try:
        client = await connect_client(settings, server.address)
        async with build_worker(client, services):
            handle = await _open(client, settings, "intake")
            await send_message(handle, "call start_booking")
            for i in range(6):
                await send_message(handle, f"small talk {i}")
            status = await session_status(handle)
            assert status.continued >= 1
            assert status.flow.node == "collect" and status.flow.state["source"] == "chat"
            done = await send_message(handle, 'call record_details {"name": "Cy", "age": 50}')
            assert done.text == "heard: Confirm the booking and say goodbye."
            assert flow_model.tools_seen[-2] == ["help_desk", "record_details", "slow_lookup"]
    finally:
        server.stop()


async def test_node_tools_are_the_node_functions_plus_gated_integration_tools(
    worker, temporal_client, settings, flow_model, services
):
    from runtime.integrations.scopes import EntryOwner

    await services.entries.create(domain="text_tools", owner=EntryOwner("global"), title="text")
    handle = await _open(temporal_client, settings, "intake")
    await send_message(handle, "hello")
    integration_tools = [t for t in flow_model.tools_seen[-1] if t.startswith("text_tools_")]
    assert integration_tools  # gated integration tools ride along with the node's functions
    assert sorted(set(flow_model.tools_seen[-1]) - set(integration_tools)) == ["help_desk", "start_booking"]


async def test_a_turn_that_ends_on_a_quiet_node_still_emits_turn_complete(
    worker, temporal_client, settings, flow_model, services
):
    handle = await _open(temporal_client, settings, "quiet")
    result = await send_message(handle, "call next_step")
    assert result.status is TurnStatus.COMPLETED and result.text is None
    assert (await session_status(handle)).flow.node == "waiting"
    session_id = handle.id.split(":", 1)[1]
    async with services.ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, payload FROM events WHERE session_id = $1 ORDER BY id", session_id)
    completed = [r for r in rows if r["type"] == "turn_complete"]
    assert len(completed) == 1 and completed[0]["payload"]["turn"] == result.turn
    assert not any(r["type"] == "final_answer" for r in rows)  # nothing was answered
