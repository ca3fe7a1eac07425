"""EntriesService against real Postgres: create rules, masking, updates, state, migration, visibility."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from runtime.crypto.store import SecretStore
from runtime.integrations import Integration, SetupContext
from runtime.integrations.config_errors import (
    AlreadyConfiguredError,
    ConfigEntryError,
    EntryNotFoundError,
    EntryRevisionConflictError,
    IntegrationDisabledError,
    IntegrationUnavailableError,
    MaskedValueError,
    ScopeNotAllowedError,
)
from runtime.integrations.entries import EntriesService
from runtime.integrations.entry_states import ConfigEntryState
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal

from .flow_helpers import ALICE, Registry, make_loaded, register_rows, services

LONG_PASSWORD = "correct-horse-battery-staple"  # >= 12 chars: mask shows the last four
SHORT_PASSWORD = "hunter2"
KEY = "sk-live-abcdefghijklmnop"


class Versioned(Integration):
    """Schema v1 stored ``url``; v2 stores ``base_url``. A migration of data only."""

    fail = False

    async def async_migrate_entry(self, ctx: SetupContext, from_version: int) -> dict[str, Any] | None:
        if self.fail:
            raise RuntimeError("cannot migrate")
        assert ctx.secrets["api_key"] == KEY  # migrations see secrets, as setup does
        data = dict(ctx.data)
        data["base_url"] = data.pop("url")
        return data


@pytest.fixture
async def env(pool, secret_store, tmp_path):
    registry = Registry()
    multi = registry.add(make_loaded(tmp_path, "multi", single_instance=False))
    single = registry.add(make_loaded(tmp_path, "single", single_instance=True))
    await register_rows(pool, multi, single)
    entries, _ = services(pool, secret_store, registry)

    class E:
        pass

    e = E()
    e.pool, e.registry, e.entries, e.root = pool, registry, entries, tmp_path
    return e


def _user(sub: str = "alice") -> EntryOwner:
    return EntryOwner("user", owner_sub=sub)


async def _create(env, domain="multi", owner=None, **kw):
    kw.setdefault("title", "t")
    return await env.entries.create(domain=domain, owner=owner or _user(), **kw)


# -- create ---------------------------------------------------------------------------

async def test_create_writes_entry_and_encrypted_secrets_together(env):
    entry = await _create(env, data={"base_url": "https://x"}, secrets={"api_key": KEY, "pin": LONG_PASSWORD},
                          secret_kinds={"pin": "password"})
    assert entry.data == {"base_url": "https://x"} and entry.secret_fields == ["api_key", "pin"]
    assert entry.revision == 1 and entry.version == 1 and entry.state is ConfigEntryState.NOT_LOADED
    assert KEY not in entry.model_dump_json() and LONG_PASSWORD not in entry.model_dump_json()
    ctx = await env.entries.build_setup_context(entry.id)
    assert dict(ctx.secrets) == {"api_key": KEY, "pin": LONG_PASSWORD} and KEY not in repr(ctx)


async def test_create_rolls_back_the_row_when_the_secrets_cannot_be_written(env, keyring):
    class FailingStore(SecretStore):
        async def put(self, conn, owner_kind, owner_id, values):
            raise RuntimeError("disk full")

    entries = EntriesService(env.pool, FailingStore(keyring), env.registry)
    with pytest.raises(RuntimeError):
        await entries.create(domain="multi", owner=_user(), title="t", secrets={"api_key": KEY})
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM config_entries") == 0
    with pytest.raises(ConfigEntryError) as err:  # a non-text secret is refused before anything is written
        await _create(env, secrets={"api_key": 12})  # type: ignore[dict-item]
    assert err.value.key == "entry_secret_invalid"


async def test_single_instance_allows_one_entry_per_owner(env):
    await _create(env, "single")
    with pytest.raises(AlreadyConfiguredError) as err:
        await _create(env, "single")
    assert err.value.key == "already_configured"
    await _create(env, "single", owner=_user("bob"))
    await _create(env, "single", owner=EntryOwner("org", org_id="acme"))


async def test_a_unique_id_is_unique_per_domain_and_owner(env):
    await _create(env, unique_id="acct-1")
    with pytest.raises(AlreadyConfiguredError):
        await _create(env, unique_id="acct-1")
    await _create(env, unique_id="acct-2")
    await _create(env, unique_id="acct-1", owner=_user("bob"))


async def test_the_database_enforces_the_unique_id_index_too(env):
    await _create(env, unique_id="u")
    async with env.pool.acquire() as c:
        with pytest.raises(asyncpg.UniqueViolationError):
            await c.execute("""INSERT INTO config_entries (id, domain, scope, owner_sub, unique_id)
                               VALUES ('x', 'multi', 'user', 'alice', 'u')""")


async def test_the_database_rejects_owner_columns_that_do_not_match_the_scope(env):
    async with env.pool.acquire() as c:
        for scope, sub, org, group in [("user", None, None, None), ("org", None, None, None),
                                       ("group", None, "acme", None), ("global", "alice", None, None),
                                       ("user", "alice", "acme", None), ("team", None, None, None)]:
            with pytest.raises(asyncpg.CheckViolationError):
                await c.execute("""INSERT INTO config_entries (id, domain, scope, owner_sub, org_id, group_id)
                                   VALUES ('x', 'multi', $1, $2, $3, $4)""", scope, sub, org, group)


async def test_scope_outside_allowed_scopes_is_rejected(env):
    await register_rows(env.pool, env.registry.get("multi"), allowed_scopes=["org", "global"])
    with pytest.raises(ScopeNotAllowedError) as err:
        await _create(env)
    assert err.value.key == "scope_not_allowed"
    await _create(env, owner=EntryOwner("global"))


async def test_a_disabled_or_unknown_integration_cannot_get_entries(env):
    await register_rows(env.pool, env.registry.get("multi"), enabled=False)
    with pytest.raises(IntegrationDisabledError):
        await _create(env)
    with pytest.raises(IntegrationUnavailableError) as err:
        await _create(env, "nowhere")
    assert err.value.key == "integration_not_found"


# -- masking and the masked round trip --------------------------------------------------

async def test_read_masked_shows_data_and_only_masks_of_secrets(env):
    entry = await _create(env, data={"host": "h"},
                          secrets={"api_key": KEY, "pin": LONG_PASSWORD, "short": SHORT_PASSWORD},
                          secret_kinds={"pin": "password", "short": "password"})
    masked = await env.entries.read_masked(entry.id)
    assert masked["data"] == {"host": "h"}
    assert masked["secrets"] == {"api_key": "••••", "pin": "••••" + LONG_PASSWORD[-4:], "short": "••••"}
    text = repr(masked)
    assert KEY not in text and LONG_PASSWORD not in text and SHORT_PASSWORD not in text


async def test_masked_round_trip_keeps_a_secret_sent_back_as_its_mask(env):
    entry = await _create(env, data={"host": "h"}, secrets={"api_key": KEY, "pin": LONG_PASSWORD},
                          secret_kinds={"pin": "password"})
    masked = await env.entries.read_masked(entry.id)
    updated = await env.entries.update(entry.id, data={"host": "h2"}, secrets=masked["secrets"])
    assert updated.revision == entry.revision + 1 and updated.data == {"host": "h2"}
    assert dict((await env.entries.build_setup_context(entry.id)).secrets) == {"api_key": KEY, "pin": LONG_PASSWORD}


async def test_masked_round_trip_replaces_a_secret_sent_with_a_new_value(env):
    entry = await _create(env, secrets={"api_key": KEY, "pin": LONG_PASSWORD}, secret_kinds={"pin": "password"})
    masked = await env.entries.read_masked(entry.id)
    updated = await env.entries.update(entry.id, secrets={**masked["secrets"], "api_key": "sk-new-value-0001"})
    assert updated.revision == entry.revision + 1
    secrets = (await env.entries.build_setup_context(entry.id)).secrets
    assert dict(secrets) == {"api_key": "sk-new-value-0001", "pin": LONG_PASSWORD}
    assert (await env.entries.read_masked(entry.id))["secrets"]["pin"] == masked["secrets"]["pin"]


async def test_a_stale_or_foreign_mask_is_rejected_rather_than_stored(env):
    entry = await _create(env, secrets={"pin": LONG_PASSWORD}, secret_kinds={"pin": "password"})
    with pytest.raises(MaskedValueError) as err:
        await env.entries.update(entry.id, secrets={"pin": "••••zzzz"})
    assert err.value.key == "masked_value_invalid"
    with pytest.raises(MaskedValueError):
        await env.entries.update(entry.id, secrets={"other": "••••"})
    assert (await env.entries.build_setup_context(entry.id)).secrets["pin"] == LONG_PASSWORD


async def test_an_update_that_changes_nothing_keeps_the_revision(env):
    entry = await _create(env, data={"a": 1}, secrets={"api_key": KEY})
    same = await env.entries.update(entry.id, data={"a": 1}, secrets={"api_key": "••••"})
    assert same.revision == entry.revision


async def test_update_can_remove_a_secret_and_detects_concurrent_changes(env):
    entry = await _create(env, secrets={"api_key": KEY, "old": "x" * 5})
    updated = await env.entries.update(entry.id, secrets={"old": None}, expected_revision=entry.revision)
    assert updated.secret_fields == ["api_key"]
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM secret_values WHERE field = 'old'") == 0
    with pytest.raises(EntryRevisionConflictError):
        await env.entries.update(entry.id, data={"a": 2}, expected_revision=entry.revision)


# -- state, delete, survival ---------------------------------------------------------------

async def test_state_changes_are_recorded_without_touching_the_revision(env):
    entry = await _create(env)
    retry = await env.entries.set_state(entry.id, ConfigEntryState.SETUP_RETRY, "TimeoutError during setup")
    assert retry.state is ConfigEntryState.SETUP_RETRY and retry.state.recoverable
    assert retry.state_reason == "TimeoutError during setup" and retry.revision == entry.revision
    with pytest.raises(EntryNotFoundError):
        await env.entries.set_state("missing", ConfigEntryState.LOADED)


async def test_delete_removes_the_entry_and_its_secrets(env):
    entry = await _create(env, secrets={"api_key": KEY})
    keep = await _create(env, secrets={"api_key": KEY})
    await env.entries.delete(entry.id)
    with pytest.raises(EntryNotFoundError) as err:
        await env.entries.get(entry.id)
    assert err.value.key == "entry_not_found"
    async with env.pool.acquire() as c:
        assert [r["owner_id"] for r in await c.fetch("SELECT owner_id FROM secret_values")] == [keep.id]


async def test_an_entry_survives_its_integration_going_not_found(env):
    entry = await _create(env, secrets={"api_key": KEY})
    async with env.pool.acquire() as c:
        await c.execute("UPDATE integrations SET status = 'not_found' WHERE domain = 'multi'")
        with pytest.raises(asyncpg.ForeignKeyViolationError):  # and the row cannot be dropped under it
            await c.execute("DELETE FROM integrations WHERE domain = 'multi'")
    assert (await env.entries.get(entry.id)).secret_fields == ["api_key"]


# -- migration ----------------------------------------------------------------------------

async def _versioned_entry(env, fail: bool = False):
    integration = Versioned()
    integration.fail = fail
    v1 = make_loaded(env.root, "versioned", integration=integration, config_schema_version=1)
    env.registry.add(v1)
    await register_rows(env.pool, v1)
    entry = await env.entries.create(domain="versioned", owner=_user(), title="v", data={"url": "https://x"},
                                     secrets={"api_key": KEY})
    # The integration ships schema v2; the stored entry is still at v1.
    integration.manifest = v1.manifest.model_copy(update={"config_schema_version": 2})
    env.registry.add(make_loaded(env.root, "versioned", integration=integration, config_schema_version=2))
    return entry, integration


async def test_migration_stores_the_new_data_and_version(env):
    entry, integration = await _versioned_entry(env)
    migrated = await env.entries.migrate_if_needed(entry, integration)
    assert migrated.version == 2 and migrated.data == {"base_url": "https://x"}
    assert migrated.revision == entry.revision + 1 and migrated.state is ConfigEntryState.NOT_LOADED
    assert await env.entries.migrate_if_needed(migrated, integration) == migrated  # nothing left to do


async def test_a_failed_migration_marks_migration_error_and_leaves_data_untouched(env, captured_logs):
    entry, integration = await _versioned_entry(env, fail=True)
    failed = await env.entries.migrate_if_needed(entry, integration)
    assert failed.state is ConfigEntryState.MIGRATION_ERROR and not failed.state.recoverable
    assert failed.version == 1 and failed.data == {"url": "https://x"} and failed.revision == entry.revision
    assert "config_entry_migration_failed" in captured_logs.getvalue()
    assert KEY not in captured_logs.getvalue()
    integration.fail = False  # fixed code: the next attempt succeeds and clears the error
    fixed = await env.entries.migrate_if_needed(failed, integration)
    assert fixed.version == 2 and fixed.state is ConfigEntryState.NOT_LOADED and fixed.state_reason is None


async def test_an_entry_newer_than_its_integration_is_a_migration_error(env):
    entry, integration = await _versioned_entry(env)
    integration.manifest = integration.manifest.model_copy(update={"config_schema_version": 1})
    newer = entry.model_copy(update={"version": 3})
    result = await env.entries.migrate_if_needed(newer, integration)
    assert result.state is ConfigEntryState.MIGRATION_ERROR and result.version == 1


async def test_a_migration_cannot_copy_a_secret_into_clear_data(env):
    class Copier(Integration):
        async def async_migrate_entry(self, ctx, from_version):
            return {**ctx.data, "api_key": ctx.secrets["api_key"]}

    entry, _ = await _versioned_entry(env)
    copier = Copier()
    copier.manifest = env.registry.get("versioned").manifest
    migrated = await env.entries.migrate_if_needed(entry, copier)
    assert migrated.version == 2 and "api_key" not in migrated.data


# -- visibility -----------------------------------------------------------------------------

async def test_the_most_specific_entry_of_a_single_instance_integration_applies(env):
    glob = await _create(env, "single", owner=EntryOwner("global"))
    org = await _create(env, "single", owner=EntryOwner("org", org_id="acme"))
    group = await _create(env, "single", owner=EntryOwner("group", org_id="acme", group_id="eng"))
    mine = await _create(env, "single", owner=_user("alice"))
    assert [e.id for e in await env.entries.list_for_principal(ALICE)] == [mine.id]
    await env.entries.delete(mine.id)
    assert [e.id for e in await env.entries.list_for_principal(ALICE)] == [group.id]
    await env.entries.delete(group.id)
    assert [e.id for e in await env.entries.list_for_principal(ALICE)] == [org.id]
    outsider = Principal(sub="zed", org_id="other")
    assert [e.id for e in await env.entries.list_for_principal(outsider)] == [glob.id]


async def test_every_visible_entry_of_a_multi_instance_integration_applies(env):
    made = [await _create(env, owner=o) for o in (
        _user("alice"), _user("alice"), EntryOwner("org", org_id="acme"), EntryOwner("global"),
        EntryOwner("group", group_id="eng"), _user("bob"), EntryOwner("org", org_id="other"),
        EntryOwner("group", org_id="other", group_id="eng"))]
    got = {e.id for e in await env.entries.list_for_principal(ALICE, domain="multi")}
    assert got == {e.id for e in made[:5]}


async def test_disabled_entries_disabled_integrations_and_revoked_scopes_are_left_out(env):
    off = await _create(env)
    on = await _create(env, owner=EntryOwner("global"))
    await env.entries.set_disabled(off.id, True)
    assert [e.id for e in await env.entries.list_for_principal(ALICE)] == [on.id]
    await register_rows(env.pool, env.registry.get("multi"), allowed_scopes=["user"])
    assert await env.entries.list_for_principal(ALICE) == []
    await register_rows(env.pool, env.registry.get("multi"), enabled=False)
    await env.entries.set_disabled(off.id, False)
    assert await env.entries.list_for_principal(ALICE) == []
