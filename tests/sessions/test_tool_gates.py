"""What tools a model receives: scope, tier, admin switches, broken entries."""

from __future__ import annotations

from runtime.integrations.sync import set_enabled
from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus

ALICE = Principal(sub="alice", org_id="acme")
BOB = Principal(sub="bob", org_id="globex")


async def test_principal_gets_exactly_its_user_org_and_global_tools(worker, make_entry, open_session, recorder):
    alice_probe = await make_entry("probe", "user", owner_sub="alice")
    bob_probe = await make_entry("probe", "user", owner_sub="bob")
    global_probe = await make_entry("probe", "global")
    await make_entry("notifier", "org", org_id="acme")

    await send_message(await open_session(ALICE), "/tools")
    alice_tools = recorder.requests[-1]
    await send_message(await open_session(BOB), "/tools")
    bob_tools = recorder.requests[-1]

    heads = lambda tools, entry: {t for t in tools if entry.id[:6] in t}  # noqa: E731
    assert heads(alice_tools, alice_probe) and heads(alice_tools, global_probe)
    assert not heads(alice_tools, bob_probe)
    assert {"notifier_send", "notifier_status"} <= set(alice_tools)
    assert heads(bob_tools, bob_probe) and heads(bob_tools, global_probe)
    assert not heads(bob_tools, alice_probe)
    assert not any(t.startswith("notifier") for t in bob_tools)
    # two probe entries visible: names carry the entry; one notifier entry: the domain alone
    probe_tools = [t for t in alice_tools if t.startswith("probe_")]
    assert len(probe_tools) == 2 * len({t.split("_", 2)[2] for t in probe_tools})


async def test_internal_integration_is_absent_for_an_unregulated_profile(worker, make_entry, open_session, recorder):
    await make_entry("vault", "global", secrets={"token": "vault-token-123456"})
    await send_message(await open_session(ALICE, "cheap"), "/tools")
    assert not any(t.startswith("vault") for t in recorder.requests[-1])
    result = await send_message(await open_session(ALICE, "internal"), '/tool vault_read {"key": "k1"}')
    assert "vault_read" in recorder.requests[-2]
    assert result.status is TurnStatus.COMPLETED and "classified-k1" in result.text


async def test_tier_gated_tool_cannot_be_called_even_by_name(worker, make_entry, open_session, recorder):
    await make_entry("vault", "global", secrets={"token": "vault-token-123456"})
    result = await send_message(await open_session(ALICE, "cheap"), '/tool vault_read {"key": "k1"}')
    assert "No tool named 'vault_read'" in result.text


async def test_disabled_integration_drops_out(worker, make_entry, open_session, recorder, pool):
    await make_entry("notifier", "global")
    await set_enabled(pool, "notifier", False)
    await send_message(await open_session(ALICE), "/tools")
    assert not any(t.startswith("notifier") for t in recorder.requests[-1])


async def test_broken_entry_is_skipped_and_the_turn_goes_on(worker, make_entry, open_session, recorder, services):
    broken = await make_entry("broken", "global")
    await make_entry("notifier", "global")
    result = await send_message(await open_session(ALICE), '/tool notifier_status {}')
    assert result.status is TurnStatus.COMPLETED and "notifier_status returned: up" in result.text
    assert (await services.entries.get(broken.id)).state.value == "setup_error"


async def test_oversized_tool_result_is_truncated_with_a_marker(worker, make_entry, open_session, services):
    await make_entry("probe", "global")
    handle = await open_session(ALICE)
    result = await send_message(handle, '/tool probe_big {"chars": 100000}')
    assert result.status is TurnStatus.COMPLETED
    history = await services.transcript.history(handle.id.split(":", 1)[1])
    returned = history[-2].parts[-1].content
    assert isinstance(returned, str) and len(returned) <= 16_000 and "[truncated: " in returned


async def test_assemble_tools_activity_returns_definitions_and_exclusions_without_secrets(
    services, make_entry, distinctive_secret
):
    from temporalio.testing import ActivityEnvironment

    from activities.session import SessionActivities
    from runtime.sessions.types import AssembleToolsInput

    vault = await make_entry("vault", "global", secrets={"token": distinctive_secret})
    await make_entry("sketchy", "global")
    catalog = await ActivityEnvironment().run(
        SessionActivities(services).assemble_tools, AssembleToolsInput(principal=ALICE, model_profile="cheap")
    )
    assert [t.name for t in catalog.tools] == ["sketchy_fetch"]
    assert catalog.tools[0].approval_reason == "untrusted_integration" and catalog.tools[0].trust == "untrusted"
    assert [(e.entry_id, e.reason) for e in catalog.excluded] == [(vault.id, "tier_too_low")]
    assert distinctive_secret not in catalog.model_dump_json()


async def test_invalid_tool_arguments_go_back_to_the_model_and_the_session_goes_on(worker, make_entry, open_session):
    await make_entry("probe", "global")
    handle = await open_session(ALICE)
    bad = await send_message(handle, '/tool probe_big {"chars": "many"}')
    assert bad.status is TurnStatus.COMPLETED and "Input should be a valid integer" in bad.text
    after = await send_message(handle, "still here")  # the stored retry prompt loads back fine
    assert after.status is TurnStatus.COMPLETED and "still here" in after.text
