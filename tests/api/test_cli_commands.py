"""The new CLI commands as a user runs them: a real terminal (pexpect) against this test's database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from runtime.principal import Principal

REPO = Path(__file__).resolve().parents[2]
AGENTRT = str(Path(sys.executable).parent / "agentrt")


@pytest.fixture
def cli_env(settings, database_url) -> dict[str, str]:
    """Environment that points the CLI at this test's database and key ring, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env.update({
        "AGENTRT__DATABASE__URL": database_url,
        "AGENTRT__STATE_DIR": str(settings.state_dir),
        "AGENTRT__SECURITY__KEYS": json.dumps({k: v.get_secret_value() for k, v in settings.security.keys.items()}),
        "AGENTRT__SECURITY__ACTIVE_KEK": settings.security.active_kek or "",
        "AGENTRT__LOG_LEVEL": "WARNING",
        "TERM": "dumb",
    })
    return env


def _spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    child = pexpect.spawn(AGENTRT, args, env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
    child.logfile_read = transcript = _Transcript()
    child.transcript = transcript  # type: ignore[attr-defined]
    return child


class _Transcript:
    """Everything the terminal showed (what a user would see), for asserting what never appears."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def flush(self) -> None:
        pass

    def __str__(self) -> str:
        return "".join(self.parts)


async def test_entries_add_runs_the_flow_in_a_terminal(cli_env, services, distinctive_secret):
    child = _spawn(["entries", "add", "myservice", "--user", "alice"], cli_env)
    child.expect("== Connect My Service ==")
    child.expect(r"Base URL: ")
    child.sendline("not a url")
    child.expect(r"API key: ")
    child.sendline(distinctive_secret)
    child.expect("Enter an absolute URL")  # the server's error, translated, then the form again
    child.expect(r"Base URL \[not a url\]: ")
    child.sendline("https://myservice.example.com")
    child.expect(r"API key \(Enter keeps what you typed before\): ")
    child.sendline("")
    child.expect(r"created entry ([0-9a-f]{32}) \(https://myservice.example.com\)")
    entry_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert distinctive_secret not in str(child.transcript)  # hidden input: never echoed
    ctx = await services.entries.build_setup_context(entry_id)
    assert ctx.owner_sub == "alice" and ctx.secrets["api_key"] == distinctive_secret

    listed = subprocess.run([AGENTRT, "entries", "list", "--user", "alice"], env=cli_env, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert entry_id in listed.stdout and "api_key=••••" in listed.stdout
    assert distinctive_secret not in listed.stdout + listed.stderr
    other = subprocess.run([AGENTRT, "entries", "list", "--user", "bob", "--json"], env=cli_env,
                           capture_output=True, text=True, timeout=60)
    assert json.loads(other.stdout) == []


async def test_ctrl_c_in_entries_add_saves_nothing(cli_env, services, pool):
    child = _spawn(["entries", "add", "myservice", "--user", "carol"], cli_env)
    child.expect(r"Base URL: ")
    child.sendline("https://myservice.example.com")
    child.expect(r"API key: ")
    child.sendintr()
    child.expect("cancelled; nothing was saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert await services.entries.list_for_principal(Principal(sub="carol")) == []
    assert await pool.fetchval("SELECT count(*) FROM config_flows") == 0  # the half-done flow is gone too


def test_integrations_list_shows_load_status_and_policy(cli_env):
    table = subprocess.run([AGENTRT, "integrations", "list"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["DOMAIN", "NAME", "VERSION", "STATUS", "ENABLED", "SCOPES",
                                                    "TRUST", "TIER", "FLOW"]
    rows = json.loads(subprocess.run([AGENTRT, "integrations", "list", "--json"], env=cli_env, capture_output=True,
                                     text=True, timeout=60).stdout)
    myservice = next(r for r in rows if r["domain"] == "myservice")
    assert myservice["status"] == "loaded" and myservice["enabled"] and myservice["config_flow"]
    bundled = {p.parent.name for p in (REPO / "integrations").glob("*/manifest.yaml")}
    assert {"text_tools", "http_fetch", "mcp", "openapi", "postgres_query", "ical", "notes"} <= bundled
    assert {r["domain"]: r["status"] for r in rows if r["domain"] in bundled} == {d: "loaded" for d in bundled}


@pytest.mark.parametrize("command", [[], ["api"], ["integrations", "list"], ["entries", "add"], ["entries", "list"],
                                     ["token"]])
def test_every_command_has_help(command):
    result = subprocess.run([AGENTRT, *command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: agentrt"), result.stderr


def test_token_needs_a_positive_ttl(cli_env):
    result = subprocess.run([AGENTRT, "token", "--sub", "x", "--ttl", "0"], env=cli_env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "positive" in result.stderr and result.stdout == ""


def test_agentrt_api_serves_until_interrupted(cli_env, temporal_server):
    import signal

    import httpx

    env = {**cli_env, "AGENTRT__TEMPORAL__ADDRESS": temporal_server.address, "AGENTRT__LOG_LEVEL": "INFO"}
    proc = subprocess.Popen([AGENTRT, "api", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("agentrt API on http://127.0.0.1:"), line
        url = line.split()[3]
        assert httpx.get(url + "healthz", timeout=10).json() == {"status": "ok"}
        ready = httpx.get(url + "readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        me = httpx.get(url + "api/me", headers={"X-Agentrt-Principal": "alice"}, timeout=10)
        assert me.json()["sub"] == "alice"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
