"""The config-flow engine against real Postgres: steps, validation, lifetime, ownership, outcomes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime.integrations import FieldDescriptor, SimpleConfigFlow
from runtime.integrations.config_errors import (
    FlowExpiredError,
    FlowForbiddenError,
    FlowInputInvalidError,
    FlowInputTooLargeError,
    FlowNotFoundError,
    IntegrationDisabledError,
    ScopeForbiddenError,
    ScopeNotAllowedError,
)
from runtime.integrations.entry_states import ConfigEntryState
from runtime.integrations.flow_manager import MAX_INPUT_BYTES

from .flow_helpers import ADMIN, ALICE, BOB, WizardFlow, make_env, make_loaded, register_rows, services


@pytest.fixture
async def env(pool, secret_store, tmp_path):
    return await make_env(pool, secret_store, tmp_path)


async def _wizard_to_region(env, principal=ALICE, account="Acme-Main", key="k-123456789012345"):
    view = await env.flows.start("wizard", principal)
    return await env.flows.submit(view.flow_id, {"account": account, "api_key": key}, principal)


async def test_three_step_flow_collects_input_across_steps_and_creates_one_entry(env):
    first = await env.flows.start("wizard", ALICE)
    assert (first.type, first.step_id) == ("form", "user")
    assert [f.name for f in first.fields] == ["account", "api_key"]
    assert [f.label for f in first.fields] == ["Account", "API key"]

    second = await env.flows.submit(first.flow_id, {"account": "Acme-Main", "api_key": "k-123456789012345"}, ALICE)
    assert (second.type, second.step_id, second.flow_id) == ("form", "region", first.flow_id)
    assert second.title == "Region"
    assert second.description == "Where does Acme-Main live?"  # placeholder filled from _collected
    assert [(o.value, o.label) for o in second.fields[0].options] == [("eu", "Europe"), ("us", "United States")]

    third = await env.flows.submit(first.flow_id, {"region": "eu"}, ALICE)
    assert (third.type, third.step_id) == ("form", "confirm")
    assert third.fields[0].type == "note"

    done = await env.flows.submit(first.flow_id, {}, ALICE)
    assert done.type == "create_entry" and done.title == "Acme-Main (eu)"

    entry = await env.entries.get(done.entry_id)
    assert entry.data == {"account": "Acme-Main", "region": "eu"}
    assert entry.secret_fields == ["api_key"]
    assert entry.unique_id == "acme-main"
    assert (entry.scope, entry.owner_sub, entry.state) == ("user", "alice", ConfigEntryState.NOT_LOADED)
    ctx = await env.entries.build_setup_context(entry.id)
    assert ctx.secrets["api_key"] == "k-123456789012345"
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM config_flows") == 0
        assert await c.fetchval("SELECT count(*) FROM secret_values WHERE owner_kind = 'config_flow'") == 0
    assert [name for name, _ in WizardFlow.calls] == ["user", "user", "region", "region", "confirm"]


async def test_invalid_input_returns_field_errors_without_calling_the_step(env):
    view = await env.flows.start("wizard", ALICE)
    WizardFlow.calls.clear()
    again = await env.flows.submit(view.flow_id, {"account": "", "api_key": 42, "surprise": "x"}, ALICE)
    assert again.type == "form" and again.step_id == "user"
    assert {k: e.key for k, e in again.errors.items()} == {
        "account": "required", "api_key": "invalid_type", "surprise": "unknown_field"}
    assert again.errors["account"].text == "This field is required."  # generic runtime default
    assert WizardFlow.calls == []
    # The flow is still waiting on the same step and accepts a corrected submission.
    ok = await env.flows.submit(view.flow_id, {"account": "a", "api_key": "k"}, ALICE)
    assert ok.step_id == "region"


async def test_select_option_not_offered_is_rejected(env):
    region = await _wizard_to_region(env)
    bad = await env.flows.submit(region.flow_id, {"region": "mars"}, ALICE)
    assert bad.errors["region"].key == "invalid_option" and bad.step_id == "region"


async def test_unicode_text_is_accepted_and_stored_verbatim(env):
    account = "Zoë-東京-🚀"
    region = await _wizard_to_region(env, account=account)
    await env.flows.submit(region.flow_id, {"region": "us"}, ALICE)
    done = await env.flows.submit(region.flow_id, {}, ALICE)
    assert (await env.entries.get(done.entry_id)).data["account"] == account


async def test_oversized_input_is_rejected_with_a_specific_error(env):
    view = await env.flows.start("wizard", ALICE)
    with pytest.raises(FlowInputTooLargeError) as err:
        await env.flows.submit(view.flow_id, {"account": "x" * (MAX_INPUT_BYTES + 1), "api_key": "k"}, ALICE)
    assert err.value.key == "flow_input_too_large"
    with pytest.raises(FlowInputInvalidError):
        await env.flows.submit(view.flow_id, ["not", "a", "mapping"], ALICE)  # type: ignore[arg-type]
    # A long field under the total limit is the field's own error.
    too_long = await env.flows.submit(view.flow_id, {"account": "x" * 65, "api_key": "k"}, ALICE)
    assert too_long.errors["account"].key == "too_long"


async def test_expired_flow_is_rejected_and_its_state_removed(env):
    region = await _wizard_to_region(env)
    async with env.pool.acquire() as c:
        await c.execute("UPDATE config_flows SET expires_at = now() - interval '1 second'")
    with pytest.raises(FlowExpiredError) as err:
        await env.flows.submit(region.flow_id, {"region": "eu"}, ALICE)
    assert err.value.key == "flow_expired"
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM config_flows") == 0
        assert await c.fetchval("SELECT count(*) FROM secret_values WHERE owner_kind = 'config_flow'") == 0
    with pytest.raises(FlowNotFoundError):
        await env.flows.submit(region.flow_id, {"region": "eu"}, ALICE)


async def test_a_tiny_ttl_expires_an_idle_flow(pool, secret_store, tmp_path):
    env = await make_env(pool, secret_store, tmp_path, ttl_seconds=1)
    view = await env.flows.start("wizard", ALICE)
    await asyncio.sleep(1.2)
    with pytest.raises(FlowExpiredError):
        await env.flows.submit(view.flow_id, {"account": "a", "api_key": "k"}, ALICE)


async def test_sweep_removes_expired_flows_and_their_secrets(env):
    await _wizard_to_region(env)
    live = await _wizard_to_region(env, account="other")
    async with env.pool.acquire() as c:
        await c.execute("UPDATE config_flows SET expires_at = now() - interval '1 second' WHERE flow_id <> $1",
                        live.flow_id)
    assert await env.flows.sweep_expired() == 1
    async with env.pool.acquire() as c:
        assert [r["owner_id"] for r in await c.fetch(
            "SELECT owner_id FROM secret_values WHERE owner_kind = 'config_flow'")] == [live.flow_id]


async def test_unknown_flow_id_is_flow_not_found(env):
    with pytest.raises(FlowNotFoundError) as err:
        await env.flows.submit("0" * 32, {}, ALICE)
    assert err.value.key == "flow_not_found"


async def test_a_flow_belongs_to_the_principal_that_started_it(env):
    view = await env.flows.start("wizard", ALICE)
    with pytest.raises(FlowForbiddenError):
        await env.flows.submit(view.flow_id, {"account": "a", "api_key": "k"}, BOB)
    with pytest.raises(FlowForbiddenError):
        await env.flows.abort(view.flow_id, BOB)
    assert (await env.flows.get(view.flow_id, ALICE)).step_id == "user"


async def test_a_failing_step_shows_its_form_again_with_a_generic_error(pool, secret_store, tmp_path, captured_logs):
    class Broken(SimpleConfigFlow):
        domain = "broken"
        SCHEMA = [FieldDescriptor(name="host", type="text", required=True)]

        async def validate(self, data: dict[str, Any]) -> str | None:
            raise RuntimeError("internal detail the user must not see")

    class BrokenStep(SimpleConfigFlow):
        domain = "broken_step"
        SCHEMA = [FieldDescriptor(name="host", type="text", required=True)]

        async def async_step_user(self, user_input=None):
            if user_input is None:
                return await super().async_step_user(None)
            raise KeyError("boom")

    env = await make_env(pool, secret_store, tmp_path)
    for domain, cls in (("broken", Broken), ("broken_step", BrokenStep)):
        loaded = env.registry.add(make_loaded(tmp_path, domain, flow=cls))
        await register_rows(pool, loaded)
        view = await env.flows.start(domain, ALICE)
        again = await env.flows.submit(view.flow_id, {"host": "h"}, ALICE)
        assert (again.type, again.step_id) == ("form", "user")
        assert {k: e.key for k, e in again.errors.items()} == {"base": "unknown"}
        assert "internal detail" not in again.model_dump_json()
    assert "config_flow_step_failed" in captured_logs.getvalue()  # BrokenStep's exception, logged
    assert "config_flow_validate_failed" in captured_logs.getvalue()  # SimpleConfigFlow's own log


async def test_abort_from_a_step_ends_the_flow(env):
    await _finish_wizard(env, "dup")
    again = await env.flows.start("wizard", ALICE)
    aborted = await env.flows.submit(again.flow_id, {"account": "DUP", "api_key": "k"}, ALICE)
    assert aborted.type == "abort" and aborted.reason.key == "already_configured"
    assert aborted.reason.text == "This is already configured."
    with pytest.raises(FlowNotFoundError):
        await env.flows.submit(again.flow_id, {"account": "x", "api_key": "k"}, ALICE)


async def _finish_wizard(env, account, principal=ALICE, key="k-123456789012345"):
    region = await _wizard_to_region(env, principal=principal, account=account, key=key)
    await env.flows.submit(region.flow_id, {"region": "eu"}, principal)
    return await env.flows.submit(region.flow_id, {}, principal)


async def test_same_unique_id_for_another_owner_is_not_already_configured(env):
    await _finish_wizard(env, "shared")
    done = await _finish_wizard(env, "shared", principal=BOB)
    assert done.type == "create_entry"


async def test_single_instance_integration_aborts_a_second_flow_for_the_same_owner(env):
    view = await env.flows.start("connect", ALICE)
    assert [f.name for f in view.fields] == ["host", "port", "password"]
    assert view.fields[1].default == 443
    done = await env.flows.submit(view.flow_id, {"host": "db.example", "password": "pw"}, ALICE)
    assert done.type == "create_entry" and done.title == "db.example"
    assert (await env.entries.get(done.entry_id)).data == {"host": "db.example", "port": 443}
    second = await env.flows.start("connect", ALICE)
    assert second.type == "abort" and second.reason.key == "already_configured" and second.flow_id is None
    assert (await env.flows.start("connect", BOB)).type == "form"  # another owner is another instance


async def test_client_abort_removes_the_flow_and_its_secrets(env):
    region = await _wizard_to_region(env)
    await env.flows.abort(region.flow_id, ALICE)
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM config_flows") == 0
        assert await c.fetchval("SELECT count(*) FROM secret_values") == 0
    with pytest.raises(FlowNotFoundError):
        await env.flows.abort(region.flow_id)


async def test_integration_without_config_flow_creates_its_entry_without_a_form(env):
    plain = env.registry.add(make_loaded(env.root, "plain_tools"))
    await register_rows(env.pool, plain)
    view = await env.flows.start("plain_tools", ALICE)
    assert view.type == "create_entry" and view.fields == [] and view.title == "Plain Tools"
    entry = await env.entries.get(view.entry_id)
    assert entry.data == {} and entry.secret_fields == []
    assert (await env.flows.start("plain_tools", ALICE)).reason.key == "already_configured"


async def test_reconfigure_updates_the_existing_entry_and_prefills_its_data(env):
    done = (await env.flows.submit((await env.flows.start("connect", ALICE)).flow_id,
                                   {"host": "old.example", "port": 5432, "password": "pw-1"}, ALICE))
    before = await env.entries.get(done.entry_id)
    view = await env.flows.start("connect", ALICE, source="reconfigure", entry_id=done.entry_id)
    assert {f.name: f.default for f in view.fields} == {"host": "old.example", "port": 5432, "password": None}
    finished = await env.flows.submit(view.flow_id, {"host": "new.example", "port": 5432, "password": "pw-2"}, ALICE)
    assert finished.type == "create_entry" and finished.entry_id == done.entry_id
    after = await env.entries.get(done.entry_id)
    assert after.data == {"host": "new.example", "port": 5432}
    assert after.revision == before.revision + 1 and after.title == before.title
    assert (await env.entries.build_setup_context(done.entry_id)).secrets["password"] == "pw-2"
    async with env.pool.acquire() as c:
        assert await c.fetchval("SELECT count(*) FROM config_entries") == 1


async def test_reauth_replaces_only_the_secret(env):
    done = await _finish_wizard(env, "acct", key="old-key-000000000")
    view = await env.flows.start("wizard", ALICE, source="reauth", entry_id=done.entry_id)
    assert [f.name for f in view.fields] == ["api_key"]
    finished = await env.flows.submit(view.flow_id, {"api_key": "new-key-111111111"}, ALICE)
    assert finished.entry_id == done.entry_id
    entry = await env.entries.get(done.entry_id)
    assert entry.data == {"account": "acct", "region": "eu"} and entry.title == "acct (eu)"
    assert (await env.entries.build_setup_context(done.entry_id)).secrets["api_key"] == "new-key-111111111"


async def test_reconfigure_to_another_account_aborts_with_unique_id_mismatch(env):
    done = await _finish_wizard(env, "first")
    view = await env.flows.start("wizard", ALICE, source="reconfigure", entry_id=done.entry_id)
    assert view.step_id == "user"
    moved = await env.flows.submit(view.flow_id, {"account": "second", "api_key": "k"}, ALICE)
    # The wizard goes on to region/confirm; the mismatch is caught when it tries to finish.
    await env.flows.submit(moved.flow_id, {"region": "us"}, ALICE)
    result = await env.flows.submit(moved.flow_id, {}, ALICE)
    assert result.type == "abort" and result.reason.key == "unique_id_mismatch"
    assert (await env.entries.get(done.entry_id)).data["account"] == "first"


async def test_another_principal_cannot_reconfigure_my_entry(env):
    done = await _finish_wizard(env, "mine")
    from runtime.integrations.config_errors import EntryNotFoundError

    with pytest.raises(EntryNotFoundError):
        await env.flows.start("wizard", BOB, source="reconfigure", entry_id=done.entry_id)


async def test_a_scope_not_in_allowed_scopes_is_rejected(env):
    await register_rows(env.pool, env.wizard, allowed_scopes=["org"])
    with pytest.raises(ScopeNotAllowedError) as err:
        await env.flows.start("wizard", ALICE, scope="user")
    assert err.value.key == "scope_not_allowed"
    assert (await env.flows.start("wizard", ADMIN, scope="org")).type == "form"


async def test_shared_scopes_need_an_admin_and_group_membership(env):
    with pytest.raises(ScopeForbiddenError):
        await env.flows.start("wizard", ALICE, scope="org")
    with pytest.raises(ScopeForbiddenError):
        await env.flows.start("wizard", ADMIN, scope="group", group_id="finance")
    view = await env.flows.start("wizard", ADMIN, scope="group", group_id="ops")
    region = await env.flows.submit(view.flow_id, {"account": "team", "api_key": "k"}, ADMIN)
    await env.flows.submit(region.flow_id, {"region": "eu"}, ADMIN)
    done = await env.flows.submit(region.flow_id, {}, ADMIN)
    entry = await env.entries.get(done.entry_id)
    assert (entry.scope, entry.group_id, entry.org_id, entry.owner_sub) == ("group", "ops", "acme", None)


async def test_a_disabled_integration_cannot_start_a_flow(env):
    await register_rows(env.pool, env.wizard, enabled=False)
    with pytest.raises(IntegrationDisabledError):
        await env.flows.start("wizard", ALICE)


async def test_labels_fall_back_from_the_requested_language_to_english_to_the_key(env):
    view = await env.flows.start("wizard", ALICE, lang="de-AT")
    assert [f.label for f in view.fields] == ["Konto", "API key"]  # de, then en
    bad = await env.flows.submit(view.flow_id, {"account": "a"}, ALICE, lang="../../etc/passwd")
    assert bad.errors["api_key"].text == "This field is required."


async def test_a_secret_field_never_carries_a_default_back(pool, secret_store, tmp_path):
    class Leaky(SimpleConfigFlow):
        domain = "leaky"
        SCHEMA = [FieldDescriptor(name="token", type="secret", default="do-not-echo"),
                  FieldDescriptor(name="pin", type="password", default="1234")]

    env = await make_env(pool, secret_store, tmp_path)
    loaded = env.registry.add(make_loaded(tmp_path, "leaky", flow=Leaky))
    await register_rows(pool, loaded)
    view = await env.flows.start("leaky", ALICE)
    assert [f.default for f in view.fields] == [None, None]
    assert "do-not-echo" not in view.model_dump_json()


async def test_entry_from_flow_is_usable_by_services_built_elsewhere(env, pool, secret_store):
    done = await _finish_wizard(env, "acct")
    other_entries, _ = services(pool, secret_store, env.registry)
    assert [e.id for e in await other_entries.list_for_principal(ALICE)] == [done.entry_id]
