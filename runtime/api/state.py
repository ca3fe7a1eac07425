"""What request handlers reach through ``request.app.state.agentrt``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
from fastapi import Request
from temporalio.client import Client

from ..integrations.flow_manager import FlowManager
from ..settings import Settings
from .errors import ApiError

if TYPE_CHECKING:
    from ..services import Services


@dataclass
class ApiState:
    settings: Settings
    services: "Services"
    client: Client | None
    flows: FlowManager = field(init=False)

    def __post_init__(self) -> None:
        ctx = self.services.ctx
        self.flows = FlowManager(ctx.pool, ctx.secrets, self.services.registry, self.services.entries,
                                 ttl_seconds=self.settings.integrations.flow_ttl_seconds)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.services.ctx.pool

    def temporal(self) -> Client:
        if self.client is None:
            raise ApiError("temporal_unavailable", "this API process has no Temporal client")
        return self.client


def get_state(request: Request) -> ApiState:
    state = getattr(request.app.state, "agentrt", None)
    if state is None:  # only between process start and the end of the lifespan's start-up
        raise ApiError("not_ready", "the API is still starting")
    return state
