"""The bundled webhook_notify plugin posts selected events, signed with its secret key, to a local server."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from runtime.integrations.scopes import EntryOwner
from runtime.sessions.client import send_message

from .conftest import ALICE, deliveries_of, wait_for
from .http_sink import serve_sink


@pytest.fixture
def sink():
    yield from serve_sink()


def _expected(key: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


async def test_selected_events_are_posted_signed_and_retried_with_the_same_key(
    worker, services, open_session, sink, distinctive_secret
):
    manifest = services.plugins.get("webhook_notify").manifest
    config = await services.plugin_configs.configure(
        manifest, EntryOwner("global"), secrets={"SIGNING_KEY": distinctive_secret},
        variables={"WEBHOOK_URL": sink.url, "EVENTS": '["turn_complete", "session_ended"]'})
    sink.statuses = [503]  # the receiver is down for the first request
    handle = await open_session(ALICE)
    session_id = handle.id.split(":", 1)[1]
    await send_message(handle, "hello")
    await handle.signal("end")
    await handle.result()

    async def settled():
        rows = await deliveries_of(services.ctx.pool, config.id)
        return rows if rows and all(r["status"] != "pending" for r in rows) and len(sink.received) >= 3 else None

    rows = await wait_for(settled)
    assert all(r["status"] == "delivered" for r in rows)  # every subscribed event, the unselected ones ignored
    posted = [r for r in sink.received]
    assert [p.headers["x-agentrt-event"] for p in posted] == ["turn_complete", "turn_complete", "session_ended"]
    assert posted[0].headers["x-agentrt-idempotency-key"] == posted[1].headers["x-agentrt-idempotency-key"]
    for request in posted:
        timestamp = request.headers["x-agentrt-timestamp"]
        assert hmac.compare_digest(request.headers["x-agentrt-signature"],
                                   _expected(distinctive_secret, timestamp, request.body))
        assert distinctive_secret.encode() not in request.body
    body = posted[1].json()
    assert body["event"] == "turn_complete" and body["session_id"] == session_id
    assert body["data"] == {"turn": 1, "steps": 1}
    assert body["idempotency_key"] == posted[1].headers["x-agentrt-idempotency-key"]
    [turn_row] = [r for r in rows if r["type"] == "turn_complete"]
    assert turn_row["attempts"] == 2 and turn_row["last_error"] == "RuntimeError: webhook answered 503"


def test_a_tampered_body_does_not_verify(distinctive_secret):
    from importlib import util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "plugins" / "webhook_notify" / "handler.py"
    spec = util.spec_from_file_location("webhook_notify_handler", path)
    handler = util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    signature = handler.sign(distinctive_secret, 1700000000, b'{"a":1}')
    assert signature == _expected(distinctive_secret, "1700000000", b'{"a":1}')
    assert signature != _expected(distinctive_secret, "1700000000", b'{"a":2}')
