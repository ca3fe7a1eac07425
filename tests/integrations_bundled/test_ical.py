"""ical: parse VEVENTs, expand recurrences, sync occurrences as entities on a schedule, list them in a session."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from runtime.entities.schedules import EntitySchedules, build_schedule
from runtime.entities.store import EntityStore
from runtime.entities.types import EntitySyncInput, EntitySyncResult
from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus
from tests.support.leaks import find_leaks, history_corpus

from .support import assert_error_keys_translated, assert_form_spec_valid, assert_masked_round_trip, entry_tools

ALICE = Principal(sub="alice", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)
BERLIN = ZoneInfo("Europe/Berlin")


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"agentrt_integrations.ical.{name}")


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def team_calendar(today: date) -> str:
    """A calendar around ``today``: a weekly standup (with an exception and a moved one), a launch,
    a holiday, a cancelled meeting, an old event and an alarm that must not leak into its event."""
    monday = today - timedelta(days=today.weekday())
    standup = datetime(monday.year, monday.month, monday.day, 9, 0)
    skipped = standup + timedelta(days=2)  # Wednesday of this week
    moved = standup + timedelta(days=7)  # next Monday
    launch = datetime(today.year, today.month, today.day, 14, 0) + timedelta(days=1)
    holiday = today + timedelta(days=3)
    old = today - timedelta(days=60)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//agentrt tests//EN", "X-WR-TIMEZONE:Europe/Berlin",
        "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "BEGIN:STANDARD", "DTSTART:19701025T030000",
        "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100", "END:STANDARD", "END:VTIMEZONE",
        "BEGIN:VEVENT", "UID:standup-1@example.com", f"DTSTART;TZID=Europe/Berlin:{_stamp(standup)}",
        "DURATION:PT15M", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=9", "SUMMARY:Standup",
        f"EXDATE;TZID=Europe/Berlin:{_stamp(skipped)}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:alarm text, not the event's", "TRIGGER:-PT5M", "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:standup-1@example.com", f"RECURRENCE-ID;TZID=Europe/Berlin:{_stamp(moved)}",
        f"DTSTART;TZID=Europe/Berlin:{_stamp(moved + timedelta(hours=1))}", "DURATION:PT15M",
        "SUMMARY:Standup (moved)", "END:VEVENT",
        "BEGIN:VEVENT", "UID:launch@example.com", f"DTSTART:{_stamp(launch)}Z", f"DTEND:{_stamp(launch)}Z",
        "SUMMARY:Product launch", "LOCATION:Room 1\\, second floor",
        "DESCRIPTION:Bring slides\\nand coffee; we go live at 15:00 with the ", " new pricing page.",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:holiday@example.com", f"DTSTART;VALUE=DATE:{holiday:%Y%m%d}",
        f"DTEND;VALUE=DATE:{holiday + timedelta(days=1):%Y%m%d}", "SUMMARY:Company holiday", "END:VEVENT",
        "BEGIN:VEVENT", "UID:cancelled@example.com", f"DTSTART:{_stamp(launch + timedelta(days=1))}Z",
        "DURATION:PT1H", "SUMMARY:Cancelled sync", "STATUS:CANCELLED", "END:VEVENT",
        "BEGIN:VEVENT", "UID:old@example.com", f"DTSTART;VALUE=DATE:{old:%Y%m%d}", "SUMMARY:Long ago", "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def today() -> date:
    return datetime.now(timezone.utc).date()


@pytest.fixture
def ics_file(tmp_path, today) -> Path:
    path = tmp_path / "team.ics"
    path.write_text(team_calendar(today), encoding="utf-8")
    return path


@pytest.fixture
def ics_server(http_server, today, distinctive_secret):
    """The calendar at a private address: the token in the path is the secret."""
    body = team_calendar(today).encode()

    def serve(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/calendar; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    local = http_server({f"/private/{distinctive_secret}/basic.ics": serve})
    return f"{local.base_url}/private/{distinctive_secret}/basic.ics", local


def _window(today: date, days: int = 30) -> tuple[datetime, datetime]:
    start = datetime(today.year, today.month, today.day, tzinfo=timezone.utc) - timedelta(days=7)
    return start, start + timedelta(days=days)


# -- parsing and recurrence ----------------------------------------------------------------

def test_parser_unfolds_unescapes_and_resolves_times(registry, today):
    events = {e.uid + ("*" if e.recurrence_id else ""): e for e in _module("ics").parse_calendar(team_calendar(today))}
    launch = events["launch@example.com"]
    assert launch.location == "Room 1, second floor"
    assert launch.description == "Bring slides\nand coffee; we go live at 15:00 with the new pricing page."
    assert launch.start.tzinfo == timezone.utc and launch.start.hour == 14
    standup = events["standup-1@example.com"]
    assert standup.start.tzinfo == BERLIN and standup.duration == timedelta(minutes=15)
    assert standup.rrule == {"FREQ": "WEEKLY", "BYDAY": "MO,WE,FR", "COUNT": "9"}
    assert standup.description == ""  # the VALARM's description stayed in the alarm
    assert events["holiday@example.com"].start == today + timedelta(days=3)
    assert events["cancelled@example.com"].status == "cancelled"
    assert events["standup-1@example.com*"].summary == "Standup (moved)"


def test_parser_refuses_what_is_not_a_calendar(registry):
    ics = _module("ics")
    with pytest.raises(ics.CalendarError) as caught:
        ics.parse_calendar("<html>not a calendar</html>")
    assert caught.value.key == "invalid_calendar"
    prop = ics.parse_line('ATTENDEE;CN="Doe: Jane";ROLE=CHAIR:mailto:jane@example.com')
    assert prop.params == {"CN": "Doe: Jane", "ROLE": "CHAIR"} and prop.value == "mailto:jane@example.com"


def test_weekly_rule_with_exdate_and_override(registry, today):
    events = _module("ics").parse_calendar(team_calendar(today))
    found = _module("recurrence").occurrences(events, *_window(today, 60))
    standups = [o for o in found if o.uid == "standup-1@example.com"]
    assert len(standups) == 8  # COUNT=9 minus the EXDATE; the moved one replaces its original
    assert [o.summary for o in standups].count("Standup (moved)") == 1
    assert all(o.start.tzinfo == BERLIN for o in standups)
    assert {o.start.strftime("%a") for o in standups} == {"Mon", "Wed", "Fri"}
    assert all(o.start.hour == 9 for o in standups if o.summary == "Standup")
    assert all(o.recurring and o.end - o.start == timedelta(minutes=15) for o in standups)
    assert not any(o.uid == "old@example.com" for o in found)  # outside the window


def test_recurrence_keeps_wall_clock_time_across_daylight_saving(registry):
    ics, recurrence = _module("ics"), _module("recurrence")
    text = "\r\n".join(["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:dst", "DTSTART;TZID=Europe/Berlin:20260320T090000",
                        "RRULE:FREQ=WEEKLY;UNTIL=20260410T000000Z", "SUMMARY:Weekly", "END:VEVENT",
                        "BEGIN:VEVENT", "UID:monthly", "DTSTART;VALUE=DATE:20260131", "RRULE:FREQ=MONTHLY;COUNT=4",
                        "SUMMARY:Month end", "END:VEVENT",
                        "BEGIN:VEVENT", "UID:odd", "DTSTART:20260302T100000Z", "RRULE:FREQ=MONTHLY;BYSETPOS=-1",
                        "SUMMARY:Unsupported", "END:VEVENT", "END:VCALENDAR"])
    found = recurrence.occurrences(ics.parse_calendar(text), datetime(2026, 1, 1, tzinfo=timezone.utc),
                                   datetime(2026, 12, 31, tzinfo=timezone.utc))
    weekly = [o.start for o in found if o.uid == "dst"]
    assert [s.strftime("%m-%d %H:%M %z") for s in weekly] == [
        "03-20 09:00 +0100", "03-27 09:00 +0100", "04-03 09:00 +0200", "04-10 09:00 +0200"][:len(weekly)]
    assert len(weekly) == 3  # UNTIL 04-10 00:00Z is before the 04-10 occurrence
    # Months without a 31st are skipped, not moved, and not counted (RFC 5545): COUNT=4 is four real dates.
    assert [o.start.isoformat() for o in found if o.uid == "monthly"] == [
        "2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]
    odd = [o for o in found if o.uid == "odd"]
    assert len(odd) == 1 and odd[0].approximate


# -- config, form, flow --------------------------------------------------------------------

@pytest.mark.parametrize(("values", "key"), [
    ({}, "source_required"),
    ({"calendar_url": "https://c.example/x.ics", "file_path": "/a.ics"}, "source_ambiguous"),
    ({"calendar_url": "ftp://c.example/x.ics"}, "invalid_url"),
    ({"file_path": "relative.ics"}, "invalid_path"),
])
def test_config_model_names_what_is_wrong(registry, values, key):
    with pytest.raises(ValidationError) as caught:
        _module("config").IcalConfig.model_validate(values)
    assert key in str(caught.value) and "c.example" not in str(caught.value)


def test_webcal_is_fetched_over_https(registry):
    config = _module("config").IcalConfig.model_validate({"calendar_url": "webcal://c.example/private-k/basic.ics"})
    assert config.url == "https://c.example/private-k/basic.ics"


async def test_form_spec_is_valid_and_translated(registry, flow_manager):
    loaded = registry.get("ical")
    fields = {f.name: f for f in assert_form_spec_valid(loaded)}
    assert fields["calendar_url"].type == "secret"  # a private iCal address is a credential
    assert loaded.integration.entity_types() == ["calendar_event"] and loaded.manifest.sync_interval_seconds == 900
    assert_error_keys_translated(loaded, ["source_required", "source_ambiguous", "invalid_url", "invalid_path",
                                          "file_needs_admin", "calendar_unreachable", "invalid_calendar",
                                          "private_network_needs_admin"])
    form = await flow_manager.start("ical", ALICE)
    assert form.title == "Add a calendar"


async def test_flow_reads_the_calendar_and_keeps_its_address_secret(
    flow_manager, services, ics_server, ics_file, distinctive_secret, captured_logs
):
    url, _ = ics_server
    form = await flow_manager.start("ical", ALICE)
    file_refused = await flow_manager.submit(form.flow_id, {"file_path": str(ics_file)}, ALICE)
    assert file_refused.errors["base"].key == "file_needs_admin"
    loopback = await flow_manager.submit(form.flow_id, {"calendar_url": url}, ALICE)
    assert loopback.errors["base"].key == "private_network_needs_admin"

    admin_form = await flow_manager.start("ical", ADMIN, scope="global")
    wrong = await flow_manager.submit(admin_form.flow_id, {"calendar_url": url.replace("basic", "nope")}, ADMIN)
    assert wrong.errors["base"].key == "calendar_unreachable"
    done = await flow_manager.submit(admin_form.flow_id, {"calendar_url": url, "lookahead_days": 30}, ADMIN)
    assert done.type == "create_entry" and done.title == "Calendar"
    entry = await services.entries.get(done.entry_id)
    assert entry.secret_fields == ["calendar_url"] and entry.data["lookahead_days"] == 30
    await assert_masked_round_trip(services.entries, entry.id, "calendar_url", url, {"lookbehind_days": 1})
    assert distinctive_secret not in captured_logs.getvalue()


# -- tool, sync, schedule, session ------------------------------------------------------------

async def test_list_events_filters_and_caps(make_entry, services, ics_file, today):
    entry = await make_entry("ical", "global", data={"file_path": str(ics_file)})
    call = (await entry_tools(services, entry))["ical_list_events"]

    week = await call(days=7)  # from today
    summaries = [e.summary for e in week.events]
    assert "Product launch" in summaries and "Company holiday" in summaries and "Cancelled sync" not in summaries
    launch = next(e for e in week.events if e.summary == "Product launch")
    assert launch.location == "Room 1, second floor" and launch.start.endswith("+00:00") and not launch.all_day
    assert launch.start == f"{today + timedelta(days=1)}T14:00:00+00:00"
    holiday = await call(query="HOLIDAY", days=7)
    assert [(e.summary, e.all_day, e.start) for e in holiday.events] == [
        ("Company holiday", True, (today + timedelta(days=3)).isoformat())]
    capped = await call(start=(today - timedelta(days=7)).isoformat(), days=30, limit=2)
    assert len(capped.events) == 2 and capped.truncated and capped.total > 2
    with_cancelled = await call(query="sync", include_cancelled=True)
    assert [e.status for e in with_cancelled.events] == ["cancelled"]


async def test_sync_workflow_stores_occurrences_as_entities(
    worker, make_entry, services, temporal_client, settings, ics_file, today
):
    entry = await make_entry("ical", "global", data={"file_path": str(ics_file), "lookahead_days": 30})

    async def sync() -> EntitySyncResult:
        return await temporal_client.execute_workflow(
            "EntitySyncWorkflow", EntitySyncInput(entry_id=entry.id), id=f"test-ical-{uuid.uuid4().hex[:8]}",
            task_queue=settings.temporal.task_queue, result_type=EntitySyncResult)

    first = await sync()
    assert first.status == "ok" and first.pull.created >= 5 and first.pull.deleted == 0
    store = EntityStore(services.ctx.pool)
    stored = {e.entity_id: e for e in await store.list_entities(entry.id)}
    launch = next(e for e in stored.values() if e.attributes["summary"] == "Product launch")
    assert launch.type == "calendar_event" and launch.state == "confirmed" and launch.entity_id.startswith("launch@")
    assert next(e for e in stored.values() if e.attributes["summary"] == "Cancelled sync").state == "cancelled"
    assert not any(e.attributes["summary"] == "Long ago" for e in stored.values())

    ics_file.write_text(team_calendar(today).replace("SUMMARY:Product launch", "SUMMARY:Product launch (v2)")
                        .replace("SUMMARY:Company holiday", "SUMMARY:Company holiday\r\nSTATUS:CANCELLED"))
    second = await sync()
    assert second.pull.updated == 2 and second.pull.created == 0 and second.pull.deleted == 0
    ics_file.write_text(team_calendar(today).replace("UID:launch@example.com", "UID:launch-2@example.com"))
    third = await sync()
    assert third.pull.created == 1 and third.pull.deleted == 1


async def test_each_entry_gets_a_scheduled_sync(worker, make_entry, services, temporal_client, settings, ics_file):
    entry = await make_entry("ical", "global", data={"file_path": str(ics_file)})
    manifest = services.registry.get("ical").manifest
    schedule = build_schedule(entry, manifest, settings.temporal.task_queue)
    assert schedule.spec.intervals[0].every == timedelta(seconds=900)
    schedules = EntitySchedules(temporal_client, services.registry, settings.temporal.task_queue)
    try:
        assert await schedules.ensure(entry) == "created"
        await schedules.trigger(entry.id)
        store = EntityStore(services.ctx.pool)
        for _ in range(100):
            if await store.count(entry.id) >= 5:
                break
            await asyncio.sleep(0.2)
        assert await store.count(entry.id) >= 5
    finally:
        await schedules.remove(entry.id)


async def test_session_lists_events_and_the_private_address_stays_secret(
    worker, make_entry, open_session, recorder, ics_server, today, distinctive_secret, temporal_client, settings,
    services, captured_logs
):
    url, local = ics_server
    entry = await make_entry("ical", "global", data={}, secrets={"calendar_url": url})
    handle = await open_session(ALICE)
    done = await send_message(handle, '/tool ical_list_events {"query": "launch"}')
    assert done.status is TurnStatus.COMPLETED and "Product launch" in done.text and "Room 1" in done.text
    definition = recorder.definition("ical_list_events", 0)
    assert set(definition.parameters_json_schema["properties"]) == {"start", "days", "query", "limit",
                                                                    "include_cancelled"}
    assert local.requests and local.requests[0]["path"].endswith("/basic.ics")

    result = await temporal_client.execute_workflow(
        "EntitySyncWorkflow", EntitySyncInput(entry_id=entry.id), id=f"test-ical-{uuid.uuid4().hex[:8]}",
        task_queue=settings.temporal.task_queue, result_type=EntitySyncResult)
    assert result.status == "ok" and result.pull.created >= 5
    entities = await EntityStore(services.ctx.pool).list_entities(entry.id)
    corpus, _ = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    for text in (corpus, captured_logs.getvalue(), repr([e.model_dump() for e in entities])):
        assert find_leaks([distinctive_secret], text) == []
