from __future__ import annotations

import uuid

from workflows.smoke import SmokeWorkflow


async def test_smoke_workflow_runs_on_worker_and_queries_postgres(temporal_client, worker, settings):
    result = await temporal_client.execute_workflow(
        SmokeWorkflow.run, id=f"smoke-{uuid.uuid4()}", task_queue=settings.temporal.task_queue
    )
    assert result.database.migrations_applied >= 2
    assert result.database.database.startswith("agentrt_t_")
