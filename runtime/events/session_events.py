"""The events a session's activities emit, with keys derived from the transcript write that causes them.

A key is ``session:<session id>:<what>`` where ``<what>`` names the cause exactly once per
session (``<turn>:message_received``, ``tool:<tool call id>:tool_executed`` ...), so the
retry of an activity that already committed its write emits nothing new.
"""

from __future__ import annotations

from typing import Literal

from ..principal import Principal
from ..sessions.types import ToolCallOutcome, ToolCallView
from .catalogue import (
    ApprovalDecided,
    ApprovalRequested,
    FinalAnswer,
    MessageReceived,
    SessionCreated,
    SessionEnded,
    ToolExecuted,
    TurnComplete,
    capped_text,
)
from .outbox import NewEvent


def _key(session_id: str, what: str) -> str:
    return f"session:{session_id}:{what}"


def session_created(session_id: str, principal: Principal, model_profile: str) -> NewEvent:
    model = SessionCreated(session_id=session_id, owner_sub=principal.sub, model_profile=model_profile)
    return NewEvent.of(model, _key(session_id, "created"))


def message_received(session_id: str, turn: int, text: str) -> NewEvent:
    message, cut = capped_text(text)
    model = MessageReceived(session_id=session_id, turn=turn, message=message, truncated=cut)
    return NewEvent.of(model, _key(session_id, f"{turn}:message_received"))


def approval_requested(session_id: str, turn: int, call: ToolCallView) -> NewEvent:
    model = ApprovalRequested(session_id=session_id, turn=turn, tool_call_id=call.tool_call_id,
                              tool_name=call.tool_name, entry_id=call.entry_id, domain=call.domain,
                              reason=call.approval_reason or "", args_preview=call.args_preview)
    return NewEvent.of(model, _key(session_id, f"tool:{call.tool_call_id}:approval_requested"))


def approval_decided(session_id: str, turn: int, tool_call_id: str, tool_name: str,
                     decision: Literal["approve", "deny"], reason: str | None = None) -> NewEvent:
    model = ApprovalDecided(session_id=session_id, turn=turn, tool_call_id=tool_call_id, tool_name=tool_name,
                            decision=decision, reason=capped_text(reason)[0] if reason else None)
    return NewEvent.of(model, _key(session_id, f"tool:{tool_call_id}:approval_decided"))


def tool_executed(session_id: str, turn: int, tool_name: str, outcome: ToolCallOutcome, *,
                  entry_id: str | None = None, domain: str | None = None,
                  kind: Literal["tool", "flow"] = "tool") -> NewEvent:
    model = ToolExecuted(session_id=session_id, turn=turn, tool_call_id=outcome.tool_call_id, tool_name=tool_name,
                         kind=kind, entry_id=entry_id, domain=domain, ok=outcome.ok, error_key=outcome.error_key,
                         chars=outcome.chars, truncated=outcome.truncated, preview=outcome.preview)
    return NewEvent.of(model, _key(session_id, f"tool:{outcome.tool_call_id}:tool_executed"))


def final_answer(session_id: str, turn: int, text: str | None) -> NewEvent:
    capped, cut = capped_text(text)
    model = FinalAnswer(session_id=session_id, turn=turn, text=capped, truncated=cut)
    return NewEvent.of(model, _key(session_id, f"{turn}:final_answer"))


def turn_complete(session_id: str, turn: int, steps: int) -> NewEvent:
    return NewEvent.of(TurnComplete(session_id=session_id, turn=turn, steps=steps),
                       _key(session_id, f"{turn}:turn_complete"))


def session_ended(session_id: str) -> NewEvent:
    return NewEvent.of(SessionEnded(session_id=session_id), _key(session_id, "ended"))
