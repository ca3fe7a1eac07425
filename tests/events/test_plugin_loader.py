"""Plugin discovery: the reference format loads; a bad folder is skipped with a stable key, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.events.catalogue import EventCatalogue, handler_name
from runtime.plugins.loader import discover_plugin_dirs, discover_plugins
from runtime.settings import Settings

REPO = Path(__file__).resolve().parents[2]
GOOD_HANDLER = "def on_turn_complete(event, sdk):\n    sdk.log('done')\n"


def _plugin(root: Path, folder: str, manifest: dict | str | None = None, handler: str | None = GOOD_HANDLER) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    if manifest is not None:
        body = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (path / "plugin.json").write_text(body)
    if handler is not None:
        (path / "handler.py").write_text(handler)
    return path


def _manifest(plugin_id: str, **extra) -> dict:
    return {"id": plugin_id, "name": plugin_id.title(), "version": "1.0.0", "description": "a test plugin",
            "events": ["turn_complete"], **extra}


def _log_events(buf, name: str) -> list[dict]:
    return [e for e in (json.loads(line) for line in buf.getvalue().splitlines() if line.startswith("{"))
            if e.get("event") == name]


def test_bundled_plugins_load_with_a_full_trust_warning(captured_logs):
    registry = discover_plugin_dirs([REPO / "plugins"], EventCatalogue())
    assert registry.ids() == ["message_logger", "webhook_notify"] and not registry.failures
    logger = registry.get("message_logger")
    assert logger.manifest.events == ("message_received", "turn_complete")
    assert [v.name for v in logger.manifest.variables] == ["WEBHOOK_URL", "MIN_COUNT"]
    warned = _log_events(captured_logs, "plugin_loaded_full_trust")
    assert {(e["plugin_id"], e["level"]) for e in warned} == {("message_logger", "warning"),
                                                              ("webhook_notify", "warning")}
    assert not _log_events(captured_logs, "plugin_event_unknown")


def test_event_names_map_to_handler_functions():
    assert handler_name("message_received") == "on_message_received"
    assert handler_name("entity.created") == "on_entity_created"
    assert handler_name("watcher.noticed") == "on_watcher_noticed"


def test_bad_plugin_folders_are_skipped_with_stable_keys(tmp_path, captured_logs):
    _plugin(tmp_path, "good", _manifest("good"))
    _plugin(tmp_path, "broken_json", '{"id": "broken_json",')
    _plugin(tmp_path, "dupe_keys", '{"id": "dupe_keys", "id": "x"}')
    _plugin(tmp_path, "invalid", _manifest("invalid", version="one"))
    _plugin(tmp_path, "extra_key", _manifest("extra_key", colour="blue"))
    _plugin(tmp_path, "mismatch", _manifest("other_id"))
    _plugin(tmp_path, "no_handler", _manifest("no_handler"), handler=None)
    _plugin(tmp_path, "raises", _manifest("raises"), handler="raise RuntimeError('boom at import')\n")
    _plugin(tmp_path, "exits", _manifest("exits"), handler="import sys\nsys.exit(3)\n")
    _plugin(tmp_path, "missing_fn", _manifest("missing_fn", events=["turn_complete", "entity.created"]))
    _plugin(tmp_path, "notes", None, handler=None)  # no plugin.json: not a plugin at all
    registry = discover_plugin_dirs([tmp_path])

    assert registry.ids() == ["good"]
    assert {k: f.key for k, f in registry.failures.items()} == {
        "broken_json": "plugin_manifest_invalid", "dupe_keys": "plugin_manifest_invalid",
        "invalid": "plugin_manifest_invalid", "extra_key": "plugin_manifest_invalid",
        "mismatch": "plugin_id_mismatch", "no_handler": "plugin_handler_missing",
        "raises": "plugin_import_failed", "exits": "plugin_import_failed",
        "missing_fn": "plugin_handler_function_missing",
    }
    assert "on_entity_created" in registry.failures["missing_fn"].message
    assert _log_events(captured_logs, "plugin_folder_skipped")[0]["path"] == str(tmp_path / "notes")


def test_the_first_folder_to_claim_an_id_wins(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    _plugin(first, "same", _manifest("same"))
    _plugin(second, "same", _manifest("same"), handler="def on_turn_complete(event, sdk):\n    return 'second'\n")
    registry = discover_plugin_dirs([first, second])
    assert registry.ids() == ["same"] and registry.get("same").path == first / "same"
    [failure] = registry.failures.values()
    assert failure.key == "plugin_id_duplicate" and failure.plugin_id is None


def test_external_plugin_dirs_load_only_when_allowed(tmp_path, captured_logs):
    marker = tmp_path / "imported"
    external = tmp_path / "external"
    # The handler writes a marker when imported: "not loaded" must mean "never executed".
    _plugin(external, "outside", _manifest("outside"),
            handler=f"open({str(marker)!r}, 'w').write('ran')\n" + GOOD_HANDLER)
    settings = Settings(plugins={"external_dirs": [str(external)]})
    assert "outside" not in discover_plugins(settings)
    assert not marker.exists()
    assert _log_events(captured_logs, "plugin_external_dirs_ignored")
    allowed = Settings(plugins={"external_dirs": [str(external)], "allow_external": True})
    assert "outside" in discover_plugins(allowed)
    assert marker.read_text() == "ran"
    assert _log_events(captured_logs, "plugin_external_dirs_enabled")


def test_an_event_no_loaded_code_emits_is_warned_about_not_fatal(tmp_path, captured_logs):
    _plugin(tmp_path, "hopeful", _manifest("hopeful", events=["someone.else"]),
            handler="def on_someone_else(event, sdk):\n    pass\n")
    registry = discover_plugin_dirs([tmp_path], EventCatalogue())
    assert "hopeful" in registry
    [warned] = _log_events(captured_logs, "plugin_event_unknown")
    assert warned["events"] == ["someone.else"]
