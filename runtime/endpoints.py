"""Where Temporal and Postgres are: from settings, else from the running dev stack.

``agentrt dev`` writes ``<state_dir>/stack.json`` while it runs, so ``agentrt
worker``, ``migrate`` or ``chat`` in another terminal find it with no configuration.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import AgentrtError
from .settings import Settings

STACK_FILE = "stack.json"


class EndpointsUnknownError(AgentrtError):
    key = "endpoints_unknown"


@dataclass(frozen=True)
class Endpoints:
    temporal_address: str
    database_url: str
    temporal_ui: str | None = None
    api_url: str | None = None
    pid: int | None = None


def stack_file(settings: Settings) -> Path:
    return settings.resolved_state_dir() / STACK_FILE


def write_stack_file(settings: Settings, endpoints: Endpoints) -> None:
    path = stack_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(endpoints), indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def remove_stack_file(settings: Settings) -> None:
    stack_file(settings).unlink(missing_ok=True)


def _running_stack(settings: Settings) -> Endpoints | None:
    path = stack_file(settings)
    try:
        data = json.loads(path.read_text())
        endpoints = Endpoints(**data)
    except (OSError, ValueError, TypeError):
        return None
    if endpoints.pid is not None:
        try:
            os.kill(endpoints.pid, 0)
        except ProcessLookupError:
            return None  # a stale file from a stack that died
        except PermissionError:
            pass
    return endpoints


def resolve_endpoints(settings: Settings, *, need_database: bool = True, need_temporal: bool = True) -> Endpoints:
    """Settings first; whatever they leave unset comes from the running dev stack, if any."""
    address = settings.temporal.address
    url = settings.database.url.get_secret_value() if settings.database.url else None
    if (address or not need_temporal) and (url or not need_database):
        return Endpoints(temporal_address=address or "", database_url=url or "")
    stack = _running_stack(settings)
    if stack is None:
        wanted = ([("AGENTRT__TEMPORAL__ADDRESS", address)] if need_temporal else []) + (
            [("AGENTRT__DATABASE__URL", url)] if need_database else []
        )
        missing = [n for n, v in wanted if not v]
        raise EndpointsUnknownError(
            f"set {' and '.join(missing)}, or start the dev stack with `agentrt dev` (state dir {settings.resolved_state_dir()})"
        )
    return Endpoints(
        temporal_address=address or stack.temporal_address,
        database_url=url or stack.database_url,
        temporal_ui=stack.temporal_ui,
        api_url=stack.api_url,
    )
