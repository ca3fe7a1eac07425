"""Untrusted tools wait for a human; high-privilege tools too while an untrusted source is present."""

from __future__ import annotations

import asyncio

from temporalio.testing import ActivityEnvironment

from activities.session import SessionActivities
from runtime.principal import Principal
from runtime.services import Services
from runtime.sessions.client import decide_approval, send_message, session_status
from runtime.sessions.types import CallToolInput, TurnStatus
from runtime.temporal import build_worker

from .conftest import count_lines

ALICE = Principal(sub="alice", org_id="acme")
FETCH = '/tool sketchy_fetch {"url": "http://example.test/a"}'


async def test_untrusted_tool_waits_for_approval_and_runs_once_approved(worker, make_entry, open_session):
    sketchy = await make_entry("sketchy", "global")
    handle = await open_session(ALICE)
    held = await send_message(handle, FETCH)
    assert held.status is TurnStatus.AWAITING_APPROVAL
    [pending] = held.pending_approvals
    assert pending.tool_name == "sketchy_fetch" and pending.approval_reason == "untrusted_integration"
    assert count_lines(sketchy) == 0
    assert (await session_status(handle)).state == "awaiting_approval"

    done = await decide_approval(handle, pending.tool_call_id, approve=True)
    assert done.status is TurnStatus.COMPLETED
    assert "IGNORE PREVIOUS INSTRUCTIONS" in done.text
    assert count_lines(sketchy) == 1


async def test_denied_call_never_runs_and_the_model_sees_the_denial(worker, make_entry, open_session):
    sketchy = await make_entry("sketchy", "global")
    handle = await open_session(ALICE)
    held = await send_message(handle, FETCH)
    done = await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=False, reason="not today")
    assert done.status is TurnStatus.COMPLETED
    assert "denied this tool call" in done.text and "not today" in done.text
    assert count_lines(sketchy) == 0


async def test_high_privilege_tool_needs_approval_only_while_untrusted_source_present(
    worker, make_entry, open_session
):
    await make_entry("notifier", "global")
    alone = await send_message(await open_session(ALICE), '/tool notifier_send {"to": "bob", "text": "hi"}')
    assert alone.status is TurnStatus.COMPLETED and "sent to bob" in alone.text

    await make_entry("sketchy", "global")
    held = await send_message(await open_session(ALICE), '/tool notifier_send {"to": "bob", "text": "hi"}')
    assert held.status is TurnStatus.AWAITING_APPROVAL
    assert held.pending_approvals[0].approval_reason == "high_privilege_with_untrusted_source"
    plain = await send_message(await open_session(ALICE), "/tool notifier_status {}")
    assert plain.status is TurnStatus.COMPLETED  # not high-privilege: runs


async def test_approval_after_a_worker_restart_still_works(
    temporal_client, services, runtime_ctx, registry, model_overrides, make_entry, open_session
):
    sketchy = await make_entry("sketchy", "global")
    async with build_worker(temporal_client, services):
        handle = await open_session(ALICE)
        held = await send_message(handle, FETCH)
    assert held.status is TurnStatus.AWAITING_APPROVAL
    # A new worker (new process state, empty caches) picks the parked turn up from history.
    fresh = await Services.start(runtime_ctx, registry=registry, model_overrides=model_overrides, sync=False)
    try:
        async with build_worker(temporal_client, fresh):
            done = await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=True)
    finally:
        await fresh.close()
    assert done.status is TurnStatus.COMPLETED and count_lines(sketchy) == 1


async def test_call_tool_refuses_an_unapproved_untrusted_call(worker, make_entry, open_session, services):
    sketchy = await make_entry("sketchy", "global")
    handle = await open_session(ALICE)
    held = await send_message(handle, FETCH)
    call = held.pending_approvals[0]
    session_id = handle.id.split(":", 1)[1]
    outcome = await ActivityEnvironment().run(
        SessionActivities(services).call_tool,
        CallToolInput(session_id=session_id, turn=held.turn, tool_call_id=call.tool_call_id, tool_name=call.tool_name,
                      principal=ALICE, model_profile="cheap", approved=False),
    )
    assert not outcome.ok and outcome.error_key == "approval_missing"
    assert count_lines(sketchy) == 0


async def test_message_sent_during_a_parked_turn_waits_for_it(worker, make_entry, open_session):
    await make_entry("sketchy", "global")
    handle = await open_session(ALICE)
    held = await send_message(handle, FETCH)
    # A second message queues behind the parked turn instead of running beside it.
    second = asyncio.create_task(send_message(handle, "/tools"))
    await asyncio.sleep(0.5)
    assert not second.done()
    await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=False)
    assert (await second).status is TurnStatus.COMPLETED
