from __future__ import annotations

import uuid

import pytest
from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.models.function import FunctionModel
from temporalio.client import WorkflowUpdateFailedError

from runtime.principal import Principal
from runtime.sessions.client import send_message, session_status, start_session
from runtime.sessions.types import TurnStatus

ALICE = Principal(sub="alice", org_id="acme")


async def test_offline_profile_echoes_and_is_honest(temporal_client, worker, settings, services):
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, ALICE, "offline")
    result = await send_message(handle, "hello there")
    assert result.status is TurnStatus.COMPLETED
    assert "offline model" in result.text and "hello there" in result.text
    status = await session_status(handle)
    assert status.turns_completed == 1 and status.state == "idle"


@pytest.fixture
def model_overrides():
    def reply(messages, info):
        user_turns = sum(1 for m in messages if m.kind == "request")
        return ModelResponse(parts=[TextPart(f"turn {user_turns} of {len(messages)} messages")])

    return {"fn": FunctionModel(reply)}


@pytest.fixture
def settings(settings):
    settings.models.profiles["fn"] = settings.models.profiles["offline"].model_copy(update={"model": "test"})
    return settings


async def test_transcript_grows_in_postgres_not_in_the_workflow(temporal_client, worker, settings, services):
    session_id = uuid.uuid4().hex
    handle = await start_session(temporal_client, settings.temporal.task_queue, session_id, ALICE, "fn")
    first = await send_message(handle, "one")
    second = await send_message(handle, "two")
    assert first.text == "turn 1 of 1 messages"
    assert second.text == "turn 2 of 3 messages"  # the model saw the whole conversation, loaded from Postgres
    assert await services.transcript.count(session_id) == 4


@pytest.mark.parametrize(("text", "key"), [("   ", "message_empty"), ("x" * 40_000, "message_too_large")])
async def test_bad_message_is_rejected_before_it_reaches_history(temporal_client, worker, settings, text, key):
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, ALICE, "offline")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await send_message(handle, text)
    assert key in str(err.value.cause)
    history = await handle.fetch_history()
    assert not any(e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events)


async def test_a_nul_character_is_stored_as_a_replacement_and_the_turn_completes(
    temporal_client, worker, settings, services
):
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, ALICE, "offline")
    result = await send_message(handle, "before\x00after")
    assert result.status is TurnStatus.COMPLETED
    lines = await services.transcript.page(handle.id.split(":", 1)[1])
    assert lines[0].text == "before\ufffdafter"
