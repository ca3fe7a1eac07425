"""Integrations subscribe through their manifest; entity, sync and schedule events reach their subscribers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.entities.schedules import EntitySchedules, trigger_sync
from runtime.events.catalogue import EventCatalogue
from runtime.integrations.scopes import EntryOwner
from runtime.sessions.client import send_message

from .conftest import ALICE, deliveries_of, wait_for


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_an_integration_entry_gets_the_events_of_sessions_that_may_use_it(
    worker, services, make_entry, open_session, out_dir, tmp_path
):
    seen = await make_entry("watcher", "global")
    unseen = await make_entry("watcher", "user", owner_sub="bob")
    await services.entries.create(domain="probe", owner=EntryOwner("global"), title="probe",
                                  data={"count_file": str(tmp_path / "probe.count")})
    handle = await open_session(ALICE)
    await send_message(handle, '/tool probe_echo {"text": "hi"}')

    rows = await wait_for(lambda: _finished(services, seen.id, 2))
    assert [(r["type"], r["status"]) for r in rows] == [("tool_executed", "delivered"), ("turn_complete", "delivered")]
    handled = _jsonl(out_dir / "events.jsonl")
    assert [(h["entry_id"], h["event"], h["turn"]) for h in handled] == [
        (seen.id, "tool_executed", 1), (seen.id, "turn_complete", 1)]
    assert handled[0]["key"] == f"entry:{seen.id}/{rows[0]['event_id']}"
    assert await deliveries_of(services.ctx.pool, unseen.id) == []  # bob's entry: not alice's session


async def _finished(services, subscriber_id: str, count: int) -> list[dict] | None:
    rows = await deliveries_of(services.ctx.pool, subscriber_id)
    return rows if len(rows) >= count and all(r["status"] != "pending" for r in rows) else None


def test_integrations_declare_namespaced_event_types_only(registry):
    catalogue = EventCatalogue.from_integrations(registry)
    assert catalogue.known("watcher.noticed") and catalogue.known("turn_complete")
    assert not catalogue.known("not_namespaced")  # not "<domain>.<name>": logged and ignored


@pytest.fixture
async def schedules(temporal_client, services, settings):
    helper = EntitySchedules(temporal_client, services.registry, settings.temporal.task_queue)
    yield helper
    async with services.ctx.pool.acquire() as conn:
        for row in await conn.fetch("SELECT id FROM config_entries"):
            await helper.remove(row["id"])


async def test_entity_sync_and_schedule_events_reach_plugin_configurations(
    worker, services, enable_plugin, temporal_client, schedules, out_dir, tmp_path
):
    config = await enable_plugin("recorder")
    control = tmp_path / "things"
    control.mkdir()
    (control / "entities.json").write_text(json.dumps(
        [{"entity_id": "light.hall", "type": "light", "state": "off", "actions": ["turn_on"]}]))
    entry = await services.entries.create(domain="things", owner=EntryOwner("global"), title="things",
                                          data={"control_dir": str(control)})
    await schedules.ensure(entry)
    await trigger_sync(temporal_client, entry.id)

    rows = await wait_for(lambda: _finished(services, config.id, 5))
    assert {r["stream"] for r in rows} == {f"entry:{entry.id}"}
    recorded = _jsonl(out_dir / "recorded.jsonl")
    # The first sync seeds (things.hub), then pulls (light.hall): each write with its own events, in order.
    assert [(r["event"], r.get("entity_id") or r.get("kind")) for r in recorded] == [
        ("schedule_fired", None), ("entity.created", "things.hub"), ("sync_completed", "seed"),
        ("entity.created", "light.hall"), ("sync_completed", "pull")]
    assert recorded[3]["type"] == "light" and recorded[3]["entry_id"] == entry.id
    assert recorded[4]["created"] == 1
    assert recorded[0]["schedule_id"] == f"entity-sync:{entry.id}"


async def test_an_entry_emits_its_declared_events_and_subscribers_get_them(
    worker, services, make_entry, out_dir, distinctive_secret, temporal_client, settings
):
    from runtime.events.entry_events import EventEmitError
    from runtime.events.signals import ensure_dispatcher

    entry = await services.entries.create(domain="watcher", owner=EntryOwner("global"), title="w",
                                          data={"out_dir": str(out_dir)}, secrets={"api_key": distinctive_secret})
    ctx = await services.entries.build_setup_context(entry.id)
    assert ctx.events.declared == {"watcher.noticed"}  # "not_namespaced" was dropped by the catalogue
    assert await ctx.events.emit("noticed", {"what": "door opened"}, key="n-1") is True
    assert await ctx.events.emit("watcher.noticed", {"what": "door opened"}, key="n-1") is False  # a retry

    for name, payload, key in (("other", {}, "event_undeclared"), ("turn_complete", {}, "event_undeclared"),
                               ("noticed", {"x": float("nan")}, "event_payload_invalid"),
                               ("noticed", {"x": "y" * 20_000}, "event_payload_too_large"),
                               ("noticed", {"leak": f"key={distinctive_secret}"}, "event_contains_secret")):
        with pytest.raises(EventEmitError) as raised:
            await ctx.events.emit(name, payload)
        assert raised.value.key == key and distinctive_secret not in str(raised.value)

    async def noticed() -> list[dict]:
        return [h for h in _jsonl(out_dir / "events.jsonl") if h["event"] == "watcher.noticed"]

    # Emitted outside an activity there is nobody to wake: the dispatcher a worker starts with sweeps it up.
    await ensure_dispatcher(temporal_client, settings.temporal.task_queue)
    handled = await wait_for(noticed)
    assert [(h["entry_id"], h["event"]) for h in handled] == [(entry.id, "watcher.noticed")]
    async with services.ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, payload FROM events WHERE entry_id = $1 AND type LIKE 'watcher.%'",
                                entry.id)
    assert [(r["type"], r["payload"]) for r in rows] == [("watcher.noticed", {"what": "door opened"})]

    # An integration that declares no events gets no handle.
    assert (await services.entries.build_setup_context(
        (await make_entry("probe", "global")).id)).events is None
