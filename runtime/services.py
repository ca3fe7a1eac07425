"""The services a worker (and the API) build once on top of a :class:`RuntimeContext`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic_ai.models import Model

from .context import RuntimeContext
from .entities.entry_entities import entity_access
from .entities.store import EntityStore
from .events.catalogue import EventCatalogue
from .events.entry_events import event_access
from .events.service import EventsService
from .flows.registry import FlowRegistry
from .integrations.entries import ContextExtras, EntriesService
from .integrations.loader import discover
from .integrations.registry import IntegrationRegistry
from .integrations.sync import sync_registry
from .plugins.configs import PluginConfigStore
from .plugins.loader import discover_plugins
from .plugins.registry import PluginRegistry
from .sessions.assembler import ToolAssembler
from .sessions.model_profiles import ModelResolver
from .sessions.setup_cache import SetupCache
from .sessions.transcript import TranscriptStore


def _context_extras(entities_for: Callable[..., Any], events_for: Callable[..., Any]) -> ContextExtras:
    def extras(entry_id: str, domain: str, secrets: Mapping[str, str]) -> dict[str, Any]:
        return {"entities": entities_for(entry_id, domain, secrets.values()),
                "events": events_for(entry_id, domain, secrets.values())}

    return extras


@dataclass
class Services:
    ctx: RuntimeContext
    registry: IntegrationRegistry
    entries: EntriesService
    models: ModelResolver
    setup_cache: SetupCache
    assembler: ToolAssembler
    transcript: TranscriptStore
    flows: FlowRegistry
    plugins: PluginRegistry
    plugin_configs: PluginConfigStore
    events: EventsService

    @classmethod
    async def start(
        cls,
        ctx: RuntimeContext,
        *,
        registry: IntegrationRegistry | None = None,
        model_overrides: dict[str, Model] | None = None,
        sync: bool = True,
        flows: FlowRegistry | None = None,
        plugins: PluginRegistry | None = None,
    ) -> "Services":
        registry = registry if registry is not None else discover(ctx.settings)
        if sync:
            await sync_registry(ctx.pool, registry)
        entity_store = EntityStore(ctx.pool)
        catalogue = EventCatalogue.from_integrations(registry)
        entries = EntriesService(ctx.pool, ctx.secrets, registry)
        models = ModelResolver(ctx.settings, model_overrides)
        cache = SetupCache(entries, registry, entities=entity_store)
        plugins = plugins if plugins is not None else discover_plugins(ctx.settings, catalogue)
        plugin_configs = PluginConfigStore(ctx.pool, ctx.secrets)
        events = EventsService(ctx.settings, ctx.pool, registry, plugins, entries, plugin_configs, catalogue)
        # The events service needs the entries service, and set-up contexts need it back (to wake it).
        entries.context_extras = _context_extras(entity_access(entity_store, registry),
                                                 event_access(ctx.pool, catalogue, events.wake))
        return cls(
            ctx=ctx,
            registry=registry,
            entries=entries,
            models=models,
            setup_cache=cache,
            assembler=ToolAssembler(ctx.pool, entries, registry, models, cache),
            transcript=TranscriptStore(ctx.pool),
            flows=flows if flows is not None else FlowRegistry.collect(registry, ctx.settings.flows.dirs),
            plugins=plugins,
            plugin_configs=plugin_configs,
            events=events,
        )

    async def close(self) -> None:
        await self.events.close()
        await self.setup_cache.close()

    def describe(self) -> dict[str, Any]:
        return {"integrations": sorted(self.registry.domains()), "profiles": sorted(self.ctx.settings.models.profiles)}
