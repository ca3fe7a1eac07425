"""Post-session completion: observer snapshots into ``sessions.logs``, ``run_completion`` results into annotations.

Which entries take part: the entries of integrations that implement ``session_observer`` or
``run_completion`` and that the session could use (``EntriesService.list_for_principal``);
entries the principal can see but that are disabled are recorded ``skipped``
(``entry_disabled``). Each entry's outcome is a row in ``session_completions``: one entry
failing never stops another. A result lands at ``annotations[<domain>][<entry id>]``.

Idempotent: a finished row is returned as recorded, so a retried activity never runs a
completion that already succeeded or was skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import asyncpg

from ..errors import AgentrtError
from ..integrations.config_errors import EntryNotFoundError
from ..integrations.integration import Integration
from ..integrations.scopes import VISIBLE_TO_PRINCIPAL_SQL
from ..logging import get_logger
from ..plugins.runner import call_handler
from ..principal import Principal
from .delivery import error_text
from .outbox import session_events
from .types import CompletionPlan, CompletionRunOutcome, CompletionTarget

if TYPE_CHECKING:
    from ..integrations.entry_model import ConfigEntry
    from ..services import Services

log = get_logger(__name__)
MAX_JSON_BYTES = 64 * 1024
COMPLETION_TIMEOUT_SECONDS = 300.0


class CompletionFailedError(AgentrtError):
    key = "completion_failed"


@dataclass(frozen=True)
class CompletionContext:
    """What ``run_completion(ctx, completion)`` gets beside the entry's SetupContext."""

    session_id: str
    principal: Principal
    entry_id: str
    domain: str
    snapshot: Mapping[str, Any] | None = None
    logs: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, Any] = field(default_factory=dict)


def overrides(integration: Integration, hook: str) -> bool:
    return getattr(type(integration), hook, None) is not getattr(Integration, hook)


