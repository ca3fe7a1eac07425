"""The one-form flow most integrations need: declare ``SCHEMA``, optionally ``validate``."""

from __future__ import annotations

from typing import Any, ClassVar

from ..logging import get_logger
from .fields import FieldDescriptor
from .flow import ConfigFlow, FlowResult

log = get_logger(__name__)


class SimpleConfigFlow(ConfigFlow):
    SCHEMA: ClassVar[list[FieldDescriptor]] = []
    TITLE_FIELD: ClassVar[str | None] = None
    TITLE: ClassVar[str | None] = None

    async def validate(self, data: dict[str, Any]) -> str | None:
        """Return an error key (e.g. ``auth_failed``) or None. Exceptions are logged, never shown."""
        return None

    def title_for(self, data: dict[str, Any]) -> str:
        if self.TITLE_FIELD:
            field = next((f for f in self.SCHEMA if f.name == self.TITLE_FIELD), None)
            if field is not None and field.is_secret:
                return self.TITLE or self.domain  # never title an entry with its secret
            value = data.get(self.TITLE_FIELD)
            if value not in (None, ""):
                return str(value)
        return self.TITLE or self.domain

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        if user_input is None:
            return self.async_show_form(step_id="user", fields=list(self.SCHEMA))
        try:
            error = await self.validate(dict(user_input))
        except Exception:
            # Deliberately no exc_info text in the response; the log has the traceback (scrubbed).
            log.exception("config_flow_validate_failed", domain=self.domain)
            error = "unknown"
        if error:
            return self.async_show_form(step_id="user", fields=list(self.SCHEMA), errors={"base": error})
        return self.async_create_entry(title=self.title_for(dict(user_input)), data=dict(user_input))
