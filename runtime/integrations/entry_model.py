"""A config entry as clients and workflows see it: configuration and state, never a secret value."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, SecretStr

from ..tiers import TierField
from .config_errors import ConfigEntryError
from .entry_states import ConfigEntryState
from .scopes import EntryOwner, Scope


class ConfigEntry(BaseModel):
    """One entry as clients and workflows may see it: no secret values, only their field names."""

    model_config = ConfigDict(frozen=True)

    id: str
    domain: str
    title: str
    scope: Scope
    owner_sub: str | None = None
    org_id: str | None = None
    group_id: str | None = None
    unique_id: str | None = None
    data: dict[str, Any]
    options: dict[str, Any]
    secret_fields: list[str]
    version: int
    state: ConfigEntryState
    state_reason: str | None = None
    disabled: bool = False
    required_tier_override: TierField | None = None
    revision: int
    created_at: datetime
    updated_at: datetime

    @property
    def owner(self) -> EntryOwner:
        return EntryOwner(self.scope, self.owner_sub, self.org_id, self.group_id)


def entry_from_row(row: Mapping[str, Any]) -> ConfigEntry:
    return ConfigEntry(
        **{k: row[k] for k in (
            "id", "domain", "title", "scope", "owner_sub", "org_id", "group_id", "unique_id", "data",
            "options", "version", "state_reason", "disabled", "required_tier_override", "revision",
            "created_at", "updated_at")},
        secret_fields=sorted(row["secret_kinds"]),
        state=ConfigEntryState(row["state"]),
    )


def secret_text(field: str, value: object) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise ConfigEntryError(f"secret field {field!r} must be text", key="entry_secret_invalid")
    return value
