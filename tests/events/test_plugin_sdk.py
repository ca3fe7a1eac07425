"""The plugin SDK on its own: blocking calls refused on the event loop, HTTP failures as data, no secrets in repr."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from runtime.events.observers import SessionTimeline
from runtime.events.outbox import DeliveredEvent
from runtime.plugins.configs import PluginConfig
from runtime.plugins.sdk import PluginSDK, PluginSdkError

NOW = datetime.now(timezone.utc)


def _event(name: str = "turn_complete", n: int = 1, **payload) -> DeliveredEvent:
    return DeliveredEvent(id=n, event=name, schema_version=1, created_at=NOW, session_id="s1",
                          idempotency_key=f"plugin:c1/{n}", payload=payload)


def _sdk(loop: asyncio.AbstractEventLoop) -> PluginSDK:
    config = PluginConfig(id="c1", plugin_id="demo", scope="global", variables={}, secret_variables=["KEY"],
                          enabled=True, created_at=NOW, updated_at=NOW)
    return PluginSDK(services=None, client=None, config=config,  # type: ignore[arg-type]
                     variables={"KEY": "do-not-show-me"}, event=_event(), loop=loop)


async def test_a_blocking_call_on_the_event_loop_is_refused():
    sdk = _sdk(asyncio.get_running_loop())
    with pytest.raises(PluginSdkError) as caught:
        sdk.http_request("GET", "http://127.0.0.1:9/")
    assert caught.value.key == "plugin_sdk_blocking_call"
    with pytest.raises(PluginSdkError):
        sdk.send_message("hi")


async def test_http_failures_come_back_as_data_not_exceptions():
    sdk = _sdk(asyncio.get_running_loop())
    from_thread = await asyncio.to_thread(sdk.http_request, "GET", "http://127.0.0.1:9/", timeout=2)
    assert from_thread["ok"] is False and from_thread["error"].startswith("ConnectError")
    awaited = await sdk.async_http_request("GET", "http://127.0.0.1:9/", timeout=2)
    assert awaited["ok"] is False
    with pytest.raises(PluginSdkError) as caught:
        await sdk.async_http_request("GET", "http://127.0.0.1:9/", verify=False)
    assert caught.value.key == "plugin_sdk_argument"


async def test_send_message_without_temporal_says_so():
    assert await _sdk(asyncio.get_running_loop()).async_send_message("hi") == {
        "ok": False, "error": "temporal_unavailable"}


async def test_the_sdk_never_shows_its_variables():
    sdk = _sdk(asyncio.get_running_loop())
    assert "do-not-show-me" not in repr(sdk) and sdk.config["KEY"] == "do-not-show-me"
    assert sdk.idempotency_key == "plugin:c1/1"


def test_the_timeline_observer_counts_turns_tools_approvals_and_durations():
    from datetime import timedelta

    timeline = SessionTimeline()
    events = [
        ("session_created", {}), ("message_received", {"turn": 1}),
        ("approval_requested", {"turn": 1}), ("approval_decided", {"turn": 1, "decision": "deny"}),
        ("tool_executed", {"turn": 1, "tool_name": "t", "ok": False}), ("turn_complete", {"turn": 1, "steps": 2}),
        ("message_received", {"turn": 2}), ("session_ended", {}),
    ]
    for n, (name, payload) in enumerate(events):
        event = _event(name, n + 1, **payload)
        timeline.on_event(event.model_copy(update={"created_at": NOW + timedelta(seconds=n)}))
    snapshot = timeline.snapshot()
    assert (snapshot["turns"], snapshot["turns_completed"], snapshot["tool_calls"], snapshot["tool_failures"]) == (
        2, 1, 1, 1)
    assert snapshot["approvals"] == {"requested": 1, "approved": 0, "denied": 1}
    assert snapshot["turn_timings"][0] == {"turn": 1, "steps": 2, "tool_calls": 1, "duration_ms": 4000.0,
                                           "completed": True}
    assert snapshot["duration_ms"] == 7000.0
