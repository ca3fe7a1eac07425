"""Workers as separate processes: graceful drain on SIGTERM, and sessions surviving a SIGKILLed worker."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from pathlib import Path

import pytest

from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.client import send_message, start_session
from runtime.sessions.types import SessionPolicy, TurnStatus
from runtime.settings import ModelProfile
from tests.support.worker_process import REPO, WorkerProcess, worker_env

pytestmark = pytest.mark.slow
SCRIPTED = '{"scripted": {"model": "function:tests.support.scripted_model:reply"}}'


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", REPO / "tests" / "fixtures" / "integrations"])


@pytest.fixture
def settings(settings):
    settings.models.profiles["scripted"] = ModelProfile(model="function:tests.support.scripted_model:reply")
    return settings


async def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def test_sigterm_drains_the_running_tool_call_before_the_worker_exits(
    services, settings, database_url, temporal_server, temporal_client, tmp_path
):
    counts = tmp_path / "counts"
    await services.entries.create(domain="probe", owner=EntryOwner("global"), title="p",
                                  data={"count_file": str(counts)})
    env = worker_env(settings, database_url, temporal_server.address,
                     AGENTRT__TEMPORAL__GRACEFUL_SHUTDOWN_SECONDS="15")
    first = WorkerProcess(env, tmp_path / "w1.log")
    second = None
    try:
        first.wait_ready()
        handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex,
                                     Principal(sub="a"), "offline", policy=SessionPolicy(heartbeat_seconds=5))
        turn = asyncio.create_task(send_message(handle, '/tool probe_slow_count {"label": "drain", "seconds": 2}'))
        await _wait_for(lambda: "start drain" in _lines(counts))
        first.proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.proc.wait, 30) == 0  # exited cleanly, after the tool finished
        assert _lines(counts) == ["start drain", "drain"]
        second = WorkerProcess(env, tmp_path / "w2.log")
        second.wait_ready()
        result = await asyncio.wait_for(turn, 60)
    finally:
        first.stop()
        if second:
            second.stop()
    assert result.status is TurnStatus.COMPLETED and "counted drain" in result.text
    assert _lines(counts) == ["start drain", "drain"]  # the drained call was not run again


async def test_fifty_sessions_complete_when_one_of_two_workers_is_sigkilled(
    services, settings, database_url, temporal_server, temporal_client, tmp_path
):
    counts = tmp_path / "counts"
    await services.entries.create(domain="probe", owner=EntryOwner("global"), title="p",
                                  data={"count_file": str(counts)})
    env = worker_env(settings, database_url, temporal_server.address, AGENTRT__MODELS__PROFILES=SCRIPTED,
                     AGENTRT_TEST_MODEL_DELAY="0.3")
    workers = [WorkerProcess(env, tmp_path / f"w{i}.log") for i in range(2)]
    replacement = None
    try:
        for w in workers:
            w.wait_ready()
        handles = [
            await start_session(temporal_client, settings.temporal.task_queue, f"s{i}-{uuid.uuid4().hex[:6]}",
                                Principal(sub=f"user{i}"), "scripted", policy=SessionPolicy(heartbeat_seconds=4))
            for i in range(50)
        ]
        turns = [asyncio.create_task(send_message(h, f"/count label-{i}")) for i, h in enumerate(handles)]
        await _wait_for(lambda: sum(t.done() for t in turns) >= 10 or len(_lines(counts)) >= 15)
        done_at_kill = sum(t.done() for t in turns)
        workers[0].kill()  # mid-way: some sessions done, many in flight on both workers
        assert done_at_kill < 50
        replacement = WorkerProcess(env, tmp_path / "w3.log")
        replacement.wait_ready()
        results = await asyncio.wait_for(asyncio.gather(*turns), timeout=240)
    finally:
        for w in workers:
            w.stop()
        if replacement:
            replacement.stop()

    assert [r.status for r in results] == [TurnStatus.COMPLETED] * 50
    for i, result in enumerate(results):
        assert f"label-{i}" in result.text
    for handle in handles:
        lines = await services.transcript.page(handle.id.split(":", 1)[1])
        assert [line.role for line in lines] == ["user", "assistant", "tool", "assistant"]
    counted = _lines(counts)
    assert {f"label-{i}" for i in range(50)} == set(counted)
    print(f"turns done at the kill: {done_at_kill}/50; tool executions: {len(counted)} for 50 calls "
          f"({len(counted) - 50} re-run after the kill)")
