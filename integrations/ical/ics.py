"""A small RFC 5545 reader: the VEVENTs of a calendar, with their times resolved.

Enough of the format for calendars people publish: line unfolding, parameters (quoted
too), TEXT escapes, DATE and DATE-TIME values in UTC, with a TZID (IANA names) or
floating (the calendar's ``X-WR-TIMEZONE``, else UTC), DURATION, RRULE/EXDATE/
RECURRENCE-ID (expanded by :mod:`.recurrence`). Components nested in a VEVENT (VALARM)
and VTIMEZONE definitions are skipped: IANA zone names are resolved with ``zoneinfo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_EVENTS_PARSED = 20_000
_DURATION = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_TEXT_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}


class CalendarError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Prop:
    name: str
    params: dict[str, str]
    value: str


@dataclass
class RawEvent:
    """One VEVENT as written: ``start``/``end`` are aware datetimes or dates (all-day)."""

    uid: str
    start: datetime | date
    end: datetime | date | None
    duration: timedelta | None = None
    summary: str = ""
    location: str = ""
    description: str = ""
    status: str = "confirmed"
    rrule: dict[str, str] | None = None
    exdates: list[datetime | date] = field(default_factory=list)
    recurrence_id: datetime | date | None = None


def unfold(text: str) -> list[str]:
    """Content lines: CRLF/LF line ends, a leading space or tab continues the previous line."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def parse_line(line: str) -> Prop | None:
    """``NAME;P1=a;P2="b:c":value`` -> Prop; None for a line without a colon."""
    in_quotes = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == ":" and not in_quotes:
            head, value = line[:i], line[i + 1:]
            break
    else:
        return None
    name, *raw_params = re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', head)
    params = {}
    for raw in raw_params:
        key, _, val = raw.partition("=")
        params[key.upper()] = val.strip('"')
    return Prop(name.upper(), params, value)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _TEXT_ESCAPES.get(m[1], m[1]), value)


def _zone(name: str | None, default: tzinfo) -> tzinfo:
    if not name:
        return default
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return default  # a Windows zone name or a custom VTIMEZONE id: the calendar's default stands


def parse_time(prop: Prop, default_tz: tzinfo) -> datetime | date:
    """One DATE or DATE-TIME value (the first of a list)."""
    value = prop.value.split(",")[0].strip()
    try:
        if prop.params.get("VALUE") == "DATE" or (len(value) == 8 and value.isdigit()):
            return datetime.strptime(value, "%Y%m%d").date()
        if value.endswith("Z"):
            return datetime.strptime(value[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=_zone(prop.params.get("TZID"), default_tz))
    except ValueError:
        raise CalendarError("invalid_calendar", f"{prop.name} has an unreadable time") from None


def parse_times(prop: Prop, default_tz: tzinfo) -> list[datetime | date]:
    return [parse_time(Prop(prop.name, prop.params, v), default_tz) for v in prop.value.split(",") if v.strip()]


def parse_duration(value: str) -> timedelta | None:
    match = _DURATION.match(value.strip())
    if not match:
        return None
    sign, weeks, days, hours, minutes, seconds = match.groups()
    delta = timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                      seconds=int(seconds or 0))
    return -delta if sign == "-" else delta


def _event(props: list[Prop], default_tz: tzinfo, index: int) -> RawEvent | None:
    by_name: dict[str, Prop] = {}
    exdates: list[datetime | date] = []
    for prop in props:
        if prop.name == "EXDATE":
            exdates += parse_times(prop, default_tz)
        else:
            by_name.setdefault(prop.name, prop)
    if "DTSTART" not in by_name:
        return None  # RFC 5545 requires it without a METHOD; such an event has no place in time
    start = parse_time(by_name["DTSTART"], default_tz)
    rrule = None
    if "RRULE" in by_name:
        rrule = {k.upper(): v for k, _, v in (p.partition("=") for p in by_name["RRULE"].value.split(";")) if k}
    return RawEvent(
        uid=unescape(by_name["UID"].value).strip() if "UID" in by_name else f"event-{index}",
        start=start,
        end=parse_time(by_name["DTEND"], default_tz) if "DTEND" in by_name else None,
        duration=parse_duration(by_name["DURATION"].value) if "DURATION" in by_name else None,
        summary=unescape(by_name["SUMMARY"].value).strip() if "SUMMARY" in by_name else "",
        location=unescape(by_name["LOCATION"].value).strip() if "LOCATION" in by_name else "",
        description=unescape(by_name["DESCRIPTION"].value).strip() if "DESCRIPTION" in by_name else "",
        status=by_name["STATUS"].value.strip().lower() if "STATUS" in by_name else "confirmed",
        rrule=rrule,
        exdates=exdates,
        recurrence_id=parse_time(by_name["RECURRENCE-ID"], default_tz) if "RECURRENCE-ID" in by_name else None,
    )


def parse_calendar(text: str) -> list[RawEvent]:
    """Every VEVENT of a VCALENDAR. Raises :class:`CalendarError` (``invalid_calendar``)."""
    lines = unfold(text.lstrip("\ufeff"))
    if not lines or lines[0].strip().upper() != "BEGIN:VCALENDAR":
        raise CalendarError("invalid_calendar", "the document is not an iCalendar (BEGIN:VCALENDAR)")
    default_tz: tzinfo = timezone.utc
    events: list[RawEvent] = []
    stack: list[str] = []
    props: list[Prop] = []
    for line in lines:
        prop = parse_line(line)
        if prop is None:
            continue
        if prop.name == "BEGIN":
            stack.append(prop.value.strip().upper())
            if stack[-1] == "VEVENT":
                props = []
        elif prop.name == "END":
            if stack and stack[-1] == "VEVENT":
                event = _event(props, default_tz, len(events))
                if event is not None:
                    events.append(event)
                if len(events) > MAX_EVENTS_PARSED:
                    raise CalendarError("calendar_too_large", f"more than {MAX_EVENTS_PARSED} events")
            if stack:
                stack.pop()
        elif stack == ["VCALENDAR"] and prop.name == "X-WR-TIMEZONE":
            default_tz = _zone(prop.value, timezone.utc)
        elif stack[-2:] == ["VCALENDAR", "VEVENT"]:
            props.append(prop)  # properties of nested components (VALARM) are not the event's
    return events
