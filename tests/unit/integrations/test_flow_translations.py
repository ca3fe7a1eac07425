"""Server-side translations of config-flow text: lookup order, formats, and safety of the language code."""

from __future__ import annotations

import json

import pytest

from runtime.integrations.fields import FieldDescriptor, SelectOption
from runtime.integrations.flow_view import abort_view, form_view
from runtime.integrations.translations import Translator, language_chain, load_translations


@pytest.fixture
def integration_dir(tmp_path):
    folder = tmp_path / "demo"
    (folder / "translations").mkdir(parents=True)
    (folder / "translations" / "en.json").write_text(json.dumps({
        "step": {"user": {"title": "Connect", "description": "Hello {name}, {unknown} stays"}},
        "field": {"api_key": {"label": "API key", "description": "From settings"}},
        "error": {"auth_failed": "Rejected", "required": "Please fill this in"},
        "abort.already_configured": "Demo is set up already",  # flat keys work too
    }))
    (folder / "translations" / "de.json").write_text(json.dumps({"field": {"api_key": {"label": "API-Schlüssel"}}}))
    (folder / "translations" / "fr.json").write_text("{ not json")
    load_translations.cache_clear()
    return folder


def test_language_chain_goes_from_region_to_base_to_english():
    assert language_chain("de-AT") == ["de-AT", "de", "en"]
    assert language_chain("pt_br") == ["pt-BR", "pt", "en"]
    assert language_chain("en") == ["en"]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "en/../../x", "", None, "e", "english", "de-", "x" * 50])
def test_a_malformed_language_code_means_english_and_never_a_path(bad):
    assert language_chain(bad) == ["en"]


def test_lookup_prefers_the_language_then_english_then_runtime_defaults_then_the_key(integration_dir):
    de = Translator(integration_dir, "de-CH")
    assert de.text("field.api_key.label") == "API-Schlüssel"
    assert de.text("field.api_key.description") == "From settings"  # en fallback
    assert de.error("required") == "Please fill this in"  # the integration's own wording wins
    assert de.error("invalid_number") == "Enter a number."  # runtime default
    assert de.text("field.nothing.label") == "field.nothing.label"  # the key itself
    assert de.abort_reason("already_configured") == "Demo is set up already"
    assert de.abort_reason("auth_failed") == "Authentication failed: check the credentials."


def test_an_unreadable_translation_file_falls_back_instead_of_failing(integration_dir):
    assert Translator(integration_dir, "fr").text("step.user.title") == "Connect"


def test_placeholders_are_filled_and_unknown_ones_left_alone(integration_dir):
    tr = Translator(integration_dir, "en")
    assert tr.text("step.user.description", {"name": "Ada"}) == "Hello Ada, {unknown} stays"
    assert tr.text("step.user.description", {"name": "{0.__class__}"}) == "Hello {0.__class__}, {unknown} stays"


def test_an_integration_without_translations_still_gets_readable_generic_text():
    tr = Translator(None, "en")
    assert tr.error("unknown") == "Unexpected error. Please try again."
    assert tr.abort_reason("already_configured") == "This is already configured."
    for key in ("required", "invalid_type", "too_long", "invalid_option", "unknown_field", "invalid_format",
                "below_minimum", "above_maximum", "invalid_date", "invalid_time", "invalid_datetime",
                "invalid_color", "invalid_duration", "invalid_characters", "invalid_number", "invalid_value"):
        assert not tr.error(key).startswith("error."), key


def test_form_view_resolves_every_text_and_keeps_error_keys(integration_dir):
    fields = [
        FieldDescriptor(name="api_key", type="secret", required=True, default="never-shown"),
        FieldDescriptor(name="host", label="Host name", placeholder="db.example"),
        FieldDescriptor(name="mode", type="select", options=(SelectOption(value="a", label="field.api_key.label"),)),
    ]
    view = form_view(Translator(integration_dir, "en"), domain="demo", flow_id="f1", step_id="user", fields=fields,
                     errors={"api_key": "auth_failed", "base": "cannot_connect"}, placeholders={"name": "Ada"})
    assert (view.title, view.description) == ("Connect", "Hello Ada, {unknown} stays")
    assert [(f.name, f.label) for f in view.fields] == [("api_key", "API key"), ("host", "Host name"), ("mode", "mode")]
    assert view.fields[0].description == "From settings" and view.fields[0].default is None
    assert view.fields[1].placeholder == "db.example"  # literal text passes through
    assert view.fields[2].options[0].label == "API key"
    assert {k: (e.key, e.text) for k, e in view.errors.items()} == {
        "api_key": ("auth_failed", "Rejected"), "base": ("cannot_connect", "Failed to connect.")}
    aborted = abort_view(Translator(integration_dir, "en"), domain="demo", flow_id=None, reason="no_such_reason")
    assert (aborted.reason.key, aborted.reason.text) == ("no_such_reason", "abort.no_such_reason")
