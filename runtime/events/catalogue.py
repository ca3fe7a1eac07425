"""The event catalogue: every event type agentrt emits, as a pydantic model with a schema version.

Names are stable (plugins subscribe to them by name). A payload carries nothing that does
not already cross the workflow boundary: ids, names, counts and the short previews the
session activities return to the workflow (200 characters, live secrets scrubbed). The two
exceptions carry user-facing text on purpose, capped at :data:`MAX_TEXT_CHARS`:
``message_received`` (the user's message) and ``final_answer`` (the model's answer); both
are also in the session's workflow history as the update's argument and result. Tool
arguments and tool results are never in an event beyond those previews.

Bump a model's ``schema_version`` when a field changes meaning or goes away; adding an
optional field is compatible.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Iterable, Literal

from pydantic import BaseModel, ConfigDict

from ..logging import get_logger, live_secrets
from ..sessions.limits import truncate

log = get_logger(__name__)

MAX_TEXT_CHARS = 4_000
# A custom event is "<domain>.<name>": the domain prefix keeps integrations from colliding.
CUSTOM_EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")


def capped_text(text: str | None) -> tuple[str, bool]:
    """User-facing text for an event: live secrets scrubbed, then capped."""
    capped, cut = truncate(live_secrets.scrub(text or ""), MAX_TEXT_CHARS)
    return capped, cut


class EventModel(BaseModel):
    """Base of every event payload. ``name`` is the subscribed name; ``schema_version`` its shape."""

    # Reading tolerates fields a newer writer added; writing is checked by the subclass fields.
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: ClassVar[str]
    schema_version: ClassVar[int] = 1


class SessionEvent(EventModel):
    session_id: str


class SessionCreated(SessionEvent):
    name = "session_created"
    owner_sub: str
    model_profile: str


class MessageReceived(SessionEvent):
    name = "message_received"
    turn: int
    message: str
    truncated: bool = False


class ToolExecuted(SessionEvent):
    name = "tool_executed"
    turn: int
    tool_call_id: str
    tool_name: str
    kind: Literal["tool", "flow"] = "tool"
    entry_id: str | None = None
    domain: str | None = None
    ok: bool
    error_key: str | None = None
    chars: int = 0
    truncated: bool = False
    preview: str = ""


class ApprovalRequested(SessionEvent):
    name = "approval_requested"
    turn: int
    tool_call_id: str
    tool_name: str
    entry_id: str | None = None
    domain: str | None = None
    reason: str
    args_preview: str = ""


class ApprovalDecided(SessionEvent):
    name = "approval_decided"
    turn: int
    tool_call_id: str
    tool_name: str
    decision: Literal["approve", "deny"]
    reason: str | None = None


class FinalAnswer(SessionEvent):
    name = "final_answer"
    turn: int
    text: str
    truncated: bool = False


class TurnComplete(SessionEvent):
    name = "turn_complete"
    turn: int
    steps: int


class SessionEnded(SessionEvent):
    name = "session_ended"


class EntityEvent(EventModel):
    entry_id: str
    entity_id: str
    type: str


class EntityCreated(EntityEvent):
    name = "entity.created"
    state: str | None = None


class EntityUpdated(EntityEvent):
    name = "entity.updated"
    state: str | None = None
    previous_state: str | None = None
    changed: list[str] = []


class EntityDeleted(EntityEvent):
    name = "entity.deleted"
    previous_state: str | None = None


class SyncCompleted(EventModel):
    name = "sync_completed"
    entry_id: str
    kind: Literal["pull", "seed", "webhook"]
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


class SyncFailed(EventModel):
    name = "sync_failed"
    entry_id: str
    kind: Literal["pull", "seed", "webhook"]
    reason: str | None = None


class ScheduleFired(EventModel):
    name = "schedule_fired"
    entry_id: str
    schedule_id: str
    workflow_id: str


BUILTIN_EVENTS: dict[str, type[EventModel]] = {
    m.name: m
    for m in (
        SessionCreated, MessageReceived, ToolExecuted, ApprovalRequested, ApprovalDecided, FinalAnswer,
        TurnComplete, SessionEnded, EntityCreated, EntityUpdated, EntityDeleted, SyncCompleted, SyncFailed,
        ScheduleFired,
    )
}


def handler_name(event: str) -> str:
    """The plugin function for an event: ``entity.created`` -> ``on_entity_created``."""
    return "on_" + event.replace(".", "_")


class EventCatalogue:
    """The built-in events plus those integrations declare through ``event_types()``.

    A declared name must be ``<domain>.<name>`` of the declaring integration; anything else
    is logged and ignored rather than allowed to shadow a built-in or another domain's event.
    """

    def __init__(self, custom: dict[str, str] | None = None) -> None:
        self.custom: dict[str, str] = dict(custom or {})  # event name -> declaring domain

    @classmethod
    def from_integrations(cls, integrations: Iterable[Any]) -> "EventCatalogue":
        custom: dict[str, str] = {}
        for item in integrations:
            try:
                declared = list(item.integration.event_types())
            except Exception as exc:
                log.warning("integration_event_types_failed", domain=item.domain, error_type=type(exc).__name__)
                continue
            for name in declared:
                if not (isinstance(name, str) and CUSTOM_EVENT_PATTERN.match(name)
                        and name.startswith(item.domain + ".")) or name in BUILTIN_EVENTS:
                    log.warning("integration_event_type_invalid", domain=item.domain, event_type=str(name)[:100],
                                rule="<domain>.<name>")
                    continue
                custom[name] = item.domain
        return cls(custom)

    def known(self, name: str) -> bool:
        return name in BUILTIN_EVENTS or name in self.custom

    def names(self) -> list[str]:
        return sorted([*BUILTIN_EVENTS, *self.custom])

    @staticmethod
    def model_of(name: str) -> type[EventModel] | None:
        return BUILTIN_EVENTS.get(name)
