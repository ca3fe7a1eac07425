"""After a session ends: observer snapshots into its logs, completion results into its annotations."""

from __future__ import annotations

import json

from runtime.events.types import completion_workflow_id
from runtime.integrations.scopes import EntryOwner
from runtime.sessions.client import send_message

from .conftest import ALICE


async def _end(handle) -> str:
    await handle.signal("end")
    await handle.result()
    return handle.id.split(":", 1)[1]


async def _session(services, session_id: str) -> dict:
    async with services.ctx.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT logs, annotations FROM sessions WHERE session_id = $1", session_id)
        rows = await conn.fetch("SELECT entry_id, domain, status, reason, last_error, attempts FROM session_completions"
                                " WHERE session_id = $1 ORDER BY domain, entry_id", session_id)
    return {"logs": row["logs"], "annotations": row["annotations"], "completions": [dict(r) for r in rows]}


async def test_observer_snapshot_is_stored_and_the_completion_result_annotates_the_session(
    worker, services, temporal_client, make_entry, open_session, tmp_path
):
    watcher = await make_entry("watcher", title="reviewer-1")
    await services.entries.create(domain="probe", owner=EntryOwner("global"), title="probe",
                                  data={"count_file": str(tmp_path / "probe.count")})
    handle = await open_session(ALICE)
    await send_message(handle, "hello")
    await send_message(handle, '/tool probe_echo {"text": "hi"}')
    session_id = await _end(handle)

    summary = await temporal_client.get_workflow_handle(completion_workflow_id(session_id)).result()
    assert (summary["ok"], summary["failed"], summary["skipped"]) == (1, 0, 0)
    state = await _session(services, session_id)
    snapshot = state["logs"]["observers"][watcher.id]
    assert snapshot["domain"] == "watcher"
    assert snapshot["snapshot"]["turns"] == 2 and snapshot["snapshot"]["turns_completed"] == 2
    assert snapshot["snapshot"]["tools"] == {"probe_echo": {"calls": 1, "failed": 0}}
    assert snapshot["snapshot"]["duration_ms"] > 0
    assert all(t["duration_ms"] is not None for t in snapshot["snapshot"]["turn_timings"])
    assert state["annotations"] == {"watcher": {watcher.id: {"turns": 2, "tool_calls": 1, "reviewed_by": "reviewer-1"}}}
    assert state["completions"] == [{"entry_id": watcher.id, "domain": "watcher", "status": "ok", "reason": None,
                                     "last_error": None, "attempts": 1}]


async def test_disabled_and_declining_entries_are_recorded_as_skipped(
    worker, services, temporal_client, make_entry, open_session, out_dir
):
    declines = await make_entry("watcher", skip=True)
    disabled = await make_entry("watcher")
    await services.entries.set_disabled(disabled.id, True)
    handle = await open_session(ALICE)
    await send_message(handle, "hello")
    session_id = await _end(handle)

    summary = await temporal_client.get_workflow_handle(completion_workflow_id(session_id)).result()
    assert (summary["ok"], summary["failed"], summary["skipped"]) == (0, 0, 2)
    state = await _session(services, session_id)
    assert {c["entry_id"]: (c["status"], c["reason"]) for c in state["completions"]} == {
        declines.id: ("skipped", "nothing_to_do"), disabled.id: ("skipped", "entry_disabled")}
    assert state["annotations"] == {}
    assert disabled.id not in state["logs"]["observers"]  # a disabled entry does not watch either
    ran = [json.loads(line)["entry_id"] for line in (out_dir / "completions.jsonl").read_text().splitlines()]
    assert ran == [declines.id]


async def test_a_failing_completion_is_recorded_and_does_not_stop_another(
    worker, services, settings, temporal_client, make_entry, open_session, out_dir
):
    grumpy = await make_entry("grumpy")
    watcher = await make_entry("watcher")
    handle = await open_session(ALICE)
    await send_message(handle, "hello")
    session_id = await _end(handle)

    summary = await temporal_client.get_workflow_handle(completion_workflow_id(session_id)).result()
    assert (summary["ok"], summary["failed"]) == (1, 1)
    state = await _session(services, session_id)
    by_domain = {c["domain"]: c for c in state["completions"]}
    assert by_domain["watcher"]["status"] == "ok" and watcher.id in state["annotations"]["watcher"]
    failed = by_domain["grumpy"]
    assert failed["entry_id"] == grumpy.id and failed["status"] == "failed" and failed["reason"] == "completion_failed"
    assert failed["last_error"] == "RuntimeError: grumpy refuses to complete anything"
    assert failed["attempts"] == settings.events.completion_attempts
    assert len((out_dir / "grumpy.txt").read_text().splitlines()) == settings.events.completion_attempts
    assert "grumpy" not in state["annotations"]


async def test_a_session_no_entry_takes_part_in_completes_with_nothing_done(services, worker, open_session,
                                                                            temporal_client):
    handle = await open_session(ALICE)
    await send_message(handle, "hello")
    session_id = await _end(handle)
    summary = await temporal_client.get_workflow_handle(completion_workflow_id(session_id)).result()
    assert (summary["ok"], summary["failed"], summary["skipped"]) == (0, 0, 0)
    state = await _session(services, session_id)
    assert state["logs"] == {} and state["annotations"] == {} and state["completions"] == []
