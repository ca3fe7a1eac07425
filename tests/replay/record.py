"""Record one history per workflow scenario into tests/replay/histories/ (run: python -m tests.replay.record).

``python -m tests.replay.record WORKFLOW_ID ...`` runs every scenario but writes only those
workflow ids' histories (e.g. ``replay-entity-sync``), leaving the other files alone.

Re-record when a workflow change is *meant* to be incompatible (and bump it behind
``workflow.patched``); otherwise the replay test must keep passing against these files.
Uses AGENTRT__DATABASE__URL when set, else an embedded Postgres in a temp dir.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

from runtime.context import RuntimeContext
from runtime.crypto import KeyRing
from runtime.db.pool import url_with_database
from runtime.dev.postgres_server import EmbeddedPostgres
from runtime.dev.temporal_server import TemporalDevServer
from runtime.entities import deliveries
from runtime.entities.types import EntitySyncInput, WebhookInput
from runtime.events.types import completion_workflow_id, delivery_workflow_id, dispatcher_workflow_id
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.services import Services
from runtime.sessions.client import decide_approval, send_message, start_session
from runtime.sessions.types import SessionPolicy
from runtime.settings import Settings
from runtime.temporal import build_worker, connect_client

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).parent / "histories"


async def _session_scenario(client, services, task_queue: str, session_id: str = "replay-session",
                            policy: SessionPolicy | None = None) -> str:
    """Turns with a tool, an approved and a denied call. ``replay-session`` runs them as activities
    (the policy every session had before local activities), ``replay-session-local`` as local ones."""
    if session_id == "replay-session":
        await services.entries.create(domain="probe", owner=EntryOwner("global"), title="probe",
                                      data={"count_file": str(Path(tempfile.gettempdir()) / "replay-probe.count")})
        await services.entries.create(domain="sketchy", owner=EntryOwner("global"), title="sketchy", data={})
    handle = await start_session(client, task_queue, session_id, Principal(sub="alice"), "offline", policy=policy)
    await send_message(handle, "hello")
    await send_message(handle, '/tool probe_echo {"text": "hi"}')
    held = await send_message(handle, '/tool sketchy_fetch {"url": "http://x.test"}')
    await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=True)
    held = await send_message(handle, '/tool sketchy_fetch {"url": "http://y.test"}')
    await decide_approval(handle, held.pending_approvals[0].tool_call_id, approve=False, reason="no")
    await handle.signal("end")
    await handle.result()
    return handle.id


async def _flow_scenario(client, task_queue: str) -> str:
    handle = await start_session(client, task_queue, "replay-flow", Principal(sub="alice"), "offline", flow="intake")
    await send_message(handle, "/tool start_booking {}")
    await send_message(handle, '/tool record_details {"name": "Ann", "age": -1}')
    await send_message(handle, '/tool record_details {"name": "Ann", "age": 34}')
    await handle.result()  # the confirm node's post action ends the session
    return handle.id


async def _entity_scenarios(client, services, task_queue: str, control: Path) -> list[str]:
    """A first sync of a ``things`` entry (check, seed, pull), then one webhook delivery."""
    control.mkdir(exist_ok=True)
    (control / "entities.json").write_text(json.dumps(
        [{"entity_id": "light.hall", "type": "light", "state": "off", "actions": ["turn_on", "turn_off"]}]))
    entry = await services.entries.create(domain="things", owner=EntryOwner("global"), title="things",
                                          data={"control_dir": str(control)})
    sync = await client.start_workflow("EntitySyncWorkflow", EntitySyncInput(entry_id=entry.id),
                                       id="replay-entity-sync", task_queue=task_queue)
    await sync.result()
    delivery_id = await deliveries.insert(services.ctx.pool, entry.id, {"entities": [
        {"entity_id": "light.hall", "type": "light", "state": "on", "actions": ["turn_on", "turn_off"]}]})
    webhook = await client.start_workflow("EntityWebhookWorkflow",
                                          WebhookInput(entry_id=entry.id, delivery_id=delivery_id),
                                          id="replay-entity-webhook", task_queue=task_queue)
    await webhook.result()
    return [sync.id, webhook.id]


async def _events_scenario(client, services, task_queue: str, out: Path) -> list[tuple[str, str]]:
    """A session whose events reach the message_logger plugin, then its completion (one ok, one failed).

    Returns (workflow id, file stem) pairs: the delivery workflow's id holds a generated config id.
    """
    out.mkdir(exist_ok=True)
    manifest = services.plugins.get("message_logger").manifest
    config = await services.plugin_configs.configure(manifest, EntryOwner("global"))
    for domain in ("watcher", "grumpy"):  # one completion that succeeds, one that fails every attempt
        await services.entries.create(domain=domain, owner=EntryOwner("global"), title=domain,
                                      data={"out_dir": str(out)})
    handle = await start_session(client, task_queue, "replay-events", Principal(sub="alice"), "offline")
    await send_message(handle, "hello events")
    await handle.signal("end")
    await handle.result()
    completion = client.get_workflow_handle(completion_workflow_id("replay-events"))
    await completion.result()
    delivery = client.get_workflow_handle(
        delivery_workflow_id(task_queue, f"plugin:{config.id}", "session:replay-events"))
    await delivery.result()  # idles out (idle_seconds) once both events are delivered
    return [(delivery.id, "replay-event-delivery"), (completion.id, "replay-session-completion"),
            (dispatcher_workflow_id(task_queue), "replay-events-dispatcher")]


async def _smoke_scenario(client, task_queue: str) -> str:
    handle = await client.start_workflow("SmokeWorkflow", id="replay-smoke", task_queue=task_queue)
    await handle.result()
    return handle.id


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        pg = None
        server_url = os.environ.get("AGENTRT__DATABASE__URL")
        if not server_url:
            pg = EmbeddedPostgres(tmp_path / "pg", database="postgres")
            server_url = await pg.start()
        name = f"agentrt_replay_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        temporal = TemporalDevServer(log_path=tmp_path / "temporal.log")
        await temporal.start()
        ring = KeyRing.generate("replay")
        settings = Settings(state_dir=tmp_path, temporal={"task_queue": "replay"},
                            security={"keys": {"replay": base64.b64encode(ring.get("replay")).decode()}},
                            events={"idle_seconds": 1, "sweep_seconds": 5})
        try:
            ctx = await RuntimeContext.open(settings, url_with_database(server_url, name))
            registry = discover_dirs([REPO / "integrations", REPO / "tests" / "fixtures" / "integrations",
                                      REPO / "tests" / "events" / "fixtures" / "integrations"])
            from runtime.flows import FlowRegistry
            from tests.flows.defs import all_flows

            services = await Services.start(ctx, registry=registry, flows=FlowRegistry(all_flows()))
            client = await connect_client(settings, temporal.address)
            async with build_worker(client, services):
                ids = [
                    await _session_scenario(client, services, "replay", policy=SessionPolicy()),
                    await _session_scenario(client, services, "replay", "replay-session-local"),
                    await _flow_scenario(client, "replay"),
                    await _smoke_scenario(client, "replay"),
                    *await _entity_scenarios(client, services, "replay", tmp_path / "things"),
                ]
            named = [(i, i.replace(":", "_")) for i in ids]
            # A task queue of its own, so the dispatcher's history holds this scenario's rounds only.
            async with build_worker(client, services, task_queue="replay-events"):
                named += await _events_scenario(client, services, "replay-events", tmp_path / "events")
                OUT.mkdir(parents=True, exist_ok=True)
                wanted = set(sys.argv[1:])
                for workflow_id, stem in named:
                    if wanted and workflow_id not in wanted and stem not in wanted:
                        continue
                    # The dispatcher never ends: it is recorded as far as it got (a partial history replays).
                    history = await client.get_workflow_handle(workflow_id).fetch_history()
                    path = OUT / f"{stem}.json"
                    path.write_text(history.to_json())
                    print(f"recorded {path.relative_to(REPO)} ({len(history.events)} events)")
            await services.close()
            await ctx.close()
        finally:
            temporal.stop()
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            if pg:
                pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
