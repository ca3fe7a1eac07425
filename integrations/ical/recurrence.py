"""Occurrences of calendar events inside a time window.

RRULEs with FREQ DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, COUNT, UNTIL and (weekly) BYDAY
are expanded in the event's own wall-clock time, so a 09:00 meeting stays at 09:00 across
a daylight-saving change. EXDATEs remove occurrences; a VEVENT with a RECURRENCE-ID
replaces the occurrence it names. Rules using other parts (BYMONTHDAY, BYSETPOS, ...)
yield their first occurrence only, marked ``approximate``.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from .ics import Prop, RawEvent, parse_time

SUPPORTED_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST"})
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
MAX_STEPS = 100_000  # generated candidates per event, whatever the rule says


@dataclass(frozen=True)
class Occurrence:
    id: str
    uid: str
    start: datetime | date
    end: datetime | date
    summary: str
    location: str
    description: str
    status: str
    recurring: bool
    approximate: bool = False

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)


def to_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


def _span(event: RawEvent) -> timedelta:
    if event.end is not None:
        return to_utc(event.end) - to_utc(event.start)
    if event.duration is not None:
        return event.duration
    return timedelta(days=1) if not isinstance(event.start, datetime) else timedelta(0)


def _shift(start: datetime | date, *, days: int = 0, months: int = 0) -> datetime | date | None:
    """``start`` moved in wall-clock time; None when the day does not exist in the target month."""
    base = start.replace(tzinfo=None) if isinstance(start, datetime) else start
    if months:
        month_index = base.month - 1 + months
        year, month = base.year + month_index // 12, month_index % 12 + 1
        if base.day > calendar.monthrange(year, month)[1]:
            return None  # RFC 5545: an invalid date (Feb 30) is not an occurrence
        base = base.replace(year=year, month=month)
    base = base + timedelta(days=days)
    return base.replace(tzinfo=start.tzinfo) if isinstance(start, datetime) else base


def _candidates(event: RawEvent, rule: dict[str, str]) -> Iterator[datetime | date]:
    freq, interval = rule.get("FREQ", "").upper(), max(1, int(rule.get("INTERVAL", "1") or 1))
    byday = [d[-2:].upper() for d in rule.get("BYDAY", "").split(",") if d]
    start = event.start
    if freq == "WEEKLY" and byday:
        week_start = _shift(start, days=-start.weekday())
        offsets = sorted(WEEKDAYS.index(d) for d in set(byday) if d in WEEKDAYS)
        for n in range(MAX_STEPS):
            for offset in offsets:
                candidate = _shift(week_start, days=7 * interval * n + offset)  # type: ignore[arg-type]
                if candidate is not None and to_utc(candidate) >= to_utc(start):
                    yield candidate
        return
    for n in range(MAX_STEPS):
        if freq == "DAILY":
            candidate = _shift(start, days=interval * n)
        elif freq == "WEEKLY":
            candidate = _shift(start, days=7 * interval * n)
        elif freq == "MONTHLY":
            candidate = _shift(start, months=interval * n)
        else:  # YEARLY
            candidate = _shift(start, months=12 * interval * n)
        if candidate is not None:
            yield candidate


def _starts(event: RawEvent, window_end: datetime) -> tuple[Iterator[datetime | date], bool]:
    """The event's start times up to ``window_end``, and whether the rule was only approximated."""
    rule = event.rrule
    if not rule:
        return iter([event.start]), False
    if set(rule) - SUPPORTED_PARTS or rule.get("FREQ", "").upper() not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY") \
            or (rule.get("BYDAY") and rule.get("FREQ", "").upper() != "WEEKLY"):
        return iter([event.start]), True
    count = int(rule["COUNT"]) if rule.get("COUNT", "").isdigit() else None
    until = to_utc(parse_time(Prop("UNTIL", {}, rule["UNTIL"]), timezone.utc)) if rule.get("UNTIL") else None

    def bounded() -> Iterator[datetime | date]:
        for index, candidate in enumerate(_candidates(event, rule)):
            moment = to_utc(candidate)
            if (count is not None and index >= count) or (until is not None and moment > until) or moment > window_end:
                return
            yield candidate

    return bounded(), False


def occurrence_id(uid: str, start: datetime | date) -> str:
    stamp = to_utc(start).strftime("%Y%m%dT%H%M%SZ") if isinstance(start, datetime) else start.strftime("%Y%m%d")
    head = uid if len(uid) <= 200 and uid.isprintable() else hashlib.sha256(uid.encode()).hexdigest()[:32]
    return f"{head}@{stamp}"


def _occurrence(event: RawEvent, start: datetime | date, span: timedelta, recurring: bool, approximate: bool) -> Occurrence:
    end = start + span if isinstance(start, datetime) else start + timedelta(days=max(1, span.days))
    return Occurrence(id=occurrence_id(event.uid, start), uid=event.uid, start=start, end=end, summary=event.summary,
                      location=event.location, description=event.description, status=event.status,
                      recurring=recurring, approximate=approximate)


def _overlaps(occurrence: Occurrence, start: datetime, end: datetime) -> bool:
    first, last = to_utc(occurrence.start), to_utc(occurrence.end)
    return first < end and (last > start or (first == last and first >= start))


def occurrences(events: list[RawEvent], start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence overlapping ``[start, end)``, sorted by start."""
    overrides = {(e.uid, to_utc(e.recurrence_id)): e for e in events if e.recurrence_id is not None}
    found: list[Occurrence] = []
    for event in events:
        if event.recurrence_id is not None:
            continue
        span = _span(event)
        excluded = {to_utc(x) for x in event.exdates}
        starts, approximate = _starts(event, end)
        for moment in starts:
            key = to_utc(moment)
            if key in excluded or (event.uid, key) in overrides:
                continue
            occurrence = _occurrence(event, moment, span, bool(event.rrule), approximate)
            if _overlaps(occurrence, start, end):
                found.append(occurrence)
    for override in overrides.values():
        occurrence = _occurrence(override, override.start, _span(override), True, False)
        if _overlaps(occurrence, start, end):
            found.append(occurrence)
    found.sort(key=lambda o: (to_utc(o.start), o.id))
    return found
