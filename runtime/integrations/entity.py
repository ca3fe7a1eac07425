"""What entity hooks return: :class:`Entity` (one thing an entry knows about) and :class:`Health`.

An integration's ``async_sync_entities`` / ``async_initial_entities`` return entities
(or plain dicts of the same shape); ``async_health`` may return a bool, None or a
:class:`Health`. Both are validated before anything is written.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_ENTITY_ID = 255
MAX_STATE = 4096
MAX_ACTIONS = 64


class Entity(BaseModel):
    """One entity of a config entry, e.g. a light, a sensor, a work package.

    ``entity_id`` is unique within its entry. ``actions`` names what the agent may ask
    ``async_call_action`` to do with it (``turn_on``, ``close`` ...); none means read-only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # No control characters: Postgres text cannot hold NUL, and ids end up in tool prompts.
    entity_id: str = Field(min_length=1, max_length=MAX_ENTITY_ID, pattern=r"^[^\x00-\x1f\x7f]+$")
    type: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    state: str | None = Field(default=None, max_length=MAX_STATE)
    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list, max_length=MAX_ACTIONS)

    @field_validator("state")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("state must not contain NUL characters")
        return value

    @field_validator("actions")
    @classmethod
    def _action_names(cls, value: list[str]) -> list[str]:
        import re

        bad = [a for a in value if not isinstance(a, str) or not re.match(NAME_PATTERN, a) or len(a) > 64]
        if bad:
            raise ValueError(f"{len(bad)} action name(s) are not lower_snake_case names")
        if len(set(value)) != len(value):
            raise ValueError("action names must be unique")
        return value


class Health(BaseModel):
    """The health of an entry's live connection.

    ``healthy`` is None when the integration has no connection concept (the default
    hook); ``reason`` is a short stable key (``auth_failed``, ``unreachable``), never a
    message that could carry a secret.
    """

    model_config = ConfigDict(frozen=True)

    healthy: bool | None = None
    reason: str | None = Field(default=None, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")

    @property
    def down(self) -> bool:
        return self.healthy is False

    @classmethod
    def of(cls, value: Any) -> "Health":
        """Normalise what ``async_health`` returned: a bool, None, a Health or a dict of one."""
        if isinstance(value, Health):
            return value
        if value is None or isinstance(value, bool):
            return cls(healthy=value)
        return cls.model_validate(value)
