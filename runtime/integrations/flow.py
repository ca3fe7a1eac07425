"""Config flows: the multi-step wizard that creates (or reconfigures) a config entry.

A flow is a small state machine. Each ``async_step_<id>`` receives the
validated input of its form (``None`` on first show) and returns one of
``async_show_form`` / ``async_create_entry`` / ``async_abort``. Input from
earlier steps accumulates in ``self._collected``. The flow engine
(:mod:`runtime.integrations.flow_manager`) persists that state between steps,
validates every field server-side, and encrypts ``password``/``secret`` values.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, Literal, Mapping

from pydantic import BaseModel, Field

from .fields import FieldDescriptor

FlowSource = Literal["user", "reconfigure", "reauth"]


class FlowResultType(str, Enum):
    FORM = "form"
    CREATE_ENTRY = "create_entry"
    ABORT = "abort"


class FlowResult(BaseModel):
    """What a step returns; the engine adds ``flow_id`` and resolves labels before it reaches a client."""

    type: FlowResultType
    step_id: str | None = None
    fields: list[FieldDescriptor] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    description_placeholders: dict[str, str] = Field(default_factory=dict)
    title: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    flow_id: str | None = None
    domain: str | None = None
    entry_id: str | None = None


class AbortFlow(Exception):
    """Raised inside a step to abort with ``reason`` (an error key), e.g. ``already_configured``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FlowContext(BaseModel):
    """Who runs the flow and why. Set by the engine; read by the flow."""

    source: FlowSource = "user"
    scope: Literal["user", "org", "global", "group"] = "user"
    owner_sub: str | None = None
    org_id: str | None = None
    group_id: str | None = None
    entry_id: str | None = None  # the entry a reconfigure/reauth flow updates
    unique_id: str | None = None


class ConfigFlow:
    """Subclass and implement ``async_step_user`` (and further ``async_step_<id>``)."""

    domain: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    def __init__(self) -> None:
        self._collected: dict[str, Any] = {}
        self.context = FlowContext()
        # Set by the engine: does an entry of this domain with this unique id exist in this scope?
        self._unique_id_taken: Any = None
        # Set by the engine for reconfigure/reauth: the entry's current non-secret data.
        self.entry_data: Mapping[str, Any] = {}

    # -- steps -------------------------------------------------------------
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        raise NotImplementedError

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Default: re-run the user step with the entry's data; the result updates the entry."""
        return await self.async_step_user(user_input)

    async def async_step_reauth(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        return await self.async_step_reconfigure(user_input)

    # -- results -----------------------------------------------------------
    def async_show_form(
        self,
        *,
        step_id: str,
        fields: list[FieldDescriptor] | None = None,
        errors: dict[str, str] | None = None,
        description_placeholders: dict[str, str] | None = None,
    ) -> FlowResult:
        return FlowResult(
            type=FlowResultType.FORM,
            step_id=step_id,
            fields=list(fields or []),
            errors=dict(errors or {}),
            description_placeholders=dict(description_placeholders or {}),
        )

    def async_create_entry(self, *, title: str, data: Mapping[str, Any]) -> FlowResult:
        return FlowResult(type=FlowResultType.CREATE_ENTRY, title=title, data=dict(data))

    def async_abort(self, *, reason: str) -> FlowResult:
        return FlowResult(type=FlowResultType.ABORT, reason=reason)

    # -- uniqueness ----------------------------------------------------------
    async def async_set_unique_id(self, unique_id: str | None) -> None:
        self.context.unique_id = unique_id

    async def _abort_if_unique_id_configured(self) -> None:
        if self.context.unique_id is None or self._unique_id_taken is None:
            return
        if self.context.source == "user" and await self._unique_id_taken(self.context.unique_id):
            raise AbortFlow("already_configured")
