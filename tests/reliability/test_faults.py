"""Faults: killed workers, killed database connections, a restarted Temporal server, tampered ciphertexts."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from runtime.crypto import DecryptionError
from runtime.integrations.entry_states import ConfigEntryState
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.client import send_message, session_status, start_session
from runtime.sessions.types import SessionPolicy, TurnStatus
from runtime.settings import ModelProfile
from runtime.temporal import build_worker, connect_client
from tests.support.figures import report
from tests.support.worker_process import REPO, WorkerProcess, worker_env

SCRIPTED = '{"scripted": {"model": "function:tests.support.scripted_model:reply"}}'


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", REPO / "tests" / "fixtures" / "integrations"])


@pytest.fixture
def settings(settings):
    settings.models.profiles["scripted"] = ModelProfile(model="function:tests.support.scripted_model:reply")
    return settings


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _probe(services, tmp_path) -> Path:
    counts = tmp_path / "counts"
    await services.entries.create(domain="probe", owner=EntryOwner("global"), title="p",
                                  data={"count_file": str(counts)})
    return counts


async def _assert_clean_transcript(services, handle, turns: int) -> None:
    lines = await services.transcript.page(handle.id.split(":", 1)[1], limit=10 * turns)
    users = [l.text for l in lines if l.role == "user"]
    assert users == [f"/count t{i}" for i in range(turns)]  # none lost, none duplicated, in order
    assert [l.role for l in lines] == ["user", "assistant", "tool", "assistant"] * turns


@pytest.mark.slow
@pytest.mark.parametrize("local_activities", [False, True], ids=["activities", "local-activities"])
async def test_fifty_turns_survive_worker_sigkills_at_random_points(
    services, settings, database_url, temporal_server, temporal_client, tmp_path, local_activities
):
    counts = await _probe(services, tmp_path)
    model_log = tmp_path / "model.log"
    env = worker_env(settings, database_url, temporal_server.address, AGENTRT__MODELS__PROFILES=SCRIPTED,
                     AGENTRT_TEST_MODEL_LOG=str(model_log), AGENTRT_TEST_MODEL_DELAY="0.05")
    rng = random.Random(20261123)
    kill_after_turns = sorted(rng.sample(range(3, 47), 5))
    workers = [WorkerProcess(env, tmp_path / "w0.log")]
    workers[0].wait_ready()
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex,
                                 Principal(sub="a"), "scripted",
                                 policy=SessionPolicy(heartbeat_seconds=3, local_activities=local_activities))
    kills = 0
    try:
        for turn in range(50):
            task = asyncio.create_task(send_message(handle, f"/count t{turn}"))
            if kills < len(kill_after_turns) and turn == kill_after_turns[kills]:
                await asyncio.sleep(rng.uniform(0.0, 0.25))  # somewhere inside the turn
                workers[-1].kill()
                kills += 1
                workers.append(WorkerProcess(env, tmp_path / f"w{kills}.log"))
                workers[-1].wait_ready()
            result = await asyncio.wait_for(task, 120)
            assert result.status is TurnStatus.COMPLETED and f"t{turn}" in result.text
    finally:
        for w in workers:
            w.stop()
    await _assert_clean_transcript(services, handle, 50)
    tool_runs = _lines(counts)
    log = _lines(model_log)
    ends = [l for l in log if l.startswith("end ")]
    tool_reruns = len(tool_runs) - 50
    model_reruns = len(ends) - len(set(ends))
    # A re-run can only be of work whose result was not yet stored when its worker died:
    # at most one in-flight call per kill.
    assert set(tool_runs) == {f"t{i}" for i in range(50)}
    assert tool_reruns <= kills and model_reruns <= kills
    mode = "local activities" if local_activities else "activities"
    report(f"faults_sigkill_{mode}", f"worker SIGKILL ({mode}): {kills} kills over 50 turns; 50/50 turns completed, "
                                     f"transcript exact; tool re-runs {tool_reruns}, "
                                     f"completed-model-request re-runs {model_reruns}")


async def test_turns_complete_while_postgres_connections_are_killed(
    services, worker, settings, temporal_client, database_url, tmp_path
):
    counts = await _probe(services, tmp_path)
    db = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = await asyncpg.connect(database_url)
    killed = 0
    stop = asyncio.Event()

    async def killer() -> None:
        nonlocal killed
        while not stop.is_set():
            killed += await admin.fetchval(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()) t", db)
            await asyncio.sleep(0.4)

    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex,
                                 Principal(sub="a"), "offline", policy=SessionPolicy(heartbeat_seconds=5))
    kill_task = asyncio.create_task(killer())
    try:
        for turn in range(12):
            result = await asyncio.wait_for(
                send_message(handle, f'/tool probe_count {{"label": "t{turn}"}}'), 120)
            assert result.status is TurnStatus.COMPLETED and f"t{turn}" in result.text
    finally:
        stop.set()
        await kill_task
        await admin.close()
    assert killed > 0
    assert set(_lines(counts)) == {f"t{i}" for i in range(12)}
    lines = await services.transcript.page(handle.id.split(":", 1)[1], limit=200)
    assert [l.role for l in lines] == ["user", "assistant", "tool", "assistant"] * 12
    report("faults_pg", f"Postgres: {killed} backends terminated during 12 turns; all turns completed, "
                        f"tool re-runs {len(_lines(counts)) - 12}")


@pytest.mark.slow
async def test_session_resumes_after_the_temporal_server_restarts_from_its_sqlite_file(
    services, settings, tmp_path
):
    from runtime.dev.temporal_server import TemporalDevServer

    server = TemporalDevServer(log_path=tmp_path / "t.log", db_file=tmp_path / "temporal.db")
    await server.start()
    port = server.port
    client = await connect_client(settings, server.address)
    async with build_worker(client, services):
        handle = await start_session(client, settings.temporal.task_queue, uuid.uuid4().hex,
                                     Principal(sub="a"), "offline")
        for i in range(3):
            await send_message(handle, f"before {i}")
        server.kill()  # no shutdown: only the SQLite file survives
        restarted = TemporalDevServer(log_path=tmp_path / "t2.log", db_file=tmp_path / "temporal.db", port=port)
        await restarted.start()
        try:
            started = time.monotonic()
            for i in range(3):
                result = await asyncio.wait_for(send_message(handle, f"after {i}"), 120)
                assert result.status is TurnStatus.COMPLETED and f"after {i}" in result.text
            recovered_s = time.monotonic() - started
            status = await session_status(handle)
        finally:
            restarted.stop()
    assert status.turns_completed == 6
    assert await services.transcript.count(handle.id.split(":", 1)[1]) == 12
    report("faults_temporal", f"Temporal restart: session resumed from SQLite, 3 more turns in {recovered_s:.1f}s")


@pytest.mark.parametrize("tamper", ["swap_ciphertext", "swap_wrapped_key", "truncate", "flip", "unknown_kek"])
async def test_tampered_secret_rows_are_rejected_and_only_that_entry_drops_out(
    services, worker, settings, temporal_client, pool, tamper
):
    a = await services.entries.create(domain="vault", owner=EntryOwner("user", owner_sub="a"), title="a",
                                      secrets={"token": "token-of-entry-a-123"})
    b = await services.entries.create(domain="vault", owner=EntryOwner("user", owner_sub="b"), title="b",
                                      secrets={"token": "token-of-entry-b-456"})
    await services.entries.create(domain="notifier", owner=EntryOwner("global"), title="n")
    updates = {
        "swap_ciphertext": "UPDATE secret_values SET ciphertext = (SELECT ciphertext FROM secret_values "
                           "WHERE owner_id = $2), nonce = (SELECT nonce FROM secret_values WHERE owner_id = $2) "
                           "WHERE owner_id = $1",
        "swap_wrapped_key": "UPDATE secret_values SET wrapped_dek = (SELECT wrapped_dek FROM secret_values "
                            "WHERE owner_id = $2) WHERE owner_id = $1",
        "truncate": "UPDATE secret_values SET ciphertext = left(ciphertext, 8) WHERE owner_id = $1 AND $2 <> ''",
        # One base64 character changed, always (swapping 'A'/'B' left a ciphertext without either intact).
        "flip": "UPDATE secret_values SET ciphertext = overlay(ciphertext PLACING CASE WHEN left(ciphertext, 1) "
                "= 'A' THEN 'B' ELSE 'A' END FROM 1 FOR 1) WHERE owner_id = $1 AND $2 <> ''",
        "unknown_kek": "UPDATE secret_values SET kek_id = 'retired' WHERE owner_id = $1 AND $2 <> ''",
    }
    async with pool.acquire() as conn:
        await conn.execute(updates[tamper], a.id, b.id)
        before = await conn.fetch("SELECT * FROM secret_values ORDER BY id")
    with pytest.raises(DecryptionError):
        await services.entries.build_setup_context(a.id)
    assert (await services.entries.build_setup_context(b.id)).secrets["token"] == "token-of-entry-b-456"

    settings.models.profiles["internal"] = ModelProfile(model="offline", tier="internal")
    handle = await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex,
                                 Principal(sub="a"), "internal")
    result = await send_message(handle, "/tool notifier_status {}")
    assert result.status is TurnStatus.COMPLETED and "up" in result.text  # the turn goes on without entry a
    assert (await services.entries.get(a.id)).state is ConfigEntryState.SETUP_ERROR
    async with pool.acquire() as conn:
        assert await conn.fetch("SELECT * FROM secret_values ORDER BY id") == before  # nothing rewritten


async def test_entity_syncs_complete_whole_while_postgres_connections_are_killed(
    services, worker, settings, temporal_client, database_url, tmp_path
):
    import json

    from runtime.entities.types import EntitySyncInput

    control = tmp_path / "things"
    control.mkdir()
    entry = await services.entries.create(domain="things", owner=EntryOwner("global"), title="t",
                                          data={"control_dir": str(control)})
    db = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = await asyncpg.connect(database_url)
    killed, syncs = 0, 0
    stop = asyncio.Event()
    # The check below is not under test: it holds this lock so the killer cannot cut its own query.
    checking = asyncio.Lock()

    async def killer() -> None:
        nonlocal killed
        while not stop.is_set():
            async with checking:
                killed += await admin.fetchval(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()) t", db)
            await asyncio.sleep(0.3)

    kill_task = asyncio.create_task(killer())
    try:
        for round_ in range(5):
            pulled = [{"entity_id": f"light.{i}", "type": "light", "state": f"on-{round_}"}
                      for i in range(round_ * 200, round_ * 200 + 500)]
            (control / "entities.json").write_text(json.dumps(pulled))
            await asyncio.wait_for(temporal_client.execute_workflow(
                "EntitySyncWorkflow", EntitySyncInput(entry_id=entry.id), id=f"sync-{uuid.uuid4().hex}",
                task_queue=settings.temporal.task_queue), 120)
            syncs += 1
            async with checking:
                # A fresh connection: any pooled one may have been terminated while idle.
                conn = await asyncpg.connect(database_url)
                try:
                    rows = await conn.fetch(
                        "SELECT entity_id, state FROM entities WHERE entry_id = $1 AND source = 'pull'", entry.id)
                finally:
                    await conn.close()
            # each sync landed whole: exactly this pull, nothing of a half-written one
            assert {(r["entity_id"], r["state"]) for r in rows} == {(p["entity_id"], p["state"]) for p in pulled}
    finally:
        stop.set()
        await kill_task
        await admin.close()
    assert killed > 0
    report("faults_pg_sync", f"Postgres: {killed} backends terminated during {syncs} full entity syncs of 500 "
                             "entities; every sync landed whole")
