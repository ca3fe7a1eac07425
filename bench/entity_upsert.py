"""Entity store throughput: 100k entities through :class:`EntityStore` vs raw asyncpg COPY.

Same table, same run, same Postgres. Figures (entities/s, medians over ``repeats``):

* ``store_create``: a full pull of N new entities into an empty entry — validation,
  hashing, COPY into a staging table, the diff/upsert statement, N ``entity.created``
  events, all in one transaction;
* ``store_unchanged``: the same pull again — hashes match, nothing is written;
* ``store_one_percent``: the same pull with 1% of the states changed;
* ``raw_copy``: ``copy_records_to_table`` of pre-built rows straight into ``entities``
  (no validation, no diff, no events): the floor the store is measured against.

``ratio`` is raw_copy / store_create: how many times slower a validated, diffed,
evented write is than the bare copy. Run: ``python -m bench.entity_upsert``; from the
bench harness: ``await run(stack)``.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from runtime.db import apply_migrations, connect
from runtime.db.pool import create_pool, url_with_database
from runtime.entities.prepare import prepare_entities
from runtime.entities.store import EntityStore

TYPES = ("light", "sensor")
ENTRY = "bench-entities"


def _pull(n: int, *, changed_every: int = 0) -> list[dict[str, Any]]:
    """N entities of a realistic small shape; every ``changed_every``-th one with a new state."""
    out = []
    for i in range(n):
        state = "on" if changed_every and i % changed_every == 0 else "off"
        out.append({"entity_id": f"light.l{i}", "type": TYPES[i % 2], "state": state,
                    "attributes": {"brightness": i % 255, "room": f"room-{i % 40}", "model": "bench-1"},
                    "actions": ["turn_on", "turn_off"] if i % 2 == 0 else []})
    return out


async def _reset(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM entities WHERE entry_id = $1", ENTRY)
        await conn.execute("DELETE FROM events WHERE entry_id = $1", ENTRY)
        await conn.execute("DELETE FROM entity_entry_state WHERE entry_id = $1", ENTRY)
        await conn.execute("VACUUM ANALYZE entities")  # each repeat starts from the same physical state


async def _timed(coro: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await coro
    return time.perf_counter() - start, result


def _rate(n: int, seconds: list[float]) -> dict[str, float]:
    median = statistics.median(seconds)
    return {"entities_per_s": round(n / median), "median_s": round(median, 3), "runs": len(seconds)}


async def _measure(url: str, n: int, repeats: int) -> dict[str, Any]:
    pool = await create_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute("""INSERT INTO integrations (domain, name, version, status, manifest)
                                  VALUES ('bench_things', 'bench', '1', 'loaded', '{}'::jsonb)
                                  ON CONFLICT (domain) DO NOTHING""")
            await conn.execute("""INSERT INTO config_entries (id, domain, scope) VALUES ($1, 'bench_things', 'global')
                                  ON CONFLICT (id) DO NOTHING""", ENTRY)
        store = EntityStore(pool)
        base, changed = _pull(n), _pull(n, changed_every=100)
        create, unchanged, one_percent, prepare_only, raw = [], [], [], [], []
        for _ in range(repeats):
            await _reset(pool)
            seconds, diff = await _timed(store.apply(ENTRY, base, full=True, allowed_types=TYPES))
            assert len(diff.created) == n
            create.append(seconds)
            seconds, diff = await _timed(store.apply(ENTRY, base, full=True, allowed_types=TYPES))
            assert diff.unchanged == n
            unchanged.append(seconds)
            seconds, diff = await _timed(store.apply(ENTRY, changed, full=True, allowed_types=TYPES))
            assert len(diff.updated) == n // 100
            one_percent.append(seconds)
            start = time.perf_counter()
            prepared = prepare_entities(base, allowed_types=TYPES)
            prepare_only.append(time.perf_counter() - start)

            # The floor: the rows the store would write, built beforehand, copied straight in.
            records = [(ENTRY, p.entity_id, p.type, p.state, p.attributes_json, p.actions, p.content_hash)
                       for p in prepared]
            await _reset(pool)
            async with pool.acquire() as conn:
                # jsonb through COPY's binary format wants the text form; no JSON codec on this path.
                await conn.reset_type_codec("jsonb", schema="pg_catalog")
                try:
                    seconds, _ = await _timed(conn.copy_records_to_table(
                        "entities", records=records,
                        columns=("entry_id", "entity_id", "type", "state", "attributes", "actions", "content_hash")))
                finally:
                    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
            raw.append(seconds)
        result = {
            "entities": n,
            "store_create": _rate(n, create),
            "store_unchanged": _rate(n, unchanged),
            "store_one_percent": _rate(n, one_percent),
            "store_prepare_only": _rate(n, prepare_only),
            "raw_copy": _rate(n, raw),
        }
        result["ratio_raw_over_store"] = round(result["raw_copy"]["entities_per_s"]
                                               / result["store_create"]["entities_per_s"], 1)
        return result
    finally:
        await pool.close()


async def run(stack: Any | None = None, *, entities: int = 100_000, repeats: int = 3) -> dict[str, Any]:
    """Measure on ``stack``'s Postgres (a fresh database), else on AGENTRT__DATABASE__URL or an embedded one."""
    if stack is not None:
        return await _measure(await stack.new_database("entities"), entities, repeats)
    from runtime.dev.postgres_server import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="agentrt-bench-entities-") as tmp:
        os.chmod(tmp, 0o755)  # the embedded Postgres runs as its own system user
        pg = None
        server = os.environ.get("AGENTRT__DATABASE__URL")
        if not server:
            pg = EmbeddedPostgres(Path(tmp) / "pg", database="postgres")
            server = await pg.start()
        name = f"agentrt_bench_entities_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            url = url_with_database(server, name)
            conn = await connect(url)
            try:
                await apply_migrations(conn)
            finally:
                await conn.close()
            return await _measure(url, entities, repeats)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
            if pg is not None:
                pg.stop()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(asyncio.run(run(entities=n)), indent=2))
