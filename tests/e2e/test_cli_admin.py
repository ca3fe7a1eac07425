"""`agentrt migrate`, `keys add` and `keys rotate` as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from runtime.crypto import KeyRing
from runtime.crypto.keyring import _read_key_file, write_key_file
from runtime.crypto.store import SecretStore
from runtime.db.pool import create_pool

AGENTRT = str(Path(sys.executable).parent / "agentrt")


async def _agentrt(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(AGENTRT, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def _env(tmp_path: Path, url: str, key_file: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTRT__")}
    env.update(AGENTRT__DATABASE__URL=url, AGENTRT__STATE_DIR=str(tmp_path), AGENTRT__MODE="production",
               AGENTRT__SECURITY__KEY_FILE=str(key_file), AGENTRT__LOG_LEVEL="WARNING")
    return env


async def test_migrate_then_add_a_key_then_rotate(empty_database_url, tmp_path):
    key_file = tmp_path / "keys.json"
    first = KeyRing.generate("k1")
    write_key_file(key_file, first)
    env = _env(tmp_path, empty_database_url, key_file)

    code, out, err = await _agentrt("migrate", env=env)
    assert code == 0, err
    assert out.startswith("applied ") and "applied 0" not in out
    code, out, _ = await _agentrt("migrate", env=env)
    assert code == 0 and out.strip() == "applied 0 migration(s)"

    pool = await create_pool(empty_database_url)
    try:
        async with pool.acquire() as conn:
            await SecretStore(first).put(conn, "config_entry", "e1", {"token": "rotate-me-please"})
        code, out, err = await _agentrt("keys", "add", "k2", "--activate", env=env)
        assert code == 0, err
        ring = _read_key_file(key_file)
        assert ring.active_id == "k2" and ring.kek_ids == ["k1", "k2"]
        assert base64_key(key_file, "k2") not in out  # the new key is written, never printed

        code, out, err = await _agentrt("keys", "rotate", "--batch-size", "10", env=env)
        assert code == 0, err
        assert "re-wrapped 1 secret(s) under kek k2" in out and "0 remaining" in out
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT kek_id FROM secret_values") == "k2"
            only_k2 = KeyRing("k2", {"k2": ring.get("k2")})
            assert await SecretStore(only_k2).reveal(conn, "config_entry", "e1") == {"token": "rotate-me-please"}
    finally:
        await pool.close()


def base64_key(path: Path, kek_id: str) -> str:
    return json.loads(path.read_text())["keys"][kek_id]


async def test_production_without_a_key_ring_refuses_to_start(empty_database_url, tmp_path):
    env = _env(tmp_path, empty_database_url, tmp_path / "missing.json")
    del env["AGENTRT__SECURITY__KEY_FILE"]
    code, _, err = await _agentrt("keys", "rotate", env=env)
    assert code == 1 and "production mode needs a key ring" in err
