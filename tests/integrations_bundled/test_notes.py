"""notes: personal notes kept as local entities; tools, seeding, pulls that keep them, approvals, isolation."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from runtime.entities.entry_entities import EntryEntities
from runtime.entities.errors import EntityContainsSecretError, EntityInvalidError
from runtime.entities.store import EntityStore
from runtime.entities.types import EntitySyncInput, EntitySyncResult
from runtime.principal import Principal
from runtime.sessions.client import decide_approval, send_message
from runtime.sessions.setup_cache import EntrySetupError
from runtime.sessions.types import TurnStatus

from runtime.integrations.loader import discover_dirs

from .conftest import BUNDLED
from .support import assert_form_spec_valid, entry_tools

ALICE = Principal(sub="alice", org_id="acme")
BOB = Principal(sub="bob", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)


@pytest.fixture
def registry(tmp_path):
    """The bundled integrations plus one untrusted source (the ``sketchy`` fixture)."""
    extra = tmp_path / "extra"
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "integrations" / "sketchy", extra / "sketchy")
    registry = discover_dirs([BUNDLED, extra])
    assert not registry.failures, registry.failures
    return registry


@pytest.fixture
async def alice_notes(make_entry):
    return await make_entry("notes", "user", owner_sub="alice", title="Alice's notes")


async def _events(services, entry_id: str) -> list[tuple[str, str]]:
    async with services.ctx.pool.acquire() as conn:
        rows = await conn.fetch("SELECT type, payload->>'entity_id' AS entity FROM events WHERE entry_id = $1 "
                                "AND type LIKE 'entity.%' ORDER BY events.id", entry_id)
    return [(r["type"], r["entity"]) for r in rows]


async def _sync(temporal_client, settings, entry_id: str) -> EntitySyncResult:
    return await temporal_client.execute_workflow(
        "EntitySyncWorkflow", EntitySyncInput(entry_id=entry_id), id=f"test-notes-{uuid.uuid4().hex[:8]}",
        task_queue=settings.temporal.task_queue, result_type=EntitySyncResult)


# -- manifest and flow ---------------------------------------------------------------------------

async def test_form_is_valid_and_only_a_user_may_keep_notes(registry, flow_manager, services):
    loaded = registry.get("notes")
    assert [f.name for f in assert_form_spec_valid(loaded)] == ["title"]
    assert loaded.manifest.high_privilege_tools == ("notes_create", "notes_delete")
    assert loaded.integration.entity_types() == ["note"] and loaded.manifest.single_instance

    shared = await flow_manager.start("notes", ADMIN, scope="global")
    assert shared.type == "abort" and shared.reason.key == "user_scope_only"
    assert "personal" in shared.reason.text

    form = await flow_manager.start("notes", ALICE)
    done = await flow_manager.submit(form.flow_id, {"title": "  "}, ALICE)
    assert done.type == "create_entry" and done.title == "Notes"
    entry = await services.entries.get(done.entry_id)
    assert (entry.scope, entry.owner_sub, entry.secret_fields) == ("user", "alice", [])
    again = await flow_manager.start("notes", ALICE)
    assert again.type == "abort" and again.reason.key == "already_configured"


async def test_an_entry_that_is_not_user_scoped_does_not_set_up(make_entry, services):
    entry = await make_entry("notes", "org", org_id="acme")
    with pytest.raises(EntrySetupError):
        await services.setup_cache.get(entry)
    assert (await services.entries.get(entry.id)).state.value == "setup_error"


# -- tools ----------------------------------------------------------------------------------------

async def test_create_search_and_delete(alice_notes, services):
    tools = await entry_tools(services, alice_notes)
    assert sorted(tools) == ["notes_create", "notes_delete", "notes_search"]

    milk = await tools["notes_create"](title="Shopping", body="Milk, eggs and OAT flakes", tags=["Home", "home "])
    plan = await tools["notes_create"](title="Launch plan", body="Ship v2 on Friday. " + "x" * 500, tags=["work"])
    assert milk.note_id.startswith("note-") and milk.tags == ["home"] and milk.updated_at

    assert [n.note_id for n in (await tools["notes_search"](query="oat milk")).notes] == [milk.note_id]
    assert (await tools["notes_search"](query="oat cheese")).total == 0
    by_tag = await tools["notes_search"](tag="WORK")
    assert [n.title for n in by_tag.notes] == ["Launch plan"] and by_tag.notes[0].body.endswith("…")
    assert len((await tools["notes_search"](tag="work", full=True)).notes[0].body) == len(plan.body)
    latest = await tools["notes_search"](limit=1)
    assert latest.notes[0].note_id == plan.note_id and latest.total == 2 and latest.truncated

    gone = await tools["notes_delete"](note_id=milk.note_id)
    assert gone.deleted and (await tools["notes_search"]()).total == 1
    from pydantic_ai.exceptions import ModelRetry

    with pytest.raises(ModelRetry, match="no note"):
        await tools["notes_delete"](note_id=milk.note_id)
    assert await _events(services, alice_notes.id) == [
        ("entity.created", milk.note_id), ("entity.created", plan.note_id), ("entity.deleted", milk.note_id)]


async def test_bad_arguments_are_refused_before_anything_is_written(alice_notes, services):
    from pydantic import ValidationError

    tools = await entry_tools(services, alice_notes)
    for args in ({"title": ""}, {"title": "t" * 201}, {"title": "t", "body": "b" * 20_001},
                 {"title": "t", "tags": ["x"] * 21}):
        with pytest.raises(ValidationError):
            await tools["notes_create"](**args)
    assert await EntityStore(services.ctx.pool).count(alice_notes.id) == 0


# -- the store handle -----------------------------------------------------------------------------

async def test_the_handle_writes_only_its_entry_and_its_declared_types(make_entry, services, distinctive_secret):
    alice = await make_entry("notes", "user", owner_sub="alice")
    bob = await make_entry("notes", "user", owner_sub="bob")
    ctx = await services.entries.build_setup_context(alice.id)
    assert isinstance(ctx.entities, EntryEntities) and ctx.entities.entry_id == alice.id
    bob_ctx = await services.entries.build_setup_context(bob.id)
    await bob_ctx.entities.upsert([{"entity_id": "note-b", "type": "note", "state": "Bob's"}])

    with pytest.raises(EntityInvalidError):
        await ctx.entities.upsert([{"entity_id": "x", "type": "light"}])
    assert await ctx.entities.delete(["note-b"]) == []  # another entry's id is simply not there
    assert (await EntityStore(services.ctx.pool).get(bob.id, "note-b")).state == "Bob's"
    assert ctx.entities.__repr__() == f"EntryEntities({alice.id!r}, types=['note'])"

    # An integration without entity types gets no handle.
    fetch = await make_entry("http_fetch", "global", data={"allowed_domains": "example.com"})
    assert (await services.entries.build_setup_context(fetch.id)).entities is None


async def test_a_secret_of_the_entry_cannot_be_written_into_an_entity(make_entry, services, distinctive_secret):
    entry = await make_entry("notes", "user", owner_sub="alice", secrets={"api_key": distinctive_secret})
    ctx = await services.entries.build_setup_context(entry.id)
    with pytest.raises(EntityContainsSecretError) as raised:
        await ctx.entities.upsert([{"entity_id": "n", "type": "note", "attributes": {"body": distinctive_secret}}])
    assert distinctive_secret not in str(raised.value)
    assert await ctx.entities.count() == 0


# -- seeding, pulls, sessions ----------------------------------------------------------------------

async def test_the_sync_seeds_a_welcome_note_and_pulls_never_delete_notes(
    worker, alice_notes, services, temporal_client, settings
):
    tools = await entry_tools(services, alice_notes)
    mine = await tools["notes_create"](title="Keep me", body="through every pull")
    first = await _sync(temporal_client, settings, alice_notes.id)
    assert first.status == "ok" and first.seed.created == 1 and first.pull.deleted == 0
    titles = {n.title for n in (await tools["notes_search"]()).notes}
    assert titles == {"Keep me", "Welcome to your notes"}

    second = await _sync(temporal_client, settings, alice_notes.id)
    assert second.seed is None and second.pull.deleted == 0
    assert await EntityStore(services.ctx.pool).count(alice_notes.id) == 2
    await tools["notes_delete"](note_id="note-welcome")  # the user may delete the seed; it does not come back
    await _sync(temporal_client, settings, alice_notes.id)
    assert [n.note_id for n in (await tools["notes_search"]()).notes] == [mine.note_id]


async def test_a_session_keeps_notes_and_another_user_never_sees_them(
    worker, alice_notes, make_entry, open_session, recorder
):
    await make_entry("notes", "user", owner_sub="bob")
    alice = await open_session(ALICE)
    made = await send_message(alice, '/tool notes_create {"title": "Dentist", "body": "Tuesday 9:30", "tags": ["health"]}')
    assert made.status is TurnStatus.COMPLETED and "notes_create returned" in made.text  # no approval: nothing untrusted
    found = await send_message(alice, '/tool notes_search {"query": "dentist"}')
    assert "Tuesday 9:30" in found.text

    bob = await open_session(BOB)
    theirs = await send_message(bob, '/tool notes_search {"query": "dentist"}')
    assert theirs.status is TurnStatus.COMPLETED and "Tuesday" not in theirs.text
    assert '"total":0' in theirs.text.replace(" ", "")


async def test_writing_a_note_waits_for_approval_while_an_untrusted_source_is_present(
    worker, alice_notes, make_entry, open_session, services
):
    await make_entry("sketchy", "user", owner_sub="alice")
    handle = await open_session(ALICE)
    held = await send_message(handle, '/tool notes_create {"title": "Pay invoice 42"}')
    assert held.status is TurnStatus.AWAITING_APPROVAL
    [pending] = held.pending_approvals
    assert (pending.tool_name, pending.approval_reason) == ("notes_create", "high_privilege_with_untrusted_source")
    assert await EntityStore(services.ctx.pool).count(alice_notes.id) == 0
    denied = await decide_approval(handle, pending.tool_call_id, approve=False, reason="not mine")
    assert denied.status is TurnStatus.COMPLETED
    assert await EntityStore(services.ctx.pool).count(alice_notes.id) == 0
    searched = await send_message(handle, '/tool notes_search {}')
    assert searched.status is TurnStatus.COMPLETED  # reading needs no approval
