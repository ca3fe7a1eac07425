"""Decrypted secrets never reach Temporal history or a log line, even when tools use them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus
from tests.support.leaks import find_leaks, history_corpus

ALICE = Principal(sub="alice", org_id="acme")


@pytest.fixture
def search_api(distinctive_secret):
    """A local stand-in for My Service: answers only with the right bearer token."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {distinctive_secret}":
                self.send_response(401)
                self.end_headers()
                return
            if "q=whoami" in self.path:  # a careless service: echoes the caller's credential back
                hit = {"title": f"you are {self.headers['Authorization']}", "url": "https://x.test/me"}
            else:
                hit = {"title": "Durable agents", "url": "https://x.test/1"}
            body = json.dumps({"results": [hit]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


async def test_secret_used_by_a_tool_appears_in_no_history_and_no_log(
    worker, make_entry, open_session, temporal_client, settings, search_api, distinctive_secret, captured_logs
):
    base_url, seen = search_api
    vault_secret = distinctive_secret[::-1] + "-vault"
    await make_entry("myservice", "user", owner_sub="alice", data={"base_url": base_url},
                     secrets={"api_key": distinctive_secret})
    await make_entry("vault", "global", secrets={"token": vault_secret})

    handle = await open_session(ALICE, "internal")
    result = await send_message(handle, '/tool myservice_search {"query": "durable"}')
    assert result.status is TurnStatus.COMPLETED and "Durable agents" in result.text  # the key worked
    assert seen == ["/api/search?q=durable"]
    result = await send_message(handle, '/tool vault_read {"key": "k9"}')
    assert "classified-k9" in result.text
    await handle.signal("end")
    await handle.result()

    corpus, workflows = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    assert workflows >= 1 and "Durable agents" in corpus  # the scan does see payload contents
    assert find_leaks([distinctive_secret, vault_secret], corpus) == []
    logs = captured_logs.getvalue()
    assert "tool_executed" in logs
    assert find_leaks([distinctive_secret, vault_secret], logs) == []


async def test_a_tool_result_that_echoes_a_secret_is_redacted_before_model_transcript_and_history(
    worker, make_entry, open_session, temporal_client, settings, search_api, distinctive_secret, captured_logs,
    services,
):
    base_url, _ = search_api
    await make_entry("myservice", "user", owner_sub="alice", data={"base_url": base_url},
                     secrets={"api_key": distinctive_secret})
    handle = await open_session(ALICE, "internal")
    result = await send_message(handle, '/tool myservice_search {"query": "whoami"}')
    # The offline model answers with what it was given: the redacted result.
    assert result.status is TurnStatus.COMPLETED and "you are Bearer [REDACTED]" in result.text
    assert distinctive_secret not in result.text
    async with services.ctx.pool.acquire() as conn:
        stored = "\n".join(r["m"] for r in await conn.fetch("SELECT message::text AS m FROM session_messages"))
    assert "[REDACTED]" in stored and find_leaks([distinctive_secret], stored) == []
    corpus, _ = await history_corpus(temporal_client, f"WorkflowId = '{handle.id}'")
    assert "you are Bearer [REDACTED]" in corpus and find_leaks([distinctive_secret], corpus) == []
    assert "tool_result_secret_redacted" in captured_logs.getvalue()
    assert find_leaks([distinctive_secret], captured_logs.getvalue()) == []
