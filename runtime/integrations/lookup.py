"""What the entries service and flow engine need from the integration registry, duck-typed.

The registry (:mod:`runtime.integrations.registry`) satisfies this; tests may pass any
object with a ``get(domain)`` that returns something shaped like a loaded integration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from .config_errors import IntegrationUnavailableError
from .flow import ConfigFlow
from .integration import Integration
from .manifest import IntegrationManifest


class LoadedIntegrationLike(Protocol):
    @property
    def domain(self) -> str: ...
    @property
    def manifest(self) -> IntegrationManifest: ...
    @property
    def integration(self) -> Integration: ...
    @property
    def path(self) -> Path: ...
    @property
    def config_flow_cls(self) -> type[ConfigFlow] | None: ...


class IntegrationLookup(Protocol):
    def get(self, domain: str) -> Any: ...


def lookup_integration(lookup: IntegrationLookup, domain: str) -> LoadedIntegrationLike:
    """``lookup.get(domain)``, with "not loaded" in any of its spellings as one specific error."""
    try:
        found = lookup.get(domain)
    except Exception as exc:
        if isinstance(exc, LookupError) or getattr(exc, "key", None) == "integration_not_found":
            raise IntegrationUnavailableError(f"integration {domain!r} is not loaded") from None
        raise
    if found is None:
        raise IntegrationUnavailableError(f"integration {domain!r} is not loaded")
    return found  # type: ignore[no-any-return]


def flow_class_of(loaded: LoadedIntegrationLike) -> type[ConfigFlow] | None:
    """The integration's config flow class: the loader's injection, else the class attribute."""
    cls = getattr(loaded, "config_flow_cls", None) or getattr(loaded.integration, "config_flow_cls", None)
    return cls if loaded.manifest.config_flow else None
