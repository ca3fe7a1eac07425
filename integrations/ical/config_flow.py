"""The config flow of ``ical``: one form from :class:`IcalConfig`, checked by reading the calendar."""

from __future__ import annotations

from typing import Any

from runtime.integrations import ModelConfigFlow

from .calendar_source import load_events
from .config import IcalConfig
from .ics import CalendarError


class IcalConfigFlow(ModelConfigFlow):
    domain = "ical"
    MODEL = IcalConfig
    TITLE = "Calendar"

    def title_for(self, data: dict[str, Any]) -> str:
        # Never the address: it is a secret. A file path is not.
        return str(data.get("file_path") or self.TITLE)

    async def validate(self, data: dict[str, Any]) -> str | None:
        try:
            await load_events(IcalConfig.model_validate(data), self.context.scope)
        except CalendarError as exc:
            return exc.key
        return None
