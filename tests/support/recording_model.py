"""A model for session tests: answers like the offline model and records what each request offered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tools import ToolDefinition

from runtime.sessions.offline_model import offline_reply


@dataclass
class RecordingModel:
    """Behaves like the offline model (``/tool NAME {json}``); keeps every request's tool definitions."""

    definitions: list[list[ToolDefinition]] = field(default_factory=list)

    def reply(self, messages: list[Any], info: AgentInfo) -> Any:
        self.definitions.append(list(info.function_tools))
        return offline_reply(messages, info)

    def model(self) -> FunctionModel:
        return FunctionModel(self.reply)

    @property
    def requests(self) -> list[list[str]]:
        """Per model request, the sorted names of the tools it offered."""
        return [sorted(t.name for t in request) for request in self.definitions]

    def names(self, index: int = -1) -> list[str]:
        return self.requests[index]

    def definition(self, name: str, index: int = -1) -> ToolDefinition:
        return next(t for t in self.definitions[index] if t.name == name)
