"""One MCP server as a pydantic-ai ``MCPToolset``, held open for the life of an entry's setup.

Why held open: an unentered ``MCPToolset`` opens a fresh MCP session for every call,
and on a fresh session FastMCP lists the server's tools again to read their output
schemas — one ``tools/list`` per tool call. Entered once at setup, the session (and
pydantic-ai's tool cache) lasts until the worker's setup cache unloads the entry, so
a session lists tools once per entry revision however many model requests it makes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import McpConfig

if TYPE_CHECKING:
    from fastmcp.client.transports import StdioTransport
    from pydantic_ai.mcp import MCPToolset

REDACTED = "[REDACTED]"


def scrub(value: Any, secret: str | None) -> Any:
    """``value`` with every occurrence of ``secret`` in its strings replaced: a server that echoes
    the credential it was sent must not put it into the transcript or the model's context."""
    if not secret:
        return value
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, dict):
        return {scrub(k, secret): scrub(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v, secret) for v in value)
    return value


@dataclass
class OpenServer:
    """An entered toolset and, for stdio, the transport whose subprocess it keeps alive."""

    toolset: "MCPToolset[Any]"
    transport: "StdioTransport | None" = None

    async def close(self) -> None:
        try:
            await self.toolset.__aexit__(None, None, None)
        finally:
            if self.transport is not None:
                # keep_alive transports outlive the client session; the subprocess ends here.
                await self.transport.close()


def build_toolset(config: McpConfig) -> "tuple[MCPToolset[Any], StdioTransport | None]":
    # Imported here: pydantic_ai.mcp and FastMCP take about a second to import, which discovery
    # (every API and worker boot) should not pay for an integration nobody configured.
    from fastmcp.client import Client
    from fastmcp.client.transports import StdioTransport
    from pydantic_ai.mcp import MCPToolset

    secret = config.secret_value

    async def scrubbed_call(ctx: Any, call_tool: Any, name: str, args: dict[str, Any]) -> Any:
        return scrub(await call_tool(name, args), secret)

    if config.transport == "stdio":
        env = {config.secret_env_var: secret} if secret and config.secret_env_var else None
        transport = StdioTransport(str(config.command).strip(), config.argv, env=env, keep_alive=True)
        client: Client[Any] = Client(transport, init_timeout=config.timeout_seconds, timeout=config.timeout_seconds)
        return MCPToolset(client, process_tool_call=scrubbed_call), transport
    headers = {config.header_name: secret} if secret else None
    toolset = MCPToolset(
        str(config.url), headers=headers, init_timeout=config.timeout_seconds, read_timeout=config.timeout_seconds,
        process_tool_call=scrubbed_call,
    )
    return toolset, None


async def open_server(config: McpConfig) -> OpenServer:
    """Connect, initialise and list the tools within the entry's timeout; on failure nothing stays open.

    Listing here fills the toolset's cache, so the setup cache's ``get_tools`` right after
    cannot fail half-way with a connection left open that no unload would ever close.
    """
    toolset, transport = build_toolset(config)
    server = OpenServer(toolset, transport)
    try:
        await asyncio.wait_for(toolset.__aenter__(), timeout=config.timeout_seconds)
    except BaseException:
        if transport is not None:
            await transport.close()
        raise
    try:
        await asyncio.wait_for(toolset.list_tools(), timeout=config.timeout_seconds)
    except BaseException:
        await server.close()
        raise
    return server


async def probe(config: McpConfig) -> int:
    """Connect, list the tools, disconnect: the number of tools the server offers."""
    server = await open_server(config)
    try:
        return len(await server.toolset.list_tools())  # cached by open_server: no second request
    finally:
        await server.close()