def _bounded_json(value: Any) -> Any:
    """``value`` if it is JSON and at most 64 KiB of it; raises ValueError otherwise."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if len(text.encode()) > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES} bytes")
    return json.loads(text)


class CompletionService:
    def __init__(self, services: "Services") -> None:
        self.s = services

    def _hooked(self, hook: str) -> set[str]:
        return {i.domain for i in self.s.registry if overrides(i.integration, hook)}

    def active(self) -> bool:
        """Does any loaded integration observe sessions or complete them? If not, nothing to start."""
        return bool(self._hooked("session_observer") | self._hooked("run_completion"))

    async def _session(self, conn: asyncpg.Connection, session_id: str) -> asyncpg.Record | None:
        return await conn.fetchrow("SELECT principal, logs, annotations FROM sessions WHERE session_id = $1",
                                   session_id)

    async def prepare(self, session_id: str) -> CompletionPlan:
        observing, completing = self._hooked("session_observer"), self._hooked("run_completion")
        async with self.s.ctx.pool.acquire() as conn:
            row = await self._session(conn, session_id)
            if row is None:
                return CompletionPlan()
            principal = Principal.model_validate(row["principal"])
            events = await session_events(conn, session_id)
            disabled = await conn.fetch(
                f"""SELECT e.id, e.domain FROM config_entries e WHERE e.disabled AND e.domain = ANY($4::text[])
                    AND {VISIBLE_TO_PRINCIPAL_SQL}""",
                principal.sub, principal.org_id, list(principal.groups), sorted(completing))
        used = [e for e in await self.s.entries.list_for_principal(principal) if e.domain in observing | completing]
        snapshots = {e.id: {"domain": e.domain, "snapshot": await self._observe(e, events)}
                     for e in used if e.domain in observing}
        targets = [CompletionTarget(entry_id=e.id, domain=e.domain) for e in used if e.domain in completing]
        async with self.s.ctx.pool.acquire() as conn, conn.transaction():
            if snapshots:
                await conn.execute(
                    """UPDATE sessions SET logs = jsonb_set(logs, '{observers}',
                           coalesce(logs->'observers', '{}'::jsonb) || $2::jsonb), updated_at = now()
                       WHERE session_id = $1""", session_id, snapshots)
            await conn.executemany(
                """INSERT INTO session_completions (session_id, entry_id, domain, status, reason)
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id, entry_id) DO NOTHING""",
                [(session_id, t.entry_id, t.domain, "pending", None) for t in targets]
                + [(session_id, r["id"], r["domain"], "skipped", "entry_disabled") for r in disabled])
        log.info("session_completion_prepared", session_id=session_id, observed=len(snapshots),
                 targets=len(targets), skipped=len(disabled))
        return CompletionPlan(targets=targets, observed=len(snapshots), skipped=len(disabled))

    async def _observe(self, entry: "ConfigEntry", events: list[Any]) -> dict[str, Any] | None:
        """One entry's observer over the session's events. A failing observer yields an error marker."""
        integration = self.s.registry.get(entry.domain).integration
        try:
            observer = integration.session_observer(await self.s.entries.build_setup_context(entry.id))
            if observer is None:
                return None
            for event in events:
                observer.on_event(event)
            snapshot = observer.snapshot()
            return None if snapshot is None else _bounded_json(snapshot)
        except Exception as exc:
            log.warning("session_observer_failed", entry_id=entry.id, domain=entry.domain,
                        error_type=type(exc).__name__, exc_info=True)
            return {"error": "observer_failed"}

    async def run(self, session_id: str, entry_id: str) -> CompletionRunOutcome:
        pool = self.s.ctx.pool
        async with pool.acquire() as conn:
            done = await conn.fetchrow("SELECT status, reason FROM session_completions"
                                       " WHERE session_id = $1 AND entry_id = $2", session_id, entry_id)
            session = await self._session(conn, session_id)
        if done is not None and done["status"] != "pending":
            return CompletionRunOutcome(entry_id=entry_id, status=done["status"], reason=done["reason"])
        if session is None:
            return CompletionRunOutcome(entry_id=entry_id, status="skipped", reason="session_gone")
        try:
            entry = await self.s.entries.get(entry_id)
        except EntryNotFoundError:
            return await self._finish(session_id, entry_id, "skipped", "entry_gone")
        if entry.disabled:
            return await self._finish(session_id, entry_id, "skipped", "entry_disabled")
        if entry.domain not in self.s.registry:
            return await self._finish(session_id, entry_id, "skipped", "integration_unavailable")
        integration = self.s.registry.get(entry.domain).integration
        logs = dict(session["logs"] or {})
        completion = CompletionContext(
            session_id=session_id, principal=Principal.model_validate(session["principal"]), entry_id=entry_id,
            domain=entry.domain, snapshot=(logs.get("observers", {}).get(entry_id) or {}).get("snapshot"),
            logs=logs, annotations=dict(session["annotations"] or {}))
        async with pool.acquire() as conn:
            await conn.execute("UPDATE session_completions SET attempts = attempts + 1, updated_at = now()"
                               " WHERE session_id = $1 AND entry_id = $2", session_id, entry_id)
        try:
            ctx = await self.s.entries.build_setup_context(entry_id)
            result = await call_handler(integration.run_completion, ctx, completion,
                                        timeout=COMPLETION_TIMEOUT_SECONDS)
        except Exception as exc:
            async with pool.acquire() as conn:
                await conn.execute("UPDATE session_completions SET last_error = $3, updated_at = now()"
                                   " WHERE session_id = $1 AND entry_id = $2", session_id, entry_id, error_text(exc))
            log.warning("session_completion_failed", session_id=session_id, entry_id=entry_id, domain=entry.domain,
                        error_type=type(exc).__name__)
            raise CompletionFailedError(f"run_completion raised {type(exc).__name__}") from None
        if result is None:
            return await self._finish(session_id, entry_id, "skipped", "nothing_to_do")
        try:
            if not isinstance(result, Mapping):
                raise ValueError("not a mapping")
            value = _bounded_json(dict(result))
        except (TypeError, ValueError) as exc:
            return await self._finish(session_id, entry_id, "failed", "completion_result_invalid",
                                      error=f"{type(exc).__name__}: {exc}"[:500])
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """UPDATE sessions SET annotations = jsonb_set(annotations, ARRAY[$2::text],
                       coalesce(annotations->$2, '{}'::jsonb) || jsonb_build_object($3::text, $4::jsonb)),
                       updated_at = now() WHERE session_id = $1""", session_id, entry.domain, entry_id, value)
            outcome = await self._finish(session_id, entry_id, "ok", None, conn=conn)
        log.info("session_completion_done", session_id=session_id, entry_id=entry_id, domain=entry.domain)
        return outcome

    async def _finish(self, session_id: str, entry_id: str, status: str, reason: str | None, *,
                      error: str | None = None, conn: asyncpg.Connection | None = None) -> CompletionRunOutcome:
        sql = ("""UPDATE session_completions SET status = $3, reason = $4, last_error = coalesce($5, last_error),
                      updated_at = now() WHERE session_id = $1 AND entry_id = $2""")
        if conn is not None:
            await conn.execute(sql, session_id, entry_id, status, reason, error)
        else:
            async with self.s.ctx.pool.acquire() as own:
                await own.execute(sql, session_id, entry_id, status, reason, error)
        return CompletionRunOutcome(entry_id=entry_id, status=status, reason=reason)  # type: ignore[arg-type]

    async def record_failed(self, session_id: str, entry_id: str, reason: str) -> None:
        """The workflow gave up on an entry (retries spent): keep the key; the last error is already stored."""
        await self._finish(session_id, entry_id, "failed", reason[:100])
        log.warning("session_completion_gave_up", session_id=session_id, entry_id=entry_id, reason=reason[:100])
