"""Config entries: one configured instance of an integration, with its secrets encrypted apart.

Non-secret config is in ``config_entries.data``; each secret field is an envelope in
``secret_values`` (owner_kind ``config_entry``), written in the same transaction as the
row. Reads for clients are masked (:mod:`.masking`); only :meth:`EntriesService.build_setup_context`
hands out plaintext, and only activity code may call it.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Callable, Mapping

import asyncpg
from pydantic import SecretStr

from ..crypto.store import SecretStore
from ..logging import SECRET_KEY_PATTERN, get_logger
from ..principal import Principal
from .config_errors import (
    AlreadyConfiguredError,
    EntryNotFoundError,
    EntryRevisionConflictError,
    IntegrationDisabledError,
    IntegrationUnavailableError,
    MaskedValueError,
    ScopeNotAllowedError,
)
from .entry_model import ConfigEntry, entry_from_row, secret_text
from .entry_states import ConfigEntryState
from .flow import FlowContext
from .integration import Integration, Secrets, SetupContext
from .lookup import IntegrationLookup, lookup_integration
from .masking import keeps_stored, looks_masked, mask_value
from .scopes import PRECEDENCE, VISIBLE_TO_PRINCIPAL_SQL, EntryOwner

OWNER_KIND = "config_entry"
MAX_STATE_REASON = 500

log = get_logger(__name__)


def _kind(kind: str | None) -> str:
    # Anything but an explicit "password" is write-only: the safe reading of a typo.
    return "password" if kind == "password" else "secret"


# (entry id, domain, decrypted secrets) -> further SetupContext fields (``entities``, ``events``).
ContextExtras = Callable[[str, str, Mapping[str, str]], Mapping[str, Any]]


class EntriesService:
    def __init__(self, pool: asyncpg.Pool, secret_store: SecretStore, registry_lookup: IntegrationLookup) -> None:
        self._pool = pool
        self._secrets = secret_store
        self._lookup = registry_lookup
        # Set by runtime.services once the entity store and the events service exist; injected
        # to keep this module free of both.
        self.context_extras: ContextExtras | None = None

    @asynccontextmanager
    async def _transaction(self, conn: asyncpg.Connection | None) -> AsyncIterator[asyncpg.Connection]:
        # With a caller's connection this is a savepoint inside its transaction (the flow
        # engine creates the entry and deletes the flow state atomically).
        if conn is not None:
            async with conn.transaction():
                yield conn
            return
        async with self._pool.acquire() as own, own.transaction():
            yield own

    async def _row(self, conn: asyncpg.Connection, entry_id: str, *, lock: bool = False) -> asyncpg.Record:
        row = await conn.fetchrow(
            "SELECT * FROM config_entries WHERE id = $1" + (" FOR UPDATE" if lock else ""), entry_id
        )
        if row is None:
            raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
        return row

    # -- who may configure what ---------------------------------------------------
    async def check_configurable(self, domain: str, scope: str, conn: asyncpg.Connection | None = None) -> None:
        """Raise unless ``domain`` is loaded, enabled, and allows entries in ``scope``."""
        lookup_integration(self._lookup, domain)
        async with self._transaction(conn) as c:
            row = await c.fetchrow(
                "SELECT status, enabled, allowed_scopes FROM integrations WHERE domain = $1", domain
            )
        if row is None or row["status"] != "loaded":
            raise IntegrationUnavailableError(f"integration {domain!r} is not loaded")
        if not row["enabled"]:
            raise IntegrationDisabledError(f"integration {domain!r} is disabled")
        if scope not in row["allowed_scopes"]:
            raise ScopeNotAllowedError(f"integration {domain!r} does not allow {scope}-scoped entries")

    async def owner_has_entry(self, domain: str, owner: EntryOwner, conn: asyncpg.Connection | None = None) -> bool:
        async with self._transaction(conn) as c:
            return bool(await c.fetchval(
                """SELECT EXISTS (SELECT 1 FROM config_entries WHERE domain = $1 AND scope = $2
                   AND owner_sub IS NOT DISTINCT FROM $3 AND org_id IS NOT DISTINCT FROM $4
                   AND group_id IS NOT DISTINCT FROM $5)""",
                domain, owner.scope, owner.owner_sub, owner.org_id, owner.group_id,
            ))

    async def unique_id_taken(
        self, domain: str, owner: EntryOwner, unique_id: str, conn: asyncpg.Connection | None = None
    ) -> bool:
        async with self._transaction(conn) as c:
            return bool(await c.fetchval(
                """SELECT EXISTS (SELECT 1 FROM config_entries WHERE domain = $1 AND scope = $2
                   AND owner_sub IS NOT DISTINCT FROM $3 AND org_id IS NOT DISTINCT FROM $4
                   AND group_id IS NOT DISTINCT FROM $5 AND unique_id = $6)""",
                domain, owner.scope, owner.owner_sub, owner.org_id, owner.group_id, unique_id,
            ))

    # -- create ---------------------------------------------------------------------
    async def create(
        self,
        *,
        domain: str,
        owner: EntryOwner,
        title: str,
        data: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str | SecretStr] | None = None,
        secret_kinds: Mapping[str, str] | None = None,
        unique_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> ConfigEntry:
        """Create an entry and its secrets in one transaction.

        ``secret_kinds`` says which secret fields are ``password`` (read back with a hint);
        every other secret field is write-only ``secret``. The entry starts at the
        manifest's ``config_schema_version``: a flow produces data in the current shape.
        """
        manifest = lookup_integration(self._lookup, domain).manifest
        plain = {f: secret_text(f, v) for f, v in (secrets or {}).items()}
        kinds = {f: _kind((secret_kinds or {}).get(f)) for f in plain}
        clean_data = {k: v for k, v in (data or {}).items() if k not in plain}
        for name in clean_data:
            if SECRET_KEY_PATTERN.search(name):
                log.warning("config_entry_secret_like_data_field", domain=domain, field_name=name)
        async with self._transaction(conn) as c:
            await self.check_configurable(domain, owner.scope, conn=c)
            # Serialise creators for one (domain, owner): the existence checks below are then exact.
            await c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"entry|{domain}|{owner.lock_key}")
            if manifest.single_instance and await self.owner_has_entry(domain, owner, conn=c):
                raise AlreadyConfiguredError(f"{domain!r} allows one entry per owner and this owner has one")
            if unique_id is not None and await self.unique_id_taken(domain, owner, unique_id, conn=c):
                raise AlreadyConfiguredError(f"an entry of {domain!r} with this unique id exists for this owner")
            entry_id = uuid.uuid4().hex
            row = await c.fetchrow(
                """INSERT INTO config_entries (id, domain, title, scope, owner_sub, org_id, group_id, unique_id,
                       data, options, secret_kinds, version)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
                entry_id, domain, title, owner.scope, owner.owner_sub, owner.org_id, owner.group_id, unique_id,
                clean_data, dict(options or {}), kinds, manifest.config_schema_version,
            )
            await self._secrets.put(c, OWNER_KIND, entry_id, plain)
        log.info("config_entry_created", entry_id=entry_id, domain=domain, scope=owner.scope,
                 secret_fields=len(plain))
        return entry_from_row(row)

    async def create_from_flow(
        self,
        *,
        domain: str,
        context: FlowContext,
        title: str,
        data: Mapping[str, Any],
        secrets: Mapping[str, str | SecretStr],
        secret_kinds: Mapping[str, str],
        conn: asyncpg.Connection | None = None,
    ) -> ConfigEntry:
        owner = EntryOwner(context.scope, context.owner_sub, context.org_id, context.group_id)
        return await self.create(domain=domain, owner=owner, title=title, data=data, secrets=secrets,
                                 secret_kinds=secret_kinds, unique_id=context.unique_id, conn=conn)

    # -- read -----------------------------------------------------------------------
    async def get(self, entry_id: str) -> ConfigEntry:
        async with self._pool.acquire() as c:
            return entry_from_row(await self._row(c, entry_id))

    async def read_masked(self, entry_id: str) -> dict[str, Any]:
        """The entry for a client: data as stored, each secret field as its mask.

        A ``password`` mask may end in the value's last four characters, so such fields are
        decrypted here to build it; ``secret`` fields are never decrypted for reading.
        """
        async with self._pool.acquire() as c:
            row = await self._row(c, entry_id)
            kinds: dict[str, str] = dict(row["secret_kinds"])
            hinted = {}
            if "password" in kinds.values():
                hinted = await self._secrets.reveal(c, OWNER_KIND, entry_id)
        entry = entry_from_row(row)
        out = entry.model_dump(mode="json", exclude={"secret_fields"})
        out["secrets"] = {f: mask_value(kind, hinted.get(f)) for f, kind in kinds.items()}
        return out

    # -- update ---------------------------------------------------------------------
    async def update(
        self,
        entry_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str | SecretStr | None] | None = None,
        secret_kinds: Mapping[str, str] | None = None,
        title: str | None = None,
        options: Mapping[str, Any] | None = None,
        merge_data: bool = False,
        expected_revision: int | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> ConfigEntry:
        """Change an entry; ``revision`` goes up by one when anything changed.

        ``data`` replaces the stored data (or is merged into it with ``merge_data``).
        ``secrets`` is per field: a value equal to the field's current mask keeps the stored
        secret (the masked round trip), ``None`` removes the field, anything else replaces it.
        """
        async with self._transaction(conn) as c:
            row = await self._row(c, entry_id, lock=True)
            if expected_revision is not None and row["revision"] != expected_revision:
                raise EntryRevisionConflictError(f"config entry {entry_id!r} changed since it was read")
            kinds: dict[str, str] = dict(row["secret_kinds"])
            to_put, to_delete = await self._secret_changes(c, entry_id, kinds, secrets or {}, secret_kinds or {})
            for f in to_delete:
                kinds.pop(f, None)
            base = dict(row["data"]) if data is None or merge_data else {}
            new_data = {k: v for k, v in {**base, **(data or {})}.items() if k not in kinds}
            new_title = row["title"] if title is None else title
            new_options = dict(row["options"]) if options is None else dict(options)
            if (new_data == row["data"] and new_title == row["title"] and new_options == row["options"]
                    and not to_put and not to_delete):
                return entry_from_row(row)
            updated = await c.fetchrow(
                """UPDATE config_entries SET data = $2, title = $3, options = $4, secret_kinds = $5,
                       revision = revision + 1, updated_at = now() WHERE id = $1 RETURNING *""",
                entry_id, new_data, new_title, new_options, kinds,
            )
            await self._secrets.put(c, OWNER_KIND, entry_id, to_put)
            if to_delete:
                await self._secrets.delete(c, OWNER_KIND, entry_id, to_delete)
        log.info("config_entry_updated", entry_id=entry_id, domain=row["domain"], revision=updated["revision"],
                 secrets_replaced=len(to_put), secrets_removed=len(to_delete))
        return entry_from_row(updated)

    async def _secret_changes(
        self,
        conn: asyncpg.Connection,
        entry_id: str,
        kinds: dict[str, str],
        submitted: Mapping[str, str | SecretStr | None],
        new_kinds: Mapping[str, str],
    ) -> tuple[dict[str, str], list[str]]:
        """Split submitted secrets into values to store and fields to drop; masks keep. Mutates ``kinds``."""
        to_put: dict[str, str] = {}
        to_delete: list[str] = []
        current: dict[str, str] | None = None
        for field, raw in submitted.items():
            if raw is None:
                if field in kinds:
                    to_delete.append(field)
                continue
            value = secret_text(field, raw)
            if looks_masked(value):
                if field not in kinds:
                    raise MaskedValueError(f"field {field!r} has no stored value to keep")
                stored = None
                if kinds[field] == "password":  # decrypt only when a password hint must be compared
                    if current is None:
                        current = await self._secrets.reveal(conn, OWNER_KIND, entry_id)
                    stored = current.get(field)
                if keeps_stored(value, mask_value(kinds[field], stored)):
                    continue
                raise MaskedValueError(f"field {field!r} was submitted with a mask that is not its current one")
            to_put[field] = value
            kinds[field] = _kind(new_kinds.get(field, kinds.get(field)))
        return to_put, to_delete

    async def set_disabled(self, entry_id: str, disabled: bool) -> ConfigEntry:
        async with self._pool.acquire() as c:
            row = await c.fetchrow(
                """UPDATE config_entries SET disabled = $2, revision = revision + 1, updated_at = now()
                   WHERE id = $1 RETURNING *""", entry_id, disabled)
        if row is None:
            raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
        log.info("config_entry_disabled_set", entry_id=entry_id, disabled=disabled)
        return entry_from_row(row)

    async def set_state(self, entry_id: str, state: ConfigEntryState, reason: str | None = None) -> ConfigEntry:
        """Record the runtime state. Not a configuration change, so ``revision`` stays."""
        state = ConfigEntryState(state)
        async with self._pool.acquire() as c:
            row = await c.fetchrow(
                "UPDATE config_entries SET state = $2, state_reason = $3, updated_at = now() WHERE id = $1 RETURNING *",
                entry_id, state.value, reason[:MAX_STATE_REASON] if reason else None,
            )
        if row is None:
            raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
        log.info("config_entry_state_set", entry_id=entry_id, domain=row["domain"], state=state.value)
        return entry_from_row(row)

    async def delete(self, entry_id: str) -> None:
        async with self._pool.acquire() as c, c.transaction():
            domain = await c.fetchval("DELETE FROM config_entries WHERE id = $1 RETURNING domain", entry_id)
            if domain is None:
                raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
            await self._secrets.delete(c, OWNER_KIND, entry_id)
        log.info("config_entry_deleted", entry_id=entry_id, domain=domain)

    # -- use ----------------------------------------------------------------------
    async def list_for_principal(self, principal: Principal, domain: str | None = None) -> list[ConfigEntry]:
        """The entries ``principal`` may use, most specific first per single-instance domain.

        Disabled entries, disabled integrations and entries in a scope the admin no longer
        allows are left out. For a single-instance integration only the most specific
        visible entry applies (user > group > org > global; oldest wins a tie).
        """
        async with self._pool.acquire() as c:
            rows = await c.fetch(
                f"""SELECT e.*, i.manifest AS integration_manifest FROM config_entries e
                    JOIN integrations i ON i.domain = e.domain
                    WHERE NOT e.disabled AND i.enabled AND e.scope = ANY(i.allowed_scopes)
                      AND ($4::text IS NULL OR e.domain = $4) AND {VISIBLE_TO_PRINCIPAL_SQL}
                    ORDER BY e.domain, e.created_at, e.id""",
                principal.sub, principal.org_id, list(principal.groups), domain,
            )
        chosen: dict[str, tuple[tuple[int, datetime, str], asyncpg.Record]] = {}
        result: list[asyncpg.Record] = []
        for row in rows:
            if not self._single_instance(row):
                result.append(row)
                continue
            rank = (PRECEDENCE[row["scope"]], row["created_at"], row["id"])
            if row["domain"] not in chosen or rank < chosen[row["domain"]][0]:
                chosen[row["domain"]] = (rank, row)
        result.extend(row for _, row in chosen.values())
        result.sort(key=lambda r: (r["domain"], PRECEDENCE[r["scope"]], r["created_at"], r["id"]))
        return [entry_from_row(r) for r in result]

    def _single_instance(self, row: Mapping[str, Any]) -> bool:
        # The loaded manifest is authoritative; a domain whose code is gone falls back to the
        # manifest the sync last stored, and to the manifest default (true) without one.
        try:
            return lookup_integration(self._lookup, row["domain"]).manifest.single_instance
        except IntegrationUnavailableError:
            stored = row["integration_manifest"] or {}
            return bool(stored.get("single_instance", True))

    async def build_setup_context(self, entry_id: str) -> SetupContext:
        """Decrypt the entry's secrets into a :class:`SetupContext`.

        Only activity code may call this: the result holds plaintext and must never enter a
        workflow input/result, Temporal history, or a log line.
        """
        async with self._pool.acquire() as c:
            row = await self._row(c, entry_id)
            plain = await self._secrets.reveal(c, OWNER_KIND, entry_id)
        return SetupContext(
            entry_id=row["id"], domain=row["domain"], scope=row["scope"], owner_sub=row["owner_sub"],
            org_id=row["org_id"], group_id=row["group_id"], data=dict(row["data"]), secrets=Secrets(plain),
            version=row["version"], title=row["title"], options=dict(row["options"]),
            **(self.context_extras(row["id"], row["domain"], plain) if self.context_extras else {}),
        )

    async def migrate_if_needed(self, entry: ConfigEntry, integration: Integration) -> ConfigEntry:
        """Bring ``entry`` to the manifest's ``config_schema_version`` (activity code only: it decrypts).

        Success stores the migrated data and version. A raising migration, or an entry newer
        than the code, leaves data and version untouched and marks the entry ``migration_error``.
        """
        target = integration.manifest.config_schema_version
        if entry.version == target:
            return entry
        fields = {"entry_id": entry.id, "domain": entry.domain, "from_version": entry.version, "to_version": target}
        if entry.version > target:
            log.warning("config_entry_version_newer_than_integration", **fields)
            return await self.set_state(entry.id, ConfigEntryState.MIGRATION_ERROR,
                                        "entry version is newer than the integration supports")
        ctx = await self.build_setup_context(entry.id)
        try:
            new_data = await integration.async_migrate_entry(ctx, entry.version)
            if new_data is not None and not isinstance(new_data, Mapping):
                raise TypeError("async_migrate_entry must return a mapping or None")
        except Exception as exc:
            log.warning("config_entry_migration_failed", **fields, error_type=type(exc).__name__, exc_info=True)
            return await self.set_state(entry.id, ConfigEntryState.MIGRATION_ERROR,
                                        f"migration from version {entry.version} failed ({type(exc).__name__})")
        if new_data is not None:
            # data is stored in clear: a migration must not copy a secret into it.
            dropped = [k for k in new_data if k in entry.secret_fields]
            if dropped:
                log.warning("config_entry_migration_dropped_secret_fields", **fields, dropped=len(dropped))
            new_data = {k: v for k, v in new_data.items() if k not in entry.secret_fields}
        async with self._pool.acquire() as c:
            row = await c.fetchrow(
                """UPDATE config_entries SET data = coalesce($3, data), version = $4, revision = revision + 1,
                       state = CASE WHEN state = 'migration_error' THEN 'not_loaded' ELSE state END,
                       state_reason = CASE WHEN state = 'migration_error' THEN NULL ELSE state_reason END,
                       updated_at = now()
                   WHERE id = $1 AND version = $2 RETURNING *""",
                entry.id, entry.version, new_data, target,
            )
        if row is None:  # someone else migrated (or deleted) it meanwhile
            return await self.get(entry.id)
        log.info("config_entry_migrated", **fields)
        return entry_from_row(row)
