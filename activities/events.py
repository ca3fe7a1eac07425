"""Event activities: route the outbox, deliver one subscriber's batch, complete a session.

Inputs and outputs are ids, counts and stable keys. A handler's error text stays in
Postgres (scrubbed); what reaches Temporal names the exception type only, because a
message may quote a URL with a token in it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from temporalio import activity
from temporalio.exceptions import ApplicationError

from runtime.errors import AgentrtError
from runtime.events.completion import CompletionService
from runtime.events.delivery import deliver_batch
from runtime.events.retention import PeriodicPrune
from runtime.events.signals import wake_deliveries
from runtime.events.types import (
    CompletionInput,
    CompletionPlan,
    CompletionRecordInput,
    CompletionRunInput,
    CompletionRunOutcome,
    DeliveryInput,
    DeliveryOutcome,
    DeliveryPolicy,
    RouteInput,
    RouteOutcome,
)
from runtime.logging import get_logger

from .session import heartbeating

if TYPE_CHECKING:
    from runtime.services import Services

log = get_logger(__name__)


class EventActivities:
    def __init__(self, services: "Services") -> None:
        self.s = services
        self.completion = CompletionService(services)
        self.prune = PeriodicPrune(services.ctx.pool, services.events.settings.retention_days)

    @activity.defn(name="events_route")
    async def route(self, inp: RouteInput) -> RouteOutcome:
        """Route a batch of unrouted events, then wake the delivery workflows with work (new or stalled)."""
        settings = self.s.events.settings
        router = self.s.events.router
        async with _keyed_failures("events_route"):
            routed, deliveries, pairs = await router.route_batch(inp.max_events)
            pairs |= await router.stale_pairs(settings.sweep_seconds)
        await self.prune.maybe_run()
        policy = DeliveryPolicy.from_settings(settings)
        woken = await wake_deliveries(activity.client(), inp.task_queue, pairs, policy) if pairs else 0
        return RouteOutcome(routed=routed, deliveries=deliveries, woken=woken, more=routed >= inp.max_events,
                            sweep_seconds=settings.sweep_seconds)

    @activity.defn(name="events_deliver")
    async def deliver(self, inp: DeliveryInput) -> DeliveryOutcome:
        async with heartbeating(), _keyed_failures("events_deliver"):
            return await deliver_batch(self.s, activity.client(), inp)

    @activity.defn(name="completion_prepare")
    async def completion_prepare(self, inp: CompletionInput) -> CompletionPlan:
        async with heartbeating(), _keyed_failures("completion_prepare"):
            return await self.completion.prepare(inp.session_id)

    @activity.defn(name="completion_run")
    async def completion_run(self, inp: CompletionRunInput) -> CompletionRunOutcome:
        async with heartbeating(), _keyed_failures("completion_run"):
            return await self.completion.run(inp.session_id, inp.entry_id)

    @activity.defn(name="completion_record")
    async def completion_record(self, inp: CompletionRecordInput) -> None:
        await self.completion.record_failed(inp.session_id, inp.entry_id, inp.reason)


@asynccontextmanager
async def _keyed_failures(activity_name: str) -> AsyncIterator[None]:
    """Failures reach Temporal as a stable key and an exception type, never a message (it may quote a secret)."""
    try:
        yield
    except AgentrtError as exc:
        raise ApplicationError(f"{activity_name}: {exc.message}", type=exc.key) from None
    except Exception as exc:
        log.warning("event_activity_failed", activity=activity_name, error_type=type(exc).__name__, exc_info=True)
        raise ApplicationError(f"{activity_name} raised {type(exc).__name__}", type="event_activity_failed") from None
