"""Waking the dispatcher and the delivery workflows: signal-with-start, so a stopped one starts again.

:class:`DispatchWaker` is what event-writing activities call after their transaction
commits. It does not wait for Temporal: it coalesces every poke into at most one
signal-with-start in flight per process, on a background task, so a session turn pays no
round trip for it. A wake lost to a crash costs latency, not events: the dispatcher also
sweeps on a timer (``AGENTRT__EVENTS__SWEEP_SECONDS``).
"""

from __future__ import annotations

import asyncio
from typing import Iterable

from temporalio import activity
from temporalio.client import Client

from ..logging import get_logger
from .types import DeliveryInput, DeliveryPolicy, DispatchInput, delivery_workflow_id, dispatcher_workflow_id

log = get_logger(__name__)
DISPATCH_WORKFLOW = "EventDispatchWorkflow"
DELIVERY_WORKFLOW = "EventDeliveryWorkflow"
PARALLEL_SIGNALS = 20


async def wake_dispatcher(client: Client, task_queue: str) -> None:
    await client.start_workflow(
        DISPATCH_WORKFLOW, DispatchInput(task_queue=task_queue), id=dispatcher_workflow_id(task_queue),
        task_queue=task_queue, start_signal="wake",
    )


async def ensure_dispatcher(client: Client, task_queue: str) -> None:
    """At worker start: the dispatcher runs (and sweeps once). A failure is logged, not raised."""
    try:
        await wake_dispatcher(client, task_queue)
        log.info("events_dispatcher_ensured", task_queue=task_queue)
    except Exception as exc:
        log.warning("events_dispatcher_start_failed", task_queue=task_queue, error_type=type(exc).__name__)


async def wake_deliveries(client: Client, task_queue: str, pairs: Iterable[tuple[str, str]],
                          policy: DeliveryPolicy) -> int:
    """Signal-with-start the delivery workflow of every (subscriber, stream); returns how many answered."""
    gate = asyncio.Semaphore(PARALLEL_SIGNALS)

    async def wake(subscriber: str, stream: str) -> bool:
        async with gate:
            try:
                await client.start_workflow(
                    DELIVERY_WORKFLOW, DeliveryInput(subscriber=subscriber, stream=stream, policy=policy),
                    id=delivery_workflow_id(task_queue, subscriber, stream), task_queue=task_queue,
                    start_signal="wake")
                return True
            except Exception as exc:  # the sweep wakes it later
                log.warning("event_delivery_wake_failed", subscriber=subscriber, stream=stream,
                            error_type=type(exc).__name__)
                return False

    results = await asyncio.gather(*(wake(s, t) for s, t in pairs))
    return sum(results)


class DispatchWaker:
    """Wakes the dispatcher after events commit, at most once per ``delay_seconds``.

    Every model step and tool call commits events; waking the dispatcher for each one costs a
    signal-with-start, a workflow task and a routing activity on the same worker and server as
    the turn itself. Waiting ``delay_seconds`` after the first poke lets the pokes of a whole
    turn share one wake-up: events reach subscribers that much later, turns get faster.
    """

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self._delay = delay_seconds
        self._target: tuple[Client, str] | None = None
        self._pending = False
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Called from an activity after its events committed; returns at once."""
        try:
            self._target = (activity.client(), activity.info().task_queue)
        except Exception:  # outside an activity (the API, a CLI): the dispatcher's sweep finds the events
            if self._target is None:
                return
        self._pending = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending and self._target is not None:
            if self._delay:
                await asyncio.sleep(self._delay)
            self._pending = False
            client, task_queue = self._target
            try:
                await wake_dispatcher(client, task_queue)
            except Exception as exc:
                log.warning("events_dispatcher_wake_failed", task_queue=task_queue, error_type=type(exc).__name__)
                return

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
