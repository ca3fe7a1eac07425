"""Entity activities: check (entry state + health), seed once, pull, record a run, handle a webhook.

Each builds the entry's :class:`SetupContext` itself (decrypting inside the activity) and
returns only ids, counts and stable keys. An integration hook's exception never reaches
Temporal as-is: its message (and its cause chain) could carry a URL with a token, so it
is logged (scrubbed) and replaced by ``<hook> raised <ExceptionType>``.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from runtime.entities import deliveries
from runtime.entities.errors import EntitiesNotSupportedError, WebhookNotSupportedError
from runtime.entities.prepare import collect, prepare_entities
from runtime.entities.schedules import schedule_id
from runtime.entities.store import EntityDiff, EntityStore
from runtime.entities.types import (
    MAX_IDS_IN_RESULT,
    EntryCheck,
    EntitySyncInput,
    RecordRunInput,
    SyncOutcome,
    WebhookInput,
)
from runtime.errors import AgentrtError
from runtime.events.catalogue import ScheduleFired
from runtime.events.outbox import NewEvent, insert_events
from runtime.integrations.config_errors import EntryNotFoundError, IntegrationUnavailableError
from runtime.integrations.entity import Health
from runtime.integrations.entry_model import ConfigEntry
from runtime.integrations.entry_states import ConfigEntryState
from runtime.integrations.integration import Integration, SetupContext
from runtime.integrations.lookup import lookup_integration
from runtime.logging import get_logger

from .session import heartbeating

if TYPE_CHECKING:
    from runtime.services import Services

log = get_logger(__name__)
HEALTH_TIMEOUT_SECONDS = 30.0


def _non_retryable(exc: AgentrtError) -> ApplicationError:
    return ApplicationError(exc.message, type=exc.key, non_retryable=True)


def _outcome(entry_id: str, kind: str, diff: EntityDiff, reason: str | None = None) -> SyncOutcome:
    sample = (diff.created + diff.updated + diff.deleted)[:MAX_IDS_IN_RESULT]
    return SyncOutcome(entry_id=entry_id, kind=kind, status="ok", reason=reason, created=len(diff.created),
                       updated=len(diff.updated), deleted=len(diff.deleted), unchanged=diff.unchanged,
                       sample_ids=sample)


async def _run_hook(hook: str, entry_id: str, call: Callable[[], Any]) -> Any:
    """Call an integration hook (a coroutine, a plain value, or an async generator) and drain it."""
    try:
        result = call()
        if inspect.isawaitable(result):
            result = await result
        return result
    except AgentrtError:
        raise
    except Exception as exc:
        log.warning("entity_hook_failed", hook=hook, entry_id=entry_id, error_type=type(exc).__name__, exc_info=True)
        # Retryable: most hook failures are a remote service having a bad minute.
        raise ApplicationError(f"{hook} raised {type(exc).__name__}", type="entity_hook_failed") from None


class EntityActivities:
    def __init__(self, services: "Services") -> None:
        self.s = services
        self.store = EntityStore(services.ctx.pool)

    # -- loading ----------------------------------------------------------------------
    async def _entry(self, entry_id: str) -> tuple[ConfigEntry, Integration]:
        """The entry and its integration, migrated; raises non-retryably when either is gone."""
        try:
            entry = await self.s.entries.get(entry_id)
            integration = lookup_integration(self.s.registry, entry.domain).integration
            entry = await self.s.entries.migrate_if_needed(entry, integration)
        except (EntryNotFoundError, IntegrationUnavailableError) as exc:
            raise _non_retryable(exc) from None
        return entry, integration

    async def _context(self, entry_id: str) -> SetupContext:
        return await self.s.entries.build_setup_context(entry_id)

    async def _note_schedule_fire(self, entry_id: str) -> None:
        """A run the entry's schedule started (its workflow id is the schedule's plus a timestamp): schedule_fired."""
        workflow_id, sid = activity.info().workflow_id, schedule_id(entry_id)
        if not workflow_id.startswith(sid + "-"):
            return
        event = NewEvent.of(ScheduleFired(entry_id=entry_id, schedule_id=sid, workflow_id=workflow_id),
                            key=f"schedule_fired:{workflow_id}")
        async with self.s.ctx.pool.acquire() as conn:
            await insert_events(conn, [event])
        self.s.events.wake()

    @staticmethod
    def _skip_reason(entry: ConfigEntry, integration: Integration) -> str | None:
        if entry.disabled:
            return "entry_disabled"
        if entry.state == ConfigEntryState.MIGRATION_ERROR:
            return "entry_migration_error"
        if not integration.entity_types():
            return EntitiesNotSupportedError.key
        return None

    async def _collect(self, hook: str, entry_id: str, call: Callable[[], Any]) -> list[Any]:
        result = await _run_hook(hook, entry_id, call)
        try:
            return await collect(result)
        except AgentrtError as exc:
            raise _non_retryable(exc) from None
        except Exception as exc:  # an async generator that raised half-way
            log.warning("entity_hook_failed", hook=hook, entry_id=entry_id, error_type=type(exc).__name__,
                        exc_info=True)
            raise ApplicationError(f"{hook} raised {type(exc).__name__}", type="entity_hook_failed") from None

    def _prepare(self, items: list[Any], integration: Integration, ctx: SetupContext) -> list[Any]:
        try:
            return prepare_entities(items, allowed_types=integration.entity_types(),
                                    forbidden_values=list(ctx.secrets.values()))
        except AgentrtError as exc:
            raise _non_retryable(exc) from None

    # -- activities ---------------------------------------------------------------------
    @activity.defn(name="entities_check")
    async def check(self, inp: EntitySyncInput) -> EntryCheck:
        """Should a sync run now? Entry enabled and migrated, entity types declared, connection healthy."""
        await self._note_schedule_fire(inp.entry_id)
        entry, integration = await self._entry(inp.entry_id)
        base = {"entry_id": entry.id, "domain": entry.domain}
        reason = self._skip_reason(entry, integration)
        if reason:
            return EntryCheck(**base, skip_reason=reason)
        ctx = await self._context(entry.id)
        try:
            raw = await asyncio.wait_for(integration.async_health(ctx), HEALTH_TIMEOUT_SECONDS)
            health = Health.of(raw)
        except Exception as exc:
            # A health check that cannot answer is a connection that is not healthy.
            log.warning("entity_health_check_failed", entry_id=entry.id, domain=entry.domain,
                        error_type=type(exc).__name__, exc_info=True)
            health = Health(healthy=False, reason="health_check_failed")
        needs_seed = not await self.store.seeded(entry.id)
        if health.down:
            log.info("entity_health_down", entry_id=entry.id, domain=entry.domain, reason=health.reason)
            return EntryCheck(**base, skip_reason="health_down", healthy=False, needs_seed=needs_seed)
        return EntryCheck(**base, healthy=health.healthy, needs_seed=needs_seed)

    @activity.defn(name="entities_seed")
    async def seed(self, inp: EntitySyncInput) -> SyncOutcome:
        """Write ``async_initial_entities`` once per entry; the mark and the rows commit together."""
        # Heartbeats cover the hook and the write alike: a big write must not look like a dead worker.
        async with heartbeating():
            outcome = await self._seed(inp)
        self.s.events.wake()  # entity.* and sync events committed with the write
        return outcome

    async def _seed(self, inp: EntitySyncInput) -> SyncOutcome:
        entry, integration = await self._entry(inp.entry_id)
        if await self.store.seeded(entry.id):
            return SyncOutcome(entry_id=entry.id, kind="seed", status="ok", reason="already_seeded")
        ctx = await self._context(entry.id)
        items = await self._collect("async_initial_entities", entry.id, lambda: integration.async_initial_entities(ctx))
        prepared = self._prepare(items, integration, ctx)
        async with self.store.writing(entry.id) as writer:
            if await writer.seeded():  # a concurrent run seeded meanwhile
                return SyncOutcome(entry_id=entry.id, kind="seed", status="ok", reason="already_seeded")
            diff = await writer.apply(prepared, full=False, source="seed")
            await writer.mark_seeded()
            await writer.record_run("seed", "ok", diff=diff, workflow_id=activity.info().workflow_id)
        log.info("entities_seeded", entry_id=entry.id, domain=entry.domain, created=len(diff.created))
        return _outcome(entry.id, "seed", diff)

    @activity.defn(name="entities_pull")
    async def pull(self, inp: EntitySyncInput) -> SyncOutcome:
        """A full pull: every entity the integration reports; the rest of the entry's entities go."""
        async with heartbeating():
            outcome = await self._pull(inp)
        self.s.events.wake()
        return outcome

    async def _pull(self, inp: EntitySyncInput) -> SyncOutcome:
        entry, integration = await self._entry(inp.entry_id)
        ctx = await self._context(entry.id)
        items = await self._collect("async_sync_entities", entry.id, lambda: integration.async_sync_entities(ctx))
        prepared = self._prepare(items, integration, ctx)
        async with self.store.writing(entry.id) as writer:
            diff = await writer.apply(prepared, full=True)
            await writer.record_run("pull", "ok", diff=diff, workflow_id=activity.info().workflow_id)
        log.info("entities_pulled", entry_id=entry.id, domain=entry.domain, pulled=len(prepared),
                 created=len(diff.created), updated=len(diff.updated), deleted=len(diff.deleted),
                 unchanged=diff.unchanged)
        return _outcome(entry.id, "pull", diff)

    @activity.defn(name="entities_record_run")
    async def record_run(self, inp: RecordRunInput) -> None:
        await self.store.record_run(inp.entry_id, inp.kind, inp.status, reason=inp.reason,
                                    workflow_id=activity.info().workflow_id)
        self.s.events.wake()
        log.info("entity_sync_run_recorded", entry_id=inp.entry_id, kind=inp.kind, status=inp.status,
                 reason=inp.reason)

    @activity.defn(name="entities_handle_webhook")
    async def handle_webhook(self, inp: WebhookInput) -> SyncOutcome:
        """Run ``async_handle_webhook`` on a stored delivery. A list it returns is a partial entity
        update, written in the same transaction that marks the delivery processed; a retry after
        that commit returns the recorded outcome without running the handler again."""
        async with heartbeating():
            outcome = await self._handle_webhook(inp)
        self.s.events.wake()
        return outcome

    async def _handle_webhook(self, inp: WebhookInput) -> SyncOutcome:
        delivery = await deliveries.get(self.s.ctx.pool, inp.delivery_id)
        if delivery is None or delivery.entry_id != inp.entry_id:
            raise ApplicationError("webhook delivery not found", type="webhook_delivery_not_found",
                                   non_retryable=True)
        if delivery.outcome is not None:
            return SyncOutcome.model_validate(delivery.outcome)
        entry, integration = await self._entry(inp.entry_id)
        if entry.disabled:
            outcome = SyncOutcome(entry_id=entry.id, kind="webhook", status="skipped", reason="entry_disabled")
            await deliveries.mark_processed(self.s.ctx.pool, delivery.id, outcome.model_dump(mode="json"))
            await self.store.record_run(entry.id, "webhook", "skipped", reason="entry_disabled",
                                        workflow_id=activity.info().workflow_id)
            return outcome
        if type(integration).async_handle_webhook is Integration.async_handle_webhook:
            raise _non_retryable(WebhookNotSupportedError(f"{entry.domain} does not accept webhooks"))
        ctx = await self._context(entry.id)
        result = await _run_hook("async_handle_webhook", entry.id,
                                 lambda: integration.async_handle_webhook(ctx, delivery.payload))
        items = await self._collect("async_handle_webhook", entry.id, lambda: result) if _is_entities(result) else []
        prepared = self._prepare(items, integration, ctx) if items else []
        async with self.store.writing(entry.id) as writer:
            diff = await writer.apply(prepared, full=False, source="push") if prepared else EntityDiff()
            outcome = _outcome(entry.id, "webhook", diff)
            await writer.record_run("webhook", "ok", diff=diff, workflow_id=activity.info().workflow_id)
            await deliveries.mark_processed(writer.conn, delivery.id, outcome.model_dump(mode="json"))
        log.info("entity_webhook_handled", entry_id=entry.id, domain=entry.domain, delivery_id=delivery.id,
                 created=outcome.created, updated=outcome.updated)
        return outcome


def _is_entities(result: Any) -> bool:
    """Handlers may return entities to write (a list or async iterable); anything else is just "handled"."""
    return isinstance(result, (list, tuple)) or hasattr(result, "__aiter__")


