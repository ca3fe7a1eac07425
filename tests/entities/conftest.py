"""Entity tests: the bundled and fixture integrations, ``things`` entries steered through files."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest

from runtime.entities.schedules import EntitySchedules, schedule_id
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "integrations"


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", FIXTURES])


class Things:
    """The control files of one ``things`` entry (see tests/fixtures/integrations/things)."""

    def __init__(self, entry: Any, control_dir: Path) -> None:
        self.entry = entry
        self.dir = control_dir

    @property
    def id(self) -> str:
        return self.entry.id

    def report(self, entities: list[dict[str, Any]]) -> None:
        (self.dir / "entities.json").write_text(json.dumps(entities))

    def fail_after(self, n: int | None) -> None:
        path = self.dir / "fail_after"
        path.unlink(missing_ok=True) if n is None else path.write_text(str(n))

    def health(self, up: bool) -> None:
        (self.dir / "health").write_text("up" if up else "down")

    def calls(self, hook: str | None = None) -> list[dict[str, Any]]:
        path = self.dir / "calls.jsonl"
        lines = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
        return [c for c in lines if hook is None or c["hook"] == hook]


def light(n: int, state: str = "off", **attributes: Any) -> dict[str, Any]:
    return {"entity_id": f"light.l{n}", "type": "light", "state": state,
            "attributes": {"brightness": 0, **attributes}, "actions": ["turn_on", "turn_off"]}


@pytest.fixture
def make_things(services, tmp_path) -> Callable[..., Awaitable[Things]]:
    async def make(scope: str = "global", *, owner_sub: str | None = None, options: dict | None = None,
                   secrets: dict[str, str] | None = None) -> Things:
        control = tmp_path / f"things-{uuid.uuid4().hex[:6]}"
        control.mkdir()
        entry = await services.entries.create(
            domain="things", owner=EntryOwner(scope, owner_sub), title="Things", data={"control_dir": str(control)},
            secrets=secrets or {}, options=options or {},
        )
        return Things(entry, control)

    return make


@pytest.fixture
async def schedules(temporal_client, services, settings) -> AsyncIterator[EntitySchedules]:
    """The test's schedules helper; every schedule a test made is deleted afterwards, so none
    keeps firing into a task queue nobody polls once the test is over."""
    helper = EntitySchedules(temporal_client, services.registry, settings.temporal.task_queue)
    yield helper
    async with services.ctx.pool.acquire() as conn:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM config_entries")]
    for entry_id in ids:
        await helper.remove(entry_id)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; the last value otherwise fails the test."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


async def schedule_exists(client, entry_id: str) -> bool:
    from temporalio.service import RPCError

    try:
        await client.get_schedule_handle(schedule_id(entry_id)).describe()
    except RPCError:
        return False
    return True
