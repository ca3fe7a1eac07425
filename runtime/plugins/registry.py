"""What plugin discovery produced: loaded plugins by id, and the folders that failed (with stable keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..errors import AgentrtError
from .manifest import PluginManifest


class PluginError(AgentrtError):
    key = "plugin_error"


class PluginManifestError(PluginError):
    key = "plugin_manifest_invalid"


class PluginIdMismatchError(PluginError):
    key = "plugin_id_mismatch"


class PluginDuplicateError(PluginError):
    key = "plugin_id_duplicate"


class PluginHandlerMissingError(PluginError):
    key = "plugin_handler_missing"


class PluginImportError(PluginError):
    key = "plugin_import_failed"


class PluginHandlerFunctionMissingError(PluginError):
    key = "plugin_handler_function_missing"


class PluginNotFoundError(PluginError):
    key = "plugin_not_found"


@dataclass(frozen=True)
class LoadedPlugin:
    id: str
    manifest: PluginManifest
    path: Path
    module: ModuleType
    handlers: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # event name -> on_<event>

    def handler_for(self, event: str) -> Callable[..., Any] | None:
        return self.handlers.get(event)

    def subscribes_to(self, event: str) -> bool:
        return event in self.handlers


@dataclass(frozen=True)
class PluginLoadFailure:
    key: str
    message: str
    path: Path
    plugin_id: str | None = None


class PluginRegistry:
    def __init__(self, loaded: Iterable[LoadedPlugin] = (), failures: Mapping[str, PluginLoadFailure] | None = None):
        self._loaded = {p.id: p for p in loaded}
        self.failures: dict[str, PluginLoadFailure] = dict(failures or {})

    def get(self, plugin_id: str) -> LoadedPlugin:
        try:
            return self._loaded[plugin_id]
        except KeyError:
            failure = self.failures.get(plugin_id)
            detail = f" (failed to load: {failure.key})" if failure else ""
            raise PluginNotFoundError(f"plugin {plugin_id!r} is not loaded{detail}") from None

    def ids(self) -> list[str]:
        return sorted(self._loaded)

    def subscribers_of(self, event: str) -> list[LoadedPlugin]:
        return [p for p in self._loaded.values() if p.subscribes_to(event)]

    def __contains__(self, plugin_id: object) -> bool:
        return plugin_id in self._loaded

    def __iter__(self) -> Iterator[LoadedPlugin]:
        return iter(self._loaded.values())

    def __len__(self) -> int:
        return len(self._loaded)

    def __repr__(self) -> str:
        return f"PluginRegistry(loaded={self.ids()}, failed={sorted(self.failures)})"
