"""In-progress config flows at rest: ``config_flows`` rows, their secret values in ``secret_values``.

Collected values of ``password``/``secret`` fields (and text values whose names look like
credentials, e.g. a token a step fetched) are envelope-encrypted under owner_kind
``config_flow``; the row keeps only the rest. Each value is stored as JSON text so any
type restores as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import asyncpg
from pydantic import SecretStr

from ..crypto.store import SecretStore
from ..logging import SECRET_KEY_PATTERN, get_logger, register_secret
from ..principal import Principal
from .config_errors import FlowConflictError, FlowExpiredError, FlowForbiddenError, FlowNotFoundError
from .fields import SECRET_TYPES, FieldDescriptor
from .flow import FlowContext

OWNER_KIND = "config_flow"

log = get_logger(__name__)


@dataclass(frozen=True)
class StoredFlow:
    flow_id: str
    domain: str
    principal_sub: str
    step_id: str
    context: FlowContext
    collected: dict[str, Any]  # including decrypted secret values once loaded
    fields: list[FieldDescriptor]
    field_types: dict[str, str]
    seq: int


def is_secret_value(name: str, value: Any, field_types: Mapping[str, str]) -> bool:
    """A declared field type decides; only a value no form declared is sealed by its secret-like name."""
    declared = field_types.get(name)
    if declared in SECRET_TYPES or isinstance(value, SecretStr):
        return True
    return declared is None and isinstance(value, str) and bool(SECRET_KEY_PATTERN.search(name))


def _split(collected: Mapping[str, Any], field_types: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    plain: dict[str, Any] = {}
    sealed: dict[str, str] = {}
    for name, value in collected.items():
        if is_secret_value(name, value, field_types):
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            sealed[name] = json.dumps(raw)
        else:
            plain[name] = value
    return plain, sealed


class FlowStore:
    def __init__(self, secret_store: SecretStore) -> None:
        self._secrets = secret_store

    async def insert(
        self,
        conn: asyncpg.Connection,
        *,
        flow_id: str,
        domain: str,
        principal_sub: str,
        step_id: str,
        context: FlowContext,
        collected: Mapping[str, Any],
        fields: list[FieldDescriptor],
        field_types: Mapping[str, str],
        ttl_seconds: int,
    ) -> None:
        plain, sealed = _split(collected, field_types)
        await conn.execute(
            """INSERT INTO config_flows (flow_id, domain, principal_sub, step_id, source, context, collected,
                   fields, field_types, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10))""",
            flow_id, domain, principal_sub, step_id, context.source, context.model_dump(mode="json"), plain,
            [f.model_dump(mode="json") for f in fields], dict(field_types), ttl_seconds,
        )
        await self._secrets.put(conn, OWNER_KIND, flow_id, sealed)

    async def save(
        self,
        conn: asyncpg.Connection,
        stored: StoredFlow,
        *,
        step_id: str,
        context: FlowContext,
        collected: Mapping[str, Any],
        fields: list[FieldDescriptor],
        field_types: Mapping[str, str],
        ttl_seconds: int,
    ) -> None:
        """Advance the flow; its TTL restarts (it counts idle time, not total time)."""
        plain, sealed = _split(collected, field_types)
        status = await conn.execute(
            """UPDATE config_flows SET step_id = $3, context = $4, collected = $5, fields = $6, field_types = $7,
                   seq = seq + 1, updated_at = now(), expires_at = now() + make_interval(secs => $8)
               WHERE flow_id = $1 AND seq = $2""",
            stored.flow_id, stored.seq, step_id, context.model_dump(mode="json"), plain,
            [f.model_dump(mode="json") for f in fields], dict(field_types), ttl_seconds,
        )
        if status.split()[-1] == "0":
            raise FlowConflictError(f"flow {stored.flow_id!r} advanced meanwhile; reload it")
        stale = set(await self._secrets.fields(conn, OWNER_KIND, stored.flow_id)) - set(sealed)
        await self._secrets.put(conn, OWNER_KIND, stored.flow_id, sealed)
        if stale:
            await self._secrets.delete(conn, OWNER_KIND, stored.flow_id, stale)

    async def load(
        self, conn: asyncpg.Connection, flow_id: str, principal: Principal, *, reveal: bool = True
    ) -> StoredFlow:
        """The flow as last saved. Raises not found / forbidden; an expired flow is removed, then raises.

        Call outside a transaction: the removal of an expired flow must commit although this raises.
        """
        row = await conn.fetchrow(
            "SELECT *, expires_at <= now() AS expired FROM config_flows WHERE flow_id = $1", flow_id
        )
        if row is None:
            raise FlowNotFoundError(f"flow {flow_id!r} does not exist")
        if row["principal_sub"] != principal.sub:
            raise FlowForbiddenError(f"flow {flow_id!r} belongs to another principal")
        if row["expired"]:
            await self.delete(conn, flow_id)
            log.info("config_flow_expired", flow_id=flow_id, domain=row["domain"])
            raise FlowExpiredError(f"flow {flow_id!r} expired; start again")
        collected = dict(row["collected"])
        if reveal:
            opened = await self._secrets.reveal(conn, OWNER_KIND, flow_id)
            for name, text in opened.items():
                value = json.loads(text)
                if isinstance(value, str):
                    register_secret(value)  # the store registered the JSON text; the log scrubber needs the value
                collected[name] = value
        return StoredFlow(
            flow_id=flow_id,
            domain=row["domain"],
            principal_sub=row["principal_sub"],
            step_id=row["step_id"],
            context=FlowContext.model_validate(row["context"]),
            collected=collected,
            fields=[FieldDescriptor.model_validate(f) for f in row["fields"]],
            field_types=dict(row["field_types"]),
            seq=row["seq"],
        )

    async def delete(self, conn: asyncpg.Connection, flow_id: str, *, expected_seq: int | None = None) -> bool:
        """Remove the flow and its secrets. With ``expected_seq``, only if nobody advanced it meanwhile."""
        async with conn.transaction():
            if expected_seq is None:
                status = await conn.execute("DELETE FROM config_flows WHERE flow_id = $1", flow_id)
            else:
                status = await conn.execute(
                    "DELETE FROM config_flows WHERE flow_id = $1 AND seq = $2", flow_id, expected_seq
                )
            deleted = status.split()[-1] != "0"
            if deleted:
                await self._secrets.delete(conn, OWNER_KIND, flow_id)
        return deleted

    async def sweep_expired(self, conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            ids = [r["flow_id"] for r in await conn.fetch(
                "DELETE FROM config_flows WHERE expires_at <= now() RETURNING flow_id")]
            if ids:
                await conn.execute(
                    "DELETE FROM secret_values WHERE owner_kind = $1 AND owner_id = ANY($2::text[])", OWNER_KIND, ids
                )
        return len(ids)
