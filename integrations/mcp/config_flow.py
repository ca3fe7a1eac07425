"""The config flow of ``mcp``: one form from :class:`McpConfig`, checked by connecting to the server."""

from __future__ import annotations

from typing import Any

from runtime.integrations import ModelConfigFlow
from runtime.logging import get_logger

from .client import probe
from .config import McpConfig
from runtime.integrations import url_refusal

log = get_logger(__name__)


def scope_refusal(config: McpConfig, scope: str) -> str | None:
    """Starting a command on the worker is an operator's decision: a user's own entry may not."""
    if config.transport == "stdio" and scope == "user":
        return "stdio_needs_admin"
    return None


class McpConfigFlow(ModelConfigFlow):
    domain = "mcp"
    MODEL = McpConfig
    TITLE = "MCP server"

    def title_for(self, data: dict[str, Any]) -> str:
        return str(data.get("url") or data.get("command") or self.TITLE)

    async def validate(self, data: dict[str, Any]) -> str | None:
        config = McpConfig.model_validate(data)
        refusal = scope_refusal(config, self.context.scope)
        if refusal is None and config.transport == "http":
            refusal = await url_refusal(str(config.url), self.context.scope)
        if refusal:
            return refusal
        try:
            tools = await probe(config)
        except Exception as exc:  # noqa: BLE001 - any failure to connect means the same to the user
            log.info("mcp_probe_failed", transport=config.transport, error_type=type(exc).__name__)
            return "cannot_connect"
        return None if tools else "no_tools"
