"""EntitySyncWorkflow: one scheduled pull of an entry's entities.

Started by the entry's Temporal Schedule (``entity-sync:<entry_id>``, overlap SKIP) or by
``agentrt sync``. The business process: is the entry enabled and its connection healthy?
If not, record the skip and stop. Seed the entry once (``async_initial_entities``), then
pull (``async_sync_entities``) and write the diff. The workflow holds an entry id and
counts; entity content, secrets and errors' messages stay in the activities.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from runtime.entities.types import (
        EntitySyncInput,
        EntitySyncResult,
        EntryCheck,
        RecordRunInput,
        SyncOutcome,
    )

# Failures no retry can fix: the entry or its code is gone, or the pull itself is invalid.
PERMANENT = ["entry_not_found", "integration_not_found", "entity_invalid", "entity_contains_secret",
             "entities_not_supported"]
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=30), maximum_attempts=3, non_retryable_error_types=PERMANENT)
CHECK_TIMEOUT = timedelta(seconds=60)
WRITE_TIMEOUT = timedelta(minutes=15)
HEARTBEAT = timedelta(seconds=30)


def failure_key(err: ActivityError) -> str:
    """A stable key for why an activity gave up; never its message."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        return cause.type
    if isinstance(cause, TimeoutError):
        return "activity_timeout"
    return "activity_failed"


@workflow.defn
class EntitySyncWorkflow:
    @workflow.run
    async def run(self, inp: EntitySyncInput) -> EntitySyncResult:
        try:
            check: EntryCheck = await workflow.execute_activity(
                "entities_check", inp, result_type=EntryCheck, start_to_close_timeout=CHECK_TIMEOUT, retry_policy=RETRY)
        except ActivityError as err:
            if failure_key(err) == "entry_not_found":  # deleted since the schedule fired: nothing to do
                return EntitySyncResult(entry_id=inp.entry_id, status="skipped", reason="entry_not_found")
            return await self._failed(inp, "pull", failure_key(err))
        if check.skip_reason:
            await self._record(RecordRunInput(entry_id=inp.entry_id, kind="pull", status="skipped",
                                              reason=check.skip_reason))
            return EntitySyncResult(entry_id=inp.entry_id, status="skipped", reason=check.skip_reason)

        seed: SyncOutcome | None = None
        if check.needs_seed:
            try:
                seed = await self._write("entities_seed", inp)
            except ActivityError as err:
                return await self._failed(inp, "seed", failure_key(err))
        try:
            pull = await self._write("entities_pull", inp)
        except ActivityError as err:
            return await self._failed(inp, "pull", failure_key(err))
        return EntitySyncResult(entry_id=inp.entry_id, status="ok", seed=seed, pull=pull)

    async def _write(self, activity: str, inp: EntitySyncInput) -> SyncOutcome:
        return await workflow.execute_activity(
            activity, inp, result_type=SyncOutcome, start_to_close_timeout=WRITE_TIMEOUT, heartbeat_timeout=HEARTBEAT,
            retry_policy=RETRY)

    async def _record(self, record: RecordRunInput) -> None:
        await workflow.execute_activity("entities_record_run", record, start_to_close_timeout=CHECK_TIMEOUT,
                                        retry_policy=RETRY)

    async def _failed(self, inp: EntitySyncInput, kind: str, reason: str) -> NoReturn:
        """Record the failure where it can be queried, then fail the run so Temporal shows it too."""
        await self._record(RecordRunInput(entry_id=inp.entry_id, kind=kind, status="failed", reason=reason[:100]))
        raise ApplicationError(f"entity sync of {inp.entry_id} failed: {reason}", type=reason, non_retryable=True)
