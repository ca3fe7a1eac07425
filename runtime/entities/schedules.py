"""One Temporal Schedule per entity-providing config entry: ``entity-sync:<entry_id>``.

An entry whose integration declares entity types gets a schedule that starts
``EntitySyncWorkflow(entry_id)`` every ``sync_interval_seconds`` (entry options, else
the manifest, else 300 s), with jitter so entries created together do not pull
together, and overlap SKIP so a slow pull is never stacked. A disabled entry's schedule
is paused; a deleted entry's schedule is removed.

:func:`reconcile_schedules` makes the schedules match the entries (run at worker start;
idempotent); :class:`EntryLifecycle` keeps one entry's schedule in step as the API
creates, changes and deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.service import RPCError, RPCStatusCode

from ..integrations.entry_model import ConfigEntry, entry_from_row
from ..logging import get_logger
from .errors import ScheduleNotFoundError
from .types import EntitySyncInput

log = get_logger(__name__)

SCHEDULE_PREFIX = "entity-sync:"
WORKFLOW_NAME = "EntitySyncWorkflow"  # by name: runtime does not import workflows
DEFAULT_INTERVAL_SECONDS = 300
MIN_INTERVAL_SECONDS = 10
MAX_JITTER = timedelta(seconds=60)
# A stuck run must not hold the SKIP overlap policy forever.
RUN_TIMEOUT = timedelta(hours=1)
DISABLED_NOTE = "paused: config entry disabled"

Outcome = Literal["created", "updated", "unchanged", "removed", "absent", "left_alone"]


def schedule_id(entry_id: str) -> str:
    return f"{SCHEDULE_PREFIX}{entry_id}"


def sync_interval(entry: ConfigEntry, manifest: Any) -> timedelta:
    """Entry option, else manifest, else the default; a bad option is ignored (and logged), not fatal."""
    raw = entry.options.get("sync_interval_seconds")
    if raw is not None:
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= MIN_INTERVAL_SECONDS:
            return timedelta(seconds=raw)
        log.warning("entity_sync_interval_option_invalid", entry_id=entry.id, minimum=MIN_INTERVAL_SECONDS)
    seconds = getattr(manifest, "sync_interval_seconds", None) or DEFAULT_INTERVAL_SECONDS
    return timedelta(seconds=seconds)


def jitter_for(interval: timedelta) -> timedelta:
    """A tenth of the interval, at most a minute: enough to spread a fleet, small enough to keep the cadence."""
    return min(interval / 10, MAX_JITTER)


def build_schedule(entry: ConfigEntry, manifest: Any, task_queue: str) -> Schedule:
    interval = sync_interval(entry, manifest)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            WORKFLOW_NAME, EntitySyncInput(entry_id=entry.id), id=schedule_id(entry.id), task_queue=task_queue,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)], jitter=jitter_for(interval)),
        # A worker fleet that was down for a day runs one catch-up pull, not 288.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=max(interval, timedelta(minutes=1))),
        state=ScheduleState(paused=entry.disabled, note=DISABLED_NOTE if entry.disabled else None),
    )


def _not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


def _same_definition(current: Schedule, desired: Schedule) -> bool:
    cur, want = current.action, desired.action
    if not isinstance(cur, ScheduleActionStartWorkflow) or not isinstance(want, ScheduleActionStartWorkflow):
        return False
    return (
        cur.workflow == want.workflow and cur.id == want.id and cur.task_queue == want.task_queue
        and [i.every for i in current.spec.intervals] == [i.every for i in desired.spec.intervals]
        and current.spec.jitter == desired.spec.jitter
        and current.policy.overlap == desired.policy.overlap
    )


class EntitySchedules:
    """The schedules of entries, for one Temporal client, integration registry and task queue."""

    def __init__(self, client: Client, registry: Any, task_queue: str) -> None:
        self.client = client
        self.registry = registry
        self.task_queue = task_queue

    def _manifest(self, domain: str) -> Any | None:
        return self.registry.get(domain).manifest if domain in self.registry else None

    async def ensure(self, entry: ConfigEntry) -> Outcome:
        """Create, update, pause/unpause or remove the entry's schedule so it matches the entry."""
        if entry.domain not in self.registry:
            # This process does not have the code (a rolling deploy, a vanished integration):
            # it cannot tell whether a schedule is wanted, so it leaves any schedule as it is.
            log.info("entity_schedule_left_alone", entry_id=entry.id, domain=entry.domain)
            return "left_alone"
        loaded = self.registry.get(entry.domain)
        if not loaded.integration.entity_types():
            return "removed" if await self.remove(entry.id) else "absent"
        desired = build_schedule(entry, loaded.manifest, self.task_queue)
        handle = self.client.get_schedule_handle(schedule_id(entry.id))
        try:
            current = (await handle.describe()).schedule
        except RPCError as exc:
            if not _not_found(exc):
                raise
            try:
                await self.client.create_schedule(schedule_id(entry.id), desired)
            except ScheduleAlreadyRunningError:  # created concurrently (two workers starting): converge below
                current = (await handle.describe()).schedule
            else:
                log.info("entity_schedule_created", entry_id=entry.id, domain=entry.domain,
                         interval_seconds=int(desired.spec.intervals[0].every.total_seconds()), paused=entry.disabled)
                return "created"
        outcome: Outcome = "unchanged"
        if not _same_definition(current, desired):
            await handle.update(lambda inp: _keep_state(inp.description.schedule, desired))
            outcome = "updated"
        if current.state.paused != entry.disabled:
            await (handle.pause(note=DISABLED_NOTE) if entry.disabled else handle.unpause(note="config entry enabled"))
            outcome = "updated"
        if outcome == "updated":
            log.info("entity_schedule_updated", entry_id=entry.id, domain=entry.domain, paused=entry.disabled)
        return outcome

    async def remove(self, entry_id: str) -> bool:
        try:
            await self.client.get_schedule_handle(schedule_id(entry_id)).delete()
        except RPCError as exc:
            if _not_found(exc):
                return False
            raise
        log.info("entity_schedule_removed", entry_id=entry_id)
        return True

    async def trigger(self, entry_id: str) -> None:
        await trigger_sync(self.client, entry_id)


