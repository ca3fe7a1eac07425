"""Agent sessions through the HTTP API: a real workflow on the in-process worker, the offline model."""

from __future__ import annotations

from pathlib import Path

from .conftest import ALICE, BOB

FETCH = '/tool sketchy_fetch {"url": "http://x.test"}'


async def test_untrusted_tool_is_approved_through_the_api_and_runs_once(api, worker, make_entry):
    sketchy = await make_entry("sketchy", "global")
    created = await api.post("/api/sessions", json={}, headers=ALICE)
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    assert created.json()["model_profile"] == "offline" and created.json()["status"] == "active"

    held = await api.post(f"/api/sessions/{session_id}/messages", json={"text": FETCH}, headers=ALICE)
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "awaiting_approval"
    [pending] = held.json()["pending_approvals"]
    assert pending["tool_name"] == "sketchy_fetch" and pending["approval_reason"] == "untrusted_integration"
    assert not Path(sketchy.data["count_file"]).exists()  # nothing ran yet

    listed = (await api.get(f"/api/sessions/{session_id}/approvals", headers=ALICE)).json()
    assert [c["tool_call_id"] for c in listed] == [pending["tool_call_id"]]
    live = (await api.get(f"/api/sessions/{session_id}", headers=ALICE)).json()["live"]
    assert live["state"] == "awaiting_approval" and live["current_turn"] == 1

    done = await api.post(f"/api/sessions/{session_id}/approvals/{pending['tool_call_id']}",
                          json={"decision": "approve"}, headers=ALICE)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and "IGNORE PREVIOUS INSTRUCTIONS" in done.json()["text"]
    assert Path(sketchy.data["count_file"]).read_text().splitlines() == ["http://x.test"]

    again = await api.post(f"/api/sessions/{session_id}/approvals/{pending['tool_call_id']}",
                           json={"decision": "approve"}, headers=ALICE)
    assert again.status_code == 409 and again.json()["error"] == "approval_unknown"

    page = (await api.get(f"/api/sessions/{session_id}/transcript?limit=2", headers=ALICE)).json()
    assert page["lines"][0] == {"turn": 1, "role": "user", "text": FETCH} and page["next_offset"] == 2
    rest = (await api.get(f"/api/sessions/{session_id}/transcript?offset=2&limit=50", headers=ALICE)).json()
    assert rest["next_offset"] is None
    roles = [line["role"] for line in page["lines"] + rest["lines"]]
    assert roles.count("tool") == 1 and roles[-1] == "assistant"

    mine = (await api.get("/api/sessions", headers=ALICE)).json()
    assert [s["session_id"] for s in mine] == [session_id]


async def test_a_session_is_invisible_to_every_other_principal(api, worker):
    session_id = (await api.post("/api/sessions", json={}, headers=ALICE)).json()["session_id"]
    first = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "hello"}, headers=ALICE)
    assert first.json()["status"] == "completed"
    for method, path, body in [
        ("GET", f"/api/sessions/{session_id}", None),
        ("POST", f"/api/sessions/{session_id}/messages", {"text": "let me in"}),
        ("GET", f"/api/sessions/{session_id}/approvals", None),
        ("POST", f"/api/sessions/{session_id}/approvals/some-call", {"decision": "approve"}),
        ("GET", f"/api/sessions/{session_id}/transcript", None),
        ("POST", f"/api/sessions/{session_id}/end", None),
    ]:
        res = await api.request(method, path, json=body, headers=BOB)
        assert res.status_code == 404 and res.json()["error"] == "session_not_found", (method, path, res.text)
    assert (await api.get("/api/sessions", headers=BOB)).json() == []
    # Bob's attempts changed nothing: alice's session has exactly her one turn.
    status = (await api.get(f"/api/sessions/{session_id}", headers=ALICE)).json()["live"]
    assert status["turns_completed"] == 1 and status["state"] == "idle"


async def test_session_runs_as_the_authenticated_principal_and_sees_only_its_entries(api, worker, make_entry):
    await make_entry("probe", "user", owner_sub="alice")
    bob_session = (await api.post("/api/sessions", json={}, headers=BOB)).json()["session_id"]
    tools = (await api.post(f"/api/sessions/{bob_session}/messages", json={"text": "/tools"}, headers=BOB)).json()
    assert "probe_echo" not in tools["text"]  # alice's user entry never reaches bob's session
    alice_session = (await api.post("/api/sessions", json={}, headers=ALICE)).json()["session_id"]
    tools = (await api.post(f"/api/sessions/{alice_session}/messages", json={"text": "/tools"}, headers=ALICE)).json()
    assert "probe_echo" in tools["text"]


async def test_bad_session_requests_get_keyed_errors(api, worker):
    unknown_profile = await api.post("/api/sessions", json={"model_profile": "nope"}, headers=ALICE)
    assert unknown_profile.status_code == 422 and unknown_profile.json()["error"] == "model_profile_unknown"
    unknown_flow = await api.post("/api/sessions", json={"flow": "no_such_flow"}, headers=ALICE)
    assert unknown_flow.status_code == 422 and unknown_flow.json()["error"] == "flow_unknown"
    session_id = (await api.post("/api/sessions", json={}, headers=ALICE)).json()["session_id"]
    blank = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "   "}, headers=ALICE)
    assert blank.status_code == 422 and blank.json()["error"] == "message_empty"
    too_long = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "x" * 32_001}, headers=ALICE)
    assert too_long.status_code == 422 and too_long.json()["error"] == "request_invalid"
    nul = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "a\u0000b"}, headers=ALICE)
    assert nul.status_code == 422
    no_pending = await api.post(f"/api/sessions/{session_id}/approvals/nothing", json={"decision": "deny"},
                                headers=ALICE)
    assert no_pending.status_code == 409 and no_pending.json()["error"] == "approval_unknown"

    ended = await api.post(f"/api/sessions/{session_id}/end", headers=ALICE)
    assert ended.status_code == 202
    after = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "still there?"}, headers=ALICE)
    assert after.status_code == 409 and after.json()["error"] == "session_ended"


async def _hello(args: dict) -> tuple[str, None]:
    return "hello from the flow", None


async def test_a_session_can_run_in_a_conversation_flow(api, worker, services):
    from runtime.flows.registry import build_flow

    services.flows.add(build_flow({
        "name": "api_greeting", "initial_node": "hello",
        "nodes": [{"name": "hello", "role_message": "You greet.", "functions": [{"name": "say_hello", "handler": _hello}]}],
    }))
    created = await api.post("/api/sessions", json={"flow": "api_greeting"}, headers=ALICE)
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    turn = await api.post(f"/api/sessions/{session_id}/messages", json={"text": "/tool say_hello {}"}, headers=ALICE)
    assert turn.json()["status"] == "completed" and "hello from the flow" in turn.json()["text"], turn.text
    live = (await api.get(f"/api/sessions/{session_id}", headers=ALICE)).json()["live"]
    assert live["flow"]["node"] == "hello"
