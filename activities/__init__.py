"""Temporal activities: every side effect (db, decrypt, setup, model request, tool call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .entities import EntityActivities
from .events import EventActivities
from .flows import FlowActivities
from .session import SessionActivities
from .smoke import SmokeActivities

if TYPE_CHECKING:
    from runtime.services import Services


def build_activities(services: "Services") -> list[Callable[..., Any]]:
    smoke = SmokeActivities(services.ctx)
    session = SessionActivities(services)
    flows = FlowActivities(services)
    entities = EntityActivities(services)
    events = EventActivities(services)
    return [
        smoke.ping_database,
        session.model_step, session.call_tool, session.assemble_tools, session.end,
        flows.enter_node, flows.call_function, flows.post_actions,
        entities.check, entities.seed, entities.pull, entities.record_run, entities.handle_webhook,
        events.route, events.deliver, events.completion_prepare, events.completion_run, events.completion_record,
    ]


__all__ = ["build_activities"]
