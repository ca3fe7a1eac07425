"""The bundled ``myservice`` integration, from discovery to a tool call against a local HTTP server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest

from runtime.integrations.entries import EntriesService
from runtime.integrations.flow_manager import FlowManager
from runtime.integrations.loader import discover_dirs
from runtime.integrations.sync import sync_registry

from .flow_helpers import ALICE, all_rows_text, encodings_of

BUNDLED = Path(__file__).resolve().parents[2] / "integrations"


class FakeMyService:
    """A minimal HTTP server speaking My Service's search API; records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []
        self._server: asyncio.AbstractServer | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *header_lines = head.strip().split("\r\n")
        _, target, _ = request_line.split(" ")
        headers = {k.lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        url = urlsplit(target)
        self.requests.append(
            {"path": url.path, "query": parse_qs(url.query), "authorization": headers.get("authorization")})
        body = json.dumps({"results": [{"title": "Agent runtimes", "url": "https://example.com/a"},
                                       {"title": None, "url": "https://example.com/b"}]}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def myservice(pool, secret_store) -> AsyncIterator[tuple[EntriesService, FlowManager, object]]:
    registry = discover_dirs([BUNDLED])
    assert "myservice" in registry.domains(), registry.failures
    await sync_registry(pool, registry)
    entries = EntriesService(pool, secret_store, registry)
    yield entries, FlowManager(pool, secret_store, registry, entries, ttl_seconds=600), registry


async def test_myservice_flow_creates_an_entry_whose_toolset_searches_with_the_key(
    myservice, pool, captured_logs, distinctive_secret
):
    entries, flows, registry = myservice
    form = await flows.start("myservice", ALICE)
    assert (form.type, form.step_id, form.title) == ("form", "user", "Connect My Service")
    fields = {f.name: f for f in form.fields}
    assert list(fields) == ["base_url", "api_key"]
    assert fields["base_url"].label == "Base URL" and fields["base_url"].required
    assert fields["base_url"].placeholder == "https://myservice.example.com"
    assert fields["api_key"].type == "secret" and fields["api_key"].label == "API key"
    assert fields["api_key"].default is None

    missing = await flows.submit(form.flow_id, {"base_url": "https://x.example"}, ALICE)
    assert missing.errors["api_key"].key == "required"
    bad_url = await flows.submit(form.flow_id, {"base_url": "ftp://x", "api_key": distinctive_secret}, ALICE)
    assert bad_url.errors["base"].key == "invalid_url"
    assert bad_url.errors["base"].text == "Enter an absolute URL starting with http:// or https://."

    fake = FakeMyService()
    async with fake as base_url:
        done = await flows.submit(form.flow_id, {"base_url": base_url + "/", "api_key": distinctive_secret}, ALICE)
        assert done.type == "create_entry" and done.title == base_url + "/"

        entry = await entries.get(done.entry_id)
        assert entry.data == {"base_url": base_url + "/"} and entry.secret_fields == ["api_key"]
        assert (await entries.read_masked(entry.id))["secrets"] == {"api_key": "••••"}

        ctx = await entries.build_setup_context(entry.id)
        toolsets = await registry.get("myservice").integration.async_setup_entry(ctx)
        assert len(toolsets) == 1 and list(toolsets[0].tools) == ["myservice_search"]
        hits = await toolsets[0].tools["myservice_search"].function(query="agents")
    assert [(h.title, h.url) for h in hits] == [("Agent runtimes", "https://example.com/a"),
                                               ("", "https://example.com/b")]
    assert fake.requests == [{"path": "/api/search", "query": {"q": ["agents"]},
                              "authorization": f"Bearer {distinctive_secret}"}]

    async with pool.acquire() as c:
        for table in ("config_entries", "config_flows", "secret_values"):
            text = await all_rows_text(c, table)
            assert all(form_ not in text for form_ in encodings_of(distinctive_secret))
    assert distinctive_secret not in captured_logs.getvalue()


async def test_myservice_is_single_instance_per_owner(myservice):
    _, flows, _ = myservice
    form = await flows.start("myservice", ALICE)
    await flows.submit(form.flow_id, {"base_url": "https://a.example", "api_key": "k"}, ALICE)
    again = await flows.start("myservice", ALICE)
    assert again.type == "abort" and again.reason.text == "My Service is already connected for this scope."
