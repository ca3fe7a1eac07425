"""EntityWebhookWorkflow: handle one accepted webhook delivery durably.

The HTTP receiver stores the body and starts this workflow with the delivery id; the
response (202) goes out only once Temporal has accepted the start. The handler then runs
in an activity with retries, so a worker crash or a flaky backend does not lose the push.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from .entity_sync import HEARTBEAT, PERMANENT, WRITE_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from runtime.entities.types import SyncOutcome, WebhookInput

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=60), maximum_attempts=5,
                    non_retryable_error_types=[*PERMANENT, "webhook_not_supported", "webhook_delivery_not_found"])


@workflow.defn
class EntityWebhookWorkflow:
    @workflow.run
    async def run(self, inp: WebhookInput) -> SyncOutcome:
        return await workflow.execute_activity(
            "entities_handle_webhook", inp, result_type=SyncOutcome, start_to_close_timeout=WRITE_TIMEOUT,
            heartbeat_timeout=HEARTBEAT, retry_policy=RETRY)
