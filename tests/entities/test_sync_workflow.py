"""EntitySyncWorkflow on the real dev server: schedules fire, entities land, failures change nothing."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowFailureError

from runtime.entities.store import EntityStore
from runtime.entities.types import EntitySyncInput, EntitySyncResult

from .conftest import eventually, light


@pytest.fixture
def store(pool) -> EntityStore:
    return EntityStore(pool)


@pytest.fixture
def run_sync(temporal_client, settings):
    async def run(entry_id: str) -> EntitySyncResult:
        return await temporal_client.execute_workflow(
            "EntitySyncWorkflow", EntitySyncInput(entry_id=entry_id), id=f"test-sync-{uuid.uuid4().hex[:8]}",
            task_queue=settings.temporal.task_queue, result_type=EntitySyncResult)

    return run


async def test_a_triggered_schedule_runs_the_sync_and_entities_land(worker, schedules, store, make_things):
    things = await make_things()
    things.report([light(1), light(2)])
    assert await schedules.ensure(things.entry) == "created"
    await schedules.trigger(things.id)

    await eventually(lambda: _count_is(store, things.id, 3))  # two pulled + the seeded hub
    runs = await eventually(lambda: store.runs(things.id))
    assert {(r.kind, r.status) for r in runs} == {("seed", "ok"), ("pull", "ok")}
    assert all(r.workflow_id.startswith(f"entity-sync:{things.id}") for r in runs)


async def _count_is(store: EntityStore, entry_id: str, n: int) -> bool:
    return await store.count(entry_id) == n


async def test_a_short_interval_schedule_fires_by_itself(worker, schedules, store, make_things):
    things = await make_things(options={"sync_interval_seconds": 10})
    things.report([light(1)])
    await schedules.ensure(things.entry)
    # No trigger: the schedule's own interval (10 s, jitter up to 1 s) starts the workflow.
    await eventually(lambda: _count_is(store, things.id, 2), timeout=30)


async def test_seed_runs_once_and_survives_full_pulls(worker, run_sync, store, make_things):
    things = await make_things()
    things.report([light(1)])
    first = await run_sync(things.id)
    assert first.status == "ok" and first.seed.created == 1 and first.pull.created == 1
    second = await run_sync(things.id)
    assert second.seed is None and second.pull.unchanged == 1
    assert len(things.calls("initial")) == 1
    assert (await store.get(things.id, "things.hub")).source == "seed"


async def test_a_pull_with_one_change_updates_one_entity(worker, run_sync, store, make_things):
    things = await make_things()
    things.report([light(i) for i in range(5)])
    await run_sync(things.id)
    things.report([light(0), light(1, state="on"), light(2), light(3)])
    result = await run_sync(things.id)
    assert (result.pull.created, result.pull.updated, result.pull.deleted, result.pull.unchanged) == (0, 1, 1, 3)
    assert sorted(result.pull.sample_ids) == ["light.l1", "light.l4"]


async def test_a_pull_raising_half_way_leaves_the_store_as_before_and_is_recorded(
    worker, run_sync, store, pool, make_things
):
    things = await make_things()
    things.report([light(i) for i in range(5)])
    await run_sync(things.id)
    before = [e.model_dump() for e in await store.list_entities(things.id)]

    things.report([light(i, state="on") for i in range(10)])
    things.fail_after(6)
    with pytest.raises(WorkflowFailureError) as err:
        await run_sync(things.id)
    assert "entity_hook_failed" in str(err.value.cause)

    assert [e.model_dump() for e in await store.list_entities(things.id)] == before
    assert len(things.calls("sync")) == 1 + 3  # the first pull, then three attempts of the failing one
    latest = (await store.runs(things.id))[0]
    assert (latest.kind, latest.status, latest.reason) == ("pull", "failed", "entity_hook_failed")


async def test_an_invalid_pull_fails_at_once_without_retries(worker, run_sync, store, make_things):
    things = await make_things()
    things.report([light(1), {"entity_id": "x", "type": "toaster"}])
    with pytest.raises(WorkflowFailureError):
        await run_sync(things.id)
    assert len(things.calls("sync")) == 1  # entity_invalid is not retried: the same pull would fail again
    assert (await store.runs(things.id))[0].reason == "entity_invalid"
    assert await store.count(things.id) == 1  # only the seed, which committed before the pull


async def test_health_down_skips_the_pull_and_records_it(worker, run_sync, store, make_things):
    things = await make_things()
    things.report([light(1)])
    things.health(up=False)
    result = await run_sync(things.id)
    assert (result.status, result.reason) == ("skipped", "health_down")
    assert things.calls("sync") == [] and await store.count(things.id) == 0
    [run] = await store.runs(things.id)
    assert (run.kind, run.status, run.reason) == ("pull", "skipped", "health_down")

    things.health(up=True)
    assert (await run_sync(things.id)).status == "ok"


async def test_a_disabled_entry_is_skipped(worker, run_sync, services, store, make_things):
    things = await make_things()
    await services.entries.set_disabled(things.id, True)
    result = await run_sync(things.id)
    assert (result.status, result.reason) == ("skipped", "entry_disabled")
    assert things.calls() == []


async def test_a_sync_of_a_deleted_entry_ends_quietly(worker, run_sync, services, make_things):
    things = await make_things()
    await services.entries.delete(things.id)
    result = await run_sync(things.id)
    assert (result.status, result.reason) == ("skipped", "entry_not_found")
