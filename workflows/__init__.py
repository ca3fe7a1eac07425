"""Temporal workflow definitions. Deterministic code only: no I/O, no clocks, no randomness.

Imports here run inside Temporal's sandbox; only ``runtime`` *types* may be imported.
"""

from .completion import SessionCompletionWorkflow
from .entity_sync import EntitySyncWorkflow
from .entity_webhook import EntityWebhookWorkflow
from .events import EventDeliveryWorkflow, EventDispatchWorkflow
from .session import AgentSessionWorkflow
from .smoke import SmokeWorkflow

WORKFLOWS: list[type] = [AgentSessionWorkflow, SmokeWorkflow, EntitySyncWorkflow, EntityWebhookWorkflow,
                         EventDispatchWorkflow, EventDeliveryWorkflow, SessionCompletionWorkflow]

__all__ = ["WORKFLOWS", "AgentSessionWorkflow", "EntitySyncWorkflow", "EntityWebhookWorkflow", "EventDeliveryWorkflow",
           "EventDispatchWorkflow", "SessionCompletionWorkflow", "SmokeWorkflow"]
