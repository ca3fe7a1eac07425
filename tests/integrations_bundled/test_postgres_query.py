"""postgres_query on the real Postgres: reads work; writes, DDL and several statements fail; caps and timeouts hold."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from runtime.principal import Principal
from runtime.sessions.client import send_message
from runtime.sessions.setup_cache import tool_run_context
from runtime.sessions.types import TurnStatus

from .support import assert_error_keys_translated, assert_form_spec_valid, assert_masked_round_trip

ALICE = Principal(sub="alice", org_id="acme")
ADMIN = Principal(sub="root", org_id="acme", is_admin=True)


@pytest.fixture
async def sales_db(database_url) -> str:
    """The test's own database with an ``orders`` table of 30 rows."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("""
            CREATE SCHEMA sales;
            CREATE TABLE sales.orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10, 2), placed date);
            INSERT INTO sales.orders SELECT i, 'customer ' || (i % 4), i * 1.5, date '2026-01-01' + i
              FROM generate_series(1, 30) AS i;
            CREATE SEQUENCE sales.order_ids;
        """)
    finally:
        await conn.close()
    return database_url


async def _order_count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM sales.orders")
    finally:
        await conn.close()


def _module(name: str) -> Any:
    import importlib

    return importlib.import_module(f"agentrt_integrations.postgres_query.{name}")


@pytest.fixture
def tools(make_entry, services, sales_db):
    """Set the entry up through the worker's setup cache; call its tools like the call_tool activity does."""
    async def set_up(**data: Any):
        entry = await make_entry("postgres_query", "global", data={"database_url": sales_db, **data})
        set_up_entry = await services.setup_cache.get(entry)

        async def call(tool_name: str, /, **args: Any) -> Any:
            toolset, tool = set_up_entry.tools[tool_name]
            return await toolset.call_tool(tool_name, args, tool_run_context(tool_name), tool)

        return call

    return set_up


async def _failure_key(call: Any, sql: str, **args: Any) -> str:
    with pytest.raises(_module("runner").QueryFailed) as caught:
        await call("postgres_query_run", sql=sql, **args)
    return caught.value.key


# -- model, SQL check, form ------------------------------------------------------------------

@pytest.mark.parametrize(("url", "key"), [
    ("mysql://db/x", "invalid_database_url"),
    ("postgresql://reader:hunter2-pw@db.example/x", "password_in_url"),
    ("postgresql://reader@db.example/x?options=-c%20default_transaction_read_only%3Doff", "unsupported_url_option"),
    ("postgresql://reader@db.example/x?password=p", "unsupported_url_option"),
    ("postgresql:///x", "invalid_database_url"),
])
def test_config_model_refuses_urls_that_carry_secrets_or_options(registry, url, key):
    with pytest.raises(ValidationError) as caught:
        _module("config").PostgresQueryConfig.model_validate({"database_url": url})
    assert key in str(caught.value) and "hunter2-pw" not in str(caught.value)


def test_config_model_accepts_host_and_socket_urls(registry):
    Config = _module("config").PostgresQueryConfig
    socket = Config.model_validate({"database_url": "postgresql://postgres:@/db?host=/tmp/pg", "password": "pw"})
    assert socket.password_value == "pw" and socket.max_rows == 200 and socket.statement_timeout_ms == 5000
    assert Config.model_validate({"database_url": "postgres://r@db:5432/x?sslmode=require"}).password is None
    with pytest.raises(ValidationError):
        Config.model_validate({"database_url": "postgresql://r@db/x", "max_rows": 0})


@pytest.mark.parametrize("sql", [
    "SELECT 1", "select ';' as semi;", "-- a comment; with a semicolon\nSELECT 1", "/* x; /* nested; */ */ SELECT 1",
    "WITH x AS (SELECT 1) SELECT * FROM x;", "SELECT $$a;b$$, $tag$;$tag$", "SELECT E'it\\'s;'", 'SELECT 1 AS ";"',
    "EXPLAIN SELECT 1", "show statement_timeout", "VALUES (1), (2)", "TABLE sales.orders",
])
def test_sql_check_accepts_one_reading_statement(registry, sql):
    assert _module("sql_check").check_sql(sql) == sql.strip()


