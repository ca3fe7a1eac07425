from __future__ import annotations

from typing import Any

from runtime.integrations import Integration, SetupContext
from runtime.logging import get_logger

from .config_flow import HttpFetchConfigFlow
from .tools import build_toolset, entry_config

log = get_logger(__name__)


class HttpFetchIntegration(Integration):
    config_flow_cls = HttpFetchConfigFlow

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        config = entry_config(ctx)
        if config.allow_private_networks and ctx.scope == "user":
            # The flow refuses this; an entry written some other way gets the safe reading.
            log.warning("http_fetch_private_networks_ignored", entry_id=ctx.entry_id)
            config = config.model_copy(update={"allow_private_networks": False})
        return [build_toolset(config)]


INTEGRATION = HttpFetchIntegration()
