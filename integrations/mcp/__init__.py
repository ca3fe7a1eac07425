"""External MCP servers as tools. Untrusted: every call of one of these tools waits for approval."""

from __future__ import annotations

from typing import Any

from runtime.integrations import Integration, SetupContext
from runtime.logging import get_logger

from .client import OpenServer, open_server
from .config import McpConfig
from .config_flow import McpConfigFlow, scope_refusal
from runtime.integrations import url_refusal

log = get_logger(__name__)


class McpSetupRefused(Exception):
    """An entry the flow would not have created (e.g. a user-scoped stdio command)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key}: the entry's configuration is not allowed for its scope")
        self.key = key


class McpIntegration(Integration):
    config_flow_cls = McpConfigFlow

    def __init__(self) -> None:
        # id(ctx) -> (ctx, server): the setup cache unloads with the very context it set up with.
        self._open: dict[int, tuple[SetupContext, OpenServer]] = {}

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        config = McpConfig.model_validate({**ctx.data, **ctx.secrets})
        refusal = scope_refusal(config, ctx.scope)
        if refusal is None and config.transport == "http":
            refusal = await url_refusal(str(config.url), ctx.scope)
        if refusal:
            raise McpSetupRefused(refusal)
        server = await open_server(config)
        self._open[id(ctx)] = (ctx, server)
        log.info("mcp_server_opened", entry_id=ctx.entry_id, transport=config.transport)
        return [server.toolset]

    async def async_unload_entry(self, ctx: SetupContext) -> None:
        held = self._open.pop(id(ctx), None)
        if held is None or held[0] is not ctx:
            return
        await held[1].close()
        log.info("mcp_server_closed", entry_id=ctx.entry_id)


INTEGRATION = McpIntegration()
