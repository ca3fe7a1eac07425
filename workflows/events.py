"""Event delivery workflows: one dispatcher per task queue, one delivery workflow per (subscriber, stream).

``EventDispatchWorkflow`` routes: woken by a signal whenever activities commit events (and by
its own timer every ``sweep_seconds`` as the safety net), it runs ``events_route``, which turns
unrouted outbox rows into delivery rows and signal-with-starts the delivery workflows.

``EventDeliveryWorkflow`` delivers: it runs ``events_deliver`` for its subscriber and stream
until nothing is pending, then waits ``idle_seconds`` for another signal before it ends (a
later event starts it again). One at a time per (subscriber, stream) keeps each subscriber's
view of a session in order; separate workflows keep a slow or failing subscriber from
holding up anyone else, and nothing here is awaited by a session turn. The activity retries
with backoff without limit: the per-event attempt limit and the dead letter live in Postgres
(see runtime/events/delivery.py), where a worker crash cannot lose the count.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from runtime.events.types import (
        DeliveryInput,
        DeliveryOutcome,
        DeliverySummary,
        DispatchInput,
        RouteInput,
        RouteOutcome,
    )

ROUTE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                          maximum_interval=timedelta(seconds=30))
ROUTE_TIMEOUT = timedelta(minutes=2)
# A batch stops taking events after two minutes; the last one may run its full handler timeout.
DELIVER_MARGIN = timedelta(minutes=5)
# Bound each run's history; the next run carries on where this one stopped.
MAX_ROUNDS = 200


@workflow.defn
class EventDispatchWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def wake(self) -> None:
        self._woken = True

    @workflow.run
    async def run(self, inp: DispatchInput) -> None:
        for _ in range(MAX_ROUNDS):
            self._woken = False
            outcome: RouteOutcome = await workflow.execute_activity(
                "events_route", RouteInput(task_queue=inp.task_queue), result_type=RouteOutcome,
                start_to_close_timeout=ROUTE_TIMEOUT, retry_policy=ROUTE_RETRY)
            if outcome.more or self._woken:
                continue
            try:
                await workflow.wait_condition(lambda: self._woken, timeout=timedelta(seconds=outcome.sweep_seconds))
            except asyncio.TimeoutError:
                pass
            if workflow.info().is_continue_as_new_suggested():
                break
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(inp)


@workflow.defn
class EventDeliveryWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def wake(self) -> None:
        self._woken = True

    @workflow.run
    async def run(self, inp: DeliveryInput) -> DeliverySummary:
        policy = inp.policy
        retry = RetryPolicy(initial_interval=timedelta(seconds=policy.retry_initial_seconds), backoff_coefficient=2.0,
                            maximum_interval=timedelta(seconds=max(policy.retry_max_seconds,
                                                                   policy.retry_initial_seconds)))
        summary = DeliverySummary(subscriber=inp.subscriber, stream=inp.stream)
        while summary.rounds < MAX_ROUNDS:
            self._woken = False
            outcome: DeliveryOutcome = await workflow.execute_activity(
                "events_deliver", inp, result_type=DeliveryOutcome,
                start_to_close_timeout=timedelta(seconds=policy.handler_timeout_seconds) + DELIVER_MARGIN,
                heartbeat_timeout=timedelta(seconds=policy.heartbeat_seconds), retry_policy=retry)
            summary.rounds += 1
            summary.delivered += outcome.delivered
            summary.dead += outcome.dead
            summary.skipped += outcome.skipped
            if outcome.remaining or self._woken:
                continue
            try:
                await workflow.wait_condition(lambda: self._woken, timeout=timedelta(seconds=policy.idle_seconds))
            except asyncio.TimeoutError:
                return summary
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(inp)
