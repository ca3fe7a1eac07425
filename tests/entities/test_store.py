"""The entity store on real Postgres: bulk writes, hash diffs, events, all-or-nothing pulls."""

from __future__ import annotations

import pytest

from runtime.entities.errors import EntityContainsSecretError, EntityInvalidError
from runtime.entities.prepare import prepare_entities
from runtime.entities.store import EntityStore
from runtime.integrations import Entity
from runtime.integrations.config_errors import EntryNotFoundError

from .conftest import light

TYPES = ["light", "sensor"]


@pytest.fixture
def store(pool) -> EntityStore:
    return EntityStore(pool)


async def _snapshot(pool, entry_id: str) -> dict[str, tuple]:
    """Every row with its xmin: a row whose xmin did not change was not rewritten."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT entity_id, xmin::text AS xmin, state, attributes::text AS a FROM entities WHERE entry_id = $1",
            entry_id)
    return {r["entity_id"]: (r["xmin"], r["state"], r["a"]) for r in rows}


async def _events(pool, entry_id: str) -> list[tuple[str, dict]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, payload FROM events WHERE entry_id = $1 ORDER BY id", entry_id)
    return [(r["type"], r["payload"]) for r in rows]


async def test_first_pull_creates_every_entity_and_one_event_each(store, pool, make_things):
    things = await make_things()
    diff = await store.apply(things.id, [light(i) for i in range(3)], full=True, allowed_types=TYPES)
    assert diff.created == ["light.l0", "light.l1", "light.l2"] and not diff.updated and not diff.deleted
    assert [t for t, _ in await _events(pool, things.id)] == ["entity.created"] * 3
    stored = await store.get(things.id, "light.l1")
    assert (stored.state, stored.actions, stored.attributes) == ("off", ["turn_on", "turn_off"], {"brightness": 0})


async def test_second_pull_with_one_change_rewrites_one_row_and_emits_one_update(store, pool, make_things):
    things = await make_things()
    pull = [light(i) for i in range(50)]
    await store.apply(things.id, pull, full=True, allowed_types=TYPES)
    before = await _snapshot(pool, things.id)
    events_before = len(await _events(pool, things.id))

    pull[7] = light(7, state="on", brightness=80)
    diff = await store.apply(things.id, pull, full=True, allowed_types=TYPES)

    assert diff.updated == ["light.l7"] and diff.created == [] and diff.deleted == [] and diff.unchanged == 49
    after = await _snapshot(pool, things.id)
    rewritten = [k for k in after if after[k][0] != before[k][0]]
    assert rewritten == ["light.l7"]  # the 49 unchanged rows kept their tuple: not even last_seen was written
    new_events = (await _events(pool, things.id))[events_before:]
    assert new_events == [("entity.updated", {"entity_id": "light.l7", "type": "light", "state": "on",
                                              "previous_state": "off", "changed": ["state", "attributes"]})]


async def test_same_pull_again_writes_nothing(store, pool, make_things):
    things = await make_things()
    pull = [light(i) for i in range(5)]
    await store.apply(things.id, pull, full=True, allowed_types=TYPES)
    before, events = await _snapshot(pool, things.id), await _events(pool, things.id)
    diff = await store.apply(things.id, list(reversed(pull)), full=True, allowed_types=TYPES)
    assert not diff.changed and diff.unchanged == 5
    assert await _snapshot(pool, things.id) == before and await _events(pool, things.id) == events


async def test_full_pull_deletes_missing_entities_and_a_partial_one_does_not(store, pool, make_things):
    things = await make_things()
    await store.apply(things.id, [light(i) for i in range(4)], full=True, allowed_types=TYPES)
    partial = await store.apply(things.id, [light(0)], full=False, allowed_types=TYPES)
    assert partial.deleted == [] and await store.count(things.id) == 4

    full = await store.apply(things.id, [light(0), light(2)], full=True, allowed_types=TYPES)
    assert full.deleted == ["light.l1", "light.l3"]
    assert [e.entity_id for e in await store.list_entities(things.id)] == ["light.l0", "light.l2"]
    deleted = [p for t, p in await _events(pool, things.id) if t == "entity.deleted"]
    assert deleted == [{"entity_id": "light.l1", "type": "light", "previous_state": "off"},
                       {"entity_id": "light.l3", "type": "light", "previous_state": "off"}]


async def test_empty_full_pull_deletes_everything_pulled_but_not_seeded_entities(store, make_things):
    things = await make_things()
    async with store.writing(things.id) as writer:
        await writer.apply(prepare_entities([{"entity_id": "hub", "type": "sensor"}]), full=False, source="seed")
    await store.apply(things.id, [light(1)], full=True)
    diff = await store.apply(things.id, [], full=True)
    assert diff.deleted == ["light.l1"]
    assert [(e.entity_id, e.source) for e in await store.list_entities(things.id)] == [("hub", "seed")]


@pytest.mark.parametrize("bad", [
    {"entity_id": "light.l0", "type": "light"},                      # a duplicate id, at the very end
    {"entity_id": "x", "type": "toaster"},                           # a type the integration does not declare
    {"entity_id": "x", "type": "light", "state": "a\x00b"},          # NUL: Postgres text cannot hold it
    {"entity_id": "x", "type": "light", "attributes": {"k": "\x00"}},  # nor can jsonb
    {"entity_id": "x", "type": "light", "attributes": {"k": float("nan")}},
    {"entity_id": "", "type": "light"},
    "not an entity",
])
async def test_one_invalid_entity_anywhere_in_a_pull_changes_nothing(store, pool, make_things, bad):
    things = await make_things()
    await store.apply(things.id, [light(i) for i in range(3)], full=True, allowed_types=TYPES)
    before, events = await _snapshot(pool, things.id), await _events(pool, things.id)
    pull = [light(0, state="on"), *[light(i) for i in range(10, 20)], bad]
    with pytest.raises(EntityInvalidError) as err:
        await store.apply(things.id, pull, full=True, allowed_types=TYPES)
    assert err.value.key == "entity_invalid"
    assert await _snapshot(pool, things.id) == before and await _events(pool, things.id) == events


async def test_an_entity_carrying_the_entrys_secret_is_refused_without_naming_it(
    store, make_things, distinctive_secret
):
    things = await make_things()
    leaky = {"entity_id": "s1", "type": "sensor", "attributes": {"url": f"https://x.test/?key={distinctive_secret}"}}
    with pytest.raises(EntityContainsSecretError) as err:
        await store.apply(things.id, [light(1), leaky], full=True, forbidden_values=[distinctive_secret])
    assert distinctive_secret not in str(err.value) and "s1" not in str(err.value)
    assert await store.count(things.id) == 0


async def test_attribute_order_does_not_count_as_a_change(store, make_things):
    things = await make_things()
    await store.apply(things.id, [Entity(entity_id="s", type="sensor", attributes={"a": 1, "b": {"x": 1, "y": 2}})])
    again = Entity(entity_id="s", type="sensor", attributes={"b": {"y": 2, "x": 1}, "a": 1})
    diff = await store.apply(things.id, [again])
    assert not diff.changed and diff.unchanged == 1


async def test_last_seen_follows_full_pulls_without_rewriting_rows(store, pool, make_things):
    things = await make_things()
    await store.apply(things.id, [light(1)], full=True)
    first = (await store.get(things.id, "light.l1")).last_seen
    before = await _snapshot(pool, things.id)
    await store.apply(things.id, [light(1)], full=True)
    assert (await store.get(things.id, "light.l1")).last_seen > first
    assert await _snapshot(pool, things.id) == before


async def test_a_sync_for_a_missing_entry_raises_entry_not_found(store):
    with pytest.raises(EntryNotFoundError):
        await store.apply("no-such-entry", [light(1)], full=True)


async def test_entities_go_with_their_entry(store, services, make_things):
    things = await make_things()
    await store.apply(things.id, [light(1)], full=True)
    await services.entries.delete(things.id)
    assert await store.count(things.id) == 0
