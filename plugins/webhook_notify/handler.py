"""Webhook notify: post selected events to WEBHOOK_URL as JSON.

The body is ``{"event", "event_id", "idempotency_key", "created_at", "session_id", "entry_id", "data"}``.
With SIGNING_KEY set, two headers let the receiver check it came from here, unaltered and recently:

    X-Agentrt-Timestamp: <unix seconds>
    X-Agentrt-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under SIGNING_KEY>

A receiver should compare in constant time, reject old timestamps, and use the
idempotency key (also in ``X-Agentrt-Idempotency-Key``) to ignore a redelivery: a non-2xx
answer or no answer makes the runtime retry the same event with the same key.
"""

import hashlib
import hmac
import json
import time

ENVELOPE = ("event", "event_id", "idempotency_key", "created_at", "session_id", "entry_id", "schema_version")


def sign(key, timestamp, body):
    """The signature header value for ``body`` (bytes) sent at ``timestamp``."""
    mac = hmac.new(key.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _post(event, sdk):
    wanted = sdk.config.get("EVENTS") or []
    if wanted and event.get("event") not in wanted:
        return
    url = (sdk.config.get("WEBHOOK_URL") or "").strip()
    if not url:
        sdk.log("Skipped: no WEBHOOK_URL configured", level="warn")
        return
    data = {k: v for k, v in event.items() if k not in ENVELOPE}
    body = json.dumps({**{k: event.get(k) for k in ENVELOPE}, "data": data}, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "X-Agentrt-Event": str(event.get("event")),
               "X-Agentrt-Idempotency-Key": str(event.get("idempotency_key"))}
    key = sdk.config.get("SIGNING_KEY")
    if key:
        timestamp = int(time.time())
        headers["X-Agentrt-Timestamp"] = str(timestamp)
        headers["X-Agentrt-Signature"] = sign(key, timestamp, body)
    reply = sdk.http_request("POST", url, content=body, headers=headers,
                             timeout=float(sdk.config.get("TIMEOUT_SECONDS") or 10))
    if not reply.get("ok"):
        raise RuntimeError("webhook answered {}".format(reply.get("status_code") or reply.get("error")))


def on_session_created(event, sdk):
    _post(event, sdk)


def on_message_received(event, sdk):
    _post(event, sdk)


def on_tool_executed(event, sdk):
    _post(event, sdk)


def on_approval_requested(event, sdk):
    _post(event, sdk)


def on_approval_decided(event, sdk):
    _post(event, sdk)


def on_final_answer(event, sdk):
    _post(event, sdk)


def on_turn_complete(event, sdk):
    _post(event, sdk)


def on_session_ended(event, sdk):
    _post(event, sdk)


def on_entity_created(event, sdk):
    _post(event, sdk)


def on_entity_updated(event, sdk):
    _post(event, sdk)


def on_entity_deleted(event, sdk):
    _post(event, sdk)


def on_sync_completed(event, sdk):
    _post(event, sdk)


def on_sync_failed(event, sdk):
    _post(event, sdk)


def on_schedule_fired(event, sdk):
    _post(event, sdk)
