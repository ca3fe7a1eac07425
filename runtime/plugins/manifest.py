"""``plugin.json``, validated: the reference format (id, name, version, description, events, variables).

``extra="forbid"`` so a typo'd key fails at discovery. Two agentrt extensions on a variable:
``secret`` (stored envelope-encrypted, never shown back) and ``default``. The reference's
``routes`` key is accepted and ignored: plugins contribute no HTTP routes here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PLUGIN_ID_PATTERN = r"^[a-z0-9_]+$"
EVENT_NAME_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
VariableType = Literal["string", "number", "boolean", "array"]


class PluginVariable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)
    type: VariableType = "string"
    description: str = Field(default="", max_length=2000)
    secret: bool = False
    required: bool = False
    default: Any = None

    @model_validator(mode="after")
    def _secret_is_text(self) -> "PluginVariable":
        if self.secret and self.type != "string":
            raise ValueError("a secret variable must be of type string")
        if self.secret and self.default is not None:
            raise ValueError("a secret variable cannot have a default")
        return self


class PluginManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=PLUGIN_ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$", max_length=64)
    description: str = Field(min_length=1, max_length=2000)
    events: tuple[str, ...] = Field(min_length=1)
    variables: tuple[PluginVariable, ...] = ()
    routes: Any = Field(default=None, description="the reference's Flask routes; not supported, ignored")

    @field_validator("events")
    @classmethod
    def _event_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [e for e in value if not isinstance(e, str) or not re.match(EVENT_NAME_PATTERN, e)]
        if bad:
            raise ValueError(f"not valid event names: {bad}")
        if len(set(value)) != len(value):
            raise ValueError("an event is listed twice")
        return value

    @field_validator("variables")
    @classmethod
    def _unique_variables(cls, value: tuple[PluginVariable, ...]) -> tuple[PluginVariable, ...]:
        names = [v.name for v in value]
        if len(set(names)) != len(names):
            raise ValueError("a variable is declared twice")
        return value

    def variable(self, name: str) -> PluginVariable | None:
        return next((v for v in self.variables if v.name == name), None)
