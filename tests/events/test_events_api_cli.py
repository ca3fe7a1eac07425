"""Delivery status per event over HTTP and from the CLI; plugins enabled and disabled from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runtime.api import create_app
from runtime.sessions.client import send_message

from .conftest import ALICE, deliveries_of, wait_for

AGENTRT = str(Path(sys.executable).parent / "agentrt")


def _as(sub: str, *, org: str | None = None, admin: bool = False) -> dict[str, str]:
    return {"X-Agentrt-Principal": sub + (f";org={org}" if org else "") + (";admin" if admin else "")}


@pytest.fixture
async def api(services, temporal_client, settings):
    app = create_app(services, temporal_client, settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agentrt.test",
                                 timeout=60) as client:
        yield client


async def _session_with_delivered_turn(services, enable_plugin, open_session) -> tuple[str, str]:
    config = await enable_plugin("flaky", FAILS=1)
    handle = await open_session(ALICE)
    await send_message(handle, "hello")

    async def delivered():
        rows = await deliveries_of(services.ctx.pool, config.id)
        return rows if rows and rows[0]["status"] == "delivered" else None

    await wait_for(delivered)
    return handle.id.split(":", 1)[1], config.id


async def test_the_owner_sees_each_event_with_its_deliveries_and_nobody_else_does(
    worker, services, enable_plugin, open_session, api
):
    session_id, config_id = await _session_with_delivered_turn(services, enable_plugin, open_session)
    alice = _as("alice", org="acme")
    listed = (await api.get("/api/events", params={"session_id": session_id}, headers=alice)).json()
    assert [e["event"] for e in listed] == ["turn_complete", "final_answer", "message_received", "session_created"]
    [delivery] = listed[0]["deliveries"]
    assert delivery["subscriber"] == f"plugin:{config_id}" and delivery["subscriber_name"] == "flaky"
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert delivery["last_error"] == "ConnectionError: downstream unavailable (attempt 1)"
    one = await api.get(f"/api/events/{listed[0]['id']}", headers=alice)
    assert one.status_code == 200 and one.json()["deliveries"] == listed[0]["deliveries"]

    bob = _as("bob", org="acme")
    assert (await api.get("/api/events", params={"session_id": session_id}, headers=bob)).json()["error"] \
        == "session_not_found"
    hidden = await api.get(f"/api/events/{listed[0]['id']}", headers=bob)
    assert (hidden.status_code, hidden.json()["error"]) == (404, "event_not_found")
    missing = await api.get("/api/events/999999", headers=alice)
    assert (missing.status_code, missing.json()["error"]) == (404, "event_not_found")
    unfiltered = await api.get("/api/events", headers=alice)
    assert (unfiltered.status_code, unfiltered.json()["error"]) == (422, "event_filter_required")
    admin = await api.get("/api/events", params={"type": "turn_complete"}, headers=_as("root", admin=True))
    assert [e["session_id"] for e in admin.json()] == [session_id]


@pytest.fixture
def cli_env(settings, database_url) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env.update({
        "AGENTRT__DATABASE__URL": database_url,
        "AGENTRT__STATE_DIR": str(settings.state_dir),
        "AGENTRT__SECURITY__KEYS": json.dumps({k: v.get_secret_value() for k, v in settings.security.keys.items()}),
        "AGENTRT__SECURITY__ACTIVE_KEK": settings.security.active_kek or "",
        "AGENTRT__LOG_LEVEL": "WARNING",
    })
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AGENTRT, *args], env=env, capture_output=True, text=True, timeout=120)


def test_plugins_are_listed_enabled_and_disabled_from_the_cli(cli_env, distinctive_secret):
    listed = _cli(cli_env, "plugins", "list")
    assert listed.returncode == 0, listed.stderr
    assert "message_logger" in listed.stdout and "webhook_notify" in listed.stdout

    enabled = _cli({**cli_env, "HOOK_KEY": distinctive_secret}, "plugins", "enable", "webhook_notify", "--org", "acme",
                   "--set", "WEBHOOK_URL=http://127.0.0.1:9/hook", "--set", "EVENTS=turn_complete,final_answer",
                   "--secret-env", "SIGNING_KEY=HOOK_KEY")
    assert enabled.returncode == 0, enabled.stderr
    assert "enabled webhook_notify for org acme" in enabled.stdout
    as_json = json.loads(_cli(cli_env, "plugins", "list", "--json").stdout)
    [config] = as_json["configurations"]
    assert (config["plugin_id"], config["scope"], config["org_id"], config["enabled"]) == (
        "webhook_notify", "org", "acme", True)
    assert config["variables"]["EVENTS"] == ["turn_complete", "final_answer"]
    assert config["secret_variables"] == ["SIGNING_KEY"]
    assert all(distinctive_secret not in text for text in (enabled.stdout, enabled.stderr, json.dumps(as_json)))

    refused = _cli(cli_env, "plugins", "enable", "webhook_notify", "--set", "NOPE=1")
    assert refused.returncode == 1 and "plugin_variable_unknown" in refused.stderr
    unknown = _cli(cli_env, "plugins", "enable", "no_such_plugin")
    assert unknown.returncode == 1 and "plugin_not_found" in unknown.stderr

    disabled = _cli(cli_env, "plugins", "disable", "webhook_notify", "--org", "acme")
    assert disabled.returncode == 0, disabled.stderr
    assert json.loads(_cli(cli_env, "plugins", "list", "--json").stdout)["configurations"][0]["enabled"] is False


async def test_event_delivery_status_from_the_cli(worker, services, enable_plugin, open_session, cli_env):
    session_id, config_id = await _session_with_delivered_turn(services, enable_plugin, open_session)
    listed = _cli(cli_env, "events", "list", "--session", session_id, "--json")
    assert listed.returncode == 0, listed.stderr
    turn = next(e for e in json.loads(listed.stdout) if e["event"] == "turn_complete")
    status = _cli(cli_env, "events", "status", str(turn["id"]))
    assert status.returncode == 0, status.stderr
    assert f"event {turn['id']} turn_complete" in status.stdout
    assert "flaky" in status.stdout and "delivered" in status.stdout and f"plugin:{config_id}" in status.stdout
    table = _cli(cli_env, "events", "list", "--session", session_id)
    assert "flaky=delivered" in table.stdout
    assert _cli(cli_env, "events", "status", "999999").returncode == 1
    # Delivered a while ago (as far as the clock is concerned): `events prune` removes it, nothing else.
    async with services.ctx.pool.acquire() as conn:
        await conn.execute("UPDATE events SET delivered_at = now() - interval '40 days' WHERE id = $1", turn["id"])
        total = await conn.fetchval("SELECT count(*) FROM events")
    pruned = _cli(cli_env, "events", "prune", "--older-than-days", "30")
    assert pruned.returncode == 0 and "deleted 1 delivered events older than 30 days" in pruned.stdout, pruned.stderr
    async with services.ctx.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == total - 1
        assert await conn.fetchval("SELECT count(*) FROM events WHERE id = $1", turn["id"]) == 0
