"""Test integrations and wiring for the config-flow and config-entry tests.

Integrations are built in-process (no discovery): a manifest, an Integration object and
an optional flow class, plus a translations folder in a temp dir. ``Registry`` is a
stand-in with the one method the services use, so these tests do not depend on how
discovery builds its registry.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import asyncpg

from runtime.crypto.store import SecretStore
from runtime.integrations import (
    ConfigFlow,
    FieldDescriptor,
    FlowResult,
    Integration,
    IntegrationManifest,
    SelectOption,
    SimpleConfigFlow,
)
from runtime.integrations.entries import EntriesService
from runtime.integrations.flow_manager import FlowManager
from runtime.principal import Principal

ALICE = Principal(sub="alice", org_id="acme", groups=("eng",))
BOB = Principal(sub="bob", org_id="acme", groups=("ops",))
ADMIN = Principal(sub="root", org_id="acme", groups=("eng", "ops"), is_admin=True)


@dataclass(frozen=True)
class Loaded:
    domain: str
    manifest: IntegrationManifest
    integration: Integration
    path: Path
    config_flow_cls: type[ConfigFlow] | None = None


class Registry:
    def __init__(self, loaded: Iterable[Loaded] = ()) -> None:
        self._by_domain = {item.domain: item for item in loaded}

    def add(self, item: Loaded) -> Loaded:
        self._by_domain[item.domain] = item
        return item

    def get(self, domain: str) -> Loaded:
        return self._by_domain[domain]  # KeyError, like a registry that knows nothing of it


def make_loaded(
    root: Path,
    domain: str,
    *,
    flow: type[ConfigFlow] | None = None,
    integration: Integration | None = None,
    translations: dict[str, dict[str, Any]] | None = None,
    **manifest_fields: Any,
) -> Loaded:
    manifest = IntegrationManifest(domain=domain, name=domain.replace("_", " ").title(),
                                   config_flow=flow is not None, **manifest_fields)
    obj = integration or Integration()
    obj.manifest = manifest
    path = root / domain
    (path / "translations").mkdir(parents=True, exist_ok=True)
    for lang, texts in (translations or {}).items():
        (path / "translations" / f"{lang}.json").write_text(json.dumps(texts), encoding="utf-8")
    return Loaded(domain, manifest, obj, path, flow)


async def register_rows(
    pool: asyncpg.Pool, *loaded: Loaded, enabled: bool = True, allowed_scopes: list[str] | None = None
) -> None:
    """What the registry sync would write: one ``integrations`` row per domain, status loaded."""
    async with pool.acquire() as conn:
        for item in loaded:
            await conn.execute(
                """INSERT INTO integrations (domain, name, version, status, manifest, enabled, allowed_scopes)
                   VALUES ($1, $2, $3, 'loaded', $4, $5, $6)
                   ON CONFLICT (domain) DO UPDATE SET enabled = EXCLUDED.enabled,
                       allowed_scopes = EXCLUDED.allowed_scopes, manifest = EXCLUDED.manifest""",
                item.domain, item.manifest.name, item.manifest.version, item.manifest.model_dump(mode="json"),
                enabled, allowed_scopes or ["user", "org", "global", "group"],
            )


def services(
    pool: asyncpg.Pool, secret_store: SecretStore, registry: Registry, ttl_seconds: int = 600
) -> tuple[EntriesService, FlowManager]:
    entries = EntriesService(pool, secret_store, registry)
    return entries, FlowManager(pool, secret_store, registry, entries, ttl_seconds=ttl_seconds)


def encodings_of(secret: str) -> list[str]:
    """The plaintext and the encodings a careless store might use for it."""
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), raw.hex(),
            json.dumps(secret)]


async def all_rows_text(conn: asyncpg.Connection, table: str) -> str:
    rows = await conn.fetch(f"SELECT row_to_json(t)::text AS j FROM {table} t")
    return "\n".join(r["j"] for r in rows)


# -- test integrations --------------------------------------------------------------

class ConnectFlow(SimpleConfigFlow):
    """A one-form flow: host, port and a password; the title is the host."""

    domain = "connect"
    SCHEMA = [
        FieldDescriptor(name="host", label="field.host.label", type="text", required=True),
        FieldDescriptor(name="port", type="number", min=1, max=65535, default=443),
        FieldDescriptor(name="password", type="password", required=True),
    ]
    TITLE_FIELD = "host"


class WizardFlow(ConfigFlow):
    """Three steps: account + key -> region -> confirm; the entry's data is everything collected."""

    domain = "wizard"
    calls: list[tuple[str, dict[str, Any] | None]] = []

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        type(self).calls.append(("user", user_input))
        if user_input is None:
            return self.async_show_form(step_id="user", fields=[
                FieldDescriptor(name="account", type="text", required=True, max_length=64),
                FieldDescriptor(name="api_key", type="secret", required=True),
            ])
        await self.async_set_unique_id(user_input["account"].lower())
        await self._abort_if_unique_id_configured()
        return await self.async_step_region()

    async def async_step_region(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        type(self).calls.append(("region", user_input))
        if user_input is None:
            return self.async_show_form(step_id="region", fields=[
                FieldDescriptor(name="region", type="select", required=True,
                                options=(SelectOption(value="eu", label="Europe"),
                                         SelectOption(value="us", label="United States"))),
            ], description_placeholders={"account": self._collected["account"]})
        return self.async_show_form(step_id="confirm", fields=[
            FieldDescriptor(name="summary", type="note", label="Ready"),
        ])

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        type(self).calls.append(("confirm", user_input))
        return self.async_create_entry(title=f"{self._collected['account']} ({self._collected['region']})",
                                       data=dict(self._collected))

    async def async_step_reauth(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        if user_input is None:
            return self.async_show_form(step_id="reauth", fields=[
                FieldDescriptor(name="api_key", type="secret", required=True),
            ])
        return self.async_create_entry(title="", data={"api_key": user_input["api_key"]})


WIZARD_TRANSLATIONS = {
    "en": {
        "step": {"region": {"title": "Region", "description": "Where does {account} live?"}},
        "field": {"account": {"label": "Account"}, "api_key": {"label": "API key"}},
        "error": {"auth_failed": "The key was rejected."},
    },
    "de": {"field": {"account": {"label": "Konto"}}},
}


@dataclass
class Env:
    pool: asyncpg.Pool
    registry: Registry
    entries: EntriesService
    flows: FlowManager
    root: Path
    wizard: Loaded
    connect: Loaded


async def make_env(pool: asyncpg.Pool, secret_store: SecretStore, root: Path, ttl_seconds: int = 600) -> Env:
    """``wizard`` (three steps, multi-instance) and ``connect`` (one form, single-instance), registered."""
    WizardFlow.calls = []
    registry = Registry()
    wizard = registry.add(make_loaded(root, "wizard", flow=WizardFlow, single_instance=False,
                                      translations=WIZARD_TRANSLATIONS))
    connect = registry.add(make_loaded(root, "connect", flow=ConnectFlow, single_instance=True))
    await register_rows(pool, wizard, connect)
    entries, flows = services(pool, secret_store, registry, ttl_seconds)
    return Env(pool, registry, entries, flows, root, wizard, connect)
