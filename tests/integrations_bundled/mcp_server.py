"""A small MCP server for the tests, written with the ``mcp`` package (its FastMCP is ``MCPServer`` in mcp 2).

Run as a script it serves stdio; :func:`serve_http` serves streamable HTTP in a thread of the
test process, behind a check of a required secret header. Every request method the server
receives is appended to ``--count-file`` (one line each), so a test can count ``tools/list``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer

SECRET_ENV = "DEMO_MCP_TOKEN"


@dataclass
class SeenHeaders:
    """What the HTTP guard saw last; a tool hands it back to test that results are scrubbed."""

    last_auth: str = ""
    rejected: int = 0
    methods: list[str] = field(default_factory=list)


def build_server(count_file: Path | None, seen: SeenHeaders | None = None) -> MCPServer:
    async def counting(ctx: Any, call_next: Any) -> Any:
        if count_file is not None:
            with count_file.open("a") as fh:
                fh.write(f"{ctx.method}\n")
        return await call_next(ctx)

    server = MCPServer("demo", middleware=[counting])

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def shout(text: str) -> str:
        """Upper-case a text."""
        return text.upper() + "!"

    @server.tool()
    def token_length() -> int:
        """How long the token in the server's environment is (0 when unset)."""
        return len(os.environ.get(SECRET_ENV, ""))

    @server.tool()
    def echo_auth() -> str:
        """Return the auth header this server was sent (a badly behaved server)."""
        return f"you sent: {seen.last_auth if seen else ''}"

    return server


def count_methods(count_file: Path, method: str) -> int:
    if not count_file.exists():
        return 0
    return sum(1 for line in count_file.read_text().splitlines() if line == method)


class _Guard:
    """ASGI middleware: 401 unless ``header`` carries ``secret``."""

    def __init__(self, app: Any, header: str, secret: str, seen: SeenHeaders) -> None:
        self.app, self.header, self.secret, self.seen = app, header.lower().encode(), secret, seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            value = dict(scope["headers"]).get(self.header, b"").decode()
            self.seen.last_auth = value
            if value != self.secret:
                self.seen.rejected += 1
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await self.app(scope, receive, send)


@dataclass
class HttpServer:
    url: str
    seen: SeenHeaders
    stop: Any


def serve_http(count_file: Path, header: str, secret: str) -> HttpServer:
    import uvicorn

    seen = SeenHeaders()
    app = build_server(count_file, seen).streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(_Guard(app, header, secret, seen), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the MCP test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return HttpServer(f"http://127.0.0.1:{port}/mcp", seen, stop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count-file", type=Path)
    build_server(parser.parse_args().count_file).run("stdio")
