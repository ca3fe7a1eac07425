"""One step: name the notebook. Notes are personal, so only a user-scoped entry may hold them."""

from __future__ import annotations

from typing import Any

from runtime.integrations import FieldDescriptor, FlowResult, SimpleConfigFlow


class NotesConfigFlow(SimpleConfigFlow):
    domain = "notes"
    SCHEMA = [FieldDescriptor(name="title", label="field.title.label", type="text", required=False, max_length=100,
                              placeholder="field.title.placeholder")]
    TITLE_FIELD = "title"
    TITLE = "Notes"

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        if self.context.scope != "user":
            return self.async_abort(reason="user_scope_only")
        return await super().async_step_user(user_input)
