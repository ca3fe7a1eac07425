"""Types that cross the workflow/activity boundary for event delivery and session completion.

Imported by workflow code, so: pydantic and plain values only. Ids, counts and stable keys;
never an event's payload, a handler's error text or a plugin variable.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class DeliveryPolicy(BaseModel):
    """How one subscriber's deliveries are retried; fixed when its delivery workflow starts."""

    max_attempts: int = Field(default=5, ge=1)
    retry_initial_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=60.0, gt=0)
    handler_timeout_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=30.0, gt=0)
    idle_seconds: float = Field(default=60.0, ge=0)
    batch_size: int = Field(default=50, ge=1)

    @classmethod
    def from_settings(cls, events: Any) -> "DeliveryPolicy":
        return cls(**{k: getattr(events, k) for k in cls.model_fields})


class DispatchInput(BaseModel):
    """Only the task queue: the sweep interval and delivery policy come from the routing worker's
    settings each round, so a settings change applies without restarting the dispatcher."""

    task_queue: str


class RouteInput(BaseModel):
    task_queue: str
    max_events: int = 500


class RouteOutcome(BaseModel):
    routed: int = 0
    deliveries: int = 0
    woken: int = 0
    more: bool = False
    sweep_seconds: float = Field(default=30.0, description="when to look again if nobody signals")


class DeliveryInput(BaseModel):
    subscriber: str
    stream: str
    policy: DeliveryPolicy = Field(default_factory=DeliveryPolicy)


class DeliveryOutcome(BaseModel):
    delivered: int = 0
    dead: int = 0
    skipped: int = 0
    remaining: bool = False


class DeliverySummary(BaseModel):
    subscriber: str
    stream: str
    delivered: int = 0
    dead: int = 0
    skipped: int = 0
    rounds: int = 0


class CompletionInput(BaseModel):
    session_id: str
    attempts: int = Field(default=3, ge=1)
    retry_initial_seconds: float = Field(default=1.0, gt=0)


class CompletionTarget(BaseModel):
    entry_id: str
    domain: str


class CompletionPlan(BaseModel):
    targets: list[CompletionTarget] = Field(default_factory=list)
    observed: int = 0
    skipped: int = 0


class CompletionRunInput(BaseModel):
    session_id: str
    entry_id: str


class CompletionRunOutcome(BaseModel):
    entry_id: str
    status: Literal["ok", "skipped", "failed"]
    reason: str | None = None


class CompletionRecordInput(BaseModel):
    session_id: str
    entry_id: str
    reason: str


class CompletionSummary(BaseModel):
    session_id: str
    ok: int = 0
    skipped: int = 0
    failed: int = 0


def dispatcher_workflow_id(task_queue: str) -> str:
    return f"events-dispatcher:{task_queue}"


def delivery_workflow_id(task_queue: str, subscriber: str, stream: str) -> str:
    return f"event-delivery:{task_queue}:{subscriber}:{stream}"


def completion_workflow_id(session_id: str) -> str:
    return f"session-completion:{session_id}"
