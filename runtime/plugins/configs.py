"""Plugin configurations: a plugin's variables for one scope, owned like a config entry.

A plugin receives events only through an enabled configuration (loading code is not
consent to run it on everyone's events). One configuration per (plugin, owner). Variables
are validated against ``plugin.json``; secret ones are envelopes in ``secret_values``
(owner kind ``plugin_config``) and only :meth:`PluginConfigStore.reveal` (activity code)
decrypts them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Mapping

import asyncpg
from pydantic import BaseModel

from ..crypto.store import SecretStore
from ..integrations.scopes import EntryOwner, is_visible_to
from ..logging import get_logger
from ..principal import Principal
from .manifest import PluginManifest, PluginVariable
from .registry import PluginError

log = get_logger(__name__)
OWNER_KIND = "plugin_config"


class PluginVariableUnknownError(PluginError):
    key = "plugin_variable_unknown"


class PluginVariableInvalidError(PluginError):
    key = "plugin_variable_invalid"


class PluginVariableRequiredError(PluginError):
    key = "plugin_variable_required"


class PluginConfigNotFoundError(PluginError):
    key = "plugin_config_not_found"


class PluginConfig(BaseModel):
    id: str
    plugin_id: str
    scope: str
    owner_sub: str | None = None
    org_id: str | None = None
    group_id: str | None = None
    variables: dict[str, Any]
    secret_variables: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @property
    def owner(self) -> EntryOwner:
        return EntryOwner(self.scope, self.owner_sub, self.org_id, self.group_id)  # type: ignore[arg-type]

    def sees_session_of(self, principal: Principal) -> bool:
        """A session's events reach the configurations whose owner the session's principal can see."""
        return is_visible_to(principal, self.scope, self.owner_sub, self.org_id, self.group_id)

    def sees_entry(self, owner: EntryOwner | None) -> bool:
        """An entry's events reach global configurations and the ones with the entry's own owner."""
        return self.scope == "global" or (owner is not None and owner == self.owner)


def coerce(variable: PluginVariable, value: Any) -> Any:
    """A value of the variable's declared type; text from a CLI (``"true"``, ``"3"``, ``"[1]"``) is accepted."""
    try:
        if variable.type == "string":
            if not isinstance(value, str):
                raise ValueError("expected text")
            return value
        if variable.type == "number":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            if isinstance(value, str):
                value = float(value) if any(c in value for c in ".eE") else int(value)
            if not isinstance(value, (int, float)):
                raise ValueError("expected a number")
            return value
        if variable.type == "boolean":
            if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
                return value.lower() in {"true", "1", "yes"}
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ValueError("expected a list")
        return value
    except ValueError as exc:
        raise PluginVariableInvalidError(f"variable {variable.name!r} ({variable.type}): {exc}") from None


def _config(row: asyncpg.Record) -> PluginConfig:
    return PluginConfig(**{k: row[k] for k in PluginConfig.model_fields if k != "secret_variables"},
                        secret_variables=list(row["secret_variables"]))


class PluginConfigStore:
    def __init__(self, pool: asyncpg.Pool, secrets: SecretStore) -> None:
        self._pool = pool
        self._secrets = secrets

    async def configure(
        self,
        manifest: PluginManifest,
        owner: EntryOwner,
        *,
        variables: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        enabled: bool = True,
    ) -> PluginConfig:
        """Create or update the plugin's configuration for ``owner``; given variables replace stored ones."""
        clean: dict[str, Any] = {}
        for name, value in (variables or {}).items():
            var = manifest.variable(name)
            if var is None:
                raise PluginVariableUnknownError(f"plugin {manifest.id!r} declares no variable {name!r}")
            if var.secret:
                raise PluginVariableInvalidError(f"variable {name!r} is secret: set it as a secret, not in clear")
            clean[name] = coerce(var, value)
        plain: dict[str, str] = {}
        for name, value in (secrets or {}).items():
            var = manifest.variable(name)
            if var is None or not var.secret:
                raise PluginVariableUnknownError(f"plugin {manifest.id!r} declares no secret variable {name!r}")
            plain[name] = coerce(var, value)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """INSERT INTO plugin_configs (id, plugin_id, scope, owner_sub, org_id, group_id, variables,
                       secret_variables, enabled)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                   ON CONFLICT (plugin_id, scope, coalesce(owner_sub, ''), coalesce(org_id, ''), coalesce(group_id, ''))
                   DO UPDATE SET variables = plugin_configs.variables || EXCLUDED.variables,
                       secret_variables = ARRAY(SELECT DISTINCT unnest(plugin_configs.secret_variables
                                                                       || EXCLUDED.secret_variables) ORDER BY 1),
                       enabled = EXCLUDED.enabled, updated_at = now()
                   RETURNING *""",
                uuid.uuid4().hex, manifest.id, owner.scope, owner.owner_sub, owner.org_id, owner.group_id, clean,
                sorted(plain), enabled,
            )
            have = {*row["variables"], *row["secret_variables"]}
            missing = [v.name for v in manifest.variables if v.required and v.default is None and v.name not in have]
            if missing:  # raising here rolls the configuration back
                raise PluginVariableRequiredError(f"plugin {manifest.id!r} needs {', '.join(missing)}")
            await self._secrets.put(conn, OWNER_KIND, row["id"], plain)
        log.info("plugin_configured", plugin_id=manifest.id, config_id=row["id"], scope=owner.scope,
                 variables=len(clean), secret_variables=len(plain), enabled=enabled)
        return _config(row)

    async def set_enabled(self, plugin_id: str, owner: EntryOwner, enabled: bool) -> PluginConfig:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                """UPDATE plugin_configs SET enabled = $6, updated_at = now()
                   WHERE plugin_id = $1 AND scope = $2 AND owner_sub IS NOT DISTINCT FROM $3
                     AND org_id IS NOT DISTINCT FROM $4 AND group_id IS NOT DISTINCT FROM $5 RETURNING *""",
                plugin_id, owner.scope, owner.owner_sub, owner.org_id, owner.group_id, enabled)
        if row is None:
            raise PluginConfigNotFoundError(f"plugin {plugin_id!r} has no {owner.scope} configuration for that owner")
        log.info("plugin_enabled_set", plugin_id=plugin_id, config_id=row["id"], enabled=enabled)
        return _config(row)

    async def get(self, config_id: str) -> PluginConfig | None:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM plugin_configs WHERE id = $1", config_id)
        return _config(row) if row else None

    async def list(self, plugin_id: str | None = None, *, enabled_only: bool = False) -> list[PluginConfig]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT * FROM plugin_configs WHERE ($1::text IS NULL OR plugin_id = $1) AND (NOT $2 OR enabled)
                   ORDER BY plugin_id, scope, created_at, id""", plugin_id, enabled_only)
        return [_config(r) for r in rows]

    async def delete(self, config_id: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("DELETE FROM plugin_configs WHERE id = $1 RETURNING id", config_id) is None:
                raise PluginConfigNotFoundError(f"plugin configuration {config_id!r} does not exist")
            await self._secrets.delete(conn, OWNER_KIND, config_id)

    async def reveal(self, config: PluginConfig, manifest: PluginManifest) -> dict[str, Any]:
        """The variables a handler sees (``sdk.config``): defaults, stored values, decrypted secrets.

        Only activity code may call this: the result holds plaintext.
        """
        values: dict[str, Any] = {v.name: v.default for v in manifest.variables if v.default is not None}
        values.update(config.variables)
        if config.secret_variables:
            async with self._pool.acquire() as conn:
                values.update(await self._secrets.reveal(conn, OWNER_KIND, config.id))
        return values