@pytest.mark.parametrize(("sql", "key"), [
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("SELECT 1; DROP TABLE sales.orders", "multiple_statements"),
    ("SELECT ';'; DELETE FROM t", "multiple_statements"),
    ("INSERT INTO t VALUES (1)", "not_read_only"),
    ("update t set a = 1", "not_read_only"),
    ("  -- sneaky\n DELETE FROM t", "not_read_only"),
    ("CREATE TABLE t (a int)", "not_read_only"),
    ("COMMIT", "not_read_only"),
    ("SET default_transaction_read_only = off", "not_read_only"),
    ("   ", "empty_statement"),
])
def test_sql_check_refuses_with_a_key(registry, sql, key):
    with pytest.raises(_module("sql_check").SqlRefused) as caught:
        _module("sql_check").check_sql(sql)
    assert caught.value.key == key


async def test_form_spec_is_valid_and_user_scope_is_refused(registry, flow_manager):
    loaded = registry.get("postgres_query")
    fields = {f.name: f for f in assert_form_spec_valid(loaded)}
    assert fields["password"].type == "secret" and fields["database_url"].required
    assert loaded.manifest.required_tier.label == "internal"
    assert_error_keys_translated(loaded, ["invalid_database_url", "password_in_url", "unsupported_url_option",
                                          "cannot_connect", "auth_failed"])
    refused = await flow_manager.start("postgres_query", ALICE)
    assert refused.type == "abort" and refused.reason.key == "admin_scope_required"
    assert "administrator" in refused.reason.text
    form = await flow_manager.start("postgres_query", ADMIN, scope="global")
    assert form.title == "Connect a PostgreSQL database"


async def test_flow_connects_and_stores_the_password_encrypted(flow_manager, services, sales_db, distinctive_secret):
    form = await flow_manager.start("postgres_query", ADMIN, scope="global")
    in_url = await flow_manager.submit(form.flow_id, {"database_url": "postgresql://u:pw@127.0.0.1:1/x"}, ADMIN)
    assert in_url.errors["database_url"].key == "password_in_url"
    down = await flow_manager.submit(form.flow_id, {"database_url": "postgresql://u@127.0.0.1:1/x"}, ADMIN)
    assert down.errors["base"].key == "cannot_connect"
    done = await flow_manager.submit(form.flow_id, {"database_url": sales_db, "password": distinctive_secret,
                                                    "max_rows": 50}, ADMIN)
    assert done.type == "create_entry"
    entry = await services.entries.get(done.entry_id)
    assert entry.secret_fields == ["password"] and entry.data["max_rows"] == 50 and "password" not in entry.data
    await assert_masked_round_trip(services.entries, entry.id, "password", distinctive_secret,
                                   {"statement_timeout_ms": 1000})


# -- the tools on the real database ---------------------------------------------------------

async def test_reads_return_typed_rows(tools):
    call = await tools()
    result = await call("postgres_query_run",
                        sql="SELECT customer, count(*) AS n, sum(amount) AS total, min(placed) AS first "
                            "FROM sales.orders GROUP BY customer ORDER BY customer;")
    assert result.columns == ["customer", "n", "total", "first"] and not result.truncated
    assert result.rows[0] == ["customer 0", 7, "168.00", "2026-01-05"]
    assert result.row_count == 4
    tables = await call("postgres_query_list_tables", schema="sales")
    assert tables.rows == [["sales", "orders", "id integer, customer text, amount numeric, placed date"]]


