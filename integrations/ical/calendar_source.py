"""Read an entry's calendar (URL or file), turn occurrences into entities and tool results."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
from pydantic import BaseModel

from runtime.integrations import Entity
from runtime.logging import get_logger

from .config import IcalConfig
from .ics import CalendarError, RawEvent, parse_calendar
from runtime.integrations import url_refusal
from .recurrence import Occurrence, occurrences

log = get_logger(__name__)

MAX_CALENDAR_BYTES = 5 * 1024 * 1024
MAX_DESCRIPTION = 2000
ENTITY_TYPE = "calendar_event"
CACHE_SECONDS = 300.0


class CalendarEvent(BaseModel):
    """One occurrence as the model sees it; times are ISO 8601 (dates for all-day events)."""

    id: str
    summary: str
    start: str
    end: str
    all_day: bool
    location: str | None = None
    description: str | None = None
    status: str
    recurring: bool


def event_view(o: Occurrence) -> CalendarEvent:
    return CalendarEvent(id=o.id, summary=o.summary, start=o.start.isoformat(), end=o.end.isoformat(),
                         all_day=o.all_day, location=o.location or None,
                         description=o.description[:MAX_DESCRIPTION] or None, status=o.status, recurring=o.recurring)


def to_entity(o: Occurrence) -> Entity:
    view = event_view(o)
    attributes: dict[str, Any] = view.model_dump(exclude={"id", "status"}, exclude_none=True)
    attributes["uid"] = o.uid
    if o.approximate:
        attributes["recurrence_approximate"] = True
    return Entity(entity_id=o.id, type=ENTITY_TYPE, state=o.status, attributes=attributes)


async def _fetch(url: str, timeout: int) -> str:
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            async with client.stream("GET", url, headers={"Accept": "text/calendar, */*;q=0.5"}) as response:
                if response.status_code >= 400:
                    raise CalendarError("calendar_unreachable", f"the calendar address answered {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_CALENDAR_BYTES:
                        raise CalendarError("calendar_too_large", f"the calendar is larger than {MAX_CALENDAR_BYTES} bytes")
    except httpx.HTTPError as exc:
        # The exception text would name the address, and the address is the secret.
        raise CalendarError("calendar_unreachable", f"the calendar could not be fetched ({type(exc).__name__})") from None
    return data.decode("utf-8", errors="replace")


def _read_file(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CALENDAR_BYTES + 1)
    except OSError as exc:
        raise CalendarError("calendar_unreachable", f"the calendar file cannot be read ({type(exc).__name__})") from None
    if len(data) > MAX_CALENDAR_BYTES:
        raise CalendarError("calendar_too_large", f"the calendar is larger than {MAX_CALENDAR_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def source_refusal(config: IcalConfig, scope: str) -> str | None:
    """Reading the worker's files is for administrator-configured entries only."""
    return "file_needs_admin" if config.file_path and scope == "user" else None


async def load_events(config: IcalConfig, scope: str) -> list[RawEvent]:
    """Fetch or read and parse the calendar. Raises :class:`CalendarError` with a key."""
    refusal = source_refusal(config, scope)
    if refusal:
        raise CalendarError(refusal, "this entry may not read files")
    if config.url:
        refusal = await url_refusal(config.url, scope)
        if refusal:
            raise CalendarError(refusal, "the calendar address is not reachable for this entry's scope")
        text = await _fetch(config.url, config.timeout_seconds)
    else:
        text = await asyncio.to_thread(_read_file, str(config.file_path))
    return parse_calendar(text)


def sync_window(config: IcalConfig, now: datetime | None = None) -> tuple[datetime, datetime]:
    now = now or datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=config.lookbehind_days), midnight + timedelta(days=config.lookahead_days + 1)


class CalendarReader:
    """One entry's calendar, read at most every five minutes by the tool (syncs always read afresh)."""

    def __init__(self, config: IcalConfig, scope: str) -> None:
        self.config = config
        self.scope = scope
        self._events: list[RawEvent] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def events(self, fresh: bool = False) -> list[RawEvent]:
        async with self._lock:
            if fresh or self._events is None or time.monotonic() - self._read_at > CACHE_SECONDS:
                self._events = await load_events(self.config, self.scope)
                self._read_at = time.monotonic()
            return self._events

    async def between(self, start: datetime, end: datetime, fresh: bool = False) -> list[Occurrence]:
        return occurrences(await self.events(fresh), start, end)


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
