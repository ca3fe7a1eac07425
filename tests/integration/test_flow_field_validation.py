"""Every field type, validated by the engine before a step sees the input."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.integrations import FieldDescriptor, SelectOption, SimpleConfigFlow

from .flow_helpers import ALICE, make_env, make_loaded, register_rows

FIELDS = [
    FieldDescriptor(name="name", type="text", required=True, max_length=20, pattern=r"[a-z0-9 ]+"),
    FieldDescriptor(name="pin", type="password"),
    FieldDescriptor(name="token", type="secret"),
    FieldDescriptor(name="count", type="number", min=1, max=10),
    FieldDescriptor(name="enabled", type="bool"),
    FieldDescriptor(name="mode", type="select", options=(SelectOption(value="fast", label="Fast"),
                                                         SelectOption(value="safe", label="Safe"))),
    FieldDescriptor(name="tags", type="select", multiple=True,
                    options=(SelectOption(value="a", label="A"), SelectOption(value="b", label="B"))),
    FieldDescriptor(name="hint", type="note", label="Read me"),
    FieldDescriptor(name="sensor", type="entity"),
    FieldDescriptor(name="every", type="duration"),
    FieldDescriptor(name="day", type="date"),
    FieldDescriptor(name="at", type="time"),
    FieldDescriptor(name="when", type="datetime"),
    FieldDescriptor(name="colour", type="color"),
]
VALID: dict[str, Any] = {
    "name": "box 1", "pin": "1234", "token": "t0k", "count": 3, "enabled": True, "mode": "safe",
    "tags": ["a", "b"], "sensor": "sensor.kitchen", "every": "01:30:00", "day": "2024-02-29",
    "at": "07:45", "when": "2024-02-29T07:45:00", "colour": "#00ff7f",
}


class EverythingFlow(SimpleConfigFlow):
    domain = "everything"
    SCHEMA = FIELDS
    seen: list[dict[str, Any]] = []

    async def validate(self, data: dict[str, Any]) -> str | None:
        type(self).seen.append(data)
        return None


@pytest.fixture
async def env(pool, secret_store, tmp_path):
    env = await make_env(pool, secret_store, tmp_path)
    loaded = env.registry.add(make_loaded(tmp_path, "everything", flow=EverythingFlow, single_instance=False))
    await register_rows(pool, loaded)
    EverythingFlow.seen = []
    return env


async def _submit(env, values: dict[str, Any]):
    view = await env.flows.start("everything", ALICE)
    return await env.flows.submit(view.flow_id, values, ALICE)


@pytest.mark.parametrize(
    ("field", "value", "error_key"),
    [
        ("name", 12, "invalid_type"),
        ("name", "x" * 21, "too_long"),
        ("name", "UPPER", "invalid_format"),
        ("name", "nul\x00byte", "invalid_characters"),
        ("pin", ["list"], "invalid_type"),
        ("token", {"nested": 1}, "invalid_type"),
        ("count", "three", "invalid_number"),
        ("count", True, "invalid_type"),
        ("count", 0, "below_minimum"),
        ("count", 11, "above_maximum"),
        ("count", float("nan"), "invalid_number"),
        ("enabled", "maybe", "invalid_type"),
        ("mode", "turbo", "invalid_option"),
        ("tags", ["a", "z"], "invalid_option"),
        ("sensor", 5, "invalid_type"),
        ("every", "90 minutes", "invalid_duration"),
        ("day", "2023-02-29", "invalid_date"),
        ("at", "25:00", "invalid_time"),
        ("when", "tomorrow", "invalid_datetime"),
        ("colour", "red", "invalid_color"),
        ("hint", "notes take no input", "unknown_field"),
        ("surprise", "x", "unknown_field"),
    ],
)
async def test_each_field_type_rejects_a_wrong_value_with_its_error_key(env, field, value, error_key):
    view = await _submit(env, {**VALID, field: value})
    assert view.type == "form"
    assert {k: e.key for k, e in view.errors.items()} == {field: error_key}
    assert view.errors[field].text and view.errors[field].text != f"error.{error_key}"  # readable English
    assert EverythingFlow.seen == []  # the step never ran


async def test_a_missing_required_field_is_reported_and_blank_optionals_are_fine(env):
    view = await _submit(env, {"name": "   "})
    assert {k: e.key for k, e in view.errors.items()} == {"name": "required"}
    done = await _submit(env, {"name": "only required"})
    assert done.type == "create_entry"


async def test_valid_values_of_every_type_are_coerced_and_split_into_data_and_secrets(env):
    view = await _submit(env, {**VALID, "count": "7", "enabled": "on"})
    assert view.type == "create_entry", view.errors
    entry = await env.entries.get(view.entry_id)
    assert entry.secret_fields == ["pin", "token"]
    assert entry.data == {**{k: v for k, v in VALID.items() if k not in ("pin", "token")},
                          "count": 7, "enabled": True}
    secrets = (await env.entries.build_setup_context(view.entry_id)).secrets
    assert dict(secrets) == {"pin": "1234", "token": "t0k"}
    masked = await env.entries.read_masked(view.entry_id)
    assert masked["secrets"] == {"pin": "••••", "token": "••••"}


async def test_unicode_in_every_text_like_field_is_accepted(env):
    view = await _submit(env, {**VALID, "name": "zoë 東京", "pin": "pässwörd🔑", "sensor": "sensor.küche"})
    # the pattern [a-z0-9 ]+ rejects ë; drop it to see unicode pass elsewhere
    assert {k: e.key for k, e in view.errors.items()} == {"name": "invalid_format"}
    ok = await _submit(env, {**VALID, "pin": "pässwörd🔑", "sensor": "sensor.küche"})
    assert ok.type == "create_entry"
    assert (await env.entries.build_setup_context(ok.entry_id)).secrets["pin"] == "pässwörd🔑"
