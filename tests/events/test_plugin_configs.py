"""Plugin configurations: typed variables, secret ones sealed at rest, one per scope, visibility rules."""

from __future__ import annotations

import pytest

from runtime.integrations.scopes import EntryOwner
from runtime.plugins.configs import OWNER_KIND
from runtime.plugins.registry import PluginError
from runtime.principal import Principal


async def test_secret_variables_are_sealed_and_only_revealed_to_delivery_code(services, distinctive_secret):
    manifest = services.plugins.get("webhook_notify").manifest
    config = await services.plugin_configs.configure(
        manifest, EntryOwner("global"), variables={"WEBHOOK_URL": "http://127.0.0.1:9/x", "TIMEOUT_SECONDS": "2.5"},
        secrets={"SIGNING_KEY": distinctive_secret})
    assert config.secret_variables == ["SIGNING_KEY"] and "SIGNING_KEY" not in config.variables
    assert config.variables["TIMEOUT_SECONDS"] == 2.5
    async with services.ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT variables::text AS v FROM plugin_configs WHERE id = $1", config.id)
        sealed = await conn.fetchval("SELECT ciphertext FROM secret_values WHERE owner_kind = $1 AND owner_id = $2",
                                     OWNER_KIND, config.id)
    assert distinctive_secret not in row["v"] and distinctive_secret not in sealed
    revealed = await services.plugin_configs.reveal(config, manifest)
    assert revealed["SIGNING_KEY"] == distinctive_secret
    assert revealed["EVENTS"] == ["turn_complete", "session_ended", "sync_failed"]  # the manifest default


@pytest.mark.parametrize("variables,secrets,key", [
    ({"NOPE": "x"}, {}, "plugin_variable_unknown"),
    ({"WEBHOOK_URL": "u", "SIGNING_KEY": "in-clear"}, {}, "plugin_variable_invalid"),
    ({"WEBHOOK_URL": "u"}, {"WEBHOOK_URL": "u"}, "plugin_variable_unknown"),
    ({"WEBHOOK_URL": "u", "TIMEOUT_SECONDS": "soon"}, {}, "plugin_variable_invalid"),
    ({"EVENTS": "turn_complete"}, {}, "plugin_variable_required"),
])
async def test_invalid_variables_are_refused_with_stable_keys_and_nothing_is_stored(services, variables, secrets, key):
    manifest = services.plugins.get("webhook_notify").manifest
    with pytest.raises(PluginError) as caught:
        await services.plugin_configs.configure(manifest, EntryOwner("global"), variables=variables, secrets=secrets)
    assert caught.value.key == key
    assert await services.plugin_configs.list() == []


async def test_one_configuration_per_scope_updated_in_place(services):
    manifest = services.plugins.get("message_logger").manifest
    first = await services.plugin_configs.configure(manifest, EntryOwner("user", owner_sub="alice"),
                                                    variables={"MIN_COUNT": "2"})
    again = await services.plugin_configs.configure(manifest, EntryOwner("user", owner_sub="alice"),
                                                    variables={"WEBHOOK_URL": "http://x.test"})
    other = await services.plugin_configs.configure(manifest, EntryOwner("org", org_id="acme"))
    assert again.id == first.id and again.variables == {"MIN_COUNT": 2, "WEBHOOK_URL": "http://x.test"}
    assert other.id != first.id
    disabled = await services.plugin_configs.set_enabled("message_logger", EntryOwner("user", owner_sub="alice"), False)
    assert disabled.enabled is False
    with pytest.raises(PluginError) as caught:
        await services.plugin_configs.set_enabled("message_logger", EntryOwner("user", owner_sub="bob"), False)
    assert caught.value.key == "plugin_config_not_found"


async def test_which_configurations_see_a_session_and_an_entry(services):
    manifest = services.plugins.get("message_logger").manifest
    store = services.plugin_configs
    alice, acme, ops, everyone = [await store.configure(manifest, owner) for owner in (
        EntryOwner("user", owner_sub="alice"), EntryOwner("org", org_id="acme"),
        EntryOwner("group", org_id="acme", group_id="ops"), EntryOwner("global"))]
    principal = Principal(sub="alice", org_id="acme", groups=("ops",))
    assert all(c.sees_session_of(principal) for c in (alice, acme, ops, everyone))
    bob = Principal(sub="bob", org_id="other")
    assert [c.sees_session_of(bob) for c in (alice, acme, ops, everyone)] == [False, False, False, True]
    entry_owner = EntryOwner("user", owner_sub="alice")
    assert [c.sees_entry(entry_owner) for c in (alice, acme, ops, everyone)] == [True, False, False, True]
    assert [c.sees_entry(None) for c in (alice, acme, ops, everyone)] == [False, False, False, True]
