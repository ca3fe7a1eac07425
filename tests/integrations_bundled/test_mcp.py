"""mcp: a local MCP server over stdio and streamable HTTP (secret header), tool listing cached per entry."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runtime.principal import Principal
from runtime.sessions.client import decide_approval, send_message
from runtime.sessions.setup_cache import tool_run_context
from runtime.sessions.types import TurnStatus
from tests.support.leaks import find_leaks, history_corpus

from .mcp_server import SECRET_ENV, count_methods, serve_http
from .support import assert_error_keys_translated, assert_form_spec_valid, assert_masked_round_trip

ALICE = Principal(sub="alice", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)
SERVER_SCRIPT = Path(__file__).with_name("mcp_server.py")
HEADER = "X-Api-Key"


def _config_cls() -> Any:
    import importlib

    return importlib.import_module("agentrt_integrations.mcp.config").McpConfig


def stdio_data(count_file: Path) -> dict[str, Any]:
    return {"transport": "stdio", "command": sys.executable,
            "args": shlex.join([str(SERVER_SCRIPT), "--count-file", str(count_file)]),
            "secret_env_var": SECRET_ENV}


@pytest.fixture
def count_file(tmp_path) -> Path:
    return tmp_path / "methods.log"


@pytest.fixture
def http_mcp(count_file, distinctive_secret):
    server = serve_http(count_file, HEADER, distinctive_secret)
    yield server
    server.stop()


def http_data(server: Any) -> dict[str, Any]:
    return {"transport": "http", "url": server.url, "header_name": HEADER}


async def _turn_with_approval(handle: Any, text: str) -> Any:
    held = await send_message(handle, text)
    assert held.status is TurnStatus.AWAITING_APPROVAL, held
    [pending] = held.pending_approvals
    assert pending.approval_reason == "untrusted_integration"
    return await decide_approval(handle, pending.tool_call_id, approve=True)


# -- model and form ----------------------------------------------------------------------

@pytest.mark.parametrize(("values", "key"), [
    ({"transport": "http"}, "url_required"),
    ({"transport": "http", "url": "ftp://x.example/mcp"}, "invalid_url"),
    ({"transport": "stdio"}, "command_required"),
    ({"transport": "stdio", "command": "srv", "args": "'unclosed"}, "invalid_args"),
    ({"transport": "stdio", "command": "srv", "secret": "s3cret-value"}, "secret_env_var_required"),
])
def test_config_model_names_what_is_missing(registry, values, key):
    with pytest.raises(ValidationError) as caught:
        _config_cls().model_validate(values)
    assert key in str(caught.value) and "s3cret-value" not in str(caught.value)


def test_config_model_accepts_both_transports(registry):
    McpConfig = _config_cls()
    http = McpConfig.model_validate({"url": "https://mcp.example/mcp", "secret": "tok"})
    assert http.transport == "http" and http.header_name == "Authorization" and http.secret_value == "tok"
    stdio = McpConfig.model_validate({"transport": "stdio", "command": "srv", "args": "--root '/a b' -v"})
    assert stdio.argv == ["--root", "/a b", "-v"]
    with pytest.raises(ValidationError):
        McpConfig.model_validate({"url": "https://x.example", "header_name": "Bad Header"})


async def test_form_spec_is_valid_and_translated(registry, flow_manager):
    loaded = registry.get("mcp")
    fields = {f.name: f for f in assert_form_spec_valid(loaded)}
    assert fields["secret"].type == "secret" and not fields["secret"].required
    assert [o.value for o in fields["transport"].options] == ["http", "stdio"]
    assert loaded.manifest.trust_tier == "untrusted" and loaded.manifest.single_instance is False
    assert_error_keys_translated(loaded, ["url_required", "invalid_url", "command_required", "invalid_args",
                                          "secret_env_var_required", "stdio_needs_admin", "cannot_connect",
                                          "private_network_needs_admin", "no_tools"])
    form = await flow_manager.start("mcp", ALICE)
    assert form.title == "Connect an MCP server" and {f.name: f.label for f in form.fields}["secret"] == "Secret"


# -- flow and entry ------------------------------------------------------------------------

async def test_flow_connects_before_creating_and_keeps_commands_for_admins(
    flow_manager, services, http_mcp, count_file, distinctive_secret, captured_logs
):
    form = await flow_manager.start("mcp", ALICE)
    stdio = await flow_manager.submit(form.flow_id, stdio_data(count_file), ALICE)
    assert stdio.errors["base"].key == "stdio_needs_admin"
    loopback = await flow_manager.submit(form.flow_id, {**http_data(http_mcp), "secret": distinctive_secret}, ALICE)
    assert loopback.errors["base"].key == "private_network_needs_admin"

    admin_form = await flow_manager.start("mcp", ADMIN, scope="global")
    wrong = await flow_manager.submit(admin_form.flow_id, {**http_data(http_mcp), "secret": "wrong-secret"}, ADMIN)
    assert wrong.errors["base"].key == "cannot_connect" and http_mcp.seen.rejected >= 1
    done = await flow_manager.submit(admin_form.flow_id, {**http_data(http_mcp), "secret": distinctive_secret}, ADMIN)
    assert done.type == "create_entry" and done.title == http_mcp.url
    entry = await services.entries.get(done.entry_id)
    assert entry.secret_fields == ["secret"] and "secret" not in entry.data
    await assert_masked_round_trip(services.entries, entry.id, "secret", distinctive_secret, {"timeout_seconds": 20})
    assert distinctive_secret not in captured_logs.getvalue()


async def test_stdio_server_gets_its_secret_in_the_environment_and_stops_on_unload(
    make_entry, services, count_file, distinctive_secret
):
    entry = await make_entry("mcp", "global", data=stdio_data(count_file), secrets={"secret": distinctive_secret})
    set_up = await services.setup_cache.get(entry)
    assert sorted(set_up.tools) == ["add", "echo_auth", "shout", "token_length"]
    toolset, tool = set_up.tools["token_length"]
    assert await toolset.call_tool("token_length", {}, tool_run_context(), tool) == len(distinctive_secret)
    toolset, tool = set_up.tools["add"]
    for i in range(3):
        assert await toolset.call_tool("add", {"a": 2, "b": i}, tool_run_context(), tool) == 2 + i
    assert count_methods(count_file, "tools/list") == 1 and count_methods(count_file, "tools/call") == 4

    transport = services.registry.get("mcp").integration._open[id(set_up.ctx)][1].transport
    await services.setup_cache.close()
    assert transport._connect_task is None  # the subprocess was told to stop and awaited
    assert services.registry.get("mcp").integration._open == {}


async def test_user_scoped_stdio_entry_written_around_the_flow_does_not_set_up(make_entry, services, count_file):
    entry = await make_entry("mcp", "user", owner_sub="alice", data=stdio_data(count_file))
    from runtime.sessions.setup_cache import EntrySetupError

    with pytest.raises(EntrySetupError):
        await services.setup_cache.get(entry)
    assert not count_file.exists()  # the command never started
    assert (await services.entries.get(entry.id)).state.value == "setup_error"


# -- sessions --------------------------------------------------------------------------------

async def test_session_lists_mcp_tools_once_across_many_model_requests(
    worker, make_entry, open_session, recorder, http_mcp, count_file, distinctive_secret
):
    await make_entry("mcp", "global", data=http_data(http_mcp), secrets={"secret": distinctive_secret})
    handle = await open_session(ALICE)
    for i in range(3):
        done = await _turn_with_approval(handle, f'/tool mcp_add {{"a": {i}, "b": 10}}')
        assert done.status is TurnStatus.COMPLETED and f"mcp_add returned: {i + 10}" in done.text
    await send_message(handle, "/tools")
    second = await open_session(ALICE)
    shouted = await _turn_with_approval(second, '/tool mcp_shout {"text": "durable"}')
    assert "DURABLE!" in shouted.text

    assert len(recorder.requests) == 9  # 4 turns with a tool call (2 requests each) + one /tools turn
    assert count_methods(count_file, "tools/list") == 1  # one setup, however many model requests
    assert count_methods(count_file, "tools/call") == 4
    add = recorder.definition("mcp_add", 0)
    assert add.description == "Add two integers."
    assert add.parameters_json_schema["required"] == ["a", "b"]
    assert recorder.names(0) == ["mcp_add", "mcp_echo_auth", "mcp_shout", "mcp_token_length"]


async def test_secret_header_reaches_the_server_but_no_history_log_or_result(
    worker, make_entry, open_session, http_mcp, distinctive_secret, temporal_client, settings, captured_logs, services
):
    entry = await make_entry("mcp", "global", data=http_data(http_mcp), secrets={"secret": distinctive_secret})
    handle = await open_session(ALICE)
    echoed = await _turn_with_approval(handle, "/tool mcp_echo_auth {}")
    assert http_mcp.seen.last_auth == distinctive_secret  # the header was sent
    assert "you sent: [REDACTED]" in echoed.text  # and the server's echo of it was scrubbed

    corpus, workflows = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    assert workflows >= 1 and "you sent" in corpus
    assert find_leaks([distinctive_secret], corpus) == []
    assert find_leaks([distinctive_secret], captured_logs.getvalue()) == []
    async with services.ctx.pool.acquire() as conn:
        transcript = await conn.fetchval("SELECT string_agg(message::text, ' ') FROM session_messages")
    assert "[REDACTED]" in transcript and distinctive_secret not in transcript
    assert (await services.entries.read_masked(entry.id))["secrets"] == {"secret": "••••"}


async def test_stdio_session_lists_tools_once(worker, make_entry, open_session, count_file, distinctive_secret):
    await make_entry("mcp", "global", data=stdio_data(count_file), secrets={"secret": distinctive_secret})
    handle = await open_session(ALICE)
    for text in ("first", "second"):
        done = await _turn_with_approval(handle, f'/tool mcp_shout {{"text": "{text}"}}')
        assert f"{text.upper()}!" in done.text
    length = await _turn_with_approval(handle, "/tool mcp_token_length {}")
    assert f"returned: {len(distinctive_secret)}" in length.text
    assert count_methods(count_file, "tools/list") == 1
