"""`agentrt dev` as a user runs it: no configuration, real embedded Postgres, real Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from temporalio.client import Client

AGENTRT = str(Path(sys.executable).parent / "agentrt")


def _clean_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env["AGENTRT__STATE_DIR"] = str(state_dir)
    env["AGENTRT__TEMPORAL__UI"] = "false"
    return env


pytestmark = pytest.mark.slow


def test_dev_check_runs_a_workflow_and_a_query_with_no_configuration(tmp_path):
    result = subprocess.run(
        [AGENTRT, "dev", "--check"], env=_clean_env(tmp_path), capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "check ok: workflow smoke-" in result.stdout
    assert "Postgres 18" in result.stdout  # the embedded server, not the one on 5432
    assert re.search(r"API \+ console +http://127\.0\.0\.1:\d+/", result.stdout), result.stdout
    assert (tmp_path / "temporal.db").exists() and (tmp_path / "pgdata" / "PG_VERSION").exists()
    assert (tmp_path / "temporal.log").exists() and (tmp_path / "pgdata" / "log").exists()
    assert not (tmp_path / "stack.json").exists()  # removed on exit


async def _workflow_ids(address: str) -> set[str]:
    client = await Client.connect(address)
    return {wf.id async for wf in client.list_workflows("WorkflowType = 'SmokeWorkflow'")}


def test_ctrl_c_stops_everything_and_state_survives_a_restart(tmp_path):
    env = _clean_env(tmp_path)
    first = subprocess.run([AGENTRT, "dev", "--check"], env=env, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr[-3000:]
    first_id = first.stdout.split("check ok: workflow ")[1].split()[0]

    proc = subprocess.Popen([AGENTRT, "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line or not line:
                break
        assert any("Temporal frontend" in l for l in lines), lines
        stack = json.loads((tmp_path / "stack.json").read_text())
        # The API and console are served by the stack at the URL it printed (and wrote to stack.json).
        [printed] = [l.split()[-1] for l in lines if "API + console" in l]
        assert printed == stack["api_url"], (printed, stack)
        health = httpx.get(printed + "healthz", timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert httpx.get(printed + "readyz", timeout=10).json()["status"] == "ready"
        assert "agentrt console" in httpx.get(printed, timeout=10).text
        children = psutil.Process(proc.pid).children(recursive=True)
        # The first run's workflow is still in the SQLite-backed dev server after a restart.
        assert first_id in asyncio.run(_workflow_ids(stack["temporal_address"]))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], [c.name() for c in alive]
    assert not (tmp_path / "stack.json").exists()
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()  # embedded Postgres shut down cleanly
