from __future__ import annotations

import asyncio

import pytest

from runtime.db import apply_migrations, connect, load_migrations
from runtime.db.migrate import Migration, MigrationError


async def test_migrations_apply_once_and_are_idempotent(empty_database_url):
    conn = await connect(empty_database_url)
    try:
        first = await apply_migrations(conn)
        second = await apply_migrations(conn)
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        await conn.close()
    assert first == [m.version for m in load_migrations()] and len(first) >= 2
    assert second == []
    assert versions == first


async def test_concurrent_migrators_do_not_fail(empty_database_url):
    conns = [await connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c) for c in conns))
        count = await conns[0].fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        for c in conns:
            await c.close()
    applied = sorted(v for r in results for v in r)
    assert applied == [m.version for m in load_migrations()]  # each applied exactly once, by someone
    assert count == len(load_migrations())


async def test_failed_migration_leaves_nothing_half_applied(empty_database_url):
    conn = await connect(empty_database_url)
    good = Migration(9001, "good", "CREATE TABLE good_one (id int);")
    bad = Migration(9002, "bad", "CREATE TABLE half (id int); SELECT * FROM no_such_table;")
    try:
        with pytest.raises(MigrationError) as err:
            await apply_migrations(conn, [good, bad])
        assert "9002_bad" in str(err.value) and err.value.key == "migration_failed"
        assert await conn.fetchval("SELECT to_regclass('good_one') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('half') IS NULL")
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9002") == 0
        # The lock was released: a later run can proceed.
        assert await apply_migrations(conn, [good]) == []
    finally:
        await conn.close()
