"""Session observers: an integration's view of one session, built from the session's events.

An observer never runs in workflow code (that would have to be deterministic and would
live in Temporal history). When the session ends, the completion workflow's first activity
feeds every observer the session's events from the outbox, in order, and stores each
``snapshot()`` in ``sessions.logs``; ``run_completion`` reads it from there. The events
carry their ``created_at``, so timings come with them.

Integrations return one from ``Integration.session_observer(ctx)``; :class:`SessionTimeline`
is a ready-made one (turns, tool calls, approvals, durations) to use or extend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .outbox import DeliveredEvent

MAX_TURNS_IN_SNAPSHOT = 100


class SessionObserver:
    """Override :meth:`on_event` and :meth:`snapshot`. Keep the snapshot small: it is stored per session."""

    def on_event(self, event: DeliveredEvent) -> None:
        return None

    def snapshot(self) -> dict[str, Any] | None:
        return None


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds() * 1000, 1) if start and end else None


class SessionTimeline(SessionObserver):
    """Turns with their durations, steps and tool calls; tool and approval counts; the session's span."""

    def __init__(self) -> None:
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.turns: dict[int, dict[str, Any]] = {}
        self.tools: dict[str, dict[str, int]] = {}
        self.approvals = {"requested": 0, "approved": 0, "denied": 0}

    def _turn(self, number: int) -> dict[str, Any]:
        return self.turns.setdefault(number, {"turn": number, "started_at": None, "completed_at": None,
                                              "steps": None, "tool_calls": 0})

    def on_event(self, event: DeliveredEvent) -> None:
        p = event.payload
        self.started_at = self.started_at or event.created_at
        if event.event == "message_received":
            self._turn(p["turn"])["started_at"] = event.created_at
        elif event.event == "tool_executed":
            self._turn(p["turn"])["tool_calls"] += 1
            counts = self.tools.setdefault(p["tool_name"], {"calls": 0, "failed": 0})
            counts["calls"] += 1
            counts["failed"] += 0 if p.get("ok") else 1
        elif event.event == "approval_requested":
            self.approvals["requested"] += 1
        elif event.event == "approval_decided":
            self.approvals["approved" if p.get("decision") == "approve" else "denied"] += 1
        elif event.event == "turn_complete":
            turn = self._turn(p["turn"])
            turn["completed_at"], turn["steps"] = event.created_at, p.get("steps")
        elif event.event == "session_ended":
            self.ended_at = event.created_at

    def snapshot(self) -> dict[str, Any]:
        turns = [
            {"turn": t["turn"], "steps": t["steps"], "tool_calls": t["tool_calls"],
             "duration_ms": _ms(t["started_at"], t["completed_at"]), "completed": t["completed_at"] is not None}
            for _, t in sorted(self.turns.items())
        ]
        return {
            "turns": len(turns),
            "turns_completed": sum(t["completed"] for t in turns),
            "tool_calls": sum(c["calls"] for c in self.tools.values()),
            "tool_failures": sum(c["failed"] for c in self.tools.values()),
            "tools": self.tools,
            "approvals": self.approvals,
            "duration_ms": _ms(self.started_at, self.ended_at),
            "turn_timings": turns[-MAX_TURNS_IN_SNAPSHOT:],
        }
