from __future__ import annotations

import copy

import pytest

from runtime.flows import FlowDefinitionError, build_flow, load_flow_file
from tests.flows.defs import INTAKE, record_details
from runtime.flows.functions import direct_function


def test_direct_function_schema_comes_from_signature_and_docstring():
    fn = direct_function(record_details)
    assert fn.description == "Record the caller's details."
    assert fn.required == ["name", "age"]
    assert fn.properties["age"] == {"type": "integer", "description": "The caller's age in years."}


def test_intake_flow_is_valid():
    flow = build_flow(INTAKE)
    assert [n.name for n in flow.nodes] == ["greet", "collect", "confirm"]
    assert sorted(flow.functions_of("collect")) == ["help_desk", "record_details", "slow_lookup"]
    assert flow.functions_of("collect")["slow_lookup"].timeout_secs == 0.5


def _broken(**change):
    raw = copy.deepcopy(INTAKE)
    for node in raw["nodes"]:
        node["functions"] = list(node["functions"])
    for key, value in change.items():
        raw[key] = value
    return raw


def test_unknown_next_node_is_rejected_at_load():
    raw = _broken()
    raw["nodes"][0]["functions"] = [{"name": "go", "next_node": "nowhere"}]
    with pytest.raises(FlowDefinitionError, match="unknown next node 'nowhere'"):
        build_flow(raw)


def test_duplicate_function_names_are_rejected_at_load():
    raw = _broken()
    raw["nodes"][0]["functions"] = [{"name": "help_desk", "next_node": "collect"}]
    with pytest.raises(FlowDefinitionError, match="duplicate function names \\['help_desk'\\]"):
        build_flow(raw)


def test_missing_handler_is_rejected_at_load():
    raw = _broken()
    raw["nodes"][0]["functions"] = [{"name": "go", "handler": "tests.flows.defs:no_such_function"}]
    with pytest.raises(FlowDefinitionError) as err:
        build_flow(raw)
    assert err.value.key == "flow_handler_missing" and "no_such_function" in str(err.value)


def test_summary_strategy_needs_a_prompt():
    raw = _broken()
    raw["nodes"][1]["context_strategy"] = {"strategy": "reset_with_summary"}
    with pytest.raises(FlowDefinitionError) as err:
        build_flow(raw)
    assert "nodes.1.context_strategy: summary_prompt is required" in str(err.value)


def test_initial_node_must_exist():
    with pytest.raises(FlowDefinitionError, match="initial_node 'start' is not a node"):
        build_flow(_broken(initial_node="start"))


def test_yaml_flow_loads_with_import_path_handlers(tmp_path):
    path = tmp_path / "booking.yaml"
    path.write_text(
        "name: booking\ninitial_node: a\nnodes:\n"
        "  - name: a\n    functions:\n      - name: go\n        handler: tests.flows.defs:help_desk\n        next_node: b\n"
        "  - name: b\n    respond_immediately: false\n"
    )
    flow = load_flow_file(path)
    assert flow.functions_of("a")["go"].resolved_handler().__name__ == "help_desk"
    path.write_text("name: [unclosed")
    with pytest.raises(FlowDefinitionError, match="not valid YAML"):
        load_flow_file(path)


def test_integrations_contribute_flows_and_a_bad_one_is_skipped(tmp_path):
    from pathlib import Path

    from runtime.flows import FlowRegistry
    from runtime.integrations.loader import discover_dirs

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "integrations"
    (tmp_path / "bad.yaml").write_text("name: bad\ninitial_node: nowhere\nnodes: [{name: a}]\n")
    registry = FlowRegistry.collect(discover_dirs([fixtures]), dirs=[tmp_path])
    assert "onboarding" in registry.names() and "bad" not in registry.names()
    assert registry.get("onboarding").node("welcome").role_message == "You welcome new users."


async def test_custom_actions_are_registrable_and_unknown_ones_are_specific_errors():
    from runtime.flows import ActionConfig, FlowManagerHandle, register_action
    from runtime.flows.actions import run_actions

    seen = []
    register_action("greet_audit", lambda action, fm: seen.append((action["type"], fm.current_node)))
    manager = FlowManagerHandle("s1", "welcome", {}, "alice")
    outcome = await run_actions([ActionConfig(type="greet_audit"), ActionConfig(type="end_conversation")], manager)
    assert seen == [("greet_audit", "welcome")] and outcome.end_session
    with pytest.raises(FlowDefinitionError) as err:
        await run_actions([ActionConfig(type="no_such_action")], manager)
    assert err.value.key == "flow_action_unknown"
    with pytest.raises(FlowDefinitionError):
        register_action("end_conversation", lambda a, f: None)
