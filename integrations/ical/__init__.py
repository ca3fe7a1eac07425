"""Calendar events from an iCalendar URL or file: an entity provider with a ``list_events`` tool."""

from __future__ import annotations

from typing import Any

from runtime.integrations import Entity, Health, Integration, SetupContext
from runtime.logging import get_logger

from .calendar_source import ENTITY_TYPE, CalendarReader, source_refusal, sync_window, to_entity
from .config import IcalConfig
from .config_flow import IcalConfigFlow
from .ics import CalendarError
from .tools import build_toolset

log = get_logger(__name__)


def _config(ctx: SetupContext) -> IcalConfig:
    return IcalConfig.model_validate({**ctx.data, **ctx.secrets})


class IcalIntegration(Integration):
    config_flow_cls = IcalConfigFlow

    def entity_types(self) -> list[str]:
        return [ENTITY_TYPE]

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        config = _config(ctx)
        refusal = source_refusal(config, ctx.scope)
        if refusal:
            raise CalendarError(refusal, "this entry may not read files")
        return [build_toolset(CalendarReader(config, ctx.scope))]

    async def async_health(self, ctx: SetupContext) -> Health:
        try:
            await CalendarReader(_config(ctx), ctx.scope).events(fresh=True)
        except CalendarError as exc:
            return Health(healthy=False, reason=exc.key)
        return Health(healthy=True)

    async def async_sync_entities(self, ctx: SetupContext) -> list[Entity]:
        """A full pull of the occurrences in the entry's window (lookbehind .. lookahead days)."""
        config = _config(ctx)
        start, end = sync_window(config)
        found = await CalendarReader(config, ctx.scope).between(start, end, fresh=True)
        if len(found) > config.max_events:
            log.warning("ical_events_capped", entry_id=ctx.entry_id, found=len(found), kept=config.max_events)
        return [to_entity(o) for o in found[: config.max_events]]


INTEGRATION = IcalIntegration()
