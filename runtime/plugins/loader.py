"""Plugin discovery: folders with ``plugin.json`` and ``handler.py``, under the same trust rules as integrations.

Plugin code runs full-trust and in-process, so the loader mirrors the integration loader:
the bundled ``plugins/`` dir is always scanned, external dirs only when the operator sets
``AGENTRT__PLUGINS__ALLOW_EXTERNAL``; the manifest is validated (id == folder name, id not
taken) before any code is imported; every loaded plugin is announced with a WARNING
``plugin_loaded_full_trust``. A bad folder is logged with a stable key and skipped:
:func:`discover_plugins` never raises for one.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import ValidationError

from ..events.catalogue import handler_name
from ..logging import get_logger
from .manifest import PluginManifest
from .registry import (
    LoadedPlugin,
    PluginDuplicateError,
    PluginError,
    PluginHandlerFunctionMissingError,
    PluginHandlerMissingError,
    PluginIdMismatchError,
    PluginImportError,
    PluginLoadFailure,
    PluginManifestError,
    PluginRegistry,
)

if TYPE_CHECKING:
    from ..events.catalogue import EventCatalogue
    from ..settings import Settings

log = get_logger(__name__)

MANIFEST_FILE = "plugin.json"
HANDLER_FILE = "handler.py"
MAX_MANIFEST_BYTES = 256 * 1024
PACKAGE_ROOT = "agentrt_plugins"


def discover_plugins(settings: "Settings", catalogue: "EventCatalogue | None" = None) -> PluginRegistry:
    config = settings.plugins
    if not config.enabled:
        log.info("plugins_disabled")
        return PluginRegistry()
    dirs = [config.resolved_bundled_dir()]
    if config.external_dirs:
        external = [str(d) for d in config.external_dirs]
        if config.allow_external:
            log.warning("plugin_external_dirs_enabled", dirs=external)
            dirs.extend(Path(d).expanduser().resolve() for d in config.external_dirs)
        else:
            log.warning("plugin_external_dirs_ignored", dirs=external, setting="allow_external")
    return discover_plugin_dirs(dirs, catalogue)


def discover_plugin_dirs(dirs: Iterable[Path], catalogue: "EventCatalogue | None" = None) -> PluginRegistry:
    """Load plugins from ``dirs`` in priority order (the first folder to claim an id wins)."""
    started = time.perf_counter()
    loaded: list[LoadedPlugin] = []
    failures: dict[str, PluginLoadFailure] = {}
    claimed: dict[str, Path] = {}
    scanned: set[Path] = set()
    importlib.invalidate_caches()
    for directory in dirs:
        directory = Path(directory)
        if directory.resolve() in scanned:
            continue
        scanned.add(directory.resolve())
        if not directory.is_dir():
            log.warning("plugin_dir_missing", path=str(directory))
            continue
        for folder in sorted(directory.iterdir(), key=lambda p: p.name):
            if not folder.is_dir() or folder.name.startswith(("_", ".")):
                continue
            if not (folder / MANIFEST_FILE).is_file():
                log.info("plugin_folder_skipped", path=str(folder), reason="no plugin.json")
                continue
            try:
                if folder.name in claimed:
                    raise PluginDuplicateError(f"plugin {folder.name!r} is already provided by {claimed[folder.name]}")
                claimed[folder.name] = folder
                plugin = load_plugin(folder, catalogue)
            except PluginError as exc:
                _fail(failures, exc, folder)
                continue
            loaded.append(plugin)
    log.info("plugin_discovery_finished", loaded=len(loaded), failed=len(failures),
             duration_ms=round((time.perf_counter() - started) * 1000, 1))
    return PluginRegistry(loaded, failures)


def read_plugin_manifest(path: Path) -> PluginManifest:
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise PluginManifestError(f"{path.name} is {size} bytes; the limit is {MAX_MANIFEST_BYTES}")
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginManifestError(f"cannot read {path.name}: {type(exc).__name__}") from None
    except ValueError as exc:  # JSONDecodeError, or a duplicate key
        raise PluginManifestError(f"{path.name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise PluginManifestError(f"{path.name} is nested too deeply") from None
    if not isinstance(raw, dict):
        raise PluginManifestError(f"{path.name} must be an object, got {type(raw).__name__}")
    try:
        return PluginManifest.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
        )
        raise PluginManifestError(f"{path.name} is invalid: {problems}") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"duplicate keys {dupes}")
    return dict(pairs)


def load_plugin(folder: Path, catalogue: "EventCatalogue | None" = None) -> LoadedPlugin:
    """Validate one folder's manifest, then import its handler and resolve ``on_<event>`` for each event."""
    manifest = read_plugin_manifest(folder / MANIFEST_FILE)
    if manifest.id != folder.name:
        raise PluginIdMismatchError(f"plugin id {manifest.id!r} does not match folder name {folder.name!r}")
    if not (folder / HANDLER_FILE).is_file():
        raise PluginHandlerMissingError(f"{folder} has no {HANDLER_FILE}")
    if manifest.routes is not None:
        log.info("plugin_routes_ignored", plugin_id=manifest.id, reason="plugins contribute no HTTP routes")
    module = _import_handler(manifest.id, folder / HANDLER_FILE)
    handlers = {}
    missing = []
    for event in manifest.events:
        fn = getattr(module, handler_name(event), None)
        if callable(fn):
            handlers[event] = fn
        else:
            missing.append(handler_name(event))
    if missing:
        _forget(manifest.id)
        raise PluginHandlerFunctionMissingError(f"{HANDLER_FILE} defines no {', '.join(missing)}")
    if catalogue is not None:
        unknown = [e for e in manifest.events if not catalogue.known(e)]
        if unknown:  # a custom event of an integration not loaded here: the handler just never runs
            log.warning("plugin_event_unknown", plugin_id=manifest.id, events=unknown)
    log.warning("plugin_loaded_full_trust", plugin_id=manifest.id, path=str(folder), version=manifest.version,
                events=list(manifest.events))
    return LoadedPlugin(id=manifest.id, manifest=manifest, path=folder, module=module, handlers=handlers)


def _import_handler(plugin_id: str, path: Path) -> types.ModuleType:
    name = f"{PACKAGE_ROOT}.{plugin_id}"
    _forget(plugin_id)  # re-discovery executes the code on disk now, never a cached module
    if PACKAGE_ROOT not in sys.modules:
        root = types.ModuleType(PACKAGE_ROOT, "Synthetic parent of discovered plugin handlers.")
        root.__path__ = []
        sys.modules[PACKAGE_ROOT] = root
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginImportError(f"cannot build an import spec for {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # SystemExit too: one plugin must not end the boot
        _forget(plugin_id)
        raise PluginImportError(f"importing {plugin_id} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _forget(plugin_id: str) -> None:
    sys.modules.pop(f"{PACKAGE_ROOT}.{plugin_id}", None)


def _fail(failures: dict[str, PluginLoadFailure], error: PluginError, folder: Path) -> None:
    # A duplicate stands for no plugin (the id belongs to the first folder): keyed by its path.
    plugin_id = None if isinstance(error, PluginDuplicateError) or folder.name in failures else folder.name
    failures[plugin_id or str(folder)] = PluginLoadFailure(
        key=error.key, message=error.message, path=folder, plugin_id=plugin_id)
    if isinstance(error, PluginImportError) and error.__cause__ is not None:
        log.error(error.key, path=str(folder), error=error.message, exc_info=error.__cause__)
    else:
        log.warning(error.key, path=str(folder), error=error.message)
