"""The real pydantic-ai OpenAI client against a local server that speaks the chat-completions API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.types import TurnStatus
from runtime.settings import ModelProfile
from runtime.tiers import Tier
from tests.support.leaks import find_leaks, history_corpus


def _completion(message: dict) -> dict:
    return {
        "id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()), "model": "local-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


@pytest.fixture
def chat_server(distinctive_secret):
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if self.headers.get("Authorization") != f"Bearer {distinctive_secret}":
                self.send_response(401)
                self.end_headers()
                return
            last = body["messages"][-1]
            if last["role"] == "tool":
                message = {"role": "assistant", "content": f"The tool said: {last['content']}"}
            else:
                tool = next(t["function"]["name"] for t in body.get("tools", []) if t["function"]["name"].endswith("echo"))
                message = {"role": "assistant", "content": None, "tool_calls": [{
                    "id": "call_1", "type": "function",
                    "function": {"name": tool, "arguments": json.dumps({"text": last["content"]})},
                }]}
            payload = json.dumps(_completion(message)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1", requests
    server.shutdown()


@pytest.fixture
def settings(settings, chat_server, distinctive_secret):
    settings.models.profiles["local-openai"] = ModelProfile(
        model="openai:local-model", tier=Tier.REGULATED, base_url=chat_server[0], api_key=SecretStr(distinctive_secret)
    )
    return settings


async def test_openai_compatible_endpoint_drives_a_tool_call(
    worker, make_entry, open_session, chat_server, temporal_client, settings, distinctive_secret
):
    _, requests = chat_server
    await make_entry("probe", "global")
    result = await send_message(await open_session(Principal(sub="alice"), "local-openai"), "hello over http")
    assert result.status is TurnStatus.COMPLETED
    assert result.text == "The tool said: echo: hello over http"
    assert [r["path"] for r in requests] == ["/v1/chat/completions"] * 2
    assert {t["function"]["name"] for t in requests[0]["body"]["tools"]} >= {"probe_echo"}
    assert requests[1]["body"]["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "echo: hello over http"}
    corpus, _ = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    assert find_leaks([distinctive_secret], corpus) == []  # the provider key stays in the activity
