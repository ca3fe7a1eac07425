"""The dispatcher waker: the pokes of one window share one signal-with-start."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.api.enums.v1 import EventType

from runtime.events.signals import DispatchWaker, dispatcher_workflow_id


async def _signals(client, task_queue: str) -> int:
    history = await client.get_workflow_handle(dispatcher_workflow_id(task_queue)).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


async def test_pokes_within_the_delay_share_one_wake_up(temporal_client):
    task_queue = f"waker-{uuid.uuid4().hex[:8]}"  # no worker polls it: only the signals are counted
    waker = DispatchWaker(delay_seconds=0.3)
    waker._target = (temporal_client, task_queue)  # what poke() takes from the activity it runs in
    for _ in range(5):
        waker.poke()
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.6)
    assert await _signals(temporal_client, task_queue) == 1
    waker.poke()  # a later poke is a new window
    await asyncio.sleep(0.6)
    assert await _signals(temporal_client, task_queue) == 2
    await waker.close()
    await temporal_client.get_workflow_handle(dispatcher_workflow_id(task_queue)).terminate()
