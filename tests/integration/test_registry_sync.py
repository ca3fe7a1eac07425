"""Registry sync into the integrations table (real Postgres): discovery owns status, admins own policy."""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import pytest

from runtime.integrations.loader import discover_dirs
from runtime.integrations.registry import IntegrationNotFoundError, IntegrationRegistry
from runtime.integrations.sync import (
    InvalidScopeError,
    integration_rows,
    set_allowed_scopes,
    set_enabled,
    set_required_tier_override,
    sync_registry,
)
from runtime.tiers import Tier, UnknownTierError
from tests.unit.integrations.factory import write_integration


async def test_sync_inserts_each_loaded_integration_with_its_manifest(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha", version="1.0.0", required_tier="regulated")
    write_integration(tmp_path, "beta")

    report = await sync_registry(pool, discover_dirs([tmp_path]))

    assert (report.loaded, report.inserted, report.failed, report.not_found) == (
        ["alpha", "beta"], ["alpha", "beta"], [], []
    )
    rows = await integration_rows(pool)
    alpha = rows["alpha"]
    assert (alpha.name, alpha.version, alpha.status, alpha.error_key) == ("Alpha", "1.0.0", "loaded", None)
    assert alpha.manifest["domain"] == "alpha" and alpha.manifest["required_tier"] == "regulated"
    # Admin columns start at the table's defaults.
    assert alpha.enabled is True
    assert alpha.allowed_scopes == ("user", "org", "global", "group")
    assert alpha.required_tier_override is None


async def test_resync_is_idempotent(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha")
    registry = discover_dirs([tmp_path])
    await sync_registry(pool, registry)
    before = await integration_rows(pool)

    report = await sync_registry(pool, registry)

    after = await integration_rows(pool)
    assert report.inserted == [] and report.loaded == ["alpha"] and report.not_found == []
    assert after.keys() == before.keys()
    unchanged = {"name", "version", "status", "manifest", "error_key", "enabled", "allowed_scopes", "first_seen_at"}
    assert after["alpha"].model_dump(include=unchanged) == before["alpha"].model_dump(include=unchanged)
    assert after["alpha"].last_seen_at >= before["alpha"].last_seen_at


async def test_a_domain_that_disappears_is_marked_not_found_and_kept(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path / "v1", "alpha")
    write_integration(tmp_path / "v1", "beta")
    write_integration(tmp_path / "v2", "alpha")
    await sync_registry(pool, discover_dirs([tmp_path / "v1"]))
    await set_enabled(pool, "beta", False)

    report = await sync_registry(pool, discover_dirs([tmp_path / "v2"]))

    assert report.not_found == ["beta"]
    rows = await integration_rows(pool)
    assert rows["beta"].status == "not_found"
    assert rows["beta"].manifest["domain"] == "beta"  # the last known manifest stays
    assert rows["beta"].enabled is False
    assert rows["alpha"].status == "loaded"
    # Already marked: a further sync reports nothing new.
    assert (await sync_registry(pool, discover_dirs([tmp_path / "v2"]))).not_found == []

    # And it comes back as loaded when it reappears.
    await sync_registry(pool, discover_dirs([tmp_path / "v1"]))
    assert (await integration_rows(pool))["beta"].status == "loaded"


async def test_admin_columns_survive_a_resync_even_when_the_manifest_changes(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    write_integration(tmp_path / "v1", "alpha", version="1.0.0")
    write_integration(tmp_path / "v2", "alpha", version="2.0.0", name="Alpha Two")
    await sync_registry(pool, discover_dirs([tmp_path / "v1"]))
    await set_enabled(pool, "alpha", False)
    await set_allowed_scopes(pool, "alpha", ["org", "user"])
    await set_required_tier_override(pool, "alpha", "internal")

    await sync_registry(pool, discover_dirs([tmp_path / "v2"]))

    row = (await integration_rows(pool))["alpha"]
    assert (row.version, row.name, row.status) == ("2.0.0", "Alpha Two", "loaded")
    assert row.enabled is False
    assert row.allowed_scopes == ("user", "org")
    assert row.required_tier_override is Tier.INTERNAL


async def test_a_failed_integration_is_recorded_with_its_error_key(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "broken", version="3.1.0", init="raise RuntimeError('nope')\n")
    write_integration(tmp_path, "garbled", manifest="domain: garbled\nname: [\n")

    report = await sync_registry(pool, discover_dirs([tmp_path]))

    assert report.failed == ["broken", "garbled"]
    rows = await integration_rows(pool)
    assert (rows["broken"].status, rows["broken"].error_key) == ("failed", "integration_import_failed")
    assert (rows["broken"].name, rows["broken"].version) == ("Broken", "3.1.0")  # manifest was valid
    assert (rows["garbled"].status, rows["garbled"].error_key) == ("failed", "integration_manifest_invalid")
    assert (rows["garbled"].name, rows["garbled"].version, rows["garbled"].manifest) == ("garbled", "0.0.0", {})


async def test_a_loaded_integration_that_breaks_keeps_its_last_good_manifest(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    write_integration(tmp_path / "good", "alpha", version="1.0.0")
    write_integration(tmp_path / "bad", "alpha", version="2.0.0", init="INTEGRATION = None\n")
    await sync_registry(pool, discover_dirs([tmp_path / "good"]))
    await set_allowed_scopes(pool, "alpha", ["global"])

    await sync_registry(pool, discover_dirs([tmp_path / "bad"]))
    row = (await integration_rows(pool))["alpha"]
    assert (row.status, row.error_key, row.version) == ("failed", "integration_object_missing", "1.0.0")
    assert row.allowed_scopes == ("global",)

    await sync_registry(pool, discover_dirs([tmp_path / "good"]))
    row = (await integration_rows(pool))["alpha"]
    assert (row.status, row.error_key) == ("loaded", None)


async def test_a_shadowed_duplicate_does_not_mark_the_loaded_domain_failed(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    write_integration(tmp_path / "first", "alpha")
    write_integration(tmp_path / "second", "alpha")
    registry = discover_dirs([tmp_path / "first", tmp_path / "second"])
    assert [f.key for f in registry.failures.values()] == ["integration_domain_duplicate"]

    report = await sync_registry(pool, registry)

    assert report.failed == []
    assert (await integration_rows(pool))["alpha"].status == "loaded"


async def test_an_empty_registry_marks_everything_not_found(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha")
    await sync_registry(pool, discover_dirs([tmp_path]))
    report = await sync_registry(pool, IntegrationRegistry())
    assert report.not_found == ["alpha"]
    assert len(await integration_rows(pool)) == 1


async def test_sync_accepts_a_single_connection(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha")
    async with pool.acquire() as conn:
        await sync_registry(conn, discover_dirs([tmp_path]))
        assert (await integration_rows(conn))["alpha"].status == "loaded"
        stored = await conn.fetchval("SELECT manifest->>'name' FROM integrations WHERE domain = 'alpha'")
        assert stored == "Alpha"  # jsonb holds an object, not a JSON string


async def test_sync_is_one_transaction(pool: asyncpg.Pool, tmp_path: Path) -> None:
    write_integration(tmp_path, "alpha")
    write_integration(tmp_path, "beta")
    registry = discover_dirs([tmp_path])
    async with pool.acquire() as conn:
        # A trigger that rejects the second row makes the whole sync fail: the first must not stay behind.
        await conn.execute(
            """
            CREATE FUNCTION reject_beta() RETURNS trigger AS $$
            BEGIN IF NEW.domain = 'beta' THEN RAISE EXCEPTION 'no beta'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER reject_beta BEFORE INSERT ON integrations FOR EACH ROW EXECUTE FUNCTION reject_beta();
            """
        )
    with pytest.raises(asyncpg.RaiseError, match="no beta"):
        await sync_registry(pool, registry)
    assert await integration_rows(pool) == {}


# -- admin setters -----------------------------------------------------------------------------


@pytest.fixture
async def synced(pool: asyncpg.Pool, tmp_path: Path) -> asyncpg.Pool:
    write_integration(tmp_path, "alpha")
    await sync_registry(pool, discover_dirs([tmp_path]))
    return pool


async def test_set_enabled_round_trips(synced: asyncpg.Pool) -> None:
    assert (await set_enabled(synced, "alpha", False)).enabled is False
    assert (await set_enabled(synced, "alpha", True)).enabled is True


@pytest.mark.parametrize(
    ("scopes", "stored"),
    [(["group", "user", "user"], ("user", "group")), ([], ()), (("org", "global"), ("org", "global"))],
)
async def test_allowed_scopes_are_stored_deduplicated_in_canonical_order(
    synced: asyncpg.Pool, scopes: list[str], stored: tuple[str, ...]
) -> None:
    row = await set_allowed_scopes(synced, "alpha", scopes)
    assert row.allowed_scopes == stored
    assert row.allows_scope("user") is ("user" in stored)


@pytest.mark.parametrize("scopes", [["user", "team"], ["USER"], "user", [None]])
async def test_unknown_scopes_are_rejected_and_nothing_is_written(synced: asyncpg.Pool, scopes: object) -> None:
    with pytest.raises(InvalidScopeError) as info:
        await set_allowed_scopes(synced, "alpha", scopes)  # type: ignore[arg-type]
    assert info.value.key == "integration_scope_invalid"
    assert (await integration_rows(synced))["alpha"].allowed_scopes == ("user", "org", "global", "group")


@pytest.mark.parametrize(("given", "tier"), [("regulated", Tier.REGULATED), (2, Tier.INTERNAL), (Tier.UNREGULATED, Tier.UNREGULATED)])
async def test_required_tier_override_accepts_names_ints_and_tiers(
    synced: asyncpg.Pool, given: object, tier: Tier
) -> None:
    row = await set_required_tier_override(synced, "alpha", given)  # type: ignore[arg-type]
    assert row.required_tier_override is tier
    assert (await set_required_tier_override(synced, "alpha", None)).required_tier_override is None


@pytest.mark.parametrize("given", ["internl", 3, True])
async def test_an_unknown_tier_override_is_rejected(synced: asyncpg.Pool, given: object) -> None:
    with pytest.raises(UnknownTierError):
        await set_required_tier_override(synced, "alpha", given)  # type: ignore[arg-type]
    assert (await integration_rows(synced))["alpha"].required_tier_override is None


async def test_setters_on_an_unknown_domain_raise_not_found(synced: asyncpg.Pool) -> None:
    for call in (
        set_enabled(synced, "ghost", False),
        set_allowed_scopes(synced, "ghost", ["user"]),
        set_required_tier_override(synced, "ghost", "internal"),
    ):
        with pytest.raises(IntegrationNotFoundError) as info:
            await call
        assert info.value.key == "integration_not_found"
    assert set(await integration_rows(synced)) == {"alpha"}


async def test_the_manifest_column_is_exactly_the_manifest_dump(synced: asyncpg.Pool, tmp_path: Path) -> None:
    row = (await integration_rows(synced))["alpha"]
    expected = discover_dirs([tmp_path]).get("alpha").manifest.model_dump(mode="json")
    assert row.manifest == json.loads(json.dumps(expected))
