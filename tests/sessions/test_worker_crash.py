"""A worker SIGKILLed mid-turn: the turn completes on another worker, nothing completed runs twice."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus
from runtime.settings import ModelProfile
from tests.support.worker_process import WorkerProcess, worker_env

from .conftest import count_lines

pytestmark = pytest.mark.slow
ALICE = Principal(sub="alice")


@pytest.fixture
def settings(settings):
    settings.models.profiles["scripted"] = ModelProfile(model="function:tests.support.scripted_model:reply")
    return settings


async def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("local_activities", [False, True], ids=["activities", "local-activities"])
async def test_turn_survives_sigkill_without_rerunning_completed_work(
    services, make_entry, open_session, settings, database_url, temporal_server, tmp_path, local_activities
):
    probe = await make_entry("probe", "global")
    model_log = tmp_path / "model.log"
    env = worker_env(
        settings, database_url, temporal_server.address,
        AGENTRT__MODELS__PROFILES='{"scripted": {"model": "function:tests.support.scripted_model:reply"}}',
        AGENTRT_TEST_MODEL_LOG=str(model_log), AGENTRT_TEST_MODEL_DELAY="3",
    )
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second = None
    try:
        first.wait_ready()
        handle = await open_session(ALICE, "scripted", local_activities=local_activities)
        turn = asyncio.create_task(send_message(handle, "/count crash-test"))
        lines = lambda: model_log.read_text().splitlines() if model_log.exists() else []  # noqa: E731
        # The tool has run and the second model request (after the tool result) is in flight: kill now.
        await _wait_for(lambda: "start call-3" in lines())
        assert count_lines(probe) == 1
        first.kill()
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        second.wait_ready()
        result = await asyncio.wait_for(turn, timeout=120)
    finally:
        first.stop()
        if second is not None:
            second.stop()

    assert result.status is TurnStatus.COMPLETED and "crash-test" in result.text
    assert count_lines(probe) == 1  # the completed tool call did not run again
    log = lines()
    assert log.count("end call-1") == 1  # the completed first model request was not re-run
    assert log.count("start call-3") == 2 and log.count("end call-3") == 1  # the interrupted one was
    session_id = handle.id.split(":", 1)[1]
    transcript = await services.transcript.page(session_id)
    assert [line.role for line in transcript] == ["user", "assistant", "tool", "assistant"]
