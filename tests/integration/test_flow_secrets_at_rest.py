"""Secrets typed into a flow exist in the database only as ciphertext, and never in a log line."""

from __future__ import annotations

from typing import Any

from runtime.integrations import FieldDescriptor, SimpleConfigFlow

from .flow_helpers import ALICE, all_rows_text, encodings_of, make_env, make_loaded, register_rows

TABLES = ("config_flows", "config_entries", "secret_values")


async def _assert_nowhere(pool, secret: str) -> None:
    async with pool.acquire() as c:
        for table in TABLES:
            text = await all_rows_text(c, table)
            for form in encodings_of(secret):
                assert form not in text, f"{table} holds the secret (as {form[:6]}...)"


async def test_flow_state_and_entries_hold_secrets_only_as_ciphertext(
    pool, secret_store, tmp_path, captured_logs, distinctive_secret
):
    env = await make_env(pool, secret_store, tmp_path)
    view = await env.flows.start("wizard", ALICE)
    region = await env.flows.submit(view.flow_id, {"account": "acct", "api_key": distinctive_secret}, ALICE)

    # Mid-flow: the key is sealed under the flow, not in the flow row.
    async with pool.acquire() as c:
        flow_row = await c.fetchrow("SELECT collected, field_types FROM config_flows")
        sealed = await c.fetch("SELECT owner_kind, owner_id, field FROM secret_values")
    assert flow_row["collected"] == {"account": "acct"}
    assert flow_row["field_types"]["api_key"] == "secret"
    assert [(r["owner_kind"], r["owner_id"], r["field"]) for r in sealed] == [
        ("config_flow", view.flow_id, "api_key")]
    await _assert_nowhere(pool, distinctive_secret)

    await env.flows.submit(region.flow_id, {"region": "eu"}, ALICE)
    done = await env.flows.submit(region.flow_id, {}, ALICE)

    # Finished: the key moved to the entry; the flow's envelope is gone.
    async with pool.acquire() as c:
        sealed = await c.fetch("SELECT owner_kind, owner_id, field FROM secret_values")
    assert [(r["owner_kind"], r["owner_id"], r["field"]) for r in sealed] == [
        ("config_entry", done.entry_id, "api_key")]
    await _assert_nowhere(pool, distinctive_secret)
    assert (await env.entries.build_setup_context(done.entry_id)).secrets["api_key"] == distinctive_secret
    masked = await env.entries.read_masked(done.entry_id)
    assert distinctive_secret not in repr(masked)

    logs = captured_logs.getvalue()
    assert "config_flow_finished" in logs and "config_entry_created" in logs  # logging did happen
    for form in encodings_of(distinctive_secret):
        assert form not in logs


async def test_a_step_that_puts_the_secret_in_its_exception_does_not_leak_it(
    pool, secret_store, tmp_path, captured_logs, distinctive_secret
):
    class Careless(SimpleConfigFlow):
        domain = "careless"
        SCHEMA = [FieldDescriptor(name="api_key", type="secret", required=True)]

        async def async_step_user(self, user_input: dict[str, Any] | None = None):
            if user_input is None:
                return await super().async_step_user(None)
            raise ValueError(f"server rejected key {user_input['api_key']}")

    env = await make_env(pool, secret_store, tmp_path)
    loaded = env.registry.add(make_loaded(tmp_path, "careless", flow=Careless))
    await register_rows(pool, loaded)
    view = await env.flows.start("careless", ALICE)
    again = await env.flows.submit(view.flow_id, {"api_key": distinctive_secret}, ALICE)
    assert again.errors["base"].key == "unknown"
    assert distinctive_secret not in again.model_dump_json()
    logs = captured_logs.getvalue()
    assert "server rejected key" in logs  # the traceback was logged ...
    assert distinctive_secret not in logs  # ... with the key scrubbed


async def test_a_credential_a_step_stores_in_collected_is_sealed_too(pool, secret_store, tmp_path, distinctive_secret):
    class Exchanging(SimpleConfigFlow):
        """Step one trades a code for a token (as OAuth-like flows do) and keeps it for step two."""

        domain = "exchanging"
        SCHEMA = [FieldDescriptor(name="code", type="text", required=True)]

        async def async_step_user(self, user_input=None):
            if user_input is None:
                return self.async_show_form(step_id="user", fields=list(self.SCHEMA))
            self._collected["access_token"] = distinctive_secret
            return self.async_show_form(step_id="label", fields=[FieldDescriptor(name="label", type="text")])

        async def async_step_label(self, user_input=None):
            return self.async_create_entry(title="x", data={"label": self._collected.get("label")})

    env = await make_env(pool, secret_store, tmp_path)
    loaded = env.registry.add(make_loaded(tmp_path, "exchanging", flow=Exchanging))
    await register_rows(pool, loaded)
    view = await env.flows.start("exchanging", ALICE)
    await env.flows.submit(view.flow_id, {"code": "abc"}, ALICE)
    await _assert_nowhere(pool, distinctive_secret)
    async with pool.acquire() as c:
        assert await c.fetchval("SELECT collected FROM config_flows") == {"code": "abc"}
