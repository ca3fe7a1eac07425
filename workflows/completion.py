"""SessionCompletionWorkflow: after a session ends, its observers' snapshots and its completion handlers.

Started once per session by the ``session_end`` activity. ``completion_prepare`` feeds each
observing entry's observer the session's events and stores the snapshots in
``sessions.logs``; then every completing entry's ``run_completion`` runs as its own
activity, in parallel, with retries. An entry that still fails is recorded with its stable
key and the others carry on: one completion never stops another.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from .entity_sync import failure_key

with workflow.unsafe.imports_passed_through():
    from runtime.events.types import (
        CompletionInput,
        CompletionPlan,
        CompletionRecordInput,
        CompletionRunInput,
        CompletionRunOutcome,
        CompletionSummary,
        CompletionTarget,
    )

PREPARE_TIMEOUT = timedelta(minutes=5)
RUN_TIMEOUT = timedelta(minutes=10)
RECORD_TIMEOUT = timedelta(seconds=60)


@workflow.defn
class SessionCompletionWorkflow:
    @workflow.run
    async def run(self, inp: CompletionInput) -> CompletionSummary:
        retry = RetryPolicy(initial_interval=timedelta(seconds=inp.retry_initial_seconds), backoff_coefficient=2.0,
                            maximum_interval=timedelta(seconds=60), maximum_attempts=inp.attempts)
        plan: CompletionPlan = await workflow.execute_activity(
            "completion_prepare", inp, result_type=CompletionPlan, start_to_close_timeout=PREPARE_TIMEOUT,
            retry_policy=retry)
        statuses = await asyncio.gather(*(self._complete(inp, t, retry) for t in plan.targets))
        return CompletionSummary(session_id=inp.session_id, ok=statuses.count("ok"),
                                 skipped=statuses.count("skipped") + plan.skipped, failed=statuses.count("failed"))

    async def _complete(self, inp: CompletionInput, target: CompletionTarget, retry: RetryPolicy) -> str:
        try:
            outcome: CompletionRunOutcome = await workflow.execute_activity(
                "completion_run", CompletionRunInput(session_id=inp.session_id, entry_id=target.entry_id),
                result_type=CompletionRunOutcome, start_to_close_timeout=RUN_TIMEOUT, retry_policy=retry)
            return outcome.status
        except ActivityError as err:
            await workflow.execute_activity(
                "completion_record", CompletionRecordInput(session_id=inp.session_id, entry_id=target.entry_id,
                                                           reason=failure_key(err)),
                start_to_close_timeout=RECORD_TIMEOUT, retry_policy=RetryPolicy(maximum_attempts=5))
            return "failed"