def _keep_state(current: Schedule, desired: Schedule) -> Any:
    from temporalio.client import ScheduleUpdate

    # Definition from `desired`; pause state and note are the schedule's own (ensure() sets them).
    return ScheduleUpdate(schedule=Schedule(action=desired.action, spec=desired.spec, policy=desired.policy,
                                            state=current.state))


@dataclass
class ReconcileReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)

    def count(self) -> dict[str, int]:
        return {k: len(v) for k, v in vars(self).items()}


async def reconcile_schedules(client: Client, services: Any, task_queue: str) -> ReconcileReport:
    """Make the entity-sync schedules match the entries. Idempotent: a second run changes nothing.

    Schedules of entries that no longer exist are removed, but only those that start work on
    ``task_queue``: a namespace shared by several deployments keeps the others' schedules.
    """
    schedules = EntitySchedules(client, services.registry, task_queue)
    async with services.ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM config_entries ORDER BY id")
    report = ReconcileReport()
    entry_ids = set()
    for row in rows:
        entry = entry_from_row(row)
        entry_ids.add(entry.id)
        outcome = await schedules.ensure(entry)
        if outcome != "absent":
            getattr(report, outcome).append(entry.id)
    async for listed in await client.list_schedules():
        if not listed.id.startswith(SCHEDULE_PREFIX) or listed.id[len(SCHEDULE_PREFIX):] in entry_ids:
            continue
        try:
            action = (await client.get_schedule_handle(listed.id).describe()).schedule.action
        except RPCError as exc:
            if _not_found(exc):
                continue
            raise
        if isinstance(action, ScheduleActionStartWorkflow) and action.task_queue == task_queue:
            if await schedules.remove(listed.id[len(SCHEDULE_PREFIX):]):
                report.removed.append(listed.id[len(SCHEDULE_PREFIX):])
    log.info("entity_schedules_reconciled", task_queue=task_queue, **report.count())
    return report


class EntryLifecycle:
    """What the API calls after it changes a config entry, so the entry's schedule follows.

    ``on_entry_updated`` covers every change: options (interval), disable/enable (pause).
    """

    def __init__(self, registry: Any, task_queue: str) -> None:
        self.registry = registry
        self.task_queue = task_queue

    def _schedules(self, client: Client) -> EntitySchedules:
        return EntitySchedules(client, self.registry, self.task_queue)

    async def on_entry_created(self, client: Client, entry: ConfigEntry) -> Outcome:
        """Create the schedule and run its first sync now: a new entry's entities (and its
        seed) should not wait a whole interval, which may be a day."""
        schedules = self._schedules(client)
        outcome = await schedules.ensure(entry)
        if outcome == "created" and not entry.disabled:
            try:
                await schedules.trigger(entry.id)
            except Exception as exc:  # the schedule exists and will run; only the head start is lost
                log.warning("entity_first_sync_trigger_failed", entry_id=entry.id, error_type=type(exc).__name__)
        return outcome

    async def on_entry_updated(self, client: Client, entry: ConfigEntry) -> Outcome:
        return await self._schedules(client).ensure(entry)

    async def on_entry_deleted(self, client: Client, entry: ConfigEntry | str) -> Outcome:
        entry_id = entry if isinstance(entry, str) else entry.id
        return "removed" if await self._schedules(client).remove(entry_id) else "absent"


async def trigger_sync(client: Client, entry_id: str) -> None:
    """Run the entry's sync now (``agentrt sync ENTRY_ID``). The schedule's overlap policy
    applies: while a sync of the entry runs, the trigger is skipped rather than stacked."""
    try:
        await client.get_schedule_handle(schedule_id(entry_id)).trigger()
    except RPCError as exc:
        if _not_found(exc):
            raise ScheduleNotFoundError(f"config entry {entry_id!r} has no entity sync schedule") from None
        raise
    log.info("entity_sync_triggered", entry_id=entry_id)


async def reconcile_at_start(client: Client, services: Any, task_queue: str) -> ReconcileReport | None:
    """Reconcile when a worker starts. A failure is logged, not raised: the worker can do its
    work with stale schedules, and the next start (or an entry change) reconciles again."""
    try:
        return await reconcile_schedules(client, services, task_queue)
    except Exception as exc:
        log.warning("entity_schedules_reconcile_failed", task_queue=task_queue, error_type=type(exc).__name__,
                    exc_info=True)
        return None