async def test_writes_and_ddl_fail_with_clear_errors(tools, sales_db):
    call = await tools()
    assert await _failure_key(call, "INSERT INTO sales.orders VALUES (99, 'x', 1, now())") == "not_read_only"
    assert await _failure_key(call, "DROP TABLE sales.orders") == "not_read_only"
    # Past the keyword check, the READ ONLY transaction is what refuses:
    assert await _failure_key(call, "WITH gone AS (DELETE FROM sales.orders RETURNING id) SELECT * FROM gone") \
        == "read_only_violation"
    assert await _failure_key(call, "SELECT * INTO sales.copy FROM sales.orders") == "read_only_violation"
    assert await _failure_key(call, "SELECT nextval('sales.order_ids')") == "read_only_violation"
    assert await _failure_key(call, "SELECT 1; DELETE FROM sales.orders") == "multiple_statements"
    assert await _failure_key(call, "SELECT * FROM sales.nope") == "sql_error"
    with pytest.raises(_module("runner").QueryFailed) as caught:
        await call("postgres_query_run", sql="WITH x AS (UPDATE sales.orders SET amount = 0 RETURNING 1) SELECT 1")
    assert "read-only" in str(caught.value) and "This tool only reads" in str(caught.value)
    assert await _order_count(sales_db) == 30


async def test_server_refuses_several_statements_even_without_the_check(tools, sales_db, monkeypatch):
    call = await tools()
    monkeypatch.setattr(_module("runner"), "check_sql", lambda sql: sql)
    assert await _failure_key(call, "SELECT 1; DELETE FROM sales.orders") == "multiple_statements"
    assert await _failure_key(call, "DELETE FROM sales.orders") == "read_only_violation"
    assert await _order_count(sales_db) == 30


async def test_row_cap_truncates_with_a_marker(tools):
    call = await tools(max_rows=10)
    capped = await call("postgres_query_run", sql="SELECT id FROM sales.orders ORDER BY id")
    assert capped.rows == [[i] for i in range(1, 11)] and capped.truncated
    assert capped.note == "[truncated: only the first 10 rows (row cap 10) are shown; add a LIMIT or select fewer columns]"
    fewer = await call("postgres_query_run", sql="SELECT id FROM sales.orders ORDER BY id", max_rows=3)
    assert fewer.row_count == 3 and fewer.truncated
    exact = await call("postgres_query_run", sql="SELECT id FROM sales.orders ORDER BY id LIMIT 10")
    assert exact.row_count == 10 and not exact.truncated and exact.note is None
    wide = await call("postgres_query_run",
                      sql="SELECT repeat('x', 900) AS a, repeat('y', 900) AS b FROM generate_series(1, 10)")
    assert wide.truncated and wide.row_count < 10 and "size limit" in wide.note


async def test_slow_query_hits_the_statement_timeout(tools):
    call = await tools(statement_timeout_ms=200)
    started = time.monotonic()
    assert await _failure_key(call, "SELECT pg_sleep(3)") == "statement_timeout"
    assert time.monotonic() - started < 2.5
    assert (await call("postgres_query_run", sql="SELECT 1 AS ok")).rows == [[1]]  # the pool is still usable


async def test_user_scoped_entry_does_not_set_up(make_entry, services, sales_db):
    from runtime.sessions.setup_cache import EntrySetupError

    entry = await make_entry("postgres_query", "user", owner_sub="alice", data={"database_url": sales_db})
    with pytest.raises(EntrySetupError):
        await services.setup_cache.get(entry)


async def test_tool_is_absent_for_unregulated_and_present_for_internal(
    worker, make_entry, open_session, recorder, sales_db
):
    await make_entry("postgres_query", "global", data={"database_url": sales_db})
    cheap = await send_message(await open_session(ALICE, "cheap"),
                               '/tool postgres_query_run {"sql": "SELECT count(*) FROM sales.orders"}')
    assert not any(name.startswith("postgres_query") for name in recorder.names(-1))
    assert "No tool named 'postgres_query_run'" in cheap.text

    handle = await open_session(ALICE, "internal")
    done = await send_message(handle, '/tool postgres_query_run {"sql": "SELECT count(*) AS n FROM sales.orders"}')
    assert done.status is TurnStatus.COMPLETED and '"rows":[[30]]' in done.text
    assert {"postgres_query_run", "postgres_query_list_tables"} <= set(recorder.names(-2))
    write = await send_message(handle, '/tool postgres_query_run {"sql": "DELETE FROM sales.orders"}')
    assert "not_read_only" in write.text and "only reads" in write.text
    assert await _order_count(sales_db) == 30
