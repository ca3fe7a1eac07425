"""The tool catalog: what an activity tells a workflow (and a model) about the tools of a run.

Definitions only: name, description, JSON schema, owning entry, domain, trust.
Never a toolset object, never a secret.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_ai.tools import ToolDefinition

TOOL_NAME_MAX = 64
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


class ToolSpec(BaseModel):
    name: str
    original_name: str
    description: str | None = None
    parameters_json_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    entry_id: str
    domain: str
    trust: Literal["trusted", "untrusted"] = "trusted"
    high_privilege: bool = False
    approval_reason: str | None = None

    def definition(self) -> ToolDefinition:
        return ToolDefinition(
            name=self.name, description=self.description, parameters_json_schema=self.parameters_json_schema
        )


class ExcludedEntry(BaseModel):
    entry_id: str
    domain: str
    reason: str


class ToolCatalog(BaseModel):
    profile: str
    profile_tier: str
    tools: list[ToolSpec] = Field(default_factory=list)
    excluded: list[ExcludedEntry] = Field(default_factory=list)

    @property
    def untrusted_present(self) -> bool:
        return any(t.trust == "untrusted" for t in self.tools)

    def by_name(self) -> dict[str, ToolSpec]:
        return {t.name: t for t in self.tools}

    def tool_definitions(self) -> list[ToolDefinition]:
        return [t.definition() for t in self.tools]

    def digest(self) -> str:
        payload = json.dumps([t.model_dump(mode="json") for t in self.tools], sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


def entry_prefix(domain: str, entry_id: str, several: bool) -> str:
    """``domain`` alone when the principal has one entry of it, else ``domain_<entry id head>``."""
    return f"{domain}_{entry_id[:6]}" if several else domain


def unique_tool_name(prefix: str, domain: str, tool: str) -> str:
    """Deterministic, provider-safe: a tool already named ``<domain>_x`` is not prefixed twice."""
    stem = tool[len(domain) + 1 :] if tool.startswith(domain + "_") else tool
    name = _UNSAFE.sub("_", f"{prefix}_{stem}")
    if len(name) > TOOL_NAME_MAX:
        # Keep it unique when cut: a short hash of the full name replaces the tail.
        tail = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: TOOL_NAME_MAX - 9]}_{tail}"
    return name
