"""Bad input, generated: every case ends in a result or a specific error, and nothing stored changes."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st
from pydantic_ai.messages import ModelResponse, ToolCallPart
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import ActivityEnvironment

from activities.session import SessionActivities
from runtime.errors import AgentrtError
from runtime.integrations.errors import ManifestError
from runtime.integrations.flow_manager import FlowManager
from runtime.integrations.loader import read_manifest
from runtime.integrations.manifest import IntegrationManifest
from runtime.plugins.loader import discover_plugin_dirs
from runtime.plugins.manifest import PluginManifest
from runtime.principal import Principal
from runtime.sessions.client import send_message, start_session
from runtime.sessions.types import CallToolInput
from tests.support.figures import report

def fuzz(examples: int) -> hyp_settings:
    return hyp_settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
FIELDS = list(IntegrationManifest.model_fields)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40),
    st.sampled_from(["internal", "internl", "REGULATED", "3", "-1", "untrusted", "trusted", "tool", "x" * 5000]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)
manifest_dicts = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)), values, max_size=12
).map(lambda d: {"domain": "fuzz", "name": "Fuzz", **d} if len(d) % 3 else d)
YAML_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
manifest_texts = st.one_of(
    manifest_dicts.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(max_size=300),
    st.just(YAML_BOMB),
    st.just("domain: fuzz\nname: " + "y" * 300_000 + "\n"),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    # libyaml's composer recursed on the C stack here and killed the process (segmentation fault).
    st.sampled_from(["[" * 50_000, "{a: " * 40_000, "a:\n" + "".join("  " * i + "- \n" for i in range(1, 200))]),
)
SEEN: dict[str, int] = {"manifests": 0, "manifest_ok": 0, "flows": 0, "flow_errors": 0, "tool_args": 0,
                        "plugins": 0, "plugin_ok": 0}


@fuzz(1000)
@given(text=manifest_texts)
def test_generated_manifests_load_or_fail_with_the_manifest_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("m") / "manifest.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    try:
        read_manifest(path)
        SEEN["manifest_ok"] += 1
    except ManifestError as exc:
        assert exc.key == "integration_manifest_invalid" and exc.message
    SEEN["manifests"] += 1
    report("fuzz_manifests", f"fuzzed manifests: {SEEN['manifests']} generated, {SEEN['manifest_ok']} valid, "
                             f"the rest rejected with integration_manifest_invalid")


PLUGIN_FIELDS = list(PluginManifest.model_fields)
plugin_dicts = st.dictionaries(
    st.one_of(st.sampled_from(PLUGIN_FIELDS), st.text(min_size=1, max_size=12)),
    st.one_of(values, st.lists(st.sampled_from(["turn_complete", "entity.created", "Bad Name", "", "a..b"]),
                               max_size=4)),
    max_size=8,
).map(lambda d: {"id": "fuzz", "name": "Fuzz", "version": "1.0.0", "description": "d", "events": ["turn_complete"],
                 **d} if len(d) % 2 else d)
plugin_texts = st.one_of(
    plugin_dicts.map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.text(max_size=300),
    st.just('{"id": "fuzz", "id": "fuzz"}'),
    st.just("[" * 50_000),
    st.just('{"id": "fuzz", "name": "' + "n" * 600_000 + '"}'),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
PLUGIN_HANDLER = "def on_turn_complete(event, sdk):\n    pass\n"


@fuzz(300)
@given(text=plugin_texts)
def test_generated_plugin_manifests_load_or_are_skipped_with_a_stable_key(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("p")
    (root / "fuzz").mkdir()
    (root / "fuzz" / "plugin.json").write_bytes(text.encode("utf-8", "surrogatepass"))
    (root / "fuzz" / "handler.py").write_text(PLUGIN_HANDLER)
    registry = discover_plugin_dirs([root])  # never raises: a bad folder is a failure entry
    if registry.ids():
        SEEN["plugin_ok"] += 1
    else:
        [failure] = registry.failures.values()
        assert failure.key in {"plugin_manifest_invalid", "plugin_id_mismatch", "plugin_handler_function_missing"}
        assert failure.message
    SEEN["plugins"] += 1
    report("fuzz_plugins", f"fuzzed plugin.json files: {SEEN['plugins']} generated, {SEEN['plugin_ok']} loaded, "
                           "the rest skipped with a stable key")


submissions = st.dictionaries(
    st.one_of(st.sampled_from(["base_url", "api_key"]), st.text(max_size=10)),
    st.one_of(values, st.text(max_size=200), st.just("https://api.example.com"), st.just("x" * 70_000)),
    max_size=5,
)


@fuzz(150)
@given(user_input=submissions)
async def test_generated_flow_submissions_never_crash_and_store_nothing_unless_valid(
    services, pool, user_input, suite_secret_scan
):
    flows = FlowManager(pool, services.ctx.secrets, services.registry, services.entries)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM config_entries WHERE domain = 'myservice'")
        before = await conn.fetchval("SELECT count(*) FROM config_entries")
    alice = Principal(sub="alice")
    form = await flows.start("myservice", alice)
    try:
        with suite_secret_scan.paused():
            view = await flows.submit(form.flow_id, user_input, alice)
    except AgentrtError as exc:
        view = None
        assert exc.key.startswith(("flow_", "entry_", "masked_")) and exc.message
    async with pool.acquire() as conn:
        after = await conn.fetchval("SELECT count(*) FROM config_entries")
    kind = None if view is None else getattr(view.type, "value", view.type)
    created = kind == "create_entry"
    assert after == before + (1 if created else 0)
    if view is not None and not created:
        assert kind == "form" and view.errors  # every rejection names its fields
    SEEN["flows"] += 1
    SEEN["flow_errors"] += 0 if created else 1
    report("fuzz_flows", f"fuzzed config-flow submissions: {SEEN['flows']}, {SEEN['flow_errors']} rejected with "
                         "field errors or a specific error, entries written only for valid ones")


@pytest.fixture
def registry():
    from pathlib import Path

    from runtime.integrations.loader import discover_dirs

    repo = Path(__file__).resolve().parents[2]
    return discover_dirs([repo / "integrations", repo / "tests" / "fixtures" / "integrations"])


json_args = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


@fuzz(200)
@given(tool=st.sampled_from(["probe_echo", "probe_count", "text_tools_word_count", "nope"]),
       args=st.one_of(st.dictionaries(st.sampled_from(["text", "label", "chars", "x"]), json_args, max_size=3),
                      json_args))
async def test_generated_tool_arguments_end_in_a_result_or_a_specific_error(services, tool, args):
    from runtime.integrations.scopes import EntryOwner

    if not await services.entries.list_for_principal(Principal(sub="a")):
        await services.entries.create(domain="probe", owner=EntryOwner("global"), title="p",
                                      data={"count_file": "/dev/null"})
        await services.entries.create(domain="text_tools", owner=EntryOwner("global"), title="t")
    session_id, call_id = uuid.uuid4().hex, uuid.uuid4().hex
    await services.transcript.ensure_session(session_id, Principal(sub="a"), "offline")
    raw_args = json.dumps(args) if not isinstance(args, dict) else args
    await services.transcript.append(session_id, "1:0:response", 1,
                                     ModelResponse(parts=[ToolCallPart(tool, raw_args, tool_call_id=call_id)]))
    outcome = await ActivityEnvironment().run(
        SessionActivities(services).call_tool,
        CallToolInput(session_id=session_id, turn=1, tool_call_id=call_id, tool_name=tool,
                      principal=Principal(sub="a"), model_profile="offline"),
    )
    assert outcome.ok or outcome.error_key in {"tool_args_invalid", "tool_unavailable", "tool_failed", "tool_retry"}
    assert await services.transcript.get(session_id, f"tool:{call_id}") is not None  # the model is always told
    SEEN["tool_args"] += 1
    report("fuzz_tools", f"fuzzed tool calls: {SEEN['tool_args']}, each a result or a specific error the model sees")


@fuzz(40)
@given(text=st.one_of(st.text(max_size=200), st.just(""), st.just(" \n\t"), st.just("é" * 33_000),
                      st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=50)))
async def test_generated_session_messages_are_answered_or_rejected_before_history(
    temporal_client, worker, settings, services, text
):
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex,
                                 Principal(sub="a"), "offline")
    try:
        result = await send_message(handle, text)
        assert result.status.value == "completed"
    except WorkflowUpdateFailedError as err:
        assert "message_empty" in str(err.cause) or "message_too_large" in str(err.cause)
        assert await services.transcript.count(handle.id.split(":", 1)[1]) == 0
    await handle.signal("end")
