"""Checks every bundled integration owes (a valid form spec, translated texts, the masked round trip),
and calling an entry's tools directly."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from runtime.integrations import FieldDescriptor
from runtime.integrations.masking import MASK
from runtime.integrations.translations import Translator
from runtime.sessions.setup_cache import tool_run_context


def assert_form_spec_valid(loaded: Any) -> list[FieldDescriptor]:
    """The flow's fields survive a JSON round trip, are unique, labelled in en.json, and secrets carry no default."""
    flow = loaded.config_flow_cls
    assert flow is not None and flow.domain == loaded.manifest.domain
    fields: list[FieldDescriptor] = list(flow.SCHEMA)
    assert fields, "a config flow with no fields"
    names = [f.name for f in fields]
    assert len(names) == len(set(names))
    tr = Translator(loaded.path, "en")
    assert tr.get("step.user.title"), "step.user.title missing from translations/en.json"
    for f in fields:
        again = FieldDescriptor.model_validate(json.loads(f.model_dump_json()))
        assert again == f
        label = tr.get(f.label) if f.label else tr.get(f"field.{f.name}.label")
        assert label, f"field {f.name!r} has no label in translations/en.json"
        if f.is_secret:
            assert f.default is None, f"secret field {f.name!r} must not carry a default"
    return fields


def assert_error_keys_translated(loaded: Any, keys: list[str]) -> None:
    tr = Translator(loaded.path, "en")
    missing = [k for k in keys if tr.get(f"error.{k}") is None]
    assert not missing, f"error keys without text in translations/en.json: {missing}"


async def assert_masked_round_trip(entries: Any, entry_id: str, secret_field: str, secret: str,
                                   data_change: dict[str, Any]) -> None:
    """Read masked, send everything back with a data change: the secret is kept, never shown."""
    masked = await entries.read_masked(entry_id)
    assert masked["secrets"] == {secret_field: MASK}
    assert secret not in json.dumps(masked, default=str)
    before = masked["revision"]
    updated = await entries.update(entry_id, data={**masked["data"], **data_change}, secrets=masked["secrets"])
    assert updated.revision == before + 1
    assert all(updated.data[k] == v for k, v in data_change.items())
    ctx = await entries.build_setup_context(entry_id)
    assert ctx.secrets[secret_field] == secret  # the mask meant "keep"
    assert (await entries.read_masked(entry_id))["secrets"] == {secret_field: MASK}


async def entry_tools(services: Any, entry: Any) -> dict[str, Callable[..., Awaitable[Any]]]:
    """The entry's tools by name, each callable with JSON-like keyword arguments."""
    set_up = await services.setup_cache.get(entry)

    def caller(name: str) -> Callable[..., Awaitable[Any]]:
        toolset, tool = set_up.tools[name]

        async def call(**args: Any) -> Any:
            # As the call_tool activity does: the tool's validator turns JSON values into typed arguments.
            typed = tool.args_validator.validate_python(args)
            return await toolset.call_tool(name, typed, tool_run_context(name), tool)

        return call

    return {name: caller(name) for name in set_up.tools}
