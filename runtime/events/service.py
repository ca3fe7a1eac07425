"""What a worker (and the API) holds for events: the catalogue, the router, the dispatcher waker."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from ..logging import get_logger
from ..settings import Settings
from .catalogue import EventCatalogue
from .routing import EventRouter
from .signals import DispatchWaker
from .types import CompletionInput, completion_workflow_id

if TYPE_CHECKING:
    from ..integrations.entries import EntriesService
    from ..integrations.registry import IntegrationRegistry
    from ..plugins.configs import PluginConfigStore
    from ..plugins.registry import PluginRegistry

log = get_logger(__name__)
COMPLETION_WORKFLOW = "SessionCompletionWorkflow"


class EventsService:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, registry: "IntegrationRegistry",
                 plugins: "PluginRegistry", entries: "EntriesService", configs: "PluginConfigStore",
                 catalogue: EventCatalogue) -> None:
        self.settings = settings.events
        self.catalogue = catalogue
        self.router = EventRouter(pool, registry, plugins, entries, configs)
        self.waker = DispatchWaker(self.settings.wake_delay_seconds)

    def wake(self) -> None:
        """Events were committed: have the dispatcher route them soon. Never blocks, never raises."""
        try:
            self.waker.poke()
        except Exception as exc:  # waking is an optimisation; the sweep is the guarantee
            log.warning("events_wake_failed", error_type=type(exc).__name__)

    async def start_completion(self, client: Client, task_queue: str, session_id: str) -> bool:
        """Start the session's completion workflow once; False when it already ran or runs."""
        try:
            await client.start_workflow(
                COMPLETION_WORKFLOW,
                CompletionInput(session_id=session_id, attempts=self.settings.completion_attempts,
                                retry_initial_seconds=self.settings.retry_initial_seconds),
                id=completion_workflow_id(session_id), task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return False
        log.info("session_completion_started", session_id=session_id)
        return True

    async def close(self) -> None:
        await self.waker.close()
