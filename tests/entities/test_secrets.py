"""No secret of an entry reaches a sync's history, its results, a run record, an event or a log line."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import WorkflowFailureError

from runtime.entities.types import EntitySyncInput, EntitySyncResult

from .conftest import light


async def _history_and_tables(temporal_client, pool, workflow_id: str) -> str:
    history = (await temporal_client.get_workflow_handle(workflow_id).fetch_history()).to_json()
    async with pool.acquire() as conn:
        tables = [str(await conn.fetch(f"SELECT * FROM {t}")) for t in ("entities", "events", "entity_sync_runs")]
    return history + "".join(tables)


async def test_sync_of_an_entry_with_secrets_keeps_them_out_of_history_tables_and_logs(
    worker, temporal_client, settings, pool, make_things, distinctive_secret, captured_logs
):
    things = await make_things(secrets={"api_key": distinctive_secret})
    things.report([light(1)])
    workflow_id = f"test-sync-{uuid.uuid4().hex[:8]}"
    result = await temporal_client.execute_workflow(
        "EntitySyncWorkflow", EntitySyncInput(entry_id=things.id), id=workflow_id,
        task_queue=settings.temporal.task_queue, result_type=EntitySyncResult)
    assert result.status == "ok"
    assert distinctive_secret not in await _history_and_tables(temporal_client, pool, workflow_id)
    assert distinctive_secret not in captured_logs.getvalue()


async def test_a_pull_that_leaks_the_entrys_secret_is_refused_and_the_refusal_does_not_repeat_it(
    worker, temporal_client, settings, pool, make_things, distinctive_secret, captured_logs
):
    things = await make_things(secrets={"api_key": distinctive_secret})
    things.report([light(1), {"entity_id": "debug", "type": "sensor", "state": f"key={distinctive_secret}"}])
    workflow_id = f"test-sync-{uuid.uuid4().hex[:8]}"
    with pytest.raises(WorkflowFailureError) as err:
        await temporal_client.execute_workflow(
            "EntitySyncWorkflow", EntitySyncInput(entry_id=things.id), id=workflow_id,
            task_queue=settings.temporal.task_queue)
    assert "entity_contains_secret" in str(err.value.cause)
    assert distinctive_secret not in await _history_and_tables(temporal_client, pool, workflow_id)
    assert distinctive_secret not in captured_logs.getvalue()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM entities WHERE source = 'pull'") == 0
