"""Subscriber ids to runnable subscribers: a plugin configuration or an integration's config entry.

Resolution happens at delivery time, not routing time: a configuration disabled or an
entry deleted after its events were routed gets those events skipped (with a stable
reason), not delivered to code the operator turned off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from temporalio.client import Client

from ..integrations.config_errors import EntryNotFoundError
from ..plugins.configs import PluginConfig
from ..plugins.registry import LoadedPlugin
from ..plugins.runner import call_handler
from ..plugins.sdk import PluginSDK
from .outbox import DeliveredEvent

if TYPE_CHECKING:
    from ..integrations.integration import Integration, SetupContext
    from ..services import Services


@dataclass(frozen=True)
class Skip:
    reason: str  # a stable key: subscriber_gone, subscriber_disabled, plugin_unavailable ...


class Subscriber(Protocol):
    label: str

    async def handle(self, event: DeliveredEvent, timeout: float) -> None: ...


class PluginSubscriber:
    def __init__(self, services: "Services", client: Client | None, plugin: LoadedPlugin, config: PluginConfig,
                 variables: dict[str, Any]) -> None:
        self._services = services
        self._client = client
        self._plugin = plugin
        self._config = config
        self._variables = variables
        self.label = plugin.id

    async def handle(self, event: DeliveredEvent, timeout: float) -> None:
        fn = self._plugin.handler_for(event.event)
        if fn is None:  # the plugin no longer subscribes (a new version): nothing to run
            return
        sdk = PluginSDK(services=self._services, client=self._client, config=self._config, variables=self._variables,
                        event=event, loop=asyncio.get_running_loop())
        await call_handler(fn, event.as_plugin_dict(), sdk, timeout=timeout)


class EntrySubscriber:
    def __init__(self, integration: "Integration", ctx: "SetupContext") -> None:
        self._integration = integration
        self._ctx = ctx
        self.label = ctx.domain

    async def handle(self, event: DeliveredEvent, timeout: float) -> None:
        await call_handler(self._integration.async_handle_event, self._ctx, event, timeout=timeout)


async def resolve(services: "Services", client: Client | None, subscriber: str) -> Subscriber | Skip:
    kind, _, ident = subscriber.partition(":")
    if kind == "plugin":
        config = await services.plugin_configs.get(ident)
        if config is None:
            return Skip("subscriber_gone")
        if not config.enabled:
            return Skip("subscriber_disabled")
        if config.plugin_id not in services.plugins:
            return Skip("plugin_unavailable")
        plugin = services.plugins.get(config.plugin_id)
        variables = await services.plugin_configs.reveal(config, plugin.manifest)
        return PluginSubscriber(services, client, plugin, config, variables)
    if kind == "entry":
        try:
            entry = await services.entries.get(ident)
        except EntryNotFoundError:
            return Skip("subscriber_gone")
        if entry.disabled:
            return Skip("subscriber_disabled")
        if entry.domain not in services.registry:
            return Skip("integration_unavailable")
        integration = services.registry.get(entry.domain).integration
        return EntrySubscriber(integration, await services.entries.build_setup_context(entry.id))
    return Skip("subscriber_unknown")
