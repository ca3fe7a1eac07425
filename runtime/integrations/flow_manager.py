"""The config-flow engine: runs an integration's ConfigFlow one step per request.

Between requests a flow lives in ``config_flows`` (its secrets encrypted apart, see
:mod:`.flow_store`); each request rebuilds the flow object from there. Submitted input
is validated against the fields of the form last shown before any integration code
sees it, so a step only ever receives clean values. A step that raises shows its form
again with ``errors={"base": "unknown"}``; the exception goes to the log, never to the
client.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import asyncpg
from pydantic import SecretStr

from ..crypto.store import SecretStore
from ..logging import get_logger, register_secret
from ..principal import Principal
from .config_errors import (
    AlreadyConfiguredError,
    EntryNotFoundError,
    FlowConflictError,
    FlowInputInvalidError,
    FlowInputTooLargeError,
    FlowNotFoundError,
    FlowSourceError,
)
from .entries import ConfigEntry, EntriesService
from .fields import SECRET_TYPES, FieldDescriptor, validate_form
from .flow import AbortFlow, ConfigFlow, FlowContext, FlowResult, FlowResultType
from .flow_store import FlowStore, StoredFlow
from .flow_view import FlowView, abort_view, create_view, form_view
from .lookup import IntegrationLookup, LoadedIntegrationLike, flow_class_of, lookup_integration
from .scopes import EntryOwner, may_manage
from .translations import Translator

MAX_INPUT_BYTES = 64 * 1024
SOURCES = ("user", "reconfigure", "reauth")
_STEP_ID = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

log = get_logger(__name__)


@dataclass
class _Run:
    """What one request knows about the flow it drives."""

    flow_id: str
    loaded: LoadedIntegrationLike
    tr: Translator
    principal: Principal
    context: FlowContext
    entry: ConfigEntry | None = None
    stored: StoredFlow | None = None
    field_types: dict[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.loaded.manifest.domain

    @property
    def prefill(self) -> Mapping[str, Any] | None:
        # Reconfigure/reauth forms start from the entry's current non-secret values.
        return self.entry.data if self.entry is not None else None


def split_entry_data(
    data: Mapping[str, Any], field_types: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """Final flow data -> (non-secret data, secret values, secret kinds), by the field types shown."""
    plain: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for name, value in data.items():
        kind = field_types.get(name)
        if kind in SECRET_TYPES or isinstance(value, SecretStr):
            secrets[name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            kinds[name] = kind if kind in SECRET_TYPES else "secret"
        else:
            plain[name] = value
    return plain, secrets, kinds


def _checked_input(user_input: Any) -> dict[str, Any]:
    if user_input is None:
        return {}
    if not isinstance(user_input, Mapping):
        raise FlowInputInvalidError("flow input must be an object of field values")
    try:
        size = len(json.dumps(user_input, default=str, ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        raise FlowInputInvalidError("flow input is not serialisable") from None
    if size > MAX_INPUT_BYTES:
        raise FlowInputTooLargeError(f"flow input is {size} bytes; the limit is {MAX_INPUT_BYTES}")
    return dict(user_input)


class FlowManager:
    def __init__(
        self,
        pool: asyncpg.Pool,
        secret_store: SecretStore,
        registry_lookup: IntegrationLookup,
        entries_service: EntriesService,
        ttl_seconds: int = 600,
    ) -> None:
        self._pool = pool
        self._lookup = registry_lookup
        self._entries = entries_service
        self._ttl = ttl_seconds
        self._store = FlowStore(secret_store)

    # -- public API -------------------------------------------------------------------
    async def start(
        self,
        domain: str,
        principal: Principal,
        scope: str = "user",
        source: str = "user",
        entry_id: str | None = None,
        lang: str = "en",
        *,
        group_id: str | None = None,
    ) -> FlowView:
        """Start a flow and show its first form (or create the entry at once when there is no flow).

        ``source="reconfigure"``/``"reauth"`` update ``entry_id``, which the principal must be
        allowed to manage; ``scope`` and ``group_id`` then come from the entry.
        """
        if source not in SOURCES:
            raise FlowSourceError(f"unknown flow source {source!r}")
        loaded = lookup_integration(self._lookup, domain)
        tr = Translator(loaded.path, lang)
        entry = None
        if source == "user":
            owner = EntryOwner.for_principal(principal, scope, group_id)
            await self._entries.check_configurable(domain, owner.scope)
        else:
            if entry_id is None:
                raise FlowSourceError("a reconfigure or reauth flow needs the entry it updates")
            entry = await self._manageable_entry(entry_id, domain, principal)
            owner = entry.owner
        context = FlowContext(
            source=source, scope=owner.scope, owner_sub=owner.owner_sub, org_id=owner.org_id,
            group_id=owner.group_id, entry_id=entry_id, unique_id=entry.unique_id if entry else None,
        )
        run = _Run(uuid.uuid4().hex, loaded, tr, principal, context, entry)
        if source == "user" and loaded.manifest.single_instance and await self._entries.owner_has_entry(domain, owner):
            return abort_view(tr, domain=domain, flow_id=None, reason="already_configured")
        cls = flow_class_of(loaded)
        if cls is None:
            if source != "user":
                return abort_view(tr, domain=domain, flow_id=None, reason="reconfigure_not_supported")
            return await self._create_without_form(run, owner)
        log.info("config_flow_started", flow_id=run.flow_id, domain=domain, source=source, scope=owner.scope)
        try:
            flow = self._instantiate(cls, run, {})
            result = await self._call_step(flow, source, None)
        except AbortFlow as exc:
            return abort_view(tr, domain=domain, flow_id=None, reason=exc.reason)
        except Exception:
            # No form was shown yet, so there is nothing to show again: the flow cannot start.
            log.exception("config_flow_step_failed", flow_id=run.flow_id, domain=domain, step_id=source)
            return abort_view(tr, domain=domain, flow_id=None, reason="unknown")
        return await self._advance(run, flow, result)

    async def submit(
        self, flow_id: str, user_input: Mapping[str, Any] | None, principal: Principal, lang: str = "en"
    ) -> FlowView:
        """Validate input against the form last shown; only clean input reaches the step."""
        values = _checked_input(user_input)
        async with self._pool.acquire() as c:
            stored = await self._store.load(c, flow_id, principal)
        loaded = lookup_integration(self._lookup, stored.domain)
        run = _Run(flow_id, loaded, Translator(loaded.path, lang), principal, stored.context,
                   stored=stored, field_types=dict(stored.field_types))
        if stored.context.source != "user":
            try:
                run.entry = await self._entries.get(stored.context.entry_id or "")
            except EntryNotFoundError:
                return await self._abort(run, "entry_not_found")
        clean, errors = validate_form(stored.fields, values)
        if errors:
            return self._form(run, stored.step_id, stored.fields, errors)
        for f in stored.fields:  # typed secrets must be scrubbed from any log line, tracebacks included
            if f.is_secret and isinstance(clean.get(f.name), str):
                register_secret(clean[f.name])
        cls = flow_class_of(loaded)
        if cls is None:
            return await self._abort(run, "unknown")
        try:
            flow = self._instantiate(cls, run, stored.collected)
            flow._collected.update(clean)
            result = await self._call_step(flow, stored.step_id, clean)
        except AbortFlow as exc:
            return await self._abort(run, exc.reason)
        except Exception:
            log.exception("config_flow_step_failed", flow_id=flow_id, domain=run.domain, step_id=stored.step_id)
            return self._form(run, stored.step_id, stored.fields, {"base": "unknown"})
        return await self._advance(run, flow, result)

    async def get(self, flow_id: str, principal: Principal, lang: str = "en") -> FlowView:
        """The form the flow is waiting on, e.g. for a client that reloaded."""
        async with self._pool.acquire() as c:
            stored = await self._store.load(c, flow_id, principal, reveal=False)
        loaded = lookup_integration(self._lookup, stored.domain)
        run = _Run(flow_id, loaded, Translator(loaded.path, lang), principal, stored.context, stored=stored)
        if stored.context.source != "user" and stored.context.entry_id:
            try:
                run.entry = await self._entries.get(stored.context.entry_id)
            except EntryNotFoundError:
                pass
        return self._form(run, stored.step_id, stored.fields, {})

    async def abort(self, flow_id: str, principal: Principal | None = None) -> None:
        """Drop a flow and its secrets. With ``principal``, only that principal's flow."""
        async with self._pool.acquire() as c:
            if principal is not None:
                await self._store.load(c, flow_id, principal, reveal=False)
            if not await self._store.delete(c, flow_id):
                raise FlowNotFoundError(f"flow {flow_id!r} does not exist")
        log.info("config_flow_aborted", flow_id=flow_id, reason="client_abort")

    async def sweep_expired(self) -> int:
        """Remove every expired flow and its secrets (a periodic job; expired flows also go on access)."""
        async with self._pool.acquire() as c:
            removed = await self._store.sweep_expired(c)
        if removed:
            log.info("config_flows_swept", removed=removed)
        return removed

    # -- steps ----------------------------------------------------------------------
    def _instantiate(self, cls: type[ConfigFlow], run: _Run, collected: Mapping[str, Any]) -> ConfigFlow:
        flow = cls()
        flow.context = run.context.model_copy()
        flow._collected = dict(collected)
        owner = EntryOwner(run.context.scope, run.context.owner_sub, run.context.org_id, run.context.group_id)
        entries, domain = self._entries, run.domain

        async def unique_id_taken(unique_id: str) -> bool:
            return await entries.unique_id_taken(domain, owner, unique_id)

        flow._unique_id_taken = unique_id_taken
        flow.entry_data = MappingProxyType(dict(run.entry.data) if run.entry else {})
        return flow

    @staticmethod
    async def _call_step(flow: ConfigFlow, step_id: str, user_input: dict[str, Any] | None) -> FlowResult:
        result = await getattr(flow, f"async_step_{step_id}")(user_input)
        if not isinstance(result, FlowResult):
            raise TypeError(f"async_step_{step_id} returned {type(result).__name__}, not a FlowResult")
        return result

    def _context_after(self, run: _Run, flow: ConfigFlow) -> FlowContext:
        # Only the unique id is the flow's to set; scope and owner were authorised at start
        # and a step must not be able to move the entry elsewhere.
        return run.context.model_copy(update={"unique_id": flow.context.unique_id})

    async def _advance(self, run: _Run, flow: ConfigFlow, result: FlowResult) -> FlowView:
        if result.type == FlowResultType.ABORT:
            return await self._abort(run, result.reason or "unknown")
        if result.type == FlowResultType.CREATE_ENTRY:
            return await self._finish(run, flow, result)
        step_id = result.step_id or ""
        if not _STEP_ID.match(step_id) or not callable(getattr(flow, f"async_step_{step_id}", None)):
            log.error("config_flow_unknown_step", flow_id=run.flow_id, domain=run.domain, step_id=step_id[:64])
            return await self._abort(run, "unknown")
        run.field_types.update({f.name: f.type for f in result.fields})
        context = self._context_after(run, flow)
        state = dict(step_id=step_id, context=context, collected=flow._collected, fields=result.fields,
                     field_types=run.field_types, ttl_seconds=self._ttl)
        async with self._pool.acquire() as c, c.transaction():
            if run.stored is None:
                await self._store.insert(c, flow_id=run.flow_id, domain=run.domain,
                                         principal_sub=run.principal.sub, **state)  # type: ignore[arg-type]
            else:
                await self._store.save(c, run.stored, **state)  # type: ignore[arg-type]
        log.info("config_flow_step_shown", flow_id=run.flow_id, domain=run.domain, step_id=step_id)
        return self._form(run, step_id, result.fields, result.errors, result.description_placeholders)

    async def _finish(self, run: _Run, flow: ConfigFlow, result: FlowResult) -> FlowView:
        context = self._context_after(run, flow)
        data, secrets, kinds = split_entry_data(result.data, run.field_types)
        try:
            async with self._pool.acquire() as c, c.transaction():
                if context.source == "user":
                    entry = await self._entries.create_from_flow(
                        domain=run.domain, context=context, title=result.title or run.loaded.manifest.name,
                        data=data, secrets=secrets, secret_kinds=kinds, conn=c,
                    )
                else:
                    assert run.entry is not None
                    if run.entry.unique_id and context.unique_id and context.unique_id != run.entry.unique_id:
                        raise AbortFlow("unique_id_mismatch")
                    # Merge: a reauth form typically returns only the new secret.
                    entry = await self._entries.update(run.entry.id, data=data, secrets=secrets,
                                                       secret_kinds=kinds, merge_data=True, conn=c)
                if run.stored is not None and not await self._store.delete(c, run.flow_id, expected_seq=run.stored.seq):
                    raise FlowConflictError(f"flow {run.flow_id!r} advanced meanwhile; reload it")
        except AlreadyConfiguredError:
            return await self._abort(run, "already_configured")
        except AbortFlow as exc:
            return await self._abort(run, exc.reason)
        log.info("config_flow_finished", flow_id=run.flow_id, domain=run.domain, entry_id=entry.id,
                 source=context.source)
        flow_id = run.flow_id if run.stored is not None else None
        return create_view(domain=run.domain, flow_id=flow_id, entry_id=entry.id, title=entry.title)

    async def _create_without_form(self, run: _Run, owner: EntryOwner) -> FlowView:
        try:
            entry = await self._entries.create(domain=run.domain, owner=owner, title=run.loaded.manifest.name)
        except AlreadyConfiguredError:
            return abort_view(run.tr, domain=run.domain, flow_id=None, reason="already_configured")
        return create_view(domain=run.domain, flow_id=None, entry_id=entry.id, title=entry.title)

    async def _abort(self, run: _Run, reason: str) -> FlowView:
        if run.stored is not None:
            async with self._pool.acquire() as c:
                await self._store.delete(c, run.flow_id)
        log.info("config_flow_aborted", flow_id=run.flow_id, domain=run.domain, reason=reason)
        flow_id = run.flow_id if run.stored is not None else None  # an id never stored means nothing to a client
        return abort_view(run.tr, domain=run.domain, flow_id=flow_id, reason=reason)

    def _form(self, run: _Run, step_id: str, fields: list[FieldDescriptor], errors: Mapping[str, str],
              placeholders: Mapping[str, str] | None = None) -> FlowView:
        return form_view(run.tr, domain=run.domain, flow_id=run.flow_id, step_id=step_id, fields=fields,
                         errors=errors, placeholders=placeholders, prefill=run.prefill)

    async def _manageable_entry(self, entry_id: str, domain: str, principal: Principal) -> ConfigEntry:
        entry = await self._entries.get(entry_id)
        if entry.domain != domain or not may_manage(principal, entry.scope, entry.owner_sub, entry.org_id,
                                                    entry.group_id):
            # The same error as a missing entry: another principal's entry ids reveal nothing.
            raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
        return entry
