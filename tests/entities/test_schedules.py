"""Entity-sync schedules follow their entries: created, paused, re-timed, removed, reconciled."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from runtime.entities.errors import ScheduleNotFoundError
from runtime.entities.schedules import (
    DISABLED_NOTE,
    EntryLifecycle,
    reconcile_schedules,
    schedule_id,
    trigger_sync,
)
from runtime.entities.store import EntityStore
from runtime.integrations.scopes import EntryOwner

from .conftest import eventually, light, schedule_exists


async def _describe(client, entry_id: str):
    return (await client.get_schedule_handle(schedule_id(entry_id)).describe()).schedule


async def test_schedule_uses_manifest_interval_skip_overlap_and_jitter(
    temporal_client, schedules, make_things, settings
):
    things = await make_things()
    await schedules.ensure(things.entry)
    schedule = await _describe(temporal_client, things.id)
    assert [i.every for i in schedule.spec.intervals] == [timedelta(hours=1)]  # the manifest's 3600 s
    assert schedule.spec.jitter == timedelta(minutes=1)
    assert schedule.policy.overlap.name == "SKIP"
    assert schedule.action.workflow == "EntitySyncWorkflow"
    assert schedule.action.task_queue == settings.temporal.task_queue
    assert not schedule.state.paused


async def test_entry_option_overrides_the_interval_and_an_update_retimes_it(
    temporal_client, schedules, services, make_things, settings
):
    things = await make_things(options={"sync_interval_seconds": 120})
    lifecycle = EntryLifecycle(services.registry, settings.temporal.task_queue)
    assert await lifecycle.on_entry_created(temporal_client, things.entry) == "created"
    assert (await _describe(temporal_client, things.id)).spec.intervals[0].every == timedelta(seconds=120)

    updated = await services.entries.update(things.id, options={"sync_interval_seconds": 45})
    assert await lifecycle.on_entry_updated(temporal_client, updated) == "updated"
    schedule = await _describe(temporal_client, things.id)
    assert schedule.spec.intervals[0].every == timedelta(seconds=45) and schedule.spec.jitter == timedelta(seconds=4.5)
    assert await lifecycle.on_entry_updated(temporal_client, updated) == "unchanged"


async def test_disabling_an_entry_pauses_its_schedule_and_enabling_resumes_it(
    temporal_client, schedules, services, make_things
):
    things = await make_things()
    await schedules.ensure(things.entry)
    disabled = await services.entries.set_disabled(things.id, True)
    assert await schedules.ensure(disabled) == "updated"
    state = (await _describe(temporal_client, things.id)).state
    assert state.paused and state.note == DISABLED_NOTE

    enabled = await services.entries.set_disabled(things.id, False)
    await schedules.ensure(enabled)
    assert not (await _describe(temporal_client, things.id)).state.paused


async def test_a_disabled_entry_gets_a_paused_schedule(temporal_client, schedules, services, make_things):
    things = await make_things()
    disabled = await services.entries.set_disabled(things.id, True)
    assert await schedules.ensure(disabled) == "created"
    assert (await _describe(temporal_client, things.id)).state.paused


async def test_deleting_an_entry_removes_its_schedule(temporal_client, schedules, services, make_things, settings):
    things = await make_things()
    lifecycle = EntryLifecycle(services.registry, settings.temporal.task_queue)
    await lifecycle.on_entry_created(temporal_client, things.entry)
    await services.entries.delete(things.id)
    assert await lifecycle.on_entry_deleted(temporal_client, things.entry) == "removed"
    assert not await schedule_exists(temporal_client, things.id)
    assert await lifecycle.on_entry_deleted(temporal_client, things.id) == "absent"


async def test_an_integration_without_entity_types_gets_no_schedule(temporal_client, schedules, services):
    entry = await services.entries.create(domain="notifier", owner=EntryOwner("global"), title="n")
    assert await schedules.ensure(entry) == "absent"
    assert not await schedule_exists(temporal_client, entry.id)


async def test_reconcile_twice_leaves_one_schedule_per_entry_and_removes_orphans(
    temporal_client, schedules, services, make_things, settings
):
    kept, gone = await make_things(), await make_things()
    await schedules.ensure(gone.entry)
    await services.entries.delete(gone.id)  # deleted with no lifecycle call: only reconcile can notice

    first = await reconcile_schedules(temporal_client, services, settings.temporal.task_queue)
    second = await reconcile_schedules(temporal_client, services, settings.temporal.task_queue)

    assert kept.id in first.created and second.unchanged == [kept.id] and not second.created
    assert await schedule_exists(temporal_client, kept.id)
    # The orphan is found through the (eventually consistent) schedule list.
    if gone.id not in first.removed + second.removed:
        await eventually(lambda: _reconcile_removes(temporal_client, services, settings, gone.id))
    assert not await schedule_exists(temporal_client, gone.id)

    async def listed() -> list[str]:
        return [s.id async for s in await temporal_client.list_schedules() if s.id == schedule_id(kept.id)]

    assert await eventually(listed) == [schedule_id(kept.id)]


async def _reconcile_removes(client, services, settings, entry_id: str) -> bool:
    report = await reconcile_schedules(client, services, settings.temporal.task_queue)
    return entry_id in report.removed or not await schedule_exists(client, entry_id)


async def test_reconcile_leaves_other_task_queues_schedules_alone(temporal_client, schedules, services, make_things):
    things = await make_things()
    await schedules.ensure(things.entry)
    await services.entries.delete(things.id)
    # Another deployment (task queue) sharing the namespace has no such entry, and must not touch it.
    report = await reconcile_schedules(temporal_client, services, "some-other-queue")
    assert things.id not in report.removed
    assert await schedule_exists(temporal_client, things.id)


async def test_agentrt_sync_triggers_the_schedule(worker, temporal_client, temporal_server, schedules, pool,
                                                  make_things, settings, capsys):
    from runtime.cli import _sync

    things = await make_things()
    things.report([light(1)])
    await schedules.ensure(things.entry)
    cli_settings = settings.model_copy(deep=True)
    cli_settings.temporal.address = temporal_server.address
    assert await _sync(argparse.Namespace(entry_id=things.id), cli_settings) == 0
    assert schedule_id(things.id) in capsys.readouterr().out

    store = EntityStore(pool)
    await eventually(lambda: _has(store, things.id, "light.l1"))


async def _has(store: EntityStore, entry_id: str, entity_id: str) -> bool:
    return await store.get(entry_id, entity_id) is not None


async def test_triggering_an_entry_without_a_schedule_says_so(temporal_client):
    with pytest.raises(ScheduleNotFoundError) as err:
        await trigger_sync(temporal_client, "no-such-entry")
    assert err.value.key == "entity_schedule_not_found"


async def test_a_new_entry_syncs_at_once_instead_of_an_interval_later(
    worker, temporal_client, schedules, services, make_things, settings
):
    things = await make_things(options={"sync_interval_seconds": 86_400})
    things.report([light(1), light(2, "on")])
    lifecycle = EntryLifecycle(services.registry, settings.temporal.task_queue)
    assert await lifecycle.on_entry_created(temporal_client, things.entry) == "created"
    store = EntityStore(services.ctx.pool)
    assert await eventually(lambda: _count_at_least(store, things.id, 2))
    assert [c["hook"] for c in things.calls("sync")] == ["sync"]  # one pull, from the trigger

    disabled = await make_things()
    await services.entries.set_disabled(disabled.id, True)
    await lifecycle.on_entry_created(temporal_client, await services.entries.get(disabled.id))
    handle = temporal_client.get_schedule_handle(schedule_id(disabled.id))
    described = await handle.describe()
    assert described.schedule.state.paused and described.info.num_actions == 0  # not triggered either
    enabled = (await temporal_client.get_schedule_handle(schedule_id(things.id)).describe()).info.num_actions
    assert enabled == 1


async def _count_at_least(store: EntityStore, entry_id: str, n: int) -> bool:
    return await store.count(entry_id) >= n
