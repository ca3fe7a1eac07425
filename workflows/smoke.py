"""A trivial workflow that proves the stack works end to end: worker, Temporal, Postgres."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.smoke import DatabasePing, SmokeActivities


class SmokeResult(BaseModel):
    workflow_id: str
    database: DatabasePing


@workflow.defn
class SmokeWorkflow:
    @workflow.run
    async def run(self) -> SmokeResult:
        ping = await workflow.execute_activity_method(
            SmokeActivities.ping_database, start_to_close_timeout=timedelta(seconds=30)
        )
        return SmokeResult(workflow_id=workflow.info().workflow_id, database=ping)
