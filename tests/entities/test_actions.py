"""Entity actions as a gated, high-privilege agent tool, driven through real sessions (offline model)."""

from __future__ import annotations

import json
import uuid

import pytest

from runtime.entities.store import EntityStore
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.client import decide_approval, send_message, start_session
from runtime.sessions.types import SessionPolicy, TurnStatus

from .conftest import light

ALICE = Principal(sub="alice")
TURN_ON = {"entity_id": "light.l1", "action": "turn_on", "params": {"brightness": 50}}


@pytest.fixture
def store(pool) -> EntityStore:
    return EntityStore(pool)


@pytest.fixture
def chat(temporal_client, settings):
    async def open_(principal: Principal = ALICE):
        return await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, principal,
                                   "offline", policy=SessionPolicy(heartbeat_seconds=5))

    return open_


def call(args: dict) -> str:
    return f"/tool things_call_action {json.dumps(args)}"


async def test_the_model_calls_an_entity_action_and_the_integration_runs_it(worker, chat, store, make_things):
    things = await make_things()
    await store.apply(things.id, [light(1), light(2)], full=True)
    result = await send_message(await chat(), call(TURN_ON))
    assert result.status is TurnStatus.COMPLETED
    assert "things_call_action returned" in result.text and '"done":true' in result.text.replace(" ", "")
    [action] = things.calls("action")
    assert (action["entity_id"], action["action"], action["params"]) == ("light.l1", "turn_on", {"brightness": 50})


@pytest.mark.parametrize(("args", "hint"), [
    ({"entity_id": "light.l7", "action": "turn_on"}, "Entities with actions: light.l1"),
    ({"entity_id": "light.l1", "action": "explode"}, "It offers: turn_on, turn_off"),
    ({"entity_id": "sensor.t", "action": "turn_on"}, "It offers: no actions"),
])
async def test_an_unknown_entity_or_action_is_refused_before_the_integration_sees_it(
    worker, chat, store, make_things, args, hint
):
    things = await make_things()
    await store.apply(things.id, [light(1), {"entity_id": "sensor.t", "type": "sensor", "state": "21"}], full=True)
    result = await send_message(await chat(), call(args))
    assert result.status is TurnStatus.COMPLETED
    assert hint in result.text  # the model is told why, and may try again
    assert things.calls("action") == []


async def test_entity_actions_need_approval_while_an_untrusted_source_is_present(
    worker, chat, services, store, make_things
):
    things = await make_things()
    await store.apply(things.id, [light(1)], full=True)
    await services.entries.create(domain="sketchy", owner=EntryOwner("global"), title="web")

    handle = await chat()
    held = await send_message(handle, call(TURN_ON))
    assert held.status is TurnStatus.AWAITING_APPROVAL
    [pending] = held.pending_approvals
    assert pending.tool_name == "things_call_action"
    assert pending.approval_reason == "high_privilege_with_untrusted_source"
    assert things.calls("action") == []

    done = await decide_approval(handle, pending.tool_call_id, approve=True)
    assert done.status is TurnStatus.COMPLETED and len(things.calls("action")) == 1


async def test_the_action_tool_obeys_the_scope_gate(worker, chat, store, make_things):
    bobs = await make_things("user", owner_sub="bob")
    await store.apply(bobs.id, [light(1)], full=True)
    result = await send_message(await chat(ALICE), call(TURN_ON))
    assert "No tool named" in result.text  # alice never sees bob's entry, so never its action tool
    assert bobs.calls("action") == []
    mine = await send_message(await chat(Principal(sub="bob")), call(TURN_ON))
    assert mine.status is TurnStatus.COMPLETED and len(bobs.calls("action")) == 1


async def test_the_catalog_marks_the_action_tool_high_privilege(services, make_things):
    await make_things()
    catalog = (await services.assembler.assemble(ALICE, "offline")).catalog
    [spec] = [t for t in catalog.tools if t.name == "things_call_action"]
    assert spec.high_privilege and spec.approval_reason is None  # nothing untrusted in this run
    assert set(spec.parameters_json_schema["properties"]) == {"entity_id", "action", "params"}
