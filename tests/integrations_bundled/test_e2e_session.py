"""One session, five bundled integrations: http_fetch, mcp (approved: it is untrusted), postgres_query
(internal profile only), ical and notes (writes wait for approval beside an untrusted source), through the
in-process worker against real Postgres and Temporal."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from runtime.entities.store import EntityStore
from runtime.principal import Principal
from runtime.sessions.client import decide_approval, send_message
from runtime.sessions.types import TurnStatus
from tests.support.leaks import find_leaks, history_corpus

from .mcp_server import count_methods, serve_http
from .test_ical import team_calendar

ALICE = Principal(sub="alice", org_id="acme")
PAGE = (b"<html><head><title>Runbook</title><script>steal()</script></head>"
        b"<body><h1>Deploy</h1><p>Run   the <em>migrations</em> first.</p></body></html>")


@pytest.fixture
def site(http_server):
    def page(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(PAGE)))
        handler.end_headers()
        handler.wfile.write(PAGE)

    return http_server({"/runbook": page})


@pytest.fixture
def mcp_http(tmp_path, distinctive_secret):
    count_file = tmp_path / "mcp-methods.log"
    server = serve_http(count_file, "X-Api-Key", distinctive_secret)
    yield server, count_file
    server.stop()


@pytest.fixture
async def sales_db(database_url) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("""CREATE TABLE invoices (id int PRIMARY KEY, customer text, total numeric(10, 2));
                              INSERT INTO invoices VALUES (1, 'acme', 120.00), (2, 'globex', 80.50), (3, 'acme', 9.99)""")
    finally:
        await conn.close()
    return database_url


@pytest.fixture
async def entries(make_entry, site, mcp_http, sales_db, tmp_path, distinctive_secret):
    from datetime import datetime, timezone

    ics = tmp_path / "team.ics"
    ics.write_text(team_calendar(datetime.now(timezone.utc).date()))
    mcp, _ = mcp_http
    db_password = distinctive_secret[::-1] + "-db"
    return {
        "http_fetch": await make_entry("http_fetch", "global", data={"allowed_domains": "127.0.0.1",
                                                                     "allow_private_networks": True}),
        "mcp": await make_entry("mcp", "global", data={"transport": "http", "url": mcp.url, "header_name": "X-Api-Key"},
                                secrets={"secret": distinctive_secret}),
        # The server trusts local connections; the password still travels as the entry's secret.
        "postgres_query": await make_entry("postgres_query", "global", data={"database_url": sales_db},
                                           secrets={"password": db_password}),
        "ical": await make_entry("ical", "global", data={"file_path": str(ics)}),
        "notes": await make_entry("notes", "user", owner_sub="alice"),
        "db_password": db_password,
    }


def _schema(definition: Any) -> dict[str, Any]:
    return definition.parameters_json_schema


async def test_one_session_uses_fetch_mcp_sql_calendar_and_notes_tools(
    worker, entries, open_session, recorder, site, mcp_http, distinctive_secret, temporal_client, settings,
    captured_logs, services,
):
    mcp, count_file = mcp_http
    handle = await open_session(ALICE, "internal")

    # 1. http_fetch: trusted, runs at once; the page comes back as clean text.
    fetched = await send_message(handle, f'/tool http_fetch_url {{"url": "{site.base_url}/runbook"}}')
    assert fetched.status is TurnStatus.COMPLETED
    assert "Run the migrations first." in fetched.text and "steal" not in fetched.text

    # What the model was offered on its first request: every bundled tool these entries give.
    offered = recorder.names(0)
    assert {"http_fetch_url", "mcp_add", "mcp_shout", "postgres_query_run", "postgres_query_list_tables",
            "ical_list_events", "notes_create", "notes_search", "notes_delete"} <= set(offered)
    assert _schema(recorder.definition("http_fetch_url", 0))["required"] == ["url"]
    assert _schema(recorder.definition("mcp_add", 0))["properties"].keys() == {"a", "b"}
    assert recorder.definition("mcp_add", 0).description == "Add two integers."
    sql_schema = _schema(recorder.definition("postgres_query_run", 0))
    assert sql_schema["required"] == ["sql"] and "max_rows" in sql_schema["properties"]
    assert "read-only" in (recorder.definition("postgres_query_run", 0).description or "")
    assert "query" in _schema(recorder.definition("ical_list_events", 0))["properties"]

    # 2. mcp: untrusted, so the call waits; approved, it runs on the server.
    held = await send_message(handle, '/tool mcp_add {"a": 40, "b": 2}')
    assert held.status is TurnStatus.AWAITING_APPROVAL
    [pending] = held.pending_approvals
    assert (pending.tool_name, pending.approval_reason) == ("mcp_add", "untrusted_integration")
    assert count_methods(count_file, "tools/call") == 0
    added = await decide_approval(handle, pending.tool_call_id, approve=True)
    assert added.status is TurnStatus.COMPLETED and "mcp_add returned: 42" in added.text

    # 3. postgres_query: read-only SQL on the real database; a write is refused with a clear error.
    summed = await send_message(
        handle, '/tool postgres_query_run {"sql": "SELECT customer, sum(total) AS total FROM invoices '
                'GROUP BY customer ORDER BY customer"}')
    assert summed.status is TurnStatus.COMPLETED
    result = json.loads(summed.text.split("postgres_query_run returned: ", 1)[1])
    assert result["columns"] == ["customer", "total"] and result["rows"] == [["acme", "129.99"], ["globex", "80.50"]]
    refused = await send_message(handle, '/tool postgres_query_run {"sql": "UPDATE invoices SET total = 0"}')
    assert "not_read_only" in refused.text

    # 4. ical: the calendar's events, filtered.
    events = await send_message(handle, '/tool ical_list_events {"query": "launch", "days": 7}')
    assert "Product launch" in events.text and "Room 1, second floor" in events.text

    # 5. notes: with an untrusted source (mcp) in the run, writing a note waits for the user.
    held = await send_message(handle, '/tool notes_create {"title": "Invoices", "body": "acme owes 129.99"}')
    assert held.status is TurnStatus.AWAITING_APPROVAL
    [pending] = held.pending_approvals
    assert (pending.tool_name, pending.approval_reason) == ("notes_create", "high_privilege_with_untrusted_source")
    written = await decide_approval(handle, pending.tool_call_id, approve=True)
    assert written.status is TurnStatus.COMPLETED and "notes_create returned" in written.text
    found = await send_message(handle, '/tool notes_search {"query": "acme"}')
    assert "acme owes 129.99" in found.text
    assert [e.state for e in await EntityStore(services.ctx.pool).list_entities(entries["notes"].id)] == ["Invoices"]

    # The MCP server was listed once for all of those model requests.
    assert len(recorder.requests) == 14 and count_methods(count_file, "tools/list") == 1

    # A cheap (unregulated) profile in the same setup: no SQL, the rest unchanged.
    cheap = await open_session(ALICE, "cheap")
    await send_message(cheap, "/tools")
    assert not any(n.startswith("postgres_query") for n in recorder.names(-1))
    assert {"http_fetch_url", "mcp_add", "ical_list_events"} <= set(recorder.names(-1))

    # No secret of any entry in Temporal history or the logs.
    corpus, workflows = await history_corpus(temporal_client, f"TaskQueue = '{settings.temporal.task_queue}'")
    assert workflows >= 2 and "Run the migrations first." in corpus
    secrets = [distinctive_secret, entries["db_password"]]
    assert find_leaks(secrets, corpus) == [] and find_leaks(secrets, captured_logs.getvalue()) == []
