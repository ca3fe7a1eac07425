"""What discovery produced: the loaded integrations in dependency order, and what failed.

Built once per process (API/worker lifespan) by :func:`runtime.integrations.loader.discover`
and read everywhere else; nothing mutates it after discovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from .errors import IntegrationError
from .flow import ConfigFlow
from .integration import Integration
from .manifest import IntegrationManifest


class IntegrationNotFoundError(IntegrationError):
    key = "integration_not_found"


@dataclass(frozen=True)
class LoadedIntegration:
    domain: str
    manifest: IntegrationManifest
    integration: Integration
    path: Path
    config_flow_cls: type[ConfigFlow] | None = None


@dataclass(frozen=True)
class LoadFailure:
    """Why one folder was skipped. ``key`` is the stable error key (``integration_import_failed`` ...).

    ``domain`` is the domain the folder stands for when one is known (the manifest's, or the
    folder name when that is a valid domain), so the registry sync can mark its row ``failed``.
    It is None for a duplicate: that domain belongs to the folder that claimed it first.
    """

    key: str
    message: str
    path: Path
    domain: str | None = None
    manifest: IntegrationManifest | None = None


class IntegrationRegistry:
    """Loaded integrations keyed by domain, iterated in dependency order (dependencies first).

    Iterating yields :class:`LoadedIntegration` objects; ``domains()`` gives the keys in
    the same order. ``failures`` maps a domain (or, when no domain is known or it is
    already taken, the folder name or path) to its :class:`LoadFailure`.
    """

    def __init__(
        self,
        loaded: Iterable[LoadedIntegration] = (),
        failures: Mapping[str, LoadFailure] | None = None,
    ) -> None:
        self._loaded: dict[str, LoadedIntegration] = {}
        for item in loaded:
            if item.domain in self._loaded:
                raise ValueError(f"domain {item.domain!r} registered twice")
            self._loaded[item.domain] = item
        self.failures: dict[str, LoadFailure] = dict(failures or {})

    def get(self, domain: str) -> LoadedIntegration:
        try:
            return self._loaded[domain]
        except KeyError:
            failure = self.failures.get(domain)
            detail = f" (failed to load: {failure.key})" if failure else ""
            raise IntegrationNotFoundError(f"integration {domain!r} is not loaded{detail}") from None

    def domains(self) -> list[str]:
        return list(self._loaded)

    def __contains__(self, domain: object) -> bool:
        return domain in self._loaded

    def __iter__(self) -> Iterator[LoadedIntegration]:
        return iter(self._loaded.values())

    def __len__(self) -> int:
        return len(self._loaded)

    def __repr__(self) -> str:
        return f"IntegrationRegistry(loaded={self.domains()}, failed={sorted(self.failures)})"
