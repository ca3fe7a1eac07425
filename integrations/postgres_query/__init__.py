"""Read-only SQL over a configured PostgreSQL database. ``required_tier: internal``."""

from __future__ import annotations

from typing import Any

from runtime.integrations import Integration, SetupContext
from runtime.logging import get_logger

from .config import PostgresQueryConfig
from .config_flow import PostgresQueryConfigFlow
from .runner import Database
from .tools import build_toolset

log = get_logger(__name__)


class PostgresQuerySetupRefused(Exception):
    def __init__(self) -> None:
        super().__init__("admin_scope_required: a postgres_query entry must be configured by an administrator")
        self.key = "admin_scope_required"


class PostgresQueryIntegration(Integration):
    config_flow_cls = PostgresQueryConfigFlow

    def __init__(self) -> None:
        # id(ctx) -> (ctx, database): the setup cache unloads with the very context it set up with.
        self._open: dict[int, tuple[SetupContext, Database]] = {}

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        if ctx.scope == "user":
            raise PostgresQuerySetupRefused()  # the flow refuses this; so does setup, for entries made otherwise
        db = Database(PostgresQueryConfig.model_validate({**ctx.data, **ctx.secrets}))
        self._open[id(ctx)] = (ctx, db)
        return [build_toolset(db)]

    async def async_unload_entry(self, ctx: SetupContext) -> None:
        held = self._open.pop(id(ctx), None)
        if held is not None and held[0] is ctx:
            await held[1].close()


INTEGRATION = PostgresQueryIntegration()
