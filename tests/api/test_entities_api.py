"""Entities through the API: listed for the principals who can see their entry; entry changes move schedules."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError

from runtime.entities.schedules import schedule_id
from runtime.entities.store import EntityStore

from .conftest import ALICE, BOB

LIGHT = {"entity_id": "light.kitchen", "type": "light", "state": "on", "attributes": {"brightness": 80},
         "actions": ["turn_off"]}
SENSOR = {"entity_id": "sensor.door", "type": "sensor", "state": "closed"}


@pytest.fixture
async def things(make_entry, pool, tmp_path):
    entry = await make_entry("things", "user", owner_sub="alice", data={"control_dir": str(tmp_path)})
    await EntityStore(pool).apply(entry.id, [LIGHT, SENSOR], full=True)
    return entry


async def test_entities_are_listed_and_filtered_for_whoever_sees_the_entry(api, things):
    listed = (await api.get("/api/entities", headers=ALICE)).json()
    assert [(e["entry_id"], e["entity_id"]) for e in listed] == [(things.id, "light.kitchen"), (things.id, "sensor.door")]
    assert listed[0]["attributes"] == {"brightness": 80} and listed[0]["domain"] == "things"
    lights = (await api.get("/api/entities?type=light", headers=ALICE)).json()
    assert [e["entity_id"] for e in lights] == ["light.kitchen"]
    actionable = (await api.get(f"/api/entities?entry_id={things.id}&with_actions=true", headers=ALICE)).json()
    assert [e["entity_id"] for e in actionable] == ["light.kitchen"]
    assert len((await api.get("/api/entities?limit=1", headers=ALICE)).json()) == 1

    assert (await api.get("/api/entities", headers=BOB)).json() == []
    hidden = await api.get(f"/api/entities?entry_id={things.id}", headers=BOB)
    assert hidden.status_code == 404 and hidden.json()["error"] == "entry_not_found"


async def _schedule_exists(client, entry_id: str) -> bool:
    try:
        await client.get_schedule_handle(schedule_id(entry_id)).describe()
    except RPCError:
        return False
    return True


async def test_entry_changes_through_the_api_keep_the_sync_schedule_in_line(api, things, temporal_client):
    missing = await api.post(f"/api/entries/{things.id}/sync", headers=ALICE)
    assert missing.status_code == 409 and missing.json()["error"] == "entity_schedule_not_found"
    assert (await api.patch(f"/api/entries/{things.id}", json={"title": "Lights"}, headers=ALICE)).status_code == 200
    assert await _schedule_exists(temporal_client, things.id)
    triggered = await api.post(f"/api/entries/{things.id}/sync", headers=ALICE)
    assert triggered.status_code == 202 and triggered.json()["entry_id"] == things.id
    paused = await api.patch(f"/api/entries/{things.id}", json={"disabled": True}, headers=ALICE)
    assert paused.status_code == 200
    described = await temporal_client.get_schedule_handle(schedule_id(things.id)).describe()
    assert described.schedule.state.paused
    assert (await api.post(f"/api/entries/{things.id}/sync", headers=BOB)).status_code == 404
    assert (await api.delete(f"/api/entries/{things.id}", headers=ALICE)).status_code == 204
    assert not await _schedule_exists(temporal_client, things.id)
