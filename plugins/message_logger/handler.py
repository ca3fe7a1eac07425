"""Message logger: a log line per incoming message, a POST per completed turn.

Written in the reference plugin format: plain functions ``on_<event>(event, sdk)``.
"""


def on_message_received(event, sdk):
    """One log line per user message, once the session is past MIN_COUNT turns."""
    threshold = int(sdk.config.get("MIN_COUNT") or 0)
    turn = int(event.get("turn") or 0)
    if turn < threshold:
        return
    sdk.log("Received: session={}, turn={}, message={}".format(
        event.get("session_id", ""), turn, event.get("message", "")))


def on_turn_complete(event, sdk):
    """Tell WEBHOOK_URL that a turn finished; without one, say why nothing was sent."""
    session_id = event.get("session_id", "")
    url = (sdk.config.get("WEBHOOK_URL") or "").strip()
    if not url:
        sdk.log("Skipped: no WEBHOOK_URL configured", level="warn")
        return
    reply = sdk.http_request(
        method="POST",
        url=url,
        json={"session_id": session_id, "turn": event.get("turn"), "event": "turn_complete"},
    )
    if not reply.get("ok"):
        # Raising makes the runtime retry this delivery (with backoff) instead of dropping it.
        raise RuntimeError("notification failed: {}".format(reply.get("status_code") or reply.get("error")))
    sdk.log("Turn complete notification sent for session {}".format(session_id))
