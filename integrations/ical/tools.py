"""The ``list_events`` tool of one calendar entry."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated

from pydantic import BaseModel, Field
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.toolsets import FunctionToolset

from .calendar_source import CalendarEvent, CalendarReader, day_start, event_view
from .ics import CalendarError


class EventList(BaseModel):
    """Events overlapping the requested days, by start time; ``truncated`` when more than ``limit`` matched."""

    events: list[CalendarEvent]
    total: int
    truncated: bool


class CalendarUnavailable(ToolFailed):
    def __init__(self, error: CalendarError) -> None:
        super().__init__(str(error))
        self.key = error.key


def build_toolset(reader: CalendarReader) -> FunctionToolset:
    toolset: FunctionToolset = FunctionToolset()

    async def ical_list_events(
        start: date | None = None,
        days: Annotated[int, Field(ge=1, le=366)] = 14,
        query: Annotated[str | None, Field(max_length=200)] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 50,
        include_cancelled: bool = False,
    ) -> EventList:
        """List calendar events from ``start`` (a date, default today, UTC) for ``days`` days.

        ``query`` keeps events whose summary, location or description contain it (case-insensitive).
        Recurring events come back once per occurrence. Times are ISO 8601; all-day events have dates.
        """
        first = day_start(start or datetime.now(timezone.utc).date())
        try:
            found = await reader.between(first, first + timedelta(days=days))
        except CalendarError as exc:
            raise CalendarUnavailable(exc) from None
        if not include_cancelled:
            found = [o for o in found if o.status != "cancelled"]
        if query:
            needle = query.casefold()
            found = [o for o in found if needle in f"{o.summary}\n{o.location}\n{o.description}".casefold()]
        return EventList(events=[event_view(o) for o in found[:limit]], total=len(found), truncated=len(found) > limit)

    toolset.add_function(ical_list_events, takes_ctx=False)
    return toolset
