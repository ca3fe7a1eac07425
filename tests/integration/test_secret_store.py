from __future__ import annotations

import asyncio
import base64

import pytest

from runtime.crypto import KeyRing, UnknownKekError, WrappedKeyRejectedError
from runtime.crypto.store import SecretStore


async def test_secret_is_ciphertext_at_rest_and_round_trips(pool, secret_store, distinctive_secret, captured_logs):
    async with pool.acquire() as conn:
        await secret_store.put(conn, "config_entry", "e1", {"api_key": distinctive_secret, "other": "x-value"})
        raw = await conn.fetch("SELECT * FROM secret_values")
        revealed = await secret_store.reveal(conn, "config_entry", "e1")
    dump = repr([dict(r) for r in raw])
    assert distinctive_secret not in dump
    assert base64.b64encode(distinctive_secret.encode()).decode() not in dump
    assert revealed == {"api_key": distinctive_secret, "other": "x-value"}
    assert distinctive_secret not in captured_logs.getvalue()


async def test_row_copied_to_another_owner_does_not_decrypt(pool, secret_store):
    async with pool.acquire() as conn:
        await secret_store.put(conn, "config_entry", "victim", {"api_key": "victim-key-1"})
        await conn.execute(
            """INSERT INTO secret_values (owner_kind, owner_id, field, alg, kek_id, wrapped_dek, nonce, ciphertext)
               SELECT owner_kind, 'attacker', field, alg, kek_id, wrapped_dek, nonce, ciphertext
               FROM secret_values WHERE owner_id = 'victim'"""
        )
        with pytest.raises(WrappedKeyRejectedError):
            await secret_store.reveal(conn, "config_entry", "attacker")


async def _seed(pool, store: SecretStore, n: int) -> dict[str, str]:
    values = {f"e{i}": f"secret-number-{i:05d}" for i in range(n)}
    async with pool.acquire() as conn:
        for owner, value in values.items():
            await store.put(conn, "config_entry", owner, {"token": value})
    return values


async def test_rotation_rewraps_every_record_and_old_ciphertexts_still_decrypt(pool, keyring):
    old = SecretStore(keyring)
    values = await _seed(pool, old, 40)
    async with pool.acquire() as conn:
        before = {r["owner_id"]: r["ciphertext"] for r in await conn.fetch("SELECT owner_id, ciphertext FROM secret_values")}
    new_ring = keyring.with_key("test-2", b"\x42" * 32, activate=True)
    report = await SecretStore(new_ring).rotate(pool, batch_size=7)
    assert (report.rewrapped, report.remaining, report.batches) == (40, 0, 6)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT owner_id, kek_id, ciphertext FROM secret_values")
        assert {r["kek_id"] for r in rows} == {"test-2"}
        assert {r["owner_id"]: r["ciphertext"] for r in rows} == before  # plaintext at rest untouched
        only_new = SecretStore(KeyRing("test-2", {"test-2": b"\x42" * 32}))
        for owner, value in values.items():
            assert (await only_new.reveal(conn, "config_entry", owner)) == {"token": value}
        with pytest.raises(UnknownKekError):
            await old.reveal(conn, "config_entry", "e0")  # the retired ring no longer knows test-2
    again = await SecretStore(new_ring).rotate(pool)
    assert (again.rewrapped, again.remaining) == (0, 0)  # idempotent


async def test_interrupted_rotation_resumes(pool, keyring):
    values = await _seed(pool, SecretStore(keyring), 25)
    new_ring = keyring.with_key("test-2", b"\x42" * 32, activate=True)
    partial = await SecretStore(new_ring).rotate(pool, batch_size=10, max_batches=1)
    assert (partial.rewrapped, partial.remaining) == (10, 15)
    async with pool.acquire() as conn:
        mixed = await SecretStore(new_ring).reveal(conn, "config_entry", "e20")
        assert mixed == {"token": values["e20"]}  # mid-rotation, both keks serve reads
    resumed = await SecretStore(new_ring).rotate(pool, batch_size=10)
    assert (resumed.rewrapped, resumed.remaining) == (15, 0)


async def test_rotation_under_concurrent_writes_loses_nothing(pool, keyring):
    await _seed(pool, SecretStore(keyring), 60)
    new_ring = keyring.with_key("test-2", b"\x42" * 32, activate=True)
    writer_store = SecretStore(new_ring)
    written: dict[str, str] = {}

    async def writer() -> None:
        for i in range(60):
            async with pool.acquire() as conn:
                value = f"rewritten-{i:04d}"
                await writer_store.put(conn, "config_entry", f"e{i}", {"token": value})
                written[f"e{i}"] = value
            await asyncio.sleep(0)

    report, _ = await asyncio.gather(SecretStore(new_ring).rotate(pool, batch_size=5), writer())
    assert report.remaining == 0
    async with pool.acquire() as conn:
        for owner, value in written.items():
            assert await writer_store.reveal(conn, "config_entry", owner) == {"token": value}
        assert await conn.fetchval("SELECT count(*) FROM secret_values") == 60
