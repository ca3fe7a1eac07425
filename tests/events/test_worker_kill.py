"""A worker SIGKILLed while a handler runs: the delivery is retried on the next worker and completes once."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus
from tests.support.worker_process import WorkerProcess, worker_env

from .conftest import ALICE, EVENT_FIXTURES, deliveries_of

pytestmark = pytest.mark.slow


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _until(predicate, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_delivery_cut_off_by_sigkill_completes_after_restart(
    services, enable_plugin, open_session, settings, database_url, temporal_server, tmp_path, out_dir
):
    config = await enable_plugin("blocker")
    env = worker_env(
        settings, database_url, temporal_server.address,
        AGENTRT__PLUGINS__EXTERNAL_DIRS=json.dumps([str(EVENT_FIXTURES / "plugins")]),
        AGENTRT__PLUGINS__ALLOW_EXTERNAL="true",
        AGENTRT__EVENTS__HEARTBEAT_SECONDS="3", AGENTRT__EVENTS__RETRY_INITIAL_SECONDS="0.2",
        AGENTRT__EVENTS__SWEEP_SECONDS="2", AGENTRT__EVENTS__IDLE_SECONDS="3",
    )
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second = None
    try:
        first.wait_ready()
        handle = await open_session(ALICE)
        assert (await send_message(handle, "hello")).status is TurnStatus.COMPLETED

        async def started() -> bool:
            return bool(_lines(out_dir / "started.txt"))

        await _until(started)  # the handler runs in the first worker, holding the delivery open
        first.kill()
        (out_dir / "release").touch()
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        second.wait_ready()

        async def delivered() -> bool:
            rows = await deliveries_of(services.ctx.pool, config.id)
            return bool(rows) and rows[0]["status"] == "delivered"

        await _until(delivered)
    finally:
        (out_dir / "release").touch()
        first.stop()
        if second is not None:
            second.stop()

    [row] = await deliveries_of(services.ctx.pool, config.id)
    assert row["attempts"] == 2  # the attempt the kill cut off counts
    key = f"plugin:{config.id}/{row['event_id']}"
    starts = _lines(out_dir / "started.txt")
    done = _lines(out_dir / "done.txt")
    assert [line.split()[0] for line in starts] == [key, key]
    pids = [re.search(r"pid=(\d+)", line).group(1) for line in starts]
    assert pids[0] != pids[1] and pids[0] == str(first.proc.pid)  # started again in the second worker
    assert [line.split()[0] for line in done] == [key]  # finished once, by the worker that was not killed
    assert done[0].endswith(f"pid={second.proc.pid}")
